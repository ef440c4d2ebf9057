//! Schedule reports and schedule search: the numbers the CLI's `plan`, the
//! playground and the exporters show, computed in one place.
//!
//! A schedule is either layer-by-layer (`split: None`) or a patch stage
//! ending at operator `split` run over a `rows × cols` grid. Its peak SRAM is
//! the size of the arena its layout plans — the same arena the executors
//! run in, whose measured high-water mark equals it.

use alloc::string::String;
use alloc::vec::Vec;

use crate::analysis;
use crate::error::{Error, Result};
use crate::graph::{Graph, TensorId};
use crate::layout::{ArenaLayout, LayoutOptions, Skeleton};
use crate::patch::{
    cache_bytes, check_stages, legal_splits, patch_layout, schedule_sizes, stage_skeleton, stages_layout,
    stages_layout_on, CacheSet, Halo, InputMode, PatchSchedule, StageAxis,
};
use crate::planner::{live_bytes, GreedyBySize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Schedule {
    /// Last operator of the patch stage; `None` runs layer by layer.
    pub split: Option<usize>,
    /// `(rows, cols)` of the patch grid (`(1, 1)` without patching).
    pub grid: (usize, usize),
    /// Whether the patches recompute the halos they share or cache them.
    #[cfg_attr(feature = "serde", serde(default))]
    pub halo: Halo,
    /// Patch stages after the first, in operator order (beyond MCUNetV2's
    /// one: e.g. a detector's feature pyramid after its backbone).
    // Always serialized: the worker's codec is not self-describing.
    #[cfg_attr(feature = "serde", serde(default, rename = "later_stages"))]
    pub later: Later,
}

/// A patch stage after the first: ops `first..=last` over `grid`, reading
/// what the network computed before it held whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Stage {
    pub first: usize,
    pub last: usize,
    pub grid: (usize, usize),
    #[cfg_attr(feature = "serde", serde(default))]
    pub halo: Halo,
}

/// The stages after a schedule's first: at most [`Later::CAPACITY`], kept in
/// a fixed array so that a [`Schedule`] stays `Copy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Later([Option<Stage>; Later::CAPACITY]);

impl Later {
    pub const CAPACITY: usize = 3;
    pub const NONE: Later = Later([None; Later::CAPACITY]);

    /// The stages in order, or `None` when there are more than [`Later::CAPACITY`].
    pub fn of(stages: &[Stage]) -> Option<Later> {
        let mut l = Later::NONE;
        if stages.len() > Self::CAPACITY {
            return None;
        }
        for (slot, s) in l.0.iter_mut().zip(stages) {
            *slot = Some(*s);
        }
        Some(l)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Stage> + '_ {
        self.0.iter().flatten()
    }

    pub fn is_empty(&self) -> bool {
        self.0[0].is_none()
    }

    pub fn len(&self) -> usize {
        self.iter().count()
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for Later {
    fn serialize<S: serde::Serializer>(&self, s: S) -> core::result::Result<S::Ok, S::Error> {
        // With its length first: bincode (the worker's codec) needs it.
        s.collect_seq(self.iter().collect::<Vec<_>>())
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for Later {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> core::result::Result<Self, D::Error> {
        let v: Vec<Stage> = serde::Deserialize::deserialize(d)?;
        Later::of(&v).ok_or_else(|| {
            serde::de::Error::custom(alloc::format!("at most {} patch stages after the first", Later::CAPACITY))
        })
    }
}

impl Schedule {
    pub const LAYER_BY_LAYER: Schedule =
        Schedule { split: None, grid: (1, 1), halo: Halo::Recompute, later: Later::NONE };

    /// Ops `0..=split` patch by patch over `grid`, recomputing halos (MCUNetV2).
    pub const fn patched(split: usize, grid: (usize, usize)) -> Schedule {
        Schedule { split: Some(split), grid, halo: Halo::Recompute, later: Later::NONE }
    }

    /// The same schedule under `halo` (its first stage).
    pub const fn with_halo(self, halo: Halo) -> Schedule {
        Schedule { halo, ..self }
    }

    /// The same schedule with `later` stages after the first.
    pub const fn then(self, later: Later) -> Schedule {
        Schedule { later, ..self }
    }

    /// Every patch stage: `(first, last, grid, halo)`, in operator order.
    pub fn stage_list(&self) -> impl Iterator<Item = (usize, usize, (usize, usize), Halo)> + '_ {
        self.split
            .map(|split| (0, split, self.grid, self.halo))
            .into_iter()
            .chain(self.later.iter().map(|s| (s.first, s.last, s.grid, s.halo)))
    }
}

/// The patch stages of `schedule` with their rectangles (none: layer by layer).
pub fn patch_schedules(g: &Graph, schedule: Schedule) -> Result<Vec<PatchSchedule>> {
    if schedule.split.is_none() && !schedule.later.is_empty() {
        return Err(Error::Schedule("later patch stages need a first stage"));
    }
    schedule
        .stage_list()
        .map(|(first, last, grid, halo)| PatchSchedule::stage_with_halo(g, first, last, grid, halo))
        .collect()
}

/// One operator's row in a report.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct LayerRow {
    pub index: usize,
    pub op: &'static str,
    pub output_shape: Vec<usize>,
    /// MACs executed once.
    pub macs: u64,
    /// MACs under the schedule (patch stage: summed over patches).
    pub scheduled_macs: u64,
    pub in_patch_stage: bool,
    /// Arena bytes live while this operator runs, layer by layer.
    pub layer_live_bytes: usize,
    /// Arena bytes live while this operator runs under the schedule.
    pub scheduled_live_bytes: usize,
    /// Of those, the bytes of halo caches (row and column caches of the
    /// patch stages' cached tensors, live across their stage).
    pub cache_live_bytes: usize,
}

/// Consecutive operators whose outputs share a spatial resolution: the
/// network's stages, where the memory imbalance shows (the first dominate).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StageRow {
    pub first: usize,
    pub last: usize,
    /// Output height and width (`(1, 1)` for the classifier head).
    pub resolution: (usize, usize),
    pub macs: u64,
    /// Largest arena bytes live while the stage runs, layer by layer.
    pub layer_peak_bytes: usize,
    pub weight_bytes: usize,
}

/// Groups operators into stages by output resolution.
pub fn stages(g: &Graph, layers: &[LayerRow]) -> Vec<StageRow> {
    let mut out: Vec<StageRow> = Vec::new();
    for (i, l) in layers.iter().enumerate() {
        let s = g.tensors[g.nodes[i].output()].nhwc();
        let res = if g.tensors[g.nodes[i].output()].shape.len() == 4 { (s[1], s[2]) } else { (1, 1) };
        let w = analysis::layer(g, i).weight_bytes;
        match out.last_mut() {
            Some(st) if st.resolution == res => {
                st.last = i;
                st.macs += l.macs;
                st.layer_peak_bytes = st.layer_peak_bytes.max(l.layer_live_bytes);
                st.weight_bytes += w;
            }
            _ => out.push(StageRow {
                first: i,
                last: i,
                resolution: res,
                macs: l.macs,
                layer_peak_bytes: l.layer_live_bytes,
                weight_bytes: w,
            }),
        }
    }
    out
}

#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    pub schedule: Schedule,
    pub input_mode: InputMode,
    /// MACs under the schedule (layer-by-layer MACs plus the overhead).
    pub macs: u64,
    pub base_macs: u64,
    pub flash_bytes: usize,
    pub layer_peak_bytes: usize,
    pub patch_peak_bytes: usize,
    pub overhead_macs: u64,
    /// Overhead as a percentage of the whole network's layer-by-layer MACs.
    pub overhead_pct: f64,
    pub layers: Vec<LayerRow>,
    pub stages: Vec<StageRow>,
    /// Why no patch stage reaches the last operator (the first operator
    /// that cannot be in one), e.g. "operator 62 MEAN needs its whole input".
    pub stage_limit: Option<String>,
}

