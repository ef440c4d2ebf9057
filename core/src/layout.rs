//! Arena layouts: which buffer every activation tensor lives in, each
//! buffer's live interval, and the planner's offsets.
//!
//! Steps are operator indices. The layer-by-layer layout gives each tensor
//! its full size; the patch layout (module `patch`) gives the tensors inside
//! the patch stage the size of their largest patch window, and keeps the
//! stage's input and output live across the whole stage. Two savings apply
//! to both: RESHAPE aliases its input, and a convolution whose input dies
//! with it writes its output over that input where that is exact
//! (TinyEngine's in-place depthwise, and 1×1 projections that narrow the
//! tensor), delaying each output row in a small scratch buffer until no later
//! row reads the input bytes it lands on.

use alloc::vec::Vec;
use core::ops::Range;

use crate::graph::nhwc;
use crate::graph::{Graph, TensorId};
use crate::op::Op;
use crate::planner::{Buffer, MemoryPlan, Planner};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LayoutOptions {
    /// Convolutions overwrite their dying input where that is exact (on by default).
    pub inplace: bool,
}

impl Default for LayoutOptions {
    fn default() -> Self {
        Self { inplace: true }
    }
}

pub use crate::program::InPlaceKind;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InPlace {
    /// Buffer index of the scratch.
    pub scratch: usize,
    pub kind: InPlaceKind,
    /// The operand whose bytes the output overwrites.
    pub operand: usize,
}

/// Which operators one planning attempt lets overwrite their dying input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct InPlaceLevel {
    /// Depthwise convolutions (and, with `pointwise`, everything below).
    depthwise: bool,
    /// 1×1 convolutions and ADD.
    pointwise: bool,
    /// ADD overwrites its oldest operand (a residual input) rather than its newest.
    oldest: bool,
}

impl InPlaceLevel {
    const NONE: Self = Self { depthwise: false, pointwise: false, oldest: false };
    /// Every level tried; the smallest arena wins.
    const ALL: [Self; 4] = [
        Self::NONE,
        Self { depthwise: true, pointwise: false, oldest: false },
        Self { depthwise: true, pointwise: true, oldest: true },
        Self { depthwise: true, pointwise: true, oldest: false },
    ];
}

/// Where every activation tensor lives in the arena.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArenaLayout {
    /// Arena buffers with their live intervals (in operator steps).
    pub buffers: Vec<Buffer>,
    /// Buffer index of each tensor (`None` for constants and unused tensors).
    pub buffer_of: Vec<Option<usize>>,
    /// Per operator: `Some` when it runs in place over its input.
    pub inplace: Vec<Option<InPlace>>,
    /// Halo caches of a patch stage: `(tensor, row cache buffer, column cache buffer)`.
    pub caches: Vec<(TensorId, usize, usize)>,
    pub plan: MemoryPlan,
}

/// How a layout sizes tensors and stretches lifetimes (the patch stage's
/// difference from layer-by-layer).
pub(crate) struct Sizing<'a> {
    /// Bytes of the buffer holding tensor `t`.
    pub bytes: &'a dyn Fn(TensorId) -> usize,
    /// Steps at which no in-place rewrite may happen (patch stages).
    pub frozen: &'a dyn Fn(usize) -> bool,
    /// Extra `[first, last]` live interval a tensor must cover.
    pub keep: &'a dyn Fn(TensorId) -> Option<(usize, usize)>,
}

/// A layout's buffers at every in-place level for one way of stretching
/// lifetimes ([`Sizing::frozen`] and [`Sizing::keep`]), with the
/// tensor each buffer is sized by. Which buffers exist, and when they live,
/// does not depend on tensor sizes, so the search builds this once per patch
/// stage and sizes it per grid.
pub(crate) struct Skeleton {
    levels: Vec<(ArenaLayout, Vec<Option<TensorId>>)>,
}

impl Skeleton {
    /// The skeleton of `sizing`'s lifetimes (its `bytes` are not read).
    pub(crate) fn new(g: &Graph, options: LayoutOptions, sizing: &Sizing) -> Self {
        let levels: &[InPlaceLevel] = if options.inplace { &InPlaceLevel::ALL } else { &[InPlaceLevel::NONE] };
        let zero = |_: TensorId| 0;
        let lifetimes = Sizing { bytes: &zero, frozen: sizing.frozen, keep: sizing.keep };
        Skeleton { levels: levels.iter().map(|&level| ArenaLayout::unplanned(g, level, &lifetimes)).collect() }
    }

    /// Level `k`'s buffers sized by `sizes[tensor]`, not yet placed.
    fn sized(&self, k: usize, sizes: &[usize]) -> ArenaLayout {
        let (l, sources) = &self.levels[k];
        let mut l = l.clone();
        for (b, source) in l.buffers.iter_mut().zip(sources) {
            if let Some(t) = source {
                b.size = sizes[*t];
            }
        }
        l
    }

