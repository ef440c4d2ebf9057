//! Lowering: a graph, its prepared steps, arena layout and patch schedule →
//! the tables of `patchwise_core::static_exec` (borrowed from the graph and
//! the steps), which the emitter prints as Rust statics and the host can run
//! directly to check them.

use patchwise_core::exec::{self, Step};
use patchwise_core::graph::{ConstData, Graph, TensorId};
use patchwise_core::layout::{ArenaLayout, InPlaceKind};
use patchwise_core::op::Op;
use patchwise_core::patch::{InputMode, PatchSchedule};
use patchwise_core::plan::{self, Schedule};
use patchwise_core::region::Rect;
use patchwise_core::static_exec::{self as sx, Kernel, Model, Node, Operand, PatchPlan, TensorIndex};
use patchwise_core::validate::pad4;

use crate::ExportError;

/// A graph lowered for one schedule: everything the static tables hold, in owned form.
pub struct Lowered<'g> {
    pub graph: &'g Graph,
    pub schedule: Schedule,
    /// The input mode in effect (`InArena` without a patch stage).
    pub mode: InputMode,
    pub steps: Vec<Step>,
    pub layout: ArenaLayout,
    pub patch: Option<PatchSchedule>,
    /// Static tensor table, and the graph tensor behind each entry.
    pub tensors: Vec<sx::Tensor>,
    pub tensor_ids: Vec<TensorId>,
    /// Graph tensor → static index.
    pub index: Vec<Option<TensorIndex>>,
    /// Patch-stage columns: the graph tensor of each, and `patches × columns` rectangles.
    pub columns: Vec<TensorId>,
    pub rects: Vec<Option<Rect>>,
    /// Data operands of each node, as (graph tensor, operand).
    operands: Vec<Vec<TensorId>>,
}

/// The int8 constant data of `t`, if it is one.
pub fn const_i8(g: &Graph, t: TensorId) -> Option<&[u8]> {
    match &g.tensors[t].data {
        Some(ConstData::I8(v)) => Some(bytemuck::cast_slice(v)),
        _ => None,
    }
}

/// The int32 constant data of `t` (biases), if it is one.
pub fn const_i32(g: &Graph, t: Option<TensorId>) -> Option<&[i32]> {
    match t.and_then(|t| g.tensors[t].data.as_ref()) {
        Some(ConstData::I32(v)) => Some(v),
        _ => None,
    }
}

impl<'g> Lowered<'g> {
    pub fn new(g: &'g Graph, schedule: Schedule, mode: InputMode) -> Result<Self, ExportError> {
        let steps = exec::prepare_all(g)?;
        let (patch, layout) = plan::layout(g, schedule, mode)?;
        let mode = if patch.is_some() { mode } else { InputMode::InArena };
        let mut index = vec![None; g.tensors.len()];
        let (mut tensors, mut tensor_ids) = (Vec::new(), Vec::new());
        let mut columns = Vec::new();
        let mut column_of = vec![None; g.tensors.len()];
        if let Some(p) = &patch {
            for (t, col) in column_of.iter_mut().enumerate() {
                if (0..p.patches()).any(|k| p.rects[k][t].is_some()) {
                    *col = Some(columns.len() as u16);
                    columns.push(t);
                }
            }
        }
        for (t, b) in layout.buffer_of.iter().enumerate() {
            let Some(b) = *b else { continue };
            if tensors.len() >= TensorIndex::MAX as usize {
                return Err(ExportError::Unsupported("more than 65,534 activation tensors".into()));
            }
            let tensor = &g.tensors[t];
            index[t] = Some(tensors.len() as TensorIndex);
            tensors.push(sx::Tensor {
                shape: pad4(&tensor.shape),
                elem: tensor.dtype.size(),
                bytes: tensor.bytes(),
                offset: layout.plan.offsets[b],
                buffer: layout.buffers[b].size,
                stage: column_of[t],
            });
            tensor_ids.push(t);
        }
        let rects = match &patch {
            Some(p) => (0..p.patches()).flat_map(|k| columns.iter().map(move |&t| p.rects[k][t])).collect(),
            None => Vec::new(),
        };
        let mut operands = Vec::with_capacity(g.nodes.len());
        for (i, node) in g.nodes.iter().enumerate() {
            let n = node.op.data_operands(node.inputs.len());
            let mut ops = Vec::new();
            for t in node.inputs.iter().take(n) {
                let t =
                    t.ok_or_else(|| ExportError::Unsupported(format!("operator {i}: a data operand is omitted")))?;
                if const_i8(g, t).is_none() && index[t].is_none() {
                    return Err(ExportError::Unsupported(format!(
                        "operator {i}: operand tensor {t} is neither an int8 constant nor in the arena"
                    )));
                }
                ops.push(t);
            }
            if ops.is_empty() || ops.len() > 8 {
                return Err(ExportError::Unsupported(format!("operator {i}: needs 1 to 8 data operands")));
            }
            if index[node.output()].is_none() {
                return Err(ExportError::Unsupported(format!("operator {i}: its output has no arena buffer")));
            }
            operands.push(ops);
        }
        for &t in g.inputs.iter().chain(&g.outputs) {
            if index[t].is_none() {
                return Err(ExportError::Unsupported(format!("graph input/output tensor {t} has no arena buffer")));
            }
        }
        let lowered = Self {
            graph: g,
            schedule,
            mode,
            steps,
            layout,
            patch,
            tensors,
            tensor_ids,
            index,
            columns,
            rects,
            operands,
        };
        for i in 0..g.nodes.len() {
            lowered.kernel(i)?;
        }
        Ok(lowered)
    }

