//! No-alloc execution of a model described by static tables: what exported
//! firmware runs. `patchwise-firmware-export` lowers a graph, its prepared
//! steps ([`crate::exec::prepare`]), its arena layout and its patch schedule
//! into the tables below and emits them as `static` data.
//!
//! [`Model::run`] replays `exec::Executor::run` and `patch::PatchExecutor::run`
//! operation for operation: the same kernels on the same arena byte ranges
//! and windows in the same order, so the outputs are byte-identical and the
//! measured arena high-water mark is the planned arena size. It needs no
//! `Graph` and never allocates.

use core::ops::Range;

use crate::arena::{as_i8, as_i8_mut, piece, rows, split_two, Io, Io2};
pub use crate::arena::{high_water_mark, paint};
use crate::error::{Error, Result};
use crate::fixedpoint::QuantizedMultiplier;
use crate::kernels;
use crate::kernels::activation::{HardSwishParams, Lut, ReluParams};
use crate::kernels::add::AddParams;
use crate::kernels::conv::{Geometry, OutputStage};
use crate::kernels::fully_connected::FcStage;
use crate::kernels::mean::MeanParams;
use crate::kernels::pool::PoolKind;
use crate::kernels::quantize::Requantize;
use crate::kernels::resize::ResizeParams;
use crate::kernels::softmax::SoftmaxParams;
use crate::region::{Rect, Window};

/// Index of a tensor in [`Model::tensors`].
pub type TensorIndex = u16;

/// An activation tensor and its arena buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tensor {
    /// NHWC shape (lower ranks right-aligned, as `validate::pad4`).
    pub shape: [usize; 4],
    /// Bytes per element.
    pub elem: usize,
    /// Bytes of the whole tensor.
    pub bytes: usize,
    /// Start of its buffer in the arena.
    pub offset: usize,
    /// Bytes of its buffer (for patch-stage tensors: the largest patch window).
    pub buffer: usize,
    /// Its column in [`PatchPlan::rects`] (`None` outside the patch stage).
    pub stage: Option<u16>,
}

impl Tensor {
    /// The window covering the whole tensor.
    pub const fn full(&self) -> Window {
        Window::full(self.shape[0], self.shape[1], self.shape[2], self.shape[3])
    }
    /// The tensor's bytes in the arena (`ArenaLayout::range`).
    pub fn range(&self) -> Range<usize> {
        self.offset..self.offset + if self.bytes < self.buffer { self.bytes } else { self.buffer }
    }
    /// Its whole buffer (`ArenaLayout::buffer_range`).
    pub const fn buffer_range(&self) -> Range<usize> {
        self.offset..self.offset + self.buffer
    }
}

/// A data operand: an arena tensor or int8 constant data in flash.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Operand<'a> {
    Tensor(TensorIndex),
    Const { data: &'a [u8], shape: [usize; 4] },
}

/// A prepared operator with its constant operands (the no-alloc form of `exec::Step`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kernel<'a> {
    Conv {
        geom: Geometry,
        input_offset: i32,
        output_offset: i32,
        act: (i32, i32),
        multipliers: &'a [QuantizedMultiplier],
        /// int8 weights `[out_c, kh, kw, in_c]`.
        filter: &'a [u8],
        bias: Option<&'a [i32]>,
    },
    Depthwise {
        geom: Geometry,
        multiplier: usize,
        input_offset: i32,
        output_offset: i32,
        act: (i32, i32),
        multipliers: &'a [QuantizedMultiplier],
        filter: &'a [u8],
        bias: Option<&'a [i32]>,
    },
    FullyConnected {
        input_offset: i32,
        filter_offset: i32,
        output_offset: i32,
        act: (i32, i32),
        scales: &'a [f64],
        depth: usize,
        units: usize,
        filter: &'a [u8],
        bias: Option<&'a [i32]>,
    },
    Add(AddParams),
    Pad {
        value: i8,
        paddings: [[usize; 2]; 4],
    },
    Pool {
        kind: PoolKind,
        geom: Geometry,
        act: (i32, i32),
    },
    /// `axes`: bit mask over the four NHWC dimensions.
    Mean {
        params: MeanParams,
        axes: u32,
    },
    Copy,
    /// CONCATENATION along channels (pixels stay where they are).
    ConcatChannels,
    /// CONCATENATION along another axis: `outer` blocks per operand.
    Concat {
        outer: usize,
    },
    /// `depth`: values per softmax row.
    Softmax {
        params: SoftmaxParams,
        depth: usize,
    },
    QuantizeF32 {
        scale: f32,
        zero_point: i32,
    },
    Requantize(Requantize),
    Dequantize {
        scale: f32,
        zero_point: i32,
    },
    Relu(ReluParams),
    Logistic(Lut),
    HardSwish(HardSwishParams),
    Resize(ResizeParams),
}