    /// Plans each level and keeps the smallest arena (see [`ArenaLayout::build`]).
    pub(crate) fn build(&self, planner: &dyn Planner, sizes: &[usize]) -> ArenaLayout {
        self.build_with(planner, sizes, &[])
    }

    /// [`Skeleton::build`] with halo caches: `(tensor, row cache, column
    /// cache)` buffers added to every level, recorded in [`ArenaLayout::caches`].
    pub(crate) fn build_with(
        &self,
        planner: &dyn Planner,
        sizes: &[usize],
        caches: &[(TensorId, Buffer, Buffer)],
    ) -> ArenaLayout {
        let mut best: Option<ArenaLayout> = None;
        for k in 0..self.levels.len() {
            let mut l = self.sized(k, sizes);
            for &(t, rows, cols) in caches {
                l.buffers.extend([rows, cols]);
                l.caches.push((t, l.buffers.len() - 2, l.buffers.len() - 1));
            }
            // A level whose live bytes already reach the best arena cannot
            // give a strictly smaller one: it is not planned.
            if best.as_ref().is_some_and(|b| crate::planner::live_bytes_lower_bound(&l.buffers) >= b.arena_size()) {
                continue;
            }
            l.plan = planner.plan(&l.buffers);
            if best.as_ref().is_none_or(|b| l.arena_size() < b.arena_size()) {
                best = Some(l);
            }
        }
        best.expect("at least one in-place level")
    }

    /// A lower bound of [`Skeleton::build`]'s arena with any planner: the
    /// smallest over the levels of the bytes live at one step (no plan is
    /// below its level's live bytes, and `build` keeps the smallest plan).
    pub(crate) fn lower_bound(&self, sizes: &[usize]) -> usize {
        (0..self.levels.len())
            .map(|k| crate::planner::live_bytes_lower_bound(&self.sized(k, sizes).buffers))
            .min()
            .unwrap_or(0)
    }
}

/// How operator `i` can run over its own input (`None`: it cannot), and its
/// scratch bytes. Depthwise convolutions (multiplier 1) go channel by channel
/// through one input plane; 1×1 stride-1 convolutions that do not widen the
/// tensor hold back output rows until no later row reads the bytes they land on.
pub fn inplace_kind(g: &Graph, i: usize, pointwise: bool, operand: usize) -> Option<(InPlaceKind, usize)> {
    let node = &g.nodes[i];
    let (it, ot) = (&g.tensors[node.input(operand)?], &g.tensors[node.output()]);
    let (is, os) = (nhwc(&it.shape), nhwc(&ot.shape));
    if is[0] != 1 || it.dtype.size() != 1 {
        return None;
    }
    match node.op {
        Op::DepthwiseConv2d(dw) if dw.depth_multiplier == 1 && operand == 0 => {
            Some((InPlaceKind::Channels, is[1] * is[2]))
        }
        // Element-wise: row r of the output reads only row r of the operand.
        Op::Add(_) if pointwise && is == os && ot.dtype == it.dtype => {
            // Rows work when the other operand is a same-shape tensor or a per-channel constant.
            let other = nhwc(&g.tensors[node.input(1 - operand)?].shape);
            (other == os || other[0] * other[1] * other[2] == 1)
                .then_some((InPlaceKind::Rows { delay: 0 }, os[2] * os[3]))
        }
        // Wider kernels could often run in place too, but merging their
        // buffers rarely lowers the peak.
        Op::Conv2d(c)
            if pointwise
                && operand == 0
                && c.h.kernel == 1
                && c.w.kernel == 1
                && c.h.stride == 1
                && c.w.stride == 1 =>
        {
            let (in_row, out_row, oh) = (is[2] * is[3], os[2] * os[3], os[1]);
            // Smallest input row any output row after `r` reads.
            let first_read_after = |r: usize| r + 1;
            let delay = (0..oh.min(8))
                .find(|&d| (0..oh.saturating_sub(d)).all(|j| (j + 1) * out_row <= first_read_after(j + d) * in_row))?;
            Some((InPlaceKind::Rows { delay }, (delay + 1) * out_row))
        }
        _ => None,
    }
}

impl ArenaLayout {
    /// One buffer per activation tensor, live from the node that writes it
    /// (step 0 for graph inputs) to the last node that reads it (the end for
    /// graph outputs).
    pub fn layer_by_layer(g: &Graph, planner: &dyn Planner, options: LayoutOptions) -> ArenaLayout {
        let bytes = |t: TensorId| g.tensors[t].bytes();
        let keep = |_: TensorId| None;
        Self::build(g, planner, options, &Sizing { bytes: &bytes, frozen: &|_| false, keep: &keep })
    }