    pub fn arena_size(&self) -> usize {
        self.layout.arena_size()
    }

    /// Static index of graph tensor `t` (present for every tensor a node touches: checked in `new`).
    pub fn idx(&self, t: TensorId) -> TensorIndex {
        self.index[t].expect("checked when lowering")
    }

    /// Data operands of node `i` as graph tensors.
    pub fn operand_tensors(&self, i: usize) -> &[TensorId] {
        &self.operands[i]
    }

    pub fn operand(&self, t: TensorId) -> Operand<'_> {
        match const_i8(self.graph, t) {
            Some(data) => Operand::Const { data, shape: pad4(&self.graph.tensors[t].shape) },
            None => Operand::Tensor(self.idx(t)),
        }
    }

    /// The kernel of node `i` (its prepared step with its constant operands).
    pub fn kernel(&self, i: usize) -> Result<Kernel<'_>, ExportError> {
        let g = self.graph;
        let node = &g.nodes[i];
        let filter = || node.input(1).and_then(|t| const_i8(g, t)).unwrap_or(&[]);
        let bias = || const_i32(g, node.input(2));
        let bad = |what: &str| ExportError::Unsupported(format!("operator {i} ({}): {what}", node.op.name()));
        Ok(match &self.steps[i] {
            Step::Conv { geom, input_offset, output_offset, act, multipliers } => Kernel::Conv {
                geom: *geom,
                input_offset: *input_offset,
                output_offset: *output_offset,
                act: *act,
                multipliers,
                filter: filter(),
                bias: bias(),
            },
            Step::Depthwise { geom, multiplier, input_offset, output_offset, act, multipliers } => Kernel::Depthwise {
                geom: *geom,
                multiplier: *multiplier,
                input_offset: *input_offset,
                output_offset: *output_offset,
                act: *act,
                multipliers,
                filter: filter(),
                bias: bias(),
            },
            Step::FullyConnected { input_offset, filter_offset, output_offset, act, scales, depth, units } => {
                Kernel::FullyConnected {
                    input_offset: *input_offset,
                    filter_offset: *filter_offset,
                    output_offset: *output_offset,
                    act: *act,
                    scales,
                    depth: *depth,
                    units: *units,
                    filter: filter(),
                    bias: bias(),
                }
            }
            Step::Add(p) => Kernel::Add(*p),
            Step::Pad { value } => {
                let Op::Pad(p) = &node.op else { return Err(bad("PAD step on another operator")) };
                Kernel::Pad { value: *value, paddings: p.paddings }
            }
            Step::Pool { kind, geom, act } => Kernel::Pool { kind: *kind, geom: *geom, act: *act },
            Step::Mean(params) => {
                let Op::Mean(m) = &node.op else { return Err(bad("MEAN step on another operator")) };
                let rank = node.input(0).map_or(0, |t| g.tensors[t].shape.len());
                let shift = 4usize.checked_sub(rank).ok_or_else(|| bad("input rank above 4"))?;
                Kernel::Mean { params: *params, axes: (m.axes as u32) << shift }
            }
            Step::Copy => Kernel::Copy,
            Step::Concat => {
                let Op::Concatenation(c) = &node.op else { return Err(bad("CONCATENATION step on another operator")) };
                if c.axis == 3 {
                    Kernel::ConcatChannels
                } else {
                    let s = pad4(&g.tensors[node.output()].shape);
                    Kernel::Concat { outer: s[..c.axis.min(4)].iter().product() }
                }
            }
            Step::Softmax(params) => {
                Kernel::Softmax { params: *params, depth: *g.tensors[node.output()].shape.last().unwrap_or(&1) }
            }
            Step::QuantizeF32 { scale, zero_point } => Kernel::QuantizeF32 { scale: *scale, zero_point: *zero_point },
            Step::Requantize(r) => Kernel::Requantize(*r),
            Step::Dequantize { scale, zero_point } => Kernel::Dequantize { scale: *scale, zero_point: *zero_point },
            Step::Relu(p) => Kernel::Relu(*p),
            Step::Logistic(l) => Kernel::Logistic(*l),
            Step::HardSwish(p) => Kernel::HardSwish(*p),
            Step::Resize(p) => Kernel::Resize(*p),
        })
    }

    /// The in-place run of node `i`, if the layout plans one.
    pub fn inplace(&self, i: usize) -> Option<sx::InPlace> {
        self.layout.inplace[i].map(|ip| {
            let r = self.layout.buffer(ip.scratch);
            sx::InPlace {
                kind: match ip.kind {
                    InPlaceKind::Channels => sx::InPlaceKind::Channels,
                    InPlaceKind::Rows { delay } => sx::InPlaceKind::Rows { delay },
                },
                operand: ip.operand,
                scratch: (r.start, r.end - r.start),
            }
        })
    }

    /// Data operands of every node (what `Node::inputs` borrows).
    pub fn operand_lists(&self) -> Vec<Vec<Operand<'_>>> {
        self.operands.iter().map(|ops| ops.iter().map(|&t| self.operand(t)).collect()).collect()
    }

    /// Nodes borrowing `operands` (from [`Self::operand_lists`]).
    pub fn nodes<'a>(&'a self, operands: &'a [Vec<Operand<'a>>]) -> Vec<Node<'a>> {
        (0..self.graph.nodes.len())
            .map(|i| Node {
                kernel: self.kernel(i).expect("checked when lowering"),
                inputs: &operands[i],
                output: self.idx(self.graph.nodes[i].output()),
                inplace: self.inplace(i),
            })
            .collect()
    }

    pub fn inputs(&self) -> Vec<TensorIndex> {
        self.graph.inputs.iter().map(|&t| self.idx(t)).collect()
    }

    pub fn outputs(&self) -> Vec<TensorIndex> {
        self.graph.outputs.iter().map(|&t| self.idx(t)).collect()
    }

    pub fn patch_plan(&self) -> Option<PatchPlan<'_>> {
        self.patch.as_ref().map(|p| PatchPlan {
            split: p.split,
            patches: p.patches(),
            input: self.idx(p.input),
            output: self.idx(p.output),
            streamed: self.mode == InputMode::Streamed,
            columns: self.columns.len(),
            rects: &self.rects,
        })
    }

    /// Runs `f` with the static model these tables describe.
    pub fn with_model<R>(&self, f: impl FnOnce(&Model) -> R) -> R {
        let operands = self.operand_lists();
        let nodes = self.nodes(&operands);
        let (inputs, outputs) = (self.inputs(), self.outputs());
        let model = Model {
            tensors: &self.tensors,
            nodes: &nodes,
            inputs: &inputs,
            outputs: &outputs,
            arena_size: self.arena_size(),
            patch: self.patch_plan(),
        };
        f(&model)
    }

    /// Bytes of each graph input, in order.
    pub fn input_sizes(&self) -> Vec<usize> {
        self.graph.inputs.iter().map(|&t| self.graph.tensors[t].bytes()).collect()
    }
}