impl Report {
    /// Layer-by-layer peak divided by the schedule's peak.
    pub fn reduction(&self) -> f64 {
        self.layer_peak_bytes as f64 / self.patch_peak_bytes.max(1) as f64
    }
}

/// The layer-by-layer layout (the default planner and in-place options).
pub fn layer_layout(g: &Graph) -> ArenaLayout {
    ArenaLayout::layer_by_layer(g, &GreedyBySize, LayoutOptions::default())
}

/// [`layer_layout`]'s arena size (without settling it: the same size, sooner).
pub fn layer_arena(g: &Graph) -> usize {
    ArenaLayout::layer_by_layer_arena(g, &GreedyBySize, LayoutOptions::default())
}

/// The arena layout of `schedule` and its patch stages (none: layer by layer).
pub fn layout(g: &Graph, schedule: Schedule, mode: InputMode) -> Result<(Vec<PatchSchedule>, ArenaLayout)> {
    let stages = patch_schedules(g, schedule)?;
    if stages.is_empty() {
        return Ok((stages, layer_layout(g)));
    }
    check_stages(&stages, mode)?;
    let l = stages_layout(g, &stages, mode, &GreedyBySize, LayoutOptions::default());
    Ok((stages, l))
}

/// Everything the views show about `schedule`.
pub fn report(g: &Graph, schedule: Schedule, mode: InputMode) -> Result<Report> {
    let infos = analysis::layers(g);
    let base = layer_layout(g);
    let (patch, sched_layout) = layout(g, schedule, mode)?;
    let n = g.nodes.len();
    let layer_live = live_bytes(&base.buffers, n);
    let sched_live = live_bytes(&sched_layout.buffers, n);
    let mut cache_live = alloc::vec![0usize; n];
    for &(_, rows, cols) in &sched_layout.caches {
        for b in [rows, cols].map(|b| &sched_layout.buffers[b]) {
            for live in cache_live.iter_mut().take(b.last.min(n - 1) + 1).skip(b.first) {
                *live += b.size;
            }
        }
    }
    let base_macs: u64 = infos.iter().map(|l| l.macs).sum();
    let mut layers = Vec::with_capacity(n);
    let mut overhead = 0;
    for (i, info) in infos.into_iter().enumerate() {
        let stage = patch.iter().find(|p| p.ops().contains(&i));
        let in_stage = stage.is_some();
        let scheduled = match stage {
            Some(p) => (0..p.patches()).filter_map(|k| p.patch_macs(g, k, i)).sum(),
            None => info.macs,
        };
        overhead += scheduled.saturating_sub(info.macs);
        layers.push(LayerRow {
            index: i,
            op: info.op,
            output_shape: info.output_shape,
            macs: info.macs,
            scheduled_macs: scheduled,
            in_patch_stage: in_stage,
            layer_live_bytes: layer_live[i],
            scheduled_live_bytes: sched_live[i],
            cache_live_bytes: cache_live[i],
        });
    }
    let stages = stages(g, &layers);
    Ok(Report {
        schedule,
        stages,
        input_mode: mode,
        macs: base_macs + overhead,
        base_macs,
        flash_bytes: g.flash_bytes(),
        layer_peak_bytes: base.arena_size(),
        patch_peak_bytes: sched_layout.arena_size(),
        overhead_macs: overhead,
        overhead_pct: if base_macs == 0 { 0.0 } else { overhead as f64 * 100.0 / base_macs as f64 },
        layers,
        stage_limit: stage_limit(g),
    })
}

/// Why a patch stage cannot span the whole network: the first operator that
/// cannot be in one, with the reason (`None` if every prefix is legal).
pub fn stage_limit(g: &Graph) -> Option<String> {
    use alloc::string::ToString;
    let last = g.nodes.len().checked_sub(1)?;
    match crate::patch::check_split(g, last) {
        Ok(_) => None,
        Err(Error::Split { op_index, op, why, .. }) => Some(alloc::format!("operator {op_index} {op} {why}")),
        Err(e) => Some(e.to_string()),
    }
}

/// One evaluated schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Candidate {
    pub schedule: Schedule,
    pub peak_bytes: usize,
    pub macs: u64,
}

#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Search {
    pub layer_peak_bytes: usize,
    pub base_macs: u64,
    /// Every evaluated schedule (layer-by-layer first).
    pub candidates: Vec<Candidate>,
    /// Peak-vs-MACs Pareto front, by increasing peak.
    pub pareto: Vec<Candidate>,
    /// Legal stage ends left untried because the search reached
    /// [`MAX_SEARCH_WORK`] (0: every split × grid was evaluated). The latest
    /// splits are the ones left: a patch stage pays off in the early layers.
    #[cfg_attr(feature = "serde", serde(default))]
    pub splits_untried: usize,
}

/// Largest grid side the search tries.
pub const MAX_GRID: usize = 8;

/// Work the search may do, in units of one tensor or operator visited, or
/// one pair of buffers live together visited by an arena plan (see
/// [`split_work`]). Every shipped model and preset is searched whole (README,
/// "Limits", has their figures); hostile graphs of the loader's largest sizes
/// stop well within a second.
pub const MAX_SEARCH_WORK: u64 = 48_000_000;

/// A split's stage and its per-axis needs for every grid the search tries.
struct SplitAxes {
    stage: PatchSchedule,
    rows: Vec<StageAxis>,
    cols: Vec<StageAxis>,
}

