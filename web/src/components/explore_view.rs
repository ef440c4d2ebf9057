//! The Explore view: for a board, which networks of a family fit layer by
//! layer, which only patch-based, as a resolution × width heatmap per RD
//! choice, with the largest that fits marked. The sweep runs in its own
//! workers (as many as `navigator.hardwareConcurrency`, up to
//! `explorer::MAX_WORKERS`), one spec a message; a click opens a spec in the
//! analysis view.

use std::cell::RefCell;
use std::rc::Rc;

use patchwise_core::boards::BOARDS;
use patchwise_core::explore::{Family, SpecPoint};
use web_sys::HtmlSelectElement;
use yew::prelude::*;
use yew_agent::worker::WorkerBridge;
use yew_agent::{Bincode, Spawnable};

use crate::agent::PlanWorker;
use crate::explorer::{self, ExploreAction, Explorer, Fit, Run};
use crate::fmt;
use crate::proto::{Mode, Request, Response};
use crate::state::next_id;

/// A spec to open in the analysis view.
#[derive(Clone, Debug, PartialEq)]
pub struct OpenSpec {
    pub family: Family,
    pub classes: usize,
    pub point: SpecPoint,
    pub board: &'static str,
    pub mode: Mode,
}

#[derive(Properties, PartialEq)]
pub struct ExploreViewProps {
    /// The analysis view's board, the first board shown.
    pub board: Option<&'static str>,
    pub mode: Mode,
    /// Whether the view is on screen (the first sweep starts when it first is).
    pub visible: bool,
    pub on_open: Callback<OpenSpec>,
}

fn workers_wanted() -> usize {
    let n = web_sys::window().map_or(1.0, |w| w.navigator().hardware_concurrency());
    (n as usize).clamp(1, explorer::MAX_WORKERS)
}

fn select_value(e: &Event) -> String {
    e.target_unchecked_into::<HtmlSelectElement>().value()
}

/// The workers of the sweeps, kept between sweeps (a worker compiles the wasm module once).
type Bridges = Rc<RefCell<Vec<WorkerBridge<PlanWorker>>>>;

fn bridge(bridges: &Bridges, k: usize, dispatch: &UseReducerDispatcher<Explorer>) {
    let mut b = bridges.borrow_mut();
    while b.len() <= k {
        let slot = b.len();
        let d = dispatch.clone();
        b.push(
            PlanWorker::spawner()
                .callback(move |resp: Response| {
                    if let Response::Explore { id, index, result } = resp {
                        d.dispatch(ExploreAction::Done { id, worker: slot, index, result, now: crate::dom::now() });
                    }
                })
                .encoding::<Bincode>()
                .spawn(crate::app::WORKER_PATH),
        );
    }
}

