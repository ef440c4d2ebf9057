//! Runs the model on the image in the worker, layer by layer and patch based,
//! and shows that the outputs are byte-identical and that the measured arena
//! high-water mark equals the planned one.

use std::rc::Rc;

use yew::prelude::*;

use crate::fmt;
use crate::proto::{median, ExecOut, Mode, RunOut, Sched, TimeOut};

/// Runs of each a timing takes (odd: the median is one of them).
pub const TIME_RUNS: u32 = 21;

#[derive(Properties, PartialEq)]
pub struct RunPanelProps {
    pub run: Option<Rc<RunOut>>,
    pub pending: bool,
    /// The first search is under way and will choose the schedule: a run now would run a provisional one.
    pub searching: bool,
    pub schedule: Sched,
    pub mode: Mode,
    pub image_name: AttrValue,
    pub on_run: Callback<()>,
    pub timing: Option<Rc<TimeOut>>,
    pub timing_pending: bool,
    #[prop_or_default]
    pub timing_error: Option<String>,
    pub on_time: Callback<()>,
    /// The schedule's MACs over layer by layer's, in percent (for the timing's comparison).
    pub overhead_pct: f64,
    /// Class names from a dropped labels file (one per line), and its name.
    pub labels: Option<Rc<(String, Vec<String>)>>,
}

fn exec_row(name: &str, testid: &str, e: &ExecOut) -> Html {
    let ok = e.measured_bytes == e.predicted_bytes;
    html! {
        <tr>
            <th scope="row">{ name }</th>
            <td data-testid={format!("{testid}-predicted")} data-value={e.predicted_bytes.to_string()}>{ fmt::bytes(e.predicted_bytes) }</td>
            <td data-testid={format!("{testid}-measured")} data-value={e.measured_bytes.to_string()}>
                { fmt::bytes(e.measured_bytes) }
                <span class={classes!("badge", if ok { "ok" } else { "bad" })}>{ if ok { "= planned" } else { "≠ planned" } }</span>
            </td>
            <td data-testid={format!("{testid}-time")} data-value={e.millis.to_string()}>{ fmt::millis(e.millis) }</td>
        </tr>
    }
}

#[component]
pub fn RunPanel(props: &RunPanelProps) -> Html {
    let onclick = props.on_run.reform(|_: MouseEvent| ());
    let stale = props.run.as_ref().is_some_and(|r| r.schedule != props.schedule || r.mode != props.mode);
    html! {
        <section class="card run-card">
            <div class="card-head">
                <h2>{ "Run" }</h2>
                <button class="button primary" data-testid="run" {onclick} disabled={props.pending || props.searching}
                        title={props.searching.then_some("waiting for the schedule search to choose the schedule")}>
                    if props.pending { <span class="spinner small" aria-hidden="true"></span>{ " running…" } }
                    else if props.searching { <span class="spinner small" aria-hidden="true"></span>{ " searching schedules…" } }
                    else { { "Run on the image" } }
                </button>
            </div>
            <p class="small muted">{ format!(
                "Runs the int8 model on {} in the web worker twice: layer by layer (exec::Executor) and under this schedule \
                 (patch::PatchExecutor), each in its own arena painted 0xAA then 0x55 to measure the high-water mark.",
                props.image_name) }</p>
            if let Some(r) = props.run.as_ref() {
                if stale {
                    <p class="note">{ "Settings changed since this run — run again to check the new schedule." }</p>
                }
                <div class={classes!("identical", if r.identical { "ok" } else { "bad" })} data-testid="run-identical" data-value={r.identical.to_string()}>
                    { if r.identical { "✓ outputs byte-identical (layer by layer vs. patch based)" } else { "✗ outputs differ" } }
                </div>
                <table class="run-table">
                    <thead><tr><th></th><th>{ "planned arena" }</th><th>{ "measured high-water mark" }</th><th>{ "time" }</th></tr></thead>
                    <tbody>
                        { exec_row("layer by layer", "run-layer", &r.layer) }
                        { exec_row(&match r.schedule.split {
                            Some(s) => format!("patch based (split {s}, {}×{})", r.schedule.grid.0, r.schedule.grid.1),
                            None => "this schedule (no patching)".into(),
                          }, "run", &r.scheduled) }
                    </tbody>
                </table>
                <div class="outputs">
                    { for r.outputs.iter().map(|o| html! {
                        <div class="output">
                            <span class="muted">{ format!("output {}: ", o.index) }</span>
                            <code>{ format!("{} {}", fmt::shape(&o.shape), o.dtype) }</code>
                            if let Some(top) = &o.top {
                                <ul class="top" data-testid="top-classes">
                                    { for top.iter().map(|(c, s)| {
                                        let name = props.labels.as_ref().and_then(|l| l.1.get(*c));
                                        html! { <li>{ match name {
                                            Some(n) => format!("{n} (class {c}): {s:.4}"),
                                            None => format!("class {c}: {s:.4}"),
                                        } }</li> }
                                    }) }
                                </ul>
                                { label_note(props.labels.as_deref(), o.shape.last().copied().unwrap_or(0)) }
                            }
                        </div>
                    }) }
                    if let Some(d) = &r.detections {
                        <div class="output">{ format!("{} detection{} drawn on the image", d.len(), if d.len() == 1 { "" } else { "s" }) }</div>
                    }
                </div>
            } else if !props.pending {
                <p class="placeholder small">{ "Not run yet." }</p>
            }
            { timing(props) }
        </section>
    }
}

