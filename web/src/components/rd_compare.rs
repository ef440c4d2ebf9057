//! Receptive-field redistribution side by side: each network's best schedule
//! for the budget first (always a schedule of both), then the two networks
//! under the same schedule request (what `patchwise plan MODEL --rd` prints
//! as `without_rd`), and the architecture change itself.

use std::rc::Rc;

use patchwise_core::plan::{self, Report};
use patchwise_core::spec::{self, ArchSpec, BlockGroup};
use yew::prelude::*;

use crate::fmt;
use crate::proto::{Sched, SearchOut};
use crate::state::{Action, Model, Origin, State};
use crate::view::{self, Analysis};

#[derive(Properties, PartialEq)]
pub struct RdCompareProps {
    /// The model without RD.
    pub base: Rc<Model>,
    /// Its RD variant (the model analysed).
    pub rd_model: Rc<Model>,
    /// The RD variant's report under the current schedule.
    pub analysis: Rc<Analysis>,
    pub base_search: Option<Rc<SearchOut>>,
    pub rd_search: Option<Rc<SearchOut>>,
    pub budget: usize,
    /// The halo family the best schedules come from (the page's choice).
    pub halo_choice: patchwise_core::plan::HaloChoice,
    pub board: Option<&'static str>,
    /// The searches were cancelled (no best schedule to show until they run again).
    #[prop_or_default]
    pub cancelled: bool,
    pub dispatch: UseReducerDispatcher<State>,
}

fn sched_text(s: Sched) -> String {
    match s.split {
        Some(k) => format!("split {k} · {}×{}", s.grid.0, s.grid.1),
        None => "layer by layer".into(),
    }
}

/// `after` relative to `before`: `"−12.3 %"`.
fn change(before: f64, after: f64) -> String {
    if before == 0.0 {
        return String::new();
    }
    let p = (after - before) * 100.0 / before;
    if p.abs() < 0.05 {
        "same".into()
    } else {
        format!("{}{:.1} %", if p < 0.0 { "−" } else { "+" }, p.abs())
    }
}

fn schedule_cell(testid: String, g: &Model, s: Sched) -> Html {
    html! {
        <td data-testid={testid} data-split={s.split.map_or("none".into(), |k| k.to_string())}
            data-grid={format!("{}x{}", s.grid.0, s.grid.1)}>
            <div>{ sched_text(s) }</div>
            if let Some(k) = s.split {
                <div class="muted small">{ format!("ends at {}", view::op_label(&g.graph, k)) }</div>
            }
        </td>
    }
}

/// Rows for one comparison: schedule, layer peak, patch peak, MACs, overhead.
/// `fix`: shown under an error in the without-RD column. `budgeted`: both
/// schedules were chosen for the fewest MACs within the budget, so a higher
/// patch peak is not worse (it is what buys the MACs) and is not coloured.
fn rows(
    prefix: &str,
    base: &Model,
    rd: &Model,
    before: &Result<Report, String>,
    after: &Result<Report, String>,
    fix: Html,
    budgeted: bool,
) -> Html {
    let err_row = |e: &str, which: &str| {
        let fix_applies = which == "before" && !budgeted;
        html! {
            <td class="muted small" data-testid={format!("{prefix}-{which}-error")} data-error={e.to_string()}>
                { if fix_applies { format!("this split ends no patch stage of the network without RD ({e}); `plan --rd` refuses the same request") } else { e.to_string() } }
                if fix_applies { { fix.clone() } }
            </td>
        }
    };
    let metric = |label: &str, id: &str, get: &dyn Fn(&Report) -> (String, String, f64), pp: bool| {
        let cell = |which: &str, r: &Result<Report, String>| match r {
            Ok(r) => {
                let (value, text, _) = get(r);
                html! { <td data-testid={format!("{prefix}-{which}-{id}")} data-value={value}>{ text }</td> }
            }
            Err(_) => html! { <td class="muted">{ "—" }</td> },
        };
        let delta = match (before, after) {
            (Ok(b), Ok(a)) => {
                let (b, a) = (get(b).2, get(a).2);
                let better = a < b;
                let text = if pp {
                    let d = a - b;
                    if d.abs() < 0.005 {
                        "same".into()
                    } else {
                        format!("{}{:.2} pp", if d < 0.0 { "−" } else { "+" }, d.abs())
                    }
                } else {
                    change(b, a)
                };
                let neutral = budgeted && id == "patch-peak";
                let class = if neutral {
                    ""
                } else if better {
                    "better"
                } else if a > b {
                    "worse"
                } else {
                    ""
                };
                html! {
                    <td class={classes!("delta", class)} title={neutral.then_some("both within the budget")}>
                        { text }
                        if neutral && a > b { <span class="muted small">{ " (within budget)" }</span> }
                    </td>
                }
            }
            _ => html! { <td></td> },
        };
        html! { <tr><th scope="row">{ label.to_string() }</th>{ cell("before", before) }{ cell("after", after) }{ delta }</tr> }
    };
    html! {
        <>
            <tr>
                <th scope="row">{ "schedule" }</th>
                { match before { Ok(r) => schedule_cell(format!("{prefix}-before-schedule"), base, r.schedule.into()), Err(e) => err_row(e, "before") } }
                { match after { Ok(r) => schedule_cell(format!("{prefix}-after-schedule"), rd, r.schedule.into()), Err(e) => err_row(e, "after") } }
                <td></td>
            </tr>
            { metric("layer-by-layer peak", "layer-peak", &|r| (r.layer_peak_bytes.to_string(), fmt::bytes(r.layer_peak_bytes), r.layer_peak_bytes as f64), false) }
            { metric("patch-based peak", "patch-peak", &|r| (r.patch_peak_bytes.to_string(), fmt::bytes(r.patch_peak_bytes), r.patch_peak_bytes as f64), false) }
            { metric("MACs", "macs", &|r| (r.macs.to_string(), fmt::count(r.macs), r.macs as f64), false) }
            { metric("overhead (halo MACs)", "overhead-pct", &|r| (r.overhead_pct.to_string(), fmt::pct(r.overhead_pct), r.overhead_pct), true) }
        </>
    }
}

