//! What the playground analyses: the bundled model, the architecture presets
//! (`spec::ArchSpec::PRESETS`), loaded `.tflite` files and architecture specs
//! (`.json`), and the receptive-field redistribution (RD) of each, exactly as
//! `patchwise plan MODEL --rd` builds it (`cli::io::read_graph`).

use patchwise_core::graph::Graph;
use patchwise_core::spec::{self, ArchSpec};

/// The bundled model's name in the picker and the URL.
pub const BUNDLED: &str = "blazeface-short-int8";

/// A trained model shipped in `models/` that the picker offers (built into the page).
pub struct Shipped {
    /// File stem: the picker's value and the URL's `model=`.
    pub stem: &'static str,
    pub bytes: &'static [u8],
    pub about: &'static str,
}

/// The trained models the picker offers, the bundled default first.
pub const SHIPPED: &[Shipped] = &[
    Shipped { stem: BUNDLED, bytes: crate::DEFAULT_MODEL, about: "MediaPipe's short-range face detector, int8 (a trained .tflite)." },
    Shipped {
        stem: "mbv2-w0.35-r144-int8",
        bytes: include_bytes!("../../models/mbv2-w0.35-r144-int8.tflite"),
        about: "Keras MobileNetV2 0.35 at 144×144, int8, seeded weights (models/make_mbv2.py).",
    },
    Shipped {
        stem: "mbv3se-int8",
        bytes: include_bytes!("../../models/mbv3se-int8.tflite"),
        about: "A MobileNetV3-Small-like classifier with squeeze-and-excitation and hard-swish, int8 (models/make_mbv3se.py).",
    },
    Shipped {
        stem: "yolofpn-int8",
        bytes: include_bytes!("../../models/yolofpn-int8.tflite"),
        about: "A YOLO-style detector at 128×160 with a feature pyramid and three outputs (strides 8/16/32), int8 (models/make_yolofpn.py).",
    },
    Shipped {
        stem: "torchconv-int8",
        bytes: include_bytes!("../../models/torchconv-int8.tflite"),
        about: "A small PyTorch CNN converted with litert-torch: float NCHW input, QUANTIZE and TRANSPOSE (models/make_torchconv.py).",
    },
];

/// The shipped model with this stem.
pub fn shipped(stem: &str) -> Option<&'static Shipped> {
    SHIPPED.iter().find(|m| m.stem == stem)
}

/// What `patchwise plan MODEL.tflite --rd` notes for RD on a trained model.
pub const WHAT_IF: &str = patchwise_core::plan::RD_WHAT_IF;

/// Largest spec accepted, in weights and in bytes of one activation, so a
/// hostile `.json` cannot exhaust the tab's memory (MobileNetV2-1.0@224 has
/// 3.5 M weights and a largest activation of 1.2 MB).
pub const PLAYGROUND_LIMITS: spec::SpecLimits = spec::SpecLimits { weights: 64 << 20, activation: 32 << 20 };

/// The presets by base name (`ArchSpec::PRESETS` without the `-rd` variants: RD is a toggle).
pub fn presets() -> Vec<&'static str> {
    ArchSpec::PRESETS.iter().copied().filter(|p| !p.ends_with("-rd")).collect()
}

/// A preset's base name and whether its `-rd` variant was named.
pub fn preset(name: &str) -> Option<(&'static str, bool)> {
    let (base, rd) = match name.strip_suffix("-rd") {
        Some(b) => (b, true),
        None => (name, false),
    };
    presets().into_iter().find(|p| *p == base).map(|p| (p, rd))
}

/// Whether a file is an architecture spec rather than a model or an image.
pub fn is_spec(name: &str, bytes: &[u8]) -> bool {
    name.to_ascii_lowercase().ends_with(".json") || bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
}

/// Parses an architecture spec (`.json`, the CLI's format: serde of `spec::ArchSpec`) and checks it builds.
pub fn parse_spec(name: &str, text: &str) -> Result<ArchSpec, String> {
    let spec =
        serde_json::from_str::<ArchSpec>(text).map_err(|e| format!("{name}: not a valid architecture spec: {e}"))?;
    build(&spec).map_err(|e| format!("{name}: {e}"))?;
    Ok(spec)
}

/// `spec::build` with the playground's size guards.
pub fn build(spec: &ArchSpec) -> Result<Graph, String> {
    spec::check_sizes(spec, PLAYGROUND_LIMITS).map_err(|e| e.to_string())?;
    Ok(spec::build(spec).map_err(|e| e.to_string())?.graph)
}