impl SplitAxes {
    fn new(g: &Graph, split: usize) -> Option<Self> {
        let stage = PatchSchedule::empty(g, split, (1, 1)).ok()?;
        let o = g.tensors[stage.output].nhwc();
        let rows = (1..=MAX_GRID.min(o[1])).map(|n| StageAxis::new(g, &stage, true, n)).collect();
        let cols = (1..=MAX_GRID.min(o[2])).map(|n| StageAxis::new(g, &stage, false, n)).collect();
        Some(Self { stage, rows, cols })
    }
}

/// What evaluating every grid of a split costs, in [`MAX_SEARCH_WORK`]
/// units: the per-axis back-propagations (one per row or column cell, over
/// all tensors and operators); per grid, 12 arena plans (4 in-place levels
/// × 3 placement orders), each over the tensors, operators and pairs of
/// buffers live together, and the stage's MACs per patch; and for a grid
/// whose axes do not combine, a back-propagation per patch.
fn split_work(g: &Graph, a: &SplitAxes) -> u64 {
    let tn = (g.tensors.len() + g.nodes.len()) as u64;
    let pairs = live_pairs(g, a.stage.split);
    let cells = |axes: &[StageAxis]| (1..=axes.len() as u64).sum::<u64>();
    let mut work = tn.saturating_mul(cells(&a.rows) + cells(&a.cols));
    for (r, rows) in a.rows.iter().enumerate() {
        for (c, cols) in a.cols.iter().enumerate() {
            let patches = ((r + 1) * (c + 1)) as u64;
            let walk = if StageAxis::combine(rows, cols) { 0 } else { patches.saturating_mul(tn) };
            work = work
                .saturating_add(tn.saturating_add(pairs).saturating_mul(12))
                .saturating_add(patches * (a.stage.split as u64 + 1))
                .saturating_add(walk);
        }
    }
    work
}

/// Pairs of activation tensors live at the same time when ops `0..=split`
/// form a patch stage (the tensors it holds whole live across it): what the
/// arena planner visits. O(t log t), by counting, for each tensor, the later
/// ones that start before it ends.
fn live_pairs(g: &Graph, split: usize) -> u64 {
    let mut spans = g.activation_spans();
    for &t in g.inputs.iter().chain(&crate::patch::kept_tensors(g, split)) {
        if let Some((f, l)) = &mut spans[t] {
            *f = 0;
            *l = (*l).max(split);
        }
    }
    let mut spans: Vec<(usize, usize)> = spans.into_iter().flatten().collect();
    spans.sort_unstable();
    spans.iter().enumerate().map(|(i, &(_, l))| (spans.partition_point(|&(f, _)| f <= l) - i - 1) as u64).sum()
}

/// Evaluates layer-by-layer and every legal split × grid (1..=8 each way),
/// earliest splits first, within [`MAX_SEARCH_WORK`].
pub fn search(g: &Graph, mode: InputMode) -> Search {
    search_observed(g, mode, &mut |_, _| {})
}

/// [`search`], calling `progress(done, total)` before each legal split (of
/// `total`) is evaluated, so a page can show how far the search is.
pub fn search_observed(g: &Graph, mode: InputMode, progress: &mut dyn FnMut(usize, usize)) -> Search {
    let mut run = SearchRun::new(g, mode);
    loop {
        let (done, total) = run.progress();
        if done == total {
            break;
        }
        progress(done, total);
        run.step(g);
    }
    run.finish()
}

/// A [`search`] taken one legal split at a time, so a caller that must stay
/// responsive (a web worker between two messages) can pause it, report how
/// far it is, and drop it to cancel. Stepped to the end, [`finish`](Self::finish)
/// gives exactly what [`search`] gives. Every call takes the graph it was made with.
#[derive(Clone, Debug)]
pub struct SearchRun {
    mode: InputMode,
    walk: Walk,
    layer_peak_bytes: usize,
    base_macs: u64,
    candidates: Vec<Candidate>,
}

impl SearchRun {
    /// Plans layer by layer (the first candidate); no split evaluated yet.
    pub fn new(g: &Graph, mode: InputMode) -> Self {
        let layer_peak_bytes = layer_arena(g);
        let base_macs = analysis::total_macs(g);
        let first = Candidate { schedule: Schedule::LAYER_BY_LAYER, peak_bytes: layer_peak_bytes, macs: base_macs };
        SearchRun { mode, walk: Walk::new(g), layer_peak_bytes, base_macs, candidates: alloc::vec![first] }
    }

    /// `(done, total)`: legal splits evaluated (or given up at the work limit) of all.
    pub fn progress(&self) -> (usize, usize) {
        self.walk.progress()
    }

    /// Evaluates the next legal split over every grid; `false` once none is left.
    pub fn step(&mut self, g: &Graph) -> bool {
        let candidates = &mut self.candidates;
        self.walk.step(g, self.mode, self.base_macs, &mut |schedule, macs, arena| {
            candidates.push(Candidate { schedule, peak_bytes: arena(false), macs })
        })
    }

    pub fn finish(self) -> Search {
        let pareto = pareto_front(&self.candidates);
        Search {
            layer_peak_bytes: self.layer_peak_bytes,
            base_macs: self.base_macs,
            candidates: self.candidates,
            pareto,
            splits_untried: self.walk.untried(),
        }
    }
}

/// The patch candidates [`search`] evaluates, in its order, within
/// [`MAX_SEARCH_WORK`], one legal split a step: `visit(schedule, macs, arena)`
/// gets each one, and `arena(bound)` plans its arena (`false`) or gives a
/// lower bound of it that plans nothing (`true`).
#[derive(Clone, Debug)]
struct Walk {
    splits: Vec<usize>,
    /// The next split to evaluate.
    next: usize,
    work: u64,
    /// Set when the work limit stopped the walk: the splits left untried.
    stopped: Option<usize>,
}

impl Walk {
    fn new(g: &Graph) -> Self {
        Walk { splits: legal_splits(g), next: 0, work: 0, stopped: None }
    }

    fn progress(&self) -> (usize, usize) {
        let total = self.splits.len();
        (if self.stopped.is_some() { total } else { self.next }, total)
    }

    fn untried(&self) -> usize {
        self.stopped.unwrap_or(0)
    }

