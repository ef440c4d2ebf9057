//! "Watch it run": the schedule's run replayed step by step from the
//! timeline the worker measured (`watch::Timeline`): the arena as a memory
//! map (offset × step) with the buffers live now and the high-water mark
//! growing, beside the layer-by-layer run on the same byte scale; the
//! current patch's input region, halo and the output cells done so far on
//! the image; the current op in the graph; MACs done and recomputed.

use std::cell::RefCell;
use std::rc::Rc;

use patchwise_core::preprocess::Letterbox;
use patchwise_core::watch::Timeline;
use yew::prelude::*;
use yew_agent::worker::{WorkerBridge, WorkerSpawner};
use yew_agent::Bincode;

use super::graph_view::GraphSvg;
use crate::agent::PlanWorker;
use crate::fmt;
use crate::proto::{Request, Response};
use crate::state::{next_id, Image, Model};
use crate::view::{self, Analysis};
use crate::watch::{WatchAction, WatchState, SPEEDS};

#[derive(Properties, PartialEq)]
pub struct WatchViewProps {
    pub model: Rc<Model>,
    pub image: Rc<Image>,
    pub analysis: Rc<Analysis>,
    pub visible: bool,
}

struct Reducer(WatchState);

impl Reducible for Reducer {
    type Action = WatchAction;
    fn reduce(self: Rc<Self>, a: WatchAction) -> Rc<Self> {
        let mut s = self.0.clone();
        s.apply(a);
        Rc::new(Reducer(s))
    }
}

const W: f64 = 600.0;
const H: f64 = 200.0;

/// Each buffer's first and last step (the steps whose node it is live at).
fn spans(t: &Timeline) -> Vec<Option<(usize, usize)>> {
    t.buffers
        .iter()
        .map(|b| {
            let mut live =
                t.steps.iter().enumerate().filter(|(_, s)| b.first <= s.node && s.node <= b.last).map(|(k, _)| k);
            let first = live.next()?;
            Some((first, live.last().unwrap_or(first)))
        })
        .collect()
}

/// One run's arena as a memory map: x the steps, y the offset (0 at the bottom), `top` bytes high.
fn arena_map(
    t: &Timeline,
    spans: &[Option<(usize, usize)>],
    done: Option<usize>,
    top: usize,
    g: &patchwise_core::graph::Graph,
    testid: &str,
    label: String,
) -> Html {
    let n = t.steps.len().max(1) as f64;
    let x = |k: f64| k / n * W;
    let y = |b: usize| H - b as f64 / top.max(1) as f64 * H;
    let now = done.map_or(-1.0, |k| k as f64);
    let hwm = done.map_or(t.start_hwm, |k| t.steps[k].hwm);
    let mut trail = format!("M{:.1},{:.1}", x(0.0), y(t.start_hwm));
    if let Some(k) = done {
        for (i, s) in t.steps.iter().enumerate().take(k + 1) {
            trail.push_str(&format!(" L{:.1},{:.1} L{:.1},{:.1}", x(i as f64), y(s.hwm), x(i as f64 + 1.0), y(s.hwm)));
        }
    }
    html! {
        <figure class="arena-map" data-testid={testid.to_string()}>
            <figcaption class="small">{ label }</figcaption>
            <svg viewBox={format!("0 0 {W} {H}")} preserveAspectRatio="none" role="img"
                 aria-label={format!("arena memory map: {} buffers over {} steps, high-water mark {}", t.buffers.len(), t.steps.len(), fmt::bytes(hwm))}>
                <rect class="arena-bg" x="0" y={format!("{:.1}", y(t.arena_size))} width={W.to_string()} height={format!("{:.1}", H - y(t.arena_size))} />
                { for t.buffers.iter().zip(spans).filter_map(|(b, s)| s.map(|s| (b, s))).map(|(b, (k0, k1))| {
                    let state = if done.is_some_and(|d| k0 <= d && d <= k1) { "live" } else if (k1 as f64) < now { "past" } else { "future" };
                    let names: Vec<&str> = b.tensors.iter().map(|&t| g.tensors[t].name.as_str()).collect();
                    html! {
                        <rect class={classes!("buf", state, b.in_place.then_some("inplace"))}
                              x={format!("{:.2}", x(k0 as f64))} y={format!("{:.2}", y(b.offset + b.size))}
                              width={format!("{:.2}", (x(k1 as f64 + 1.0) - x(k0 as f64)).max(0.5))}
                              height={format!("{:.2}", (b.size as f64 / top.max(1) as f64 * H).max(0.5))}>
                            <title>{ format!("{} · {} at offset {}{}", names.join(", "), fmt::bytes(b.size), b.offset, if b.in_place { " · in place" } else { "" }) }</title>
                        </rect>
                    }
                }) }
                <path class="hwm-trail" d={trail} />
                if let Some(k) = done {
                    <line class="cursor" x1={format!("{:.1}", x(k as f64 + 0.5))} x2={format!("{:.1}", x(k as f64 + 0.5))} y1="0" y2={H.to_string()} />
                }
            </svg>
        </figure>
    }
}

