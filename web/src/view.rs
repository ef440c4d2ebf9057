//! What the page shows about a schedule, computed with core's `plan`.

use patchwise_core::graph::{Graph, TensorId};
use patchwise_core::loader::{OpOutline, OpStatus};
use patchwise_core::patch::{self, PatchSchedule};
use patchwise_core::plan::document::{BoardLatency, LatencyDoc};
use patchwise_core::plan::{self, Report, MAX_GRID};
use patchwise_core::region::Rect;

use crate::proto::{Mode, Sched};

/// The board latency is shown for under a custom budget.
pub const LATENCY_DEFAULT_BOARD: &str = "stm32f746g-disco";

/// The report of one schedule and, for a patch stage, its regions.
#[derive(Clone, Debug, PartialEq)]
pub struct Analysis {
    pub schedule: Sched,
    pub mode: Mode,
    pub report: Report,
    pub patches: Option<PatchSchedule>,
    /// Estimated time per board (`plan --json`'s `latency`).
    pub latency: Option<LatencyDoc>,
}

impl Analysis {
    pub fn new(g: &Graph, schedule: Sched, mode: Mode) -> Result<Self, String> {
        let report = plan::report(g, schedule.into(), mode.into()).map_err(|e| e.to_string())?;
        let patches = match schedule.split {
            Some(s) => Some(PatchSchedule::with_halo(g, s, schedule.grid, schedule.halo).map_err(|e| e.to_string())?),
            None => None,
        };
        let latency = LatencyDoc::new(g, schedule.into(), mode.into());
        Ok(Self { schedule, mode, report, patches, latency })
    }

    /// The latency estimate on `board`, or on the STM32F746 (the paper's
    /// board) under a custom budget; `Err` says why there is none.
    pub fn board_latency(&self, board: Option<&str>) -> Result<&BoardLatency, String> {
        let name = board.unwrap_or(LATENCY_DEFAULT_BOARD);
        let l = self.latency.as_ref().ok_or("no estimate for this schedule")?;
        l.boards.iter().find(|b| b.board == name).ok_or_else(|| {
            format!("no estimate for {name}: only the Armv7E-M (Cortex-M4/M7) build's instruction costs are measured")
        })
    }

    /// Each patch's rectangle of tensor `t` (empty outside the patch stage).
    pub fn rects(&self, t: TensorId) -> Vec<Rect> {
        match &self.patches {
            Some(p) => p.rects.iter().filter_map(|r| r[t]).collect(),
            None => Vec::new(),
        }
    }
}

impl Analysis {
    /// Per patch, the parts of tensor `t`'s window an earlier patch computed
    /// (copied from the halo caches, or in place for a tensor held whole;
    /// empty unless `t` is cached): the rows above what the patch computes
    /// and the columns to its left.
    pub fn cached_strips(&self, t: TensorId) -> Vec<Vec<Rect>> {
        let Some(p) = self.patches.as_ref().filter(|p| p.is_cached(t)) else { return Vec::new() };
        (0..p.patches())
            .filter_map(|k| Some((p.rects[k][t]?, p.computed(k, t)?)))
            .map(|(r, c)| cache_part(r, c))
            .collect()
    }
}

