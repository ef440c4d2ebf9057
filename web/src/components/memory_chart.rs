//! Per-layer memory: arena bytes live while each operator runs, layer by layer
//! (grey) and under the schedule (blue; the patch stage shaded, the halo
//! caches' share of it hatched), with the budget line. Hovering a layer
//! shows its patch regions on the image.

use std::rc::Rc;

use yew::prelude::*;

use super::ticks;
use crate::fmt;
use crate::state::{Action, State};
use crate::view::Analysis;

#[derive(Properties, PartialEq)]
pub struct MemoryChartProps {
    pub analysis: Rc<Analysis>,
    pub budget: usize,
    pub hover: Option<usize>,
    pub dispatch: UseReducerDispatcher<State>,
}

const FRAME: crate::view::Frame =
    crate::view::Frame { w: 960.0, h: 300.0, left: 64.0, right: 118.0, top: 14.0, bottom: 52.0 };

#[component]
pub fn MemoryChart(props: &MemoryChartProps) -> Html {
    let r = &props.analysis.report;
    let n = r.layers.len().max(1);
    let max_live = r.layers.iter().map(|l| l.layer_live_bytes.max(l.scheduled_live_bytes)).max().unwrap_or(0);
    // The scale follows the model; a budget far above it is marked at the top instead of flattening the bars.
    let data_top = r.layer_peak_bytes.max(r.patch_peak_bytes).max(max_live) as f64;
    let budget_on_scale = props.budget as f64 <= data_top * 1.5;
    let top = (if budget_on_scale { data_top.max(props.budget as f64) } else { data_top } * 1.06).max(1.0);
    // The margins under the short names the SVG below uses.
    #[allow(non_snake_case)]
    let crate::view::Frame { w: W, h: H, left: L, right: R, top: T, .. } = FRAME;
    let (pw, ph) = FRAME.plot();
    let bw = pw / n as f64;
    let x = |i: usize| L + i as f64 * bw;
    let y = |v: f64| T + ph - v / top * ph;
    // Runs of operators that run patch by patch: one band per patch stage.
    let mut bands: Vec<(usize, usize)> = Vec::new();
    for i in r.layers.iter().enumerate().filter(|(_, l)| l.in_patch_stage).map(|(i, _)| i) {
        match bands.last_mut() {
            Some(b) if b.1 + 1 == i => b.1 = i,
            _ => bands.push((i, i)),
        }
    }

    let ticks_y = ticks(top, 5);
    // Peak and budget lines, their labels pushed apart when the values are close.
    let mut lines = vec![
        if budget_on_scale {
            (y(props.budget as f64), "budget-line", format!("budget {}", fmt::kib(props.budget)))
        } else {
            (y(top), "budget-line off-scale", format!("budget {} ↑", fmt::kib(props.budget)))
        },
        (y(r.layer_peak_bytes as f64), "peak-line layer", format!("peak {}", fmt::bytes(r.layer_peak_bytes))),
        (y(r.patch_peak_bytes as f64), "peak-line sched", format!("peak {}", fmt::bytes(r.patch_peak_bytes))),
    ];
    if r.patch_peak_bytes == r.layer_peak_bytes {
        lines.remove(2);
    }
    lines.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut label_y: Vec<f64> = Vec::with_capacity(lines.len());
    for (yy, _, _) in &lines {
        let prev = label_y.last().copied().unwrap_or(f64::MIN);
        label_y.push((yy + 4.0).max(prev + 13.0));
    }
    let hlines = lines.iter().zip(&label_y).map(|((yy, class, label), ly)| {
        html! {
            <g class={*class}>
                <line x1={L.to_string()} x2={(W - R).to_string()} y1={yy.to_string()} y2={yy.to_string()} />
                <text x={(W - R + 6.0).to_string()} y={ly.to_string()}>{ label.clone() }</text>
            </g>
        }
    });
    let d = props.dispatch.clone();
    let leave = Callback::from(move |_: MouseEvent| d.dispatch(Action::Hover(None)));
    let hovered = props.hover.and_then(|i| r.layers.get(i));

    html! {
        <section class="card chart-card">
            <div class="card-head">
                <h2>{ "Memory per layer" }</h2>
                <div class="legend">
                    <span class="key layer"></span>{ "layer by layer" }
                    <span class="key sched"></span>{ "this schedule" }
                    <span class="key stage"></span>{ "patch stage" }
                    if r.layers.iter().any(|l| l.cache_live_bytes > 0) {
                        <span class="key cache"></span>{ "halo caches" }
                    }
                    <span class="key budget"></span>{ "budget" }
                </div>
            </div>
            <svg class="chart memory" viewBox={format!("0 0 {W} {H}")} role="img" data-testid="memory-chart"
                 aria-label="Arena bytes live at each operator" onmouseleave={leave}>
                <defs>
                    <pattern id="cache-hatch" width="4" height="4" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
                        <rect width="4" height="4" fill="#99f6e4" />
                        <rect width="2" height="4" fill="#0d9488" />
                    </pattern>
                </defs>
                { for bands.iter().enumerate().map(|(k, &(a, b))| html! {
                    <g data-testid="stage-band">
                        <rect class="stage-band" x={x(a).to_string()} y={T.to_string()} width={(bw * (b + 1 - a) as f64).to_string()} height={ph.to_string()} />
                        <text class="stage-label" x={(x(a) + 4.0).to_string()} y={(T + 12.0).to_string()}>
                            { if bands.len() == 1 { "patch stage".to_string() } else { format!("stage {}", k + 1) } }
                        </text>
                    </g>
                }) }
                { for ticks_y.iter().map(|&v| html! {
                    <g class="tick">
                        <line x1={L.to_string()} x2={(W - R).to_string()} y1={y(v).to_string()} y2={y(v).to_string()} />
                        <text x={(L - 6.0).to_string()} y={(y(v) + 4.0).to_string()} text-anchor="end">{ fmt::bytes_tick(v) }</text>
                    </g>
                }) }
                { for r.layers.iter().enumerate().map(|(i, l)| {
                    let hot = props.hover == Some(i);
                    let lx = x(i) + bw * 0.08;
                    let lw = (bw * 0.84).max(0.5);
                    let sx = x(i) + bw * 0.25;
                    let sw = (bw * 0.5).max(0.5);
                    let d = props.dispatch.clone();
                    let enter = Callback::from(move |_: MouseEvent| d.dispatch(Action::Hover(Some(i))));
                    html! {
                        <g class={classes!("bar", hot.then_some("hot"), l.in_patch_stage.then_some("in-stage"))} onmouseenter={enter}>
                            <rect class="hit" x={x(i).to_string()} y={T.to_string()} width={bw.to_string()} height={ph.to_string()} />
                            <rect class="layer" x={lx.to_string()} y={y(l.layer_live_bytes as f64).to_string()}
                                  width={lw.to_string()} height={(T + ph - y(l.layer_live_bytes as f64)).to_string()} />
                            <rect class="sched" x={sx.to_string()} y={y(l.scheduled_live_bytes as f64).to_string()}
                                  width={sw.to_string()} height={(T + ph - y(l.scheduled_live_bytes as f64)).to_string()} />
                            if l.cache_live_bytes > 0 {
                                <rect class="cache" x={sx.to_string()} y={y(l.cache_live_bytes as f64).to_string()}
                                      width={sw.to_string()} height={(T + ph - y(l.cache_live_bytes as f64)).to_string()}
                                      data-bytes={l.cache_live_bytes.to_string()} />
                            }
                            <title>{ format!("op {i} {} → {}\nlayer by layer: {}\nthis schedule: {}{}", l.op, fmt::shape(&l.output_shape),
                                fmt::bytes(l.layer_live_bytes), fmt::bytes(l.scheduled_live_bytes),
                                if l.cache_live_bytes > 0 { format!(" (halo caches {})", fmt::bytes(l.cache_live_bytes)) } else { String::new() }) }</title>
                        </g>
                    }
                }) }
                { for hlines }
                <line class="axis" x1={L.to_string()} x2={(W - R).to_string()} y1={(T + ph).to_string()} y2={(T + ph).to_string()} />
                { for (0..n).filter(|i| i % ticks_every(n) == 0).map(|i| html! {
                    <text class="xtick" x={(x(i) + bw / 2.0).to_string()} y={(T + ph + 14.0).to_string()} text-anchor="middle">{ i }</text>
                }) }
                // Stages: runs of operators at one output resolution.
                { for r.stages.iter().enumerate().map(|(k, st)| {
                    let (x0, x1) = (x(st.first) + 1.0, x(st.last + 1) - 1.0);
                    let label = if st.resolution == (1, 1) { "head".to_string() } else { format!("{}×{}", st.resolution.1, st.resolution.0) };
                    let wide = x1 - x0 > label.len() as f64 * 6.0;
                    html! {
                        <g class={classes!("stage", if k % 2 == 0 { "even" } else { "odd" })}>
                            <rect x={x0.to_string()} y={(T + ph + 20.0).to_string()} width={(x1 - x0).max(0.5).to_string()} height="14" rx="2" />
                            if wide {
                                <text x={((x0 + x1) / 2.0).to_string()} y={(T + ph + 30.5).to_string()} text-anchor="middle">{ label.clone() }</text>
                            }
                            <title>{ format!("ops {}–{} at {label}: {} MACs, up to {} live", st.first, st.last, fmt::count(st.macs), fmt::bytes(st.layer_peak_bytes)) }</title>
                        </g>
                    }
                }) }
                <text class="axis-label" x={(W - R + 6.0).to_string()} y={(T + ph + 14.0).to_string()}>{ "operator" }</text>
                <text class="axis-label" x={(W - R + 6.0).to_string()} y={(T + ph + 31.0).to_string()}>{ "resolution" }</text>
            </svg>
            <div class="chart-caption" data-testid="hover-info">
                { match hovered {
                    Some(l) => html! { <>
                        <strong>{ format!("op {} · {} → {}", l.index, l.op, fmt::shape(&l.output_shape)) }</strong>
                        { format!(" — layer by layer {}, this schedule {}{}; {} MACs{}", fmt::bytes(l.layer_live_bytes),
                            fmt::bytes(l.scheduled_live_bytes),
                            if l.cache_live_bytes > 0 { format!(" of which halo caches {}", fmt::bytes(l.cache_live_bytes)) } else { String::new() },
                            fmt::count(l.scheduled_macs),
                            if l.in_patch_stage { " (in the patch stage: its patch regions are drawn on the image)" } else { "" }) }
                    </> },
                    None => html! { "Hover a layer to see its numbers and, in the patch stage, each patch's region of its output." },
                } }
            </div>
        </section>
    }
}

fn ticks_every(n: usize) -> usize {
    match n {
        0..=20 => 1,
        21..=60 => 5,
        _ => 10,
    }
}
