//! Lowering: a validated graph, its arena layout and (optionally) a patch
//! schedule → the owned tables of a [`Program`]. Each node is prepared once
//! by its op's module (multipliers, shifts, lookup tables) through
//! [`Prepare`]; constant data goes into pools that the program addresses by
//! [`Span`]. The host executors run `Lowered::program()`; the firmware
//! exporter prints the same tables as statics.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use crate::error::{Error, Result};
use crate::fixedpoint::QuantizedMultiplier;
use crate::graph::{ConstData, Graph, Node as GraphNode, Tensor as GraphTensor, TensorId};
use crate::halo::Cache;
use crate::layout::ArenaLayout;
use crate::patch::{InputMode, PatchSchedule};
use crate::program::{self, Consts, Node, Operand, PatchPlan, Program, Span, Stages, TensorIndex, MAX_OPERANDS};
use crate::region::Rect;

/// The constant pools being filled, with each graph constant placed once.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Pools {
    pub bytes: Vec<u8>,
    pub i32s: Vec<i32>,
    pub multipliers: Vec<QuantizedMultiplier>,
    pub f64s: Vec<f64>,
    /// Where each graph constant went (in `bytes` for int8, in `i32s` for int32).
    pub placed: BTreeMap<TensorId, Span>,
    /// Where constant data operands of other types went (their little-endian bytes).
    pub placed_raw: BTreeMap<TensorId, Span>,
}

impl Pools {
    /// Bytes the pools take as firmware constants: the int8 weights and the
    /// int32, requantization and float tables (what flash holds besides the
    /// code and the program's structural tables).
    pub fn flash_bytes(&self) -> usize {
        self.bytes.len()
            + 4 * self.i32s.len()
            + core::mem::size_of::<QuantizedMultiplier>() * self.multipliers.len()
            + 8 * self.f64s.len()
    }
}

fn span(start: usize, len: usize) -> Result<Span> {
    match (u32::try_from(start), u32::try_from(len)) {
        (Ok(start), Ok(len)) if start.checked_add(len).is_some() => Ok(Span { start, len }),
        _ => Err(Error::Program("the constant pools exceed 4 GiB")),
    }
}

fn push<T: Copy>(pool: &mut Vec<T>, items: impl IntoIterator<Item = T>) -> Result<Span> {
    let start = pool.len();
    pool.extend(items);
    span(start, pool.len() - start)
}

/// Constant forms a lowering prepares for the optimized kernels besides the
/// model's own: the host's and the browser's programs pack them, a board's
/// program does not (flash holds every constant twice otherwise, and the
/// DSP kernels read the model's layout).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Packing {
    /// CONV_2D filters in the blocks of [`crate::kernels::fast::packed`].
    pub conv: bool,
    /// ADD, SUB, SQUARED_DIFFERENCE and MUL as the 64 KiB table of every
    /// operand pair's result ([`crate::ops::binary::RescaledKernel`]).
    pub pairs: bool,
}

impl Packing {
    /// The model's constants only (boards: the firmware export, flash estimates).
    pub const NONE: Packing = Packing { conv: false, pairs: false };
    /// Everything the host's and the browser's kernels read faster packed.
    pub const HOST: Packing = Packing { conv: true, pairs: true };
}

/// What an op's `prepare` sees: node `op_index` of the graph, and the pools.
pub struct Prepare<'a> {
    pub g: &'a Graph,
    pub op_index: usize,
    pools: &'a mut Pools,
    pub packing: Packing,
}