/// The RD variant's spec, as `plan --rd` makes it: a spec (preset or file) is
/// redistributed unless its name already ends in `-rd`; a trained model's
/// architecture is inferred (`spec::infer`) and redistributed, a what-if
/// (`true`) whose weights would have to be retrained.
pub fn rd_spec(spec: Option<&ArchSpec>, graph: &Graph) -> Result<(ArchSpec, bool), String> {
    match spec {
        Some(s) if s.name.ends_with("-rd") => Ok((s.clone(), false)),
        Some(s) => Ok((s.redistribute(spec::DEFAULT_RD_STAGE_GROUPS), false)),
        None => spec::infer(graph)
            .map(|s| (s.redistribute(spec::DEFAULT_RD_STAGE_GROUPS), true))
            .map_err(|e| e.rd_unavailable()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use patchwise_core::patch::InputMode;
    use patchwise_core::plan::{self, Schedule};

    #[test]
    fn presets_are_the_base_names() {
        assert_eq!(presets(), ["mbv2-w0.35-r144", "mbv2-w1.0-r224", "mcunet-like-r176"]);
        assert_eq!(preset("mbv2-w1.0-r224-rd"), Some(("mbv2-w1.0-r224", true)));
        assert_eq!(preset("nope"), None);
        assert!(is_spec("x.json", b""));
        assert!(is_spec("x", b"  {\"name\": 1}"));
        assert!(!is_spec("x.tflite", b"\x1c\0\0\0TFL3"));
    }

    /// The RD variant of each preset is the graph `plan PRESET --rd` analyses.
    #[test]
    fn rd_of_a_preset_is_the_clis() {
        for name in presets() {
            let base = ArchSpec::preset(name).unwrap();
            let g = build(&base).unwrap();
            let (rd, what_if) = rd_spec(Some(&base), &g).unwrap();
            assert!(!what_if);
            let ours = build(&rd).unwrap();
            let cli = patchwise_cli::io::read_graph(name, true).unwrap();
            let sched = Schedule::patched(8, (3, 3));
            assert_eq!(
                plan::report(&ours, sched, InputMode::Streamed).unwrap(),
                plan::report(&cli, sched, InputMode::Streamed).unwrap(),
                "{name}"
            );
            assert_eq!(ours.flash_bytes(), cli.flash_bytes());
        }
    }

    #[test]
    fn rd_of_a_trained_model_is_a_what_if_or_unavailable() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mbv2 = root.join("models/mbv2-w0.35-r144-int8.tflite");
        let g = patchwise_core::loader::load(&std::fs::read(&mbv2).unwrap()).unwrap();
        let (rd, what_if) = rd_spec(None, &g).unwrap();
        assert!(what_if);
        let cli = patchwise_cli::io::read_graph(mbv2.to_str().unwrap(), true).unwrap();
        let ours = build(&rd).unwrap();
        assert_eq!(
            plan::report(&ours, Schedule::LAYER_BY_LAYER, InputMode::InArena).unwrap(),
            plan::report(&cli, Schedule::LAYER_BY_LAYER, InputMode::InArena).unwrap()
        );
        let blazeface = patchwise_core::loader::load(crate::DEFAULT_MODEL).unwrap();
        assert_eq!(rd_spec(None, &blazeface).unwrap_err(), spec::infer(&blazeface).unwrap_err().rd_unavailable());
    }

    /// The size bounds hold for the presets (exactly for weights).
    #[test]
    fn sizes_bound_the_built_graphs() {
        for name in presets() {
            let spec = ArchSpec::preset(name).unwrap();
            let g = build(&spec).unwrap();
            let (weights, act) = spec::sizes(&spec);
            let int8_weights: u64 =
                g.tensors.iter().filter(|t| t.is_const() && t.dtype.size() == 1).map(|t| t.elements() as u64).sum();
            assert_eq!(weights, int8_weights, "{name}");
            let largest = g.tensors.iter().filter(|t| !t.is_const()).map(|t| t.bytes() as u64).max().unwrap();
            assert_eq!(act, largest, "{name}");
        }
    }

    #[test]
    fn bad_and_hostile_specs_are_errors() {
        assert!(parse_spec("a.json", "{ not json").unwrap_err().starts_with("a.json: not a valid architecture spec"));
        assert!(parse_spec("a.json", "{\"name\": \"x\"}").is_err());
        let mut big = ArchSpec::preset("mbv2-w1.0-r224").unwrap();
        big.width_multiplier = 4.0;
        big.blocks.iter_mut().for_each(|g| (g.expansion, g.repeat) = (16, 16));
        let text = serde_json::to_string(&big).unwrap();
        assert!(parse_spec("big.json", &text).unwrap_err().contains("limit"));
        let mut wide = ArchSpec::preset("mbv2-w0.35-r144").unwrap();
        wide.resolution = 1024;
        wide.first_stride = 1;
        wide.first_channels = 64;
        assert!(parse_spec("wide.json", &serde_json::to_string(&wide).unwrap()).unwrap_err().contains("activation"));
        let ok = serde_json::to_string(&ArchSpec::preset("mcunet-like-r176").unwrap()).unwrap();
        assert_eq!(parse_spec("ok.json", &ok).unwrap(), ArchSpec::preset("mcunet-like-r176").unwrap());
    }
}

/// Most class names a labels file may hold (the page's and the packed files').
pub const MAX_LABELS: usize = 100_000;

/// Class names, one a line (blank lines skipped).
pub fn parse_labels(text: &str) -> Vec<String> {
    text.lines().map(|l| l.trim().to_string()).filter(|l| !l.is_empty()).collect()
}

/// The classes of a classifier: `N` of its first `[1, N]` output.
pub fn classes(g: &Graph) -> Option<usize> {
    g.outputs.iter().map(|&t| &g.tensors[t].shape).find(|s| s.len() == 2 && s[0] == 1 && s[1] >= 2).map(|s| s[1])
}

/// A labels file packed in a `.tflite`: TFLite metadata's associated files
/// are a zip appended to the flatbuffer (stored, not compressed, so that
/// they can be read in place). The one `.txt` whose names are as many as
/// the classifier's classes is its labels file: `(file name, names)`. A
/// file without such a zip, or whose zip is damaged, has none.
pub fn packed_labels(bytes: &[u8], g: &Graph) -> Option<(String, Vec<String>)> {
    use std::io::Read;
    let n = classes(g)?;
    // Only the tail can be a zip appended to the model: skip the parse when there is no end record.
    let tail = &bytes[bytes.len().saturating_sub(64 * 1024 + 22)..];
    if !tail.windows(4).any(|w| w == b"PK\x05\x06") {
        return None;
    }
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).ok()?;
    let mut found = None;
    for i in 0..zip.len() {
        let Ok(mut f) = zip.by_index(i) else { continue };
        let name = f.name().to_string();
        // Labels files are small; a huge entry is not one (and is not read).
        if !name.to_ascii_lowercase().ends_with(".txt") || f.size() > 16 << 20 {
            continue;
        }
        let mut text = String::new();
        if f.read_to_string(&mut text).is_err() {
            continue;
        }
        let names = parse_labels(&text);
        if names.len() == n {
            if found.is_some() {
                return None; // two candidates: naming classes wrongly is worse than not at all
            }
            found = Some((name, names));
        }
    }
    found
}

