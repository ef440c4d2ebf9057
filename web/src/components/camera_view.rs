//! The camera as an input: frames from `getUserMedia` run through the model
//! continuously in a worker of their own, under the current schedule
//! (lowered once, one arena), with the detector's boxes drawn over the video
//! and the frames per second. A frame is grabbed when the previous one is
//! answered, so the rate is what the worker sustains.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, HtmlVideoElement, MediaStream, MediaStreamConstraints};
use yew::prelude::*;
use yew_agent::worker::{WorkerBridge, WorkerSpawner};
use yew_agent::Bincode;

use super::detections::Detections;
use crate::agent::PlanWorker;
use crate::camera::{CameraAction, CameraState, Phase};
use crate::proto::{Mode, Request, Response, Sched};
use crate::state::{next_id, Model};

/// Frames are scaled down to at most this many pixels a side before they go to the worker.
const FRAME_SIDE: f64 = 320.0;

#[derive(Properties, PartialEq)]
pub struct CameraViewProps {
    pub model: Rc<Model>,
    pub schedule: Sched,
    pub mode: Mode,
    pub labels: Option<Rc<(String, Vec<String>)>>,
}

struct Reducer(CameraState);

impl Reducible for Reducer {
    type Action = CameraAction;
    fn reduce(self: Rc<Self>, a: CameraAction) -> Rc<Self> {
        let mut s = self.0.clone();
        s.apply(a);
        Rc::new(Reducer(s))
    }
}

/// What the camera's callbacks share: the worker, the stream, the video, the session they serve.
#[derive(Clone)]
struct Shared {
    bridge: Rc<RefCell<Option<WorkerBridge<PlanWorker>>>>,
    stream: Rc<RefCell<Option<MediaStream>>>,
    canvas: Rc<RefCell<Option<HtmlCanvasElement>>>,
    session: Rc<Cell<u64>>,
    /// The size of the frame in flight (one at a time), for its answer's boxes.
    size: Rc<Cell<(u32, u32)>>,
    video: NodeRef,
}

/// The video's current frame as RGB8, at most [`FRAME_SIDE`] a side (`None` before the video has one).
fn grab(s: &Shared) -> Result<Option<(u32, u32, Vec<u8>)>, String> {
    let Some(video) = s.video.cast::<HtmlVideoElement>() else { return Ok(None) };
    let (vw, vh) = (video.video_width(), video.video_height());
    if video.ready_state() < 2 || vw == 0 || vh == 0 {
        return Ok(None);
    }
    let k = (FRAME_SIDE / vw.max(vh) as f64).min(1.0);
    let (w, h) = (((vw as f64 * k).round() as u32).max(1), ((vh as f64 * k).round() as u32).max(1));
    let fail = |what: &'static str| move |_: JsValue| format!("camera: {what} failed");
    let mut slot = s.canvas.borrow_mut();
    if slot.is_none() {
        let doc = web_sys::window().and_then(|w| w.document()).ok_or("camera: no document")?;
        *slot = Some(doc.create_element("canvas").map_err(fail("a canvas"))?.unchecked_into());
    }
    let canvas = slot.as_ref().expect("just made");
    canvas.set_width(w);
    canvas.set_height(h);
    let ctx: CanvasRenderingContext2d =
        canvas.get_context("2d").map_err(fail("a 2d context"))?.ok_or("camera: no 2d context")?.unchecked_into();
    ctx.draw_image_with_html_video_element_and_dw_and_dh(&video, 0.0, 0.0, w as f64, h as f64)
        .map_err(fail("drawing the frame"))?;
    let rgba = ctx.get_image_data(0.0, 0.0, w as f64, h as f64).map_err(fail("reading the frame"))?.data();
    Ok(Some((w, h, rgba.chunks_exact(4).flat_map(|p| [p[0], p[1], p[2]]).collect())))
}

/// Sends the next frame of `session` to the worker, or tries again shortly when the video has none yet.
fn next_frame(s: Shared, session: u64, dispatch: UseReducerDispatcher<Reducer>) {
    if s.session.get() != session || s.bridge.borrow().is_none() {
        return; // stopped, or a newer session runs its own loop
    }
    match grab(&s) {
        Ok(Some((width, height, rgb))) => {
            s.size.set((width, height));
            if let Some(b) = s.bridge.borrow().as_ref() {
                b.send(Request::Frame { id: session, width, height, rgb });
            }
        }
        Ok(None) => {
            gloo::timers::callback::Timeout::new(30, move || next_frame(s, session, dispatch)).forget();
        }
        Err(e) => {
            stop(&s);
            dispatch.dispatch(CameraAction::Failed(e))
        }
    }
}