impl<'a> Prepare<'a> {
    pub fn node(&self) -> &GraphNode {
        &self.g.nodes[self.op_index]
    }
    pub fn err(&self, what: &'static str) -> Error {
        Error::at_op(what, self.op_index)
    }
    /// Operand `k` (present: validation checked it).
    pub fn input(&self, k: usize) -> Result<TensorId> {
        self.node().input(k).ok_or(self.err("missing operand"))
    }
    pub fn output(&self) -> TensorId {
        self.node().output()
    }
    pub fn tensor(&self, t: TensorId) -> &GraphTensor {
        &self.g.tensors[t]
    }
    pub fn shape(&self, t: TensorId) -> [usize; 4] {
        self.g.tensors[t].nhwc()
    }
    /// Per-tensor scale and zero point of `t`.
    pub fn quant(&self, t: TensorId) -> Result<(f32, i32)> {
        self.g.tensors[t].quant.per_tensor().ok_or(Error::Quantization { tensor: t, what: "needs a per-tensor scale" })
    }
    /// The int8 constant at operand `k`, placed in the byte pool.
    pub fn weights(&mut self, k: usize) -> Result<Span> {
        let t = self.input(k)?;
        self.pools.const_i8(self.g, t)?.ok_or(Error::UnsupportedType {
            op_index: self.op_index,
            tensor: t,
            what: "weights must be constant int8",
        })
    }
    /// The int32 constant at operand `k` if the operand is present (a bias).
    pub fn bias(&mut self, k: usize) -> Result<Option<Span>> {
        let Some(t) = self.node().input(k) else { return Ok(None) };
        let Some(ConstData::I32(v)) = &self.g.tensors[t].data else {
            return Err(Error::UnsupportedType {
                op_index: self.op_index,
                tensor: t,
                what: "bias must be constant int32",
            });
        };
        if let Some(s) = self.pools.placed.get(&t) {
            return Ok(Some(*s));
        }
        let s = push(&mut self.pools.i32s, v.iter().copied())?;
        self.pools.placed.insert(t, s);
        Ok(Some(s))
    }
    /// The values of the int8 constant at operand `k` (weights the op's validation checked).
    pub fn weight_data(&self, k: usize) -> Result<&'a [i8]> {
        let t = self.input(k)?;
        match &self.g.tensors[t].data {
            Some(ConstData::I8(v)) => Ok(v),
            _ => Err(Error::UnsupportedType {
                op_index: self.op_index,
                tensor: t,
                what: "weights must be constant int8",
            }),
        }
    }
    /// The values of the int32 constant at operand `k` if the operand is present (a bias).
    pub fn bias_data(&self, k: usize) -> Result<Option<&'a [i32]>> {
        let Some(t) = self.node().input(k) else { return Ok(None) };
        match &self.g.tensors[t].data {
            Some(ConstData::I32(v)) => Ok(Some(v)),
            _ => {
                Err(Error::UnsupportedType { op_index: self.op_index, tensor: t, what: "bias must be constant int32" })
            }
        }
    }
    /// The pools so far, as the program will read them (a prepare that
    /// derives one constant from others it placed).
    pub fn consts(&self) -> Consts<'_> {
        let p = &self.pools;
        Consts { bytes: &p.bytes, i32s: &p.i32s, multipliers: &p.multipliers, f64s: &p.f64s }
    }
    /// Prepared int32 constants (folded biases, kept requantization words).
    pub fn i32s(&mut self, v: impl IntoIterator<Item = i32>) -> Result<Span> {
        push(&mut self.pools.i32s, v)
    }
    pub fn multipliers(&mut self, m: impl IntoIterator<Item = QuantizedMultiplier>) -> Result<Span> {
        push(&mut self.pools.multipliers, m)
    }
    pub fn f64s(&mut self, v: impl IntoIterator<Item = f64>) -> Result<Span> {
        push(&mut self.pools.f64s, v)
    }
    /// Prepared bytes (a lookup table).
    pub fn bytes(&mut self, b: &[u8]) -> Result<Span> {
        push(&mut self.pools.bytes, b.iter().copied())
    }
    /// Prepared int8 constants (a packed filter).
    pub fn i8s(&mut self, v: impl IntoIterator<Item = i8>) -> Result<Span> {
        push(&mut self.pools.bytes, v.into_iter().map(|x| x as u8))
    }
}

impl Pools {
    /// Places constant data operand `t` (once) as its stored bytes; `None` if `t` is not a constant.
    fn const_data(&mut self, g: &Graph, t: TensorId) -> Result<Option<Span>> {
        let Some(data) = &g.tensors[t].data else { return Ok(None) };
        if let ConstData::I8(_) = data {
            return self.const_i8(g, t);
        }
        if let Some(s) = self.placed_raw.get(&t) {
            return Ok(Some(*s));
        }
        let start = self.bytes.len();
        match data {
            ConstData::I8(_) => {}
            ConstData::U8(v) => self.bytes.extend_from_slice(v),
            ConstData::I16(v) => self.bytes.extend(v.iter().flat_map(|x| x.to_le_bytes())),
            ConstData::I32(v) => self.bytes.extend(v.iter().flat_map(|x| x.to_le_bytes())),
            ConstData::F32(v) => self.bytes.extend(v.iter().flat_map(|x| x.to_le_bytes())),
            ConstData::I64(v) => self.bytes.extend(v.iter().flat_map(|x| x.to_le_bytes())),
        }
        let s = span(start, self.bytes.len() - start)?;
        self.placed_raw.insert(t, s);
        Ok(Some(s))
    }

