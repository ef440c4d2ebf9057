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
use crate::graph::{nhwc, Graph, TensorId};
use crate::layout::{ArenaLayout, LayoutOptions, Sizing, Skeleton};
use crate::lower::{lower_packed, Lowered, Packing};
use crate::op::Spatial;
use crate::ops::is_spatial_broadcast;
use crate::planner::{Buffer, GreedyBySize, Planner};
use crate::program::Program;
use crate::region::{Rect, Window};

/// Whether the network input is held whole in SRAM during the patch stage
/// (TFLite Micro's convention, the default) or streamed patch by patch from a
/// camera or flash (the MCUNetV2 paper's convention).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum InputMode {
    #[default]
    InArena,
    Streamed,
}

/// What a patch schedule does with the halos its patches share: recompute
/// them in every patch (MCUNetV2) or cache them so that each pixel of each
/// stage tensor is computed once (module [`halo`](crate::halo)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum Halo {
    #[default]
    Recompute,
    /// Every stage tensor whose windows allow it.
    Cache,
    /// The outputs of these stage operators (where their windows allow it);
    /// the others recompute their halos. A per-layer choice: caching a wide
    /// early tensor can cost more arena than the halos it saves.
    Layers(CacheSet),
}

/// A set of stage operators (indices below [`CacheSet::LIMIT`]) whose
/// outputs cache their halos; in JSON, the list of their indices.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct CacheSet(u64);

impl CacheSet {
    /// Operators from this index on always recompute under [`Halo::Layers`].
    pub const LIMIT: usize = 64;

    /// The set of `ops`; `None` if one is at or past [`CacheSet::LIMIT`].
    pub fn of(ops: impl IntoIterator<Item = usize>) -> Option<Self> {
        ops.into_iter().try_fold(CacheSet(0), |s, i| (i < Self::LIMIT).then(|| CacheSet(s.0 | 1 << i)))
    }

    /// The set whose bit `i` stands for operator `i`.
    pub const fn from_bits(bits: u64) -> Self {
        CacheSet(bits)
    }

    pub fn contains(self, op: usize) -> bool {
        op < Self::LIMIT && self.0 >> op & 1 == 1
    }

    /// The operators in increasing order.
    pub fn ops(self) -> impl Iterator<Item = usize> {
        (0..Self::LIMIT).filter(move |&i| self.contains(i))
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for CacheSet {
    fn serialize<S: serde::Serializer>(&self, s: S) -> core::result::Result<S::Ok, S::Error> {
        // With its length first: bincode (the page's worker codec) needs it.
        s.collect_seq(self.ops().collect::<Vec<_>>())
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for CacheSet {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> core::result::Result<Self, D::Error> {
        let ops = <Vec<usize> as serde::Deserialize>::deserialize(d)?;
        CacheSet::of(ops.iter().copied()).ok_or_else(|| {
            serde::de::Error::custom(alloc::format!(
                "a cached operator index must be below {} (the per-layer halo choice covers the first {} operators)",
                CacheSet::LIMIT,
                CacheSet::LIMIT
            ))
        })
    }
}

impl core::fmt::Display for CacheSet {
    /// `3,5,6`, or `none`.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        if self.is_empty() {
            return f.write_str("none");
        }
        for (k, i) in self.ops().enumerate() {
            if k > 0 {
                f.write_str(",")?;
            }
            write!(f, "{i}")?;
        }
        Ok(())
    }
}

impl core::fmt::Display for Halo {
    /// `recompute`, `cache`, or `cache ops 3,5,6` (what the CLI and the page print).
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Halo::Recompute => f.write_str("recompute"),
            Halo::Cache => f.write_str("cache"),
            Halo::Layers(set) => write!(f, "cache ops {set}"),
        }
    }
}

impl Halo {
    /// What a schedule's one-line summary adds: nothing (recompute), `halos
    /// cached`, or `halos cached at ops 3,5` (the CLI, the page and the
    /// exported crate's README say the same).
    pub fn label(self) -> alloc::string::String {
        match self {
            Halo::Recompute => alloc::string::String::new(),
            Halo::Cache => "halos cached".into(),
            Halo::Layers(set) if set.is_empty() => "no halo cached".into(),
            Halo::Layers(set) => alloc::format!("halos cached at ops {set}"),
        }
    }
}

/// Checks that ops `0..=split` can form a patch stage and returns the stage's
/// input and output tensors. Stage tensors also read after the stage (a
/// detector head branching off, a long skip connection) are allowed: the
/// schedule keeps them whole (see [`PatchSchedule::kept`]).
pub fn check_split(g: &Graph, split: usize) -> Result<(TensorId, TensorId)> {
    check_stage(g, 0, split)
}

