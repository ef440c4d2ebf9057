//! What the web worker computes: the schedule search, image decoding and the
//! two runs (layer by layer and patch based). Plain Rust, so it is tested
//! natively too; the clock is passed in (`performance.now()` in the worker).

use patchwise_core::exec::{self, Executor};
use patchwise_core::graph::{DType, Graph, Tensor};
use patchwise_core::loader;
use patchwise_core::patch::PatchExecutor;
use patchwise_core::plan;
use patchwise_core::preprocess;

use patchwise_core::explore::SpecPoint;

use crate::proto::{
    Detection, ExecOut, ExploreJob, ImageInfo, Mode, OutputSummary, Request, Response, RunAt, RunOut, Sched, SearchOut,
    Source, TimeOut,
};

/// Largest arena the playground runs a model in (the browser's memory is
/// shared with the page; microcontroller SRAM is at most a few MB). Larger
/// models are analysed, and run on the host with `patchwise run`.
pub const MAX_RUN_ARENA_BYTES: usize = 64 << 20;

fn check_run_arena(what: &str, bytes: usize) -> Result<(), String> {
    if bytes > MAX_RUN_ARENA_BYTES {
        return Err(format!(
            "not run: the {what} arena is {bytes} bytes, more than the {} MiB the playground runs models in \
             (`patchwise run` runs it on the host)",
            MAX_RUN_ARENA_BYTES >> 20
        ));
    }
    Ok(())
}

/// A clock in milliseconds.
pub type Clock<'a> = &'a dyn Fn() -> f64;

/// Answers one worker request at once: a search runs to its end (native
/// tests and tools; the worker takes searches a slice at a time, [`Session`]).
pub fn handle(req: Request, now: Clock) -> Response {
    match req {
        Request::Search { id, model, mode } => Response::Search { id, result: search(&model, mode, now) },
        other => answer(other, now, &mut |_| {}),
    }
}

/// Least time between two progress messages of a run (ms).
pub const PROGRESS_EVERY_MS: f64 = 50.0;

/// How long a search runs before it reports and waits for the page (ms).
/// A cancel takes effect within one slice (and the legal split it is in).
pub const SEARCH_SLICE_MS: f64 = 50.0;

/// A search under way in the worker.
struct Pending {
    id: u64,
    graph: Graph,
    mode: Mode,
    phase: Phase,
    /// Time spent searching so far (not waiting between slices).
    millis: f64,
}

/// A search's two parts: every split × grid with recomputed halos, then
/// (after the page has that answer) the other halo families.
enum Phase {
    Splits(plan::SearchRun),
    Halos(plan::HaloRun),
    /// Between two parts (never seen by a slice).
    Moving,
}

/// Schedules re-planned with cached halos per step of a [`Phase::Halos`].
const HALO_STEP: usize = 4;

/// The worker's state between two messages: the searches under way, each
/// stepped one slice per message so that the worker stays free to hear a
/// cancel (a web worker cannot be interrupted in the middle of a task).
#[derive(Default)]
pub struct Session {
    searches: Vec<Pending>,
    camera: Option<Camera>,
}

/// A model lowered once under a schedule, with its arena: an inference is
/// then one program run (the camera's frames, the timing runs).
pub struct Prepared {
    lowered: patchwise_core::lower::Lowered,
    arena: Vec<u8>,
}

impl Prepared {
    /// `what` names the arena in the refusal when it is too large to run here.
    pub fn new(graph: &Graph, schedule: Sched, mode: Mode, what: &str) -> Result<Self, String> {
        let err = |e: patchwise_core::Error| e.to_string();
        let lowered = match schedule.split {
            None => Executor::new(graph).map_err(err)?.lowered,
            Some(_) => PatchExecutor::for_schedule(graph, schedule, mode).map_err(err)?.lowered,
        };
        check_run_arena(what, lowered.arena_size)?;
        let arena = vec![0; lowered.arena_size];
        Ok(Prepared { lowered, arena })
    }

    pub fn arena_size(&self) -> usize {
        self.arena.len()
    }

    /// Runs the program on the model input's bytes (streamed from `input`
    /// when the schedule streams it, else copied into the arena first).
    pub fn infer(&mut self, input: &[u8]) -> Result<(), String> {
        let p = self.lowered.program();
        let err = |e: patchwise_core::Error| e.to_string();
        if p.is_streamed(0) {
            p.run(&mut self.arena, Some(input)).map_err(err)
        } else {
            p.input_mut(&mut self.arena, 0).map_err(err)?.copy_from_slice(input);
            p.run(&mut self.arena, None).map_err(err)
        }
    }