#[component]
pub fn WatchView(props: &WatchViewProps) -> Html {
    let st = use_reducer(|| Reducer(WatchState::default()));
    let dispatch = st.dispatcher();
    let bridge: Rc<RefCell<Option<WorkerBridge<PlanWorker>>>> = use_mut_ref(|| None);

    // Measure the run in a worker of its own when the view is shown with new settings.
    {
        let (bridge, d) = (bridge.clone(), dispatch.clone());
        let a = &props.analysis;
        let key = (props.model.id, a.schedule, a.mode, props.image.id);
        let (model, image, known) = (props.model.clone(), props.image.clone(), st.0.key == Some(key));
        use_effect_with((key, props.visible), move |&(key, visible)| {
            if visible && !known {
                let mut b = bridge.borrow_mut();
                let b = b.get_or_insert_with(|| {
                    let d = d.clone();
                    WorkerSpawner::<PlanWorker, Bincode>::new()
                        .callback(move |r: Response| {
                            if let Response::Watch { id, result } = r {
                                d.dispatch(WatchAction::Loaded { id, result });
                            }
                        })
                        .spawn(crate::app::WORKER_PATH)
                });
                let id = next_id();
                d.dispatch(WatchAction::Request { id, key });
                b.send(Request::Watch {
                    id,
                    model: (*model.source).clone(),
                    image: image.bytes.to_vec(),
                    schedule: key.1,
                    mode: key.2,
                });
            }
        });
    }
    // Playback.
    {
        let d = dispatch.clone();
        let (playing, sps) = (st.0.playing, st.0.steps_per_second());
        use_effect_with((playing, sps), move |&(playing, sps)| {
            let timer = playing.then(|| {
                gloo::timers::callback::Interval::new((1000.0 / sps).round().max(1.0) as u32, move || {
                    d.dispatch(WatchAction::Tick)
                })
            });
            move || drop(timer)
        });
    }

    let w = &st.0;
    let g = &props.model.graph;
    let spans_s = {
        let out = w.out.clone();
        use_memo(out.as_ref().map(Rc::as_ptr).map(|p| p as usize), move |_| {
            out.map(|o| (spans(&o.scheduled), spans(&o.layers))).unwrap_or_default()
        })
    };
    let on = |a: WatchAction| {
        let d = dispatch.clone();
        Callback::from(move |_: MouseEvent| d.dispatch(a.clone()))
    };
    let n = w.steps();
    let body = match (&w.out, &w.error) {
        (_, Some(e)) => html! { <div class="error inline" role="alert" data-testid="watch-error">{ e.clone() }</div> },
        (None, None) => {
            html! { <p class="muted" data-testid="watch-measuring">{ "measuring the run in the worker…" }</p> }
        }
        (Some(out), None) => {
            let done = WatchState::done(w.step, n);
            let cur = done.map(|k| out.scheduled.steps[k]);
            let layer_done = WatchState::done(w.step, out.layers.steps.len());
            let top = out.scheduled.arena_size.max(out.layers.arena_size);
            let hwm = cur.map_or(out.scheduled.start_hwm, |s| s.hwm);
            let layer_hwm = layer_done.map_or(out.layers.start_hwm, |k| out.layers.steps[k].hwm);
            let patches = out.scheduled.patches;
            let where_ = match cur {
                None => "before the first op: the input is in the arena".to_string(),
                Some(s) => format!(
                    "{}{}",
                    s.patch.map_or(String::new(), |p| format!("patch {} of {patches} · ", p + 1)),
                    view::op_label(g, s.node)
                ),
            };
            let sched_label = match out.schedule.split {
                Some(k) => format!(
                    "this schedule (split {k}, {}×{} patches) · arena {}",
                    out.schedule.grid.0,
                    out.schedule.grid.1,
                    fmt::bytes(out.scheduled.arena_size)
                ),
                None => format!("this schedule (layer by layer) · arena {}", fmt::bytes(out.scheduled.arena_size)),
            };
            let live: Vec<Html> = done
                .map(|k| {
                    out.scheduled
                        .live(k)
                        .map(|(_, b)| {
                            let names: Vec<&str> = b.tensors.iter().map(|&t| g.tensors[t].name.as_str()).collect();
                            html! {
                                <li>
                                    <code>{ names.join(", ") }</code>
                                    { format!(" · {} at {}", fmt::bytes(b.size), b.offset) }
                                    if b.in_place { <span class="tag">{ "in place" }</span> }
                                </li>
                            }
                        })
                        .collect()
                })
                .unwrap_or_default();
            let drawing = Rc::new(view::Drawing::of_graph(g));
            html! {
                <>
                    <div class="watch-now small" aria-live="polite">
                        <div data-testid="watch-node" data-value={cur.map_or("none".into(), |s| s.node.to_string())}
                             data-patch={cur.and_then(|s| s.patch).map_or("none".into(), |p| p.to_string())}>
                            <strong>{ where_ }</strong>
                        </div>
                        <div>
                            <span data-testid="watch-live" data-value={cur.map_or(0, |s| s.live_bytes).to_string()}>
                                { format!("live {}", fmt::bytes(cur.map_or(0, |s| s.live_bytes))) }</span>
                            { " · " }
                            <span data-testid="watch-hwm" data-value={hwm.to_string()}>{ format!("high-water mark {}", fmt::bytes(hwm)) }</span>
                            { format!(" (layer by layer: {})", fmt::bytes(layer_hwm)) }
                            <span data-testid="watch-layer-hwm" data-value={layer_hwm.to_string()} hidden=true></span>
                            { " · " }
                            <span data-testid="watch-macs" data-value={cur.map_or(0, |s| s.macs).to_string()}
                                  data-recomputed={cur.map_or(0, |s| s.recomputed_macs).to_string()}>
                                { format!("MACs done {}, {} of them recomputed halos", fmt::count(cur.map_or(0, |s| s.macs)), fmt::count(cur.map_or(0, |s| s.recomputed_macs))) }
                            </span>
                        </div>
                    </div>
                    <div class="watch-maps">
                        { arena_map(&out.scheduled, &spans_s.0, done, top, g, "watch-map", sched_label) }
                        { arena_map(&out.layers, &spans_s.1, layer_done, top, g, "watch-layer-map",
                                    format!("layer by layer · arena {}", fmt::bytes(out.layers.arena_size))) }
                    </div>
                    <p class="small muted">{ "Each rectangle is an arena buffer: its offset (up) and the steps it is live (across), on one byte scale for both runs. Blue: live now; grey: freed; the line is the high-water mark so far. In the patch stage every patch reuses the same small buffers; only the stage output (and tensors the rest reads) stay whole." }</p>
                    <div class="watch-two">
                        { watch_image(props, cur, patches) }
                        <div>
                            <h3 class="small">{ "Live now" }</h3>
                            <ul class="watch-live small" data-testid="watch-live-list">{ for live }</ul>
                        </div>
                    </div>
                    <div class="graph-scroll">
                        <GraphSvg drawing={drawing} split={out.schedule.split} hover={cur.map(|s| s.node)} testid="watch-graph" />
                    </div>
                </>
            }
        }
    };
    let speed = {
        let d = dispatch.clone();
        Callback::from(move |e: Event| {
            let v = e.target_unchecked_into::<web_sys::HtmlSelectElement>().value();
            d.dispatch(WatchAction::SetSpeed(v.parse().unwrap_or(2)))
        })
    };
    let seek = {
        let d = dispatch.clone();
        Callback::from(move |e: InputEvent| {
            let v = e.target_unchecked_into::<web_sys::HtmlInputElement>().value();
            d.dispatch(WatchAction::Seek(v.parse().unwrap_or(0)))
        })
    };
    html! {
        <section class="card watch-card" data-testid="watch" hidden={!props.visible}>
            <div class="card-head">
                <h2>{ "Watch it run" }</h2>
                <span class="muted small">{ "the schedule's run, op by op and patch by patch, replayed from a measured run in the worker" }</span>
            </div>
            <div class="watch-controls">
                <button class="button" data-testid="watch-back" onclick={on(WatchAction::Step(-1))} disabled={n == 0} aria-label="one step back">{ "◀" }</button>
                if w.playing {
                    <button class="button primary" data-testid="watch-play" onclick={on(WatchAction::Pause)} aria-label="pause">{ "❚❚ pause" }</button>
                } else {
                    <button class="button primary" data-testid="watch-play" onclick={on(WatchAction::Play)} disabled={n == 0} aria-label="play">{ "▶ play" }</button>
                }
                <button class="button" data-testid="watch-forward" onclick={on(WatchAction::Step(1))} disabled={n == 0} aria-label="one step forward">{ "▶" }</button>
                <input type="range" min="0" max={n.to_string()} value={w.step.to_string()} oninput={seek} aria-label="step" data-testid="watch-seek" />
                <span class="small">
                    { "step " }<span data-testid="watch-step" data-value={w.step.to_string()}>{ w.step }</span>
                    { " of " }<span data-testid="watch-steps" data-value={n.to_string()}>{ n }</span>
                </span>
                <label class="small">{ "speed " }
                    <select onchange={speed} aria-label="speed" data-testid="watch-speed">
                        { for SPEEDS.iter().enumerate().map(|(i, s)| html! {
                            <option value={i.to_string()} selected={i == w.speed}>{ format!("{s} steps/s") }</option>
                        }) }
                    </select>
                </label>
            </div>
            { body }
        </section>
    }
}

