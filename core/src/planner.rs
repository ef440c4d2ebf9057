//! Arena memory planning: give every buffer an offset in one arena so that
//! buffers alive at the same time never overlap.
//!
//! The planner only sees abstract buffers (size and live interval in steps);
//! the layer-by-layer and patch-based schedules each describe their buffers
//! and share the planners here.

use alloc::vec::Vec;

/// Offsets are aligned like TFLite Micro's arena, so arena sizes compare fairly.
pub const ALIGN: usize = 16;

pub const fn align_up(x: usize) -> usize {
    x.div_ceil(ALIGN) * ALIGN
}

/// A buffer to place: `size` bytes, live from step `first` to step `last` inclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Buffer {
    pub size: usize,
    pub first: usize,
    pub last: usize,
}

impl Buffer {
    pub fn overlaps_in_time(&self, o: &Buffer) -> bool {
        self.first <= o.last && o.first <= self.last
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct MemoryPlan {
    /// Byte offset of each buffer, in the order given to the planner.
    pub offsets: Vec<usize>,
    /// Arena bytes needed: the end of the highest buffer.
    pub arena_size: usize,
}

impl MemoryPlan {
    /// Whether two buffers that are live at the same time share bytes (a bug).
    pub fn find_conflict(&self, buffers: &[Buffer]) -> Option<(usize, usize)> {
        for i in 0..buffers.len() {
            for j in i + 1..buffers.len() {
                let (a, b) = (&buffers[i], &buffers[j]);
                if a.size == 0 || b.size == 0 || !a.overlaps_in_time(b) {
                    continue;
                }
                let (oa, ob) = (self.offsets[i], self.offsets[j]);
                if oa < ob + b.size && ob < oa + a.size {
                    return Some((i, j));
                }
            }
        }
        None
    }
}

pub trait Planner {
    fn plan(&self, buffers: &[Buffer]) -> MemoryPlan;
}

/// Largest buffers first, each at the lowest aligned offset that fits between
/// the buffers already placed that are live at the same time (the strategy of
/// TFLite Micro's `GreedyMemoryPlanner`).
#[derive(Clone, Copy, Debug, Default)]
pub struct GreedyBySize;

impl Planner for GreedyBySize {
    fn plan(&self, buffers: &[Buffer]) -> MemoryPlan {
        let mut order: Vec<usize> = (0..buffers.len()).collect();
        // Stable tie-break on the first step keeps plans deterministic.
        order.sort_by(|&a, &b| buffers[b].size.cmp(&buffers[a].size).then(buffers[a].first.cmp(&buffers[b].first)));
        let mut offsets = alloc::vec![0usize; buffers.len()];
        let mut placed: Vec<usize> = Vec::with_capacity(buffers.len());
        let mut arena_size = 0;
        let mut busy: Vec<(usize, usize)> = Vec::new();
        for &i in &order {
            let b = buffers[i];
            if b.size == 0 {
                continue;
            }
            busy.clear();
            busy.extend(
                placed
                    .iter()
                    .filter(|&&j| buffers[j].overlaps_in_time(&b))
                    .map(|&j| (offsets[j], offsets[j] + buffers[j].size)),
            );
            busy.sort_unstable();
            let mut candidate = 0;
            for &(start, end) in &busy {
                if candidate + b.size <= start {
                    break;
                }
                candidate = candidate.max(align_up(end));
            }
            offsets[i] = candidate;
            arena_size = arena_size.max(candidate + b.size);
            placed.push(i);
        }
        MemoryPlan { offsets, arena_size }
    }
}

/// Lower bound for any plan: the largest total size live at one step.
pub fn live_bytes_lower_bound(buffers: &[Buffer]) -> usize {
    let steps = buffers.iter().map(|b| b.last + 1).max().unwrap_or(0);
    (0..steps)
        .map(|s| buffers.iter().filter(|b| b.first <= s && s <= b.last).map(|b| b.size).sum::<usize>())
        .max()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn buffers() -> impl Strategy<Value = Vec<Buffer>> {
        prop::collection::vec((1usize..5000, 0usize..20, 0usize..6), 0..40)
            .prop_map(|v| v.into_iter().map(|(size, first, len)| Buffer { size, first, last: first + len }).collect())
    }

    proptest! {
        #[test]
        fn greedy_never_overlaps_live_buffers(bufs in buffers()) {
            let plan = GreedyBySize.plan(&bufs);
            prop_assert_eq!(plan.find_conflict(&bufs), None);
            prop_assert!(plan.offsets.iter().all(|o| o % ALIGN == 0));
            let top = bufs.iter().zip(&plan.offsets).map(|(b, o)| o + b.size).max().unwrap_or(0);
            prop_assert_eq!(plan.arena_size, top);
            prop_assert!(plan.arena_size >= live_bytes_lower_bound(&bufs));
        }
    }

    #[test]
    fn disjoint_lifetimes_share_memory() {
        let bufs = [Buffer { size: 100, first: 0, last: 1 }, Buffer { size: 100, first: 2, last: 3 }];
        assert_eq!(GreedyBySize.plan(&bufs).arena_size, 100);
    }

    #[test]
    fn conflict_detector_catches_overlap() {
        let bufs = [Buffer { size: 100, first: 0, last: 1 }, Buffer { size: 100, first: 1, last: 3 }];
        let bad = MemoryPlan { offsets: alloc::vec![0, 50], arena_size: 150 };
        assert_eq!(bad.find_conflict(&bufs), Some((0, 1)));
    }
}