/// How an operator runs over its own input (`layout::InPlaceKind`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InPlaceKind {
    Channels,
    Rows { delay: usize },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InPlace {
    pub kind: InPlaceKind,
    /// The data operand whose bytes the output overwrites.
    pub operand: usize,
    /// Arena offset and bytes of the scratch buffer.
    pub scratch: (usize, usize),
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Node<'a> {
    pub kernel: Kernel<'a>,
    /// Data operands, in the operator's order.
    pub inputs: &'a [Operand<'a>],
    pub output: TensorIndex,
    pub inplace: Option<InPlace>,
}

/// A patch stage (ops `0..=split`) run over `patches` cells.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PatchPlan<'a> {
    pub split: usize,
    pub patches: usize,
    pub input: TensorIndex,
    pub output: TensorIndex,
    /// The input is read patch by patch from the buffer passed to `run`.
    pub streamed: bool,
    /// Stage tensors (columns of `rects`).
    pub columns: usize,
    /// `rects[p * columns + column]`: the rectangle patch `p` computes (reads, for the input).
    pub rects: &'a [Option<Rect>],
}

impl PatchPlan<'_> {
    fn rect(&self, p: usize, t: &Tensor) -> Option<Rect> {
        t.stage.and_then(|c| self.rects.get(p * self.columns + c as usize).copied().flatten())
    }
}

/// A model as static tables.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Model<'a> {
    pub tensors: &'a [Tensor],
    pub nodes: &'a [Node<'a>],
    pub inputs: &'a [TensorIndex],
    pub outputs: &'a [TensorIndex],
    pub arena_size: usize,
    pub patch: Option<PatchPlan<'a>>,
}

type Place = (Range<usize>, Window);

/// A data operand as a kernel sees it.
#[derive(Clone, Copy)]
struct In<'d> {
    data: &'d [u8],
    win: Window,
    shape: [usize; 4],
    elem: usize,
}

impl<'a> Model<'a> {
    fn tensor(&self, t: TensorIndex) -> Result<&Tensor> {
        self.tensors.get(t as usize).ok_or(Error::at_tensor("tensor index out of range", t as usize))
    }

    /// Whether graph input `i` is streamed (passed to `run`) rather than stored in the arena.
    pub fn is_streamed(&self, i: usize) -> bool {
        matches!(self.patch, Some(p) if p.streamed && self.inputs.get(i) == Some(&p.input))
    }

