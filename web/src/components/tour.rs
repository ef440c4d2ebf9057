//! A short guided tour for a first-time visitor, over the real controls:
//! what the peak is, the split, the grid, watching a run, RD. Each step
//! scrolls its control into view and rings it; the card sits at the bottom
//! of the screen, out of the way at any width. Dismissed (or finished), it
//! is not shown again (`localStorage`); the footer's link restarts it.

use wasm_bindgen::JsCast;
use yew::prelude::*;

/// `localStorage` key set once the tour is dismissed.
pub const DONE_KEY: &str = "patchwise.tour-done";

/// `(control's test id, title, text)`.
pub const STEPS: [(&str, &str, &str); 5] = [
    (
        "patch-peak",
        "The peak",
        "The most arena bytes live at any moment of the run: the SRAM the board needs. Layer by layer it is set by \
         the first, high-resolution layers; patch by patch it is much smaller.",
    ),
    (
        "split",
        "Move the split",
        "The ops up to the split run patch by patch, each patch through the whole stage; only the stage output is \
         kept whole. Later splits save more memory and recompute more.",
    ),
    (
        "grid-rows",
        "Change the grid",
        "More patches: smaller buffers, and more halo — the overlapping input each patch reads and its neighbours \
         compute again (the overhead).",
    ),
    (
        "view-watch",
        "Watch it run",
        "Replay the run op by op and patch by patch, with the arena as a memory map and the high-water mark growing, \
         next to layer by layer.",
    ),
    (
        "rd",
        "Toggle RD",
        "Receptive-field redistribution shrinks the first blocks' kernels and moves them later, so that halos — and \
         the recomputation — shrink (a what-if for a trained model: it changes the architecture).",
    ),
];

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

/// The element a step points at (its switch or label when it is a hidden input).
fn target(id: &str) -> Option<web_sys::Element> {
    let doc = web_sys::window()?.document()?;
    let el = doc.query_selector(&format!("[data-testid=\"{id}\"]")).ok()??;
    Some(el.closest(".switch").ok().flatten().unwrap_or(el))
}

#[derive(Properties, PartialEq)]
pub struct TourProps {
    /// Bumped by the footer's link: start the tour again.
    pub restart: u32,
}

#[component]
pub fn Tour(props: &TourProps) -> Html {
    let step = use_state(|| {
        let done = storage().and_then(|s| s.get_item(DONE_KEY).ok().flatten()).is_some();
        (!done).then_some(0usize)
    });
    {
        let step = step.clone();
        use_effect_with(props.restart, move |&r| {
            if r > 0 {
                step.set(Some(0));
            }
        });
    }
    // Ring the step's control and bring it into view.
    use_effect_with(*step, |&k| {
        let el = k.and_then(|k| target(STEPS[k].0));
        if let Some(el) = &el {
            let _ = el.class_list().add_1("tour-target");
            if let Some(h) = el.dyn_ref::<web_sys::HtmlElement>() {
                let opts = web_sys::ScrollIntoViewOptions::new();
                opts.set_block(web_sys::ScrollLogicalPosition::Center);
                h.scroll_into_view_with_scroll_into_view_options(&opts);
            }
        }
        move || {
            if let Some(el) = el {
                let _ = el.class_list().remove_1("tour-target");
            }
        }
    });
    let Some(k) = *step else { return html! {} };
    let close = {
        let step = step.clone();
        Callback::from(move |_: MouseEvent| {
            if let Some(s) = storage() {
                let _ = s.set_item(DONE_KEY, "1");
            }
            step.set(None);
        })
    };
    let go = |to: usize| {
        let step = step.clone();
        Callback::from(move |_: MouseEvent| step.set(Some(to)))
    };
    let (id, title, text) = STEPS[k];
    let last = k + 1 == STEPS.len();
    html! {
        <div class="tour" role="dialog" aria-modal="false" aria-labelledby="tour-title" data-testid="tour"
             data-step={k.to_string()} data-target={id}>
            <div class="tour-head">
                <strong id="tour-title">{ format!("{title} ") }</strong>
                <span class="muted small">{ format!("{} of {}", k + 1, STEPS.len()) }</span>
            </div>
            <p class="small">{ text }</p>
            <div class="tour-buttons">
                <button class="button" data-testid="tour-skip" onclick={close.clone()}>{ "Skip the tour" }</button>
                if k > 0 {
                    <button class="button" data-testid="tour-back" onclick={go(k - 1)}>{ "Back" }</button>
                }
                if last {
                    <button class="button primary" data-testid="tour-next" onclick={close}>{ "Done" }</button>
                } else {
                    <button class="button primary" data-testid="tour-next" onclick={go(k + 1)}>{ "Next" }</button>
                }
            </div>
        </div>
    }
}