/// Checks that ops `first..=last` can form a patch stage and returns the
/// stage's input (for `first == 0` the model input, else the first
/// operator's first activation input) and output. A later stage reads the
/// tensors computed before it held whole in the arena.
pub fn check_stage(g: &Graph, first: usize, last: usize) -> Result<(TensorId, TensorId)> {
    if last >= g.nodes.len() {
        return Err(Error::Schedule("split index is past the last operator"));
    }
    if first > last {
        return Err(Error::Schedule("a patch stage's first operator is after its last"));
    }
    if g.inputs.len() != 1 {
        return Err(Error::Schedule("patch-based inference needs a single-input model"));
    }
    let batch = nhwc(&g.tensors[g.inputs[0]].shape)[0];
    let stage_tensor = |t: TensorId| g.tensors[t].shape.len() == 4 && g.tensors[t].shape[0] == batch;
    let input = if first == 0 {
        g.inputs[0]
    } else {
        g.activation_inputs(first).next().ok_or(Error::Split {
            split: last,
            op_index: first,
            op: g.nodes[first].op.name(),
            why: "reads no activation tensor",
        })?
    };
    if !stage_tensor(input) {
        return Err(Error::Schedule("the model input is not a 4-D image tensor"));
    }
    let refuse = |i: usize, why| Error::Split { split: last, op_index: i, op: g.nodes[i].op.name(), why };
    for (i, node) in g.nodes.iter().enumerate().take(last + 1).skip(first) {
        if node.op.spatial() == Spatial::Global {
            return Err(refuse(i, "needs its whole input"));
        }
        let out = node.output();
        if !stage_tensor(out) {
            return Err(refuse(i, "does not output a 4-D image tensor"));
        }
        for t in g.activation_inputs(i) {
            if !stage_tensor(t) {
                return Err(refuse(i, "reads a tensor that is not a 4-D image"));
            }
            let (s, o) = (nhwc(&g.tensors[t].shape), nhwc(&g.tensors[out].shape));
            if node.op.spatial() == Spatial::Pointwise && (s[1], s[2]) != (o[1], o[2]) && !is_spatial_broadcast(s, o) {
                return Err(refuse(i, "broadcasts along one spatial axis"));
            }
        }
    }
    Ok((input, g.nodes[last].output()))
}

/// Tensors the stage `0..=split` computes (other than its output) that are
/// read after it or are graph outputs, in tensor order. The graph input is
/// one of them when something after the stage reads it.
pub fn kept_tensors(g: &Graph, split: usize) -> Vec<TensorId> {
    stage_kept(g, 0, split)
}

/// [`kept_tensors`] of the stage `first..=last`; for `first == 0` the graph
/// input counts as computed by the stage.
fn stage_kept(g: &Graph, first: usize, last: usize) -> Vec<TensorId> {
    let output = g.nodes[last].output();
    let mut produced = alloc::vec![false; g.tensors.len()];
    if first == 0 {
        for &t in &g.inputs {
            produced[t] = true;
        }
    }
    for node in &g.nodes[first..=last] {
        produced[node.output()] = true;
    }
    let mut later = alloc::vec![false; g.tensors.len()];
    for n in &g.nodes[last + 1..] {
        for &t in n.inputs.iter().flatten() {
            later[t] = true;
        }
    }
    for &t in &g.outputs {
        later[t] = true;
    }
    (0..g.tensors.len()).filter(|&t| produced[t] && later[t] && t != output).collect()
}

/// The activation tensors ops `first..=last` read that were computed before
/// them (for `first == 0`, the graph input), in tensor order.
fn stage_inputs(g: &Graph, first: usize, last: usize) -> Vec<TensorId> {
    let mut produced = alloc::vec![false; g.tensors.len()];
    for node in &g.nodes[first..=last] {
        produced[node.output()] = true;
    }
    let mut read = alloc::vec![false; g.tensors.len()];
    for i in first..=last {
        for t in g.activation_inputs(i) {
            read[t] |= !produced[t];
        }
    }
    (0..g.tensors.len()).filter(|&t| read[t]).collect()
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
    /// The stage is ops `first..=split` (`first` is 0 except in a later stage
    /// of a schedule with several, see [`check_stages`]).
    pub first: usize,
    pub split: usize,
    /// `(rows, cols)`.
    pub grid: (usize, usize),
    pub input: TensorId,
    pub output: TensorId,
    /// `rects[p][t]`: the rectangle of tensor `t` patch `p` computes (for the
    /// stage input: reads); `None` outside the stage.
    pub rects: Vec<Vec<Option<Rect>>>,
    /// Stage tensors held whole in the arena besides the output, because the
    /// rest of the network reads them: each patch also computes its own cell
    /// of them, so together the patches fill them.
    pub kept: Vec<TensorId>,
    /// The tensors the stage reads that were computed before it (the model
    /// input for a first stage), held whole in the arena unless streamed.
    pub inputs: Vec<TensorId>,
    /// The network reads its input after the stage (so the input cannot be streamed).
    pub input_read_later: bool,
    /// Per tensor, whether its halo is cached (empty: nothing is, every
    /// patch recomputes its halos).
    pub cached: Vec<bool>,
    /// `computed[p][t]`: the part of `rects[p][t]` patch `p` computes (the
    /// rest comes from caches or stays from earlier patches); empty when
    /// nothing is cached (then it is all of `rects`).
    pub computed: Vec<Vec<Option<Rect>>>,
}

impl PatchSchedule {
    pub fn new(g: &Graph, split: usize, grid: (usize, usize)) -> Result<Self> {
        Self::stage(g, 0, split, grid)
    }

    /// The stage ops `first..=last` over `grid`, recomputing halos.
    pub fn stage(g: &Graph, first: usize, last: usize, grid: (usize, usize)) -> Result<Self> {
        let mut s = Self::empty_stage(g, first, last, grid)?;
        let (rows, cols) = (StageAxis::new(g, &s, true, grid.0), StageAxis::new(g, &s, false, grid.1));
        s.rects = match StageAxis::rects(&rows, &cols) {
            Some(rects) => rects,
            None => s.propagated_rects(g),
        };
        Ok(s)
    }

    /// A schedule under `halo`. Caching covers every stage tensor whose
    /// windows are products of per-axis spans that only move forward along
    /// the grid (the others, if any, recompute); [`PatchSchedule::new`] is
    /// `Halo::Recompute`.
    pub fn with_halo(g: &Graph, split: usize, grid: (usize, usize), halo: Halo) -> Result<Self> {
        Self::stage_with_halo(g, 0, split, grid, halo)
    }

