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
                <div class="loaded-item">
                    <div class="loaded-text">
                        <span class="loaded-kind">{ "model" }</span>
                        <span class="loaded-name" data-testid="model-name" title={props.model_name.clone()}>{ props.model_name.clone() }</span>
                        <span class="loaded-sub">{ props.model_summary.clone() }</span>
                    </div>
                    <FilePicker label="Open…" title="Load a .tflite model or an architecture spec .json (or drop one on the page)" accept=".tflite,.json,application/json,application/octet-stream" testid="model-file"
                        on_file={props.on_model.clone()} on_error={props.on_error.clone()} />
                </div>
                <div class="loaded-item">
                    <div class="loaded-text">
                        <span class="loaded-kind">{ "image" }</span>
                        <span class="loaded-name" data-testid="image-name" title={props.image_name.clone()}>{ props.image_name.clone() }</span>
                        <span class="loaded-sub">{ props.image_summary.clone() }</span>
                    </div>
                    <FilePicker label="Open…" title="Load a PNG or JPEG image (or drop one on the page)" accept="image/png,image/jpeg,.png,.jpg,.jpeg" testid="image-file"
                        on_file={props.on_image.clone()} on_error={props.on_error.clone()} />
                </div>
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
