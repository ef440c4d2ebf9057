//! The Explore view's state: a design-space sweep (`core::explore`, the
//! sweep `patchwise explore` runs) handed out to several workers one spec at
//! a time, its progress and cancel, and what each heatmap cell shows.
//!
//! Plain Rust, tested natively. The reducer only records what to send
//! ([`Run::sent`]); the page sends each entry once, so the reducer stays free
//! of I/O and a replayed render cannot send a spec twice.

use patchwise_core::boards::{self, Board};
use patchwise_core::explore::{self, Family, Frontier, SpecPoint, Sweep};

use crate::proto::{ExploreJob, Mode};

/// Most workers a sweep uses (each holds its own copy of the wasm module).
pub const MAX_WORKERS: usize = 8;

/// What the next sweep evaluates.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Setup {
    pub board: &'static Board,
    pub family: Family,
    pub mode: Mode,
}

/// One sweep, running, finished or cancelled.
#[derive(Clone, Debug, PartialEq)]
pub struct Run {
    /// Answers carry it; those of an older run are dropped.
    pub id: u64,
    pub setup: Setup,
    pub sweep: Sweep,
    /// The board's arena budget (its SRAM less the stack reserve).
    pub budget: usize,
    /// `(resolution, width, rd)`, resolution-major ([`Sweep::points`]).
    pub points: Vec<(usize, f32, bool)>,
    pub results: Vec<Option<Result<SpecPoint, String>>>,
    /// Specs handed out, in order: `(worker, index)`.
    pub sent: Vec<(usize, usize)>,
    pub workers: usize,
    pub started_ms: f64,
    pub finished_ms: Option<f64>,
    pub cancelled: bool,
}

/// How a spec fits the board, as a heatmap cell's colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fit {
    /// SRAM and flash fit layer by layer.
    Layer,
    /// SRAM fits only with a patch-based schedule (flash fits).
    Patch,
    /// Some schedule fits the SRAM, but the weights and code do not fit the flash.
    Flash,
    /// No schedule the search tried fits the SRAM.
    Sram,
}

impl Fit {
    pub fn of(p: &SpecPoint, budget: usize) -> Fit {
        if p.fits_layer {
            Fit::Layer
        } else if p.fits_patch {
            Fit::Patch
        } else if p.patch_peak_bytes.min(p.layer_peak_bytes) <= budget {
            Fit::Flash
        } else {
            Fit::Sram
        }
    }

    /// The name tests and CSS use (`fit-layer`, …).
    pub fn name(self) -> &'static str {
        match self {
            Fit::Layer => "layer",
            Fit::Patch => "patch",
            Fit::Flash => "flash",
            Fit::Sram => "sram",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Fit::Layer => "fits layer by layer",
            Fit::Patch => "fits only patch-based",
            Fit::Flash => "does not fit the flash",
            Fit::Sram => "does not fit the SRAM",
        }
    }
}

impl Run {
    /// A sweep over `sweep` for `setup` on `workers` workers, the first spec
    /// of each handed out.
    pub fn new(id: u64, setup: Setup, sweep: Sweep, workers: usize, now: f64) -> Result<Run, String> {
        let points = sweep.points().map_err(|e| e.to_string())?;
        let workers = workers.clamp(1, MAX_WORKERS).min(points.len());
        let mut run = Run {
            id,
            setup,
            budget: explore::arena_budget(setup.board, None),
            results: vec![None; points.len()],
            points,
            sweep,
            sent: Vec::new(),
            workers,
            started_ms: now,
            finished_ms: None,
            cancelled: false,
        };
        for w in 0..workers {
            run.sent.push((w, w));
        }
        Ok(run)
    }

    /// The message for spec `index`.
    pub fn job(&self, index: usize) -> ExploreJob {
        let (resolution, width, rd) = self.points[index];
        ExploreJob {
            family: self.sweep.family,
            classes: self.sweep.classes,
            resolution,
            width,
            rd,
            board: self.setup.board.name.to_string(),
            budget: self.budget,
            mode: self.setup.mode,
        }
    }

