//! The schedule controls: split point, patch grid, input mode, SRAM budget, auto.

use std::rc::Rc;

use patchwise_core::boards::BOARDS;
use patchwise_core::patch::Halo;
use patchwise_core::plan::{HaloChoice, Later};
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use super::hint::Hint;
use crate::fmt;
use crate::proto::Mode;
use crate::state::{Action, Model, State};
use crate::view;

#[derive(Properties, PartialEq)]
pub struct ControlsProps {
    pub model: Rc<Model>,
    pub split: Option<usize>,
    pub grid: (usize, usize),
    pub mode: Mode,
    pub halo: Halo,
    pub halo_choice: HaloChoice,
    /// Whether the search's cached and per-layer families are still being weighed.
    pub weighing_halos: bool,
    /// Patch stages after the first, and whether the worker is looking for them.
    pub later: Later,
    pub later_pending: bool,
    /// Later-stage searches answered so far.
    pub later_answers: u32,
    /// The last later-stage search's time in the worker (the benchmark reads it).
    #[prop_or_default]
    pub later_millis: f64,
    /// Asks the worker for later stages (`plan::later_stages`).
    pub on_later: Callback<()>,
    pub board: Option<&'static str>,
    pub budget: usize,
    /// The board the firmware download is for (kept under a custom budget).
    pub firmware_board: &'static str,
    pub searching: bool,
    /// `Search::limit_note` of the current search, if it stopped at its work limit.
    pub search_limit: Option<String>,
    pub dispatch: UseReducerDispatcher<State>,
}

fn select_value(e: &Event) -> String {
    e.target_unchecked_into::<HtmlSelectElement>().value()
}