    /// The arena bytes of graph input `i`, to fill before `run`.
    pub fn input_mut<'b>(&self, arena: &'b mut [u8], i: usize) -> Result<&'b mut [u8]> {
        if self.is_streamed(i) {
            return Err(Error::Schedule("a streamed input is passed to run, not stored in the arena"));
        }
        let t = self.tensor(*self.inputs.get(i).ok_or(Error::model("no such input"))?)?;
        let got = arena.len();
        arena.get_mut(t.range()).ok_or(Error::ArenaTooSmall { needed: self.arena_size, got })
    }

    /// The arena bytes of graph output `i` after `run`.
    pub fn output<'b>(&self, arena: &'b [u8], i: usize) -> Result<&'b [u8]> {
        let t = self.tensor(*self.outputs.get(i).ok_or(Error::model("no such output"))?)?;
        let got = arena.len();
        arena.get(t.range()).ok_or(Error::ArenaTooSmall { needed: self.arena_size, got })
    }

    /// Runs the model. `streamed` is the whole input when the patch stage
    /// streams it (read patch by patch, never copied whole into the arena).
    pub fn run(&self, arena: &mut [u8], streamed: Option<&[u8]>) -> Result<()> {
        if arena.len() < self.arena_size {
            return Err(Error::ArenaTooSmall { needed: self.arena_size, got: arena.len() });
        }
        let Some(plan) = &self.patch else {
            return self.run_layers(arena, 0..self.nodes.len());
        };
        for p in 0..plan.patches {
            if plan.streamed {
                let src = streamed.ok_or(Error::Schedule("streamed mode needs the input passed to run"))?;
                self.copy_input_patch(plan, p, src, arena)?;
            }
            for i in 0..=plan.split {
                let node = self.nodes.get(i).ok_or(Error::Schedule("split index is past the last operator"))?;
                let Some(region) = plan.rect(p, self.tensor(node.output)?) else { continue };
                let out_place = self.place(plan, p, node.output)?;
                self.run_node(i, arena, out_place, region, &|t| self.place(plan, p, t))?;
            }
        }
        self.run_layers(arena, plan.split + 1..self.nodes.len())
    }

    /// Where tensor `t` lives during patch `p` (`PatchExecutor::place`).
    fn place(&self, plan: &PatchPlan, p: usize, t: TensorIndex) -> Result<Place> {
        let tensor = self.tensor(t)?;
        let whole = t == plan.output || (t == plan.input && !plan.streamed);
        let start = tensor.offset;
        if whole {
            return Ok((start..start + tensor.bytes, tensor.full()));
        }
        let r = plan.rect(p, tensor).ok_or(Error::Schedule("a patch reads a tensor it does not compute"))?;
        let w = Window::new(tensor.shape[0], r, tensor.shape[3]);
        Ok((start..start + w.len() * tensor.elem, w))
    }

    /// Copies the input rows patch `p` reads from the whole streamed input.
    fn copy_input_patch(&self, plan: &PatchPlan, p: usize, src: &[u8], arena: &mut [u8]) -> Result<()> {
        let t = self.tensor(plan.input)?;
        let full = t.full();
        let size = t.elem;
        if src.len() != full.len() * size {
            return Err(Error::BufferSize { what: "streamed input", expected: full.len() * size, got: src.len() });
        }
        let (range, w) = self.place(plan, p, plan.input)?;
        let got = arena.len();
        let dst = arena.get_mut(range).ok_or(Error::ArenaTooSmall { needed: self.arena_size, got })?;
        let row = w.rect.w * w.c * size;
        for b in 0..w.n {
            for y in w.rect.y..w.rect.y_end() {
                let from = full.offset(b, y, w.rect.x) * size;
                let to = w.offset(b, y, w.rect.x) * size;
                dst[to..to + row].copy_from_slice(&src[from..from + row]);
            }
        }
        Ok(())
    }

    /// Runs nodes `ops` whose tensors all live whole in the arena (layer by layer).
    fn run_layers(&self, arena: &mut [u8], ops: Range<usize>) -> Result<()> {
        for i in ops {
            let node = &self.nodes[i];
            if let Some(ip) = node.inplace {
                self.run_inplace(i, ip, arena)?;
                continue;
            }
            let out = self.tensor(node.output)?;
            let out_range = out.range();
            if let (Kernel::Copy, Some(Operand::Tensor(t))) = (node.kernel, node.inputs.first()) {
                if self.tensor(*t)?.range() == out_range {
                    continue; // RESHAPE aliased in place
                }
            }
            let ow = out.full();
            self.run_node(i, arena, (out_range, ow), ow.rect, &|t| {
                let t = self.tensor(t)?;
                Ok((t.range(), t.full()))
            })?;
        }
        Ok(())
    }

    /// Runs node `i`, computing `region` of its output into `out`; arena
    /// operands are found with `place`.
    fn run_node(
        &self,
        i: usize,
        arena: &mut [u8],
        out: Place,
        region: Rect,
        place: &dyn Fn(TensorIndex) -> Result<Place>,
    ) -> Result<()> {
        let node = &self.nodes[i];
        let out_t = self.tensor(node.output)?;
        let io = Io::split(arena, out.0)?;
        let mut buf: [In; 8] = [In { data: &[], win: out.1, shape: [1; 4], elem: 1 }; 8];
        if node.inputs.len() > buf.len() {
            return Err(Error::at_op("more than 8 data operands", i));
        }
        for (k, op) in node.inputs.iter().enumerate() {
            buf[k] = match *op {
                Operand::Const { data, shape } => In { data, win: full(shape), shape, elem: 1 },
                Operand::Tensor(t) => {
                    let (r, w) = place(t)?;
                    let tt = self.tensor(t)?;
                    In { data: io.get(r)?, win: w, shape: tt.shape, elem: tt.elem }
                }
            };
        }
        eval_region(node, out_t, &buf[..node.inputs.len()], io.out, out.1, region);
        Ok(())
    }

    /// Runs an in-place operator (its input and output share an offset).
    fn run_inplace(&self, i: usize, ip: InPlace, arena: &mut [u8]) -> Result<()> {
        let node = &self.nodes[i];
        let Some(Operand::Tensor(input)) = node.inputs.get(ip.operand) else {
            return Err(Error::Schedule("in-place layout on an operator that cannot run in place"));
        };
        let (it, ot) = (self.tensor(*input)?, self.tensor(node.output)?);
        let (ir, or) = (it.buffer_range(), ot.buffer_range());
        let buffer = ir.start.min(or.start)..ir.end.max(or.end);
        let scratch = ip.scratch.0..ip.scratch.0 + ip.scratch.1;
        match (ip.kind, node.kernel) {
            (InPlaceKind::Rows { delay }, _) => {
                self.run_inplace_rows(node, ot, arena, buffer, ip.operand, scratch, delay)
            }
            (
                InPlaceKind::Channels,
                Kernel::Depthwise { geom, input_offset, output_offset, act, multipliers, filter, bias, .. },
            ) => {
                let st = OutputStage { input_offset, output_offset, act_min: act.0, act_max: act.1, multipliers };
                let os = ot.shape;
                let (buf, scr) = split_two(arena, buffer, scratch)?;
                kernels::depthwise::depthwise_conv2d_inplace(
                    &geom,
                    &st,
                    as_i8_mut(buf),
                    os[3],
                    os[1],
                    os[2],
                    as_i8(filter),
                    bias,
                    as_i8_mut(scr),
                );
                Ok(())
            }
            _ => Err(Error::Schedule("in-place layout on an operator that cannot run in place")),
        }
    }

    /// Output rows computed into a ring of `delay + 1` scratch rows and
    /// written over the input once no later row reads the bytes they land on.
    #[allow(clippy::too_many_arguments)]
    fn run_inplace_rows(
        &self,
        node: &Node,
        out_t: &Tensor,
        arena: &mut [u8],
        buffer: Range<usize>,
        aliased: usize,
        scratch: Range<usize>,
        delay: usize,
    ) -> Result<()> {
        let ow = out_t.full();
        let row = ow.rect.w * ow.c * out_t.elem;
        let Io2 { pieces, a: buf, b: scr } = Io2::split(arena, buffer, scratch)?;
        let operands = node.inputs.len().min(2);
        let mut others: [In; 2] = [In { data: &[], win: ow, shape: [1; 4], elem: 1 }; 2];
        for (k, op) in node.inputs.iter().take(operands).enumerate() {
            others[k] = match *op {
                Operand::Const { data, shape } => In { data, win: full(shape), shape, elem: 1 },
                Operand::Tensor(t) => {
                    let tt = self.tensor(t)?;
                    let data = if k == aliased { &[][..] } else { piece(&pieces, tt.range())? };
                    In { data, win: tt.full(), shape: tt.shape, elem: tt.elem }
                }
            };
        }
        let aliased_bytes = match node.inputs.get(aliased) {
            Some(Operand::Tensor(t)) => self.tensor(*t)?.bytes,
            _ => return Err(Error::Schedule("in-place layout on an operator that cannot run in place")),
        };
        let slots = delay + 1;
        for r in 0..ow.rect.h {
            let win = Window::new(1, Rect::new(r, 0, 1, ow.rect.w), ow.c);
            let s = (r % slots) * row;
            let mut ops = others;
            ops[aliased].data = &buf[..aliased_bytes];
            eval_region(node, out_t, &ops[..operands], &mut scr[s..s + row], win, win.rect);
            if r >= delay {
                let f = r - delay;
                let fs = (f % slots) * row;
                buf[f * row..(f + 1) * row].copy_from_slice(&scr[fs..fs + row]);
            }
        }
        for f in ow.rect.h.saturating_sub(delay)..ow.rect.h {
            let fs = (f % slots) * row;
            buf[f * row..(f + 1) * row].copy_from_slice(&scr[fs..fs + row]);
        }
        Ok(())
    }
}

