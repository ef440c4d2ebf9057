//! A schedule's run step by step, for teaching: every step the one
//! interpreter takes (a node, in the patch stage in which patch), the arena
//! buffers the layout gives the tensors live then, the MACs done and
//! recomputed so far, and the high-water mark the run has written so far.
//! The marks are measured, not simulated: the lowered program runs under
//! the two arena paints of [`exec::run_measured`] and the arena is read
//! before every node, so the timeline's last mark is the executor's.

use alloc::vec::Vec;

use crate::error::Result;
use crate::exec::{self, Executor};
use crate::graph::{nhwc, Graph, TensorId};
use crate::layout::ArenaLayout;
use crate::patch::{node_macs, InputMode, PatchExecutor, PatchSchedule};
use crate::plan::Schedule;
use crate::planner::live_bytes;
use crate::program::high_water_mark;
use crate::region::Rect;

/// An arena buffer of the layout: the tensors it holds, where and when.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct WatchBuffer {
    pub offset: usize,
    pub size: usize,
    /// First and last operator steps it is live.
    pub first: usize,
    pub last: usize,
    pub tensors: Vec<TensorId>,
    /// Starts where an earlier buffer does: an operator runs in place over its input.
    pub in_place: bool,
}

/// One step of the run: node `node` (in patch `patch`) has just run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct WatchStep {
    pub node: usize,
    pub patch: Option<usize>,
    /// Arena bytes live while the node runs (the layer table's figure).
    pub live_bytes: usize,
    /// Bytes of arena written so far, measured after the node ran.
    pub hwm: usize,
    /// MACs done so far, and how many of them recomputed a halo.
    pub macs: u64,
    pub recomputed_macs: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Timeline {
    /// The planned arena.
    pub arena_size: usize,
    pub buffers: Vec<WatchBuffer>,
    /// The high-water mark before the first node (the input copied in).
    pub start_hwm: usize,
    pub steps: Vec<WatchStep>,
    /// Patches of the (first) stage (0: layer by layer).
    pub patches: usize,
}

impl Timeline {
    /// Runs `g` under `schedule` on `input` (every graph input's bytes,
    /// concatenated) and records every step.
    pub fn measure(g: &Graph, schedule: Schedule, mode: InputMode, input: &[u8]) -> Result<Timeline> {
        let stages = crate::plan::patch_schedules(g, schedule)?;
        if stages.is_empty() {
            let ex = Executor::new(g)?;
            return Self::record(g, &ex.layout, &[], &ex.program(), input);
        }
        let ex = PatchExecutor::from_stages(g, stages, mode)?;
        Self::record(g, &ex.layout, &ex.stages, &ex.program(), input)
    }

    fn record(
        g: &Graph,
        layout: &ArenaLayout,
        stages: &[PatchSchedule],
        program: &crate::program::Program,
        input: &[u8],
    ) -> Result<Timeline> {
        // Before each step, each run's mark.
        let mut before: [Vec<usize>; 2] = [Vec::new(), Vec::new()];
        let mut order = Vec::new();
        let m = exec::run_measured_observed(program, input, &|| 0.0, &mut |pass, s, arena| {
            before[pass].push(high_water_mark(arena, exec::PAINTS[pass]));
            if pass == 0 {
                order.push(s);
            }
        })?;
        let marks: Vec<usize> = before[0].iter().zip(&before[1]).map(|(a, b)| *a.max(b)).collect();
        let live = live_bytes(&layout.buffers, g.nodes.len());
        let mut done = Vec::new(); // per stage node, the output cells computed so far
        let (mut macs, mut recomputed) = (0u64, 0u64);
        let mut steps = Vec::with_capacity(order.len());
        for (k, s) in order.iter().enumerate() {
            let o = nhwc(&g.tensors[g.nodes[s.node].output()].shape);
            let full = Rect::full(o[1], o[2]);
            let stage = stages.iter().find(|st| st.ops().contains(&s.node));
            let (rect, step_macs) = match (s.patch, stage) {
                (Some(p), Some(st)) => {
                    (st.computed(p, g.nodes[s.node].output()).unwrap_or(full), st.patch_macs(g, p, s.node).unwrap_or(0))
                }
                _ => (full, node_macs(g, s.node, full)),
            };
            if s.patch.is_some() {
                if done.len() <= s.node {
                    done.resize_with(s.node + 1, Vec::new);
                }
                let cells = &mut done[s.node];
                if cells.is_empty() {
                    cells.resize(o[1] * o[2], false);
                }
                let mut new = 0;
                for y in rect.y..rect.y_end() {
                    for x in rect.x..rect.x_end() {
                        new += usize::from(!core::mem::replace(&mut cells[y * o[2] + x], true));
                    }
                }
                let per_cell = node_macs(g, s.node, Rect::new(0, 0, 1, 1));
                recomputed += step_macs.saturating_sub(new as u64 * per_cell);
            }
            macs += step_macs;
            let hwm = marks.get(k + 1).copied().unwrap_or(m.arena_hwm);
            steps.push(WatchStep {
                node: s.node,
                patch: s.patch,
                live_bytes: live[s.node],
                hwm,
                macs,
                recomputed_macs: recomputed,
            });
        }
        let mut tensors = alloc::vec![Vec::new(); layout.buffers.len()];
        for (t, b) in layout.buffer_of.iter().enumerate() {
            if let Some(b) = b {
                tensors[*b].push(t);
            }
        }
        let buffers = layout
            .buffers
            .iter()
            .zip(&layout.plan.offsets)
            .zip(tensors)
            .map(|((b, &offset), tensors)| WatchBuffer {
                offset,
                size: b.size,
                first: b.first,
                last: b.last,
                tensors,
                in_place: b.pinned_to.is_some(),
            })
            .collect();
        Ok(Timeline {
            arena_size: layout.arena_size(),
            buffers,
            start_hwm: marks.first().copied().unwrap_or(m.arena_hwm),
            steps,
            patches: stages.first().map_or(0, PatchSchedule::patches),
        })
    }

    /// The buffers live at step `k`.
    pub fn live(&self, k: usize) -> impl Iterator<Item = (usize, &WatchBuffer)> {
        let node = self.steps.get(k).map(|s| s.node);
        self.buffers.iter().enumerate().filter(move |(_, b)| node.is_some_and(|n| b.first <= n && n <= b.last))
    }

    /// The high-water mark after the last step: the measured arena.
    pub fn measured_bytes(&self) -> usize {
        self.steps.last().map_or(self.start_hwm, |s| s.hwm)
    }
}
