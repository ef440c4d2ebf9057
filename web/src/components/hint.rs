//! A short explanation that folds open beside a control.

use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct HintProps {
    pub title: AttrValue,
    #[prop_or_default]
    pub open: bool,
    pub children: Html,
}

#[component]
pub fn Hint(props: &HintProps) -> Html {
    html! {
        <details class="hint" open={props.open}>
            <summary>{ props.title.clone() }</summary>
            <div class="hint-body">{ props.children.clone() }</div>
        </details>
    }
}