    /// Evaluates the next split; `false` once the walk is over.
    fn step(
        &mut self,
        g: &Graph,
        mode: InputMode,
        base_macs: u64,
        visit: &mut dyn FnMut(Schedule, u64, &dyn Fn(bool) -> usize),
    ) -> bool {
        let k = self.next;
        let Some(&split) = self.splits.get(k).filter(|_| self.stopped.is_none()) else { return false };
        self.next += 1;
        let Some(axes) = SplitAxes::new(g, split) else { return true };
        // A split is evaluated over all its grids or not at all, so its
        // candidates never depend on where the budget ran out.
        let split_work = split_work(g, &axes);
        if self.work.saturating_add(split_work) > MAX_SEARCH_WORK {
            self.stopped = Some(self.splits.len() - k);
            return false;
        }
        self.work += split_work;
        let SplitAxes { stage, rows, cols } = axes;
        if stage.check_mode(mode).is_err() {
            return true;
        }
        let once = stage.stage_macs_once(g);
        let skeleton = stage_skeleton(g, &stage, mode, LayoutOptions::default());
        let arena = |sizes: &[usize], bound: bool| {
            if bound {
                skeleton.lower_bound(sizes)
            } else {
                skeleton.build(&GreedyBySize, sizes).arena_size()
            }
        };
        for (r, row_axis) in rows.iter().enumerate() {
            for (c, col_axis) in cols.iter().enumerate() {
                let grid = (r + 1, c + 1);
                let schedule = Schedule::patched(split, grid);
                let (sizes, stage_macs) = if StageAxis::combine(row_axis, col_axis) {
                    (
                        StageAxis::sizes(g, &stage, row_axis, col_axis, mode),
                        StageAxis::stage_macs(g, &stage, row_axis, col_axis),
                    )
                } else {
                    let Ok(s) = PatchSchedule::new_unseparated(g, split, grid) else { continue };
                    (schedule_sizes(g, &s, mode), s.stage_macs(g))
                };
                visit(schedule, base_macs + stage_macs.saturating_sub(once), &|bound| arena(&sizes, bound));
            }
        }
        true
    }
}

/// What [`search`] followed by [`Search::best_within`] and
/// [`Search::smallest_peak`] would give, found without planning the
/// candidates that cannot change either answer (their arena's lower bound
/// rules them out): the design-space explorer's per-spec evaluation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Within {
    pub layer_peak_bytes: usize,
    pub base_macs: u64,
    /// The schedule with the fewest MACs whose peak fits the budget (ties:
    /// lower peak, then the earlier in the search's order), if any.
    pub best: Option<Candidate>,
    /// The schedule with the smallest peak (ties: fewer MACs, then earlier).
    pub smallest: Candidate,
    pub splits_untried: usize,
}

/// [`Within`] for `budget` bytes.
pub fn search_within(g: &Graph, mode: InputMode, budget: usize) -> Within {
    let base = layer_arena(g);
    let base_macs = analysis::total_macs(g);
    let layer = Candidate { schedule: Schedule::LAYER_BY_LAYER, peak_bytes: base, macs: base_macs };
    let mut best = (base <= budget).then_some(layer);
    let mut smallest = layer;
    let mut visit = |schedule, macs, arena: &dyn Fn(bool) -> usize| {
        let bound = arena(true);
        let may_fit = bound <= budget && best.is_none_or(|b| macs < b.macs || (macs == b.macs && bound < b.peak_bytes));
        let may_be_smallest = bound < smallest.peak_bytes || (bound <= smallest.peak_bytes && macs < smallest.macs);
        if !(may_fit || may_be_smallest) {
            return;
        }
        let c = Candidate { schedule, peak_bytes: arena(false), macs };
        if c.peak_bytes <= budget && best.is_none_or(|b| (c.macs, c.peak_bytes) < (b.macs, b.peak_bytes)) {
            best = Some(c);
        }
        if (c.peak_bytes, c.macs) < (smallest.peak_bytes, smallest.macs) {
            smallest = c;
        }
    };
    let mut walk = Walk::new(g);
    while walk.step(g, mode, base_macs, &mut visit) {}
    let splits_untried = walk.untried();
    Within { layer_peak_bytes: base, base_macs, best, smallest, splits_untried }
}

/// [`Search::limit_note`] for a search that left `splits_untried` stage ends untried.
pub fn search_limit_note(splits_untried: usize) -> Option<String> {
    (splits_untried > 0).then(|| {
        alloc::format!(
            "the search stopped at its work limit: the last {splits_untried} legal patch-stage ends (the latest in \
             the network) were not tried"
        )
    })
}

/// Work units [`search`] spends on `g` if nothing stops it (for the README's figures and the limit's tests).
pub fn search_work(g: &Graph) -> u64 {
    legal_splits(g)
        .into_iter()
        .filter_map(|split| SplitAxes::new(g, split))
        .map(|a| split_work(g, &a))
        .fold(0u64, u64::saturating_add)
}

/// Candidates not dominated in (peak, MACs), by increasing peak.
pub fn pareto_front(candidates: &[Candidate]) -> Vec<Candidate> {
    let mut sorted: Vec<Candidate> = candidates.to_vec();
    sorted.sort_by(|a, b| a.peak_bytes.cmp(&b.peak_bytes).then(a.macs.cmp(&b.macs)));
    let mut front: Vec<Candidate> = Vec::new();
    for c in sorted {
        if front.last().is_none_or(|l| c.macs < l.macs) {
            front.push(c);
        }
    }
    front
}

/// Peak and MACs of `schedule` (`None`: it cannot run under `mode`).
pub fn evaluate(g: &Graph, schedule: Schedule, mode: InputMode) -> Option<Candidate> {
    evaluate_on(g, schedule, mode, analysis::total_macs(g))
}

/// [`evaluate`] with the network's layer-by-layer MACs (`base_macs`) given.
fn evaluate_on(g: &Graph, schedule: Schedule, mode: InputMode, base_macs: u64) -> Option<Candidate> {
    let (stages, layout) = layout(g, schedule, mode).ok()?;
    let overhead: u64 = stages.iter().map(|s| s.overhead_macs(g)).sum();
    Some(Candidate { schedule, peak_bytes: layout.arena_size(), macs: base_macs + overhead })
}

/// How far around the peak operator [`later_stages`] looks for a stage's
/// first and last operators.
const LATER_REACH: (usize, usize) = (6, 8);