/// Window `r` less its computed part `c` (whose rows and columns run to
/// `r`'s end): a strip above and a strip to its left.
pub fn cache_part(r: Rect, c: Rect) -> Vec<Rect> {
    if c.is_empty() {
        return if r.is_empty() { Vec::new() } else { vec![r] };
    }
    let top = Rect::new(r.y, r.x, c.y - r.y, r.w);
    let left = Rect::new(c.y, r.x, r.y_end() - c.y, c.x - r.x);
    [top, left].into_iter().filter(|s| !s.is_empty()).collect()
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
        Some(s) => Sched::patched(s, grid),
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

    #[test]
    fn a_cached_window_splits_into_its_computed_part_and_two_strips() {
        let r = Rect::new(4, 6, 10, 12);
        // Rows 4..7 from the row cache, columns 6..8 from the column cache.
        let c = Rect::new(7, 8, 7, 10);
        let strips = cache_part(r, c);
        assert_eq!(strips, vec![Rect::new(4, 6, 3, 12), Rect::new(7, 6, 7, 2)]);
        let area: usize = strips.iter().map(|s| s.area()).sum();
        assert_eq!(area + c.area(), r.area(), "strips and computed part tile the window");
        assert_eq!(cache_part(r, r), Vec::<Rect>::new(), "nothing cached: no strip");
        assert_eq!(cache_part(r, Rect::new(14, 18, 0, 0)), vec![r], "all from the caches");
    }

    #[test]
    fn cached_strips_tile_each_window_of_a_cached_schedule() {
        let g = patchwise_core::loader::load(crate::DEFAULT_MODEL).unwrap();
        let split = *patchwise_core::patch::legal_splits(&g).iter().find(|&&s| s >= 5).unwrap();
        let sched = super::schedule(Some(split), (3, 3)).with_halo(patchwise_core::patch::Halo::Cache);
        let a = Analysis::new(&g, sched, Mode::Streamed).unwrap();
        let p = a.patches.as_ref().unwrap();
        let mut with_strips = 0;
        for t in (0..=split).map(|i| g.nodes[i].output()).filter(|&t| p.is_cached(t) && !p.is_whole(t)) {
            let strips = a.cached_strips(t);
            assert_eq!(strips.len(), 9);
            assert!(strips[0].is_empty(), "the first patch computes all of its window");
            with_strips += usize::from(strips.iter().any(|s| !s.is_empty()));
            for (k, s) in strips.iter().enumerate() {
                let (r, c) = (p.rects[k][t].unwrap(), p.computed(k, t).unwrap());
                assert_eq!(s.iter().map(|x| x.area()).sum::<usize>() + c.area(), r.area(), "patch {k}");
            }
        }
        assert!(with_strips > 0, "later patches take strips from the caches");
    }

    use crate::DEFAULT_MODEL;

    #[test]
    fn analysis_of_the_cli_default() {
        let g = patchwise_core::loader::load(DEFAULT_MODEL).unwrap();
        let a = Analysis::new(&g, Sched::patched(15, (1, 2)), Mode::InArena).unwrap();
        assert_eq!(a.report.patch_peak_bytes, 259_328);
        assert_eq!(a.rects(g.inputs[0]).len(), 2);
        assert!(Analysis::new(&g, Sched::patched(15, (99, 1)), Mode::InArena).is_err());
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

/// A column of the layer table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LayerCol {
    Index,
    Op,
    LayerLive,
    ScheduledLive,
    Macs,
    ScheduledMacs,
    Weights,
    Stage,
    Latency,
}

/// Bytes of constants (weights, biases) each operator reads.
pub fn weight_bytes(g: &Graph) -> Vec<usize> {
    g.nodes
        .iter()
        .map(|n| n.inputs.iter().flatten().filter_map(|&t| g.tensors[t].data.as_ref()).map(|d| d.byte_len()).sum())
        .collect()
}

/// Row order of the layer table sorted by `col` (ties by operator index,
/// so the order is stable and the same in every browser).
pub fn sort_layers(
    rows: &[plan::LayerRow],
    weights: &[usize],
    latency: &[u64],
    col: LayerCol,
    descending: bool,
) -> Vec<usize> {
    let key = |i: usize| -> (u64, String) {
        let r = &rows[i];
        match col {
            LayerCol::Index => (r.index as u64, String::new()),
            LayerCol::Op => (0, r.op.to_string()),
            LayerCol::LayerLive => (r.layer_live_bytes as u64, String::new()),
            LayerCol::ScheduledLive => (r.scheduled_live_bytes as u64, String::new()),
            LayerCol::Macs => (r.macs, String::new()),
            LayerCol::ScheduledMacs => (r.scheduled_macs, String::new()),
            LayerCol::Weights => (weights.get(i).copied().unwrap_or(0) as u64, String::new()),
            LayerCol::Stage => (r.in_patch_stage as u64, String::new()),
            LayerCol::Latency => (latency.get(i).copied().unwrap_or(0), String::new()),
        }
    };
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by(|&a, &b| {
        let o = key(a).cmp(&key(b));
        (if descending { o.reverse() } else { o }).then(a.cmp(&b))
    });
    order
}

#[cfg(test)]
mod layer_table_tests {
    use super::*;
    use crate::DEFAULT_MODEL;

    #[test]
    fn the_table_sorts_by_any_column_with_ties_by_index() {
        let g = patchwise_core::loader::load(DEFAULT_MODEL).unwrap();
        let a = Analysis::new(&g, Sched::patched(15, (1, 2)), Mode::InArena).unwrap();
        let rows = &a.report.layers;
        let w = weight_bytes(&g);
        assert_eq!(w.iter().sum::<usize>(), g.flash_bytes(), "each constant of BlazeFace is read by one operator");
        let by_live = sort_layers(rows, &w, &[], LayerCol::LayerLive, true);
        assert_eq!(rows[by_live[0]].layer_live_bytes, a.report.layer_peak_bytes);
        let by_sched = sort_layers(rows, &w, &[], LayerCol::ScheduledLive, true);
        assert_eq!(rows[by_sched[0]].scheduled_live_bytes, a.report.patch_peak_bytes);
        assert_eq!(sort_layers(rows, &w, &[], LayerCol::Index, false), (0..rows.len()).collect::<Vec<_>>());
        let stage = sort_layers(rows, &w, &[], LayerCol::Stage, true);
        assert!(stage[..16].iter().all(|&i| rows[i].in_patch_stage) && stage[..16].windows(2).all(|p| p[0] < p[1]));
        let ops = sort_layers(rows, &w, &[], LayerCol::Op, false);
        assert!(ops.windows(2).all(|p| rows[p[0]].op <= rows[p[1]].op));
        let lat = &a.latency.as_ref().unwrap().layer_instructions;
        let by_lat = sort_layers(rows, &w, lat, LayerCol::Latency, true);
        assert_eq!(lat[by_lat[0]], *lat.iter().max().unwrap());
    }

    #[test]
    fn the_latency_is_the_boards_or_the_papers_board_or_says_why_not() {
        let g = patchwise_core::loader::load(DEFAULT_MODEL).unwrap();
        let a = Analysis::new(&g, Sched::patched(15, (1, 2)), Mode::InArena).unwrap();
        assert_eq!(a.board_latency(None).unwrap().board, LATENCY_DEFAULT_BOARD);
        let h7 = a.board_latency(Some("nucleo-h743zi")).unwrap();
        assert_eq!(h7.clock_mhz, 480.0);
        assert!(h7.ms < a.board_latency(None).unwrap().ms, "480 MHz is faster than 216 MHz");
        let e = a.board_latency(Some("rpi-pico")).unwrap_err();
        assert!(e.contains("no estimate for rpi-pico"), "{e}");
    }
}

/// An activation tensor from the operator that writes it to one that reads
/// it, for the graph view; `from: None` is a graph input, `to: None` a graph output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GraphEdge {
    pub from: Option<usize>,
    pub to: Option<usize>,
    pub tensor: TensorId,
    pub bytes: usize,
}

