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
    Detection, ExecOut, ExploreJob, ImageInfo, Mode, OutputSummary, Request, Response, RunOut, Sched, SearchOut, Source,
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

/// Answers one worker request.
pub fn handle(req: Request, now: Clock) -> Response {
    handle_observed(req, now, &mut |_| {})
}

/// Least time between two progress messages of a search (ms).
const PROGRESS_EVERY_MS: f64 = 50.0;

/// [`handle`], sending a search's progress through `progress` on the way
/// (at most every [`PROGRESS_EVERY_MS`]).
pub fn handle_observed(req: Request, now: Clock, progress: &mut dyn FnMut(Response)) -> Response {
    match req {
        Request::Search { id, model, mode } => {
            let mut last = f64::MIN;
            let mut tick = |done: usize, total: usize| {
                let t = now();
                if t - last >= PROGRESS_EVERY_MS {
                    last = t;
                    progress(Response::SearchProgress { id, done, total });
                }
            };
            Response::Search { id, result: search(&model, mode, now, &mut tick) }
        }
        Request::Run { id, model, image, schedule, mode } => {
            Response::Run { id, result: run(&model, &image, schedule, mode, now) }
        }
        Request::DecodeImage { id, bytes } => Response::Image {
            id,
            result: decode_image(&bytes).map(|i| ImageInfo { width: i.width as u32, height: i.height as u32 }),
        },
        Request::Explore { id, index, job } => Response::Explore { id, index, result: explore(&job) },
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

pub fn search(
    model: &Source,
    mode: Mode,
    now: Clock,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<SearchOut, String> {
    let g = load(model)?;
    let t0 = now();
    let s = plan::search_observed(&g, mode, progress);
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

/// Runs `model` on `image` layer by layer (`exec::Executor`) and under
/// `schedule` (`patch::PatchExecutor`), and compares their outputs.
pub fn run(model: &Source, image: &[u8], schedule: Sched, mode: Mode, now: Clock) -> Result<RunOut, String> {
    let g = load(model)?;
    if g.inputs.len() != 1 {
        return Err(format!("models with {} inputs cannot be run on an image", g.inputs.len()));
    }
    let err = |e: patchwise_core::Error| e.to_string();
    let lx = Executor::new(&g).map_err(err)?;
    check_run_arena("layer-by-layer", lx.arena_size())?;
    if let Some(split) = schedule.split {
        let (_, l) =
            plan::layout(&g, plan::Schedule { split: Some(split), grid: schedule.grid }, mode.into()).map_err(err)?;
        check_run_arena("patch-based", l.arena_size())?;
    }
    let img = decode_image(image)?;
    let input = image_to_input(&img, &g.tensors[g.inputs[0]])?;
    let m = exec::run_measured(&lx.program(), &input, now).map_err(err)?;
    let layer = ExecOut { predicted_bytes: lx.arena_size(), measured_bytes: m.arena_hwm, millis: m.elapsed };
    let layer_outputs = m.outputs;

    let (scheduled, sched_outputs) = match schedule.split {
        None => (layer.clone(), layer_outputs.clone()),
        Some(split) => {
            let px = PatchExecutor::new(&g, split, schedule.grid, mode).map_err(err)?;
            let m = exec::run_measured(&px.program(), &input, now).map_err(err)?;
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
        let e = run(&huge, DEFAULT_IMAGE, Sched { split: None, grid: (1, 1) }, Mode::InArena, &c).unwrap_err();
        assert!(e.contains("more than the 64 MiB the playground runs models in"), "{e}");
        // It still loads and is searched.
        assert!(search(&huge, Mode::InArena, &c, &mut |_, _| {}).is_ok());
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
            let sched = Sched { split: Some(15), grid: (1, 2) };
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

    #[test]
    fn a_search_reports_its_progress_on_the_way() {
        let t = std::cell::Cell::new(0.0);
        let c = || {
            t.set(t.get() + 100.0);
            t.get()
        };
        let mut seen = Vec::new();
        let out = handle_observed(Request::Search { id: 4, model: bundled(), mode: Mode::InArena }, &c, &mut |r| {
            seen.push(r)
        });
        assert!(matches!(out, Response::Search { id: 4, result: Ok(_) }));
        let splits = patchwise_core::patch::legal_splits(&load(&bundled()).unwrap()).len();
        let done: Vec<usize> = seen
            .iter()
            .map(|r| match r {
                Response::SearchProgress { id: 4, done, total } if *total == splits => *done,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(done, (0..splits).collect::<Vec<_>>());
    }

    #[test]
    fn search_matches_core() {
        let c = clock();
        let s = search(&bundled(), Mode::InArena, &c, &mut |_, _| {}).unwrap();
        let g = load(&bundled()).unwrap();
        assert_eq!(s.to_core(), plan::search(&g, patchwise_core::patch::InputMode::InArena));
    }
}
