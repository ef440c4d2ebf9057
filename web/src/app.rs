//! The page: state, the worker bridge, effects, and the layout.

use std::rc::Rc;

use yew::prelude::*;
use yew_agent::worker::{use_worker_bridge, UseWorkerBridgeHandle, WorkerProvider};

use crate::agent::PlanWorker;
use crate::components::camera_view::CameraView;
use crate::components::controls::Controls;
use crate::components::drop_zone::DropZone;
use crate::components::error_banner::ErrorBanner;
use crate::components::explore_view::{ExploreView, OpenSpec};
use crate::components::graph_view::GraphView;
use crate::components::header::Header;
use crate::components::layer_table::LayerTable;
use crate::components::memory_chart::MemoryChart;
use crate::components::model_card::ModelCard;
use crate::components::numbers::Numbers;
use crate::components::pareto_chart::ParetoChart;
use crate::components::patch_view::PatchView;
use crate::components::rd_card::RdCard;
use crate::components::rd_compare::RdCompare;
use crate::components::refused_model::RefusedModel;
use crate::components::run_panel::RunPanel;
use crate::components::status::Status;
use crate::components::tour::Tour;
use crate::components::watch_view::WatchView;
use crate::proto::{Request, Response};
use crate::share::Settings;
use crate::state::{next_id, Action, Origin, PendingImage, State};
use crate::{dom, export, fmt, models};

/// The worker's script, next to the page.
pub const WORKER_PATH: &str = "worker.js";

#[component]
pub fn App() -> Html {
    html! {
        <WorkerProvider<PlanWorker> path={WORKER_PATH} lazy={false}>
            <Playground />
        </WorkerProvider<PlanWorker>>
    }
}

fn is_model(name: &str, bytes: &[u8]) -> bool {
    name.to_ascii_lowercase().ends_with(".tflite") || bytes.get(4..8) == Some(b"TFL3") || models::is_spec(name, bytes)
}

/// A classifier's labels file: one class name per line.
fn is_labels(name: &str) -> bool {
    name.to_ascii_lowercase().ends_with(".txt")
}

/// A PNG or JPEG by its signature or its name (a broken one still goes to the decoder, which says what is wrong).
fn is_image(name: &str, bytes: &[u8]) -> bool {
    let n = name.to_ascii_lowercase();
    bytes.starts_with(b"\x89PNG")
        || bytes.starts_with(&[0xFF, 0xD8])
        || [".png", ".jpg", ".jpeg"].iter().any(|e| n.ends_with(e))
}

/// What a run is doing, for the status line: which of its runs, which patch, which op.
fn run_step_text(state: &State, at: crate::proto::RunAt) -> String {
    let g = &state.model.graph;
    let op = if at.node < g.nodes.len() { crate::view::op_label(g, at.node) } else { format!("op {}", at.node) };
    let which = if at.scheduled() { "under the schedule" } else { "layer by layer" };
    let pass = at.pass % 2 + 1;
    let patch = match at.patch {
        Some(p) => format!("patch {} of {}, ", p + 1, state.grid.0 * state.grid.1),
        None => String::new(),
    };
    format!("running {which} (run {pass} of 2): {patch}{op} (of {} ops)", g.nodes.len())
}

/// The page's views, one tab each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tab {
    Analysis,
    Watch,
    Explore,
}

