//! Patch-based inference (MCUNetV2): the first operators of a network — the
//! patch stage, ops `0..=split` — run once per cell of an `rows × cols` grid
//! over the stage's output, each cell computed from its own (overlapping)
//! input region; only the stage output is held whole. The rest of the network
//! runs layer by layer in the same arena.
//!
//! [`PatchSchedule`] derives, with each op's receptive-field rule, the exact
//! rectangle every stage tensor needs for every patch. [`PatchExecutor`]
//! lays the arena out with per-patch buffers sized for the largest patch and
//! runs the schedule; its output is byte-identical to layer-by-layer.

use alloc::vec::Vec;

use crate::error::{Error, Result};
use crate::exec::{self, full_window, Place, Step};
use crate::graph::{Graph, TensorId};
use crate::layout::{ArenaLayout, LayoutOptions, Sizing};
use crate::op::Spatial;
use crate::planner::{GreedyBySize, Planner};
use crate::region::{Rect, Window};
use crate::validate::pad4;

/// Whether the network input is held whole in SRAM during the patch stage
/// (TFLite Micro's convention, the default) or streamed patch by patch from a
/// camera or flash (the MCUNetV2 paper's convention).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum InputMode {
    #[default]
    InArena,
    Streamed,
}

/// Checks that ops `0..=split` can form a patch stage and returns the stage's
/// input and output tensors.
pub fn check_split(g: &Graph, split: usize) -> Result<(TensorId, TensorId)> {
    if split >= g.nodes.len() {
        return Err(Error::Schedule("split index is past the last operator"));
    }
    if g.inputs.len() != 1 {
        return Err(Error::Schedule("patch-based inference needs a single-input model"));
    }
    let input = g.inputs[0];
    let batch = pad4(&g.tensors[input].shape)[0];
    let stage_tensor = |t: TensorId| g.tensors[t].shape.len() == 4 && g.tensors[t].shape[0] == batch;
    if !stage_tensor(input) {
        return Err(Error::Schedule("the model input is not a 4-D image tensor"));
    }
    for (i, node) in g.nodes.iter().enumerate().take(split + 1) {
        if node.op.spatial() == Spatial::Global {
            return Err(Error::Schedule("the patch stage contains an operator that needs its whole input"));
        }
        let out = node.output();
        if !stage_tensor(out) {
            return Err(Error::Schedule("a patch-stage tensor is not 4-D"));
        }
        for t in g.activation_inputs(i) {
            if !stage_tensor(t) {
                return Err(Error::Schedule("a patch-stage tensor is not 4-D"));
            }
            let (s, o) = (pad4(&g.tensors[t].shape), pad4(&g.tensors[out].shape));
            if node.op.spatial() == Spatial::Pointwise
                && (s[1], s[2]) != (o[1], o[2])
                && !exec::is_spatial_broadcast(g, t, out)
            {
                return Err(Error::Schedule("an element-wise operator broadcasts along one spatial axis"));
            }
        }
    }
    let output = g.nodes[split].output();
    let mut produced = alloc::vec![false; g.tensors.len()];
    produced[input] = true;
    for node in &g.nodes[..=split] {
        produced[node.output()] = true;
    }
    let crosses = |t: TensorId| produced[t] && t != output;
    if g.nodes[split + 1..].iter().any(|n| n.inputs.iter().flatten().any(|&t| crosses(t)))
        || g.outputs.iter().any(|&t| crosses(t))
    {
        return Err(Error::Schedule("a tensor other than the split's output is used after the patch stage"));
    }
    Ok((input, output))
}

/// Every operator index that may end a patch stage.
pub fn legal_splits(g: &Graph) -> Vec<usize> {
    (0..g.nodes.len()).filter(|&s| check_split(g, s).is_ok()).collect()
}

/// Rows (or columns) of cell `i` of `n` equal cells over `size`.
fn cell(size: usize, n: usize, i: usize) -> (usize, usize) {
    (i * size / n, (i + 1) * size / n)
}

/// A patch stage, its grid, and the rectangle of every stage tensor each patch computes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PatchSchedule {
    pub split: usize,
    /// `(rows, cols)`.
    pub grid: (usize, usize),
    pub input: TensorId,
    pub output: TensorId,
    /// `rects[p][t]`: the rectangle of tensor `t` patch `p` computes (for the
    /// stage input: reads); `None` outside the stage.
    pub rects: Vec<Vec<Option<Rect>>>,
}

