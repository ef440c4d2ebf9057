//! The last error, as a toast fixed in view wherever the page is scrolled,
//! until dismissed or resolved; the page keeps what it had.

use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct ErrorBannerProps {
    pub message: Option<AttrValue>,
    pub on_dismiss: Callback<()>,
}

#[component]
pub fn ErrorBanner(props: &ErrorBannerProps) -> Html {
    let Some(msg) = props.message.clone() else { return html! {} };
    let dismiss = props.on_dismiss.reform(|_: MouseEvent| ());
    html! {
        <div class="error toast" role="alert" data-testid="error">
            <span class="error-icon">{ "⚠" }</span>
            <span class="error-text">{ msg }</span>
            <button class="link" onclick={dismiss} title="Dismiss" aria-label="Dismiss" data-testid="dismiss-error">{ "✕" }</button>
        </div>
    }
}