    /// Places int8 constant `t` (once) and returns its span; `None` if `t` is not one.
    fn const_i8(&mut self, g: &Graph, t: TensorId) -> Result<Option<Span>> {
        let Some(ConstData::I8(v)) = &g.tensors[t].data else { return Ok(None) };
        if let Some(s) = self.placed.get(&t) {
            return Ok(Some(*s));
        }
        let s = push(&mut self.bytes, v.iter().map(|&x| x as u8))?;
        self.placed.insert(t, s);
        Ok(Some(s))
    }
}

/// A lowered graph: the owned tables of a [`Program`].
#[derive(Clone, Debug, PartialEq)]
pub struct Lowered {
    pub tensors: Vec<program::Tensor>,
    /// The graph tensor behind each program tensor.
    pub tensor_ids: Vec<TensorId>,
    /// Graph tensor → program tensor.
    pub index: Vec<Option<TensorIndex>>,
    pub nodes: Vec<Node>,
    pub operands: Vec<Operand>,
    pub pools: Pools,
    pub inputs: Vec<TensorIndex>,
    pub outputs: Vec<TensorIndex>,
    pub arena_size: usize,
    /// The patch stages, in operator order (none: layer by layer), with
    /// spans into the three tables after.
    pub stages: Vec<PatchPlan>,
    pub stage_rects: Vec<Option<Rect>>,
    pub stage_kept: Vec<TensorIndex>,
    pub stage_caches: Vec<Cache>,
    /// Per stage, the graph tensor of each of its columns.
    pub stage_columns: Vec<Vec<TensorId>>,
}

/// Lowers `g` with `layout` for a board ([`Packing::NONE`]); `stages` are
/// the patch stages the layout was built for (none: layer by layer).
pub fn lower(g: &Graph, layout: &ArenaLayout, stages: &[PatchSchedule], mode: InputMode) -> Result<Lowered> {
    lower_packed(g, layout, stages, mode, Packing::NONE)
}