impl PatchSchedule {
    pub fn new(g: &Graph, split: usize, grid: (usize, usize)) -> Result<Self> {
        let (input, output) = check_split(g, split)?;
        let o = pad4(&g.tensors[output].shape);
        if grid.0 == 0 || grid.1 == 0 || grid.0 > o[1] || grid.1 > o[2] {
            return Err(Error::Schedule("the grid has more rows or columns than the stage output"));
        }
        let mut rects = Vec::with_capacity(grid.0 * grid.1);
        for r in 0..grid.0 {
            for c in 0..grid.1 {
                let (y0, y1) = cell(o[1], grid.0, r);
                let (x0, x1) = cell(o[2], grid.1, c);
                rects.push(Self::back_propagate(g, split, output, Rect::new(y0, x0, y1 - y0, x1 - x0)));
            }
        }
        Ok(Self { split, grid, input, output, rects })
    }

    /// Walks the stage backwards from one output cell: each tensor's rectangle
    /// is the union of what its consumers' receptive fields read.
    fn back_propagate(g: &Graph, split: usize, output: TensorId, cell: Rect) -> Vec<Option<Rect>> {
        let mut need: Vec<Option<Rect>> = alloc::vec![None; g.tensors.len()];
        need[output] = Some(cell);
        for i in (0..=split).rev() {
            let node = &g.nodes[i];
            let out = node.output();
            let Some(r) = need[out] else { continue };
            let os = pad4(&g.tensors[out].shape);
            for t in g.activation_inputs(i).collect::<Vec<_>>() {
                let s = pad4(&g.tensors[t].shape);
                let ir = if exec::is_spatial_broadcast(g, t, out) {
                    Some(Rect::full(s[1], s[2]))
                } else {
                    node.op.input_rect(r, (s[1], s[2]), (os[1], os[2]))
                };
                if let Some(ir) = ir {
                    need[t] = Some(match need[t] {
                        Some(prev) => prev.union(&ir),
                        None => ir,
                    });
                }
            }
        }
        need
    }

    pub fn patches(&self) -> usize {
        self.rects.len()
    }

    /// Window of tensor `t` in patch `p`.
    pub fn window(&self, g: &Graph, p: usize, t: TensorId) -> Option<Window> {
        let s = pad4(&g.tensors[t].shape);
        self.rects[p][t].map(|r| Window::new(s[0], r, s[3]))
    }

    /// MACs of the stage executed patch by patch.
    pub fn stage_macs(&self, g: &Graph) -> u64 {
        let mut total = 0;
        for p in 0..self.patches() {
            for i in 0..=self.split {
                let node = &g.nodes[i];
                let out = node.output();
                if let Some(r) = self.rects[p][out] {
                    total += node_macs(g, i, r);
                }
            }
        }
        total
    }

    /// MACs of the stage's operators executed once, layer by layer.
    pub fn stage_macs_once(&self, g: &Graph) -> u64 {
        (0..=self.split)
            .map(|i| {
                let o = pad4(&g.tensors[g.nodes[i].output()].shape);
                node_macs(g, i, Rect::full(o[1], o[2]))
            })
            .sum()
    }

    /// Recomputed halo MACs: patch-by-patch minus once.
    pub fn overhead_macs(&self, g: &Graph) -> u64 {
        self.stage_macs(g).saturating_sub(self.stage_macs_once(g))
    }

    /// Bytes of the largest window of tensor `t` over all patches.
    pub fn max_window_bytes(&self, g: &Graph, t: TensorId) -> usize {
        (0..self.patches())
            .filter_map(|p| self.window(g, p, t))
            .map(|w| w.len() * g.tensors[t].dtype.size())
            .max()
            .unwrap_or(0)
    }
}

/// MACs of node `i` computing output rectangle `r`.
pub fn node_macs(g: &Graph, i: usize, r: Rect) -> u64 {
    let node = &g.nodes[i];
    let o = pad4(&g.tensors[node.output()].shape);
    let in_c = node.input(0).map(|t| pad4(&g.tensors[t].shape)[3]).unwrap_or(1);
    node.op.macs(o[0], r, in_c, o[3], in_c)
}

/// The arena layout of a patch schedule.
pub fn patch_layout(
    g: &Graph,
    s: &PatchSchedule,
    mode: InputMode,
    planner: &dyn Planner,
    options: LayoutOptions,
) -> ArenaLayout {
    let split = s.split;
    let in_stage = |t: TensorId| s.rects[0][t].is_some() || (0..s.patches()).any(|p| s.rects[p][t].is_some());
    let bytes = |t: TensorId| {
        let whole = (t == s.input && mode == InputMode::InArena) || t == s.output || !in_stage(t);
        if whole {
            g.tensors[t].bytes()
        } else {
            s.max_window_bytes(g, t)
        }
    };
    let keep = |t: TensorId| {
        if t == s.output || (t == s.input && mode == InputMode::InArena) {
            Some((0, split))
        } else {
            None
        }
    };
    ArenaLayout::build(g, planner, options, &Sizing { bytes: &bytes, first_free_step: split + 1, keep: &keep })
}

