//! The live numbers of the current schedule (`plan::report`). Each carries its
//! raw value in `data-value` (bytes, MACs, percent) beside the readable text.

use std::rc::Rc;

use yew::prelude::*;

use patchwise_core::fit::FlashFit;
use patchwise_core::plan::document::LATENCY_BASIS;

use crate::fmt;
use crate::view::Analysis;

#[derive(Properties, PartialEq)]
pub struct NumbersProps {
    pub analysis: Rc<Analysis>,
    pub budget: usize,
    /// The board whose SRAM is the budget (`None`: custom).
    pub board: Option<&'static str>,
    /// The model's flash on the board.
    pub flash: Option<FlashFit>,
    /// The first search is under way: the schedule shown is provisional (layer by layer).
    pub searching: bool,
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
    let sram_fits = r.patch_peak_bytes <= props.budget;
    let flash_fits = props.flash.is_none_or(|f| f.fits());
    let fits = sram_fits && flash_fits;
    let layer_fits = r.layer_peak_bytes <= props.budget;
    let target = props.board.map_or_else(|| "the budget".to_string(), str::to_string);
    let sched = match a.schedule.split {
        Some(s) => {
            format!(
                "split {s} · grid {}×{}{}",
                a.schedule.grid.0,
                a.schedule.grid.1,
                match a.schedule.halo {
                    patchwise_core::patch::Halo::Recompute => String::new(),
                    h => format!(" · {}", h.label()),
                }
            ) + &a
                .schedule
                .later
                .iter()
                .map(|st| format!(" + ops {}..={} · {}×{}", st.first, st.last, st.grid.0, st.grid.1))
                .collect::<String>()
        }
        None => "layer by layer".into(),
    };
    html! {
        <section class="card numbers">
            <div class="numbers-head">
                <h2>{ "Memory and compute" }</h2>
                <span class="schedule-tag" data-testid="schedule"
                      data-split={a.schedule.split.map_or("none".into(), |s| s.to_string())}
                      data-grid={format!("{}x{}", a.schedule.grid.0, a.schedule.grid.1)}
                      data-mode={if a.report.input_mode == patchwise_core::patch::InputMode::InArena { "sram" } else { "streamed" }}
                      data-halo={a.schedule.halo.to_string()} data-later={a.schedule.later.len().to_string()}>
                    { sched }
                </span>
                <span class={classes!("fit", if fits { "ok" } else { "bad" })} data-testid="fits" data-value={fits.to_string()}
                      data-sram={sram_fits.to_string()} data-flash={flash_fits.to_string()}
                      title={props.flash.map(|f| format!("flash: about {} of {} ({})", fmt::bytes(f.estimate()), fmt::bytes(f.flash), f.breakdown()))}>
                    { fit_text(&target, props.budget, sram_fits, props.flash) }
                </span>
            </div>
            <div class="kpis">
                <Kpi label="Layer-by-layer peak" testid="layer-peak" value={r.layer_peak_bytes.to_string()}
                     text={fmt::bytes(r.layer_peak_bytes)} class={classes!((!layer_fits).then_some("over"))}
                     sub={html!{ <>{ format!("{} B", r.layer_peak_bytes) }{ if layer_fits { "" } else { " · over budget" } }</> }} />
                <Kpi label="Patch-based peak" testid="patch-peak" value={r.patch_peak_bytes.to_string()}
                     text={fmt::bytes(r.patch_peak_bytes)} class={classes!("accent", (!sram_fits).then_some("over"))}
                     sub={html!{ if props.searching {
                         <span data-testid="searching-schedule"><span class="spinner small" aria-hidden="true"></span>{ " searching for the best schedule…" }</span>
                     } else { { format!("{} B", r.patch_peak_bytes) } } }} />
                <Kpi label="Reduction" testid="reduction" value={r.reduction().to_string()}
                     text={format!("{:.2}×", r.reduction())} sub={html!{ "layer-by-layer ÷ patch-based peak" }} />
                <Kpi label="MACs" testid="macs" value={r.macs.to_string()} text={fmt::count(r.macs)}
                     sub={html!{ { format!("{} layer by layer", fmt::count(r.base_macs)) } }} />
                <Kpi label="Overhead" testid="overhead-pct" value={r.overhead_pct.to_string()} text={fmt::pct(r.overhead_pct)}
                     sub={html!{ <span data-testid="overhead-macs" data-value={r.overhead_macs.to_string()}>{ format!("+{} MACs recomputed in halos", fmt::count(r.overhead_macs)) }</span> }} />
                { latency_kpi(a, props.board) }
                <Kpi label="Flash (weights)" testid="flash" value={r.flash_bytes.to_string()} text={fmt::bytes(r.flash_bytes)}
                     class={classes!((!flash_fits).then_some("over"))}
                     sub={html!{ <span data-testid="flash-estimate" data-value={props.flash.map(|f| f.estimate().to_string())}>{
                         match props.flash {
                             Some(f) => format!("firmware about {} of {}", fmt::bytes(f.estimate()), fmt::bytes(f.flash)),
                             None => format!("{} B", r.flash_bytes),
                         }
                     }</span> }} />
            </div>
        </section>
    }
}

/// The estimated time on the board (or the STM32F746 under a custom budget).
fn latency_kpi(a: &Analysis, board: Option<&str>) -> Html {
    match a.board_latency(board) {
        Ok(b) => {
            let rough = a
                .latency
                .as_ref()
                .filter(|l| !l.unmeasured_ops.is_empty())
                .map_or(String::new(), |l| format!(" · rough: {} not measured", l.unmeasured_ops.join(", ")));
            html! {
                <Kpi label="Latency (estimate)" testid="latency" value={format!("{:.3}", b.ms)} text={fmt::millis(b.ms)}
                     sub={html!{ <span title={LATENCY_BASIS} data-testid="latency-basis">{ format!(
                         "on {} at {} MHz, from instruction counts · {} layer by layer{rough}",
                         b.board, b.clock_mhz, fmt::millis(b.layer_by_layer_ms)) }</span> }} />
            }
        }
        Err(e) => html! {
            <Kpi label="Latency (estimate)" testid="latency" value="" text="—" sub={html!{ e }} />
        },
    }
}

/// The board badge: SRAM (the schedule's peak against the budget) and flash
/// (weights, tables and code against the board's).
fn fit_text(target: &str, budget: usize, sram_fits: bool, flash: Option<FlashFit>) -> String {
    match (sram_fits, flash) {
        (true, Some(f)) if f.fits() => {
            format!("✓ fits {target} ({} SRAM, {} flash)", fmt::kib(budget), fmt::bytes(f.flash))
        }
        (true, None) => format!("✓ fits {target} ({})", fmt::kib(budget)),
        (true, Some(f)) => format!(
            "✗ flash: the firmware needs about {}, {target} has {}",
            fmt::bytes(f.estimate()),
            fmt::bytes(f.flash)
        ),
        (false, Some(f)) if !f.fits() => format!(
            "✗ does not fit {target}: SRAM ({}) and flash (about {} of {})",
            fmt::kib(budget),
            fmt::bytes(f.estimate()),
            fmt::bytes(f.flash)
        ),
        (false, _) => format!("✗ does not fit {target} ({})", fmt::kib(budget)),
    }
}