    /// The stage ops `first..=last` over `grid` under `halo`.
    pub fn stage_with_halo(g: &Graph, first: usize, last: usize, grid: (usize, usize), halo: Halo) -> Result<Self> {
        match halo {
            Halo::Recompute => Self::stage(g, first, last, grid),
            Halo::Cache => Self::stage_cached(g, first, last, grid, &|_| true),
            Halo::Layers(set) => {
                let mut want = alloc::vec![false; g.tensors.len()];
                for i in set.ops().filter(|&i| (first..=last).contains(&i) && i < g.nodes.len()) {
                    want[g.nodes[i].output()] = true;
                }
                Self::stage_cached(g, first, last, grid, &|t| want[t])
            }
        }
    }

    /// A schedule caching the halos of the stage tensors `want` picks (where
    /// caching is possible, see [`PatchSchedule::with_halo`]).
    pub fn with_cached(g: &Graph, split: usize, grid: (usize, usize), want: &dyn Fn(TensorId) -> bool) -> Result<Self> {
        Self::stage_cached(g, 0, split, grid, want)
    }

    /// [`PatchSchedule::with_cached`] for the stage ops `first..=last`.
    pub fn stage_cached(
        g: &Graph,
        first: usize,
        last: usize,
        grid: (usize, usize),
        want: &dyn Fn(TensorId) -> bool,
    ) -> Result<Self> {
        let mut s = Self::empty_stage(g, first, last, grid)?;
        let (rows, cols, cached) = cached_axes(g, &s, want);
        let nt = g.tensors.len();
        let (mut rects, mut computed) = (Vec::new(), Vec::new());
        for r in 0..grid.0 {
            for c in 0..grid.1 {
                rects.push((0..nt).map(|t| Some(span_rect(rows[t][r]?, cols[t][c]?))).collect::<Vec<_>>());
            }
        }
        let patches = rects.len();
        for p in 0..patches {
            computed.push(
                (0..nt)
                    .map(|t| {
                        let here = rects[p][t]?;
                        if !cached[t] {
                            return Some(here);
                        }
                        Some(crate::halo::split_in_grid(here, p, patches, grid.1, |q| rects[q][t]).computed)
                    })
                    .collect(),
            );
        }
        s.rects = rects;
        s.computed = computed;
        s.cached = cached;
        Ok(s)
    }

    /// Whether tensor `t`'s halo is cached.
    pub fn is_cached(&self, t: TensorId) -> bool {
        self.cached.get(t).copied().unwrap_or(false)
    }

    /// The part of tensor `t`'s window patch `p` computes.
    pub fn computed(&self, p: usize, t: TensorId) -> Option<Rect> {
        match self.computed.get(p) {
            Some(row) => row[t],
            None => self.rects[p][t],
        }
    }

    /// [`PatchSchedule::new`] without the per-axis shortcut: every patch
    /// back-propagated on its own (the reference the shortcut is tested against).
    #[doc(hidden)]
    pub fn new_unseparated(g: &Graph, split: usize, grid: (usize, usize)) -> Result<Self> {
        let mut s = Self::empty(g, split, grid)?;
        s.rects = s.propagated_rects(g);
        Ok(s)
    }

    /// The schedule with its checks done and no rectangles yet (what
    /// [`StageAxis::new`] needs).
    pub fn empty(g: &Graph, split: usize, grid: (usize, usize)) -> Result<Self> {
        Self::empty_stage(g, 0, split, grid)
    }

    /// [`PatchSchedule::empty`] for the stage ops `first..=last`.
    pub fn empty_stage(g: &Graph, first: usize, last: usize, grid: (usize, usize)) -> Result<Self> {
        let (input, output) = check_stage(g, first, last)?;
        let o = nhwc(&g.tensors[output].shape);
        if grid.0 == 0 || grid.1 == 0 || grid.0 > o[1] || grid.1 > o[2] {
            return Err(Error::Schedule("the grid has more rows or columns than the stage output"));
        }
        // Only a first stage counts the model input as its own (a later one's is never kept).
        let mut kept = stage_kept(g, first, last);
        let input_read_later = kept.contains(&input);
        kept.retain(|&t| t != input);
        Ok(Self {
            first,
            split: last,
            grid,
            input,
            output,
            rects: Vec::new(),
            kept,
            inputs: stage_inputs(g, first, last),
            input_read_later,
            cached: Vec::new(),
            computed: Vec::new(),
        })
    }

    /// Every patch's rectangles, each patch back-propagated from its own cells.
    fn propagated_rects(&self, g: &Graph) -> Vec<Vec<Option<Rect>>> {
        let grid = self.grid;
        let mut rects = Vec::with_capacity(grid.0 * grid.1);
        for r in 0..grid.0 {
            for c in 0..grid.1 {
                // Patch (r, c) computes cell (r, c) of the output and of every kept tensor.
                let cell_of = |t: TensorId| {
                    let s = nhwc(&g.tensors[t].shape);
                    let ((y0, y1), (x0, x1)) = (cell(s[1], grid.0, r), cell(s[2], grid.1, c));
                    Rect::new(y0, x0, y1 - y0, x1 - x0)
                };
                let mut seeds = alloc::vec![(self.output, cell_of(self.output))];
                seeds.extend(self.kept.iter().map(|&t| (t, cell_of(t))).filter(|(_, r)| !r.is_empty()));
                rects.push(back_propagate(g, self.first..=self.split, &seeds, &mut false));
            }
        }
        rects
    }

