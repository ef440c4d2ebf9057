//! The model picker: the shipped trained models, the architecture presets, a
//! loaded file.

use patchwise_core::spec::ArchSpec;
use web_sys::HtmlSelectElement;
use yew::prelude::*;

use crate::models;
use crate::state::{Action, Loaded, Origin, State};

#[derive(Properties, PartialEq)]
pub struct ModelCardProps {
    pub loaded: Loaded,
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
        </section>
    }
}