const fn full(s: [usize; 4]) -> Window {
    Window::full(s[0], s[1], s[2], s[3])
}

fn is_spatial_broadcast(s: [usize; 4], o: [usize; 4]) -> bool {
    s[1] * s[2] == 1 && o[1] * o[2] > 1
}

/// `exec::eval_region`: computes `region` of node's output into `out`
/// (holding window `ow`) from `inputs` (data operands with their windows).
fn eval_region(node: &Node, out_t: &Tensor, inputs: &[In], out: &mut [u8], ow: Window, region: Rect) {
    let In { data: x, win: iw, .. } = inputs[0];
    match node.kernel {
        Kernel::Conv { geom, input_offset, output_offset, act, multipliers, filter, bias } => {
            let st = OutputStage { input_offset, output_offset, act_min: act.0, act_max: act.1, multipliers };
            kernels::conv::conv2d(&geom, &st, as_i8(x), iw, as_i8(filter), bias, as_i8_mut(out), ow, region);
        }
        Kernel::Depthwise { geom, multiplier, input_offset, output_offset, act, multipliers, filter, bias } => {
            let st = OutputStage { input_offset, output_offset, act_min: act.0, act_max: act.1, multipliers };
            kernels::depthwise::depthwise_conv2d(
                &geom,
                multiplier,
                &st,
                as_i8(x),
                iw,
                as_i8(filter),
                bias,
                as_i8_mut(out),
                ow,
                region,
            );
        }
        Kernel::Pool { kind, geom, act } => {
            kernels::pool::pool2d(kind, &geom, act.0, act.1, as_i8(x), iw, as_i8_mut(out), ow, region)
        }
        Kernel::Pad { value, paddings } => {
            kernels::pad::pad(&paddings, inputs[0].shape, value, as_i8(x), iw, as_i8_mut(out), ow, region);
        }
        Kernel::FullyConnected {
            input_offset,
            filter_offset,
            output_offset,
            act,
            scales,
            depth,
            units,
            filter,
            bias,
        } => {
            let st = FcStage { input_offset, filter_offset, output_offset, act_min: act.0, act_max: act.1, scales };
            kernels::fully_connected::fully_connected(&st, as_i8(x), as_i8(filter), bias, as_i8_mut(out), depth, units);
        }
        Kernel::Mean { params, axes } => params.eval(as_i8(x), inputs[0].shape, axes, as_i8_mut(out)),
        Kernel::Copy => out.copy_from_slice(&x[..out.len()]),
        Kernel::Softmax { params, depth } => params.eval(as_i8(x), as_i8_mut(out), depth),
        Kernel::Resize(p) => p.eval(as_i8(x), as_i8_mut(out)),
        Kernel::ConcatChannels => {
            if inputs.iter().all(|i| i.win.rect == region) && ow.rect == region {
                // Every buffer holds exactly the region: interleave pixel by pixel.
                kernels::concat::concat(inputs.iter().map(|i| i.data), ow.n * region.area(), out);
                return;
            }
            // Windows larger than the region: one output row at a time.
            for (b, y) in rows(ow, region) {
                let o = ow.offset(b, y, region.x);
                let parts = inputs.iter().map(|i| {
                    let s = i.win.offset(b, y, region.x);
                    &i.data[s..s + region.w * i.win.c]
                });
                kernels::concat::concat(parts, region.w, &mut out[o..o + region.w * ow.c]);
            }
        }
        Kernel::Concat { outer } => kernels::concat::concat(inputs.iter().map(|i| i.data), outer, out),
        _ => {
            // Element-wise ops: whole buffers when every window is the region
            // (or whole tensors), else row by row (a window row is contiguous).
            let layer = ow == out_t.full() && inputs.iter().all(|i| i.win == full(i.shape));
            if ow.rect == region && (layer || inputs.iter().all(|i| i.win.rect == region)) {
                eval_pointwise(node, out_t, inputs, out, None);
                return;
            }
            let (in_size, out_size) = (inputs[0].elem, out_t.elem);
            let mut row_inputs: [In; 2] = [In { data: &[], win: ow, shape: [1; 4], elem: 1 }; 2];
            for (b, y) in rows(ow, region) {
                for (k, i) in inputs.iter().enumerate().take(2) {
                    row_inputs[k] = if is_spatial_broadcast(i.shape, out_t.shape) {
                        *i
                    } else {
                        let size = if k == 0 { in_size } else { 1 };
                        let s = i.win.offset(b, y, region.x) * size;
                        In { data: &i.data[s..s + region.w * i.win.c * size], ..*i }
                    };
                }
                let o = ow.offset(b, y, region.x) * out_size;
                eval_pointwise(
                    node,
                    out_t,
                    &row_inputs[..inputs.len().min(2)],
                    &mut out[o..o + region.w * ow.c * out_size],
                    Some(region.w),
                );
            }
        }
    }
}

