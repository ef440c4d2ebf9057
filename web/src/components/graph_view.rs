//! The model as a graph in execution order: operators as nodes left to
//! right, activation tensors as edges (thicker for more bytes; residual and
//! branch edges arc over the operators they skip), the patch stage shaded and
//! its split marked. Hovering or focusing a node links it with the layer
//! table and the memory chart.

use std::rc::Rc;

use yew::prelude::*;

use crate::state::{Action, Model, State};
use crate::view::{self, Analysis};

#[derive(Properties, PartialEq)]
pub struct GraphViewProps {
    pub model: Rc<Model>,
    pub analysis: Rc<Analysis>,
    pub hover: Option<usize>,
    pub dispatch: UseReducerDispatcher<State>,
}

const STEP: f64 = 26.0;
const LEFT: f64 = 20.0;
const BASE: f64 = 96.0;
const H: f64 = 176.0;

fn x(slot: f64) -> f64 {
    LEFT + slot * STEP
}

/// Stroke width for an edge of `bytes`: 0.8 px at 1 kB, about 5 px at 1 MB.
fn width(bytes: usize) -> f64 {
    (0.8 + 1.4 * (bytes as f64 / 1000.0).max(1.0).log10()).clamp(0.8, 6.0)
}

#[component]
pub fn GraphView(props: &GraphViewProps) -> Html {
    let drawing = {
        let m = props.model.clone();
        use_memo(props.model.id, move |_| view::Drawing::of_graph(&m.graph))
    };
    let n = drawing.nodes.len();
    let d = props.dispatch.clone();
    let leave = Callback::from(move |_: MouseEvent| d.dispatch(Action::Hover(None)));
    html! {
        <section class="card graph-card">
            <div class="card-head">
                <h2>{ "Graph" }</h2>
                <span class="muted small">
                    { format!("{n} operators in execution order · {} activation edges · width ∝ log bytes", drawing.edges.len()) }
                </span>
            </div>
            <div class="graph-scroll" onmouseleave={leave}>
                <GraphSvg drawing={drawing} split={props.analysis.schedule.split} hover={props.hover}
                          later={props.analysis.schedule.later.iter().map(|st| (st.first, st.last)).collect::<Vec<_>>()}
                          dispatch={Some(props.dispatch.clone())} />
            </div>
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub struct GraphSvgProps {
    pub drawing: Rc<view::Drawing>,
    /// The patch stage's last operator.
    #[prop_or_default]
    pub split: Option<usize>,
    /// Later patch stages: `(first, last)` operators.
    #[prop_or_default]
    pub later: Vec<(usize, usize)>,
    #[prop_or_default]
    pub hover: Option<usize>,
    /// Links hovered or focused nodes with the layer table and the memory chart (`None`: a model not analysed).
    #[prop_or_default]
    pub dispatch: Option<UseReducerDispatcher<State>>,
    /// Prefix of the test ids (`graph`: `graph-view`, `graph-node`, `graph-split`).
    #[prop_or("graph")]
    pub testid: &'static str,
}

/// The drawing itself: a model's, or the outline of a file that did not load.
#[component]
pub fn GraphSvg(props: &GraphSvgProps) -> Html {
    let dr = &props.drawing;
    let n = dr.nodes.len();
    // Slot 0 is the graph input, 1..=n the operators, n + 1 the graph outputs.
    let slot = |node: Option<usize>, input_side: bool| match node {
        Some(i) => i as f64 + 1.0,
        None if input_side => 0.0,
        None => n as f64 + 1.0,
    };
    let w = x(n as f64 + 1.0) + LEFT;
    let split = props.split;
    let stage = split.map(|s| (x(0.5), x(s as f64 + 1.5)));
    let unsupported = dr.nodes.iter().filter(|d| d.unsupported).count();
    html! {
        <svg class="graph" width={format!("{w:.0}")} height={format!("{H:.0}")} viewBox={format!("0 0 {w:.0} {H:.0}")}
             data-testid={format!("{}-view", props.testid)} data-nodes={n.to_string()} data-edges={dr.edges.len().to_string()}
             data-unsupported={unsupported.to_string()}
             data-split={split.map_or_else(|| "none".to_string(), |s| s.to_string())} role="group"
             aria-label="the model's operators and activation tensors">
            if let Some((x0, x1)) = stage {
                <rect class="stage-band" x={format!("{x0:.1}")} y="4" width={format!("{:.1}", x1 - x0)} height={format!("{:.0}", H - 8.0)} />
                <line class="split-line" data-testid={format!("{}-split", props.testid)} x1={format!("{x1:.1}")} x2={format!("{x1:.1}")} y1="4" y2={format!("{:.0}", H - 4.0)} />
                <text class="stage-label" x={format!("{:.1}", x0 + 4.0)} y="16">
                    { if props.later.is_empty() { "patch stage" } else { "stage 1" } }
                </text>
            }
            { for props.later.iter().enumerate().map(|(k, &(a, b))| {
                let (x0, x1) = (x(a as f64 + 0.5), x(b as f64 + 1.5));
                html! {
                    <g data-testid={format!("{}-later-stage", props.testid)}>
                        <rect class="stage-band" x={format!("{x0:.1}")} y="4" width={format!("{:.1}", x1 - x0)} height={format!("{:.0}", H - 8.0)} />
                        <text class="stage-label" x={format!("{:.1}", x0 + 4.0)} y="16">{ format!("stage {}", k + 2) }</text>
                    </g>
                }
            }) }
            { for dr.edges.iter().map(|e| {
                let (a, b) = (x(slot(e.from, true)), x(slot(e.to, false)));
                let span = slot(e.to, false) - slot(e.from, true);
                let path = if span <= 1.0 {
                    format!("M{a:.1},{BASE} L{b:.1},{BASE}")
                } else {
                    let h = (14.0 + 10.0 * span.log2()).min(BASE - 12.0);
                    format!("M{a:.1},{BASE} C{a:.1},{:.1} {b:.1},{:.1} {b:.1},{BASE}", BASE - h, BASE - h)
                };
                html! {
                    <path class={classes!("edge", (span > 1.0).then_some("skip"))} d={path}
                          style={format!("stroke-width: {:.2}", width(e.size))}>
                        <title>{ e.title.clone() }</title>
                    </path>
                }
            }) }
            <circle class="io" cx={format!("{:.1}", x(0.0))} cy={BASE.to_string()} r="5"><title>{ "graph input" }</title></circle>
            <circle class="io" cx={format!("{:.1}", x(n as f64 + 1.0))} cy={BASE.to_string()} r="5"><title>{ "graph outputs" }</title></circle>
            { for dr.nodes.iter().enumerate().map(|(i, node)| {
                let cx = x(i as f64 + 1.0);
                let in_stage = split.is_some_and(|s| i <= s) || props.later.iter().any(|&(a, b)| (a..=b).contains(&i));
                let hot = props.hover == Some(i);
                let (enter, focus) = match &props.dispatch {
                    Some(d) => {
                        let (e, f) = super::hover_op(d, i);
                        (Some(e), Some(f))
                    }
                    None => (None, None),
                };
                let name = node.op;
                let state = if node.unsupported { " (not supported)" } else { "" };
                html! {
                    <g class={classes!("node", in_stage.then_some("in-stage"), hot.then_some("hot"), node.unsupported.then_some("unsupported"))}
                       data-testid={format!("{}-node", props.testid)} data-unsupported={node.unsupported.to_string()}
                       data-index={i.to_string()} tabindex="0" role="button"
                       aria-label={format!("{}: op {i} {name} → {}{state}", short(name), node.out)}
                       onmouseenter={enter} onfocus={focus}>
                        <rect x={format!("{:.1}", cx - 8.0)} y={format!("{:.1}", BASE - 8.0)} width="16" height="16" rx="4" />
                        <text class="node-label" transform={format!("translate({:.1},{:.1}) rotate(55)", cx - 2.0, BASE + 14.0)}>
                            { short(name) }
                        </text>
                        <title>{ node.title.clone() }</title>
                    </g>
                }
            }) }
        </svg>
    }
}

/// A few letters for a node's label (`DEPTHWISE_CONV_2D` → `DW`).
fn short(op: &str) -> String {
    match op {
        "CONV_2D" => "CONV".into(),
        "DEPTHWISE_CONV_2D" => "DW".into(),
        "FULLY_CONNECTED" => "FC".into(),
        "AVERAGE_POOL_2D" => "AVG".into(),
        "MAX_POOL_2D" => "MAX".into(),
        other => other.chars().take(7).collect(),
    }
}