    /// The outputs of the last run.
    pub fn outputs(&self) -> Result<Vec<Vec<u8>>, String> {
        let p = self.lowered.program();
        (0..p.outputs.len()).map(|i| p.output(&self.arena, i).map(<[u8]>::to_vec).map_err(|e| e.to_string())).collect()
    }
}

/// A model prepared for the camera under its schedule: a frame costs one
/// preprocessing and one run.
pub struct Camera {
    graph: Graph,
    model: Prepared,
}

impl Camera {
    pub fn new(model: &Source, schedule: Sched, mode: Mode) -> Result<Self, String> {
        let graph = load(model)?;
        if graph.inputs.len() != 1 {
            return Err(format!("models with {} inputs cannot be run on a camera", graph.inputs.len()));
        }
        let model = Prepared::new(&graph, schedule, mode, "camera")?;
        Ok(Camera { graph, model })
    }

    pub fn arena_size(&self) -> usize {
        self.model.arena_size()
    }

    /// Runs the model on one RGB8 frame.
    pub fn frame(&mut self, img: &Rgb, now: Clock) -> Result<crate::proto::FrameOut, String> {
        let g = &self.graph;
        let input = image_to_input(img, &g.tensors[g.inputs[0]])?;
        let t0 = now();
        self.model.infer(&input)?;
        let millis = now() - t0;
        let outputs = self.model.outputs()?;
        let top = g
            .outputs
            .iter()
            .zip(&outputs)
            .find_map(|(&t, data)| patchwise_core::analysis::top_classes(&g.tensors[t], data, 5));
        Ok(crate::proto::FrameOut { detections: detections(g, &outputs, img), top, millis })
    }
}

/// Most timing runs one request takes.
pub const MAX_TIME_RUNS: u32 = 500;

/// Times `model`'s inference on `image`, `runs` times layer by layer and
/// under `schedule`, alternately (so that a busy moment of the machine
/// weighs on both alike). One untimed run of each comes first: it warms the
/// caches and checks that the two agree byte for byte.
pub fn time(
    model: &Source,
    image: &[u8],
    schedule: Sched,
    mode: Mode,
    runs: u32,
    now: Clock,
) -> Result<TimeOut, String> {
    if runs == 0 || runs > MAX_TIME_RUNS {
        return Err(format!("{runs} timing runs: 1 to {MAX_TIME_RUNS} are taken"));
    }
    let g = load(model)?;
    if g.inputs.len() != 1 {
        return Err(format!("models with {} inputs cannot be run on an image", g.inputs.len()));
    }
    let input = image_to_input(&decode_image(image)?, &g.tensors[g.inputs[0]])?;
    let mut layer = Prepared::new(&g, Sched::LAYER_BY_LAYER, mode, "layer-by-layer")?;
    let mut patched = match schedule.split {
        Some(_) => Some(Prepared::new(&g, schedule, mode, "patch-based")?),
        None => None,
    };
    layer.infer(&input)?;
    if let Some(p) = &mut patched {
        p.infer(&input)?;
        if p.outputs()? != layer.outputs()? {
            return Err("the schedule's outputs differ from layer by layer's: not timed".into());
        }
    }
    let timed = |m: &mut Prepared| -> Result<f64, String> {
        let t0 = now();
        m.infer(&input)?;
        Ok(now() - t0)
    };
    let (mut l, mut s) = (Vec::with_capacity(runs as usize), Vec::with_capacity(runs as usize));
    for _ in 0..runs {
        l.push(timed(&mut layer)?);
        if let Some(p) = &mut patched {
            s.push(timed(p)?);
        }
    }
    if patched.is_none() {
        s = l.clone();
    }
    Ok(TimeOut { schedule, mode, layer: l, scheduled: s })
}

/// The largest camera frame the worker takes (pixels a side).
pub const MAX_FRAME_SIDE: u32 = 1280;

fn frame_image(width: u32, height: u32, rgb: Vec<u8>) -> Result<Rgb, String> {
    if width == 0 || height == 0 || width > MAX_FRAME_SIDE || height > MAX_FRAME_SIDE {
        return Err(format!("a {width}×{height} frame: frames are 1 to {MAX_FRAME_SIDE} pixels a side"));
    }
    if rgb.len() != width as usize * height as usize * 3 {
        return Err(format!("a {width}×{height} frame of {} bytes, not RGB8", rgb.len()));
    }
    Ok(Rgb { width: width as usize, height: height as usize, pixels: rgb })
}