/// `exec::eval_pointwise`: element-wise ops on matching buffers; `row` is
/// `Some(width)` when the buffers are one output row.
fn eval_pointwise(node: &Node, out_t: &Tensor, inputs: &[In], out: &mut [u8], row: Option<usize>) {
    let x = inputs[0].data;
    match node.kernel {
        Kernel::Add(p) => {
            let y = inputs[1].data;
            let (sa, sb, so) = match row {
                None => (inputs[0].shape, inputs[1].shape, out_t.shape),
                Some(w) => {
                    let c = out_t.shape[3];
                    let of = |len: usize| if len == w * c { [1, 1, w, c] } else { [1, 1, 1, len] };
                    (of(x.len()), of(y.len()), [1, 1, w, c])
                }
            };
            kernels::add::add(&p, as_i8(x), sa, as_i8(y), sb, as_i8_mut(out), so);
        }
        Kernel::QuantizeF32 { scale, zero_point } => {
            let vals = x.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]));
            kernels::quantize::quantize_f32(vals, scale, zero_point, as_i8_mut(out));
        }
        Kernel::Requantize(r) => r.eval(as_i8(x), as_i8_mut(out)),
        Kernel::Dequantize { scale, zero_point } => {
            for (o, v) in out.chunks_exact_mut(4).zip(as_i8(x)) {
                o.copy_from_slice(&kernels::quantize::dequantize_one(*v, scale, zero_point).to_le_bytes());
            }
        }
        Kernel::Relu(p) => p.eval(as_i8(x), as_i8_mut(out)),
        Kernel::Logistic(p) => p.eval(as_i8(x), as_i8_mut(out)),
        Kernel::HardSwish(p) => p.eval(as_i8(x), as_i8_mut(out)),
        _ => {}
    }
}