#[component]
fn Playground() -> Html {
    let state = use_reducer(|| State::initial(&Settings::parse(&dom::url_settings())));
    let dispatch = state.dispatcher();

    // The bridge, for its own callback: a search's progress asks the worker to go on
    // (one slice a message, so that a cancel is heard between two).
    let slot: Rc<std::cell::RefCell<Option<UseWorkerBridgeHandle<PlanWorker>>>> = use_mut_ref(|| None);
    let bridge = {
        let (d, slot) = (dispatch.clone(), slot.clone());
        use_worker_bridge::<PlanWorker, _>(move |resp: Response| {
            d.dispatch(match resp {
                Response::Search { id, result } => {
                    // Go on with the other halo families (cached, per layer) in the worker.
                    if let (Ok(_), Some(b)) = (&result, slot.borrow().as_ref()) {
                        b.send(Request::SearchContinue { id });
                    }
                    Action::SearchDone { id, result }
                }
                Response::Run { id, result } => Action::RunDone { id, result },
                Response::Image { id, result } => Action::ImageDone { id, result },
                Response::SearchProgress { id, done, total, halos } => {
                    // A cancelled search's worker state is gone: this continue is ignored.
                    if let Some(b) = slot.borrow().as_ref() {
                        b.send(Request::SearchContinue { id });
                    }
                    Action::SearchProgress { id, done, total, halos }
                }
                Response::SearchFamilies { id, result } => Action::FamiliesDone { id, result },
                Response::LaterStages { id, result, millis } => Action::LaterDone { id, result, millis },
                Response::RunProgress { id, at } => Action::RunProgress { id, at },
                Response::Time { id, result } => Action::TimeDone { id, result },
                // The Explore, camera and watch views' own workers answer them.
                Response::Explore { .. }
                | Response::CameraReady { .. }
                | Response::Frame { .. }
                | Response::Watch { .. } => return,
            })
        })
    };
    *slot.borrow_mut() = Some(bridge.clone());

    // Search whenever the model or the input mode changes (with RD on, the
    // model without RD too, for the side-by-side view), unless already known.
    {
        let (bridge, d, st) = (bridge.clone(), dispatch.clone(), state.clone());
        use_effect_with((state.model.id, state.loaded.model.id, state.rd, state.mode, state.search_epoch), move |_| {
            let mut wanted = vec![st.model.clone()];
            if st.rd {
                wanted.push(st.loaded.model.clone());
            }
            for m in wanted {
                if !st.search_known(m.id) {
                    let id = next_id();
                    d.dispatch(Action::SearchStarted { id, key: (m.id, st.mode) });
                    bridge.send(Request::Search { id, model: (*m.source).clone(), mode: st.mode });
                }
            }
        });
    }

    // Keep the settings in the URL once the view has settled.
    {
        let hash = state.settings().to_hash();
        use_effect_with((hash, state.auto_pending), |(hash, pending)| {
            if !*pending {
                dom::replace_hash(hash);
            }
        });
    }

    let on_error = {
        let d = dispatch.clone();
        Callback::from(move |e: String| d.dispatch(Action::Error(e)))
    };
    let on_model = {
        let d = dispatch.clone();
        Callback::from(move |(name, bytes): (String, Vec<u8>)| {
            d.dispatch(if models::is_spec(&name, &bytes) {
                Action::LoadSpec { text: String::from_utf8_lossy(&bytes).into_owned(), name }
            } else if is_labels(&name) {
                Action::LoadLabels { text: String::from_utf8_lossy(&bytes).into_owned(), name }
            } else {
                Action::LoadModel { name, bytes }
            })
        })
    };
    let on_image = {
        let (d, bridge) = (dispatch.clone(), bridge.clone());
        Callback::from(move |(name, bytes): (String, Vec<u8>)| {
            let id = next_id();
            let bytes = Rc::new(bytes);
            d.dispatch(Action::ImageStarted(PendingImage { id, name, bytes: bytes.clone() }));
            bridge.send(Request::DecodeImage { id, bytes: bytes.to_vec() });
        })
    };
    let on_drop = {
        let (on_model, on_image, d) = (on_model.clone(), on_image.clone(), dispatch.clone());
        Callback::from(move |(name, bytes): (String, Vec<u8>)| {
            if is_model(&name, &bytes) || is_labels(&name) {
                on_model.emit((name, bytes))
            } else if is_image(&name, &bytes) {
                on_image.emit((name, bytes))
            } else {
                d.dispatch(Action::Error(format!(
                    "{name}: neither a model (.tflite, architecture spec .json), an image (PNG, JPEG) nor class labels (.txt)"
                )))
            }
        })
    };
    let on_run = {
        let (d, bridge, state) = (dispatch.clone(), bridge.clone(), state.clone());
        Callback::from(move |_| {
            let id = next_id();
            d.dispatch(Action::RunStarted(id));
            bridge.send(Request::Run {
                id,
                model: (*state.model.source).clone(),
                image: state.image.bytes.to_vec(),
                schedule: state.schedule(),
                mode: state.mode,
            });
        })
    };
    let on_later = {
        let (d, bridge, state) = (dispatch.clone(), bridge.clone(), state.clone());
        Callback::from(move |_: ()| {
            let id = next_id();
            d.dispatch(Action::LaterStarted(id));
            // After the current schedule, and after each of the chosen family's front.
            let front = state
                .current_search()
                .map(|s| s.family(state.halo_choice).pareto.iter().map(|c| c.schedule).collect())
                .unwrap_or_default();
            bridge.send(Request::LaterStages {
                id,
                model: (*state.model.source).clone(),
                schedule: state.schedule(),
                front,
                mode: state.mode,
            });
        })
    };
    let on_time = {
        let (d, bridge, state) = (dispatch.clone(), bridge.clone(), state.clone());
        Callback::from(move |_| {
            let id = next_id();
            d.dispatch(Action::TimeStarted(id));
            bridge.send(Request::Time {
                id,
                model: (*state.model.source).clone(),
                image: state.image.bytes.to_vec(),
                schedule: state.schedule(),
                mode: state.mode,
                runs: crate::components::run_panel::TIME_RUNS,
            });
        })
    };
    let on_export = {
        let state = state.clone();
        Callback::from(move |_| {
            let mut doc = export::schedule_document(
                &state.analysis.report,
                state.current_search().map(|s| s.family(state.halo_choice)).as_ref(),
                Some(state.budget),
            );
            if state.rd {
                let base =
                    patchwise_core::plan::report(&state.loaded.model.graph, state.schedule().into(), state.mode.into());
                if let Ok(b) = base {
                    let what_if = state.model.origin == (Origin::Rd { what_if: true });
                    doc = doc.with_rd_baseline(&b, what_if);
                }
            }
            doc = doc
                .with_names(Some(&state.model.name), state.board.map(|b| b.name))
                .with_latency(&state.model.graph, state.mode.into());
            let stem = export::file_stem(&state.model.name, state.board);
            dom::download(
                &format!("{stem}-schedule.json"),
                &serde_json::to_string_pretty(&doc).unwrap_or_default(),
                "application/json",
            );
        })
    };
    let firmware_board = state.firmware_board;
    let on_firmware = {
        let state = state.clone();
        let dispatch = dispatch.clone();
        Callback::from(move |_| {
            let board = state.firmware_board;
            let stem = export::model_stem(&state.model.name);
            match export::firmware_zip(
                &state.model.graph,
                &stem,
                board,
                state.schedule().into(),
                state.mode,
                Some(&state.image.bytes),
            ) {
                Ok((name, bytes)) => dom::download_bytes(&name, &bytes, "application/zip"),
                Err(e) => dispatch.dispatch(Action::Error(e)),
            }
        })
    };
    let on_cancel_search = {
        let (d, bridge, state) = (dispatch.clone(), bridge.clone(), state.clone());
        Callback::from(move |_| {
            for &(id, _) in state.search_pending.iter().chain(&state.families_pending) {
                bridge.send(Request::SearchCancel { id });
            }
            d.dispatch(Action::CancelSearch)
        })
    };
    let on_search_again = {
        let d = dispatch.clone();
        Callback::from(move |_| d.dispatch(Action::SearchAgain))
    };
    let on_dismiss = {
        let d = dispatch.clone();
        Callback::from(move |_| d.dispatch(Action::DismissError))
    };

    let tab = use_state(|| Tab::Analysis);
    let tour = use_state(|| 0u32);
    let on_tour = {
        let (tour, tab) = (tour.clone(), tab.clone());
        Callback::from(move |_: MouseEvent| {
            tab.set(Tab::Analysis); // the tour points at the analysis controls
            tour.set(*tour + 1)
        })
    };
    let on_view = {
        let tab = tab.clone();
        Callback::from(move |t: Tab| tab.set(t))
    };
    let explore = tab.clone();
    let on_open_spec = {
        let (d, explore) = (dispatch.clone(), explore.clone());
        Callback::from(move |o: OpenSpec| {
            let p = &o.point;
            d.dispatch(Action::OpenSpec {
                spec: o.family.spec(p.resolution, p.width, false, o.classes),
                rd: p.rd,
                board: o.board,
                mode: o.mode,
            });
            explore.set(Tab::Analysis);
        })
    };

    let g = &state.model.graph;
    let model_summary = match g.inputs.first().map(|&t| &g.tensors[t]) {
        Some(t) => format!("{} ops · input {} {}", g.nodes.len(), fmt::shape(&t.shape), t.dtype.name()),
        None => format!("{} ops", g.nodes.len()),
    };
    let mut tasks: Vec<AttrValue> = Vec::new();
    // The progress of the pending search the page last heard from (cleared when it lands).
    let progress = state.search_progress.map(|(_, done, total, halos)| (done, total, halos));
    if !state.search_pending.is_empty() {
        tasks.push(match progress {
            Some((done, total, false)) => format!("searching schedules ({done} of {total} stage ends)").into(),
            _ => "searching schedules".into(),
        });
    } else if !state.families_pending.is_empty() {
        tasks.push(match progress {
            Some((done, total, true)) => {
                format!("weighing cached halos and per-layer choices ({done} of {total} schedules)").into()
            }
            _ => "weighing cached halos and per-layer choices".into(),
        });
    }
    if state.run_pending.is_some() {
        tasks.push(match state.run_at {
            Some(at) => run_step_text(&state, at).into(),
            None => "running the model".into(),
        });
    }
    if state.image_pending.is_some() {
        tasks.push("decoding the image".into());
    }
    if state.later_pending.is_some() {
        tasks.push("searching later patch stages".into());
    }
    let search = state.current_search().cloned();
    let share_url = format!("#{}", state.settings().to_hash());

    html! {
        <DropZone on_file={on_drop} on_error={on_error.clone()}>
            <Header model_name={state.model.name.clone()} model_summary={model_summary}
                    image_name={state.image.name.clone()}
                    image_summary={format!("{}×{}", state.image.width, state.image.height)}
                    on_model={on_model} on_image={on_image} on_error={on_error}
                    on_export={on_export} on_firmware={on_firmware}
                    firmware_board={AttrValue::from(firmware_board.name)} share_url={share_url}>
                <Status tasks={tasks} ready={state.ready()} progress={progress.filter(|p| !p.2).map(|(d, t, _)| (d, t))}
                        on_cancel={(!state.search_pending.is_empty()).then_some(on_cancel_search)}
                        on_search_again={state.cancelled().then_some(on_search_again)} />
            </Header>
            <ErrorBanner message={state.error.clone().map(AttrValue::from)} on_dismiss={on_dismiss} />
            <RefusedModel refused={state.refused.clone()} current={state.model.name.clone()} />
            <nav class="views" aria-label="views"><div class="view-tabs" role="tablist">
                { for [(Tab::Analysis, "view-analysis", "Analyse a model"), (Tab::Watch, "view-watch", "Watch it run"), (Tab::Explore, "view-explore", "Explore the design space")]
                    .into_iter().map(|(t, id, label)| html! {
                        <button role="tab" class={classes!("view-tab", (*tab == t).then_some("on"))} aria-selected={(*tab == t).to_string()}
                                data-testid={id} onclick={on_view.reform(move |_| t)}>{ label }</button>
                    }) }
            </div></nav>
            <main class="explore-page">
                <ExploreView board={state.board.map(|b| b.name)} mode={state.mode} visible={*tab == Tab::Explore}
                             on_open={on_open_spec} />
            </main>
            <main class="watch-page" hidden={*tab != Tab::Watch}>
                <WatchView model={state.model.clone()} image={state.image.clone()} analysis={state.analysis.clone()}
                           visible={*tab == Tab::Watch} />
            </main>
            <div class="layout" data-testid="analysis" data-ready={state.ready().to_string()} hidden={*tab != Tab::Analysis}>
                <aside class="side">
                    <Controls model={state.model.clone()} split={state.split} grid={state.grid} mode={state.mode} halo={state.halo}
                              halo_choice={state.halo_choice} weighing_halos={!state.families_pending.is_empty()}
                              later={state.later} later_pending={state.later_pending.is_some()}
                              later_answers={state.later_answers} later_millis={state.later_millis} on_later={on_later}
                              board={state.board.map(|b| b.name)} budget={state.budget}
                              firmware_board={state.firmware_board.name}
                              searching={!state.search_pending.is_empty()}
                              search_limit={state.current_search().and_then(|s| patchwise_core::plan::search_limit_note(s.splits_untried))}
                              dispatch={dispatch.clone()} />
                    <ModelCard loaded={state.loaded.clone()} dispatch={dispatch.clone()} />
                    <RdCard loaded={state.loaded.clone()} rd={state.rd} dispatch={dispatch.clone()} />
                </aside>
                <main class="content">
                    <Numbers analysis={state.analysis.clone()} budget={state.budget} board={state.board.map(|b| b.name)}
                             flash={state.flash_fit()} searching={state.provisional()} />
                    if state.rd {
                        <RdCompare base={state.loaded.model.clone()} rd_model={state.model.clone()}
                                   analysis={state.analysis.clone()} base_search={state.base_search().cloned()}
                                   rd_search={state.current_search().cloned()} budget={state.budget} halo_choice={state.halo_choice}
                                   board={state.board.map(|b| b.name)} cancelled={state.search_cancelled}
                                   dispatch={dispatch.clone()} />
                    }
                    <MemoryChart analysis={state.analysis.clone()} budget={state.budget} hover={state.hover}
                                 dispatch={dispatch.clone()} />
                    <LayerTable model={state.model.clone()} analysis={state.analysis.clone()} hover={state.hover}
                                board={state.board.map(|b| b.name)} dispatch={dispatch.clone()} />
                    <GraphView model={state.model.clone()} analysis={state.analysis.clone()} hover={state.hover}
                               dispatch={dispatch.clone()} />
                    <div class="two">
                        <ParetoChart search={search} current={state.schedule()} halo_choice={state.halo_choice}
                                     stages={state.later_tried()}
                                     current_peak={state.analysis.report.patch_peak_bytes}
                                     current_macs={state.analysis.report.macs} budget={state.budget}
                                     searching={state.current_search().is_none() && !state.cancelled()} dispatch={dispatch.clone()} />
                        <PatchView model={state.model.clone()} image={state.image.clone()} analysis={state.analysis.clone()}
                                   hover={state.hover} detections={state.detections.clone()} />
                    </div>
                    <RunPanel run={state.run.clone()} pending={state.run_pending.is_some()}
                              searching={state.provisional()} schedule={state.schedule()}
                              mode={state.mode} image_name={state.image.name.clone()} on_run={on_run}
                              labels={state.labels.clone()} timing={state.timing.clone()}
                              timing_pending={state.timing_pending.is_some()} timing_error={state.timing_error.clone()} {on_time}
                              overhead_pct={state.analysis.report.overhead_pct} />
                    <CameraView model={state.model.clone()} schedule={state.schedule()} mode={state.mode}
                                labels={state.labels.clone()} />
                </main>
            </div>
            <footer class="foot muted small">
                { "patchwise · everything runs in your browser (Rust → WebAssembly); nothing is uploaded. \
                   Drop a .tflite model, an architecture spec .json or a PNG/JPEG image anywhere on the page. " }
                <button class="link-button" data-testid="tour-restart" onclick={on_tour}>{ "Take the tour" }</button>
            </footer>
            <Tour restart={*tour} />
        </DropZone>
    }
}