/// The input image with the current patch's region (its halo hatched), its
/// own cell of the stage output, and the cells done so far.
fn watch_image(props: &WatchViewProps, cur: Option<patchwise_core::watch::WatchStep>, patches: usize) -> Html {
    let g = &props.model.graph;
    let Some(&input) = g.inputs.first() else { return html! {} };
    let (ih, iw) = view::hw(g, input);
    let img = &props.image;
    let lb = Letterbox::fit(img.width as usize, img.height as usize, iw, ih);
    let a = &props.analysis;
    let Some(ps) = a.patches.as_ref() else {
        return html! {
            <figure class="watch-image"><svg viewBox={format!("0 0 {iw} {ih}")}>
                <image href={img.url.clone()} x={lb.pad_x.to_string()} y={lb.pad_y.to_string()}
                       width={(img.width as f32 * lb.scale).to_string()} height={(img.height as f32 * lb.scale).to_string()} preserveAspectRatio="none" />
            </svg><figcaption class="small muted">{ "Layer by layer: every op runs on the whole image." }</figcaption></figure>
        };
    };
    let (oh, ow) = view::hw(g, ps.output);
    let (cy, cx) = (ih as f64 / oh as f64, iw as f64 / ow as f64);
    // Patches whose stage is done: every patch before the current one; all of them after the stage.
    let (current, finished) = match cur {
        None => (None, 0),
        Some(s) => match s.patch {
            Some(p) => (Some(p), p + usize::from(s.node == ps.split)),
            None => (None, patches),
        },
    };
    let cell = |p: usize| ps.rects[p][ps.output];
    html! {
        <figure class="watch-image" data-testid="watch-image" data-done={finished.to_string()}>
            <svg viewBox={format!("0 0 {iw} {ih}")}>
                <defs>
                    <pattern id="halo-hatch" width="4" height="4" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
                        <line x1="0" y1="0" x2="0" y2="4" class="hatch" />
                    </pattern>
                </defs>
                <rect class="letterbox" x="0" y="0" width={iw.to_string()} height={ih.to_string()} />
                <image href={img.url.clone()} x={lb.pad_x.to_string()} y={lb.pad_y.to_string()}
                       width={(img.width as f32 * lb.scale).to_string()} height={(img.height as f32 * lb.scale).to_string()} preserveAspectRatio="none" />
                { for (0..finished).filter_map(cell).map(|c| html! {
                    <rect class="done-cell" x={(c.x as f64 * cx).to_string()} y={(c.y as f64 * cy).to_string()}
                          width={(c.w as f64 * cx).to_string()} height={(c.h as f64 * cy).to_string()} />
                }) }
                if let Some(p) = current {
                    if let Some(r) = ps.rects[p][input] {
                        <rect class="halo" x={r.x.to_string()} y={r.y.to_string()} width={r.w.to_string()} height={r.h.to_string()} />
                    }
                    if let Some(c) = cell(p) {
                        <rect class="own-cell" x={(c.x as f64 * cx).to_string()} y={(c.y as f64 * cy).to_string()}
                              width={(c.w as f64 * cx).to_string()} height={(c.h as f64 * cy).to_string()} />
                    }
                }
            </svg>
            <figcaption class="small muted">{ match current {
                Some(p) => format!("Patch {} of {patches}: it reads the outlined region — its own cell (solid) plus the halo (hatched), recomputed by its neighbours too. Green: stage-output cells done.", p + 1),
                None if finished > 0 => "The stage output is whole: the rest of the network runs layer by layer.".to_string(),
                None => "Before the first patch.".to_string(),
            } }</figcaption>
        </figure>
    }
}