/// Every activation edge of `g`, in execution order of the reader.
pub fn graph_edges(g: &Graph) -> Vec<GraphEdge> {
    let mut producer = vec![None; g.tensors.len()];
    for (i, n) in g.nodes.iter().enumerate() {
        for &t in &n.outputs {
            producer[t] = Some(i);
        }
    }
    let mut edges = Vec::new();
    for (j, n) in g.nodes.iter().enumerate() {
        for t in n.inputs.iter().flatten().copied().filter(|&t| !g.tensors[t].is_const()) {
            edges.push(GraphEdge { from: producer[t], to: Some(j), tensor: t, bytes: g.tensors[t].bytes() });
        }
    }
    for &t in &g.outputs {
        edges.push(GraphEdge { from: producer[t], to: None, tensor: t, bytes: g.tensors[t].bytes() });
    }
    edges
}

/// What the graph view draws: operators in execution order, edges between them.
#[derive(Clone, Debug, PartialEq)]
pub struct Drawing {
    pub nodes: Vec<DrawNode>,
    pub edges: Vec<DrawEdge>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct DrawNode {
    pub op: &'static str,
    /// The output shape, as `fmt::shape` prints it.
    pub out: String,
    /// The tooltip.
    pub title: String,
    /// An operator patchwise cannot run (a model that did not load).
    pub unsupported: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct DrawEdge {
    pub from: Option<usize>,
    pub to: Option<usize>,
    /// Bytes (a loaded model) or elements (an outline, whose types may not be known).
    pub size: usize,
    pub title: String,
}

impl Drawing {
    pub fn of_graph(g: &Graph) -> Self {
        let nodes = g
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let out = &g.tensors[n.output()];
                DrawNode {
                    op: n.op.name(),
                    out: crate::fmt::shape(&out.shape),
                    title: format!(
                        "op {i} · {} → {} ({})",
                        n.op.name(),
                        crate::fmt::shape(&out.shape),
                        crate::fmt::bytes(out.bytes())
                    ),
                    unsupported: false,
                }
            })
            .collect();
        let edges = graph_edges(g)
            .into_iter()
            .map(|e| {
                let t = &g.tensors[e.tensor];
                DrawEdge {
                    from: e.from,
                    to: e.to,
                    size: e.bytes,
                    title: format!("{} {} · {}", t.name, crate::fmt::shape(&t.shape), crate::fmt::bytes(e.bytes)),
                }
            })
            .collect();
        Drawing { nodes, edges }
    }

