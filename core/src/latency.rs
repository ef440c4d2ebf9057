//! Estimated inference time on a board, from measured instruction costs.
//!
//! A schedule runs as a list of steps ([`steps`]): every operator once,
//! layer by layer, and in the patch stage every operator once per patch, on
//! that patch's rectangle (the same order the interpreter runs them). A
//! [`CostModel`] gives each operator class's instructions per step as
//! `per_step + per_mac·MACs + per_element·output elements`, fitted by least
//! squares on per-step instruction counts of the exported Cortex-M7 firmware
//! under QEMU (`tools/bench-m7/run --costs` writes [`cortex_m7`]). An estimate
//! is instructions ÷ the board's clock: it assumes one instruction per cycle
//! (the M7 dual-issues, flash wait states stall), so it is labelled an
//! estimate from instruction counts, not a measured time.

use crate::error::Result;
use crate::graph::Graph;
use crate::op::Op;
use crate::patch::{node_macs, InputMode};
use crate::plan::Schedule;
use crate::region::Rect;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

pub mod cortex_m7;

/// One step of a schedule: an operator over its output rectangle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Step {
    pub node: usize,
    /// The patch (`None`: the whole tensor, layer by layer).
    pub patch: Option<usize>,
    pub macs: u64,
    /// Output elements the step computes.
    pub elements: u64,
    /// The layout runs the operator in place over its input (a different
    /// kernel for DEPTHWISE_CONV_2D).
    pub in_place: bool,
}

/// The steps of `schedule`, in the interpreter's order.
pub fn steps(g: &Graph, schedule: Schedule, mode: InputMode) -> Result<Vec<Step>> {
    let (patches, layout) = crate::plan::layout(g, schedule, mode)?;
    let in_place = |i: usize| layout.inplace[i].is_some();
    let whole = |i: usize| {
        let out = &g.tensors[g.nodes[i].output()];
        let d = out.nhwc();
        let all = Rect::new(0, 0, d[1], d[2]);
        Step {
            node: i,
            patch: None,
            macs: node_macs(g, i, all),
            elements: out.elements() as u64,
            in_place: in_place(i),
        }
    };
    let mut out = Vec::new();
    let mut next = 0;
    for s in &patches {
        out.extend((next..s.first).map(whole));
        for p in 0..s.patches() {
            for i in s.ops() {
                let t = g.nodes[i].output();
                let (Some(r), Some(macs)) = (s.computed(p, t), s.patch_macs(g, p, i)) else { continue };
                let d = g.tensors[t].nhwc();
                out.push(Step {
                    node: i,
                    patch: Some(p),
                    macs,
                    elements: (d[0] * r.area() * d[3]) as u64,
                    in_place: in_place(i),
                });
            }
        }
        next = s.split + 1;
    }
    out.extend((next..g.nodes.len()).map(whole));
    Ok(out)
}

/// A step's operator class: its TFLite name, and for the convolutions the
/// kernel form the optimized kernels specialize ("1x1", "3x3", "kxk"; a
/// depthwise convolution in place over its input runs another kernel).
pub fn class(g: &Graph, step: &Step) -> (&'static str, &'static str) {
    let op = &g.nodes[step.node].op;
    let form = match op {
        // Dilated convolutions take the reference kernel.
        Op::Conv2d(c) if c.h.dilation != 1 || c.w.dilation != 1 => "dilated",
        Op::DepthwiseConv2d(c) if c.h.dilation != 1 || c.w.dilation != 1 => "dilated",
        Op::Conv2d(c) if c.h.kernel == 1 && c.w.kernel == 1 => "1x1",
        Op::Conv2d(_) => "kxk",
        Op::DepthwiseConv2d(c) => match (c.h.kernel == 3 && c.w.kernel == 3, step.in_place) {
            (true, false) => "3x3",
            (true, true) => "3x3 in place",
            (false, false) => "kxk",
            (false, true) => "kxk in place",
        },
        _ => "",
    };
    (op.name(), form)
}

/// Instructions per step of one operator class.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OpCost {
    pub op: &'static str,
    pub form: &'static str,
    pub per_step: f64,
    pub per_mac: f64,
    pub per_element: f64,
    /// Steps the fit saw (on the benchmark models).
    pub samples: u32,
}

impl OpCost {
    pub fn instructions(&self, s: &Step) -> f64 {
        self.per_step + self.per_mac * s.macs as f64 + self.per_element * s.elements as f64
    }
}

/// Measured instruction costs of one build (target, features, compiler).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CostModel {
    /// What was measured, e.g. "Cortex-M7 (thumbv7em, dsp), QEMU instruction counts".
    pub name: &'static str,
    /// The commit and command the table came from.
    pub source: &'static str,
    /// Instructions of an inference outside its steps (checks, set-up).
    pub per_inference: f64,
    pub ops: &'static [OpCost],
    /// For classes the benchmark models do not contain: every step pooled.
    pub fallback: OpCost,
}

impl CostModel {
    /// The cost of `class` (the fallback when it was not measured).
    pub fn cost(&self, class: (&str, &str)) -> (&OpCost, bool) {
        match self.ops.iter().find(|c| (c.op, c.form) == class) {
            Some(c) => (c, true),
            None => (&self.fallback, false),
        }
    }
}

/// An estimate of one schedule's instructions under a cost model.
#[derive(Clone, Debug, PartialEq)]
pub struct Estimate {
    pub instructions: f64,
    /// Per operator, over all its steps.
    pub per_node: Vec<f64>,
    /// Operator classes priced with the fallback (not measured), as
    /// "CONV_2D kxk" or "PAD".
    pub unmeasured: Vec<String>,
}

impl Estimate {
    /// Milliseconds at `clock_hz`, one instruction per cycle.
    pub fn millis(&self, clock_hz: u32) -> f64 {
        self.instructions / f64::from(clock_hz.max(1)) * 1e3
    }
}

/// Estimates `schedule`'s instructions per inference under `model`.
pub fn estimate(g: &Graph, schedule: Schedule, mode: InputMode, model: &CostModel) -> Result<Estimate> {
    let mut per_node = alloc::vec![0.0; g.nodes.len()];
    let mut unmeasured = Vec::new();
    for s in steps(g, schedule, mode)? {
        let class = class(g, &s);
        let (cost, measured) = model.cost(class);
        let name = || if class.1.is_empty() { class.0.to_string() } else { alloc::format!("{} {}", class.0, class.1) };
        if !measured && !unmeasured.contains(&name()) {
            unmeasured.push(name());
        }
        per_node[s.node] += cost.instructions(&s);
    }
    let instructions = model.per_inference + per_node.iter().sum::<f64>();
    Ok(Estimate { instructions, per_node, unmeasured })
}

/// The cost model of `board`'s firmware build: the Cortex-M7 table for
/// Armv7E-M boards (a Cortex-M4 runs the same instructions, at a different
/// cycles-per-instruction); `None` for Armv6-M, whose build is not measured.
pub fn for_board(board: &crate::boards::Board) -> Option<&'static CostModel> {
    board.has_dsp().then_some(&cortex_m7::CORTEX_M7)
}
