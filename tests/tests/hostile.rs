//! Hostile `.tflite` input: every malformed file is an error naming the
//! problem, never a panic and never an unbounded allocation.

use patchwise_core::exec::Executor;
use patchwise_core::schema as fb;
use patchwise_core::Error;
use patchwise_tests::root;
use planus::ReadAsRoot;

fn model(name: &str) -> Vec<u8> {
    std::fs::read(root().join("models").join(name)).unwrap()
}

/// Deterministic xorshift so failures reproduce.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Loads and, if the graph is accepted, prepares and runs it on zeros: a
/// corrupted weight is legal input and must simply run.
fn load_and_run(bytes: &[u8]) -> Result<(), Error> {
    let g = patchwise_core::loader::load(bytes)?;
    let ex = Executor::new(&g)?;
    assert!(ex.arena_size() < 64 << 20, "accepted graph plans an absurd arena");
    let mut arena = vec![0u8; ex.arena_size()];
    ex.run(&mut arena)
}

#[test]
fn truncated_files_are_rejected() {
    for name in ["opsnet-int8.tflite", "blazeface-short-int8.tflite"] {
        let bytes = model(name);
        for len in (0..bytes.len()).step_by(97).chain([0, 3, 7, 8, 9, bytes.len() - 1]) {
            let r = patchwise_core::loader::load(&bytes[..len]);
            assert!(r.is_err(), "{name} truncated to {len} bytes was accepted");
        }
    }
}

#[test]
fn random_bytes_are_rejected() {
    let mut rng = Rng(0x5eed_1234);
    for i in 0..500 {
        let len = rng.below(4096);
        let mut bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        if i % 2 == 0 && len >= 8 {
            bytes[4..8].copy_from_slice(b"TFL3"); // get past the identifier check
        }
        let e = patchwise_core::loader::load(&bytes).expect_err("random bytes accepted");
        assert!(!e.to_string().is_empty());
    }
}

#[test]
fn bit_flips_never_panic() {
    let original = model("opsnet-int8.tflite");
    let mut rng = Rng(0xb17_f11b);
    let (mut accepted, mut rejected) = (0, 0);
    for _ in 0..3000 {
        let mut bytes = original.clone();
        for _ in 0..1 + rng.below(3) {
            let i = rng.below(bytes.len());
            bytes[i] ^= 1 << rng.below(8);
        }
        match load_and_run(&bytes) {
            Ok(()) => accepted += 1,
            Err(e) => {
                assert!(!e.to_string().is_empty());
                rejected += 1;
            }
        }
    }
    // Both outcomes must occur, or the mutation is not reaching the structure.
    assert!(accepted > 0 && rejected > 0, "accepted {accepted}, rejected {rejected}");
}

/// Re-serialises `opsnet` after `edit`, to build structurally valid but hostile models.
fn edited(edit: impl FnOnce(&mut fb::Model)) -> Vec<u8> {
    let bytes = model("opsnet-int8.tflite");
    let mut m: fb::Model = fb::ModelRef::read_as_root(&bytes).unwrap().try_into().unwrap();
    edit(&mut m);
    patchwise_tests::hostile::serialise(&m)
}

fn tensors(m: &mut fb::Model) -> &mut Vec<fb::Tensor> {
    m.subgraphs.as_mut().unwrap()[0].tensors.as_mut().unwrap()
}

#[test]
fn reserialised_model_still_loads() {
    // Guards the edit-based tests below: an unedited round trip is accepted.
    load_and_run(&edited(|_| {})).unwrap();
}

#[test]
fn absurd_shapes_are_rejected() {
    for shape in [vec![1, 1 << 30, 1 << 30, 3], vec![1, -1, 32, 3], vec![0, 32, 32, 3], vec![1; 9]] {
        let bytes = edited(|m| tensors(m)[0].shape = Some(shape.clone()));
        let e = patchwise_core::loader::load(&bytes).expect_err("absurd shape accepted");
        assert!(matches!(e, Error::Shape { .. }), "{shape:?}: {e}");
    }
    // A consistent but wrong activation shape is caught by validation.
    let bytes = edited(|m| {
        let t = tensors(m).iter_mut().find(|t| t.shape.as_deref() == Some(&[1, 32, 32, 16][..])).unwrap();
        t.shape = Some(vec![1, 31, 32, 16]);
    });
    assert!(patchwise_core::loader::load(&bytes).is_err());
}

