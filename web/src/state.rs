//! All app state in one `Reducible`: the model and image, the schedule
//! settings, the worker's results, and what is pending.

use std::cell::Cell;
use std::rc::Rc;

use patchwise_core::boards::{self, Board};
use patchwise_core::graph::Graph;
use yew::prelude::*;

use crate::proto::{Detection, ImageInfo, Mode, RunOut, Sched, SearchOut};
use crate::share::Settings;
use crate::view::{self, Analysis};

thread_local! {
    static NEXT_ID: Cell<u64> = const { Cell::new(1) };
}

/// A fresh id for a model, image or worker request.
pub fn next_id() -> u64 {
    NEXT_ID.with(|c| {
        let id = c.get();
        c.set(id + 1);
        id
    })
}

/// A loaded, validated model.
#[derive(Debug)]
pub struct Model {
    pub id: u64,
    pub name: String,
    pub bytes: Rc<Vec<u8>>,
    pub graph: Rc<Graph>,
    /// Operators that may end a patch stage.
    pub splits: Rc<Vec<usize>>,
}

impl PartialEq for Model {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Model {
    pub fn load(name: &str, bytes: Vec<u8>) -> Result<Self, String> {
        let graph = patchwise_core::loader::load(&bytes).map_err(|e| format!("{name}: {e}"))?;
        Ok(Self {
            id: next_id(),
            name: name.to_string(),
            splits: Rc::new(view::legal_splits(&graph)),
            bytes: Rc::new(bytes),
            graph: Rc::new(graph),
        })
    }
}

/// A decoded image (its pixels stay in the worker; the page shows `url`).
#[derive(Debug, PartialEq)]
pub struct Image {
    pub id: u64,
    pub name: String,
    pub bytes: Rc<Vec<u8>>,
    /// Object URL of the bytes.
    pub url: String,
    pub width: u32,
    pub height: u32,
}

/// An image waiting for the worker to decode it.
#[derive(Clone, Debug, PartialEq)]
pub struct PendingImage {
    pub id: u64,
    pub name: String,
    pub bytes: Rc<Vec<u8>>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct State {
    pub model: Rc<Model>,
    pub image: Rc<Image>,
    pub split: Option<usize>,
    /// `(rows, cols)`; ignored without a split.
    pub grid: (usize, usize),
    pub mode: Mode,
    /// The board whose SRAM sets the budget (`None`: a custom budget).
    pub board: Option<&'static Board>,
    /// Arena budget in bytes (a board's: its SRAM less `boards::STACK_RESERVE`, as the CLI's `--board`).
    pub budget: usize,
    /// The report of the current settings (recomputed on every change).
    pub analysis: Rc<Analysis>,
    /// The schedule search for `search_key = (model id, mode)`.
    pub search: Option<Rc<SearchOut>>,
    pub search_key: Option<(u64, Mode)>,
    /// Request id of the search under way.
    pub search_pending: Option<u64>,
    /// Apply the search's best schedule for the budget when it arrives.
    pub auto_pending: bool,
    pub run: Option<Rc<RunOut>>,
    pub run_pending: Option<u64>,
    pub image_pending: Option<PendingImage>,
    /// The last error (a core `Error`'s text), shown inline.
    pub error: Option<String>,
    /// The operator hovered in the memory chart.
    pub hover: Option<usize>,
    /// Boxes to draw over the image (filled by a detector's decoder).
    pub detections: Option<Rc<Vec<Detection>>>,
}

pub enum Action {
    SetSplit(Option<usize>),
    SetRows(usize),
    SetCols(usize),
    SetMode(Mode),
    /// A board preset by name (`None`: custom budget).
    SetBoard(Option<String>),
    SetBudget(usize),
    /// Apply a schedule (a click on the Pareto chart).
    Apply(Sched),
    /// Apply the search's best schedule within the budget.
    Auto,
    SearchStarted {
        id: u64,
        key: (u64, Mode),
    },
    SearchDone {
        id: u64,
        result: Result<SearchOut, String>,
    },
    RunStarted(u64),
    RunDone {
        id: u64,
        result: Result<RunOut, String>,
    },
    LoadModel {
        name: String,
        bytes: Vec<u8>,
    },
    ImageStarted(PendingImage),
    ImageDone {
        id: u64,
        result: Result<ImageInfo, String>,
    },
    Error(String),
    DismissError,
    Hover(Option<usize>),
    SetDetections(Option<Vec<Detection>>),
}

fn mime(name: &str, bytes: &[u8]) -> &'static str {
    if bytes.starts_with(&[0xFF, 0xD8]) || name.to_ascii_lowercase().ends_with(".jpg") {
        "image/jpeg"
    } else {
        "image/png"
    }
}

impl State {
    /// The bundled model and image, with settings from the URL.
    pub fn initial(settings: &Settings) -> Self {
        let model =
            Model::load(crate::DEFAULT_MODEL_NAME, crate::DEFAULT_MODEL.to_vec()).expect("the bundled model loads");
        let (w, h) = crate::DEFAULT_IMAGE_SIZE;
        let image = Image {
            id: next_id(),
            name: crate::DEFAULT_IMAGE_NAME.into(),
            bytes: Rc::new(crate::DEFAULT_IMAGE.to_vec()),
            url: crate::dom::blob_url(crate::DEFAULT_IMAGE, "image/png"),
            width: w,
            height: h,
        };
        let board = match (&settings.board, settings.budget) {
            (Some(b), _) => boards::board(b),
            (None, Some(_)) => None,
            (None, None) => boards::board(crate::DEFAULT_BOARD),
        };
        let budget = board.map(Board::arena_budget).or(settings.budget).unwrap_or(320 * 1024);
        let mode = settings.mode.unwrap_or_default();
        let g = &model.graph;
        let mut split = settings.split.flatten().filter(|s| model.splits.contains(s));
        let mut grid = view::clamp_grid(g, split, settings.grid.unwrap_or((2, 2)));
        let auto_pending = settings.split.is_none() || (settings.split != Some(None) && split.is_none());
        let analysis = match Analysis::new(g, view::schedule(split, grid), mode) {
            Ok(a) => a,
            Err(_) => {
                (split, grid) = (None, (2, 2));
                Analysis::new(g, Sched::LAYER_BY_LAYER, mode).expect("layer by layer always plans")
            }
        };
        State {
            model: Rc::new(model),
            image: Rc::new(image),
            split,
            grid,
            mode,
            board,
            budget,
            analysis: Rc::new(analysis),
            search: None,
            search_key: None,
            search_pending: None,
            auto_pending,
            run: None,
            run_pending: None,
            image_pending: None,
            error: None,
            hover: None,
            detections: None,
        }
    }