    /// [`layer_by_layer`](Self::layer_by_layer)'s arena size, without
    /// settling its in-place operators (which never changes it).
    pub fn layer_by_layer_arena(g: &Graph, planner: &dyn Planner, options: LayoutOptions) -> usize {
        let bytes = |t: TensorId| g.tensors[t].bytes();
        let keep = |_: TensorId| None;
        let sizing = Sizing { bytes: &bytes, frozen: &|_| false, keep: &keep };
        let sizes: Vec<usize> = (0..g.tensors.len()).map(bytes).collect();
        Skeleton::new(g, options, &sizing).build(planner, &sizes).arena_size()
    }

    /// Plans with each in-place level allowed by `options` and keeps the
    /// smallest arena: in-place outputs are pinned to their input's offset,
    /// and long pinned chains can make greedy placement worse.
    pub(crate) fn build(g: &Graph, planner: &dyn Planner, options: LayoutOptions, sizing: &Sizing) -> ArenaLayout {
        let sizes: Vec<usize> = (0..g.tensors.len()).map(|t| (sizing.bytes)(t)).collect();
        Self::settled(g, planner, options, sizing, &sizes, &[])
    }

    /// The layout [`Skeleton::build_with`] gives, then each 1×1 convolution
    /// it runs in place row by row ([`InPlaceKind::Rows`]) run out of place
    /// wherever that leaves the arena's size as it is: in place, it is
    /// called once per row and each row copied back from the row scratch
    /// (mbv2's 1×1 convolutions took about 4 % longer in V8, its Cortex-M7
    /// inference 5 % more instructions), which only pays where it lowers
    /// the peak. The schedule searches size candidates without this (it
    /// never changes their arenas).
    pub(crate) fn settled(
        g: &Graph,
        planner: &dyn Planner,
        options: LayoutOptions,
        sizing: &Sizing,
        sizes: &[usize],
        caches: &[(TensorId, Buffer, Buffer)],
    ) -> ArenaLayout {
        let mut apart = alloc::vec![false; g.nodes.len()];
        let build = |apart: &[bool]| {
            let frozen = |i: usize| (sizing.frozen)(i) || apart[i];
            let sizing = Sizing { bytes: sizing.bytes, frozen: &frozen, keep: sizing.keep };
            Skeleton::new(g, options, &sizing).build_with(planner, sizes, caches)
        };
        let mut best = build(&apart);
        let arena = best.arena_size();
        for i in 0..g.nodes.len() {
            // ADD stays in place: out of place, a board's ADD (its 2 KiB of
            // rescale tables) under the interpreter's operand views took
            // BlazeFace's cached 5×6 firmware to 8,188 B of its 8 KiB stack.
            let rows = matches!(best.inplace[i], Some(InPlace { kind: InPlaceKind::Rows { .. }, .. }));
            if !rows || matches!(g.nodes[i].op, Op::Add(_)) {
                continue;
            }
            apart[i] = true;
            let candidate = build(&apart);
            if candidate.arena_size() == arena {
                best = candidate;
            } else {
                apart[i] = false;
            }
        }
        best
    }