#[cfg(test)]
mod packed_labels_tests {
    use super::*;

    /// `model` with a stored zip of `files` appended. `absolute`: its offsets
    /// count from the start of the file, as Python's zipfile in append mode
    /// writes them (what TFLite's metadata populator uses); else from the
    /// zip's own start, as a zip concatenated to the model has them.
    fn zipped(model: &[u8], files: &[(&str, &str)], absolute: bool) -> Vec<u8> {
        use std::io::Write;
        let mut c = std::io::Cursor::new(if absolute { model.to_vec() } else { Vec::new() });
        c.set_position(c.get_ref().len() as u64);
        let mut z = zip::ZipWriter::new(c);
        let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
        for (name, text) in files {
            z.start_file(*name, opts).unwrap();
            z.write_all(text.as_bytes()).unwrap();
        }
        let zip = z.finish().unwrap().into_inner();
        if absolute {
            zip
        } else {
            [model, &zip].concat()
        }
    }

    fn with_zip(model: &[u8], files: &[(&str, &str)]) -> Vec<u8> {
        zipped(model, files, true)
    }

    fn mbv2() -> Vec<u8> {
        std::fs::read(patchwise_tests::root().join("models/mbv2-w0.35-r144-int8.tflite")).unwrap()
    }

    #[test]
    fn the_labels_file_packed_with_a_classifier_names_its_classes() {
        let m = mbv2();
        let g = patchwise_core::loader::load(&m).unwrap();
        assert_eq!(classes(&g), Some(2));
        let bytes = with_zip(&m, &[("readme.txt", "a\nb\nc\n"), ("labels.txt", "cat\n\ndog\n")]);
        // The model still loads with its zip appended.
        assert_eq!(patchwise_core::loader::load(&bytes).unwrap().nodes.len(), g.nodes.len());
        let want = Some(("labels.txt".into(), vec!["cat".into(), "dog".into()]));
        assert_eq!(packed_labels(&bytes, &g), want);
        assert_eq!(packed_labels(&zipped(&m, &[("labels.txt", "cat\ndog")], false), &g), want);
    }

    #[test]
    fn no_labels_without_a_zip_a_count_that_fits_or_with_two_that_fit() {
        let m = mbv2();
        let g = patchwise_core::loader::load(&m).unwrap();
        assert_eq!(packed_labels(&m, &g), None);
        assert_eq!(packed_labels(&with_zip(&m, &[("labels.txt", "a\nb\nc")]), &g), None);
        assert_eq!(packed_labels(&with_zip(&m, &[("x.txt", "a\nb"), ("y.txt", "c\nd")]), &g), None);
        // A damaged zip is no labels, not an error.
        let mut bad = with_zip(&m, &[("labels.txt", "a\nb")]);
        let n = bad.len();
        bad[n - 10] ^= 0xFF;
        bad.truncate(n - 3);
        assert_eq!(packed_labels(&bad, &g), None);
        // A detector has no classes to name.
        let bf = patchwise_core::loader::load(crate::DEFAULT_MODEL).unwrap();
        assert_eq!(packed_labels(&with_zip(crate::DEFAULT_MODEL, &[("labels.txt", "face")]), &bf), None);
    }
}
