//! Title bar: what is loaded, the loaders, export and the shareable link.

use yew::prelude::*;

use super::file_picker::FilePicker;

#[derive(Properties, PartialEq)]
pub struct HeaderProps {
    pub model_name: AttrValue,
    /// e.g. `94 ops · input 128×128×3 int8`.
    pub model_summary: AttrValue,
    pub image_name: AttrValue,
    pub image_summary: AttrValue,
    pub on_model: Callback<(String, Vec<u8>)>,
    pub on_image: Callback<(String, Vec<u8>)>,
    pub on_error: Callback<String>,
    pub on_export: Callback<()>,
    /// Download the firmware crate (zip) for the chosen board.
    pub on_firmware: Callback<()>,
    /// Board the firmware is exported for.
    pub firmware_board: AttrValue,
    pub share_url: AttrValue,
    /// The status indicator.
    pub children: Html,
}

/// What is loaded of one kind (model or image), with its picker.
fn loaded_item(kind: &'static str, testid: &'static str, name: &AttrValue, summary: &AttrValue, picker: Html) -> Html {
    html! {
        <div class="loaded-item">
            <div class="loaded-text">
                <span class="loaded-kind">{ kind }</span>
                <span class="loaded-name" data-testid={testid} title={name.clone()}>{ name.clone() }</span>
                <span class="loaded-sub">{ summary.clone() }</span>
            </div>
            { picker }
        </div>
    }
}

#[component]
pub fn Header(props: &HeaderProps) -> Html {
    let export = props.on_export.reform(|_: MouseEvent| ());
    let firmware = props.on_firmware.reform(|_: MouseEvent| ());
    html! {
        <header class="topbar">
            <div class="brand">
                <span class="logo" aria-hidden="true">{ "▦" }</span>
                <div>
                    <h1>{ "patchwise playground" }</h1>
                    <p class="tagline">{ "Patch-based int8 inference (MCUNetV2): see where the memory goes, and cut it." }</p>
                </div>
            </div>
            <div class="loaded">
                { loaded_item("model", "model-name", &props.model_name, &props.model_summary, html! {
                    <FilePicker label="Open…" title="Load a .tflite model, an architecture spec .json or a classifier's labels .txt (or drop one on the page)" accept=".tflite,.json,.txt,application/json,application/octet-stream,text/plain" testid="model-file"
                        on_file={props.on_model.clone()} on_error={props.on_error.clone()} />
                }) }
                { loaded_item("image", "image-name", &props.image_name, &props.image_summary, html! {
                    <FilePicker label="Open…" title="Load a PNG or JPEG image (or drop one on the page)" accept="image/png,image/jpeg,.png,.jpg,.jpeg" testid="image-file"
                        on_file={props.on_image.clone()} on_error={props.on_error.clone()} />
                }) }
            </div>
            <div class="actions">
                { props.children.clone() }
                <button class="button" data-testid="export" onclick={export} title="Download the schedule as JSON (the fields of `patchwise plan --json`)">
                    { "Export JSON" }
                </button>
                <button class="button" data-testid="export-firmware" onclick={firmware}
                    title={format!("Download a no_std firmware crate for {} (the same zip as `patchwise export … --out X.zip`)", props.firmware_board)}>
                    { "Firmware (.zip)" }
                </button>
                <a class="button ghost" data-testid="share-link" href={props.share_url.clone()}
                   title="A link to this view (preset and RD, split, grid, input mode, budget)">{ "Link to this view" }</a>
            </div>
        </header>
    }
}
