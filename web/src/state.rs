//! All app state in one `Reducible`: the model and image, the schedule
//! settings, the worker's results, and what is pending.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use patchwise_core::boards::{self, Board};
use patchwise_core::graph::Graph;
use patchwise_core::patch::Halo;
use patchwise_core::plan::{HaloChoice, Later};
use patchwise_core::spec::ArchSpec;
use yew::prelude::*;

use crate::models;
use crate::proto::{Cand, Detection, ImageInfo, Mode, RunAt, RunOut, Sched, SearchOut, Source, TimeOut};
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

/// Where a model came from.
#[derive(Clone, Debug, PartialEq)]
pub enum Origin {
    /// A trained model shipped with the page (`models::SHIPPED`, by stem).
    Shipped(&'static str),
    /// A preset of `spec::ArchSpec::PRESETS` (base name).
    Preset(&'static str),
    /// A loaded `.tflite`.
    File,
    /// A loaded architecture spec (`.json`).
    SpecFile,
    /// The receptive-field-redistributed variant of another model; `what_if`:
    /// of a trained model's inferred architecture (its weights would have to be retrained).
    Rd { what_if: bool },
}

/// A loaded, validated model.
#[derive(Debug)]
pub struct Model {
    pub id: u64,
    pub name: String,
    pub origin: Origin,
    /// What the worker loads.
    pub source: Rc<Source>,
    /// The architecture spec, for a preset, a spec file or an RD variant.
    pub spec: Option<Rc<ArchSpec>>,
    pub graph: Rc<Graph>,
    /// Operators that may end a patch stage.
    pub splits: Rc<Vec<usize>>,
    /// Why no stage goes further (the first operator that cannot be in one).
    pub stage_limit: Option<Rc<str>>,
    /// The firmware's constant pools (`fit::pool_bytes`), for the flash check.
    pub pool_bytes: Option<usize>,
}

impl PartialEq for Model {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Model {
    fn new(name: String, origin: Origin, source: Source, spec: Option<ArchSpec>, graph: Graph) -> Self {
        Self {
            id: next_id(),
            name,
            origin,
            source: Rc::new(source),
            spec: spec.map(Rc::new),
            splits: Rc::new(view::legal_splits(&graph)),
            stage_limit: patchwise_core::plan::stage_limit(&graph).map(Rc::from),
            pool_bytes: patchwise_core::fit::pool_bytes(&graph).ok(),
            graph: Rc::new(graph),
        }
    }

    /// A `.tflite` file.
    pub fn load(name: &str, bytes: Vec<u8>) -> Result<Self, String> {
        let graph = patchwise_core::loader::load(&bytes).map_err(|e| format!("{name}: {e}"))?;
        Ok(Self::tflite(name, bytes, graph))
    }

    /// A `.tflite` file already loaded into `graph`.
    fn tflite(name: &str, bytes: Vec<u8>, graph: Graph) -> Self {
        Self::new(name.to_string(), Origin::File, Source::Tflite(bytes), None, graph)
    }

    /// An architecture spec, built with synthetic weights.
    pub fn from_spec(name: &str, origin: Origin, spec: ArchSpec) -> Result<Self, String> {
        let graph = models::build(&spec).map_err(|e| format!("{name}: {e}"))?;
        Ok(Self::new(name.to_string(), origin, Source::Spec(spec.clone()), Some(spec), graph))
    }

    /// The receptive-field-redistributed variant, as `plan MODEL --rd` builds it.
    pub fn rd_variant(&self) -> Result<Self, String> {
        let (spec, what_if) = models::rd_spec(self.spec.as_deref(), &self.graph)?;
        let name = if what_if {
            format!("{} → RD (what if)", self.name.trim_end_matches(".tflite"))
        } else if self.spec.as_ref().is_some_and(|s| s.name.ends_with("-rd")) {
            self.name.clone()
        } else {
            match self.origin {
                Origin::Preset(p) => format!("{p}-rd"),
                _ => format!("{} → RD", self.name.trim_end_matches(".json")),
            }
        };
        Self::from_spec(&name, Origin::Rd { what_if }, spec)
    }
}

/// A model and its RD variant (or why it has none).
#[derive(Clone, Debug, PartialEq)]
pub struct Loaded {
    pub model: Rc<Model>,
    pub rd: Result<Rc<Model>, String>,
}

impl Loaded {
    fn new(model: Model) -> Self {
        let rd = model.rd_variant().map(Rc::new);
        Self { model: Rc::new(model), rd }
    }
}

thread_local! {
    /// The bundled model and the presets, built once each (stable ids, so their searches are reused).
    static CATALOGUE: RefCell<Vec<(&'static str, Loaded)>> = const { RefCell::new(Vec::new()) };
}

/// A shipped model (`models::SHIPPED`) or a preset by base name.
pub fn catalogue(name: &str) -> Option<Loaded> {
    let shipped = models::shipped(name);
    let key = match shipped {
        Some(m) => m.stem,
        None => models::preset(name)?.0,
    };
    if let Some(l) = CATALOGUE.with(|c| c.borrow().iter().find(|(k, _)| *k == key).map(|(_, l)| l.clone())) {
        return Some(l);
    }
    let model = if let Some(s) = shipped {
        let mut m = Model::load(&format!("{}.tflite", s.stem), s.bytes.to_vec()).ok()?;
        m.origin = Origin::Shipped(s.stem);
        m
    } else {
        Model::from_spec(key, Origin::Preset(key), ArchSpec::preset(key)?).ok()?
    };
    let l = Loaded::new(model);
    CATALOGUE.with(|c| c.borrow_mut().push((key, l.clone())));
    Some(l)
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

/// Searches kept (by model id and input mode), so toggling RD or the input mode back is instant.
const SEARCH_CACHE: usize = 8;

#[derive(Clone, Debug, PartialEq)]
pub struct State {
    /// What was picked or loaded, and its RD variant.
    pub loaded: Loaded,
    /// Receptive-field redistribution on (only when `loaded.rd` is `Ok`).
    pub rd: bool,
    /// The model analysed: `loaded.model`, or its RD variant when `rd`.
    pub model: Rc<Model>,
    pub image: Rc<Image>,
    pub split: Option<usize>,
    /// `(rows, cols)`; ignored without a split.
    pub grid: (usize, usize),
    pub mode: Mode,
    /// Whether the patches recompute their shared halos (MCUNetV2) or cache them.
    pub halo: Halo,
    /// Patch stages after the first (found by `plan::later_stages` in the
    /// worker; cleared when the first stage changes).
    pub later: Later,
    /// The later-stage search under way.
    pub later_pending: Option<u64>,
    /// Later-stage searches answered so far (the benchmark waits on it).
    pub later_answers: u32,
    /// The last later-stage search's time in the worker.
    pub later_millis: f64,
    /// The model and mode the later-stage search under way is for.
    pub later_key: (u64, Mode),
    /// The several-stage schedules the last later-stage search tried, for
    /// that model and mode (the Pareto chart weighs them with the search's).
    pub later_tried: Option<((u64, Mode), Rc<Vec<Cand>>)>,
    /// The halo family the page's choices come from: recompute (MCUNetV2),
    /// cache, or auto (every family, per-layer mixtures included). The Auto
    /// button and the Pareto front are this family's.
    pub halo_choice: HaloChoice,
    /// The board whose SRAM sets the budget (`None`: a custom budget).
    pub board: Option<&'static Board>,
    /// Arena budget in bytes (a board's: its SRAM less `boards::STACK_RESERVE`, as the CLI's `--board`).
    pub budget: usize,
    /// The board the firmware download is for: the last board picked (a custom budget keeps it).
    pub firmware_board: &'static Board,
    /// The report of the current settings (recomputed on every change).
    pub analysis: Rc<Analysis>,
    /// Schedule searches by `(model id, mode)`, newest last.
    pub searches: Vec<((u64, Mode), Rc<SearchOut>)>,
    /// Searches under way: `(request id, (model id, mode))`.
    pub search_pending: Vec<(u64, (u64, Mode))>,
    /// Apply the search's best schedule for the budget when it arrives.
    pub auto_pending: bool,
    pub run: Option<Rc<RunOut>>,
    pub run_pending: Option<u64>,
    /// The last inference timing of this model, and the one under way.
    pub timing: Option<Rc<TimeOut>>,
    pub timing_pending: Option<u64>,
    /// Why the last timing was refused (shown in the timing section).
    pub timing_error: Option<String>,
    pub image_pending: Option<PendingImage>,
    /// The last error (a core `Error`'s text), shown inline.
    pub error: Option<String>,
    /// A model file that did not load: its operators, the ones patchwise
    /// cannot run marked (shown with the error; the previous model stays).
    pub refused: Option<Rc<Refused>>,
    /// The operator hovered in the memory chart.
    pub hover: Option<usize>,
    /// Boxes to draw over the image (filled by a detector's decoder).
    pub detections: Option<Rc<Vec<Detection>>>,
    /// Class names from a labels file (its name, one name per line), kept across models.
    pub labels: Option<Rc<(String, Vec<String>)>>,
    /// The latest progress of a pending search: `(request id, done, total,
    /// whether it is re-planning with cached halos)`.
    pub search_progress: Option<(u64, usize, usize, bool)>,
    /// Searches whose recomputed answer is in and whose other halo families
    /// are being weighed: `(request id, (model id, mode))`.
    pub families_pending: Vec<(u64, (u64, Mode))>,
    /// The user cancelled the searches under way: the schedule is theirs to
    /// set until they search again (or pick another model or input mode).
    pub search_cancelled: bool,
    /// Bumped by "search again", to start the searches anew.
    pub search_epoch: u32,
    /// Where the pending run is.
    pub run_at: Option<RunAt>,
}

/// A `.tflite` that did not load, as the loader outlines it.
#[derive(Clone, Debug, PartialEq)]
pub struct Refused {
    pub name: String,
    pub ops: Vec<patchwise_core::loader::OpOutline>,
}

pub enum Action {
    /// The bundled model or a preset, by name.
    SelectModel(String),
    /// Receptive-field redistribution on or off.
    SetRd(bool),
    /// An architecture spec file (`.json`).
    LoadSpec {
        name: String,
        text: String,
    },
    SetSplit(Option<usize>),
    SetRows(usize),
    SetCols(usize),
    SetMode(Mode),
    /// Recompute, cache or choose (auto) the halos neighbouring patches share.
    SetHaloChoice(HaloChoice),
    /// A later-stage search was sent to the worker.
    LaterStarted(u64),
    /// What it tried: the best for the budget is applied.
    LaterDone {
        id: u64,
        result: Result<Vec<crate::proto::Cand>, String>,
        millis: f64,
    },
    /// Back to one patch stage.
    ClearLater,
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
    /// Search `id` has evaluated `done` of `total` legal stage ends (or,
    /// `halos`, re-planned that many schedules with cached halos).
    SearchProgress {
        id: u64,
        done: usize,
        total: usize,
        halos: bool,
    },
    /// Search `id` with every halo family.
    FamiliesDone {
        id: u64,
        result: Result<SearchOut, String>,
    },
    /// The searches under way are dropped (the page told the worker).
    CancelSearch,
    /// Searches the current model again after a cancel.
    SearchAgain,
    RunProgress {
        id: u64,
        at: RunAt,
    },
    RunStarted(u64),
    TimeStarted(u64),
    TimeDone {
        id: u64,
        result: Result<TimeOut, String>,
    },
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
    /// A labels file: one class name per line.
    LoadLabels {
        name: String,
        text: String,
    },
    /// A network of the Explore view: its spec (without RD; `rd` turns RD on
    /// as the toggle would), analysed for `board` in `mode` with the best
    /// schedule for the board's budget once its search is in.
    OpenSpec {
        spec: ArchSpec,
        rd: bool,
        board: &'static str,
        mode: Mode,
    },
}

fn mime(name: &str, bytes: &[u8]) -> &'static str {
    if bytes.starts_with(&[0xFF, 0xD8]) || name.to_ascii_lowercase().ends_with(".jpg") {
        "image/jpeg"
    } else {
        "image/png"
    }
}

impl State {
    /// The bundled model (or the URL's preset) and image, with settings from the URL.
    pub fn initial(settings: &Settings) -> Self {
        let loaded = settings
            .model
            .as_deref()
            .and_then(catalogue)
            .or_else(|| catalogue(models::BUNDLED))
            .expect("the bundled model loads");
        let rd = settings.rd == Some(true) && loaded.rd.is_ok();
        let model = match (&loaded.rd, rd) {
            (Ok(m), true) => m.clone(),
            _ => loaded.model.clone(),
        };
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
        let firmware_board = board.or_else(|| boards::board(crate::DEFAULT_BOARD)).expect("the default board exists");
        let mode = settings.mode.unwrap_or_default();
        let g = &model.graph;
        // A link of a loaded file: its split and grid are of that file, not of the bundled model.
        let from_file = settings.file.is_some() && settings.model.is_none();
        let mut split = settings.split.flatten().filter(|s| model.splits.contains(s) && !from_file);
        let mut grid = view::clamp_grid(g, split, settings.grid.unwrap_or((2, 2)));
        let halo_choice = settings.halo;
        let auto_pending = from_file
            || settings.split.is_none()
            || (settings.split != Some(None) && split.is_none())
            || halo_choice == HaloChoice::Auto;
        let mut halo = if halo_choice == HaloChoice::Cache && split.is_some() { Halo::Cache } else { Halo::Recompute };
        let mut later = if split.is_some() { settings.later } else { Later::NONE };
        let first = view::schedule(split, grid).with_halo(halo);
        let analysis = match Analysis::new(g, first.then(later), mode).or_else(|_| {
            later = Later::NONE;
            Analysis::new(g, first, mode)
        }) {
            Ok(a) => a,
            Err(_) => {
                (split, grid, halo) = (None, (2, 2), Halo::Recompute);
                Analysis::new(g, Sched::LAYER_BY_LAYER, mode).expect("layer by layer always plans")
            }
        };
        State {
            loaded,
            rd,
            model,
            image: Rc::new(image),
            split,
            grid,
            mode,
            halo,
            later,
            later_pending: None,
            later_answers: 0,
            later_millis: 0.0,
            later_key: (0, mode),
            later_tried: None,
            halo_choice,
            board,
            budget,
            firmware_board,
            analysis: Rc::new(analysis),
            searches: Vec::new(),
            search_pending: Vec::new(),
            auto_pending,
            run: None,
            run_pending: None,
            timing: None,
            timing_pending: None,
            timing_error: None,
            image_pending: None,
            refused: None,
            hover: None,
            detections: None,
            labels: None,
            search_progress: None,
            families_pending: Vec::new(),
            search_cancelled: false,
            search_epoch: 0,
            run_at: None,
            error: settings.file.as_ref().filter(|_| from_file).map(|f| {
                format!(
                    "This link was made with {f}, a file loaded into the page, which a link cannot carry: showing \
                     {} instead. Open {f} (or drop it on the page) to see that view.",
                    crate::DEFAULT_MODEL_NAME
                )
            }),
        }
    }

    /// Analyses a new model (picked, loaded, or RD toggled) from layer by
    /// layer, then applies the best schedule for the budget once its search is in.
    fn set_model(&mut self, model: Rc<Model>) {
        let analysis = match Analysis::new(&model.graph, Sched::LAYER_BY_LAYER, self.mode) {
            Ok(a) => a,
            Err(e) => {
                self.error = Some(e);
                return;
            }
        };
        self.model = model;
        self.analysis = Rc::new(analysis);
        self.split = None;
        self.grid = (2, 2);
        self.later = Later::NONE;
        self.later_pending = None;
        self.run = None;
        self.run_pending = None;
        self.run_at = None;
        self.timing = None;
        self.timing_pending = None;
        self.timing_error = None;
        self.detections = None;
        self.hover = None;
        self.error = None;
        self.auto_pending = true;
        // A search already known (RD toggled back, a preset picked again) applies at once.
        if self.current_search().is_some() {
            self.auto();
        }
    }

    /// Switches to another model, keeping RD on when the new one has an RD variant.
    fn set_loaded(&mut self, loaded: Loaded) {
        let rd = self.rd && loaded.rd.is_ok();
        let model = match (&loaded.rd, rd) {
            (Ok(m), true) => m.clone(),
            _ => loaded.model.clone(),
        };
        let (old, old_rd) = (std::mem::replace(&mut self.loaded, loaded), self.rd);
        self.rd = rd;
        self.set_model(model);
        if self.error.is_some() {
            (self.loaded, self.rd) = (old, old_rd);
        }
    }

    /// The search of model `id` in the current input mode, if it has arrived.
    pub fn search_of(&self, id: u64) -> Option<&Rc<SearchOut>> {
        self.searches.iter().rev().find(|(k, _)| *k == (id, self.mode)).map(|(_, s)| s)
    }

    /// Whether a search of model `id` in the current mode is cached or under way.
    pub fn search_known(&self, id: u64) -> bool {
        self.search_of(id).is_some() || self.search_pending.iter().any(|(_, k)| *k == (id, self.mode))
    }

    pub fn schedule(&self) -> Sched {
        view::schedule(self.split, self.grid).with_halo(self.halo).then(self.later)
    }

    /// The searches of the current model were cancelled and none is in.
    pub fn cancelled(&self) -> bool {
        self.search_cancelled && self.current_search().is_none()
    }

    /// The first search is under way and will choose the schedule: the one shown is provisional.
    pub fn provisional(&self) -> bool {
        self.auto_pending && self.current_search().is_none()
    }

    /// The current model's flash on the board (no bundled input: a deployment reads a sensor).
    pub fn flash_fit(&self) -> Option<patchwise_core::fit::FlashFit> {
        Some(patchwise_core::fit::FlashFit::new(self.board?, self.model.pool_bytes?, 0))
    }

    /// The search for the current model and mode, if it has arrived.
    /// The several-stage schedules found for the current model and mode.
    pub fn later_tried(&self) -> Option<Rc<Vec<Cand>>> {
        self.later_tried.as_ref().filter(|(k, _)| *k == (self.model.id, self.mode)).map(|(_, t)| t.clone())
    }

    pub fn current_search(&self) -> Option<&Rc<SearchOut>> {
        self.search_of(self.model.id)
    }

    /// With RD on, the search of the model without RD (for the side-by-side view).
    pub fn base_search(&self) -> Option<&Rc<SearchOut>> {
        self.search_of(self.loaded.model.id)
    }

    /// Whether the page shows settled numbers (searches done, nothing pending to apply).
    pub fn ready(&self) -> bool {
        self.current_search().is_some()
            && (!self.rd || self.base_search().is_some())
            && !self.auto_pending
            && self.search_pending.is_empty()
    }

    pub fn settings(&self) -> Settings {
        let model = match self.loaded.model.origin {
            Origin::Preset(p) => Some(p.to_string()),
            Origin::Shipped(stem) if stem != models::BUNDLED => Some(stem.to_string()),
            _ => None,
        };
        let file = match self.loaded.model.origin {
            Origin::File | Origin::SpecFile => Some(self.loaded.model.name.clone()),
            _ => None,
        };
        Settings {
            model,
            file,
            rd: self.rd.then_some(true),
            split: Some(self.split),
            grid: self.split.map(|_| self.grid),
            halo: self.halo_choice,
            later: self.later,
            mode: Some(self.mode),
            board: self.board.map(|b| b.name.to_string()),
            budget: Some(self.budget),
        }
    }

    /// Re-plans with new settings; on a schedule the graph rejects, keeps the old ones.
    fn replan(&mut self, split: Option<usize>, grid: (usize, usize), mode: Mode) {
        self.replan_halo(split, grid, mode, self.halo)
    }

    /// Re-plans; later stages stay only while the first stage is unchanged
    /// (they were found for it).
    fn replan_halo(&mut self, split: Option<usize>, grid: (usize, usize), mode: Mode, halo: Halo) {
        let grid = view::clamp_grid(&self.model.graph, split, grid);
        let same_first = (split, grid, halo) == (self.split, self.grid, self.halo);
        let later = if same_first { self.later } else { Later::NONE };
        self.replan_with(view::schedule(split, grid).with_halo(halo).then(later), grid, mode);
    }

    /// Plans `s` (its grid, or `grid` without a split) under `mode`; on a
    /// schedule the graph rejects, keeps the old one and says why.
    fn replan_with(&mut self, s: Sched, grid: (usize, usize), mode: Mode) {
        match Analysis::new(&self.model.graph, s, mode) {
            Ok(a) => {
                (self.split, self.grid, self.mode, self.halo, self.later) =
                    (s.split, if s.split.is_some() { s.grid } else { grid }, mode, s.halo, s.later);
                self.analysis = Rc::new(a);
            }
            Err(e) => self.error = Some(e),
        }
    }

    /// Applies a schedule the search found (the Pareto chart, Auto, the
    /// explorer), with its halo mode; a schedule of another family than the
    /// chosen one (other than auto, which has them all) chooses its family.
    fn apply(&mut self, s: Sched) {
        let grid = view::clamp_grid(&self.model.graph, s.split, if s.split.is_some() { s.grid } else { self.grid });
        // Layer by layer is one schedule whatever grid the controls keep.
        let s = if s.split.is_some() { Sched { grid, ..s } } else { Sched::LAYER_BY_LAYER };
        self.replan_with(s, grid, self.mode);
        if self.halo_choice != HaloChoice::Auto && s.split.is_some() {
            self.halo_choice = match s.halo {
                Halo::Recompute => HaloChoice::Recompute,
                Halo::Cache => HaloChoice::Cache,
                Halo::Layers(_) => HaloChoice::Auto,
            };
        }
    }

    /// Applies the best schedule of the chosen halo family within the budget
    /// if the search (with that family) is here; else waits for it.
    fn auto(&mut self) {
        let Some(search) = self.current_search().cloned() else {
            self.auto_pending = true;
            return;
        };
        if self.halo_choice != HaloChoice::Recompute && !search.families {
            self.auto_pending = true;
            return;
        }
        self.auto_pending = false;
        match search.family(self.halo_choice).to_core().best_within(self.budget) {
            Ok(c) => self.apply(c.schedule),
            Err(e) => self.error = Some(e.to_string()),
        }
    }
}

impl Reducible for State {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut s = Rc::unwrap_or_clone(self);
        match action {
            Action::SelectModel(name) => match catalogue(&name) {
                Some(l) if l.model != s.loaded.model => s.set_loaded(l),
                Some(_) => {}
                None => s.error = Some(format!("no model named {name}")),
            },
            Action::SetRd(on) => {
                if on != s.rd {
                    match (&s.loaded.rd, on) {
                        (Ok(m), true) => {
                            let m = m.clone();
                            s.rd = true;
                            s.set_model(m);
                        }
                        (Err(e), true) => s.error = Some(e.clone()),
                        (_, false) => {
                            let m = s.loaded.model.clone();
                            s.rd = false;
                            s.set_model(m);
                        }
                    }
                }
            }
            Action::LoadLabels { name, text } => {
                let names = models::parse_labels(&text);
                if names.is_empty() || names.len() > models::MAX_LABELS {
                    s.error = Some(format!(
                        "{name}: not a labels file (one class name per line; found {} names)",
                        names.len()
                    ));
                } else {
                    s.labels = Some(Rc::new((name, names)));
                }
            }
            Action::OpenSpec { spec, rd, board, mode } => {
                let name = spec.name.clone();
                match Model::from_spec(&name, Origin::SpecFile, spec) {
                    Err(e) => s.error = Some(e),
                    // Tried on a copy: on an error the page keeps all it had, board and mode included.
                    Ok(m) => {
                        let mut t = s.clone();
                        if let Some(b) = boards::board(board) {
                            (t.board, t.budget, t.firmware_board) = (Some(b), b.arena_budget(), b);
                        }
                        (t.mode, t.rd) = (mode, rd);
                        t.set_loaded(Loaded::new(m));
                        match t.error.take() {
                            None => s = t,
                            Some(e) => s.error = Some(e),
                        }
                    }
                }
            }
            Action::LoadSpec { name, text } => {
                match models::parse_spec(&name, &text).and_then(|spec| Model::from_spec(&name, Origin::SpecFile, spec))
                {
                    Ok(m) => s.set_loaded(Loaded::new(m)),
                    Err(e) => s.error = Some(e),
                }
            }
            Action::SetSplit(split) => {
                s.auto_pending = false;
                s.replan(split, s.grid, s.mode)
            }
            Action::SetRows(r) => s.replan(s.split, (r, s.grid.1), s.mode),
            Action::SetCols(c) => s.replan(s.split, (s.grid.0, c), s.mode),
            Action::SetMode(m) => s.replan(s.split, s.grid, m),
            Action::SetHaloChoice(choice) => {
                s.halo_choice = choice;
                match choice {
                    HaloChoice::Recompute => s.replan_halo(s.split, s.grid, s.mode, Halo::Recompute),
                    HaloChoice::Cache if s.split.is_some() => s.replan_halo(s.split, s.grid, s.mode, Halo::Cache),
                    // Cache without patches: the Auto button picks a cached schedule.
                    HaloChoice::Cache => {}
                    // Auto: the best schedule of every family within the budget.
                    HaloChoice::Auto => {
                        s.error = None;
                        s.auto()
                    }
                }
            }
            Action::SetBoard(name) => {
                s.board = name.as_deref().and_then(boards::board);
                if let Some(b) = s.board {
                    s.budget = b.arena_budget();
                    s.firmware_board = b;
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
                s.search_cancelled = false;
                s.search_pending.push((id, key))
            }
            Action::CancelSearch => {
                if !s.search_pending.is_empty() || !s.families_pending.is_empty() {
                    s.search_pending.clear();
                    s.families_pending.clear();
                    s.search_progress = None;
                    s.search_cancelled = true;
                    s.auto_pending = false;
                }
            }
            Action::SearchAgain => {
                s.search_cancelled = false;
                s.auto_pending = s.current_search().is_none();
                s.search_epoch += 1;
            }
            Action::RunProgress { id, at } => {
                if s.run_pending == Some(id) {
                    s.run_at = Some(at);
                }
            }
            Action::SearchProgress { id, done, total, halos } => {
                let pending = |list: &[(u64, (u64, Mode))]| list.iter().any(|(i, _)| *i == id);
                if pending(&s.search_pending) || pending(&s.families_pending) {
                    s.search_progress = Some((id, done, total, halos));
                }
            }
            Action::LaterStarted(id) => {
                s.later_pending = Some(id);
                s.later_key = (s.model.id, s.mode);
                s.error = None;
            }
            Action::LaterDone { id, result, millis } => {
                if s.later_pending != Some(id) {
                    return Rc::new(s);
                }
                s.later_pending = None;
                s.later_millis = millis;
                s.later_answers += 1;
                match result {
                    // The schedule changed while the worker searched: its answer is stale.
                    Ok(tried) if tried.first().is_some_and(|b| b.schedule != s.schedule()) => {}
                    // The smallest peak (ties: fewer MACs): what the button is for.
                    Ok(tried) => {
                        let several: Vec<Cand> =
                            tried.iter().filter(|c| !c.schedule.later.is_empty()).copied().collect();
                        s.later_tried = Some((s.later_key, Rc::new(several)));
                        match tried.iter().min_by(|a, b| (a.peak_bytes, a.macs).cmp(&(b.peak_bytes, b.macs))) {
                            Some(c) if !c.schedule.later.is_empty() => {
                                s.auto_pending = false;
                                s.apply(c.schedule)
                            }
                            _ => s.error = Some(
                                "no later patch stage lowers this schedule's peak: it is in the first stage, or in \
                                 operators that cannot be patched"
                                    .into(),
                            ),
                        }
                    }
                    Err(e) => s.error = Some(e),
                }
            }
            Action::ClearLater => {
                let first = Sched { later: Later::NONE, ..s.schedule() };
                let grid = s.grid;
                s.replan_with(first, grid, s.mode);
            }
            Action::FamiliesDone { id, result } => {
                let Some(at) = s.families_pending.iter().position(|(i, _)| *i == id) else {
                    return Rc::new(s);
                };
                let (_, key) = s.families_pending.remove(at);
                if s.search_progress.is_some_and(|(i, ..)| i == id) {
                    s.search_progress = None;
                }
                match result {
                    // Replaces the recomputed-only search of the same key, if still kept.
                    Ok(out) => {
                        if let Some(entry) = s.searches.iter_mut().find(|(k, _)| *k == key) {
                            entry.1 = Rc::new(out);
                        }
                        if key == (s.model.id, s.mode) && s.auto_pending {
                            s.auto();
                        }
                    }
                    Err(e) => s.error = Some(e),
                }
            }
            Action::SearchDone { id, result } => {
                let Some(at) = s.search_pending.iter().position(|(i, _)| *i == id) else {
                    return Rc::new(s);
                };
                let (_, key) = s.search_pending.remove(at);
                if s.search_progress.is_some_and(|(i, ..)| i == id) {
                    s.search_progress = None;
                }
                let current = key == (s.model.id, s.mode);
                match result {
                    Ok(out) => {
                        // The page asks the worker to go on with the other halo families.
                        s.families_pending.push((id, key));
                        s.searches.retain(|(k, _)| *k != key);
                        s.searches.push((key, Rc::new(out)));
                        if s.searches.len() > SEARCH_CACHE {
                            s.searches.remove(0);
                        }
                        if current && s.auto_pending {
                            s.auto();
                        }
                    }
                    Err(e) => {
                        if current {
                            s.auto_pending = false;
                        }
                        s.error = Some(e);
                    }
                }
            }
            Action::RunStarted(id) => {
                s.run_pending = Some(id);
                s.run_at = None;
            }
            Action::RunDone { id, result } => {
                if s.run_pending != Some(id) {
                    return Rc::new(s);
                }
                s.run_pending = None;
                s.run_at = None;
                match result {
                    Ok(r) => {
                        s.detections = r.detections.clone().map(Rc::new);
                        s.run = Some(Rc::new(r));
                    }
                    Err(e) => s.error = Some(format!("run: {e}")),
                }
            }
            Action::TimeStarted(id) => {
                s.timing_pending = Some(id);
                s.timing_error = None;
            }
            Action::TimeDone { id, result } => {
                if s.timing_pending != Some(id) {
                    return Rc::new(s);
                }
                s.timing_pending = None;
                match result {
                    Ok(t) => s.timing = Some(Rc::new(t)),
                    Err(e) => s.timing_error = Some(format!("Not timed: {e}")),
                }
            }
            Action::LoadModel { name, bytes } => match patchwise_core::loader::load(&bytes) {
                Ok(graph) => {
                    s.refused = None;
                    let packed = models::packed_labels(&bytes, &graph);
                    s.set_loaded(Loaded::new(Model::tflite(&name, bytes, graph)));
                    if let (Some((file, names)), None) = (packed, &s.error) {
                        s.labels = Some(Rc::new((format!("{file}, packed in {name}"), names)));
                    }
                }
                Err(e) => {
                    s.error = Some(format!("{name}: {e} — {} is still the model analysed", s.model.name));
                    s.refused = patchwise_core::loader::outline(&bytes)
                        .ok()
                        .filter(|ops| !ops.is_empty())
                        .map(|ops| Rc::new(Refused { name, ops }));
                }
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
            Action::DismissError => {
                s.error = None;
                s.refused = None;
            }
            Action::Hover(h) => s.hover = h,
            Action::SetDetections(d) => s.detections = d.map(Rc::new),
        }
        Rc::new(s)
    }
}