impl Session {
    /// Handles one request; every answer (progress included) goes through `respond`.
    pub fn handle(&mut self, req: Request, now: Clock, respond: &mut dyn FnMut(Response)) {
        match req {
            Request::Search { id, model, mode } => match load(&model) {
                Err(e) => respond(Response::Search { id, result: Err(e) }),
                Ok(graph) => {
                    let t0 = now();
                    let phase = Phase::Splits(plan::SearchRun::new(&graph, mode));
                    self.searches.push(Pending { id, graph, mode, phase, millis: now() - t0 });
                    self.slice(id, now, respond);
                }
            },
            Request::SearchContinue { id } => self.slice(id, now, respond),
            Request::SearchCancel { id } => self.searches.retain(|p| p.id != id),
            Request::CameraStart { id, model, schedule, mode } => {
                self.camera = None; // the previous model's arena goes first
                let result = Camera::new(&model, schedule, mode).map(|c| {
                    let n = c.arena_size();
                    self.camera = Some(c);
                    n
                });
                respond(Response::CameraReady { id, result })
            }
            Request::Frame { id, width, height, rgb } => {
                let result = match (&mut self.camera, frame_image(width, height, rgb)) {
                    (None, _) => Err("the camera's model is not prepared".to_string()),
                    (_, Err(e)) => Err(e),
                    (Some(c), Ok(img)) => c.frame(&img, now),
                };
                respond(Response::Frame { id, result })
            }
            other => {
                let out = answer(other, now, respond);
                respond(out)
            }
        }
    }

    /// Searches under way (started, neither done nor cancelled).
    pub fn searches(&self) -> usize {
        self.searches.len()
    }

    /// Steps search `id` for up to [`SEARCH_SLICE_MS`]: its progress, or
    /// the answer its part ends with (`Search`, then `SearchFamilies`).
    fn slice(&mut self, id: u64, now: Clock, respond: &mut dyn FnMut(Response)) {
        let Some(at) = self.searches.iter().position(|p| p.id == id) else { return };
        let p = &mut self.searches[at];
        let t0 = now();
        let (g, mode) = (&p.graph, p.mode);
        loop {
            let more = match &mut p.phase {
                Phase::Splits(run) => run.step(g),
                Phase::Halos(run) => run.step(g, HALO_STEP),
                Phase::Moving => false,
            };
            let t = now();
            if !more {
                p.millis += t - t0;
                break;
            }
            if t - t0 >= SEARCH_SLICE_MS {
                p.millis += t - t0;
                let ((done, total), halos) = match &p.phase {
                    Phase::Splits(run) => (run.progress(), false),
                    Phase::Halos(run) => (run.progress(), true),
                    Phase::Moving => ((0, 0), true),
                };
                return respond(Response::SearchProgress { id, done, total, halos });
            }
        }
        match std::mem::replace(&mut p.phase, Phase::Moving) {
            Phase::Splits(run) => {
                let search = run.finish();
                respond(Response::Search { id, result: Ok(SearchOut::from_core(&search, p.millis)) });
                // The other families wait for the page to ask (it may cancel first).
                p.phase = Phase::Halos(plan::HaloRun::new(g, search, mode, plan::HaloChoice::Auto));
            }
            Phase::Halos(run) => {
                let p = self.searches.remove(at);
                respond(Response::SearchFamilies { id, result: Ok(SearchOut::with_families(&run.finish(), p.millis)) });
            }
            Phase::Moving => {
                self.searches.remove(at);
            }
        }
    }
}