/// A graph prepared for patch-based execution in one arena.
pub struct PatchExecutor<'g> {
    pub graph: &'g Graph,
    pub steps: Vec<Step>,
    pub schedule: PatchSchedule,
    pub layout: ArenaLayout,
    pub mode: InputMode,
}

impl<'g> PatchExecutor<'g> {
    pub fn new(graph: &'g Graph, split: usize, grid: (usize, usize), mode: InputMode) -> Result<Self> {
        let schedule = PatchSchedule::new(graph, split, grid)?;
        let layout = patch_layout(graph, &schedule, mode, &GreedyBySize, LayoutOptions::default());
        Ok(Self { graph, steps: exec::prepare_all(graph)?, schedule, layout, mode })
    }

    pub fn arena_size(&self) -> usize {
        self.layout.arena_size()
    }

    /// The arena bytes of the (whole) input, to fill before `run` in `InArena` mode.
    pub fn input_mut<'a>(&self, arena: &'a mut [u8]) -> Result<&'a mut [u8]> {
        if self.mode == InputMode::Streamed {
            return Err(Error::Schedule("a streamed input is passed to run, not stored in the arena"));
        }
        exec::tensor_mut(self.graph, &self.layout, arena, self.schedule.input)
    }

    pub fn output<'a>(&self, arena: &'a [u8], i: usize) -> Result<&'a [u8]> {
        let t = *self.graph.outputs.get(i).ok_or(Error::model("no such output"))?;
        exec::tensor(self.graph, &self.layout, arena, t)
    }

    fn place(&self, p: usize, t: TensorId) -> Result<Place> {
        let g = self.graph;
        let whole = t == self.schedule.output || (t == self.schedule.input && self.mode == InputMode::InArena);
        let buffer = self.layout.buffer_range(t).ok_or(Error::at_tensor("tensor has no arena buffer", t))?;
        if whole {
            return Ok((buffer.start..buffer.start + g.tensors[t].bytes(), full_window(&g.tensors[t].shape)));
        }
        let w = self.schedule.window(g, p, t).ok_or(Error::Schedule("a patch reads a tensor it does not compute"))?;
        Ok((buffer.start..buffer.start + w.len() * g.tensors[t].dtype.size(), w))
    }

    /// Runs the schedule. `streamed` is the whole input for `Streamed` mode
    /// (read patch by patch, never copied whole into the arena). Does not allocate.
    pub fn run(&self, arena: &mut [u8], streamed: Option<&[u8]>) -> Result<()> {
        exec::check_arena(self.arena_size(), arena)?;
        let g = self.graph;
        let s = &self.schedule;
        for p in 0..s.patches() {
            if self.mode == InputMode::Streamed {
                let src = streamed.ok_or(Error::Schedule("streamed mode needs the input passed to run"))?;
                self.copy_input_patch(p, src, arena)?;
            }
            for i in 0..=s.split {
                let out = g.nodes[i].output();
                let Some(region) = s.rects[p][out] else { continue };
                let out_place = self.place(p, out)?;
                exec::run_node(g, i, &self.steps[i], arena, out_place, region, &|t| self.place(p, t))?;
            }
        }
        exec::run_layers(g, &self.steps, &self.layout, arena, s.split + 1..g.nodes.len())
    }

    /// Copies the input rows patch `p` reads from the whole streamed input.
    fn copy_input_patch(&self, p: usize, src: &[u8], arena: &mut [u8]) -> Result<()> {
        let g = self.graph;
        let t = self.schedule.input;
        let full = full_window(&g.tensors[t].shape);
        let size = g.tensors[t].dtype.size();
        if src.len() != full.len() * size {
            return Err(Error::BufferSize { what: "streamed input", expected: full.len() * size, got: src.len() });
        }
        let (range, w) = self.place(p, t)?;
        let dst = &mut arena[range];
        let row = w.rect.w * w.c * size;
        for b in 0..w.n {
            for y in w.rect.y..w.rect.y_end() {
                let from = full.offset(b, y, w.rect.x) * size;
                let to = w.offset(b, y, w.rect.x) * size;
                dst[to..to + row].copy_from_slice(&src[from..from + row]);
            }
        }
        Ok(())
    }
}