    /// Records worker `worker`'s answer for spec `index` and hands it the next spec.
    pub fn record(&mut self, worker: usize, index: usize, result: Result<SpecPoint, String>, now: f64) {
        if self.cancelled || self.results.get(index).is_none_or(Option::is_some) {
            return;
        }
        self.results[index] = Some(result);
        if self.sent.len() < self.points.len() {
            self.sent.push((worker, self.sent.len()));
        }
        if self.done() == self.points.len() {
            self.finished_ms = Some(now);
        }
    }

    pub fn done(&self) -> usize {
        self.results.iter().filter(|r| r.is_some()).count()
    }

    pub fn running(&self) -> bool {
        !self.cancelled && self.finished_ms.is_none()
    }

    /// The answer for one spec, if it has arrived.
    pub fn result(&self, resolution: usize, width: f32, rd: bool) -> Option<&Result<SpecPoint, String>> {
        let i = self.points.iter().position(|&p| p == (resolution, width, rd))?;
        self.results[i].as_ref()
    }

    /// The first spec that failed.
    pub fn error(&self) -> Option<&str> {
        self.results.iter().flatten().find_map(|r| r.as_ref().err()).map(String::as_str)
    }

    /// The largest specs that fit, once every spec is in (`explore::frontier`).
    pub fn frontier(&self) -> Option<(Option<&SpecPoint>, Option<&SpecPoint>)> {
        if self.finished_ms.is_none() {
            return None;
        }
        let ok: Vec<SpecPoint> = self.results.iter().flatten().filter_map(|r| r.as_ref().ok().cloned()).collect();
        let Frontier { layer, patch } = explore::frontier(&ok);
        let find = |i: Option<usize>| {
            let p = &ok[i?];
            self.results.iter().flatten().filter_map(|r| r.as_ref().ok()).find(|q| *q == p)
        };
        Some((find(layer), find(patch)))
    }

    pub fn millis(&self) -> Option<f64> {
        self.finished_ms.map(|t| t - self.started_ms)
    }
}

/// The Explore view's state: the next sweep's setup and the last sweep.
#[derive(Clone, Debug, PartialEq)]
pub struct Explorer {
    pub setup: Setup,
    pub run: Option<Run>,
    /// Why the last sweep could not start.
    pub error: Option<String>,
}

pub enum ExploreAction {
    SetBoard(String),
    SetFamily(Family),
    SetMode(Mode),
    /// A new sweep of the setup's family (`sweep`: the default one when `None`).
    Start {
        id: u64,
        workers: usize,
        now: f64,
        sweep: Option<Sweep>,
    },
    Done {
        id: u64,
        worker: usize,
        index: usize,
        result: Result<SpecPoint, String>,
        now: f64,
    },
    Cancel,
}

impl Explorer {
    pub fn new(board: Option<&'static Board>, mode: Mode) -> Self {
        let board = board.or_else(|| boards::board(crate::DEFAULT_BOARD)).expect("the default board exists");
        Explorer { setup: Setup { board, family: Family::Mbv2, mode }, run: None, error: None }
    }

    pub fn apply(&mut self, action: ExploreAction) {
        match action {
            ExploreAction::SetBoard(name) => match explore::board(&name) {
                Ok(b) => self.setup.board = b,
                Err(e) => self.error = Some(e),
            },
            ExploreAction::SetFamily(f) => self.setup.family = f,
            ExploreAction::SetMode(m) => self.setup.mode = m,
            ExploreAction::Start { id, workers, now, sweep } => {
                let sweep = sweep.unwrap_or_else(|| Sweep::new(self.setup.family));
                match Run::new(id, self.setup, sweep, workers, now) {
                    Ok(r) => {
                        self.run = Some(r);
                        self.error = None;
                    }
                    Err(e) => self.error = Some(e),
                }
            }
            ExploreAction::Done { id, worker, index, result, now } => {
                if let Some(r) = self.run.as_mut().filter(|r| r.id == id) {
                    r.record(worker, index, result, now);
                }
            }
            ExploreAction::Cancel => {
                if let Some(r) = self.run.as_mut() {
                    if r.finished_ms.is_none() {
                        r.cancelled = true;
                    }
                }
            }
        }
    }
}

