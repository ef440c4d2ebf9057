//! Arena memory planning: give every buffer an offset in one arena so that
//! buffers alive at the same time never overlap.
//!
//! The planner only sees abstract buffers (size, live interval in steps, and
//! optionally another buffer whose offset it must share — an operator that
//! writes its output over its input); the layer-by-layer and patch-based
//! layouts describe their buffers and share the planners here.

use alloc::vec::Vec;

/// Offsets are aligned like TFLite Micro's arena, so arena sizes compare fairly.
pub const ALIGN: usize = 16;

pub const fn align_up(x: usize) -> usize {
    x.div_ceil(ALIGN) * ALIGN
}

/// A buffer to place: `size` bytes, live from step `first` to step `last` inclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Buffer {
    pub size: usize,
    pub first: usize,
    pub last: usize,
    /// An earlier buffer this one must start at (in-place operators): the two
    /// may overlap each other, and together they must not overlap anything else.
    pub pinned_to: Option<usize>,
}

impl Buffer {
    pub const fn new(size: usize, first: usize, last: usize) -> Self {
        Self { size, first, last, pinned_to: None }
    }
    pub fn overlaps_in_time(&self, o: &Buffer) -> bool {
        self.first <= o.last && o.first <= self.last
    }
}

/// The first buffer of each buffer's pinned chain.
pub fn roots(buffers: &[Buffer]) -> Vec<usize> {
    let mut root: Vec<usize> = (0..buffers.len()).collect();
    for i in 0..buffers.len() {
        if let Some(p) = buffers[i].pinned_to.filter(|&p| p < i) {
            root[i] = root[p];
        }
    }
    root
}

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct MemoryPlan {
    /// Byte offset of each buffer, in the order given to the planner.
    pub offsets: Vec<usize>,
    /// Arena bytes needed: the end of the highest buffer.
    pub arena_size: usize,
}