/// Adds patch stages after `base`'s, one at a time, where the memory peak
/// is now: each round takes the operator with the most live bytes after the
/// last stage, tries the legal ranges around it (up to [`LATER_REACH`]
/// operators before and after) on a 2×2 grid, and the three smallest-peak
/// ranges on every grid up to 4×4, recomputing and caching. The round's
/// smallest peak becomes the next base while it lowers the peak, up to
/// [`Later::CAPACITY`] stages. Returns every schedule evaluated (`base`
/// first): the caller takes their Pareto front or the best within a budget.
pub fn later_stages(g: &Graph, base: Schedule, mode: InputMode) -> Vec<Candidate> {
    let base_macs = analysis::total_macs(g);
    let evaluate = |s: Schedule| evaluate_on(g, s, mode, base_macs);
    let Some(start) = evaluate(base) else { return Vec::new() };
    let mut all = alloc::vec![start];
    let mut best = start;
    let n = g.nodes.len();
    while best.schedule.later.len() < Later::CAPACITY {
        let Some(end) = best.schedule.stage_list().map(|(_, last, _, _)| last).last() else { break };
        let Ok((_, l)) = layout(g, best.schedule, mode) else { break };
        let live = live_bytes(&l.buffers, n);
        let Some(k) = (end + 1..n).max_by_key(|&i| (live[i], core::cmp::Reverse(i))) else { break };
        // The peak inside an earlier stage: a later one cannot lower it.
        if (0..=end).any(|i| live[i] > live[k]) {
            break;
        }
        let with = |first: usize, last: usize, grid: (usize, usize), halo: Halo| {
            let mut stages: Vec<Stage> = best.schedule.later.iter().copied().collect();
            stages.push(Stage { first, last, grid, halo });
            Later::of(&stages).map(|l| best.schedule.then(l))
        };
        let mut ranges = Vec::new();
        for first in k.saturating_sub(LATER_REACH.0).max(end + 1)..=k {
            for last in k..n.min(k + LATER_REACH.1 + 1) {
                if crate::patch::check_stage(g, first, last).is_err() {
                    break; // longer ranges from this first op are not legal either
                }
                if let Some(c) = with(first, last, (2, 2), Halo::Recompute).and_then(evaluate) {
                    all.push(c);
                    ranges.push((c.peak_bytes, c.macs, first, last));
                }
            }
        }
        ranges.sort_unstable();
        let mut round_best: Option<Candidate> = None;
        for &(_, _, first, last) in ranges.iter().take(3) {
            let o = g.tensors[g.nodes[last].output()].nhwc();
            for rows in 1..=o[1].min(4) {
                for cols in 1..=o[2].min(4) {
                    for halo in [Halo::Recompute, Halo::Cache] {
                        if (rows, cols, halo) == (2, 2, Halo::Recompute) || rows * cols == 1 {
                            continue;
                        }
                        let Some(c) = with(first, last, (rows, cols), halo).and_then(evaluate) else {
                            continue;
                        };
                        all.push(c);
                    }
                }
            }
        }
        for c in all.iter().filter(|c| c.schedule.later.len() == best.schedule.later.len() + 1) {
            if round_best.is_none_or(|b| (c.peak_bytes, c.macs) < (b.peak_bytes, b.macs)) {
                round_best = Some(*c);
            }
        }
        match round_best {
            Some(c) if c.peak_bytes < best.peak_bytes => best = c,
            _ => break,
        }
    }
    all
}

/// Which halo families a search's answer may come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum HaloChoice {
    /// Patches recompute their halos (MCUNetV2).
    #[default]
    Recompute,
    /// Patches cache their halos.
    Cache,
    /// Whichever is better for the budget.
    Auto,
}

/// A patch schedule re-planned under `halo`: the candidate (peak and MACs
/// as [`report`] counts them; `once[i]`: node `i`'s MACs layer by layer) and
/// its patch schedule.
fn halo_candidate(
    g: &Graph,
    schedule: Schedule,
    halo: Halo,
    mode: InputMode,
    once: &[u64],
    skeleton: Option<&Skeleton>,
) -> Result<(Candidate, PatchSchedule)> {
    let split = schedule.split.ok_or(Error::Schedule("layer by layer has no halos to cache"))?;
    let s = PatchSchedule::with_halo(g, split, schedule.grid, halo)?;
    s.check_mode(mode)?;
    let layout = match skeleton {
        Some(k) => stages_layout_on(g, core::slice::from_ref(&s), mode, &GreedyBySize, k),
        None => patch_layout(g, &s, mode, &GreedyBySize, LayoutOptions::default()),
    };
    let overhead: u64 = (0..=split)
        .map(|i| (0..s.patches()).filter_map(|k| s.patch_macs(g, k, i)).sum::<u64>().saturating_sub(once[i]))
        .sum();
    let c = Candidate {
        schedule: schedule.with_halo(halo),
        peak_bytes: layout.arena_size(),
        macs: once.iter().sum::<u64>() + overhead,
    };
    Ok((c, s))
}

/// The per-layer mixtures between a schedule's fully cached form `all` and
/// recomputing: the stage operators whose outputs `all` caches, ordered by
/// the arena bytes of their caches, are given back to recomputation widest
/// first, one more at a time (caching a wide early tensor can cost more arena
/// than the halos it saves; DeFiNES's cache-or-recompute choice per layer,
/// along one greedy path instead of all 2^n subsets).
fn layered_candidates(
    g: &Graph,
    schedule: Schedule,
    all: &PatchSchedule,
    mode: InputMode,
    once: &[u64],
) -> Vec<Candidate> {
    // Every mixture has the same ops and input mode: one skeleton for all.
    let skeleton = stage_skeleton(g, all, mode, LayoutOptions::default());
    let skeleton = Some(&skeleton);
    let op_of = |t: TensorId| (0..=all.split).find(|&i| g.nodes[i].output() == t);
    let mut widest: Vec<(usize, usize)> = cache_bytes(g, all, mode)
        .into_iter()
        .filter_map(|(t, bytes)| Some((op_of(t)?, bytes)))
        .filter(|&(i, _)| i < CacheSet::LIMIT)
        .collect();
    widest.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    (1..widest.len())
        .filter_map(|k| {
            let set = CacheSet::of(widest[k..].iter().map(|&(i, _)| i))?;
            halo_candidate(g, schedule, Halo::Layers(set), mode, once, skeleton).ok().map(|(c, _)| c)
        })
        .collect()
}

/// Every halo choice `auto` weighs for one split and grid: recomputing, caching
/// every halo, and the per-layer mixtures between them ([`layered_candidates`]).
pub fn halo_choices(g: &Graph, schedule: Schedule, mode: InputMode) -> Vec<Candidate> {
    let once: Vec<u64> = analysis::layers(g).iter().map(|l| l.macs).collect();
    let base = schedule.with_halo(Halo::Recompute);
    let mut out: Vec<Candidate> =
        halo_candidate(g, base, Halo::Recompute, mode, &once, None).map(|(c, _)| c).into_iter().collect();
    if let Ok((cached, all)) = halo_candidate(g, base, Halo::Cache, mode, &once, None) {
        out.push(cached);
        out.extend(layered_candidates(g, base, &all, mode, &once));
    }
    out
}

