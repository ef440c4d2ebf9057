//! A model file that did not load: every operator, the ones patchwise cannot
//! run marked, so the user sees what to change (the error banner says why,
//! and that the previous model is still the one analysed).

use std::rc::Rc;

use patchwise_core::loader::OpStatus;
use yew::prelude::*;

use crate::components::graph_view::GraphSvg;
use crate::state::Refused;

#[derive(Properties, PartialEq)]
pub struct RefusedModelProps {
    pub refused: Option<Rc<Refused>>,
    /// The model still analysed (the header's).
    pub current: AttrValue,
}

#[component]
pub fn RefusedModel(props: &RefusedModelProps) -> Html {
    let drawing = {
        let r = props.refused.clone();
        use_memo(r.as_ref().map(|r| (r.name.clone(), r.ops.len())), move |_| {
            Rc::new(
                r.map(|r| crate::view::Drawing::of_outline(&r.ops))
                    .unwrap_or(crate::view::Drawing { nodes: vec![], edges: vec![] }),
            )
        })
    };
    let Some(r) = props.refused.clone() else { return html! {} };
    let bad = r.ops.iter().filter(|o| o.status != OpStatus::Supported).count();
    let shape = |s: Option<&Vec<usize>>| s.map(|s| format!("{s:?}")).unwrap_or_default();
    html! {
        <details class="card refused" open=true data-testid="refused-model">
            <summary>
                { format!("{} was not loaded: {} operators, {bad} that patchwise cannot run", r.name, r.ops.len()) }
                <span class="muted" data-testid="refused-still">{ format!(" — the page still analyses {}", props.current) }</span>
            </summary>
            <div class="graph-scroll">
                <GraphSvg drawing={(*drawing).clone()} testid="refused-graph" />
            </div>
            <div class="table-scroll">
                <table class="small">
                    <thead><tr><th>{ "#" }</th><th>{ "operator" }</th><th>{ "input" }</th><th>{ "output" }</th><th></th></tr></thead>
                    <tbody>
                        { for r.ops.iter().map(|o| {
                            let (class, note) = match &o.status {
                                OpStatus::Supported => ("", String::new()),
                                OpStatus::Unsupported => ("unsupported", format!("not supported (builtin code {})", o.code)),
                                OpStatus::Invalid(e) => ("unsupported", e.to_string()),
                            };
                            html! {
                                <tr class={class} data-testid={(!class.is_empty()).then_some("unsupported-op")}>
                                    <td>{ o.index }</td>
                                    <td>{ o.name }</td>
                                    <td>{ shape(o.inputs.iter().flatten().next()) }</td>
                                    <td>{ shape(o.outputs.first()) }</td>
                                    <td>{ note }</td>
                                </tr>
                            }
                        }) }
                    </tbody>
                </table>
            </div>
        </details>
    }
}
