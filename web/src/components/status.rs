//! "working…" indicator for what the web worker is doing.

use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct StatusProps {
    /// What is under way (empty: idle).
    pub tasks: Vec<AttrValue>,
    /// Whether the numbers are settled (the search is in and applied).
    pub ready: bool,
    /// A search's `(done, total)` stage ends, for a determinate bar.
    #[prop_or_default]
    pub progress: Option<(usize, usize)>,
    /// Cancels the searches under way (while there are some).
    #[prop_or_default]
    pub on_cancel: Option<Callback<MouseEvent>>,
    /// Starts the searches again after a cancel.
    #[prop_or_default]
    pub on_search_again: Option<Callback<MouseEvent>>,
}

#[component]
pub fn Status(props: &StatusProps) -> Html {
    let busy = !props.tasks.is_empty();
    html! {
        <div class={classes!("status", busy.then_some("busy"))} data-testid="status"
             data-busy={busy.to_string()} data-ready={props.ready.to_string()} aria-live="polite">
            if let (true, Some((done, total))) = (busy, props.progress) {
                <progress data-testid="search-progress" max={total.to_string()} value={done.to_string()}
                          aria-label="schedule search"></progress>
            } else if busy {
                <span class="spinner" aria-hidden="true"></span>
            }
            if busy {
                <span data-testid="status-text">{ format!("working… {}", props.tasks.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(", ")) }</span>
                if let Some(onclick) = props.on_cancel.clone() {
                    <button class="button small-button" data-testid="search-cancel" {onclick}
                            title="stop searching: set the split and grid yourself">{ "cancel search" }</button>
                }
            } else if let Some(onclick) = props.on_search_again.clone() {
                <span class="dot off" aria-hidden="true"></span>
                <span data-testid="search-cancelled">{ "search cancelled: the schedule is yours to set" }</span>
                <button class="button small-button" data-testid="search-again" {onclick}>{ "search again" }</button>
            } else {
                <span class="dot" aria-hidden="true"></span>
                <span>{ "ready" }</span>
            }
        </div>
    }
}