    /// Whether tensor `t` is held whole during the stage (the output and kept tensors).
    pub fn is_whole(&self, t: TensorId) -> bool {
        t == self.output || self.kept.contains(&t)
    }

    /// Whether the layout holds tensor `t` whole across the stage under `mode`
    /// (also the stage's inputs, unless the model input is streamed).
    pub(crate) fn holds_whole(&self, t: TensorId, mode: InputMode) -> bool {
        self.is_whole(t) || (self.inputs.contains(&t) && !self.streams(t, mode))
    }

    /// Whether `mode` streams tensor `t` into this stage patch by patch (the
    /// model input of a first stage).
    pub(crate) fn streams(&self, t: TensorId, mode: InputMode) -> bool {
        mode == InputMode::Streamed && self.first == 0 && t == self.input
    }

    /// Ops of the stage.
    pub fn ops(&self) -> core::ops::RangeInclusive<usize> {
        self.first..=self.split
    }

    /// Checks that `mode` can run this schedule: a streamed input must not be read after the stage.
    pub fn check_mode(&self, mode: InputMode) -> Result<()> {
        if mode == InputMode::Streamed && self.input_read_later {
            return Err(Error::Schedule(
                "the network reads its input after the patch stage, so the input cannot be streamed",
            ));
        }
        Ok(())
    }

    pub fn patches(&self) -> usize {
        self.rects.len()
    }

    /// Window of tensor `t` in patch `p`.
    pub fn window(&self, g: &Graph, p: usize, t: TensorId) -> Option<Window> {
        let s = nhwc(&g.tensors[t].shape);
        self.rects[p][t].map(|r| Window::new(s[0], r, s[3]))
    }

    /// MACs of stage node `i` in patch `p` (`None`: it does not run there).
    /// A cached tensor's producer with nothing new to compute only moves its
    /// cached strips: no MACs.
    pub fn patch_macs(&self, g: &Graph, p: usize, i: usize) -> Option<u64> {
        let out = g.nodes[i].output();
        let r = self.computed(p, out)?;
        Some(if self.is_cached(out) && r.is_empty() { 0 } else { node_macs(g, i, r) })
    }

    /// MACs of the stage executed patch by patch.
    pub fn stage_macs(&self, g: &Graph) -> u64 {
        (0..self.patches()).flat_map(|p| self.ops().filter_map(move |i| self.patch_macs(g, p, i))).sum()
    }