#[test]
fn unknown_and_unsupported_ops_are_named() {
    let bytes = edited(|m| {
        let c = &mut m.operator_codes.as_mut().unwrap()[0];
        c.builtin_code = fb::BuiltinOperator::Lstm;
        c.deprecated_builtin_code = 16;
    });
    let e = patchwise_core::loader::load(&bytes).unwrap_err();
    let Error::UnsupportedOps(u) = &e else { panic!("{e}") };
    let first = u.iter().next().unwrap();
    assert_eq!((first.name, first.code, u.distinct), ("LSTM", 16, 1), "{e}");
    assert!(e.to_string().contains("LSTM (builtin code 16) at operator"), "{e}");
}

#[test]
fn every_unsupported_op_is_named_at_once() {
    let bytes = edited(|m| {
        let codes = m.operator_codes.as_mut().unwrap();
        (codes[0].builtin_code, codes[0].deprecated_builtin_code) = (fb::BuiltinOperator::Lstm, 16);
        (codes[1].builtin_code, codes[1].deprecated_builtin_code) = (fb::BuiltinOperator::Svdf, 27);
    });
    let e = patchwise_core::loader::load(&bytes).unwrap_err();
    let Error::UnsupportedOps(u) = &e else { panic!("{e}") };
    let names: Vec<&str> = u.iter().map(|k| k.name).collect();
    assert_eq!(names.len(), 2, "{e}");
    assert!(names.contains(&"LSTM") && names.contains(&"SVDF"), "{e}");
    assert!(u.operators >= 2 && u.total > u.operators, "{e}");
    let text = e.to_string();
    assert!(
        text.starts_with("unsupported operators ") && text.contains(&format!("of the model's {} operators", u.total)),
        "{text}"
    );
    // The outline still lists every operator, the unsupported ones marked.
    let ops = patchwise_core::loader::outline(&bytes).unwrap();
    assert_eq!(ops.len(), u.total);
    let marked = ops.iter().filter(|o| o.status == patchwise_core::loader::OpStatus::Unsupported).count();
    assert_eq!(marked, u.operators);
    assert!(ops.iter().any(|o| o.name == "LSTM") && ops.iter().any(|o| o.name == "SVDF"));
    let text = patchwise_cli::run::outline_text(std::path::Path::new("m.tflite"), &ops);
    let lstm = text.lines().find(|l| l.contains("LSTM")).unwrap();
    assert!(lstm.contains(" ! ") && lstm.ends_with("unsupported"), "{text}");
    assert!(text.contains(&format!("{} operators, {} that patchwise cannot run", u.total, u.operators)), "{text}");
}

#[test]
fn out_of_range_indices_are_rejected() {
    let bytes = edited(|m| m.subgraphs.as_mut().unwrap()[0].operators.as_mut().unwrap()[1].inputs = Some(vec![9999]));
    let e = patchwise_core::loader::load(&bytes).unwrap_err();
    assert!(e.to_string().contains("operator 1"), "{e}");
    let bytes = edited(|m| tensors(m)[3].buffer = 100_000);
    assert!(patchwise_core::loader::load(&bytes).is_err());
}

#[test]
fn the_operator_and_tensor_limits_are_typed_errors_naming_the_limit() {
    use patchwise_core::loader::{MAX_OPERATORS, MAX_TENSORS};
    use patchwise_tests::hostile::relu_chain;
    assert!(patchwise_core::loader::load(&relu_chain(8, 4, 2)).is_ok());
    let e = patchwise_core::loader::load(&relu_chain(MAX_OPERATORS + 1, 2, 1)).unwrap_err();
    assert_eq!(
        e,
        Error::Limit {
            what: "operators in the subgraph",
            value: MAX_OPERATORS as u64 + 1,
            limit: MAX_OPERATORS as u64
        }
    );
    assert!(e.to_string().contains("operators in the subgraph: 4097 is more than the limit of 4096"), "{e}");
    let bytes = edited(|m| {
        let t = tensors(m)[0].clone();
        tensors(m).resize(MAX_TENSORS + 1, t);
    });
    let e = patchwise_core::loader::load(&bytes).unwrap_err();
    assert!(matches!(e, Error::Limit { what: "tensors in the subgraph", .. }), "{e}");
}

