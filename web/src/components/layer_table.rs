//! Every operator in a table — output shape, live bytes layer by layer and
//! under the schedule, MACs, weight bytes, patch stage — sortable by any
//! column and linked both ways with the memory chart (hover or focus a row,
//! a bar lights up; hover a bar, its row does). The keyboard equivalent of
//! the chart, like STM32Cube.AI's analyze report or TFLM's arena report.

use std::rc::Rc;

use yew::prelude::*;

use crate::fmt;
use crate::state::{Action, Model, State};
use crate::view::{self, Analysis, LayerCol};

#[derive(Properties, PartialEq)]
pub struct LayerTableProps {
    pub model: Rc<Model>,
    pub analysis: Rc<Analysis>,
    pub hover: Option<usize>,
    /// The board the latency column is estimated for (`None`: custom budget).
    pub board: Option<&'static str>,
    pub dispatch: UseReducerDispatcher<State>,
}

const COLUMNS: [(LayerCol, &str, &str); 9] = [
    (LayerCol::Index, "#", "index"),
    (LayerCol::Op, "operator", "op"),
    (LayerCol::LayerLive, "live, layer by layer", "layer-live"),
    (LayerCol::ScheduledLive, "live, this schedule", "scheduled-live"),
    (LayerCol::Macs, "MACs", "macs"),
    (LayerCol::ScheduledMacs, "MACs, this schedule", "scheduled-macs"),
    (LayerCol::Weights, "weights", "weights"),
    (LayerCol::Stage, "patch stage", "stage"),
    (LayerCol::Latency, "est. µs", "latency"),
];

#[component]
pub fn LayerTable(props: &LayerTableProps) -> Html {
    let sort = use_state(|| (LayerCol::Index, false));
    let weights = {
        let m = props.model.clone();
        use_memo(props.model.id, move |_| view::weight_bytes(&m.graph))
    };
    let rows = &props.analysis.report.layers;
    let a = &props.analysis;
    let instructions: &[u64] = a.latency.as_ref().map_or(&[], |l| &l.layer_instructions);
    let board = a.board_latency(props.board);
    let order = view::sort_layers(rows, &weights, instructions, sort.0, sort.1);
    let micros = |i: usize| match (&board, instructions.get(i)) {
        (Ok(b), Some(&n)) => Some(n as f64 / b.clock_mhz),
        _ => None,
    };
    let latency_note = match &board {
        Ok(b) => format!(" · est. µs on {} at {} MHz, from instruction counts", b.board, b.clock_mhz),
        Err(e) => format!(" · {e}"),
    };
    let peak_layer = props.analysis.report.layer_peak_bytes;
    let peak_sched = props.analysis.report.patch_peak_bytes;

    let header = COLUMNS.iter().map(|&(col, label, id)| {
        let s = sort.clone();
        let onclick = Callback::from(move |_: MouseEvent| {
            // A new column sorts its largest first (names and indices A→Z / 0→n); again flips.
            let first_desc = !matches!(col, LayerCol::Index | LayerCol::Op);
            s.set(if s.0 == col { (col, !s.1) } else { (col, first_desc) });
        });
        let aria = if sort.0 == col {
            if sort.1 {
                "descending"
            } else {
                "ascending"
            }
        } else {
            "none"
        };
        let arrow = if sort.0 == col {
            if sort.1 {
                " ▼"
            } else {
                " ▲"
            }
        } else {
            ""
        };
        html! {
            <th scope="col" aria-sort={aria}>
                <button class="sort" data-testid={format!("sort-{id}")} {onclick}>{ label }{ arrow }</button>
            </th>
        }
    });
    let d = props.dispatch.clone();
    let leave = Callback::from(move |_: MouseEvent| d.dispatch(Action::Hover(None)));
    html! {
        <section class="card layer-card">
            <div class="card-head">
                <h2>{ "Layers" }</h2>
                <span class="muted small">{ format!("{} operators · click a heading to sort · the peak rows in bold{latency_note}", rows.len()) }</span>
            </div>
            <div class="table-scroll layer-scroll" onmouseleave={leave}>
                <table class="layer-table" data-testid="layer-table">
                    <thead><tr>{ for header }</tr></thead>
                    <tbody>
                        { for order.iter().map(|&i| {
                            let r = &rows[i];
                            let (enter, focus) = super::hover_op(&props.dispatch, i);
                            let hot = props.hover == Some(i);
                            html! {
                                <tr tabindex="0" data-testid="layer-row" data-index={i.to_string()}
                                    class={classes!(hot.then_some("hot"), r.in_patch_stage.then_some("in-stage"))}
                                    onmouseenter={enter} onfocus={focus}>
                                    <td>{ i }</td>
                                    <td>{ r.op }<span class="muted small">{ format!(" → {}", fmt::shape(&r.output_shape)) }</span></td>
                                    <td class={classes!("num", (r.layer_live_bytes == peak_layer).then_some("peak"))}
                                        data-value={r.layer_live_bytes.to_string()}>{ fmt::bytes(r.layer_live_bytes) }</td>
                                    <td class={classes!("num", (r.scheduled_live_bytes == peak_sched).then_some("peak"))}
                                        data-value={r.scheduled_live_bytes.to_string()}>{ fmt::bytes(r.scheduled_live_bytes) }</td>
                                    <td class="num" data-value={r.macs.to_string()}>{ fmt::count(r.macs) }</td>
                                    <td class="num" data-value={r.scheduled_macs.to_string()}>{ fmt::count(r.scheduled_macs) }</td>
                                    <td class="num" data-value={weights[i].to_string()}>{ fmt::bytes(weights[i]) }</td>
                                    <td>{ if r.in_patch_stage { "✓" } else { "" } }</td>
                                    <td class="num" data-value={micros(i).map(|u| format!("{u:.1}"))}>
                                        { micros(i).map_or_else(|| "—".to_string(), fmt::micros) }
                                    </td>
                                </tr>
                            }
                        }) }
                    </tbody>
                </table>
            </div>
        </section>
    }
}
