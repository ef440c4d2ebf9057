//! The schedule search: every split × grid as peak SRAM vs MACs, coloured by
//! halo family (recompute, cache, per-layer mixtures), the chosen family's
//! Pareto front joined and the other families' fronts dashed, the current
//! schedule ringed. Once the worker has searched later patch stages, their
//! schedules join the chosen family's (the front then weighs one and several
//! stages together, as `plan --then auto`). Click a point to apply it.

use std::rc::Rc;

use yew::prelude::*;

use super::{ticks, ticks_between};
use crate::fmt;
use crate::proto::{Cand, Sched, SearchOut};
use crate::state::{Action, State};
use patchwise_core::patch::Halo;
use patchwise_core::plan::HaloChoice;

#[derive(Properties, PartialEq)]
pub struct ParetoChartProps {
    pub search: Option<Rc<SearchOut>>,
    pub current: Sched,
    pub current_peak: usize,
    pub current_macs: u64,
    pub budget: usize,
    pub searching: bool,
    /// The halo family whose front is joined (and the Auto button's).
    pub halo_choice: HaloChoice,
    /// Several-stage schedules the later-stage search tried (none before it runs).
    #[prop_or_default]
    pub stages: Option<Rc<Vec<Cand>>>,
    pub dispatch: UseReducerDispatcher<State>,
}

const FRAME: crate::view::Frame =
    crate::view::Frame { w: 520.0, h: 340.0, left: 70.0, right: 16.0, top: 16.0, bottom: 42.0 };

fn label(s: &Sched) -> String {
    match s.split {
        Some(sp) => {
            let mut text = format!("split {sp}, grid {}×{}", s.grid.0, s.grid.1);
            if s.halo != Halo::Recompute {
                text += &format!(", {}", s.halo.label());
            }
            for st in s.later.iter() {
                text += &format!("; then ops {}..={}, {}×{}", st.first, st.last, st.grid.0, st.grid.1);
                if st.halo != Halo::Recompute {
                    text += &format!(", {}", st.halo.label());
                }
            }
            text
        }
        None => "layer by layer".into(),
    }
}

/// The family class of a schedule's point.
fn family_class(s: &Sched) -> &'static str {
    match s.halo {
        _ if s.split.is_none() => "layers-only",
        _ if !s.later.is_empty() => "stages",
        Halo::Recompute => "recompute",
        Halo::Cache => "cached",
        Halo::Layers(_) => "per-layer",
    }
}

const FAMILIES: [(HaloChoice, &str, &str); 3] = [
    (HaloChoice::Recompute, "recompute", "recompute (MCUNetV2)"),
    (HaloChoice::Cache, "cached", "cache halos"),
    (HaloChoice::Auto, "per-layer", "every family, per-layer mixtures included"),
];