    /// One in-place level's buffers, not yet placed (an empty plan), and the
    /// tensor each buffer is sized by (`None`: an in-place scratch, sized here).
    fn unplanned(g: &Graph, level: InPlaceLevel, sizing: &Sizing) -> (ArenaLayout, Vec<Option<TensorId>>) {
        let InPlaceLevel { depthwise, pointwise, oldest } = level;
        let n = g.nodes.len();
        let mut last_use = alloc::vec![0usize; g.tensors.len()];
        for (i, node) in g.nodes.iter().enumerate() {
            for t in node.inputs.iter().flatten() {
                last_use[*t] = i;
            }
        }
        for &t in &g.outputs {
            last_use[t] = n;
        }
        let mut buffer_of: Vec<Option<usize>> = alloc::vec![None; g.tensors.len()];
        let mut buffers: Vec<Buffer> = Vec::new();
        let mut inplace = alloc::vec![None; n];
        let mut sources: Vec<Option<TensorId>> = Vec::new();
        let mut new_buffer = |size: usize, source: Option<TensorId>, step: usize, buffers: &mut Vec<Buffer>| {
            buffers.push(Buffer::new(size, step, step));
            sources.push(source);
            buffers.len() - 1
        };
        // The last step any tensor assigned to each buffer so far is read.
        let mut alias_last_use: Vec<usize> = Vec::new();
        for &t in &g.inputs {
            let b = new_buffer((sizing.bytes)(t), Some(t), 0, &mut buffers);
            buffer_of[t] = Some(b);
            alias_last_use.resize(buffers.len(), 0);
            alias_last_use[b] = alias_last_use[b].max(last_use[t]);
        }
        for (i, node) in g.nodes.iter().enumerate() {
            for t in node.inputs.iter().flatten() {
                if let Some(b) = buffer_of[*t] {
                    buffers[b].last = buffers[b].last.max(i);
                }
            }
            let out = node.outputs[0];
            let input_buffer = node.input(0).and_then(|t| buffer_of[t]);
            let reuse = match node.op {
                Op::Reshape(_) => input_buffer,
                Op::DepthwiseConv2d(_) | Op::Conv2d(_) | Op::Add(_) if depthwise && !(sizing.frozen)(i) => {
                    // Overwriting the oldest operand (a residual input) keeps the skip
                    // path at one offset; the newest keeps pinned chains short.
                    let mut operands = [0usize, 1];
                    let age =
                        |k: usize| node.input(k).and_then(|t| buffer_of[t]).map_or(usize::MAX, |b| buffers[b].first);
                    if oldest == (age(1) < age(0)) {
                        operands.swap(0, 1);
                    }
                    for operand in operands.into_iter().take(node.op.data_operands(node.inputs.len()).min(2)) {
                        let Some(t) = node.input(operand) else { continue };
                        let Some(b) = buffer_of[t] else { continue };
                        let Some((kind, scratch_bytes)) = inplace_kind(g, i, pointwise, operand) else { continue };
                        // The operand's whole buffer must die here: no alias of it is read later.
                        let dies = last_use[t] == i
                            && (sizing.keep)(t).is_none_or(|(_, last)| last < i)
                            && alias_last_use[b] <= i;
                        // A convolution output that outlives its consumer (a block's
                        // output feeding later residuals) would pin a long chain to a
                        // large buffer; start a fresh buffer for it instead.
                        let short_lived =
                            matches!(node.op, Op::Add(_) | Op::DepthwiseConv2d(_)) || last_use[out] <= i + 1;
                        if !dies || !short_lived {
                            continue;
                        }
                        let scratch = new_buffer(scratch_bytes, None, i, &mut buffers);
                        inplace[i] = Some(InPlace { scratch, kind, operand });
                        // The output gets its own buffer pinned to the operand's offset,
                        // so a larger operand buffer can die here.
                        let o = new_buffer((sizing.bytes)(out), Some(out), i, &mut buffers);
                        buffers[o].pinned_to = Some(b);
                        buffer_of[out] = Some(o);
                        alias_last_use.resize(buffers.len(), 0);
                        alias_last_use[o] = alias_last_use[o].max(last_use[out]);
                        break;
                    }
                    None
                }
                _ => None,
            };
            if buffer_of[out].is_some() {
                continue; // placed in place above
            }
            let b = match reuse {
                Some(b) => {
                    buffers[b].last = buffers[b].last.max(i);
                    b
                }
                None => new_buffer((sizing.bytes)(out), Some(out), i, &mut buffers),
            };
            buffer_of[out] = Some(b);
            alias_last_use.resize(buffers.len(), 0);
            alias_last_use[b] = alias_last_use[b].max(last_use[out]);
        }
        for &t in &g.outputs {
            if let Some(b) = buffer_of[t] {
                buffers[b].last = n;
            }
        }
        for (t, b) in buffer_of.iter().enumerate() {
            if let (Some(b), Some((first, last))) = (b, (sizing.keep)(t)) {
                buffers[*b].first = buffers[*b].first.min(first);
                buffers[*b].last = buffers[*b].last.max(last);
            }
        }
        (ArenaLayout { buffers, buffer_of, inplace, caches: Vec::new(), plan: MemoryPlan::default() }, sources)
    }

    pub fn arena_size(&self) -> usize {
        self.plan.arena_size
    }

    /// Byte range of the buffer holding tensor `t`.
    pub fn buffer_range(&self, t: TensorId) -> Option<Range<usize>> {
        let b = self.buffer_of[t]?;
        let o = self.plan.offsets[b];
        Some(o..o + self.buffers[b].size)
    }

    /// Byte range of tensor `t` (its first `bytes` bytes of its buffer).
    pub fn range(&self, g: &Graph, t: TensorId) -> Option<Range<usize>> {
        let b = self.buffer_of[t]?;
        let o = self.plan.offsets[b];
        Some(o..o + g.tensors[t].bytes().min(self.buffers[b].size))
    }

    /// Byte range of buffer `b`.
    pub fn buffer(&self, b: usize) -> Range<usize> {
        let o = self.plan.offsets[b];
        o..o + self.buffers[b].size
    }
}