/// The block groups before and after RD, changed cells marked.
fn arch_table(before: &ArchSpec, after: &ArchSpec) -> Html {
    if before.blocks.len() != after.blocks.len() {
        return html! {};
    }
    let cells = |g: &BlockGroup, o: &BlockGroup| {
        let c = |v: usize, w: usize, text: String| html! { <td class={classes!((v != w).then_some("changed"))}>{ text }</td> };
        html! {
            <>
                { c(g.kernel, o.kernel, format!("{}×{}", g.kernel, g.kernel)) }
                { c(g.repeat, o.repeat, g.repeat.to_string()) }
            </>
        }
    };
    html! {
        <table class="arch-table" data-testid="rd-arch">
            <thead>
                <tr><th rowspan="2">{ "group" }</th><th rowspan="2">{ "expansion · channels · stride" }</th>
                    <th colspan="2">{ "without RD" }</th><th colspan="2">{ "with RD" }</th></tr>
                <tr><th>{ "kernel" }</th><th>{ "blocks" }</th><th>{ "kernel" }</th><th>{ "blocks" }</th></tr>
            </thead>
            <tbody>
                { for before.blocks.iter().zip(&after.blocks).enumerate().map(|(i, (b, a))| {
                    let stage = i < spec::DEFAULT_RD_STAGE_GROUPS;
                    html! {
                        <tr class={classes!(stage.then_some("rd-stage"))}>
                            <th scope="row">{ i }{ if stage { html! { <span class="tag">{ "patch stage" }</span> } } else if i == spec::DEFAULT_RD_STAGE_GROUPS { html! { <span class="tag later">{ "gains" }</span> } } else { html! {} } }</th>
                            <td class="muted">{ format!("{} · {} · {}", b.expansion, before.channels(b.out_channels), b.stride) }</td>
                            { cells(b, a) }
                            { cells(a, b) }
                        </tr>
                    }
                }) }
            </tbody>
        </table>
    }
}