impl MemoryPlan {
    /// Two buffers live at the same time that share bytes (a bug), or a
    /// pinned buffer not at its root's offset.
    pub fn find_conflict(&self, buffers: &[Buffer]) -> Option<(usize, usize)> {
        let root = roots(buffers);
        for i in 0..buffers.len() {
            if root[i] != i && self.offsets[i] != self.offsets[root[i]] {
                return Some((root[i], i));
            }
            for j in i + 1..buffers.len() {
                let (a, b) = (&buffers[i], &buffers[j]);
                if a.size == 0 || b.size == 0 || root[i] == root[j] || !a.overlaps_in_time(b) {
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
/// TFLite Micro's `GreedyMemoryPlanner`); pinned chains are placed as one.
/// Greedy placement can fragment, so it also tries longest-lived first and
/// first-used first, and keeps the smallest arena.
#[derive(Clone, Copy, Debug, Default)]
pub struct GreedyBySize;

impl Planner for GreedyBySize {
    fn plan(&self, buffers: &[Buffer]) -> MemoryPlan {
        let chains = Chains::new(buffers);
        let neighbours = Neighbours::new(buffers);
        let mut best = greedy(buffers, &chains, &neighbours, Order::Size);
        // No plan is below the lower bound, so once one reaches it the other
        // orders cannot be strictly smaller: skipping them changes nothing.
        let bound = lower_bound(buffers, &chains);
        for order in [Order::Lifetime, Order::FirstUse] {
            if best.arena_size <= bound {
                break;
            }
            let p = greedy(buffers, &chains, &neighbours, order);
            if p.arena_size < best.arena_size {
                best = p;
            }
        }
        best
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Order {
    Size,
    Lifetime,
    FirstUse,
}

/// The pinned chains: each root's members (in index order), size (its
/// largest member) and live steps — the same for every placement order.
struct Chains {
    root: Vec<usize>,
    size: Vec<usize>,
    first: Vec<usize>,
    last: Vec<usize>,
    /// Members of root `r`: `members[start[r]..start[r + 1]]`.
    start: Vec<usize>,
    members: Vec<usize>,
}

impl Chains {
    fn new(buffers: &[Buffer]) -> Self {
        let n = buffers.len();
        let root = roots(buffers);
        let (mut size, mut first, mut last) = (alloc::vec![0; n], alloc::vec![usize::MAX; n], alloc::vec![0; n]);
        let mut start = alloc::vec![0usize; n + 1];
        for (i, &r) in root.iter().enumerate() {
            size[r] = size[r].max(buffers[i].size);
            first[r] = first[r].min(buffers[i].first);
            last[r] = last[r].max(buffers[i].last);
            start[r + 1] += 1;
        }
        for r in 0..n {
            start[r + 1] += start[r];
        }
        let mut members = alloc::vec![0usize; n];
        let mut fill = start.clone();
        for (i, &r) in root.iter().enumerate() {
            members[fill[r]] = i;
            fill[r] += 1;
        }
        Chains { root, size, first, last, start, members }
    }

    fn members(&self, r: usize) -> &[usize] {
        &self.members[self.start[r]..self.start[r + 1]]
    }
}

/// For each non-empty buffer, the non-empty buffers live at the same time,
/// found by a sweep over start steps: O(n log n + pairs), where scanning
/// every placed buffer is O(n²) — most of a search's time.
struct Neighbours {
    start: Vec<usize>,
    /// `u32`: a pair list is the planner's largest allocation (buffers are
    /// far fewer than 2^32: the loader's limits).
    list: Vec<u32>,
}

impl Neighbours {
    fn new(buffers: &[Buffer]) -> Self {
        let mut by_first: Vec<usize> = (0..buffers.len()).filter(|&i| buffers[i].size > 0).collect();
        by_first.sort_by_key(|&i| buffers[i].first);
        // Two sweeps: count each buffer's neighbours, then fill the lists.
        let sweep = |visit: &mut dyn FnMut(usize, usize)| {
            let mut open: Vec<usize> = Vec::new();
            for &i in &by_first {
                open.retain(|&j| buffers[j].last >= buffers[i].first);
                for &j in &open {
                    visit(i, j);
                }
                open.push(i);
            }
        };
        let mut start = alloc::vec![0usize; buffers.len() + 1];
        sweep(&mut |i, j| {
            start[i + 1] += 1;
            start[j + 1] += 1;
        });
        for i in 0..buffers.len() {
            start[i + 1] += start[i];
        }
        let mut list = alloc::vec![0u32; start[buffers.len()]];
        let mut fill = start.clone();
        sweep(&mut |i, j| {
            list[fill[i]] = j as u32;
            fill[i] += 1;
            list[fill[j]] = i as u32;
            fill[j] += 1;
        });
        Neighbours { start, list }
    }

    fn of(&self, i: usize) -> impl Iterator<Item = usize> + '_ {
        self.list[self.start[i]..self.start[i + 1]].iter().map(|&q| q as usize)
    }
}

fn greedy(buffers: &[Buffer], chains: &Chains, neighbours: &Neighbours, order_by: Order) -> MemoryPlan {
    let Chains { root, size, first, last, .. } = chains;
    let span = |r: usize| last[r] - first[r];
    let mut order: Vec<usize> = (0..buffers.len()).filter(|&i| root[i] == i && size[i] > 0).collect();
    // Stable tie-breaks keep plans deterministic.
    match order_by {
        Order::Size => order.sort_by(|&a, &b| size[b].cmp(&size[a]).then(buffers[a].first.cmp(&buffers[b].first))),
        Order::Lifetime => order.sort_by(|&a, &b| span(b).cmp(&span(a)).then(size[b].cmp(&size[a])).then(a.cmp(&b))),
        Order::FirstUse => order.sort_by(|&a, &b| buffers[a].first.cmp(&buffers[b].first).then(size[b].cmp(&size[a]))),
    }
    let mut offsets = alloc::vec![0usize; buffers.len()];
    let mut placed = alloc::vec![false; buffers.len()];
    let mut arena_size = 0;
    // Offsets forbidden for the chain: [start, end) intervals.
    let mut forbidden: Vec<(usize, usize)> = Vec::new();
    for &r in &order {
        forbidden.clear();
        for &m in chains.members(r) {
            let b = &buffers[m];
            if b.size == 0 {
                continue;
            }
            for q in neighbours.of(m).filter(|&q| placed[q]) {
                // Member m at offset o overlaps q iff o in (off_q - size_m, off_q + size_q).
                forbidden.push(((offsets[q] + 1).saturating_sub(b.size), offsets[q] + buffers[q].size));
            }
        }
        forbidden.sort_unstable();
        let mut candidate = 0;
        for &(start, end) in &forbidden {
            if candidate < start {
                break;
            }
            candidate = candidate.max(align_up(end));
        }
        for &m in chains.members(r) {
            offsets[m] = candidate;
            arena_size = arena_size.max(candidate + buffers[m].size);
            placed[m] = true;
        }
    }
    MemoryPlan { offsets, arena_size }
}

/// Bytes live at each step (a pinned chain counts its largest live member).
pub fn live_bytes(buffers: &[Buffer], steps: usize) -> Vec<usize> {
    let root = roots(buffers);
    let mut live = alloc::vec![0usize; steps];
    let mut group_max = alloc::vec![0usize; buffers.len()];
    for (s, slot) in live.iter_mut().enumerate() {
        group_max.iter_mut().for_each(|g| *g = 0);
        for (i, b) in buffers.iter().enumerate() {
            if b.first <= s && s <= b.last {
                group_max[root[i]] = group_max[root[i]].max(b.size);
            }
        }
        *slot = group_max.iter().sum();
    }
    live
}

/// Lower bound for any plan: the largest total size live at one step (a
/// pinned chain counts its largest live member). O(n log n): each chain's
/// live size is piecewise constant between its members' start and end
/// steps, added to a difference array over steps.
pub fn live_bytes_lower_bound(buffers: &[Buffer]) -> usize {
    lower_bound(buffers, &Chains::new(buffers))
}

fn lower_bound(buffers: &[Buffer], chains: &Chains) -> usize {
    let steps = buffers.iter().map(|b| b.last + 1).max().unwrap_or(0);
    let mut delta = alloc::vec![0i128; steps + 1];
    let mut cuts: Vec<usize> = Vec::new();
    for r in 0..buffers.len() {
        let members = chains.members(r);
        match members {
            [] => {}
            [m] => {
                let b = &buffers[*m];
                delta[b.first] += b.size as i128;
                delta[b.last + 1] -= b.size as i128;
            }
            _ => {
                // Boundaries where the chain's live set changes; between two
                // the largest live member is constant.
                cuts.clear();
                cuts.extend(members.iter().flat_map(|&m| [buffers[m].first, buffers[m].last + 1]));
                cuts.sort_unstable();
                cuts.dedup();
                for w in cuts.windows(2) {
                    let size = members
                        .iter()
                        .map(|&m| &buffers[m])
                        .filter(|b| b.first <= w[0] && w[0] <= b.last)
                        .map(|b| b.size)
                        .max()
                        .unwrap_or(0);
                    delta[w[0]] += size as i128;
                    delta[w[1]] -= size as i128;
                }
            }
        }
    }
    let (mut live, mut most) = (0i128, 0i128);
    for d in &delta[..steps] {
        live += d;
        most = most.max(live);
    }
    most as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn buffers() -> impl Strategy<Value = Vec<Buffer>> {
        prop::collection::vec((1usize..5000, 0usize..20, 0usize..6, prop::bool::weighted(0.2)), 0..40).prop_map(|v| {
            let mut out: Vec<Buffer> = Vec::new();
            for (size, first, len, pin) in v {
                // Pin to the previous buffer when it ends exactly where this one starts (an in-place op).
                let pinned_to = match out.last() {
                    Some(p) if pin && p.last <= first + len && p.last >= first => Some(out.len() - 1),
                    _ => None,
                };
                out.push(Buffer { size, first, last: first + len, pinned_to });
            }
            out
        })
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

        #[test]
        fn the_lower_bound_is_the_step_by_step_maximum(bufs in buffers()) {
            let steps = bufs.iter().map(|b| b.last + 1).max().unwrap_or(0);
            prop_assert_eq!(live_bytes_lower_bound(&bufs), live_bytes(&bufs, steps).into_iter().max().unwrap_or(0));
        }

        #[test]
        fn skipping_orders_at_the_lower_bound_changes_no_plan(bufs in buffers()) {
            // The reference: all three orders, the first smallest kept.
            let (chains, neighbours) = (Chains::new(&bufs), Neighbours::new(&bufs));
            let mut want = greedy(&bufs, &chains, &neighbours, Order::Size);
            for order in [Order::Lifetime, Order::FirstUse] {
                let p = greedy(&bufs, &chains, &neighbours, order);
                if p.arena_size < want.arena_size {
                    want = p;
                }
            }
            prop_assert_eq!(GreedyBySize.plan(&bufs), want);
        }
    }

    #[test]
    fn disjoint_lifetimes_share_memory() {
        let bufs = [Buffer::new(100, 0, 1), Buffer::new(100, 2, 3)];
        assert_eq!(GreedyBySize.plan(&bufs).arena_size, 100);
    }

    #[test]
    fn pinned_buffers_share_an_offset() {
        let bufs =
            [Buffer::new(64, 0, 2), Buffer::new(100, 1, 3), Buffer { size: 32, first: 2, last: 5, pinned_to: Some(0) }];
        let plan = GreedyBySize.plan(&bufs);
        assert_eq!(plan.offsets[0], plan.offsets[2]);
        assert_eq!(plan.find_conflict(&bufs), None);
        assert_eq!(live_bytes(&bufs, 6), [64, 164, 164, 132, 32, 32]);
    }

    #[test]
    fn conflict_detector_catches_overlap() {
        let bufs = [Buffer::new(100, 0, 1), Buffer::new(100, 1, 3)];
        let bad = MemoryPlan { offsets: alloc::vec![0, 50], arena_size: 150 };
        assert_eq!(bad.find_conflict(&bufs), Some((0, 1)));
    }
}