/// Releases the camera and the worker (the camera's light goes off).
fn stop(s: &Shared) {
    s.bridge.borrow_mut().take(); // the worker closes once idle
    if let Some(stream) = s.stream.borrow_mut().take() {
        for t in stream.get_tracks().iter() {
            if let Ok(t) = t.dyn_into::<web_sys::MediaStreamTrack>() {
                t.stop();
            }
        }
    }
    if let Some(v) = s.video.cast::<HtmlVideoElement>() {
        v.set_src_object(None);
    }
}

fn spawn(s: &Shared, dispatch: &UseReducerDispatcher<Reducer>) -> WorkerBridge<PlanWorker> {
    let (s, d) = (s.clone(), dispatch.clone());
    WorkerSpawner::<PlanWorker, Bincode>::new()
        .callback(move |resp: Response| match resp {
            Response::CameraReady { id, result } => {
                let ok = result.is_ok();
                d.dispatch(CameraAction::Ready { session: id, result });
                if ok {
                    next_frame(s.clone(), id, d.clone());
                } else if s.session.get() == id {
                    stop(&s); // the model cannot run: the error says why, nothing stays open
                }
            }
            Response::Frame { id, result } => {
                let size = s.size.get();
                let ok = result.is_ok();
                d.dispatch(CameraAction::Frame { session: id, size, result, now: crate::dom::now() });
                if ok {
                    next_frame(s.clone(), id, d.clone());
                } else if s.session.get() == id {
                    stop(&s);
                }
            }
            _ => {}
        })
        .spawn(crate::app::WORKER_PATH)
}

/// Asks the worker to prepare the model under the schedule: a new session
/// (the answers of the previous one are dropped).
fn start_session(s: &Shared, model: &Model, schedule: Sched, mode: Mode, dispatch: &UseReducerDispatcher<Reducer>) {
    let id = next_id();
    s.session.set(id);
    dispatch.dispatch(CameraAction::Start { session: id });
    if let Some(b) = s.bridge.borrow().as_ref() {
        b.send(Request::CameraStart { id, model: (*model.source).clone(), schedule, mode });
    }
}

async fn open_camera() -> Result<MediaStream, String> {
    let md = web_sys::window()
        .ok_or("no window")?
        .navigator()
        .media_devices()
        .map_err(|_| "this browser offers no camera here (it needs https or localhost)".to_string())?;
    let c = MediaStreamConstraints::new();
    c.set_video(&JsValue::TRUE);
    c.set_audio(&JsValue::FALSE);
    let p = md.get_user_media_with_constraints(&c).map_err(|e| format!("camera: {e:?}"))?;
    let stream = JsFuture::from(p).await.map_err(|e| {
        let name = js_sys::Reflect::get(&e, &"name".into()).ok().and_then(|n| n.as_string()).unwrap_or_default();
        match name.as_str() {
            "NotAllowedError" => {
                "the camera was not allowed (the browser asked, or the page's permission is off)".to_string()
            }
            "NotFoundError" | "OverconstrainedError" => "no camera was found".to_string(),
            "NotReadableError" => "the camera is in use by another program".to_string(),
            _ => format!("the camera could not be opened ({name})"),
        }
    })?;
    Ok(stream.unchecked_into())
}

