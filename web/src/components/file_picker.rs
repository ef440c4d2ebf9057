//! A button that opens a file picker and hands back the file's name and bytes.

use web_sys::HtmlInputElement;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct FilePickerProps {
    pub label: AttrValue,
    #[prop_or_default]
    pub title: AttrValue,
    /// The `accept` attribute, e.g. `.tflite`.
    pub accept: AttrValue,
    pub testid: AttrValue,
    pub on_file: Callback<(String, Vec<u8>)>,
    pub on_error: Callback<String>,
}

#[component]
pub fn FilePicker(props: &FilePickerProps) -> Html {
    let onchange = {
        let on_file = props.on_file.clone();
        let on_error = props.on_error.clone();
        Callback::from(move |e: Event| {
            let input: HtmlInputElement = e.target_unchecked_into();
            let Some(file) = input.files().and_then(|f| f.get(0)) else { return };
            input.set_value("");
            crate::dom::emit_file(file, on_file.clone(), on_error.clone());
        })
    };
    html! {
        <label class="button file-picker" title={props.title.clone()}>
            { props.label.clone() }
            <input type="file" accept={props.accept.clone()} data-testid={props.testid.clone()} {onchange} />
        </label>
    }
}
