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
                <span>{ format!("working… {}", props.tasks.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(", ")) }</span>
            } else {
                <span class="dot" aria-hidden="true"></span>
                <span>{ "ready" }</span>
            }
        </div>
    }
}
