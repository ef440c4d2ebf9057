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
            let sched = Schedule { split: Some(8), grid: (3, 3) };
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
