//! The per-layer cache-or-recompute choice (issue 14): on a network whose
//! wide early layers make full caching expensive (`mcunet-like-r176`), the
//! `auto` search finds a mixture with a smaller peak than either family's
//! smallest, and the answer it reports is what the executor measures.

use patchwise_core::exec;
use patchwise_core::patch::{Halo, InputMode, PatchExecutor};
use patchwise_core::plan::{report, search, HaloChoice};
use patchwise_core::spec::{build, ArchSpec};
use patchwise_tests::run_layers;

#[test]
fn a_per_layer_mixture_beats_both_families_on_mcunet_r176() {
    let g = build(&ArchSpec::preset("mcunet-like-r176").unwrap()).unwrap().graph;
    let mode = InputMode::Streamed;
    let s = search(&g, mode);
    let (recompute, cache, auto) =
        (s.clone(), s.with_halo(&g, mode, HaloChoice::Cache), s.with_halo(&g, mode, HaloChoice::Auto));
    let smallest = auto.pareto.first().unwrap();
    assert!(matches!(smallest.schedule.halo, Halo::Layers(set) if !set.is_empty()), "{smallest:?}");
    assert!(
        smallest.peak_bytes < recompute.smallest_peak() && smallest.peak_bytes < cache.smallest_peak(),
        "mixture {} B, recompute {} B, cache {} B",
        smallest.peak_bytes,
        recompute.smallest_peak(),
        cache.smallest_peak()
    );
    // Every family's front point is still on offer or dominated.
    for c in recompute.pareto.iter().chain(&cache.pareto) {
        assert!(auto.pareto.iter().any(|a| a.peak_bytes <= c.peak_bytes && a.macs <= c.macs), "{c:?} lost");
    }
    // The report and the executor agree with the search's figures, and the output is layer by layer's.
    let r = report(&g, smallest.schedule, mode).unwrap();
    assert_eq!((r.patch_peak_bytes, r.macs), (smallest.peak_bytes, smallest.macs));
    let ex = PatchExecutor::with_halo(
        &g,
        smallest.schedule.split.unwrap(),
        smallest.schedule.grid,
        mode,
        smallest.schedule.halo,
    )
    .unwrap();
    let input: Vec<u8> = (0..g.tensors[g.inputs[0]].bytes()).map(|i| (i * 37 % 251) as u8).collect();
    let (want, _) = run_layers(&g, &[&input]).unwrap();
    let m = exec::run_measured(&ex.program(), &input, &|| 0.0).unwrap();
    assert_eq!(m.outputs, want);
    assert_eq!(m.arena_hwm, smallest.peak_bytes);
}

#[test]
fn a_cache_set_is_the_list_of_its_operators_in_json() {
    use patchwise_core::patch::CacheSet;
    use patchwise_core::plan::document::ScheduleDoc;
    let doc = ScheduleDoc {
        split: Some(12),
        grid: [8, 5],
        halo: Halo::Layers(CacheSet::of([0, 2, 11]).unwrap()),
        later: Default::default(),
    };
    let json = serde_json::to_string(&doc).unwrap();
    assert_eq!(json, r#"{"split":12,"grid":[8,5],"halo":{"layers":[0,2,11]}}"#);
    assert_eq!(serde_json::from_str::<ScheduleDoc>(&json).unwrap(), doc);
    for (text, halo) in [(r#""cache""#, Halo::Cache), (r#""recompute""#, Halo::Recompute)] {
        assert_eq!(serde_json::from_str::<Halo>(text).unwrap(), halo);
    }
    let err = serde_json::from_str::<Halo>(r#"{"layers":[3,64]}"#).unwrap_err().to_string();
    assert!(err.contains("below 64"), "{err}");
    assert_eq!(Halo::Layers(CacheSet::of([3, 5]).unwrap()).label(), "halos cached at ops 3,5");
}