#[cfg(target_arch = "wasm32")]
impl yew::Reducible for Explorer {
    type Action = ExploreAction;

    fn reduce(self: std::rc::Rc<Self>, action: ExploreAction) -> std::rc::Rc<Self> {
        let mut s = std::rc::Rc::unwrap_or_clone(self);
        s.apply(action);
        std::rc::Rc::new(s)
    }
}

/// `"42M"`, `"1.2G"`: a cell's MACs in a few characters.
pub fn short_macs(m: u64) -> String {
    let m = m as f64;
    if m >= 1e9 {
        format!("{:.1}G", m / 1e9)
    } else if m >= 1e8 {
        format!("{:.0}M", m / 1e6)
    } else {
        format!("{:.1}M", m / 1e6)
    }
}

/// One line on a spec: its MACs, flash, peaks and the schedule that fits.
pub fn describe(p: &SpecPoint) -> String {
    let head = format!(
        "r{} w{}{}: {:.1} M MACs, flash {}, peak {} layer by layer",
        p.resolution,
        p.width,
        if p.rd { " RD" } else { "" },
        p.macs as f64 / 1e6,
        crate::fmt::bytes(p.flash_bytes),
        crate::fmt::bytes(p.layer_peak_bytes),
    );
    match p.schedule.split {
        None => head,
        Some(s) => format!(
            "{head}, {} with ops 0..={s} in {}×{} patches (+{:.1} % MACs)",
            crate::fmt::bytes(p.patch_peak_bytes),
            p.schedule.grid.0,
            p.schedule.grid.1,
            p.patch_macs.saturating_sub(p.macs) as f64 * 100.0 / p.macs.max(1) as f64,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::{Request, Response};

    fn small_sweep(family: Family) -> Sweep {
        let mut s = Sweep::new(family);
        s.resolutions = vec![64, 96];
        s.widths = vec![0.25, 0.5];
        s
    }

    /// Plays the workers: answers what the reducer handed out with the worker's own code, one worker at a time.
    fn play(ex: &mut Explorer) {
        let mut answered = 0;
        loop {
            let r = ex.run.as_ref().unwrap();
            let Some(&(worker, index)) = r.sent.get(answered) else { break };
            let (id, job) = (r.id, r.job(index));
            answered += 1;
            let Response::Explore { id, index, result } =
                crate::compute::handle(Request::Explore { id, index, job }, &|| 0.0)
            else {
                panic!("not an explore answer")
            };
            ex.apply(ExploreAction::Done { id, worker, index, result, now: 10.0 * answered as f64 });
        }
    }

    #[test]
    fn the_page_sweep_equals_the_cli_sweep_spec_for_spec() {
        for (board, family, mode) in
            [("stm32f746g-disco", Family::Mbv2, Mode::InArena), ("nrf52840-dk", Family::Mcunet, Mode::Streamed)]
        {
            let mut ex = Explorer::new(boards::board(board), mode);
            ex.apply(ExploreAction::SetFamily(family));
            ex.apply(ExploreAction::Start { id: 9, workers: 3, now: 0.0, sweep: Some(small_sweep(family)) });
            play(&mut ex);
            let r = ex.run.as_ref().unwrap();
            assert_eq!(r.done(), 8);
            assert_eq!(r.millis(), Some(80.0));
            // Every spec sent exactly once, the first three to workers 0, 1, 2.
            let mut idx: Vec<usize> = r.sent.iter().map(|s| s.1).collect();
            assert_eq!(&r.sent[..3], &[(0, 0), (1, 1), (2, 2)]);
            idx.sort();
            assert_eq!(idx, (0..8).collect::<Vec<_>>());

            let b = boards::board(board).unwrap();
            let cli = patchwise_cli::explore::evaluate_all(&small_sweep(family), b, b.arena_budget(), mode).unwrap();
            let page: Vec<SpecPoint> = r.results.iter().map(|x| x.clone().unwrap().unwrap()).collect();
            assert_eq!(page, cli);
            let f = explore::frontier(&cli);
            let (layer, patch) = r.frontier().unwrap();
            assert_eq!(layer, f.layer.map(|i| &cli[i]));
            assert_eq!(patch, f.patch.map(|i| &cli[i]));
        }
    }

    #[test]
    fn a_cancelled_sweep_takes_no_more_answers_and_hands_out_nothing() {
        let mut ex = Explorer::new(None, Mode::InArena);
        ex.apply(ExploreAction::Start { id: 1, workers: 2, now: 0.0, sweep: Some(small_sweep(Family::Mbv2)) });
        let r = ex.run.as_ref().unwrap();
        let job = r.job(0);
        let Response::Explore { result, .. } =
            crate::compute::handle(Request::Explore { id: 1, index: 0, job }, &|| 0.0)
        else {
            panic!()
        };
        ex.apply(ExploreAction::Done { id: 1, worker: 0, index: 0, result: result.clone(), now: 1.0 });
        assert_eq!(ex.run.as_ref().unwrap().sent.len(), 3);
        ex.apply(ExploreAction::Cancel);
        ex.apply(ExploreAction::Done { id: 1, worker: 1, index: 1, result: result.clone(), now: 2.0 });
        let r = ex.run.as_ref().unwrap();
        assert!(!r.running() && r.cancelled);
        assert_eq!((r.done(), r.sent.len()), (1, 3));
        assert_eq!(r.frontier(), None);
        // An answer of an older sweep, or a repeated one, changes nothing.
        ex.apply(ExploreAction::Start { id: 2, workers: 2, now: 5.0, sweep: Some(small_sweep(Family::Mbv2)) });
        ex.apply(ExploreAction::Done { id: 1, worker: 0, index: 0, result: result.clone(), now: 6.0 });
        assert_eq!(ex.run.as_ref().unwrap().done(), 0);
        ex.apply(ExploreAction::Done { id: 2, worker: 0, index: 0, result: result.clone(), now: 6.0 });
        ex.apply(ExploreAction::Done { id: 2, worker: 0, index: 0, result, now: 6.0 });
        assert_eq!(ex.run.as_ref().unwrap().done(), 1);
    }

    #[test]
    fn bad_setups_get_a_message() {
        let mut ex = Explorer::new(None, Mode::InArena);
        ex.apply(ExploreAction::SetBoard("esp32".into()));
        assert!(ex.error.as_deref().unwrap().starts_with("unknown board \"esp32\" (known: stm32f746g-disco"));
        let mut empty = Sweep::new(Family::Mbv2);
        empty.widths.clear();
        ex.apply(ExploreAction::Start { id: 1, workers: 2, now: 0.0, sweep: Some(empty) });
        assert!(ex.error.as_deref().unwrap().contains("the sweep is empty"), "{:?}", ex.error);
        assert!(ex.run.is_none());
    }

    #[test]
    fn cells_name_how_a_spec_fits() {
        let mut ex = Explorer::new(boards::board("nrf52840-dk"), Mode::InArena);
        let mut s = Sweep::new(Family::Mbv2);
        // r64 w0.25 fits layer by layer; r224 w1.0 fits neither SRAM (layer) nor flash (3.7 MB of weights).
        s.resolutions = vec![64, 224];
        s.widths = vec![0.25, 1.0];
        s.rd = vec![false];
        ex.apply(ExploreAction::Start { id: 1, workers: 1, now: 0.0, sweep: Some(s) });
        play(&mut ex);
        let r = ex.run.as_ref().unwrap();
        let fit = |res, w| Fit::of(r.result(res, w, false).unwrap().as_ref().unwrap(), r.budget);
        assert_eq!(fit(64, 0.25), Fit::Layer);
        let big = r.result(224, 1.0, false).unwrap().as_ref().unwrap();
        assert!(!big.flash_fits);
        assert!(matches!(fit(224, 1.0), Fit::Flash | Fit::Sram));
        assert_eq!(short_macs(42_000_000), "42.0M");
        assert_eq!(short_macs(145_800_000), "146M");
        assert_eq!(short_macs(1_234_000_000), "1.2G");
    }
}