    pub fn schedule(&self) -> Sched {
        view::schedule(self.split, self.grid)
    }

    /// The search for the current model and mode, if it has arrived.
    pub fn current_search(&self) -> Option<&Rc<SearchOut>> {
        self.search.as_ref().filter(|_| self.search_key == Some((self.model.id, self.mode)))
    }

    /// Whether the page shows settled numbers (search done, nothing pending to apply).
    pub fn ready(&self) -> bool {
        self.current_search().is_some() && !self.auto_pending && self.search_pending.is_none()
    }

    pub fn settings(&self) -> Settings {
        Settings {
            split: Some(self.split),
            grid: self.split.map(|_| self.grid),
            mode: Some(self.mode),
            board: self.board.map(|b| b.name.to_string()),
            budget: Some(self.budget),
        }
    }

    /// Re-plans with new settings; on a schedule the graph rejects, keeps the old ones.
    fn replan(&mut self, split: Option<usize>, grid: (usize, usize), mode: Mode) {
        let grid = view::clamp_grid(&self.model.graph, split, grid);
        match Analysis::new(&self.model.graph, view::schedule(split, grid), mode) {
            Ok(a) => {
                (self.split, self.grid, self.mode) = (split, grid, mode);
                self.analysis = Rc::new(a);
            }
            Err(e) => self.error = Some(e),
        }
    }

    fn apply(&mut self, s: Sched) {
        self.replan(s.split, if s.split.is_some() { s.grid } else { self.grid }, self.mode);
    }