#[component]
pub fn ExploreView(props: &ExploreViewProps) -> Html {
    let state = {
        let (board, mode) = (props.board, props.mode);
        use_reducer(move || Explorer::new(board.and_then(patchwise_core::boards::board), mode))
    };
    let dispatch = state.dispatcher();
    let bridges: Bridges = use_mut_ref(Vec::new);
    // (run id, entries of `Run::sent` already sent).
    let sent = use_mut_ref(|| (0u64, 0usize));

    let start = {
        let d = dispatch.clone();
        Callback::from(move |_: ()| {
            d.dispatch(ExploreAction::Start {
                id: next_id(),
                workers: workers_wanted(),
                now: crate::dom::now(),
                sweep: None,
            })
        })
    };

    // The first sweep starts when the view is first shown; a new board,
    // family or input mode starts another.
    {
        let start = start.clone();
        let stale = state.run.as_ref().is_none_or(|r| r.setup != state.setup) && state.error.is_none();
        use_effect_with((props.visible, state.setup, stale), move |(visible, _, stale)| {
            if *visible && *stale {
                start.emit(());
            }
        });
    }

    // Send what the reducer handed out, each entry once.
    {
        let (bridges, sent, d) = (bridges.clone(), sent.clone(), dispatch.clone());
        let key = state.run.as_ref().map(|r| (r.id, r.sent.len(), r.cancelled));
        let run = state.run.clone();
        use_effect_with(key, move |_| {
            if let Some(run) = run.filter(|r| !r.cancelled) {
                let mut s = sent.borrow_mut();
                if s.0 != run.id {
                    *s = (run.id, 0);
                }
                for &(worker, index) in &run.sent[s.1..] {
                    bridge(&bridges, worker, &d);
                    bridges.borrow()[worker].send(Request::Explore { id: run.id, index, job: run.job(index) });
                }
                s.1 = run.sent.len();
            }
        });
    }

    let on_board = {
        let d = dispatch.clone();
        Callback::from(move |e: Event| d.dispatch(ExploreAction::SetBoard(select_value(&e))))
    };
    let on_family = {
        let d = dispatch.clone();
        Callback::from(move |e: Event| {
            let f = Family::parse(&select_value(&e)).unwrap_or(Family::Mbv2);
            d.dispatch(ExploreAction::SetFamily(f))
        })
    };
    let on_mode = {
        let d = dispatch.clone();
        Callback::from(move |e: Event| {
            let m = if select_value(&e) == "streamed" { Mode::Streamed } else { Mode::InArena };
            d.dispatch(ExploreAction::SetMode(m))
        })
    };
    let on_cancel = {
        let d = dispatch.clone();
        Callback::from(move |_| d.dispatch(ExploreAction::Cancel))
    };
    let on_restart = {
        let start = start.clone();
        Callback::from(move |_| start.emit(()))
    };

    let setup = state.setup;
    let running = state.run.as_ref().is_some_and(Run::running);
    let controls = html! {
        <div class="explore-controls">
            <label>{ "Board " }
                <select data-testid="explore-board" onchange={on_board}>
                    { for BOARDS.iter().map(|b| html! {
                        <option value={b.name} selected={b.name == setup.board.name}>{ b.name }</option>
                    }) }
                </select>
            </label>
            <label>{ "Family " }
                <select data-testid="explore-family" onchange={on_family}>
                    { for Family::ALL.iter().map(|f| html! {
                        <option value={f.name()} selected={*f == setup.family}>{ family_label(*f) }</option>
                    }) }
                </select>
            </label>
            <label>{ "Input " }
                <select data-testid="explore-mode" onchange={on_mode}>
                    <option value="in-arena" selected={setup.mode == Mode::InArena}>{ "in SRAM" }</option>
                    <option value="streamed" selected={setup.mode == Mode::Streamed}>{ "streamed" }</option>
                </select>
            </label>
            if running {
                <button class="button" data-testid="explore-cancel" onclick={on_cancel}>{ "Cancel" }</button>
            } else {
                <button class="button primary" data-testid="explore-start" onclick={on_restart}>{ "Run the sweep" }</button>
            }
        </div>
    };

    html! {
        <section class="card explore" data-testid="explore" hidden={!props.visible}
                 data-running={running.to_string()}>
            <div class="card-head">
                <h2>{ "Design space: what fits " }{ setup.board.name }</h2>
            </div>
            <p class="teach">
                { "Each cell is one network of the family: input resolution × width multiplier, its weights \
                   built and its schedules searched as " }<code>{ "patchwise explore" }</code>{ " does. Patch-based \
                   inference lets a higher resolution or a wider network fit the same SRAM (MCUNetV2's \
                   “larger design space”); MACs stand in for accuracy, as in MCUNet's TinyNAS. Click a cell to \
                   open it in the analysis view." }
            </p>
            { controls }
            if let Some(e) = &state.error {
                <div class="error" role="alert" data-testid="explore-error"><span class="error-text">{ e }</span></div>
            }
            if let Some(run) = &state.run {
                { progress(run) }
                if let Some(e) = run.error() {
                    <div class="error" role="alert" data-testid="explore-error"><span class="error-text">{ e }</span></div>
                }
                { frontier(run, &props.on_open) }
                { legend(run) }
                <div class="heatmaps">
                    { for run.sweep.rd.iter().map(|&rd| heatmap(run, rd, &props.on_open)) }
                </div>
            }
        </section>
    }
}

fn family_label(f: Family) -> &'static str {
    match f {
        Family::Mbv2 => "MobileNetV2",
        Family::Mcunet => "MCUNet-style",
    }
}

fn progress(run: &Run) -> Html {
    let (done, total) = (run.done(), run.points.len());
    let workers = format!("{} worker{}", run.workers, if run.workers == 1 { "" } else { "s" });
    let text = match (run.millis(), run.cancelled) {
        (_, true) => format!("cancelled after {done} of {total} networks"),
        (Some(ms), _) => format!("{total} networks in {} on {workers}", fmt::millis(ms)),
        (None, _) => format!("{done} of {total} networks · {workers}"),
    };
    html! {
        <div class="explore-progress" data-testid="explore-progress" data-value={done.to_string()}
             data-max={total.to_string()} data-workers={run.workers.to_string()} data-millis={run.millis().map(|m| format!("{m:.0}"))}
             data-done={(run.finished_ms.is_some()).to_string()}>
            <progress max={total.to_string()} value={done.to_string()} aria-label="networks evaluated"></progress>
            <span class="small muted" aria-live="polite">{ text }</span>
        </div>
    }
}

fn open(run: &Run, p: &SpecPoint, on_open: &Callback<OpenSpec>) -> Callback<MouseEvent> {
    let spec = OpenSpec {
        family: run.sweep.family,
        classes: run.sweep.classes,
        point: p.clone(),
        board: run.setup.board.name,
        mode: run.setup.mode,
    };
    let on_open = on_open.clone();
    Callback::from(move |_| on_open.emit(spec.clone()))
}