/// Schedules whose per-layer mixtures the `Auto` search tries: those with
/// the [`LAYERED_SHORTLIST`] smallest peaks with every halo recomputed and
/// with every halo cached (a mixture's peak lies near both; trying every
/// schedule's mixtures would take 10–30 s on the shipped models).
fn layered_shortlist(recomputed: &[Candidate], cached: &[Candidate]) -> Vec<Schedule> {
    let mut out: Vec<Schedule> = Vec::new();
    for family in [recomputed, cached] {
        let mut by_peak: Vec<&Candidate> = family.iter().filter(|c| c.schedule.split.is_some()).collect();
        by_peak.sort_by(|a, b| a.peak_bytes.cmp(&b.peak_bytes).then(a.macs.cmp(&b.macs)));
        for c in by_peak.into_iter().take(LAYERED_SHORTLIST) {
            let s = c.schedule.with_halo(Halo::Recompute);
            if !out.contains(&s) {
                out.push(s);
            }
        }
    }
    out
}

/// How many schedules of each family [`layered_shortlist`] takes.
pub const LAYERED_SHORTLIST: usize = 6;

/// [`Search::with_halo`] taken a few schedules at a time, so that a caller
/// that must stay responsive (the page's worker) can report progress and
/// stop between two steps: first every patch schedule re-planned with its
/// halos cached, then (for `Auto`) the shortlist's per-layer mixtures.
pub struct HaloRun {
    base: Search,
    mode: InputMode,
    choice: HaloChoice,
    once: Vec<u64>,
    candidates: Vec<Candidate>,
    /// Where the cached schedules start in `candidates`.
    first_cached: usize,
    /// Patch schedules of `base` still to cache (indices into its candidates).
    to_cache: Vec<usize>,
    next: usize,
    /// Set once the cached family is complete (`Auto`): its mixtures to try.
    shortlist: Option<Vec<Schedule>>,
    /// The layout skeleton of the last split re-planned (the candidates of a
    /// split come one after the other, and it depends on no grid).
    skeleton: Option<(usize, Skeleton)>,
    next_mixture: usize,
}

impl HaloRun {
    pub fn new(g: &Graph, base: Search, mode: InputMode, choice: HaloChoice) -> Self {
        let once: Vec<u64> = analysis::layers(g).iter().map(|l| l.macs).collect();
        let candidates: Vec<Candidate> = match choice {
            HaloChoice::Recompute | HaloChoice::Auto => base.candidates.clone(),
            HaloChoice::Cache => base.candidates.iter().filter(|c| c.schedule.split.is_none()).copied().collect(),
        };
        let to_cache = match choice {
            HaloChoice::Recompute => Vec::new(),
            _ => (0..base.candidates.len()).filter(|&i| base.candidates[i].schedule.split.is_some()).collect(),
        };
        let first_cached = candidates.len();
        HaloRun {
            base,
            mode,
            choice,
            once,
            candidates,
            first_cached,
            to_cache,
            next: 0,
            shortlist: None,
            next_mixture: 0,
            skeleton: None,
        }
    }

    /// `(done, total)` schedules: cached ones, then shortlisted mixtures.
    pub fn progress(&self) -> (usize, usize) {
        let mixtures = match (&self.shortlist, self.choice) {
            (Some(l), _) => l.len(),
            (None, HaloChoice::Auto) => 2 * LAYERED_SHORTLIST,
            (None, _) => 0,
        };
        (self.next + self.next_mixture, self.to_cache.len() + mixtures)
    }

    /// Re-plans up to `n` cached schedules (or one schedule's mixtures);
    /// `false` once nothing is left.
    pub fn step(&mut self, g: &Graph, n: usize) -> bool {
        if self.next < self.to_cache.len() {
            let end = (self.next + n.max(1)).min(self.to_cache.len());
            for &i in &self.to_cache[self.next..end] {
                let schedule = self.base.candidates[i].schedule;
                let Some(split) = schedule.split else { continue };
                if self.skeleton.as_ref().is_none_or(|(s, _)| *s != split) {
                    let Ok(stage) = PatchSchedule::empty(g, split, (1, 1)) else { continue };
                    self.skeleton = Some((split, stage_skeleton(g, &stage, self.mode, LayoutOptions::default())));
                }
                let skeleton = self.skeleton.as_ref().map(|(_, k)| k);
                if let Ok((cached, _)) = halo_candidate(g, schedule, Halo::Cache, self.mode, &self.once, skeleton) {
                    self.candidates.push(cached);
                }
            }
            self.next = end;
            return true;
        }
        if self.choice != HaloChoice::Auto {
            return false;
        }
        let (base, cached) = (&self.base.candidates, &self.candidates[self.first_cached..]);
        // The cached family is complete: its schedules follow the ones kept from the base.
        let shortlist = self.shortlist.get_or_insert_with(|| layered_shortlist(base, cached));
        let Some(&schedule) = shortlist.get(self.next_mixture) else { return false };
        self.next_mixture += 1;
        // Rebuilt rather than kept from the loop above: every candidate's per-patch
        // rectangles together would take hundreds of MB; the layout is not needed again.
        if let Some(split) = schedule.split {
            if let Ok(all) = PatchSchedule::with_halo(g, split, schedule.grid, Halo::Cache) {
                let layered = layered_candidates(g, schedule, &all, self.mode, &self.once);
                self.candidates.extend(layered);
            }
        }
        true
    }

    pub fn finish(self) -> Search {
        Search { pareto: pareto_front(&self.candidates), candidates: self.candidates, ..self.base }
    }
}

impl Search {
    /// The search's answers under `choice`: for `Cache` and `Auto`, every
    /// evaluated patch schedule is re-planned with its halos cached (module
    /// [`halo`](crate::halo)); `Auto` also tries the per-layer mixtures
    /// ([`layered_candidates`]) of the schedules [`layered_shortlist`] picks.
    /// The front is the cached family's (`Cache`, with layer by layer) or
    /// every family's together (`Auto`).
    pub fn with_halo(&self, g: &Graph, mode: InputMode, choice: HaloChoice) -> Search {
        let mut run = HaloRun::new(g, self.clone(), mode, choice);
        while run.step(g, 64) {}
        run.finish()
    }

