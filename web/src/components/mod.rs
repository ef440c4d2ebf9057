//! One function component per file, each with its own `Props`.

pub mod camera_view;
pub mod controls;
pub mod detections;
pub mod drop_zone;
pub mod error_banner;
pub mod explore_view;
pub mod file_picker;
pub mod graph_view;
pub mod header;
pub mod hint;
pub mod layer_table;
pub mod memory_chart;
pub mod model_card;
pub mod numbers;
pub mod pareto_chart;
pub mod patch_view;
pub mod rd_card;
pub mod rd_compare;
pub mod refused_model;
pub mod run_panel;
pub mod status;
pub mod tour;
pub mod watch_view;

/// Round tick values from 0 to at least `max`: about `n` of them.
pub fn ticks(max: f64, n: usize) -> Vec<f64> {
    if max <= 0.0 || !max.is_finite() {
        return vec![0.0];
    }
    let raw = max / n.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0].iter().map(|m| m * mag).find(|s| *s >= raw).unwrap_or(10.0 * mag);
    let mut t = Vec::new();
    let mut v = 0.0;
    while v <= max * 1.0001 {
        t.push(v);
        v += step;
    }
    t
}

/// Round tick values inside `lo..=hi`: about `n` of them.
pub fn ticks_between(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    let span = hi - lo;
    if span <= 0.0 || !span.is_finite() {
        return vec![lo];
    }
    let raw = span / n.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0].iter().map(|m| m * mag).find(|s| *s >= raw).unwrap_or(10.0 * mag);
    let mut v = (lo / step).ceil() * step;
    let mut t = Vec::new();
    while v <= hi * 1.0001 {
        t.push(v);
        v += step;
    }
    t
}

/// The callbacks that make an operator `i` the hovered one (pointer and
/// keyboard focus alike), linking a view with the memory chart and the others.
pub fn hover_op(
    d: &yew::UseReducerDispatcher<crate::state::State>,
    i: usize,
) -> (yew::Callback<web_sys::MouseEvent>, yew::Callback<web_sys::FocusEvent>) {
    let (a, b) = (d.clone(), d.clone());
    (
        yew::Callback::from(move |_| a.dispatch(crate::state::Action::Hover(Some(i)))),
        yew::Callback::from(move |_| b.dispatch(crate::state::Action::Hover(Some(i)))),
    )
}

/// A distinct colour for patch `i` of `n`.
pub fn patch_colour(i: usize, n: usize) -> String {
    let hue = (i as f64 * 360.0 / n.max(1) as f64 + 200.0) % 360.0;
    format!("hsl({hue:.0}, 75%, 48%)")
}