fn frontier(run: &Run, on_open: &Callback<OpenSpec>) -> Html {
    let Some((layer, patch)) = run.frontier() else { return html! {} };
    let row = |what: &'static str, key: &'static str, p: Option<&SpecPoint>| match p {
        Some(p) => html! {
            <li data-testid={format!("explore-frontier-{key}")} data-resolution={p.resolution.to_string()}
                data-width={p.width.to_string()} data-rd={p.rd.to_string()}>
                <strong>{ what }</strong>{ " " }{ explorer::describe(p) }{ " " }
                <button class="button small-button" onclick={open(run, p, on_open)}>{ "Open" }</button>
            </li>
        },
        None => html! {
            <li data-testid={format!("explore-frontier-{key}")}>
                <strong>{ what }</strong>{ " nothing in the sweep fits " }{ run.setup.board.name }
            </li>
        },
    };
    let gain = match (layer, patch) {
        (Some(l), Some(p)) if p.macs > l.macs => {
            html! { <p class="small">{ format!("Patch-based fits a network with {:.1}× the MACs.", p.macs as f64 / l.macs.max(1) as f64) }</p> }
        }
        _ => html! {},
    };
    html! {
        <div class="explore-frontier">
            <h3>{ "Largest that fits (most MACs)" }</h3>
            <ul>
                { row("Layer by layer:", "layer", layer) }
                { row("Patch-based:", "patch", patch) }
            </ul>
            { gain }
        </div>
    }
}

fn legend(run: &Run) -> Html {
    html! {
        <div class="legend explore-legend">
            { for [Fit::Layer, Fit::Patch, Fit::Flash, Fit::Sram].iter().map(|f| html! {
                <span><span class={classes!("key", format!("fit-{}", f.name()))}></span>{ " " }{ f.label() }</span>
            }) }
            <span><span class="key frontier-key"></span>{ " largest that fits" }</span>
            <span>{ format!("· arena budget {}, flash {}", fmt::bytes(run.budget), fmt::bytes(run.setup.board.flash_bytes as usize)) }</span>
        </div>
    }
}

fn heatmap(run: &Run, rd: bool, on_open: &Callback<OpenSpec>) -> Html {
    let marks = run.frontier();
    let mark = |p: &SpecPoint| -> Option<&'static str> {
        let (l, pb) = marks?;
        match (l == Some(p), pb == Some(p)) {
            (true, true) => Some("L P"),
            (true, false) => Some("L"),
            (false, true) => Some("P"),
            _ => None,
        }
    };
    html! {
        <div class="heatmap-wrap">
            <table class="heatmap" data-testid={format!("explore-heatmap-{}", if rd { "rd" } else { "base" })}>
                <caption>{ if rd { "with RD" } else { "without RD" } }</caption>
                <thead>
                    <tr>
                        <th scope="col" class="corner">{ "res \\ width" }</th>
                        { for run.sweep.widths.iter().map(|w| html! { <th scope="col">{ format!("{w}") }</th> }) }
                    </tr>
                </thead>
                <tbody>
                    { for run.sweep.resolutions.iter().map(|&r| html! {
                        <tr>
                            <th scope="row">{ r }</th>
                            { for run.sweep.widths.iter().map(|&w| cell(run, r, w, rd, &mark, on_open)) }
                        </tr>
                    }) }
                </tbody>
            </table>
        </div>
    }
}

fn cell(
    run: &Run,
    r: usize,
    w: f32,
    rd: bool,
    mark: &dyn Fn(&SpecPoint) -> Option<&'static str>,
    on_open: &Callback<OpenSpec>,
) -> Html {
    match run.result(r, w, rd) {
        None => html! { <td class="pending" aria-label="not evaluated yet">{ "·" }</td> },
        Some(Err(e)) => html! { <td class="failed" title={e.clone()}>{ "!" }</td> },
        Some(Ok(p)) => {
            let fit = Fit::of(p, run.budget);
            let m = mark(p);
            let split = p.schedule.split.map_or_else(|| "none".to_string(), |s| s.to_string());
            let grid = format!("{}x{}", p.schedule.grid.0, p.schedule.grid.1);
            let title = format!("{} — {}", explorer::describe(p), fit.label());
            html! {
                <td>
                    <button class={classes!("hm-cell", format!("fit-{}", fit.name()), m.map(|_| "frontier"))}
                            data-testid="explore-cell" data-resolution={r.to_string()} data-width={w.to_string()}
                            data-rd={rd.to_string()} data-fit={fit.name()} data-macs={p.macs.to_string()}
                            data-layer-peak={p.layer_peak_bytes.to_string()} data-patch-peak={p.patch_peak_bytes.to_string()}
                            data-flash={p.flash_bytes.to_string()} data-split={split} data-grid={grid}
                            title={title} onclick={open(run, p, on_open)}>
                        { explorer::short_macs(p.macs) }
                        if let Some(m) = m { <span class="hm-mark">{ m }</span> }
                    </button>
                </td>
            }
        }
    }
}