#[component]
pub fn ParetoChart(props: &ParetoChartProps) -> Html {
    let Some(search) = props.search.as_ref() else {
        return html! {
            <section class="card chart-card">
                <div class="card-head"><h2>{ "Schedule search" }</h2></div>
                <div class="placeholder">{ if props.searching { "searching every split × grid in the worker…" } else { "no search: it was cancelled (search again from the status line)" } }</div>
            </section>
        };
    };
    let stages: &[Cand] = props.stages.as_deref().map_or(&[], |v| v.as_slice());
    let all: Vec<Cand> = search.candidates.iter().chain(stages).copied().collect();
    let chosen = search.family(props.halo_choice);
    let joined: Vec<Cand> = chosen.candidates.iter().chain(stages).copied().collect();
    let front = &patchwise_core::plan::pareto_front(&joined);
    // The other families' fronts, once the worker has weighed them.
    let others: Vec<(&str, &str, Vec<Cand>)> = if search.families {
        FAMILIES
            .iter()
            .filter(|(c, ..)| *c != props.halo_choice)
            .map(|&(c, class, name)| (class, name, search.family(c).pareto))
            .collect()
    } else {
        Vec::new()
    };
    // The axes cover the Pareto front, layer by layer and the budget; dominated
    // schedules beyond them are clipped (and counted in the caption).
    let fmax = |f: fn(&Cand) -> f64| front.iter().map(f).fold(0.0, f64::max);
    let xmax = fmax(|c| c.peak_bytes as f64)
        .max(search.layer_peak_bytes as f64)
        .max((props.budget as f64).min(search.layer_peak_bytes as f64 * 1.5))
        .max(props.current_peak as f64)
        * 1.08;
    let ymin = all.iter().map(|c| c.macs).min().unwrap_or(0) as f64;
    let ymax = fmax(|c| c.macs as f64).max(props.current_macs as f64);
    let pad = ((ymax - ymin) * 0.08).max(ymin * 0.02).max(1.0);
    let (ylo, yhi) = ((ymin - pad).max(0.0), ymax + pad);
    let off_chart = all.iter().filter(|c| c.peak_bytes as f64 > xmax || c.macs as f64 > yhi).count();
    // The margins under the short names the SVG below uses.
    #[allow(non_snake_case)]
    let crate::view::Frame { w: W, h: H, left: L, right: R, top: T, .. } = FRAME;
    let (pw, ph) = FRAME.plot();
    let x = |v: f64| L + v / xmax * pw;
    let y = |v: f64| T + ph - (v - ylo) / (yhi - ylo) * ph;
    let path_of = |front: &[Cand]| {
        front
            .iter()
            .enumerate()
            .map(|(i, c)| {
                format!("{}{:.1},{:.1}", if i == 0 { "M" } else { "L" }, x(c.peak_bytes as f64), y(c.macs as f64))
            })
            .collect::<String>()
    };
    let path = path_of(front);
    let point = |c: &Cand, front: bool| {
        let d = props.dispatch.clone();
        let s = c.schedule;
        let onclick = Callback::from(move |_: MouseEvent| d.dispatch(Action::Apply(s)));
        // The Pareto points are in the tab order (Enter or Space applies one); the thousands of others are not.
        let d = props.dispatch.clone();
        let onkeydown = Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Enter" || e.key() == " " {
                e.prevent_default();
                d.dispatch(Action::Apply(s));
            }
        });
        let fits = c.peak_bytes <= props.budget;
        let name = format!("{}: peak {}, {} MACs", label(&c.schedule), fmt::bytes(c.peak_bytes), fmt::count(c.macs));
        html! {
            <circle class={classes!(if front { "front" } else { "cand" }, family_class(&c.schedule), (!fits).then_some("over"))}
                    cx={format!("{:.1}", x(c.peak_bytes as f64))} cy={format!("{:.1}", y(c.macs as f64))}
                    r={if front { "4.5" } else { "2.2" }} {onclick}
                    tabindex={front.then_some("0")} role={front.then_some("button")} aria-label={front.then_some(name)}
                    onkeydown={front.then_some(onkeydown)}
                    data-split={c.schedule.split.map_or_else(|| "none".to_string(), |s| s.to_string())}
                    data-grid={format!("{}x{}", c.schedule.grid.0, c.schedule.grid.1)}
                    data-halo={c.schedule.halo.to_string()} data-stages={(c.schedule.later.len() + 1).to_string()}>
                <title>{ format!("{}\npeak {} · {} MACs{}", label(&c.schedule), fmt::bytes(c.peak_bytes), fmt::count(c.macs),
                                 if front { " (Pareto-optimal)" } else { "" }) }</title>
            </circle>
        }
    };
    let bx = x(props.budget as f64);
    let xt = ticks(xmax, 5);
    let yt = ticks_between(ylo, yhi, 4);
    html! {
        <section class="card chart-card" data-testid="search-card" data-millis={format!("{:.0}", search.millis)} data-families={search.families.to_string()} data-schedules={all.len().to_string()}>
            <div class="card-head">
                <h2>{ "Schedule search" }</h2>
                <span class="muted small">{ format!("{} schedules searched in {} · {} on the Pareto front{} · click a point to apply it",
                    all.len(), fmt::millis(search.millis), front.len(),
                    if off_chart > 0 { format!(" · {off_chart} dominated ones off the chart") } else { String::new() }) }</span>
            </div>
            <svg class="chart pareto" viewBox={format!("0 0 {W} {H}")} role="group" data-testid="pareto-chart"
                 aria-label="Peak SRAM against MACs for every schedule">
                { for xt.iter().map(|&v| html! {
                    <g class="tick">
                        <line x1={x(v).to_string()} x2={x(v).to_string()} y1={T.to_string()} y2={(T + ph).to_string()} />
                        <text x={x(v).to_string()} y={(T + ph + 14.0).to_string()} text-anchor="middle">{ fmt::bytes_tick(v) }</text>
                    </g>
                }) }
                { for yt.iter().map(|&v| html! {
                    <g class="tick">
                        <line x1={L.to_string()} x2={(W - R).to_string()} y1={y(v).to_string()} y2={y(v).to_string()} />
                        <text x={(L - 6.0).to_string()} y={(y(v) + 4.0).to_string()} text-anchor="end">{ fmt::count_tick(v) }</text>
                    </g>
                }) }
                if bx <= W - R {
                    <g class="budget-line">
                        <line x1={bx.to_string()} x2={bx.to_string()} y1={T.to_string()} y2={(T + ph).to_string()} />
                        <text x={(bx - 4.0).to_string()} y={(T + 10.0).to_string()} text-anchor="end">{ "budget" }</text>
                    </g>
                }
                <defs>
                    <clipPath id="pareto-plot"><rect x={L.to_string()} y={T.to_string()} width={pw.to_string()} height={ph.to_string()} /></clipPath>
                </defs>
                <g clip-path="url(#pareto-plot)">
                    { for all.iter().filter(|c| c.peak_bytes as f64 <= xmax && c.macs as f64 <= yhi).map(|c| point(c, false)) }
                    { for others.iter().map(|(class, _, f)| html! {
                        <g class={classes!("alt-front", *class)}>
                            <path class="front-line" d={path_of(f)} />
                            { for f.iter().filter(|c| c.peak_bytes as f64 <= xmax && c.macs as f64 <= yhi).map(|c| point(c, false)) }
                        </g>
                    }) }
                    <path class="front-line" d={path} />
                    { for front.iter().map(|c| point(c, true)) }
                </g>
                <line class="axis" x1={L.to_string()} x2={(W - R).to_string()} y1={(T + ph).to_string()} y2={(T + ph).to_string()} />
                <line class="axis" x1={L.to_string()} x2={L.to_string()} y1={T.to_string()} y2={(T + ph).to_string()} />
                <circle class="current" cx={format!("{:.1}", x(props.current_peak as f64))}
                        cy={format!("{:.1}", y(props.current_macs as f64))} r="8">
                    <title>{ format!("current: {}", label(&props.current)) }</title>
                </circle>
                <text class="axis-label" x={(L + pw / 2.0).to_string()} y={(H - 6.0).to_string()} text-anchor="middle">{ "peak SRAM" }</text>
                <text class="axis-label" transform={format!("translate(14 {}) rotate(-90)", T + ph / 2.0)} text-anchor="middle">{ "MACs" }</text>
            </svg>
            <div class="family-legend small" data-testid="pareto-legend">
                { for FAMILIES.iter().map(|&(c, class, name)| html! {
                    <span class={classes!("fam", class, (c == props.halo_choice).then_some("chosen"))}>
                        <i aria-hidden="true"></i>
                        { if c == props.halo_choice { format!("{name} (front joined)") } else { name.to_string() } }
                    </span>
                }) }
                if !stages.is_empty() {
                    <span class="fam stages chosen" data-testid="legend-stages"><i aria-hidden="true"></i>
                        { format!("several patch stages ({} tried, on the joined front)", stages.len()) }</span>
                }
                if !search.families {
                    <span class="muted">{ "cached and per-layer families: weighing in the worker…" }</span>
                }
            </div>
        </section>
    }
}