    /// Applies the best schedule within the budget if the search is here; else waits for it.
    fn auto(&mut self) {
        let Some(search) = self.current_search().cloned() else {
            self.auto_pending = true;
            return;
        };
        self.auto_pending = false;
        match search.to_core().best_within(self.budget) {
            Ok(c) => self.apply(c.schedule.into()),
            Err(e) => self.error = Some(e.to_string()),
        }
    }
}

impl Reducible for State {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut s = Rc::unwrap_or_clone(self);
        match action {
            Action::SetSplit(split) => {
                s.auto_pending = false;
                s.replan(split, s.grid, s.mode)
            }
            Action::SetRows(r) => s.replan(s.split, (r, s.grid.1), s.mode),
            Action::SetCols(c) => s.replan(s.split, (s.grid.0, c), s.mode),
            Action::SetMode(m) => s.replan(s.split, s.grid, m),
            Action::SetBoard(name) => {
                s.board = name.as_deref().and_then(boards::board);
                if let Some(b) = s.board {
                    s.budget = b.arena_budget();
                }
            }
            Action::SetBudget(b) => {
                s.board = None;
                s.budget = b.max(1);
            }
            Action::Apply(sched) => {
                s.auto_pending = false;
                s.apply(sched)
            }
            Action::Auto => {
                s.error = None;
                s.auto()
            }
            Action::SearchStarted { id, key } => {
                s.search_pending = Some(id);
                s.search_key = Some(key);
                s.search = None;
            }
            Action::SearchDone { id, result } => {
                if s.search_pending != Some(id) {
                    return Rc::new(s);
                }
                s.search_pending = None;
                match result {
                    Ok(out) => {
                        s.search = Some(Rc::new(out));
                        if s.auto_pending {
                            s.auto();
                        }
                    }
                    Err(e) => {
                        s.auto_pending = false;
                        s.error = Some(e);
                    }
                }
            }
            Action::RunStarted(id) => s.run_pending = Some(id),
            Action::RunDone { id, result } => {
                if s.run_pending != Some(id) {
                    return Rc::new(s);
                }
                s.run_pending = None;
                match result {
                    Ok(r) => {
                        s.detections = r.detections.clone().map(Rc::new);
                        s.run = Some(Rc::new(r));
                    }
                    Err(e) => s.error = Some(format!("run: {e}")),
                }
            }
            Action::LoadModel { name, bytes } => match Model::load(&name, bytes) {
                Ok(m) => {
                    let g = m.graph.clone();
                    s.model = Rc::new(m);
                    s.split = None;
                    s.analysis = Rc::new(match Analysis::new(&g, Sched::LAYER_BY_LAYER, s.mode) {
                        Ok(a) => a,
                        Err(e) => {
                            s.error = Some(e);
                            return Rc::new(s);
                        }
                    });
                    s.grid = (2, 2);
                    s.search = None;
                    s.search_key = None;
                    s.search_pending = None;
                    s.run = None;
                    s.run_pending = None;
                    s.detections = None;
                    s.hover = None;
                    s.error = None;
                    s.auto_pending = true;
                }
                Err(e) => s.error = Some(e),
            },
            Action::ImageStarted(p) => s.image_pending = Some(p),
            Action::ImageDone { id, result } => {
                let Some(p) = s.image_pending.take_if(|p| p.id == id) else {
                    return Rc::new(s);
                };
                match result {
                    Ok(info) => {
                        crate::dom::revoke(&s.image.url);
                        s.image = Rc::new(Image {
                            id: p.id,
                            url: crate::dom::blob_url(&p.bytes, mime(&p.name, &p.bytes)),
                            name: p.name,
                            bytes: p.bytes,
                            width: info.width,
                            height: info.height,
                        });
                        s.run = None;
                        s.detections = None;
                        s.error = None;
                    }
                    Err(e) => s.error = Some(format!("{}: {e}", p.name)),
                }
            }
            Action::Error(e) => s.error = Some(e),
            Action::DismissError => s.error = None,
            Action::Hover(h) => s.hover = h,
            Action::SetDetections(d) => s.detections = d.map(Rc::new),
        }
        Rc::new(s)
    }
}
