//! Drag-and-drop anywhere on the page: `.tflite` files load as models, `.json` as architecture specs, PNG/JPEG as images.

use web_sys::DragEvent;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct DropZoneProps {
    pub on_file: Callback<(String, Vec<u8>)>,
    pub on_error: Callback<String>,
    pub children: Html,
}

#[component]
pub fn DropZone(props: &DropZoneProps) -> Html {
    let over = use_state_eq(|| false);
    let ondragover = {
        let over = over.clone();
        Callback::from(move |e: DragEvent| {
            e.prevent_default();
            over.set(true);
        })
    };
    let ondragleave = {
        let over = over.clone();
        Callback::from(move |e: DragEvent| {
            // Leaving into a child element also fires dragleave; only a leave to outside counts.
            if e.related_target().is_none() {
                over.set(false);
            }
        })
    };
    let ondrop = {
        let over = over.clone();
        let on_file = props.on_file.clone();
        let on_error = props.on_error.clone();
        Callback::from(move |e: DragEvent| {
            e.prevent_default();
            over.set(false);
            let Some(files) = e.data_transfer().and_then(|d| d.files()) else { return };
            for i in 0..files.length() {
                let Some(file) = files.get(i) else { continue };
                crate::dom::emit_file(file, on_file.clone(), on_error.clone());
            }
        })
    };
    html! {
        <div class={classes!("drop-zone", over.then_some("drag-over"))} {ondragover} {ondragleave} {ondrop}>
            { props.children.clone() }
            if *over {
                <div class="drop-overlay">{ "Drop a .tflite model, an architecture spec .json or a PNG/JPEG image" }</div>
            }
        </div>
    }
}