#[component]
pub fn Controls(props: &ControlsProps) -> Html {
    let g = &props.model.graph;
    let budget_now = props.budget;
    let splits = props.model.splits.clone();
    let d = props.dispatch.clone();

    let split_index = props.split.and_then(|s| splits.iter().position(|&x| x == s)).map_or(0, |i| i + 1);
    let on_split = {
        let (d, splits) = (d.clone(), splits.clone());
        Callback::from(move |e: InputEvent| {
            let v: usize = e.target_unchecked_into::<HtmlInputElement>().value().parse().unwrap_or(0);
            d.dispatch(Action::SetSplit(v.checked_sub(1).and_then(|i| splits.get(i).copied())));
        })
    };
    let split_text = match props.split {
        Some(s) => view::op_label(g, s),
        None => "no patching (layer by layer)".to_string(),
    };
    let limit = props.split.map_or((1, 1), |s| view::grid_limit(g, s));
    let grid_select = |which: &'static str, value: usize, max: usize| {
        let d = d.clone();
        let onchange = Callback::from(move |e: Event| {
            let v = select_value(&e).parse().unwrap_or(1);
            d.dispatch(if which == "rows" { Action::SetRows(v) } else { Action::SetCols(v) });
        });
        html! {
            <select data-testid={format!("grid-{which}")} aria-label={which} disabled={props.split.is_none()} {onchange}>
                { for (1..=max.max(1)).map(|n| html! { <option value={n.to_string()} selected={n == value}>{ n }</option> }) }
            </select>
        }
    };
    let on_mode = {
        let d = d.clone();
        Callback::from(move |e: Event| {
            let checked = e.target_unchecked_into::<HtmlInputElement>().checked();
            d.dispatch(Action::SetMode(if checked { Mode::InArena } else { Mode::Streamed }));
        })
    };
    let halo_option = |choice: HaloChoice, id: &'static str, text: &'static str, title: &'static str| {
        let d = d.clone();
        let onchange = Callback::from(move |_: Event| d.dispatch(Action::SetHaloChoice(choice)));
        html! {
            <label class={classes!("seg", (props.halo_choice == choice).then_some("on"))} {title}>
                <input type="radio" name="halo-choice" data-testid={id} checked={props.halo_choice == choice} {onchange} />
                <span>{ text }</span>
            </label>
        }
    };
    let on_board = {
        let d = d.clone();
        Callback::from(move |e: Event| {
            let v = select_value(&e);
            d.dispatch(Action::SetBoard((!v.is_empty()).then_some(v)));
        })
    };
    // A budget that is not a positive number is refused next to the field, until a valid one is typed.
    let budget_error = use_state(|| None::<String>);
    let on_budget = {
        let (d, budget_error) = (d.clone(), budget_error.clone());
        Callback::from(move |e: Event| {
            let v = e.target_unchecked_into::<HtmlInputElement>().value();
            match v.trim().parse::<f64>() {
                Ok(kib) if kib.is_finite() && kib * 1024.0 >= 1.0 && kib <= 1e9 => {
                    budget_error.set(None);
                    d.dispatch(Action::SetBudget((kib * 1024.0).round() as usize));
                }
                _ => budget_error.set(Some(format!(
                    "{:?} is not a budget: give a positive number of KiB (e.g. 256); the budget stays {}",
                    v.trim(),
                    fmt::kib(budget_now)
                ))),
            }
        })
    };
    let on_auto = {
        let d = d.clone();
        Callback::from(move |_: MouseEvent| d.dispatch(Action::Auto))
    };
    let budget_kib = props.budget as f64 / 1024.0;
    let budget_text = if budget_kib.fract() == 0.0 { format!("{budget_kib}") } else { format!("{budget_kib:.1}") };
    // The field shows what the user types until the budget changes: with the
    // budget itself as its value, any re-render (the worker reporting its
    // progress many times a second) would put the old budget back mid-typing.
    let typed = use_state(|| budget_text.clone());
    {
        let (typed, text) = (typed.clone(), budget_text.clone());
        use_effect_with(props.budget, move |_| typed.set(text));
    }
    let on_typed = {
        let typed = typed.clone();
        Callback::from(move |e: InputEvent| typed.set(e.target_unchecked_into::<HtmlInputElement>().value()))
    };

    html! {
        <section class="card controls">
            <h2>{ "Schedule" }</h2>

            <div class="control">
                <label for="split">{ "Patch stage ends after" }</label>
                <input id="split" type="range" min="0" max={splits.len().to_string()} step="1"
                       value={split_index.to_string()} data-testid="split" oninput={on_split}
                       data-splits={splits.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(",")} />
                <div class="control-value" data-testid="split-label">{ split_text }</div>
                <div class="muted small" data-testid="split-limit">
                    { format!("{} of {} operators can end a patch stage", splits.len(), g.nodes.len()) }
                    { for props.model.stage_limit.as_ref().map(|why| format!(" — stages end before {why}")) }
                </div>
                if let Some(note) = &props.search_limit {
                    <div class="muted small" data-testid="search-limit">{ format!("Note: {note}.") }</div>
                }
                <Hint title="Why the first blocks dominate peak memory">
                    { "Early layers run at full resolution (e.g. 64×64 or 128×128 pixels) with few channels, so their \
                       activations are the largest in the network. Layer by layer, an operator needs its whole input \
                       and output in SRAM at once, so the peak is set by these first blocks while the rest of the \
                       network sits far below it. Patch-based inference runs the first blocks (the patch stage) one \
                       spatial patch at a time and keeps only the stage's output whole." }
                </Hint>
            </div>

            <div class="control">
                <label>{ "Patch grid (rows × columns)" }</label>
                <div class="grid-pick">
                    { grid_select("rows", props.grid.0, limit.0) }
                    <span>{ "×" }</span>
                    { grid_select("cols", props.grid.1, limit.1) }
                    <span class="muted small">{ if props.split.is_some() { format!("{} patches", props.grid.0 * props.grid.1) } else { "pick a split first".into() } }</span>
                </div>
                <Hint title="What a halo is">
                    { "To compute its cell of the stage output, a patch needs a border of extra input pixels around it: \
                       every 3×3 convolution widens the region it reads by one pixel each side, every stride-2 layer \
                       doubles it. Neighbouring patches' regions overlap by this border, the halo, and the overlap is \
                       computed more than once: that is the MAC overhead. More patches mean smaller buffers but more \
                       halo work. Hover a layer in the memory chart to see each patch's region there." }
                </Hint>
            </div>

            <div class="control">
                <label class="switch">
                    <input type="checkbox" checked={props.mode == Mode::InArena} data-testid="input-in-sram" onchange={on_mode} />
                    <span class="switch-track" aria-hidden="true"></span>
                    <span>{ "Input image counted in SRAM" }</span>
                </label>
                <div class="muted small">
                    { if props.mode == Mode::InArena {
                        "TFLite Micro's convention: the whole input stays in the arena during the patch stage."
                    } else {
                        "Streamed patch by patch from a camera or flash (the MCUNetV2 paper's convention)."
                    } }
                </div>
            </div>

            <div class="control">
                <label for="board">{ "Arena budget" }</label>
                <select id="board" data-testid="board" onchange={on_board}>
                    { for BOARDS.iter().map(|b| html! {
                        <option value={b.name} selected={props.board == Some(b.name)}>
                            { format!("{} · {} SRAM", b.name, fmt::kib(b.ram_bytes as usize)) }
                        </option>
                    }) }
                    <option value="" selected={props.board.is_none()}>{ "custom budget" }</option>
                </select>
                <div class="budget-row">
                    <input type="number" min="1" step="1" value={(*typed).clone()} data-testid="budget-kib"
                           aria-label="budget in KiB" oninput={on_typed} onchange={on_budget} />
                    <span class="muted">{ format!("KiB = {}", fmt::bytes(props.budget)) }</span>
                </div>
                if let Some(msg) = &*budget_error {
                    <div class="field-error" role="alert" data-testid="budget-error">{ msg }</div>
                }
                if props.board.is_some() {
                    <div class="muted small">{ format!("the board's SRAM less {} kept for the stack and statics",
                        fmt::kib(patchwise_core::boards::STACK_RESERVE as usize)) }</div>
                } else {
                    <div class="muted small" data-testid="firmware-board-note">{ format!("a custom budget: the firmware download stays for {}",
                        props.firmware_board) }</div>
                }
                <button class="button primary wide" data-testid="auto" onclick={on_auto}
                        title="Search every split and grid (plan::search) and apply the fewest-MACs schedule that fits">
                    { if props.searching { "Searching…" } else { "Auto: best schedule for this budget" } }
                </button>
            </div>

            <div class="control">
                <label id="halo-choice-label">{ "Halos neighbouring patches share" }</label>
                <div class="segmented" role="radiogroup" aria-labelledby="halo-choice-label" data-testid="halo-choice"
                     data-value={match props.halo_choice {
                         HaloChoice::Recompute => "recompute",
                         HaloChoice::Cache => "cache",
                         HaloChoice::Auto => "auto",
                     }}>
                    { halo_option(HaloChoice::Recompute, "halo-recompute", "recompute",
                        "MCUNetV2: every patch recomputes the halo it shares") }
                    { halo_option(HaloChoice::Cache, "halo-cache", "cache",
                        "Keep shared rows and columns in arena caches: each stage pixel computed once") }
                    { halo_option(HaloChoice::Auto, "halo-auto", "auto",
                        "The fewest MACs within the budget over every family: recompute, cache, and per-layer mixtures") }
                </div>
                <div class="muted small" data-testid="halo-note">
                    { match (props.halo_choice, props.halo) {
                        (HaloChoice::Auto, _) if props.weighing_halos => "Weighing cached halos and per-layer choices in the worker…".to_string(),
                        (HaloChoice::Auto, h) => format!("Auto chose: {}. Recompute, cache and per-layer mixtures are all on the Pareto chart.", h.label()),
                        (_, Halo::Cache) => "Beyond MCUNetV2: shared rows and columns stay in arena caches; each stage pixel is computed once.".to_string(),
                        (_, Halo::Layers(_)) => format!("A per-layer choice: {}.", props.halo.label()),
                        (_, Halo::Recompute) => "MCUNetV2: each patch recomputes the halo it shares (the MAC overhead).".to_string(),
                    } }
                </div>
            </div>
            <div class="control" data-testid="later-stages" data-count={props.later.len().to_string()}
                 data-pending={props.later_pending.to_string()} data-answers={props.later_answers.to_string()}
                 data-millis={format!("{:.0}", props.later_millis)}>
                <label>{ "More patch stages" }</label>
                if props.later.is_empty() {
                    <div class="muted small">{ "One stage leaves the rest layer by layer. A later stage patches the blocks where the peak is now, with its own grid (beyond MCUNetV2)." }</div>
                } else {
                    <ul class="later-list">
                        { for props.later.iter().map(|st| html! {
                            <li>{ format!("ops {}..={} · grid {}×{}{}", st.first, st.last, st.grid.0, st.grid.1,
                                if st.halo == Halo::Recompute { String::new() } else { format!(" · {}", st.halo.label()) }) }</li>
                        }) }
                    </ul>
                }
                <div class="button-row">
                    <button class="button" data-testid="add-later" disabled={props.split.is_none() || props.later_pending}
                            title="Search stages after the first where the memory peak is (plan --then auto) and apply the smallest peak"
                            onclick={ let cb = props.on_later.clone(); Callback::from(move |_: MouseEvent| cb.emit(())) }>
                        { if props.later_pending { "Searching…" } else if props.later.is_empty() { "Add stages where the peak is" } else { "Search again" } }
                    </button>
                    if !props.later.is_empty() {
                        <button class="button" data-testid="clear-later"
                                onclick={ let d = d.clone(); Callback::from(move |_: MouseEvent| d.dispatch(Action::ClearLater)) }>
                            { "One stage" }
                        </button>
                    }
                </div>
            </div>
        </section>
    }
}