    /// A file that did not load, as the loader outlines it: its unsupported
    /// operators marked. Tensors no operator writes are the graph's inputs;
    /// tensors no operator reads, its outputs.
    pub fn of_outline(ops: &[OpOutline]) -> Self {
        let mut producer = std::collections::HashMap::new();
        for (i, o) in ops.iter().enumerate() {
            for &t in &o.writes {
                producer.insert(t, i);
            }
        }
        let read: std::collections::HashSet<usize> = ops.iter().flat_map(|o| o.reads.iter().map(|r| r.0)).collect();
        let nodes = ops
            .iter()
            .map(|o| {
                let out = o.outputs.first().map(|s| crate::fmt::shape(s)).unwrap_or_default();
                let unsupported = o.status != OpStatus::Supported;
                let note = match &o.status {
                    OpStatus::Supported => String::new(),
                    OpStatus::Unsupported => " · not supported".into(),
                    OpStatus::Invalid(e) => format!(" · {e}"),
                };
                DrawNode {
                    op: o.name, title: format!("op {} · {} → {out}{note}", o.index, o.name), out, unsupported
                }
            })
            .collect();
        let mut edges = Vec::new();
        for (j, o) in ops.iter().enumerate() {
            for &(t, n) in &o.reads {
                let title = format!("tensor {t} · {n} elements");
                edges.push(DrawEdge { from: producer.get(&t).copied(), to: Some(j), size: n, title });
            }
        }
        for (i, o) in ops.iter().enumerate() {
            for (&t, shape) in o.writes.iter().zip(&o.outputs) {
                if !read.contains(&t) {
                    let n = shape.iter().fold(1usize, |n, &d| n.saturating_mul(d));
                    edges.push(DrawEdge {
                        from: Some(i),
                        to: None,
                        size: n,
                        title: format!("tensor {t} · {n} elements"),
                    });
                }
            }
        }
        Drawing { nodes, edges }
    }
}

#[cfg(test)]
mod graph_view_tests {
    use super::*;

    #[test]
    fn blazeface_edges_are_its_activation_reads() {
        let g = patchwise_core::loader::load(crate::DEFAULT_MODEL).unwrap();
        let e = graph_edges(&g);
        let reads: usize =
            g.nodes.iter().map(|n| n.inputs.iter().flatten().filter(|&&t| !g.tensors[t].is_const()).count()).sum();
        assert_eq!(e.len(), reads + g.outputs.len());
        assert_eq!(e[0], GraphEdge { from: None, to: Some(0), tensor: g.inputs[0], bytes: 128 * 128 * 3 });
        // Residual ADDs read a tensor written several operators earlier.
        assert!(e.iter().any(|x| matches!((x.from, x.to), (Some(a), Some(b)) if b > a + 1)));
        assert_eq!(e.iter().filter(|x| x.to.is_none()).count(), 2);
    }

    /// A loaded model's outline draws as the model does: same nodes, same edges (sizes in elements).
    #[test]
    fn an_outline_draws_the_same_data_flow_as_its_graph() {
        let g = patchwise_core::loader::load(crate::DEFAULT_MODEL).unwrap();
        let ops = patchwise_core::loader::outline(crate::DEFAULT_MODEL).unwrap();
        let (a, b) = (Drawing::of_graph(&g), Drawing::of_outline(&ops));
        assert_eq!(
            a.nodes.iter().map(|n| (n.op, &n.out)).collect::<Vec<_>>(),
            b.nodes.iter().map(|n| (n.op, &n.out)).collect::<Vec<_>>()
        );
        let ends = |d: &Drawing| {
            let mut v: Vec<_> = d.edges.iter().map(|e| (e.from, e.to)).collect();
            v.sort();
            v
        };
        assert_eq!(ends(&a), ends(&b));
        assert!(b.nodes.iter().all(|n| !n.unsupported));
    }

    #[test]
    fn an_unsupported_model_draws_with_its_unsupported_ops_marked() {
        let bytes =
            std::fs::read(patchwise_tests::root().join("tests/golden/fixtures/unsupported-ops.tflite")).unwrap();
        let ops = patchwise_core::loader::outline(&bytes).unwrap();
        let d = Drawing::of_outline(&ops);
        let marked: Vec<&str> = d.nodes.iter().filter(|n| n.unsupported).map(|n| n.op).collect();
        assert_eq!(marked, ["EXP", "COS"]);
        assert_eq!(d.nodes.len(), ops.len());
        assert!(d.edges.iter().any(|e| e.from.is_none()) && d.edges.iter().any(|e| e.to.is_none()));
    }
}
