//! The input image (letterboxed into the model input) with the patch grid and
//! each patch's region: at the input (with its halo) or, while a layer is
//! hovered in the memory chart, at that layer's output — where that output's
//! halos are cached, the strips an earlier patch computed (held in the
//! caches, or in place) hatched apart from what the patch computes. Detections, when a run produced any, are
//! drawn on top.

use std::rc::Rc;

use patchwise_core::preprocess::Letterbox;
use patchwise_core::region::Rect;
use yew::prelude::*;

use super::detections::Detections;
use super::patch_colour;
use crate::proto::Detection;
use crate::state::{Image, Model};
use crate::view::{self, Analysis};

/// Above this many patches the regions are drawn only on hover.
const MANY_PATCHES: usize = 16;

#[derive(Properties, PartialEq)]
pub struct PatchViewProps {
    pub model: Rc<Model>,
    pub image: Rc<Image>,
    pub analysis: Rc<Analysis>,
    pub hover: Option<usize>,
    pub detections: Option<Rc<Vec<Detection>>>,
}

#[component]
pub fn PatchView(props: &PatchViewProps) -> Html {
    let focus = use_state_eq(|| None::<usize>);
    let g = &props.model.graph;
    let a = &props.analysis;
    let Some(&input) = g.inputs.first() else { return html! {} };
    let (ih, iw) = view::hw(g, input);
    let img = &props.image;
    let lb = Letterbox::fit(img.width as usize, img.height as usize, iw, ih);

    // Which tensor's regions to draw.
    let hovered_stage_op = props.hover.filter(|&i| a.report.layers.get(i).is_some_and(|l| l.in_patch_stage));
    let t = hovered_stage_op.map_or(input, |i| g.nodes[i].output());
    let (th, tw) = view::hw(g, t);
    let (sy, sx) = (ih as f64 / th.max(1) as f64, iw as f64 / tw.max(1) as f64);
    let rects = a.rects(t);
    let strips = a.cached_strips(t);
    let n = rects.len();
    let map = |r: &Rect| (r.x as f64 * sx, r.y as f64 * sy, r.w as f64 * sx, r.h as f64 * sy);

    // The grid of cells at the stage output, drawn in input coordinates.
    let cells: Vec<Rect> = a.patches.as_ref().map(|p| a.rects(p.output)).unwrap_or_default();
    let (oh, ow) = a.patches.as_ref().map_or((1, 1), |p| view::hw(g, p.output));
    let (cy, cx) = (ih as f64 / oh as f64, iw as f64 / ow as f64);

    let cached_here = strips.iter().any(|s| !s.is_empty());
    let what = match (hovered_stage_op, a.schedule.split) {
        (_, None) => "No patching: every layer runs on the whole image.".to_string(),
        (Some(i), _) if cached_here => format!(
            "Regions each patch holds of op {i}'s output ({tw}×{th}), scaled onto the image: hatched, the strips an earlier \
             patch computed (kept in the halo caches, or in place where the tensor is held whole); the rest it computes."
        ),
        (Some(i), _) => format!("Regions each patch computes of op {i}'s output ({tw}×{th}), scaled onto the image."),
        (None, Some(_)) => "Input region each patch reads: its cell of the stage output plus the halo.".to_string(),
    };
    let focus_info = (*focus).and_then(|p| rects.get(p).map(|r| (p, *r))).map(|(p, r)| {
        let cell = cells.get(p).copied().unwrap_or_default();
        format!(
            "patch {} of {n}: rows {}–{}, columns {}–{} ({}×{} of {}×{}){}",
            p + 1,
            r.y,
            r.y_end() - 1,
            r.x,
            r.x_end() - 1,
            r.w,
            r.h,
            tw,
            th,
            if t == input {
                format!("; its own cell is {}×{} at the stage output", cell.w, cell.h)
            } else {
                String::new()
            }
        )
    });
    let largest = rects.iter().map(|r| r.area()).max().unwrap_or(0);

    html! {
        <section class="card patch-card">
            <div class="card-head">
                <h2>{ "Patches on the input" }</h2>
                <span class="muted small">{ format!("{} · {}×{} → model input {}×{}", img.name, img.width, img.height, iw, ih) }</span>
            </div>
            <div class="patch-figure">
                <svg class="patch-svg" viewBox={format!("0 0 {iw} {ih}")} data-testid="patch-view"
                     data-patches={n.to_string()} data-tensor={t.to_string()}
                     data-cached-strips={strips.iter().map(Vec::len).sum::<usize>().to_string()}
                     onmouseleave={ let f = focus.clone(); Callback::from(move |_: MouseEvent| f.set(None)) }>
                    <defs>
                        <pattern id="strip-hatch" width="3" height="3" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
                            <rect width="1.2" height="3" fill="#0d9488" />
                        </pattern>
                    </defs>
                    <rect class="letterbox" x="0" y="0" width={iw.to_string()} height={ih.to_string()} />
                    <image href={img.url.clone()} x={lb.pad_x.to_string()} y={lb.pad_y.to_string()}
                           width={(img.width as f32 * lb.scale).to_string()} height={(img.height as f32 * lb.scale).to_string()}
                           preserveAspectRatio="none" />
                    { for rects.iter().enumerate().map(|(p, r)| {
                        let (x, y, w, h) = map(r);
                        let colour = patch_colour(p, n);
                        let dim = focus.is_some_and(|f| f != p);
                        // Many overlapping outlines are a web: past MANY_PATCHES only the hovered one is drawn.
                        let quiet = n > MANY_PATCHES && *focus != Some(p);
                        let f = focus.clone();
                        let enter = Callback::from(move |_: MouseEvent| f.set(Some(p)));
                        let f = focus.clone();
                        let onfocus = Callback::from(move |_: FocusEvent| f.set(Some(p)));
                        html! {
                            <rect class={classes!("region", dim.then_some("dim"), quiet.then_some("quiet"), (*focus == Some(p)).then_some("focus"))}
                                  x={x.to_string()} y={y.to_string()} width={w.to_string()} height={h.to_string()}
                                  style={format!("stroke: {colour}; fill: {colour}")} onmouseenter={enter} {onfocus}
                                  tabindex="0" aria-label={format!("patch {} of {n}: {}×{} at ({}, {})", p + 1, r.w, r.h, r.x, r.y)}>
                                <title>{ format!("patch {}: {}×{} at ({}, {})", p + 1, r.w, r.h, r.x, r.y) }</title>
                            </rect>
                        }
                    }) }
                    { for strips.iter().enumerate().flat_map(|(p, s)| s.iter().map(move |r| (p, *r))).map(|(p, r)| {
                        let (x, y, w, h) = map(&r);
                        // Like the regions: with many patches only the hovered one's.
                        let shown = n <= MANY_PATCHES || *focus == Some(p);
                        html! {
                            <rect class={classes!("cached-strip", (!shown).then_some("quiet"), focus.is_some_and(|f| f != p).then_some("dim"))}
                                  x={x.to_string()} y={y.to_string()} width={w.to_string()} height={h.to_string()}
                                  data-patch={p.to_string()}>
                                <title>{ format!("patch {}: {}×{} at ({}, {}) computed by an earlier patch, not recomputed", p + 1, r.w, r.h, r.x, r.y) }</title>
                            </rect>
                        }
                    }) }
                    { for cells.iter().map(|c| html! {
                        <rect class="cell" x={(c.x as f64 * cx).to_string()} y={(c.y as f64 * cy).to_string()}
                              width={(c.w as f64 * cx).to_string()} height={(c.h as f64 * cy).to_string()} />
                    }) }
                    if let Some(d) = props.detections.clone() {
                        <Detections detections={d} scale={lb.scale} pad_x={lb.pad_x} pad_y={lb.pad_y} />
                    }
                </svg>
            </div>
            <p class="small">{ what }</p>
            <p class="small muted" data-testid="patch-info">
                { focus_info.unwrap_or_else(|| if n > 0 {
                    format!("{n} patches; the largest reads {:.0} % of this tensor. Hover a region for its rows and columns{}.",
                        largest as f64 * 100.0 / (th * tw).max(1) as f64,
                        if n > MANY_PATCHES { " (with this many patches, one region is drawn at a time)" } else { "" })
                } else { String::new() }) }
            </p>
        </section>
    }
}