/// What a host run of the static tables gives: the outputs and the arena high-water mark.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaticRun {
    pub outputs: Vec<Vec<u8>>,
    pub arena_hwm: usize,
}

/// Runs the static tables on the host exactly as the firmware does (two
/// painted runs, the larger high-water mark).
pub fn run_static(l: &Lowered, input: &[u8]) -> Result<StaticRun, ExportError> {
    let sizes = l.input_sizes();
    if input.len() != sizes.iter().sum::<usize>() {
        return Err(ExportError::Input(format!(
            "input has {} bytes, the model's inputs take {}",
            input.len(),
            sizes.iter().sum::<usize>()
        )));
    }
    l.with_model(|m| {
        let mut arena = vec![0u8; m.arena_size];
        let mut hwm = 0;
        let mut outputs = Vec::new();
        for byte in [0xAA, 0x55] {
            sx::paint(&mut arena, byte);
            let mut at = 0;
            let mut streamed = None;
            for (i, &n) in sizes.iter().enumerate() {
                let src = &input[at..at + n];
                at += n;
                if m.is_streamed(i) {
                    streamed = Some(src);
                } else {
                    m.input_mut(&mut arena, i)?.copy_from_slice(src);
                }
            }
            m.run(&mut arena, streamed)?;
            hwm = hwm.max(sx::high_water_mark(&arena, byte));
            outputs =
                (0..m.outputs.len()).map(|i| m.output(&arena, i).map(<[u8]>::to_vec)).collect::<Result<_, _>>()?;
        }
        Ok(StaticRun { outputs, arena_hwm: hwm })
    })
}