#[test]
fn the_search_of_the_largest_hostile_graph_stops_at_its_work_limit() {
    use patchwise_core::loader::MAX_OPERATORS;
    use patchwise_core::plan::{search, search_work, MAX_SEARCH_WORK};
    let bytes = patchwise_tests::hostile::relu_chain(MAX_OPERATORS, 16, 4);
    let g = patchwise_core::loader::load(&bytes).unwrap();
    let s = search(&g, patchwise_core::patch::InputMode::InArena);
    let legal = patchwise_core::patch::legal_splits(&g).len();
    assert_eq!(legal, MAX_OPERATORS, "not a worst case: every operator ends a legal stage");
    assert!(s.splits_untried > 0 && s.splits_untried < legal, "{} of {legal} untried", s.splits_untried);
    // The splits tried are the earliest ones, each over all its grids.
    let tried = legal - s.splits_untried;
    assert!(s.candidates.iter().filter_map(|c| c.schedule.split).all(|sp| sp < tried));
    assert_eq!(s.candidates.len(), 1 + tried * 64);
    // `plan --json` and the page's download say so.
    let r = patchwise_core::plan::report(&g, s.best_within(usize::MAX).unwrap().schedule, Default::default()).unwrap();
    let doc = patchwise_cli::plan::document(&r, &s, None);
    let note = doc.search_limit.expect("the document names the limit");
    assert!(note.contains(&format!("the last {} legal patch-stage ends", s.splits_untried)), "{note}");
    // Every shipped model is searched whole.
    for name in [
        "blazeface-short-int8.tflite",
        "mbv2-w0.35-r144-int8.tflite",
        "yolofpn-int8.tflite",
        "mbv3se-int8.tflite",
        "opsnet-int8.tflite",
        "torchconv-int8.tflite",
    ] {
        let g = patchwise_core::loader::load(&model(name)).unwrap();
        assert!(search_work(&g) <= MAX_SEARCH_WORK, "{name}: {}", search_work(&g));
        assert_eq!(search(&g, patchwise_core::patch::InputMode::InArena).splits_untried, 0, "{name}");
    }
}

/// The arena planner visits every pair of buffers live at the same time: a
/// model whose activations are all live together is refused past
/// `MAX_LIVE_TENSORS`, and below it the pairs count in the search's work.
#[test]
fn tensors_live_together_are_limited_and_counted() {
    use patchwise_core::loader::MAX_LIVE_TENSORS;
    use patchwise_core::plan::search;
    // The input and 256 RELU outputs, all graph outputs.
    let e = patchwise_core::loader::load(&patchwise_tests::hostile::relu_fan(MAX_LIVE_TENSORS, 16, 4)).unwrap_err();
    assert_eq!(e.to_string(), "activation tensors live at the same time: 257 is more than the limit of 256");
    let g = patchwise_core::loader::load(&patchwise_tests::hostile::relu_fan(MAX_LIVE_TENSORS - 1, 16, 4)).unwrap();
    assert_eq!(g.most_live_activations(), MAX_LIVE_TENSORS);
    let s = search(&g, patchwise_core::patch::InputMode::InArena);
    assert!(s.splits_untried > 0, "{} splits tried", 255 - s.splits_untried);
    for name in ["blazeface-short-int8.tflite", "yolofpn-int8.tflite", "opsnet-int8.tflite"] {
        let g = patchwise_core::loader::load(&model(name)).unwrap();
        assert!(g.most_live_activations() <= 8, "{name}: {}", g.most_live_activations());
    }
}

