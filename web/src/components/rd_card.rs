//! The receptive-field redistribution (RD) switch, what RD does, and why it
//! is unavailable or a what-if for the loaded model.

use web_sys::HtmlInputElement;
use yew::prelude::*;

use super::hint::Hint;
use crate::state::{Action, Loaded, Origin, State};

#[derive(Properties, PartialEq)]
pub struct RdCardProps {
    pub loaded: Loaded,
    pub rd: bool,
    pub dispatch: UseReducerDispatcher<State>,
}

#[component]
pub fn RdCard(props: &RdCardProps) -> Html {
    let m = &props.loaded.model;
    let on_rd = {
        let d = props.dispatch.clone();
        Callback::from(move |e: Event| {
            d.dispatch(Action::SetRd(e.target_unchecked_into::<HtmlInputElement>().checked()))
        })
    };
    let what_if = matches!(&props.loaded.rd, Ok(r) if r.origin == Origin::Rd { what_if: true });
    let unavailable = props.loaded.rd.as_ref().err();
    html! {
        <section class="card rd-card">
            <div class="control">
                <label class={classes!("switch", unavailable.is_some().then_some("disabled"))}>
                    <input type="checkbox" checked={props.rd} disabled={unavailable.is_some()} data-testid="rd" onchange={on_rd} />
                    <span class="switch-track" aria-hidden="true"></span>
                    <span>{ "Receptive-field redistribution (RD)" }</span>
                </label>
                <Hint title="What RD does">
                    <span data-testid="rd-teach">{ "Every layer and every large kernel in the patch stage widens the halo each patch must read, and the \
                       overlapping halos are computed more than once. RD (MCUNetV2) shrinks the receptive field inside the \
                       patch stage — 3×3 depthwise kernels, one block fewer per group — and moves those blocks, with larger \
                       kernels, to the first low-resolution stage after it: smaller halos, so less recomputation, while the \
                       network keeps its depth; the price is a new architecture whose weights must be trained." }</span>
                </Hint>
                if let Some(reason) = unavailable {
                    <p class="note" data-testid="rd-unavailable">{ format!("RD is unavailable for {}: {reason}.", m.name) }</p>
                } else if what_if {
                    <p class={classes!("what-if", props.rd.then_some("on"))} data-testid="rd-what-if">
                        <strong>{ "What if: the weights would have to be retrained. " }</strong>
                        { "This is a trained model, so RD is applied to the architecture read back from it (spec::infer) and \
                           built with synthetic weights — the numbers are real, the redistributed network is not trained." }
                    </p>
                }
            </div>
        </section>
    }
}
