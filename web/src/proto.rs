//! Messages between the page and the web worker. They carry core's own
//! plan types (serde behind core's `serde` feature).

use patchwise_core::explore::{Family, SpecPoint};
use patchwise_core::plan::Search;
use patchwise_core::spec::ArchSpec;
use serde::{Deserialize, Serialize};

/// Where the worker gets a graph: a `.tflite` file's bytes, or an
/// architecture spec it builds with seeded synthetic weights (`spec::build`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Source {
    Tflite(Vec<u8>),
    Spec(ArchSpec),
}

/// Whether the input image is counted in SRAM.
pub use patchwise_core::patch::InputMode as Mode;
pub use patchwise_core::plan::{Candidate as Cand, Schedule as Sched};

/// `plan::Search` plus how long it took.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SearchOut {
    pub layer_peak_bytes: usize,
    pub base_macs: u64,
    pub candidates: Vec<Cand>,
    pub pareto: Vec<Cand>,
    /// Legal stage ends the search left untried (`plan::MAX_SEARCH_WORK`).
    pub splits_untried: usize,
    pub millis: f64,
    /// Whether `candidates` hold every halo family (each patch schedule also
    /// with its halos cached, and per-layer mixtures: `plan::HaloRun` with
    /// `Auto`) or only recomputed halos (`pareto` is then that family's).
    pub families: bool,
}

impl SearchOut {
    pub fn from_core(s: &Search, millis: f64) -> Self {
        SearchOut {
            layer_peak_bytes: s.layer_peak_bytes,
            base_macs: s.base_macs,
            candidates: s.candidates.clone(),
            pareto: s.pareto.clone(),
            splits_untried: s.splits_untried,
            millis,
            families: false,
        }
    }

    /// The same search with every halo family (`s` from `plan::HaloRun`).
    pub fn with_families(s: &Search, millis: f64) -> Self {
        SearchOut { families: true, ..Self::from_core(s, millis) }
    }

    /// One halo family of the search, with its front (`plan::Search::family`);
    /// before the families are in, the recomputed one whatever is asked.
    pub fn family(&self, choice: patchwise_core::plan::HaloChoice) -> SearchOut {
        if !self.families {
            return self.clone();
        }
        SearchOut { families: true, ..Self::from_core(&self.to_core().family(choice), self.millis) }
    }

    pub fn to_core(&self) -> Search {
        Search {
            layer_peak_bytes: self.layer_peak_bytes,
            base_macs: self.base_macs,
            candidates: self.candidates.clone(),
            pareto: self.pareto.clone(),
            splits_untried: self.splits_untried,
        }
    }
}

/// One executor's run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExecOut {
    /// The arena the layout plans (bytes).
    pub predicted_bytes: usize,
    /// The high-water mark measured by painting the arena twice (0xAA, 0x55).
    pub measured_bytes: usize,
    /// Time of one run (ms).
    pub millis: f64,
}

/// One model output, summarised.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutputSummary {
    pub index: usize,
    pub shape: Vec<usize>,
    pub dtype: String,
    /// `(class, score)` highest first, for a classifier output (`[1, N]`).
    pub top: Option<Vec<(usize, f32)>>,
}

/// A detected box (and keypoints) in source-image pixels.
pub use patchwise_core::detect::Detection;

/// The model run layer by layer and under the schedule.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunOut {
    pub schedule: Sched,
    pub mode: Mode,
    pub layer: ExecOut,
    /// The schedule's executor (`PatchExecutor`; the layer executor again without a split).
    pub scheduled: ExecOut,
    /// Whether every output of both runs is byte-identical.
    pub identical: bool,
    pub outputs: Vec<OutputSummary>,
    /// Boxes for a detector; `None` until a decoder fills it (see `compute::detections`).
    pub detections: Option<Vec<Detection>>,
}

/// A schedule's run step by step, and the layer-by-layer run beside it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WatchOut {
    pub schedule: Sched,
    pub mode: Mode,
    pub scheduled: Timeline,
    pub layers: Timeline,
}

pub use patchwise_core::watch::Timeline;