/// Answers a request other than a search's, sending a run's progress
/// through `progress` on the way: the first step of each of its four runs,
/// then at most every [`PROGRESS_EVERY_MS`] (a fast run still says which
/// runs it went through).
fn answer(req: Request, now: Clock, progress: &mut dyn FnMut(Response)) -> Response {
    match req {
        Request::Run { id, model, image, schedule, mode } => {
            let (mut last, mut pass) = (f64::MIN, None);
            let mut tick = |at: RunAt| {
                let t = now();
                if t - last >= PROGRESS_EVERY_MS || pass != Some(at.pass) {
                    (last, pass) = (t, Some(at.pass));
                    progress(Response::RunProgress { id, at });
                }
            };
            Response::Run { id, result: run_observed(&model, &image, schedule, mode, now, &mut tick) }
        }
        Request::Watch { id, model, image, schedule, mode } => {
            Response::Watch { id, result: watch(&model, &image, schedule, mode) }
        }
        Request::DecodeImage { id, bytes } => Response::Image {
            id,
            result: decode_image(&bytes).map(|i| ImageInfo { width: i.width as u32, height: i.height as u32 }),
        },
        Request::Explore { id, index, job } => Response::Explore { id, index, result: explore(&job) },
        Request::Time { id, model, image, schedule, mode, runs } => {
            Response::Time { id, result: time(&model, &image, schedule, mode, runs, now) }
        }
        Request::LaterStages { id, model, schedule, front, mode } => {
            let t0 = now();
            let result = load(&model).and_then(|g| {
                if schedule.split.is_none() {
                    return Err("later patch stages need a first one: choose a split first".into());
                }
                let mut tried = plan::later_stages(&g, schedule, mode);
                if tried.is_empty() {
                    return Err("this schedule does not plan, so no stage can follow it".into());
                }
                // The front's own schedules are already on the chart: only what follows them.
                for base in front.into_iter().filter(|s| s.split.is_some() && s.later.is_empty() && *s != schedule) {
                    tried.extend(plan::later_stages(&g, base, mode).into_iter().skip(1));
                }
                Ok(tried)
            });
            Response::LaterStages { id, result, millis: now() - t0 }
        }
        Request::Search { id, .. } | Request::SearchContinue { id } | Request::SearchCancel { id } => {
            Response::Search { id, result: Err("a search is handled by the worker's session".into()) }
        }
        Request::CameraStart { id, .. } => {
            Response::CameraReady { id, result: Err("the camera is handled by the worker's session".into()) }
        }
        Request::Frame { id, .. } => {
            Response::Frame { id, result: Err("the camera is handled by the worker's session".into()) }
        }
    }
}

/// One spec of a design-space sweep, as `patchwise explore` evaluates it.
pub fn explore(job: &ExploreJob) -> Result<SpecPoint, String> {
    let board = patchwise_core::explore::board(&job.board)?;
    let mut sweep = patchwise_core::explore::Sweep::new(job.family);
    sweep.classes = job.classes;
    patchwise_core::explore::evaluate(&sweep, (job.resolution, job.width, job.rd), board, job.budget, job.mode).map_err(
        |e| format!("{} r{} w{}{}: {e}", job.family.name(), job.resolution, job.width, if job.rd { " RD" } else { "" }),
    )
}

/// The graph of a `.tflite` file or of an architecture spec (built with synthetic weights).
pub fn load(model: &Source) -> Result<Graph, String> {
    match model {
        Source::Tflite(bytes) => loader::load(bytes).map_err(|e| e.to_string()),
        Source::Spec(spec) => crate::models::build(spec),
    }
}

/// A whole search at once.
pub fn search(model: &Source, mode: Mode, now: Clock) -> Result<SearchOut, String> {
    let g = load(model)?;
    let t0 = now();
    let s = plan::search(&g, mode);
    Ok(SearchOut::from_core(&s, now() - t0))
}

pub use patchwise_image::Rgb;

/// Decodes PNG or JPEG bytes to RGB8 (`patchwise_image::decode`, with its size limits).
pub fn decode_image(bytes: &[u8]) -> Result<Rgb, String> {
    patchwise_image::decode(bytes).map_err(|e| e.to_string())
}

/// The model-input bytes for an image (core's `preprocess::image_input`, as the CLI does).
pub fn image_to_input(img: &Rgb, t: &Tensor) -> Result<Vec<u8>, String> {
    patchwise_image::to_input(img, t).map_err(|e| e.to_string())
}

/// Face boxes in source-image pixels when the model is a BlazeFace-style
/// detector (core's `detect`: MediaPipe anchors, decoding, weighted NMS);
/// `None` for other models. The `Detections` overlay draws them.
pub fn detections(g: &Graph, outputs: &[Vec<u8>], img: &Rgb) -> Option<Vec<Detection>> {
    use patchwise_core::detect::{self, Output, Values};
    // Only a BlazeFace-shaped model ([1, 896, 16] boxes, [1, 896, 1] scores) is decoded.
    let outs: Vec<Output> = g
        .outputs
        .iter()
        .zip(outputs)
        .map(|(&t, data)| {
            let t = &g.tensors[t];
            let values = match t.dtype {
                DType::I8 => {
                    let (scale, zero_point) = t.quant.per_tensor()?;
                    Values::I8 { data, scale, zero_point }
                }
                DType::F32 => Values::F32(data),
                _ => return None,
            };
            Some(Output { shape: &t.shape, values })
        })
        .collect::<Option<_>>()?;
    let input = g.tensors[*g.inputs.first()?].nhwc();
    let letterbox = preprocess::Letterbox::fit(img.width, img.height, input[2], input[1]);
    detect::detect(&outs, &letterbox, detect::DEFAULT_THRESHOLD).ok()
}