    /// MACs of the stage's operators executed once, layer by layer.
    pub fn stage_macs_once(&self, g: &Graph) -> u64 {
        self.ops()
            .map(|i| {
                let o = nhwc(&g.tensors[g.nodes[i].output()].shape);
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

/// Walks the stage backwards from one patch's cells (`seeds`): each tensor's
/// rectangle is the union of its own cell, if any, and what its consumers'
/// receptive fields read. Sets `empty` when a seed or a receptive field is empty.
fn back_propagate(
    g: &Graph,
    ops: core::ops::RangeInclusive<usize>,
    seeds: &[(TensorId, Rect)],
    empty: &mut bool,
) -> Vec<Option<Rect>> {
    let mut need: Vec<Option<Rect>> = alloc::vec![None; g.tensors.len()];
    for &(t, r) in seeds {
        *empty |= r.is_empty();
        need[t] = Some(r);
    }
    for i in ops.rev() {
        let node = &g.nodes[i];
        let out = node.output();
        let Some(r) = need[out] else { continue };
        let os = nhwc(&g.tensors[out].shape);
        for t in g.activation_inputs(i) {
            let s = nhwc(&g.tensors[t].shape);
            let ir = if is_spatial_broadcast(s, os) {
                Some(Rect::full(s[1], s[2]))
            } else {
                node.op.input_rect(r, (s[1], s[2]), (os[1], os[2]))
            };
            if let Some(ir) = ir {
                *empty |= ir.is_empty();
                need[t] = Some(match need[t] {
                    Some(prev) => prev.union(&ir),
                    None => ir,
                });
            }
        }
    }
    need
}

/// `[start, start + len)` rows × columns.
fn span_rect((y, h): (usize, usize), (x, w): (usize, usize)) -> Rect {
    Rect::new(y, x, h, w)
}

/// Under halo caching, what every stage tensor needs per grid row
/// (`rows[t][r]`, `(start, len)`) and per grid column, and which tensors are
/// cached. Walking the stage backwards, a tensor's spans are known once its
/// consumers are done; it is cached when `want` picks it, the stage computes
/// it and its spans' starts only move forward along both axes (the caches
/// hold what the previous patch left), and its producer then computes only
/// the part of each span past the previous cell's end, whose receptive field
/// is what its inputs need. A span is the hull of what the consumers read: rows and
/// columns stay independent, so every window is row span × column span.
#[allow(clippy::type_complexity)]
fn cached_axes(
    g: &Graph,
    s: &PatchSchedule,
    want: &dyn Fn(TensorId) -> bool,
) -> (Vec<Vec<Option<(usize, usize)>>>, Vec<Vec<Option<(usize, usize)>>>, Vec<bool>) {
    let nt = g.tensors.len();
    let (gr, gc) = s.grid;
    let mut rows: Vec<Vec<Option<(usize, usize)>>> = alloc::vec![alloc::vec![None; gr]; nt];
    let mut cols: Vec<Vec<Option<(usize, usize)>>> = alloc::vec![alloc::vec![None; gc]; nt];
    let mut cached = alloc::vec![false; nt];
    let hull = |a: Option<(usize, usize)>, b: (usize, usize)| match a {
        Some(a) if a.1 > 0 && b.1 > 0 => {
            let (s, e) = (a.0.min(b.0), (a.0 + a.1).max(b.0 + b.1));
            Some((s, e - s))
        }
        Some(a) if b.1 == 0 => Some(a),
        _ => Some(b),
    };
    for &t in core::iter::once(&s.output).chain(&s.kept) {
        let d = nhwc(&g.tensors[t].shape);
        for r in 0..gr {
            let (y0, y1) = cell(d[1], gr, r);
            rows[t][r] = Some((y0, y1 - y0));
        }
        for c in 0..gc {
            let (x0, x1) = cell(d[2], gc, c);
            cols[t][c] = Some((x0, x1 - x0));
        }
    }
    // The part of each span the producer computes, given whether it caches.
    let fresh = |spans: &[Option<(usize, usize)>], cache: bool| -> Vec<Option<(usize, usize)>> {
        (0..spans.len())
            .map(|i| {
                let (start, len) = spans[i]?;
                let prev_end = i.checked_sub(1).and_then(|j| spans[j]).filter(|p| p.1 > 0).map(|(s, l)| s + l);
                match prev_end {
                    Some(e) if cache => {
                        let from = e.clamp(start, start + len);
                        Some((from, start + len - from))
                    }
                    _ => Some((start, len)),
                }
            })
            .collect()
    };
    // The caches hold what the previous window holds from the next one's
    // start on, and each window saves to the row (column) cache only what no
    // earlier window of its grid row (column) computed: starts must move
    // forward, with no empty span (a window `halo::split` skips) between
    // two others.
    let forward = |spans: &[Option<(usize, usize)>]| {
        let nonempty: Vec<usize> = (0..spans.len()).filter(|&i| spans[i].is_some_and(|s| s.1 > 0)).collect();
        nonempty.windows(2).all(|w| w[1] == w[0] + 1 && spans[w[1]].map(|s| s.0) >= spans[w[0]].map(|s| s.0))
    };
    // A window reaching less far than the previous one is widened to the
    // same end (what it gains comes from the cache): ends then move forward,
    // which keeps the strips each window saves disjoint.
    let widen = |spans: &mut [Option<(usize, usize)>]| {
        let mut end = 0;
        for s in spans.iter_mut().flatten().filter(|s| s.1 > 0) {
            end = end.max(s.0 + s.1);
            s.1 = end - s.0;
        }
    };
    for i in s.ops().rev() {
        let node = &g.nodes[i];
        let out = node.output();
        if rows[out].iter().all(Option::is_none) || cols[out].iter().all(Option::is_none) {
            continue;
        }
        cached[out] = want(out) && forward(&rows[out]) && forward(&cols[out]);
        if cached[out] {
            widen(&mut rows[out]);
            widen(&mut cols[out]);
        }
        let (fr, fc) = (fresh(&rows[out], cached[out]), fresh(&cols[out], cached[out]));
        let os = nhwc(&g.tensors[out].shape);
        for t in g.activation_inputs(i) {
            let is = nhwc(&g.tensors[t].shape);
            let broadcast = is_spatial_broadcast(is, os);
            // One axis at a time: the other taken whole (rules treat axes independently).
            let read = |r: Rect| -> Option<Rect> {
                if broadcast {
                    Some(Rect::full(is[1], is[2]))
                } else {
                    node.op.input_rect(r, (is[1], is[2]), (os[1], os[2]))
                }
            };
            // An empty part still makes the input present (its producer runs
            // over an empty region, as in a recompute schedule).
            for (k, f) in fr.iter().enumerate() {
                match *f {
                    Some((_, 0)) => rows[t][k] = hull(rows[t][k], (0, 0)),
                    Some((y, h)) => {
                        if let Some(ir) = read(Rect::new(y, 0, h, os[2])) {
                            rows[t][k] = hull(rows[t][k], (ir.y, ir.h));
                        }
                    }
                    None => {}
                }
            }
            for (k, f) in fc.iter().enumerate() {
                match *f {
                    Some((_, 0)) => cols[t][k] = hull(cols[t][k], (0, 0)),
                    Some((x, w)) => {
                        if let Some(ir) = read(Rect::new(0, x, os[1], w)) {
                            cols[t][k] = hull(cols[t][k], (ir.x, ir.w));
                        }
                    }
                    None => {}
                }
            }
        }
    }
    (rows, cols, cached)
}

/// What every stage tensor needs along one axis for each cell of an `n`-way
/// split of that axis, the other axis taken whole.
///
/// Every receptive-field rule treats rows and columns independently, and the
/// union of non-empty rectangles is the per-axis hull, so when no seed and no
/// receptive field is empty the rectangle patch `(r, c)` needs is row cell
/// `r`'s rows × column cell `c`'s columns: a grid costs `rows + cols`
/// back-propagations instead of `rows × cols`, and the search shares them
/// across all grids of a split. An empty one (a window wholly in padding, a
/// kept tensor with fewer rows than the grid) changes how the other axis
/// unites, so such grids take the per-patch walk.
pub struct StageAxis {
    /// `cells[i][t]`: `(start, len)` of tensor `t` in cell `i`; `None` outside the stage.
    cells: Vec<Vec<Option<(usize, usize)>>>,
    separable: bool,
}

impl StageAxis {
    /// `vertical`: rows (else columns) of schedule `s`'s stage, split `n` ways.
    pub fn new(g: &Graph, s: &PatchSchedule, vertical: bool, n: usize) -> Self {
        let mut empty = false;
        let cells = (0..n)
            .map(|i| {
                let cell_of = |t: TensorId| {
                    let d = nhwc(&g.tensors[t].shape);
                    if vertical {
                        let (y0, y1) = cell(d[1], n, i);
                        Rect::new(y0, 0, y1 - y0, d[2])
                    } else {
                        let (x0, x1) = cell(d[2], n, i);
                        Rect::new(0, x0, d[1], x1 - x0)
                    }
                };
                let mut seeds = alloc::vec![(s.output, cell_of(s.output))];
                seeds.extend(s.kept.iter().map(|&t| (t, cell_of(t))));
                back_propagate(g, s.ops(), &seeds, &mut empty)
                    .into_iter()
                    .map(|r| r.map(|r| if vertical { (r.y, r.h) } else { (r.x, r.w) }))
                    .collect()
            })
            .collect();
        Self { cells, separable: !empty }
    }

    /// Whether rows × columns give every patch's exact rectangles.
    pub fn combine(rows: &Self, cols: &Self) -> bool {
        rows.separable
            && cols.separable
            && rows.cells[0].iter().zip(&cols.cells[0]).all(|(r, c)| r.is_some() == c.is_some())
    }

    /// Every patch's rectangles, row-major (`None` when the axes do not combine).
    fn rects(rows: &Self, cols: &Self) -> Option<Vec<Vec<Option<Rect>>>> {
        Self::combine(rows, cols).then(|| {
            rows.cells
                .iter()
                .flat_map(|row| {
                    cols.cells.iter().map(move |col| {
                        row.iter()
                            .zip(col)
                            .map(|(r, c)| Some(Rect::new(r.as_ref()?.0, c.as_ref()?.0, r.as_ref()?.1, c.as_ref()?.1)))
                            .collect()
                    })
                })
                .collect()
        })
    }

    /// Every tensor's buffer bytes under the grid `rows × cols` over `s`'s
    /// stage (`s` need not hold rectangles), as [`patch_layout`] sizes them;
    /// the axes must [`combine`](Self::combine).
    pub(crate) fn sizes(g: &Graph, s: &PatchSchedule, rows: &Self, cols: &Self, mode: InputMode) -> Vec<usize> {
        let window_bytes = |t: TensorId| {
            rows.in_stage(t).then(|| {
                let d = nhwc(&g.tensors[t].shape);
                d[0] * rows.max_len(t) * cols.max_len(t) * d[3] * g.tensors[t].dtype.size()
            })
        };
        let sizes = stage_sizes(g, s.ops(), &|t| s.holds_whole(t, mode), &window_bytes);
        sizes.into_iter().enumerate().map(|(t, b)| b.unwrap_or_else(|| g.tensors[t].bytes())).collect()
    }

    /// The stage's MACs patch by patch, as [`PatchSchedule::stage_macs`]
    /// counts them: an operator's MACs are affine in its rectangle's area
    /// (per output pixel, or a constant), so the sum over the grid's cells is
    /// the count of one empty and one 1×1 rectangle scaled by the cell count
    /// and by (Σ rows)·(Σ columns).
    pub(crate) fn stage_macs(g: &Graph, s: &PatchSchedule, rows: &Self, cols: &Self) -> u64 {
        let mut macs = 0u64;
        for i in s.ops() {
            let out = g.nodes[i].output();
            if !rows.in_stage(out) {
                continue;
            }
            let (n, h, w) =
                (rows.cells.len() as u64 * cols.cells.len() as u64, rows.total_len(out), cols.total_len(out));
            let (m0, m1) = (node_macs(g, i, Rect::new(0, 0, 0, 0)), node_macs(g, i, Rect::new(0, 0, 1, 1)));
            macs += n * m0 + m1.saturating_sub(m0) * h * w;
        }
        macs
    }

    /// The sum of tensor `t`'s spans over the cells.
    fn total_len(&self, t: TensorId) -> u64 {
        self.spans(t).map(|(_, len)| len as u64).sum()
    }

    fn in_stage(&self, t: TensorId) -> bool {
        self.cells[0][t].is_some()
    }

    /// The longest span of tensor `t` over the cells.
    fn max_len(&self, t: TensorId) -> usize {
        self.spans(t).map(|(_, len)| len).max().unwrap_or(0)
    }

    fn spans(&self, t: TensorId) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.cells.iter().filter_map(move |c| c[t])
    }
}

/// MACs of node `i` computing output rectangle `r`.
pub fn node_macs(g: &Graph, i: usize, r: Rect) -> u64 {
    let node = &g.nodes[i];
    let o = nhwc(&g.tensors[node.output()].shape);
    let in_c = node.input(0).map(|t| nhwc(&g.tensors[t].shape)[3]).unwrap_or(1);
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
    stages_layout(g, core::slice::from_ref(s), mode, planner, options)
}

/// The arena layout of several patch stages (checked by [`check_stages`]):
/// each stage's tensors sized and kept as [`patch_layout`] does for one.
pub fn stages_layout(
    g: &Graph,
    stages: &[PatchSchedule],
    mode: InputMode,
    planner: &dyn Planner,
    options: LayoutOptions,
) -> ArenaLayout {
    let (zero, keep, frozen) = stages_lifetimes(stages, mode);
    let sizing = Sizing { bytes: &zero, frozen: &frozen, keep: &keep };
    ArenaLayout::settled(g, planner, options, &sizing, &stages_sizes(g, stages, mode), &stages_caches(g, stages, mode))
}

/// [`stages_layout`] on a skeleton already built for these stages' ops and
/// mode (it depends on neither the grids nor the halos: a search builds it
/// once per split).
pub(crate) fn stages_layout_on(
    g: &Graph,
    stages: &[PatchSchedule],
    mode: InputMode,
    planner: &dyn Planner,
    skeleton: &Skeleton,
) -> ArenaLayout {
    skeleton.build_with(planner, &stages_sizes(g, stages, mode), &stages_caches(g, stages, mode))
}

/// The halo cache buffers of `stages`: `(tensor, row cache, column cache)`.
fn stages_caches(g: &Graph, stages: &[PatchSchedule], mode: InputMode) -> Vec<(TensorId, Buffer, Buffer)> {
    let mut caches = Vec::new();
    for s in stages {
        for (t, c) in cache_dims(g, s, mode) {
            let d = nhwc(&g.tensors[t].shape);
            let (n, ch, elem) = (d[0], d[3], g.tensors[t].dtype.size());
            let buffer = |bytes| Buffer::new(bytes, s.first, s.split);
            caches.push((t, buffer(c.row_bytes(n, ch, elem)), buffer(c.col_bytes(n, ch, elem))));
        }
    }
    caches
}

/// Checks that `stages` can run one after the other in one program: in
/// operator order, disjoint, with only the first starting at op 0, and
/// `mode` possible for them (only a first stage at op 0 streams the input).
pub fn check_stages(stages: &[PatchSchedule], mode: InputMode) -> Result<()> {
    let mut next = 0;
    for (k, s) in stages.iter().enumerate() {
        if s.first < next || (k > 0 && s.first == 0) {
            return Err(Error::Schedule("patch stages overlap or are out of operator order"));
        }
        s.check_mode(mode)?;
        next = s.split + 1;
    }
    if mode == InputMode::Streamed && stages.first().is_none_or(|s| s.first != 0) {
        return Err(Error::Schedule("only a patch stage starting at the first operator can stream the input"));
    }
    Ok(())
}

/// The arena bytes of each cached tensor's row and column caches under `s`
/// (what [`patch_layout`] plans for them).
pub fn cache_bytes(g: &Graph, s: &PatchSchedule, mode: InputMode) -> Vec<(TensorId, usize)> {
    cache_dims(g, s, mode)
        .into_iter()
        .map(|(t, c)| {
            let d = nhwc(&g.tensors[t].shape);
            let (n, ch, elem) = (d[0], d[3], g.tensors[t].dtype.size());
            (t, c.row_bytes(n, ch, elem) + c.col_bytes(n, ch, elem))
        })
        .collect()
}

/// The caches of every cached tensor `s`'s patches hold in a window (a
/// tensor held whole needs none), sized by the largest strip the patches
/// save (module [`halo`](crate::halo)); offsets are left 0.
pub fn cache_dims(g: &Graph, s: &PatchSchedule, mode: InputMode) -> Vec<(TensorId, crate::halo::Cache)> {
    let mut out = Vec::new();
    for t in (0..g.tensors.len()).filter(|&t| s.is_cached(t) && !s.holds_whole(t, mode)) {
        let mut c = crate::halo::Cache::default();
        let (mut x0, mut x1) = (usize::MAX, 0);
        for p in 0..s.patches() {
            let Some(here) = s.rects[p][t] else { continue };
            let split = crate::halo::split_in_grid(here, p, s.patches(), s.grid.1, |q| s.rects[q][t]);
            if !split.bottom_out.is_empty() {
                c.rows = c.rows.max(split.bottom_out.h);
                (x0, x1) = (x0.min(split.bottom_out.x), x1.max(split.bottom_out.x_end()));
            }
            if !split.right_out.is_empty() {
                c.col_rows = c.col_rows.max(split.right_out.h);
                c.cols = c.cols.max(split.right_out.w);
            }
        }
        c.cols_span = if x1 > x0 { (x0, x1 - x0) } else { (0, 0) };
        out.push((t, c));
    }
    out
}

/// Every tensor's buffer bytes under `s`, as [`patch_layout`] sizes them.
pub(crate) fn schedule_sizes(g: &Graph, s: &PatchSchedule, mode: InputMode) -> Vec<usize> {
    stages_sizes(g, core::slice::from_ref(s), mode)
}

/// Every tensor's buffer bytes under `stages`, as [`stages_layout`] sizes them.
fn stages_sizes(g: &Graph, stages: &[PatchSchedule], mode: InputMode) -> Vec<usize> {
    let mut sizes: Vec<usize> = g.tensors.iter().map(|t| t.bytes()).collect();
    for s in stages {
        let window_bytes =
            |t: TensorId| (0..s.patches()).any(|p| s.rects[p][t].is_some()).then(|| s.max_window_bytes(g, t));
        let stage = stage_sizes(g, s.ops(), &|t| s.holds_whole(t, mode), &window_bytes);
        for (t, b) in stage.into_iter().enumerate() {
            if let Some(b) = b {
                sizes[t] = b;
            }
        }
    }
    sizes
}

/// The buffers and lifetimes of `s`'s stage (the same for every grid over it).
pub(crate) fn stage_skeleton(g: &Graph, s: &PatchSchedule, mode: InputMode, options: LayoutOptions) -> Skeleton {
    stages_skeleton(g, core::slice::from_ref(s), mode, options)
}

/// The buffers and lifetimes of several stages: a tensor a stage holds
/// whole lives across all of it, and no operator in a stage runs in place
/// (its windows move from patch to patch).
fn stages_skeleton(g: &Graph, stages: &[PatchSchedule], mode: InputMode, options: LayoutOptions) -> Skeleton {
    let (zero, keep, frozen) = stages_lifetimes(stages, mode);
    Skeleton::new(g, options, &Sizing { bytes: &zero, frozen: &frozen, keep: &keep })
}

/// What [`Sizing`] says of `stages`' lifetimes: no sizes (the skeleton's
/// buffers are sized later), the span a tensor a stage holds whole must
/// live across, and the stages' steps (no operator in a stage runs in place).
#[allow(clippy::type_complexity)]
fn stages_lifetimes<'a>(
    stages: &'a [PatchSchedule],
    mode: InputMode,
) -> (impl Fn(TensorId) -> usize, impl Fn(TensorId) -> Option<(usize, usize)> + 'a, impl Fn(usize) -> bool + 'a) {
    let zero = |_: TensorId| 0;
    let keep = move |t: TensorId| {
        let mut spans = stages.iter().filter(|s| s.holds_whole(t, mode)).map(|s| (s.first, s.split));
        let first = spans.next()?;
        Some(spans.fold(first, |(a, b), (c, d)| (a.min(c), b.max(d))))
    };
    let frozen = move |i: usize| stages.iter().any(|s| s.ops().contains(&i));
    (zero, keep, frozen)
}

/// Each tensor's bytes in a patch stage's layout, where the stage decides
/// them: tensors held `whole` get their full size (`None`), the others in
/// the stage their largest patch window (`window_bytes`, `None` outside the
/// stage). A tensor the stage produces that no patch computes is dead
/// (nothing reads it and it is no output): the patches skip its operator,
/// so it takes no bytes.
fn stage_sizes(
    g: &Graph,
    ops: core::ops::RangeInclusive<usize>,
    whole: &dyn Fn(TensorId) -> bool,
    window_bytes: &dyn Fn(TensorId) -> Option<usize>,
) -> Vec<Option<usize>> {
    let mut dead = alloc::vec![false; g.tensors.len()];
    for n in &g.nodes[ops] {
        dead[n.output()] = true;
    }
    (0..g.tensors.len())
        .map(|t| match window_bytes(t) {
            _ if whole(t) => None,
            Some(b) => Some(b),
            None if dead[t] => Some(0),
            None => None,
        })
        .collect()
}

/// A graph prepared for patch-based execution in one arena: the schedule,
/// its layout, and the lowered program the one interpreter runs.
pub struct PatchExecutor<'g> {
    pub graph: &'g Graph,
    /// The patch stages, in operator order (usually one).
    pub stages: Vec<PatchSchedule>,
    pub layout: ArenaLayout,
    pub mode: InputMode,
    pub lowered: Lowered,
}

impl<'g> PatchExecutor<'g> {
    pub fn new(graph: &'g Graph, split: usize, grid: (usize, usize), mode: InputMode) -> Result<Self> {
        Self::from_schedule(graph, PatchSchedule::new(graph, split, grid)?, mode)
    }