    /// The search extended with later patch stages: from every one-stage
    /// schedule on its front, [`later_stages`] adds stages where the peak
    /// then is; the front is taken again over everything, so it holds one-
    /// and several-stage schedules together (stages × grids × halo choices).
    pub fn with_later_stages(&self, g: &Graph, mode: InputMode) -> Search {
        let mut candidates = self.candidates.clone();
        for c in self.pareto.iter().filter(|c| c.schedule.split.is_some() && c.schedule.later.is_empty()) {
            // The first schedule `later_stages` returns is the base, already a candidate.
            candidates.extend(later_stages(g, c.schedule, mode).into_iter().skip(1));
        }
        Search { pareto: pareto_front(&candidates), candidates, ..self.clone() }
    }

    /// The candidates of one halo family (`Recompute`: every halo recomputed;
    /// `Cache`: every halo cached; `Auto`: all, per-layer mixtures included),
    /// layer by layer in each, with that family's Pareto front.
    pub fn family(&self, choice: HaloChoice) -> Search {
        let keep = |c: &&Candidate| match choice {
            HaloChoice::Auto => true,
            _ if c.schedule.split.is_none() => true,
            HaloChoice::Recompute => c.schedule.halo == Halo::Recompute,
            HaloChoice::Cache => c.schedule.halo == Halo::Cache,
        };
        let candidates: Vec<Candidate> = self.candidates.iter().filter(keep).copied().collect();
        Search { pareto: pareto_front(&candidates), candidates, ..self.clone() }
    }

    /// The schedule with the fewest MACs whose peak fits `budget` (ties: lower peak).
    pub fn best_within(&self, budget: usize) -> Result<Candidate> {
        self.pareto
            .iter()
            .filter(|c| c.peak_bytes <= budget)
            .min_by(|a, b| a.macs.cmp(&b.macs).then(a.peak_bytes.cmp(&b.peak_bytes)))
            .copied()
            .ok_or(Error::BudgetUnreachable { budget, best_peak: self.smallest_peak() })
    }

    /// What the user is told when the search stopped at [`MAX_SEARCH_WORK`].
    pub fn limit_note(&self) -> Option<String> {
        search_limit_note(self.splits_untried)
    }