/// The run of `model` on `image` step by step under `schedule`, and layer by layer.
pub fn watch(model: &Source, image: &[u8], schedule: Sched, mode: Mode) -> Result<crate::proto::WatchOut, String> {
    let g = load(model)?;
    if g.inputs.len() != 1 {
        return Err(format!("models with {} inputs cannot be run on an image", g.inputs.len()));
    }
    let err = |e: patchwise_core::Error| e.to_string();
    check_run_arena("layer-by-layer", plan::layer_layout(&g).arena_size())?;
    if schedule.split.is_some() {
        check_run_arena("patch-based", plan::layout(&g, schedule, mode).map_err(err)?.1.arena_size())?;
    }
    let img = decode_image(image)?;
    let input = image_to_input(&img, &g.tensors[g.inputs[0]])?;
    let timeline = |s: Sched| patchwise_core::watch::Timeline::measure(&g, s, mode, &input).map_err(err);
    Ok(crate::proto::WatchOut {
        schedule,
        mode,
        scheduled: timeline(schedule)?,
        layers: timeline(Sched::LAYER_BY_LAYER)?,
    })
}

/// Runs `model` on `image` layer by layer (`exec::Executor`) and under
/// `schedule` (`patch::PatchExecutor`), and compares their outputs.
pub fn run(model: &Source, image: &[u8], schedule: Sched, mode: Mode, now: Clock) -> Result<RunOut, String> {
    run_observed(model, image, schedule, mode, now, &mut |_| {})
}

