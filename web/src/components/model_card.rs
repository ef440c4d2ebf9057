//! The model picker (the bundled BlazeFace, the architecture presets, a
//! loaded file) and the receptive-field redistribution (RD) switch.

use patchwise_core::spec::ArchSpec;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use crate::models;
use crate::state::{Action, Loaded, Origin, State};

#[derive(Properties, PartialEq)]
pub struct ModelCardProps {
    pub loaded: Loaded,
    pub rd: bool,
    pub dispatch: UseReducerDispatcher<State>,
}

/// One line on what a preset is.
fn describe(spec: &ArchSpec) -> String {
    let depth: usize = spec.blocks.iter().map(|g| g.repeat).sum();
    let kernels: Vec<String> = {
        let mut k: Vec<usize> = spec.blocks.iter().map(|g| g.kernel).collect();
        k.sort_unstable();
        k.dedup();
        k.iter().map(|k| format!("{k}×{k}")).collect()
    };
    format!(
        "{}×{} input, width ×{}, {} inverted-residual blocks in {} groups ({} depthwise), {} classes",
        spec.resolution,
        spec.resolution,
        spec.width_multiplier,
        depth,
        spec.blocks.len(),
        kernels.join("/"),
        spec.classes
    )
}

#[component]
pub fn ModelCard(props: &ModelCardProps) -> Html {
    let m = &props.loaded.model;
    let selected = match m.origin {
        Origin::Shipped(stem) => stem.to_string(),
        Origin::Preset(p) => p.to_string(),
        _ => String::new(),
    };
    let on_pick = {
        let d = props.dispatch.clone();
        Callback::from(move |e: Event| {
            let v = e.target_unchecked_into::<HtmlSelectElement>().value();
            if !v.is_empty() {
                d.dispatch(Action::SelectModel(v));
            }
        })
    };
    let on_rd = {
        let d = props.dispatch.clone();
        Callback::from(move |e: Event| {
            d.dispatch(Action::SetRd(e.target_unchecked_into::<HtmlInputElement>().checked()))
        })
    };
    let about = match (&m.origin, m.spec.as_deref()) {
        (Origin::Shipped(stem), _) => models::shipped(stem).map_or("", |m| m.about).to_string(),
        (Origin::Preset(_), Some(s)) => {
            format!("An architecture preset with seeded synthetic int8 weights: {}.", describe(s))
        }
        (Origin::SpecFile, Some(s)) => {
            format!("An architecture spec ({}) with seeded synthetic int8 weights: {}.", s.name, describe(s))
        }
        _ => "A loaded .tflite model.".to_string(),
    };
    let what_if = matches!(&props.loaded.rd, Ok(r) if r.origin == Origin::Rd { what_if: true });
    let unavailable = props.loaded.rd.as_ref().err();

    html! {
        <section class="card model-card">
            <h2>{ "Model" }</h2>
            <div class="control">
                <label for="model-picker">{ "Analyse" }</label>
                <select id="model-picker" data-testid="model-picker" onchange={on_pick}>
                    <optgroup label="trained models (.tflite)">
                        { for models::SHIPPED.iter().map(|m| html! {
                            <option value={m.stem} selected={selected == m.stem}>
                                { if m.stem == models::BUNDLED { format!("{} (default)", m.stem) } else { m.stem.to_string() } }
                            </option>
                        }) }
                    </optgroup>
                    <optgroup label="architecture presets (synthetic weights)">
                        { for models::presets().into_iter().map(|p| html! {
                            <option value={p} selected={selected == p}>{ p }</option>
                        }) }
                    </optgroup>
                    if selected.is_empty() {
                        <option value="" selected=true disabled=true>{ format!("{} (loaded)", m.name) }</option>
                    }
                </select>
                <div class="muted small" data-testid="model-about">{ about }</div>
                <div class="muted small">{ "“Open…” above (or a drop on the page) loads a .tflite model or an architecture spec .json (the format of `patchwise plan SPEC.json`)." }</div>
            </div>
            <div class="control">
                <label class={classes!("switch", unavailable.is_some().then_some("disabled"))}>
                    <input type="checkbox" checked={props.rd} disabled={unavailable.is_some()} data-testid="rd" onchange={on_rd} />
                    <span class="switch-track" aria-hidden="true"></span>
                    <span>{ "Receptive-field redistribution (RD)" }</span>
                </label>
                <p class="teach small" data-testid="rd-teach">
                    { "Every layer and every large kernel in the patch stage widens the halo each patch must read, and the \
                       overlapping halos are computed more than once. RD (MCUNetV2) shrinks the receptive field inside the \
                       patch stage — 3×3 depthwise kernels, one block fewer per group — and moves those blocks, with larger \
                       kernels, to the first low-resolution stage after it: smaller halos, so less recomputation, while the \
                       network keeps its depth; the price is a new architecture whose weights must be trained." }
                </p>
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
