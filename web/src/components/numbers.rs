//! The live numbers of the current schedule (`plan::report`). Each carries its
//! raw value in `data-value` (bytes, MACs, percent) beside the readable text.

use std::rc::Rc;

use yew::prelude::*;

use crate::fmt;
use crate::view::Analysis;

#[derive(Properties, PartialEq)]
pub struct NumbersProps {
    pub analysis: Rc<Analysis>,
    pub budget: usize,
    /// The board whose SRAM is the budget (`None`: custom).
    pub board: Option<&'static str>,
}

#[derive(Properties, PartialEq)]
struct KpiProps {
    label: AttrValue,
    testid: AttrValue,
    value: AttrValue,
    text: AttrValue,
    #[prop_or_default]
    sub: Html,
    #[prop_or_default]
    class: Classes,
}

#[component]
fn Kpi(p: &KpiProps) -> Html {
    html! {
        <div class={classes!("kpi", p.class.clone())}>
            <div class="kpi-label">{ p.label.clone() }</div>
            <div class="kpi-value" data-testid={p.testid.clone()} data-value={p.value.clone()}>{ p.text.clone() }</div>
            <div class="kpi-sub">{ p.sub.clone() }</div>
        </div>
    }
}

#[component]
pub fn Numbers(props: &NumbersProps) -> Html {
    let a = &props.analysis;
    let r = &a.report;
    let fits = r.patch_peak_bytes <= props.budget;
    let layer_fits = r.layer_peak_bytes <= props.budget;
    let target = props.board.map_or_else(|| "the budget".to_string(), str::to_string);
    let sched = match a.schedule.split {
        Some(s) => format!("split {s} · grid {}×{}", a.schedule.grid.0, a.schedule.grid.1),
        None => "layer by layer".into(),
    };
    html! {
        <section class="card numbers">
            <div class="numbers-head">
                <h2>{ "Memory and compute" }</h2>
                <span class="schedule-tag" data-testid="schedule"
                      data-split={a.schedule.split.map_or("none".into(), |s| s.to_string())}
                      data-grid={format!("{}x{}", a.schedule.grid.0, a.schedule.grid.1)}
                      data-mode={if a.report.input_mode == patchwise_core::patch::InputMode::InArena { "sram" } else { "streamed" }}>
                    { sched }
                </span>
                <span class={classes!("fit", if fits { "ok" } else { "bad" })} data-testid="fits" data-value={fits.to_string()}>
                    { if fits { format!("✓ fits {target} ({})", fmt::kib(props.budget)) } else { format!("✗ does not fit {target} ({})", fmt::kib(props.budget)) } }
                </span>
            </div>
            <div class="kpis">
                <Kpi label="Layer-by-layer peak" testid="layer-peak" value={r.layer_peak_bytes.to_string()}
                     text={fmt::bytes(r.layer_peak_bytes)} class={classes!((!layer_fits).then_some("over"))}
                     sub={html!{ <>{ format!("{} B", r.layer_peak_bytes) }{ if layer_fits { "" } else { " · over budget" } }</> }} />
                <Kpi label="Patch-based peak" testid="patch-peak" value={r.patch_peak_bytes.to_string()}
                     text={fmt::bytes(r.patch_peak_bytes)} class={classes!("accent", (!fits).then_some("over"))}
                     sub={html!{ { format!("{} B", r.patch_peak_bytes) } }} />
                <Kpi label="Reduction" testid="reduction" value={r.reduction().to_string()}
                     text={format!("{:.2}×", r.reduction())} sub={html!{ "layer-by-layer ÷ patch-based peak" }} />
                <Kpi label="MACs" testid="macs" value={r.macs.to_string()} text={fmt::count(r.macs)}
                     sub={html!{ { format!("{} layer by layer", fmt::count(r.base_macs)) } }} />
                <Kpi label="Overhead" testid="overhead-pct" value={r.overhead_pct.to_string()} text={fmt::pct(r.overhead_pct)}
                     sub={html!{ <span data-testid="overhead-macs" data-value={r.overhead_macs.to_string()}>{ format!("+{} MACs recomputed in halos", fmt::count(r.overhead_macs)) }</span> }} />
                <Kpi label="Flash (weights)" testid="flash" value={r.flash_bytes.to_string()} text={fmt::bytes(r.flash_bytes)}
                     sub={html!{ { format!("{} B", r.flash_bytes) } }} />
            </div>
        </section>
    }
}