#[component]
pub fn RdCompare(props: &RdCompareProps) -> Html {
    let a = &props.analysis;
    let sched = a.schedule;
    let mode = a.mode;
    let before = {
        let base = props.base.clone();
        use_memo((props.base.id, sched, mode), move |&(_, sched, mode)| {
            plan::report(&base.graph, sched.into(), mode.into()).map_err(|e| e.to_string())
        })
    };
    let after: Result<Report, String> = Ok(a.report.clone());
    let best =
        {
            let (base, rd) = (props.base.clone(), props.rd_model.clone());
            let (bs, rs) = (props.base_search.clone(), props.rd_search.clone());
            let families = |s: &Option<Rc<SearchOut>>| s.as_ref().map(|s| s.families);
            use_memo(
                (props.base.id, props.rd_model.id, mode, props.budget, families(&bs), families(&rs), props.halo_choice),
                move |&(_, _, mode, budget, _, _, choice)| {
                    let best =
                        |g: &Model, s: &Option<Rc<SearchOut>>| -> Option<Result<Report, String>> {
                            let s = s.as_ref()?;
                            Some(s.family(choice).to_core().best_within(budget).map_err(|e| e.to_string()).and_then(
                                |c| plan::report(&g.graph, c.schedule, mode.into()).map_err(|e| e.to_string()),
                            ))
                        };
                    (best(&base, &bs), best(&rd, &rs))
                },
            )
        };
    // When the split is no patch stage of the network without RD: the nearest split that is one of both.
    let fix = match (sched.split, before.as_ref()) {
        (Some(k), Err(_)) => {
            let common = props.rd_model.splits.iter().copied().filter(|s| props.base.splits.contains(s));
            match common.min_by_key(|&s| (s.abs_diff(k), s)) {
                Some(c) => {
                    let d = props.dispatch.clone();
                    let onclick = Callback::from(move |_: MouseEvent| d.dispatch(Action::SetSplit(Some(c))));
                    html! {
                        <div><button class="button small-button" data-testid="rd-common-split" {onclick}>
                            { format!("use split {c} (a patch stage of both)") }
                        </button></div>
                    }
                }
                None => html! {},
            }
        }
        _ => html! {},
    };
    let what_if = props.rd_model.origin == (Origin::Rd { what_if: true });
    let before_spec = props.base.spec.as_deref().cloned().or_else(|| spec::infer(&props.base.graph).ok());
    let target = props.board.map_or_else(|| "the budget".to_string(), str::to_string);

    html! {
        <section class="card rd-card" data-testid="rd-compare">
            <div class="card-head">
                <h2>{ "Receptive-field redistribution, side by side" }</h2>
                if what_if {
                    <span class="what-if-tag" data-testid="rd-compare-what-if">{ "what if: the weights would have to be retrained" }</span>
                }
            </div>
            <div class="wide-scroll"><table class="rd-table">
                <colgroup><col class="c-label" /><col class="c-side" /><col class="c-side" /><col class="c-change" /></colgroup>
                <thead>
                    <tr><th></th>
                        <th>{ "without RD" }<div class="muted small">{ props.base.name.clone() }</div></th>
                        <th>{ "with RD" }<div class="muted small">{ props.rd_model.name.clone() }</div></th>
                        <th>{ "change" }</th></tr>
                </thead>
                <tbody>
                    <tr class="section"><th colspan="4">
                        { format!("Each network's fewest-MACs schedule within {target} ({}) ", fmt::kib(props.budget)) }
                        <span class="muted small">{ "— as `patchwise plan MODEL --rd --board B`" }</span>
                    </th></tr>
                    { match &*best {
                        (Some(b), Some(r)) => rows("rd-best", &props.base, &props.rd_model, b, r, html! {}, true),
                        _ if props.cancelled => html! { <tr><td colspan="4" class="muted small">{ "the search was cancelled: search again from the status line" }</td></tr> },
                        _ => html! { <tr><td colspan="4" class="muted small">{ "searching both networks in the worker…" }</td></tr> },
                    } }
                    <tr class="section"><th colspan="4">
                        { format!("This schedule on both networks ({}) ", sched_text(sched)) }
                        <span class="muted small">{ "— the same request, as `patchwise plan MODEL --rd --split S --grid R×C`; the split is an operator index, so it can end the patch stage at a different layer in each network" }</span>
                    </th></tr>
                    { rows("rd", &props.base, &props.rd_model, &before, &after, fix, false) }
                </tbody>
            </table></div>
            if let (Some(b), Some(r)) = (before_spec.as_ref(), props.rd_model.spec.as_deref()) {
                <details class="hint" open=true>
                    <summary>{ "What RD changed in the architecture" }</summary>
                    <div class="hint-body">
                        <div class="wide-scroll">{ arch_table(b, r) }</div>
                        <p class="small muted">{ format!(
                            "The patch stage RD assumes is the first conv and the first {} block groups (the layers at 1/2, 1/4 and 1/8 \
                             resolution): their depthwise kernels become 3×3 and each loses a block; the next group takes the blocks, \
                             with a kernel of at least 5×5. Same depth, same classifier; weights synthetic.", spec::DEFAULT_RD_STAGE_GROUPS) }</p>
                    </div>
                </details>
            }
            if what_if {
                <p class="what-if on small" data-testid="rd-note">{ crate::models::WHAT_IF }</p>
            }
        </section>
    }
}