/// Which labels file names the classes, and whether its length matches the output's.
fn label_note(labels: Option<&(String, Vec<String>)>, classes: usize) -> Html {
    match labels {
        None => {
            html! { <div class="muted small">{ "Drop a labels file (.txt, one class name per line) to name the classes." }</div> }
        }
        Some((name, l)) if l.len() == classes => {
            html! { <div class="muted small" data-testid="labels-note">{ format!("class names from {name}") }</div> }
        }
        Some((name, l)) => html! {
            <div class="note small" data-testid="labels-note">
                { format!("{name} has {} names, the output has {classes} classes: names are matched by line, the rest unnamed", l.len()) }
            </div>
        },
    }
}

/// The inference alone, timed in the worker: the median and range of each.
fn timing(props: &RunPanelProps) -> Html {
    let onclick = props.on_time.reform(|_: MouseEvent| ());
    let busy = props.timing_pending || props.pending || props.searching;
    let row = |name: String, testid: &str, xs: &[f64]| {
        let (lo, hi) = xs.iter().fold((f64::MAX, f64::MIN), |(lo, hi), &x| (lo.min(x), hi.max(x)));
        let m = median(xs);
        html! {
            <tr>
                <th scope="row">{ name }</th>
                <td data-testid={format!("{testid}-median")} data-value={m.to_string()}
                    data-samples={xs.iter().map(f64::to_string).collect::<Vec<_>>().join(" ")}>{ fmt::millis(m) }</td>
                <td class="muted">{ format!("{} – {}", fmt::millis(lo), fmt::millis(hi)) }</td>
            </tr>
        }
    };
    html! {
        <div class="timing" data-testid="timing">
            <div class="card-head">
                <h3>{ "Speed in this browser" }</h3>
                <button class="button" data-testid="time" {onclick} disabled={busy}>
                    if props.timing_pending { <span class="spinner small" aria-hidden="true"></span>{ " timing…" } }
                    else { { format!("Time the inference ({TIME_RUNS} runs)") } }
                </button>
            </div>
            <p class="small muted">{ "The int8 program alone, in the web worker (WebAssembly SIMD): each run starts from the \
                input bytes in its arena, without loading, decoding the image or painting. Layer by layer and the \
                schedule take turns, so a busy moment weighs on both." }</p>
            if let Some(e) = props.timing_error.as_ref() {
                <div class="error inline" role="alert" data-testid="time-error">{ e.clone() }</div>
            }
            if let Some(t) = props.timing.as_ref() {
                if t.schedule != props.schedule || t.mode != props.mode {
                    <p class="note">{ "Settings changed since this timing — time again for the new schedule." }</p>
                }
                <table class="run-table">
                    <thead><tr><th></th><th>{ format!("median of {}", t.layer.len()) }</th><th>{ "range" }</th></tr></thead>
                    <tbody>
                        { row("layer by layer".into(), "time-layer", &t.layer) }
                        if t.schedule.split.is_some() {
                            { row(format!("this schedule ({})", sched_name(t.schedule)), "time-scheduled", &t.scheduled) }
                        }
                    </tbody>
                </table>
                if t.schedule.split.is_some() {
                    { slowdown(median(&t.layer), median(&t.scheduled), props.overhead_pct, t.schedule == props.schedule && t.mode == props.mode) }
                }
            }
        </div>
    }
}

fn sched_name(s: Sched) -> String {
    match s.split {
        Some(split) => format!("ops 0..={split}, {}×{}", s.grid.0, s.grid.1),
        None => "layer by layer".into(),
    }
}

/// The schedule's time over layer by layer's, next to its MAC overhead.
fn slowdown(layer: f64, scheduled: f64, macs_pct: f64, current: bool) -> Html {
    let pct = if layer > 0.0 { (scheduled / layer - 1.0) * 100.0 } else { 0.0 };
    html! {
        <p class="small" data-testid="time-overhead" data-value={pct.to_string()}>
            { format!("Time under the schedule vs layer by layer: {pct:+.1} %") }
            if current { { format!(" (MACs: {macs_pct:+.1} %)") } }
            { "." }
        </p>
    }
}