/// A stage whose PAD border cells read no input pixel cannot take the
/// per-axis shortcut: every patch is walked, and that walk counts in the
/// search's work, so the search still stops at its limit.
#[test]
fn the_per_patch_walk_counts_in_the_search_work() {
    use patchwise_core::patch::{InputMode, PatchSchedule, StageAxis};
    let bytes = patchwise_tests::hostile::pad_then_relus(patchwise_core::loader::MAX_OPERATORS - 1, 2, 7, 4);
    let g = patchwise_core::loader::load(&bytes).unwrap();
    let stage = PatchSchedule::empty(&g, 0, (1, 1)).unwrap();
    let (rows, cols) = (StageAxis::new(&g, &stage, true, 3), StageAxis::new(&g, &stage, false, 3));
    assert!(!StageAxis::combine(&rows, &cols), "the PAD's border cells should be empty");
    let s = patchwise_core::plan::search(&g, InputMode::InArena);
    assert!(s.splits_untried > 0 && s.candidates.len() > 64, "{} untried", s.splits_untried);
}

#[test]
fn mutated_real_models_give_typed_errors() {
    // The fuzz targets' bodies (typed errors, identical patch-based outputs,
    // bounded heap) on structural mutations of every shipped model: aligned
    // 32-bit fields set to boundary values (offsets, lengths, indices,
    // enums), and byte flips.
    const SPECIAL: [u32; 8] = [0, 1, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff, 0x10000, 4, 0xfffe];
    for name in [
        "torchconv-int8.tflite",
        "mbv3se-int8.tflite",
        "yolofpn-int8.tflite",
        "blazeface-short-int8.tflite",
        "mbv2-w0.35-r144-int8.tflite",
    ] {
        let original = model(name);
        let mut rng = Rng(0xfa22 ^ original.len() as u64);
        let (mut loaded, mut rejected) = (0, 0);
        for k in 0..80 {
            let mut bytes = original.clone();
            // Flatbuffer tables and vtables sit outside the large weight
            // buffers; aim half of the mutations at the first 4 KiB.
            let span = if k % 2 == 0 { original.len().min(4096) } else { original.len() };
            let at = rng.below(span / 4) * 4;
            if k % 3 == 0 {
                bytes[at] ^= 1 << rng.below(8);
            } else {
                bytes[at..at + 4].copy_from_slice(&SPECIAL[rng.below(SPECIAL.len())].to_le_bytes());
            }
            match patchwise_core::loader::load(&bytes) {
                Ok(_) => loaded += 1,
                Err(e) => {
                    assert!(!e.to_string().is_empty());
                    rejected += 1;
                }
            }
            patchwise_tests::fuzz::load(&bytes, patchwise_tests::fuzz::unmetered);
            patchwise_tests::fuzz::run(&[&[k as u8, (k * 7) as u8][..], &bytes].concat());
        }
        assert!(loaded > 0 && rejected > 0, "{name}: loaded {loaded}, rejected {rejected}");
    }
}

/// The page's worker takes a search one split a message (so it can be
/// cancelled between two): stepped to the end it is the one-call search,
/// also when the work limit stops it, and its progress only grows.
#[test]
fn a_stepped_search_is_the_search_also_at_its_work_limit() {
    use patchwise_core::loader::MAX_OPERATORS;
    use patchwise_core::patch::InputMode;
    use patchwise_core::plan::{search, SearchRun};
    let limited = patchwise_core::loader::load(&patchwise_tests::hostile::relu_chain(MAX_OPERATORS, 16, 4)).unwrap();
    let blazeface = patchwise_core::loader::load(
        &std::fs::read(patchwise_tests::root().join("models/blazeface-short-int8.tflite")).unwrap(),
    )
    .unwrap();
    for (name, g) in [("relu chain", &limited), ("blazeface", &blazeface)] {
        for mode in [InputMode::InArena, InputMode::Streamed] {
            let mut run = SearchRun::new(g, mode);
            let mut last = run.progress();
            assert_eq!(last.0, 0, "{name}");
            while run.step(g) {
                let p = run.progress();
                assert!(p.0 > last.0 && p.1 == last.1, "{name}: progress {last:?} then {p:?}");
                last = p;
            }
            assert_eq!(run.progress().0, run.progress().1, "{name}: a finished search is at its end");
            assert!(!run.step(g), "{name}: a finished search stays finished");
            assert_eq!(run.finish(), search(g, mode), "{name} {mode:?}");
        }
    }
}