/// [`lower`], preparing the constant forms `packing` asks for.
pub fn lower_packed(
    g: &Graph,
    layout: &ArenaLayout,
    stages: &[PatchSchedule],
    mode: InputMode,
    packing: Packing,
) -> Result<Lowered> {
    crate::patch::check_stages(stages, mode)?;
    let mut index = alloc::vec![None; g.tensors.len()];
    // A tensor's column in the rectangles of the one stage that computes it
    // (or streams it in); tensors a stage reads whole need none.
    let mut column_of = alloc::vec![None; g.tensors.len()];
    let mut stage_columns = Vec::with_capacity(stages.len());
    for s in stages {
        let mut columns = Vec::new();
        for (t, col) in column_of.iter_mut().enumerate() {
            let read_whole = s.inputs.contains(&t) && s.holds_whole(t, mode);
            if !read_whole && s.rects.iter().any(|r| r[t].is_some()) {
                if col.is_some() {
                    return Err(Error::at_tensor("two patch stages compute one tensor", t));
                }
                *col =
                    Some(u16::try_from(columns.len()).map_err(|_| Error::Program("more than 65,535 stage tensors"))?);
                columns.push(t);
            }
        }
        stage_columns.push(columns);
    }
    let (mut tensors, mut tensor_ids) = (Vec::new(), Vec::new());
    for (t, b) in layout.buffer_of.iter().enumerate() {
        let Some(b) = *b else { continue };
        let i = TensorIndex::try_from(tensors.len()).map_err(|_| Error::Program("more than 65,535 arena tensors"))?;
        index[t] = Some(i);
        let tensor = &g.tensors[t];
        tensors.push(program::Tensor {
            shape: tensor.nhwc(),
            elem: tensor.dtype.size(),
            bytes: tensor.bytes(),
            offset: layout.plan.offsets[b],
            buffer: layout.buffers[b].size,
            stage: column_of[t],
        });
        tensor_ids.push(t);
    }
    let idx = |t: TensorId| index[t].ok_or(Error::at_tensor("tensor has no arena buffer", t));
    let mut pools = Pools::default();
    let mut nodes = Vec::with_capacity(g.nodes.len());
    let mut operands = Vec::new();
    for (i, node) in g.nodes.iter().enumerate() {
        let first = operands.len();
        for t in node.inputs.iter().take(node.op.data_operands(node.inputs.len())) {
            let t = t.ok_or(Error::at_op("a data operand is omitted", i))?;
            operands.push(match pools.const_data(g, t)? {
                Some(data) => Operand::Const { data, shape: g.tensors[t].nhwc() },
                None => Operand::Tensor(idx(t)?),
            });
        }
        let n = operands.len() - first;
        if n == 0 || n > MAX_OPERANDS {
            return Err(Error::at_op("an operator needs 1 to 8 data operands", i));
        }
        let kernel = node.op.prepare(&mut Prepare { g, op_index: i, pools: &mut pools, packing })?;
        let inplace = layout.inplace[i].map(|ip| {
            let r = layout.buffer(ip.scratch);
            program::InPlace { kind: ip.kind, operand: ip.operand, scratch: (r.start, r.end - r.start) }
        });
        nodes.push(Node { kernel, inputs: span(first, n)?, output: idx(node.output())?, inplace });
    }
    let (mut plans, mut stage_rects, mut stage_kept, mut stage_caches) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (s, columns) in stages.iter().zip(&stage_columns) {
        let whole_inputs = s.inputs.iter().filter(|&&t| s.holds_whole(t, mode));
        let rects = push(&mut stage_rects, s.rects.iter().flat_map(|r| columns.iter().map(move |&t| r[t])))?;
        let kept: Vec<TensorIndex> = s.kept.iter().chain(whole_inputs).map(|&t| idx(t)).collect::<Result<_>>()?;
        let kept = push(&mut stage_kept, kept)?;
        let caches = push(&mut stage_caches, caches(g, s, mode, layout, &idx)?)?;
        plans.push(PatchPlan {
            first: s.first,
            split: s.split,
            patches: s.patches(),
            input: idx(s.input)?,
            output: idx(s.output)?,
            streamed: s.streams(s.input, mode),
            columns: columns.len(),
            rects,
            kept,
            grid_cols: s.grid.1,
            caches,
        });
    }
    Ok(Lowered {
        inputs: g.inputs.iter().map(|&t| idx(t)).collect::<Result<_>>()?,
        outputs: g.outputs.iter().map(|&t| idx(t)).collect::<Result<_>>()?,
        tensors,
        tensor_ids,
        index,
        nodes,
        operands,
        pools,
        arena_size: layout.arena_size(),
        stages: plans,
        stage_rects,
        stage_kept,
        stage_caches,
        stage_columns,
    })
}

/// The program's cache table: every cached tensor, with the offsets of its
/// caches where `layout` placed them (none for a tensor held whole).
fn caches(
    g: &Graph,
    s: &PatchSchedule,
    mode: InputMode,
    layout: &ArenaLayout,
    idx: &dyn Fn(TensorId) -> Result<TensorIndex>,
) -> Result<Vec<Cache>> {
    let dims = crate::patch::cache_dims(g, s, mode);
    let mut out = Vec::new();
    for t in (0..g.tensors.len()).filter(|&t| s.is_cached(t)) {
        let mut c = match dims.iter().find(|(d, _)| *d == t) {
            Some(&(_, c)) => {
                let &(_, rows, cols) = layout
                    .caches
                    .iter()
                    .find(|(d, _, _)| *d == t)
                    .ok_or(Error::at_tensor("a cached tensor has no cache buffers in the layout", t))?;
                Cache { rows_at: layout.plan.offsets[rows], cols_at: layout.plan.offsets[cols], ..c }
            }
            None => Cache::default(),
        };
        c.tensor = idx(t)?;
        out.push(c);
    }
    Ok(out)
}

impl Lowered {
    /// The program these tables describe (borrows them; no allocation).
    pub fn program(&self) -> Program<'_> {
        Program {
            tensors: &self.tensors,
            nodes: &self.nodes,
            operands: &self.operands,
            consts: Consts {
                bytes: &self.pools.bytes,
                i32s: &self.pools.i32s,
                multipliers: &self.pools.multipliers,
                f64s: &self.pools.f64s,
            },
            inputs: &self.inputs,
            outputs: &self.outputs,
            arena_size: self.arena_size,
            stages: Stages {
                plans: &self.stages,
                rects: &self.stage_rects,
                kept: &self.stage_kept,
                caches: &self.stage_caches,
            },
        }
    }
}
