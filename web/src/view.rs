//! What the page shows about a schedule, computed with core's `plan`.

use patchwise_core::graph::{Graph, TensorId};
use patchwise_core::patch::{self, PatchSchedule};
use patchwise_core::plan::{self, Report, MAX_GRID};
use patchwise_core::region::Rect;

use crate::proto::{Mode, Sched};

/// The report of one schedule and, for a patch stage, its regions.
#[derive(Clone, Debug, PartialEq)]
pub struct Analysis {
    pub schedule: Sched,
    pub mode: Mode,
    pub report: Report,
    pub patches: Option<PatchSchedule>,
}

impl Analysis {
    pub fn new(g: &Graph, schedule: Sched, mode: Mode) -> Result<Self, String> {
        let report = plan::report(g, schedule.into(), mode.into()).map_err(|e| e.to_string())?;
        let patches = match schedule.split {
            Some(s) => Some(PatchSchedule::new(g, s, schedule.grid).map_err(|e| e.to_string())?),
            None => None,
        };
        Ok(Self { schedule, mode, report, patches })
    }

    /// Each patch's rectangle of tensor `t` (empty outside the patch stage).
    pub fn rects(&self, t: TensorId) -> Vec<Rect> {
        match &self.patches {
            Some(p) => p.rects.iter().filter_map(|r| r[t]).collect(),
            None => Vec::new(),
        }
    }
}

/// Height and width of tensor `t` (NHWC).
pub fn hw(g: &Graph, t: TensorId) -> (usize, usize) {
    let s = g.tensors[t].nhwc();
    (s[1], s[2])
}

/// The largest grid for a stage ending at `split`: `(rows, cols)`, each at most [`MAX_GRID`].
pub fn grid_limit(g: &Graph, split: usize) -> (usize, usize) {
    let (h, w) = hw(g, g.nodes[split].output());
    (h.clamp(1, MAX_GRID), w.clamp(1, MAX_GRID))
}

/// Clamps a grid to what a stage ending at `split` allows.
pub fn clamp_grid(g: &Graph, split: Option<usize>, grid: (usize, usize)) -> (usize, usize) {
    match split {
        None => (grid.0.clamp(1, MAX_GRID), grid.1.clamp(1, MAX_GRID)),
        Some(s) => {
            let (r, c) = grid_limit(g, s);
            (grid.0.clamp(1, r), grid.1.clamp(1, c))
        }
    }
}

/// The schedule the settings describe (the grid is ignored without a split).
pub fn schedule(split: Option<usize>, grid: (usize, usize)) -> Sched {
    match split {
        None => Sched::LAYER_BY_LAYER,
        Some(s) => Sched { split: Some(s), grid },
    }
}

/// `"op 15 · CONV_2D → 32×32×24"`.
pub fn op_label(g: &Graph, i: usize) -> String {
    let out = &g.tensors[g.nodes[i].output()];
    format!("op {i} · {} → {}", g.nodes[i].op.name(), crate::fmt::shape(&out.shape))
}

/// Operators that may end a patch stage.
pub fn legal_splits(g: &Graph) -> Vec<usize> {
    patch::legal_splits(g)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DEFAULT_MODEL;

    #[test]
    fn analysis_of_the_cli_default() {
        let g = patchwise_core::loader::load(DEFAULT_MODEL).unwrap();
        let a = Analysis::new(&g, Sched { split: Some(15), grid: (1, 2) }, Mode::InArena).unwrap();
        assert_eq!(a.report.patch_peak_bytes, 259_328);
        assert_eq!(a.rects(g.inputs[0]).len(), 2);
        assert!(Analysis::new(&g, Sched { split: Some(15), grid: (99, 1) }, Mode::InArena).is_err());
        assert_eq!(clamp_grid(&g, Some(15), (99, 0)).1, 1);
    }
}

/// An SVG chart's size and plot margins, in viewBox units.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Frame {
    pub w: f64,
    pub h: f64,
    pub left: f64,
    pub right: f64,
    pub top: f64,
    pub bottom: f64,
}

impl Frame {
    /// Width and height of the plot area inside the margins.
    pub fn plot(&self) -> (f64, f64) {
        (self.w - self.left - self.right, self.h - self.top - self.bottom)
    }
}