/// The model run once on a camera frame, under the camera's schedule.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FrameOut {
    /// Boxes in frame pixels, for a detector.
    pub detections: Option<Vec<Detection>>,
    /// `(class, score)` highest first, for a classifier.
    pub top: Option<Vec<(usize, f32)>>,
    /// The inference alone (ms): preprocessing and decoding excluded.
    pub millis: f64,
}

/// An image the worker decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageInfo {
    pub width: u32,
    pub height: u32,
}

/// One spec of a design-space sweep, for one board (`explore::evaluate`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExploreJob {
    pub family: Family,
    pub classes: usize,
    pub resolution: usize,
    pub width: f32,
    pub rd: bool,
    /// A board of `boards::BOARDS`, by name.
    pub board: String,
    /// Arena budget (bytes).
    pub budget: usize,
    pub mode: Mode,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Request {
    /// `plan::search` over every legal split × grid, taken a slice at a time:
    /// the worker answers `SearchProgress` until the page asks it to go on,
    /// then `Search`; asked to go on again, it re-plans the schedules with
    /// cached halos and per-layer mixtures and answers `SearchFamilies`.
    Search { id: u64, model: Source, mode: Mode },
    /// Goes on with search `id` for another slice (ignored once it is done or cancelled).
    SearchContinue { id: u64 },
    /// Drops search `id` (the worker is between two slices, so it stops at once).
    SearchCancel { id: u64 },
    /// Runs the model on the image layer by layer and under `schedule`.
    Run { id: u64, model: Source, image: Vec<u8>, schedule: Sched, mode: Mode },
    /// Decodes an image (PNG/JPEG) to check it and learn its size.
    DecodeImage { id: u64, bytes: Vec<u8> },
    /// Evaluates spec `index` of sweep `id` (one spec a message, so several
    /// workers share a sweep and a cancel takes effect within one spec).
    Explore { id: u64, index: usize, job: ExploreJob },
    /// The run of the model on the image, step by step, under `schedule` and layer by layer (`watch::Timeline`).
    Watch { id: u64, model: Source, image: Vec<u8>, schedule: Sched, mode: Mode },
    /// Prepares the camera's model under `schedule` once (lowered, its arena allocated).
    CameraStart { id: u64, model: Source, schedule: Sched, mode: Mode },
    /// Runs the camera's model on one frame (RGB8, row-major).
    Frame { id: u64, width: u32, height: u32, rgb: Vec<u8> },
    /// Times the inference alone, `runs` times layer by layer and under
    /// `schedule` (alternately, each lowered once into its own arena).
    Time { id: u64, model: Source, image: Vec<u8>, schedule: Sched, mode: Mode, runs: u32 },
    /// Patch stages after `schedule`'s first, where the peak is, and after
    /// each one-stage schedule of `front` (the search's front: stages ×
    /// grids × halos weighed together, as `plan --then auto`): every schedule
    /// `plan::later_stages` tried, `schedule` first.
    LaterStages { id: u64, model: Source, schedule: Sched, front: Vec<Sched>, mode: Mode },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Response {
    Search {
        id: u64,
        result: Result<SearchOut, String>,
    },
    Run {
        id: u64,
        result: Result<RunOut, String>,
    },
    Image {
        id: u64,
        result: Result<ImageInfo, String>,
    },
    Explore {
        id: u64,
        index: usize,
        result: Result<SpecPoint, String>,
    },
    /// How far search `id` is: `done` of `total` legal stage ends evaluated
    /// or, once its `Search` answer is sent (`halos`), schedules re-planned
    /// with cached halos. The search waits for a `SearchContinue`.
    SearchProgress {
        id: u64,
        done: usize,
        total: usize,
        halos: bool,
    },
    /// Search `id` with every halo family (after its `Search` answer, which
    /// has the recomputed ones): cached halos and per-layer mixtures.
    SearchFamilies {
        id: u64,
        result: Result<SearchOut, String>,
    },
    /// The schedules `plan::later_stages` tried (the request's schedule first).
    LaterStages {
        id: u64,
        result: Result<Vec<Cand>, String>,
        /// The worker's compute time (the model's graph built, then the searches).
        millis: f64,
    },
    Watch {
        id: u64,
        result: Result<WatchOut, String>,
    },
    /// The camera's model is ready: its arena bytes.
    CameraReady {
        id: u64,
        result: Result<usize, String>,
    },
    Frame {
        id: u64,
        result: Result<FrameOut, String>,
    },
    /// Where run `id` is (sent at most every `compute::PROGRESS_EVERY_MS`).
    RunProgress {
        id: u64,
        at: RunAt,
    },
    Time {
        id: u64,
        result: Result<TimeOut, String>,
    },
}

/// Inference times in the worker: the program run on input bytes already in
/// its arena (no loading, lowering, image decoding, arena painting or output
/// decoding), once per sample.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TimeOut {
    pub schedule: Sched,
    pub mode: Mode,
    /// One time per run (ms), layer by layer.
    pub layer: Vec<f64>,
    /// One time per run (ms), under the schedule (the same runs again without a split).
    pub scheduled: Vec<f64>,
}