    /// The executor of `split` and `grid` under `halo`.
    pub fn with_halo(
        graph: &'g Graph,
        split: usize,
        grid: (usize, usize),
        mode: InputMode,
        halo: Halo,
    ) -> Result<Self> {
        Self::from_schedule(graph, PatchSchedule::with_halo(graph, split, grid, halo)?, mode)
    }

    /// The executor of a schedule built elsewhere (e.g. with [`PatchSchedule::with_cached`]).
    pub fn from_schedule(graph: &'g Graph, schedule: PatchSchedule, mode: InputMode) -> Result<Self> {
        Self::from_stages(graph, alloc::vec![schedule], mode)
    }

    /// The executor of several patch stages (see [`check_stages`]).
    pub fn from_stages(graph: &'g Graph, stages: Vec<PatchSchedule>, mode: InputMode) -> Result<Self> {
        check_stages(&stages, mode)?;
        let layout = stages_layout(graph, &stages, mode, &GreedyBySize, LayoutOptions::default());
        let lowered = lower_packed(graph, &layout, &stages, mode, Packing::HOST)?;
        Ok(Self { graph, stages, layout, mode, lowered })
    }

    /// The executor of a plan's schedule, every patch stage of it.
    pub fn for_schedule(graph: &'g Graph, schedule: crate::plan::Schedule, mode: InputMode) -> Result<Self> {
        Self::from_stages(graph, crate::plan::patch_schedules(graph, schedule)?, mode)
    }

    /// The first patch stage.
    pub fn schedule(&self) -> &PatchSchedule {
        &self.stages[0]
    }

    /// The lowered program.
    pub fn program(&self) -> Program<'_> {
        self.lowered.program()
    }

    pub fn arena_size(&self) -> usize {
        self.layout.arena_size()
    }

    /// The arena bytes of the (whole) input, to fill before `run` in `InArena` mode.
    pub fn input_mut<'a>(&self, arena: &'a mut [u8]) -> Result<&'a mut [u8]> {
        self.program().input_mut(arena, 0)
    }

    pub fn output<'a>(&self, arena: &'a [u8], i: usize) -> Result<&'a [u8]> {
        self.program().output(arena, i)
    }

    /// Runs the schedule. `streamed` is the whole input for `Streamed` mode
    /// (read patch by patch, never copied whole into the arena). Does not allocate.
    pub fn run(&self, arena: &mut [u8], streamed: Option<&[u8]>) -> Result<()> {
        self.program().run(arena, streamed)
    }
}