/// [`run`], telling `at` where each of its four runs is.
pub fn run_observed(
    model: &Source,
    image: &[u8],
    schedule: Sched,
    mode: Mode,
    now: Clock,
    at: &mut dyn FnMut(RunAt),
) -> Result<RunOut, String> {
    let g = load(model)?;
    if g.inputs.len() != 1 {
        return Err(format!("models with {} inputs cannot be run on an image", g.inputs.len()));
    }
    let err = |e: patchwise_core::Error| e.to_string();
    let lx = Executor::new(&g).map_err(err)?;
    check_run_arena("layer-by-layer", lx.arena_size())?;
    if let Some(split) = schedule.split {
        let (_, l) =
            plan::layout(&g, plan::Schedule::patched(split, schedule.grid).with_halo(schedule.halo), mode.into())
                .map_err(err)?;
        check_run_arena("patch-based", l.arena_size())?;
    }
    let img = decode_image(image)?;
    let input = image_to_input(&img, &g.tensors[g.inputs[0]])?;
    let m = exec::run_measured_observed(&lx.program(), &input, now, &mut |pass, s, _| {
        at(RunAt { pass: pass as u8, node: s.node, patch: s.patch })
    })
    .map_err(err)?;
    let layer = ExecOut { predicted_bytes: lx.arena_size(), measured_bytes: m.arena_hwm, millis: m.elapsed };
    let layer_outputs = m.outputs;

    let (scheduled, sched_outputs) = match schedule.split {
        None => (layer.clone(), layer_outputs.clone()),
        Some(_) => {
            let px = PatchExecutor::for_schedule(&g, schedule, mode).map_err(err)?;
            let m = exec::run_measured_observed(&px.program(), &input, now, &mut |pass, s, _| {
                at(RunAt { pass: 2 + pass as u8, node: s.node, patch: s.patch })
            })
            .map_err(err)?;
            (ExecOut { predicted_bytes: px.arena_size(), measured_bytes: m.arena_hwm, millis: m.elapsed }, m.outputs)
        }
    };
    let outputs = g
        .outputs
        .iter()
        .zip(&sched_outputs)
        .enumerate()
        .map(|(index, (&t, data))| {
            let t = &g.tensors[t];
            OutputSummary {
                index,
                shape: t.shape.clone(),
                dtype: t.dtype.name().into(),
                top: patchwise_core::analysis::top_classes(t, data, 5),
            }
        })
        .collect();
    Ok(RunOut {
        schedule,
        mode,
        identical: layer_outputs == sched_outputs,
        layer,
        scheduled,
        outputs,
        detections: detections(&g, &sched_outputs, &img),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DEFAULT_IMAGE, DEFAULT_IMAGE_SIZE, DEFAULT_MODEL};

    fn bundled() -> Source {
        Source::Tflite(DEFAULT_MODEL.to_vec())
    }

    fn clock() -> impl Fn() -> f64 {
        let t0 = std::time::Instant::now();
        move || t0.elapsed().as_secs_f64() * 1e3
    }

    #[test]
    fn bundled_image_has_the_declared_size() {
        let img = decode_image(DEFAULT_IMAGE).unwrap();
        assert_eq!((img.width as u32, img.height as u32), DEFAULT_IMAGE_SIZE);
    }

    #[test]
    fn a_model_beyond_the_run_limit_is_refused_before_allocating() {
        // One RELU over a 1×4000×4000×3 int8 tensor: 96 MB of arena.
        let huge = Source::Tflite(patchwise_tests::hostile::relu_chain(1, 4000, 3));
        let c = clock();
        let e = run(&huge, DEFAULT_IMAGE, Sched::LAYER_BY_LAYER, Mode::InArena, &c).unwrap_err();
        assert!(e.contains("more than the 64 MiB the playground runs models in"), "{e}");
        // It still loads and is searched.
        assert!(search(&huge, Mode::InArena, &c).is_ok());
    }

    #[test]
    fn bad_images_are_errors_not_panics() {
        assert!(decode_image(b"not an image").is_err());
        assert!(decode_image(&DEFAULT_IMAGE[..200]).is_err());
        assert!(decode_image(&[]).is_err());
    }

    #[test]
    fn runs_are_identical_and_measured_equals_predicted() {
        let c = clock();
        for mode in [Mode::InArena, Mode::Streamed] {
            let sched = Sched::patched(15, (1, 2));
            let r = run(&bundled(), DEFAULT_IMAGE, sched, mode, &c).unwrap();
            assert!(r.identical);
            assert_eq!(r.layer.measured_bytes, r.layer.predicted_bytes);
            assert_eq!(r.scheduled.measured_bytes, r.scheduled.predicted_bytes);
            let g = load(&bundled()).unwrap();
            let rep = plan::report(&g, sched.into(), mode.into()).unwrap();
            assert_eq!(r.scheduled.predicted_bytes, rep.patch_peak_bytes);
            assert_eq!(r.layer.predicted_bytes, rep.layer_peak_bytes);
        }
    }

    #[test]
    fn worker_requests_answer_with_errors_for_bad_files() {
        let c = clock();
        let Response::Search { result, .. } =
            handle(Request::Search { id: 1, model: Source::Tflite(b"junk".to_vec()), mode: Mode::InArena }, &c)
        else {
            panic!()
        };
        assert!(result.unwrap_err().contains("flatbuffer"));
        let Response::Image { result, .. } = handle(Request::DecodeImage { id: 2, bytes: DEFAULT_IMAGE.to_vec() }, &c)
        else {
            panic!()
        };
        assert_eq!(result.unwrap(), ImageInfo { width: 128, height: 128 });
    }

    /// A clock that moves 100 ms at every reading: every slice ends after one split.
    fn slow_clock() -> impl Fn() -> f64 {
        let t = std::cell::Cell::new(0.0);
        move || {
            t.set(t.get() + 100.0);
            t.get()
        }
    }

    #[test]
    fn a_search_goes_a_slice_a_message_and_reports_its_progress() {
        let c = slow_clock();
        let mut session = Session::default();
        let mut seen = Vec::new();
        session.handle(Request::Search { id: 4, model: bundled(), mode: Mode::InArena }, &c, &mut |r| seen.push(r));
        while let Some(Response::SearchProgress { id, .. }) = seen.last() {
            let id = *id;
            session.handle(Request::SearchContinue { id }, &c, &mut |r| seen.push(r));
        }
        let Some(Response::Search { id: 4, result: Ok(out) }) = seen.pop() else { panic!("{seen:?}") };
        let g = load(&bundled()).unwrap();
        let recomputed = plan::search(&g, Mode::InArena);
        assert_eq!(out.to_core(), recomputed);
        assert!(!out.families);
        let splits = patchwise_core::patch::legal_splits(&g).len();
        let done: Vec<usize> = seen
            .iter()
            .map(|r| match r {
                Response::SearchProgress { id: 4, done, total, halos: false } if *total == splits => *done,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(done, (1..=splits).collect::<Vec<_>>(), "one split a slice on this clock");
        // Asked to go on, the worker weighs the other halo families, a slice at a time.
        assert_eq!(session.searches(), 1);
        seen.clear();
        session.handle(Request::SearchContinue { id: 4 }, &c, &mut |r| seen.push(r));
        while let Some(Response::SearchProgress { id, halos: true, .. }) = seen.last() {
            let id = *id;
            session.handle(Request::SearchContinue { id }, &c, &mut |r| seen.push(r));
        }
        let Some(Response::SearchFamilies { id: 4, result: Ok(all) }) = seen.pop() else { panic!("{seen:?}") };
        assert!(all.families && seen.len() > 1, "{} progress answers", seen.len());
        assert_eq!(all.to_core(), recomputed.with_halo(&g, Mode::InArena, plan::HaloChoice::Auto));
        assert_eq!(
            all.family(plan::HaloChoice::Cache).to_core().pareto,
            recomputed.with_halo(&g, Mode::InArena, plan::HaloChoice::Cache).pareto
        );
        assert_eq!(all.family(plan::HaloChoice::Recompute).to_core().pareto, recomputed.pareto);
        assert_eq!(session.searches(), 0);
    }

    #[test]
    fn a_cancelled_search_stops_between_two_slices_and_answers_nothing_more() {
        let c = slow_clock();
        let mut session = Session::default();
        let mut seen = Vec::new();
        session.handle(Request::Search { id: 5, model: bundled(), mode: Mode::Streamed }, &c, &mut |r| seen.push(r));
        session.handle(Request::Search { id: 6, model: bundled(), mode: Mode::InArena }, &c, &mut |r| seen.push(r));
        assert_eq!(session.searches(), 2);
        session.handle(Request::SearchCancel { id: 5 }, &c, &mut |r| seen.push(r));
        assert_eq!(session.searches(), 1);
        let before = seen.len();
        // A continue the page sent before it heard of the cancel is ignored.
        session.handle(Request::SearchContinue { id: 5 }, &c, &mut |r| seen.push(r));
        assert_eq!(seen.len(), before);
        // The other search goes on.
        session.handle(Request::SearchContinue { id: 6 }, &c, &mut |r| seen.push(r));
        assert!(matches!(seen.last(), Some(Response::SearchProgress { id: 6, .. })), "{:?}", seen.last());
    }

    #[test]
    fn a_fast_run_reports_the_first_step_of_each_of_its_runs() {
        let frozen = || 0.0;
        let mut session = Session::default();
        let mut seen = Vec::new();
        let req = Request::Run {
            id: 8,
            model: bundled(),
            image: DEFAULT_IMAGE.to_vec(),
            schedule: Sched::patched(15, (1, 2)),
            mode: Mode::InArena,
        };
        session.handle(req, &frozen, &mut |r| seen.push(r));
        let Some(Response::Run { id: 8, result: Ok(_) }) = seen.pop() else { panic!() };
        let at: Vec<(u8, usize, Option<usize>)> = seen
            .iter()
            .map(|r| match r {
                Response::RunProgress { id: 8, at } => (at.pass, at.node, at.patch),
                other => panic!("{other:?}"),
            })
            .collect();
        // No time passes, so only the pass changes report: each run's first step.
        assert_eq!(at, vec![(0, 0, None), (1, 0, None), (2, 0, Some(0)), (3, 0, Some(0))]);
    }

    #[test]
    fn a_run_says_which_op_it_is_in() {
        let c = slow_clock();
        let mut session = Session::default();
        let mut seen = Vec::new();
        let schedule = Sched::patched(15, (1, 2));
        let req =
            Request::Run { id: 7, model: bundled(), image: DEFAULT_IMAGE.to_vec(), schedule, mode: Mode::InArena };
        session.handle(req, &c, &mut |r| seen.push(r));
        let Some(Response::Run { id: 7, result: Ok(out) }) = seen.pop() else { panic!() };
        assert!(out.identical);
        let at: Vec<RunAt> = seen
            .iter()
            .map(|r| match r {
                Response::RunProgress { id: 7, at } => *at,
                other => panic!("{other:?}"),
            })
            .collect();
        let nodes = load(&bundled()).unwrap().nodes.len();
        // The clock moves 100 ms a reading, so every step is reported: all four runs, in order.
        for pass in 0..RunAt::PASSES {
            let steps: Vec<&RunAt> = at.iter().filter(|a| a.pass == pass).collect();
            let patched = steps.iter().filter(|a| a.patch.is_some()).count();
            if pass < 2 {
                assert_eq!(steps.iter().map(|a| a.node).collect::<Vec<_>>(), (0..nodes).collect::<Vec<_>>());
            } else {
                assert_eq!(patched, 2 * 16, "pass {pass}: the 16 stage ops in each of 2 patches");
                assert_eq!(steps.len() - patched, nodes - 16);
            }
        }
        assert!(at.windows(2).all(|w| w[0].pass <= w[1].pass));
    }

    #[test]
    fn camera_frames_are_the_run_of_the_same_image_under_the_schedule() {
        let c = clock();
        let mut session = Session::default();
        let mut seen = Vec::new();
        let schedule = Sched::patched(15, (2, 2));
        for mode in [Mode::InArena, Mode::Streamed] {
            session.handle(Request::CameraStart { id: 1, model: bundled(), schedule, mode }, &c, &mut |r| seen.push(r));
            let Some(Response::CameraReady { result: Ok(arena), .. }) = seen.pop() else { panic!("{seen:?}") };
            let g = load(&bundled()).unwrap();
            assert_eq!(arena, plan::report(&g, schedule.into(), mode.into()).unwrap().patch_peak_bytes);
            let img = decode_image(DEFAULT_IMAGE).unwrap();
            let want = run(&bundled(), DEFAULT_IMAGE, schedule, mode, &c).unwrap();
            // Twice: the arena is reused from frame to frame.
            for _ in 0..2 {
                let (width, height) = (img.width as u32, img.height as u32);
                let req = Request::Frame { id: 2, width, height, rgb: img.pixels.clone() };
                session.handle(req, &c, &mut |r| seen.push(r));
                let Some(Response::Frame { id: 2, result: Ok(f) }) = seen.pop() else { panic!("{seen:?}") };
                assert_eq!(f.detections, want.detections);
                assert!(f.detections.as_ref().is_some_and(|d| !d.is_empty()), "the bundled image has a face");
            }
        }
        // Bad frames are errors.
        for (w, h, n) in [(0, 4, 0), (4, 4, 47), (5000, 1, 15000)] {
            session.handle(Request::Frame { id: 3, width: w, height: h, rgb: vec![0; n] }, &c, &mut |r| seen.push(r));
            assert!(matches!(seen.pop(), Some(Response::Frame { result: Err(_), .. })));
        }
        let mut fresh = Session::default();
        fresh.handle(Request::Frame { id: 4, width: 1, height: 1, rgb: vec![0; 3] }, &c, &mut |r| seen.push(r));
        assert!(matches!(seen.pop(), Some(Response::Frame { result: Err(e), .. }) if e.contains("not prepared")));
    }

    #[test]
    fn timing_takes_one_sample_per_run_of_each_and_refuses_what_it_cannot_time() {
        // Each reading of this clock is 100 ms on: one sample is 100 ms.
        let c = slow_clock();
        let img = DEFAULT_IMAGE.to_vec();
        for (schedule, mode) in [
            (Sched::patched(15, (1, 2)), Mode::InArena),
            (Sched::patched(15, (2, 2)).with_halo(patchwise_core::patch::Halo::Cache), Mode::Streamed),
        ] {
            let req = Request::Time { id: 8, model: bundled(), image: img.clone(), schedule, mode, runs: 3 };
            let Response::Time { id: 8, result: Ok(t) } = handle(req, &c) else { panic!() };
            assert_eq!((t.schedule, t.mode), (schedule, mode));
            assert_eq!((t.layer, t.scheduled), (vec![100.0; 3], vec![100.0; 3]));
        }
        // Without a split the schedule is layer by layer: its samples are the same runs.
        let t = time(&bundled(), &img, Sched::LAYER_BY_LAYER, Mode::InArena, 2, &c).unwrap();
        assert_eq!(t.scheduled, t.layer);
        for runs in [0, MAX_TIME_RUNS + 1] {
            let e = time(&bundled(), &img, Sched::LAYER_BY_LAYER, Mode::InArena, runs, &c).unwrap_err();
            assert!(e.contains("timing runs"), "{e}");
        }
        let e = time(&bundled(), b"not an image", Sched::LAYER_BY_LAYER, Mode::InArena, 1, &c).unwrap_err();
        assert!(!e.is_empty());
        assert_eq!(crate::proto::median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(crate::proto::median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(crate::proto::median(&[]), 0.0);
    }

    #[test]
    fn every_shipped_model_can_be_timed_layer_by_layer_and_under_its_smallest_schedule() {
        // What tools/bench-web inference times: each picker model on the bundled image.
        let c = slow_clock();
        for m in crate::models::SHIPPED {
            let model = Source::Tflite(m.bytes.to_vec());
            let g = load(&model).unwrap();
            let smallest = plan::search(&g, patchwise_core::patch::InputMode::InArena).pareto[0].schedule;
            for schedule in [Sched::LAYER_BY_LAYER, smallest] {
                let t = time(&model, DEFAULT_IMAGE, schedule, Mode::InArena, 1, &c)
                    .unwrap_or_else(|e| panic!("{}: {schedule:?}: {e}", m.stem));
                assert_eq!((t.layer.len(), t.scheduled.len()), (1, 1), "{}", m.stem);
            }
        }
    }

    #[test]
    fn search_matches_core() {
        let c = clock();
        let s = search(&bundled(), Mode::InArena, &c).unwrap();
        let g = load(&bundled()).unwrap();
        assert_eq!(s.to_core(), plan::search(&g, patchwise_core::patch::InputMode::InArena));
    }
}