    pub fn smallest_peak(&self) -> usize {
        self.pareto.first().map_or(0, |c| c.peak_bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(peak: usize, macs: u64) -> Candidate {
        Candidate { schedule: Schedule::LAYER_BY_LAYER, peak_bytes: peak, macs }
    }

    #[test]
    fn pareto_keeps_only_undominated() {
        let front = pareto_front(&[c(100, 10), c(50, 20), c(60, 30), c(40, 25), c(50, 15)]);
        assert_eq!(front, [c(40, 25), c(50, 15), c(100, 10)]);
    }

    #[test]
    fn budget_picks_fewest_macs_that_fit_or_names_the_floor() {
        let s = Search {
            layer_peak_bytes: 100,
            base_macs: 10,
            candidates: Vec::new(),
            pareto: pareto_front(&[c(100, 10), c(50, 15), c(40, 25)]),
            splits_untried: 0,
        };
        assert_eq!(s.best_within(60).unwrap(), c(50, 15));
        assert_eq!(s.best_within(1000).unwrap(), c(100, 10));
        assert_eq!(s.best_within(10), Err(Error::BudgetUnreachable { budget: 10, best_peak: 40 }));
    }
}

/// The note on an RD comparison of a trained model (the CLI and the page say the same).
pub const RD_WHAT_IF: &str = "what-if: RD applied to the architecture inferred from the model; the redistributed network has synthetic weights and would have to be retrained";

/// The `plan --json` document: one serde type for the CLI, the page's JSON
/// export and the browser tests that compare them.
#[cfg(feature = "serde")]
pub mod document {
    use alloc::string::{String, ToString};
    use alloc::vec::Vec;

    use serde::{Deserialize, Serialize};

    use super::{Candidate, Later, LayerRow, Report, Schedule};
    use crate::patch::{Halo, InputMode};

    #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
    pub struct ScheduleDoc {
        pub split: Option<usize>,
        pub grid: [usize; 2],
        /// `"recompute"`, `"cache"` or `{"layers": [ops]}` (a per-layer choice; absent in older documents: recompute).
        #[serde(default)]
        pub halo: Halo,
        /// Patch stages after the first: `[{"first": 20, "last": 30, "grid": [2, 2], "halo": "cache"}]`.
        #[serde(default, rename = "later_stages", skip_serializing_if = "Later::is_empty")]
        pub later: Later,
    }

    impl From<Schedule> for ScheduleDoc {
        fn from(s: Schedule) -> Self {
            ScheduleDoc { split: s.split, grid: [s.grid.0, s.grid.1], halo: s.halo, later: s.later }
        }
    }

    impl From<ScheduleDoc> for Schedule {
        fn from(s: ScheduleDoc) -> Self {
            Schedule { split: s.split, grid: (s.grid[0], s.grid[1]), halo: s.halo, later: s.later }
        }
    }

    #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
    pub struct CandidateDoc {
        pub split: Option<usize>,
        pub grid: [usize; 2],
        pub peak_bytes: usize,
        pub macs: u64,
        #[serde(default)]
        pub halo: Halo,
        #[serde(default, rename = "later_stages", skip_serializing_if = "Later::is_empty")]
        pub later: Later,
        /// The latency estimate's Cortex-M7 instructions for this schedule
        /// ([`PlanDocument::with_latency`]; see `latency.basis`): the front's
        /// third axis.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub estimated_instructions: Option<u64>,
    }

    #[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
    pub struct StageDoc {
        pub ops: [usize; 2],
        pub resolution: [usize; 2],
        pub macs: u64,
        pub layer_peak_bytes: usize,
        pub weight_bytes: usize,
    }

    /// The same network without RD, under the same schedule request.
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    pub struct WithoutRd {
        pub macs: u64,
        pub layer_peak_bytes: usize,
        pub patch_peak_bytes: usize,
        pub overhead_macs: u64,
        pub overhead_pct: f64,
        pub schedule: ScheduleDoc,
    }

    /// Serialize only: its rows borrow operator names.
    #[derive(Clone, Debug, PartialEq, Serialize)]
    pub struct PlanDocument {
        /// The model (file name, preset or spec name) and board it was planned for, when known.
        #[serde(skip_serializing_if = "Option::is_none")]
        pub model: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        pub board: Option<String>,
        pub macs: u64,
        pub base_macs: u64,
        pub flash_bytes: usize,
        pub layer_peak_bytes: usize,
        pub patch_peak_bytes: usize,
        pub reduction: f64,
        pub overhead_macs: u64,
        pub overhead_pct: f64,
        pub input_in_sram: bool,
        pub schedule: ScheduleDoc,
        pub budget_bytes: Option<usize>,
        pub fits: Option<bool>,
        pub pareto: Vec<CandidateDoc>,
        pub stages: Vec<StageDoc>,
        pub layers: Vec<LayerRow>,
        #[serde(skip_serializing_if = "Option::is_none")]
        pub without_rd: Option<WithoutRd>,
        #[serde(skip_serializing_if = "Option::is_none")]
        pub note: Option<String>,
        /// Why patch stages end where they do (see `Report::stage_limit`).
        #[serde(skip_serializing_if = "Option::is_none")]
        pub stage_limit: Option<String>,
        /// Set when the search stopped at its work limit (`Search::limit_note`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub search_limit: Option<String>,
        /// Estimated time per board ([`crate::latency`]).
        #[serde(skip_serializing_if = "Option::is_none")]
        pub latency: Option<LatencyDoc>,
    }

    /// Estimated milliseconds per board, from measured instruction costs.
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    pub struct LatencyDoc {
        /// What the figures are: an estimate from instruction counts.
        pub basis: String,
        /// The cost table's source (commit and command).
        pub cost_model: String,
        /// Estimated instructions per inference under the schedule, and layer by layer.
        pub instructions: u64,
        pub layer_by_layer_instructions: u64,
        /// Per operator, under the schedule (over all its patches).
        pub layer_instructions: Vec<u64>,
        /// Operators priced with the pooled fallback (their class was not measured).
        pub unmeasured_ops: Vec<String>,
        pub boards: Vec<BoardLatency>,
    }

    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    pub struct BoardLatency {
        pub board: String,
        pub clock_mhz: f64,
        pub ms: f64,
        pub layer_by_layer_ms: f64,
    }

    /// The basis every latency figure states.
    pub const LATENCY_BASIS: &str =
        "estimate from Cortex-M7 instruction counts under QEMU, at one instruction per cycle (not a measured time)";

    impl LatencyDoc {
        /// The estimate of `schedule` on `g` for every board with a cost model
        /// (`None` when the schedule cannot be stepped).
        pub fn new(g: &crate::graph::Graph, schedule: Schedule, mode: InputMode) -> Option<Self> {
            let model = &crate::latency::cortex_m7::CORTEX_M7;
            let e = crate::latency::estimate(g, schedule, mode, model).ok()?;
            let l = crate::latency::estimate(g, Schedule::LAYER_BY_LAYER, mode, model).ok()?;
            let boards = crate::boards::BOARDS
                .iter()
                .filter(|b| crate::latency::for_board(b) == Some(model))
                .map(|b| BoardLatency {
                    board: b.name.to_string(),
                    clock_mhz: f64::from(b.clock_hz) / 1e6,
                    ms: e.millis(b.clock_hz),
                    layer_by_layer_ms: l.millis(b.clock_hz),
                })
                .collect();
            Some(LatencyDoc {
                basis: LATENCY_BASIS.to_string(),
                cost_model: model.source.to_string(),
                instructions: libm::round(e.instructions) as u64,
                layer_by_layer_instructions: libm::round(l.instructions) as u64,
                layer_instructions: e.per_node.iter().map(|&x| libm::round(x) as u64).collect(),
                unmeasured_ops: e.unmeasured,
                boards,
            })
        }
    }

    impl PlanDocument {
        /// `r` with the search's Pareto front and the budget it was checked against.
        pub fn new(r: &Report, pareto: &[Candidate], budget: Option<usize>) -> Self {
            PlanDocument {
                model: None,
                board: None,
                macs: r.macs,
                base_macs: r.base_macs,
                flash_bytes: r.flash_bytes,
                layer_peak_bytes: r.layer_peak_bytes,
                patch_peak_bytes: r.patch_peak_bytes,
                reduction: r.reduction(),
                overhead_macs: r.overhead_macs,
                overhead_pct: r.overhead_pct,
                input_in_sram: r.input_mode == InputMode::InArena,
                schedule: r.schedule.into(),
                budget_bytes: budget,
                fits: budget.map(|b| r.patch_peak_bytes <= b),
                pareto: pareto
                    .iter()
                    .map(|c| CandidateDoc {
                        split: c.schedule.split,
                        grid: [c.schedule.grid.0, c.schedule.grid.1],
                        peak_bytes: c.peak_bytes,
                        macs: c.macs,
                        halo: c.schedule.halo,
                        later: c.schedule.later,
                        estimated_instructions: None,
                    })
                    .collect(),
                stages: r
                    .stages
                    .iter()
                    .map(|s| StageDoc {
                        ops: [s.first, s.last],
                        resolution: [s.resolution.0, s.resolution.1],
                        macs: s.macs,
                        layer_peak_bytes: s.layer_peak_bytes,
                        weight_bytes: s.weight_bytes,
                    })
                    .collect(),
                layers: r.layers.clone(),
                without_rd: None,
                note: None,
                stage_limit: r.stage_limit.clone(),
                search_limit: None,
                latency: None,
            }
        }

        /// Adds the latency estimate of the document's schedule on `g`.
        /// Adds the latency estimate: per board for the schedule, and in
        /// instructions for every schedule of the Pareto front.
        pub fn with_latency(mut self, g: &crate::graph::Graph, mode: InputMode) -> Self {
            self.latency = LatencyDoc::new(g, self.schedule.into(), mode);
            let model = &crate::latency::cortex_m7::CORTEX_M7;
            for c in &mut self.pareto {
                let s = Schedule { split: c.split, grid: (c.grid[0], c.grid[1]), halo: c.halo, later: c.later };
                c.estimated_instructions =
                    crate::latency::estimate(g, s, mode, model).ok().map(|e| libm::round(e.instructions) as u64);
            }
            self
        }

        /// Names the model and the board the plan is for.
        pub fn with_names(mut self, model: Option<&str>, board: Option<&str>) -> Self {
            self.model = model.map(String::from);
            self.board = board.map(String::from);
            self
        }

        /// Records that the search behind the Pareto front stopped at its work limit.
        pub fn with_search_limit(mut self, note: Option<String>) -> Self {
            self.search_limit = note;
            self
        }

        /// Adds the network without RD (`base`) side by side; `what_if`: the
        /// original is a trained model, so RD is a what-if ([`super::RD_WHAT_IF`]).
        pub fn with_rd_baseline(mut self, base: &Report, what_if: bool) -> Self {
            self.without_rd = Some(WithoutRd {
                macs: base.macs,
                layer_peak_bytes: base.layer_peak_bytes,
                patch_peak_bytes: base.patch_peak_bytes,
                overhead_macs: base.overhead_macs,
                overhead_pct: base.overhead_pct,
                schedule: base.schedule.into(),
            });
            self.note = what_if.then(|| super::RD_WHAT_IF.to_string());
            self
        }
    }
}