/// The median of some times (ms; 0 for none).
pub fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// A step of a [`Request::Run`]: which of its four runs (layer by layer
/// twice, then the schedule twice: two arena paints each), and the node
/// about to run, in which patch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunAt {
    /// 0..4: 0 and 1 layer by layer, 2 and 3 under the schedule.
    pub pass: u8,
    pub node: usize,
    /// `None`: layer by layer, whole tensors.
    pub patch: Option<usize>,
}

impl RunAt {
    pub const PASSES: u8 = 4;

    pub fn scheduled(&self) -> bool {
        self.pass >= 2
    }
}

#[cfg(test)]
mod codec_tests {
    //! Messages cross to the worker in yew-agent's Bincode codec, which is not
    //! self-describing: every serde attribute must round-trip through it
    //! (a `skip_serializing_if` on a spec field once made the worker panic).
    use super::*;
    use patchwise_core::spec::{ArchSpec, BlockGroup};

    fn round_trip<T: Serialize + serde::de::DeserializeOwned>(v: &T) -> T {
        let cfg = bincode::config::standard();
        bincode::serde::decode_from_slice(&bincode::serde::encode_to_vec(v, cfg).unwrap(), cfg).unwrap().0
    }

    #[test]
    fn a_spec_source_round_trips_in_the_worker_codec() {
        let mut spec = ArchSpec::preset("mcunet-like-r176").unwrap();
        spec.blocks.push(BlockGroup { kernel: 5, expansion: 4, stride: 1, out_channels: 40, repeat: 1, se: true });
        let src = Source::Spec(spec);
        assert_eq!(round_trip(&src), src);
    }

    #[test]
    fn a_search_with_every_halo_family_round_trips_in_the_worker_codec() {
        use patchwise_core::patch::{CacheSet, Halo};
        use patchwise_core::plan::{Later, Stage};
        let g = patchwise_core::loader::load(crate::DEFAULT_MODEL).unwrap();
        let s = patchwise_core::plan::search(&g, Mode::Streamed);
        let mut out = SearchOut::with_families(&s, 1.0);
        // Every form a candidate's schedule takes: per-layer halos and later stages too.
        let mut c = out.candidates[1];
        c.schedule = c.schedule.with_halo(Halo::Layers(CacheSet::of([0, 2, 5]).unwrap()));
        out.candidates.push(c);
        c.schedule =
            c.schedule.then(Later::of(&[Stage { first: 40, last: 44, grid: (2, 2), halo: Halo::Cache }]).unwrap());
        out.candidates.push(c);
        let resp = Response::SearchFamilies { id: 2, result: Ok(out) };
        assert_eq!(round_trip(&resp), resp);
    }

    #[test]
    fn an_explore_job_and_its_answer_round_trip_in_the_worker_codec() {
        let job = ExploreJob {
            family: Family::Mcunet,
            classes: 2,
            resolution: 96,
            width: 0.35,
            rd: true,
            board: "nrf52840-dk".into(),
            budget: 200_000,
            mode: Mode::Streamed,
        };
        let req = Request::Explore { id: 3, index: 7, job: job.clone() };
        assert_eq!(round_trip(&req), req);
        let Response::Explore { result, .. } = crate::compute::handle(req, &|| 0.0) else {
            panic!("not an explore answer")
        };
        let resp = Response::Explore { id: 3, index: 7, result };
        assert_eq!(round_trip(&resp), resp);
    }
}