#[component]
pub fn CameraView(props: &CameraViewProps) -> Html {
    let cam = use_reducer(|| Reducer(CameraState::default()));
    let shared = Shared {
        bridge: use_mut_ref(|| None),
        stream: use_mut_ref(|| None),
        canvas: use_mut_ref(|| None),
        session: (*use_memo((), |_| Rc::new(Cell::new(0u64)))).clone(),
        size: (*use_memo((), |_| Rc::new(Cell::new((0u32, 0u32))))).clone(),
        video: use_node_ref(),
    };
    let dispatch = cam.dispatcher();
    let on = cam.0.on();

    // A new model, schedule or input mode while the camera runs: prepare it anew.
    {
        let (s, d, model) = (shared.clone(), dispatch.clone(), props.model.clone());
        let (schedule, mode) = (props.schedule, props.mode);
        use_effect_with((props.model.id, schedule, mode), move |_| {
            if s.bridge.borrow().is_some() {
                start_session(&s, &model, schedule, mode, &d);
            }
        });
    }
    // Leaving the page (or the component) stops the camera.
    {
        let s = shared.clone();
        use_effect_with((), move |_| move || stop(&s));
    }

    let on_start = {
        let (s, d, model) = (shared.clone(), dispatch.clone(), props.model.clone());
        let (schedule, mode) = (props.schedule, props.mode);
        Callback::from(move |_: MouseEvent| {
            let (s, d, model) = (s.clone(), d.clone(), model.clone());
            stop(&s); // a camera left open by an earlier failure
            d.dispatch(CameraAction::Start { session: 0 });
            wasm_bindgen_futures::spawn_local(async move {
                match open_camera().await {
                    Err(e) => d.dispatch(CameraAction::Failed(e)),
                    Ok(stream) => {
                        if let Some(v) = s.video.cast::<HtmlVideoElement>() {
                            v.set_src_object(Some(&stream));
                            let _ = v.play();
                        }
                        *s.stream.borrow_mut() = Some(stream);
                        *s.bridge.borrow_mut() = Some(spawn(&s, &d));
                        start_session(&s, &model, schedule, mode, &d);
                    }
                }
            });
        })
    };
    let on_stop = {
        let (s, d) = (shared.clone(), dispatch.clone());
        Callback::from(move |_: MouseEvent| {
            stop(&s);
            d.dispatch(CameraAction::Stop);
        })
    };

    let c = &cam.0;
    let fps = c.fps();
    let name = |k: usize| match &props.labels {
        Some(l) if k < l.1.len() => format!("{} (class {k})", l.1[k]),
        _ => format!("class {k}"),
    };
    let sched = match props.schedule.split {
        Some(k) => format!("patch-based: split {k}, {}×{} patches", props.schedule.grid.0, props.schedule.grid.1),
        None => "layer by layer".to_string(),
    };
    html! {
        <section class="card camera-card" data-testid="camera" data-phase={format!("{:?}", c.phase).to_lowercase()}>
            <div class="card-head">
                <h2>{ "Camera" }</h2>
                if on {
                    <button class="button" data-testid="camera-stop" onclick={on_stop}>{ "Stop the camera" }</button>
                } else {
                    <button class="button primary" data-testid="camera-start" onclick={on_start}>{ "Run on the camera" }</button>
                }
            </div>
            <p class="small muted">{ format!(
                "Runs the model on your camera's frames, one after the other, in a worker of its own, {sched}, in one \
                 arena prepared once. Frames stay in the browser.") }</p>
            if let Some(e) = &c.error {
                <div class="error inline" role="alert" data-testid="camera-error">{ e.clone() }</div>
            }
            <div class={classes!("camera-frame", (!on).then_some("off"))}>
                <video ref={shared.video.clone()} autoplay=true muted=true playsinline=true data-testid="camera-video"></video>
                if let (true, Some(last)) = (on, c.last.as_ref()) {
                    if let Some(d) = last.0.detections.clone() {
                        <svg class="camera-overlay" viewBox={format!("0 0 {} {}", last.1 .0, last.1 .1)} preserveAspectRatio="xMidYMid meet">
                            <Detections detections={Rc::new(d)} scale={1.0} pad_x={0.0} pad_y={0.0} testid="camera-detections" />
                        </svg>
                    }
                }
            </div>
            if on {
                <div class="camera-stats small" data-testid="camera-fps" data-value={fps.map_or("0".into(), |f| format!("{f:.2}"))}
                     data-frames={c.frames.to_string()}>
                    { match (&c.phase, fps) {
                        (Phase::Starting, _) => "preparing the model in the worker…".to_string(),
                        (_, None) => "waiting for frames…".to_string(),
                        (_, Some(f)) => format!("{f:.1} frames/s · {} frames", c.frames),
                    } }
                    if let Some(last) = c.last.as_ref() {
                        { format!(" · inference {:.1} ms", last.0.millis) }
                        if let Some(d) = &last.0.detections { { format!(" · {} box{}", d.len(), if d.len() == 1 { "" } else { "es" }) } }
                        if let Some(top) = last.0.top.as_ref().and_then(|t| t.first()) {
                            <span data-testid="camera-top">{ format!(" · top: {} ({:.2})", name(top.0), top.1) }</span>
                        }
                    }
                    if let Some(a) = c.arena { { format!(" · arena {}", crate::fmt::bytes(a)) } }
                </div>
            }
        </section>
    }
}
