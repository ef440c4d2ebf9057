//! The executor: prepares every node once (multipliers, shifts, geometry),
//! then runs the graph layer by layer inside one caller-given arena without
//! allocating.
//!
//! The arena layout comes from `layout::ArenaLayout`; the patch
//! executor (module `patch`) reuses the prepared [`Step`]s on windows.

use alloc::vec::Vec;
use core::ops::Range;

use crate::arena::{as_i8, as_i8_mut, piece, rows, split_two, Io, Io2};
pub use crate::arena::{high_water_mark, paint};
use crate::error::{Error, Result};
use crate::fixedpoint::QuantizedMultiplier;
use crate::graph::{ConstData, DType, Graph, TensorId};
use crate::kernels::activation::{HardSwishParams, Lut, ReluParams};
use crate::kernels::add::AddParams;
use crate::kernels::conv::{Geometry, OutputStage};
use crate::kernels::mean::MeanParams;
use crate::kernels::pool::PoolKind;
use crate::kernels::quantize::Requantize;
use crate::kernels::resize::ResizeParams;
use crate::kernels::softmax::SoftmaxParams;
use crate::kernels::{self, activation_range};
use crate::layout::{ArenaLayout, InPlace, InPlaceKind, LayoutOptions};
use crate::op::{Activation, Op};
use crate::planner::{GreedyBySize, Planner};
use crate::region::{Rect, Window};
use crate::validate::pad4;

/// A node prepared for evaluation.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    Conv {
        geom: Geometry,
        input_offset: i32,
        output_offset: i32,
        act: (i32, i32),
        multipliers: Vec<QuantizedMultiplier>,
    },
    Depthwise {
        geom: Geometry,
        multiplier: usize,
        input_offset: i32,
        output_offset: i32,
        act: (i32, i32),
        multipliers: Vec<QuantizedMultiplier>,
    },
    FullyConnected {
        input_offset: i32,
        filter_offset: i32,
        output_offset: i32,
        act: (i32, i32),
        scales: Vec<f64>,
        depth: usize,
        units: usize,
    },
    Add(AddParams),
    Pad {
        value: i8,
    },
    Pool {
        kind: PoolKind,
        geom: Geometry,
        act: (i32, i32),
    },
    Mean(MeanParams),
    Copy,
    Concat,
    Softmax(SoftmaxParams),
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

fn q(g: &Graph, t: TensorId) -> (f32, i32) {
    g.tensors[t].quant.per_tensor().unwrap_or((1.0, 0))
}

fn geometry(in_shape: &[usize], out_shape: &[usize], op: &Op) -> Geometry {
    let (pt, pl) = op.pad_before((in_shape[1], in_shape[2]), (out_shape[1], out_shape[2]));
    let (h, w) = match op {
        Op::Conv2d(c) => (c.h, c.w),
        Op::DepthwiseConv2d(c) => (c.h, c.w),
        Op::MaxPool2d(p) | Op::AveragePool2d(p) => (p.h, p.w),
        _ => unreachable_geometry(),
    };
    Geometry {
        in_h: in_shape[1],
        in_w: in_shape[2],
        kh: h.kernel,
        kw: w.kernel,
        stride_h: h.stride,
        stride_w: w.stride,
        dil_h: h.dilation,
        dil_w: w.dilation,
        pad_top: pt,
        pad_left: pl,
    }
}

fn unreachable_geometry() -> (crate::op::Axis, crate::op::Axis) {
    let a = crate::op::Axis { kernel: 1, stride: 1, dilation: 1 };
    (a, a)
}

fn act_range(act: Activation, out: (f32, i32)) -> (i32, i32) {
    activation_range(act, out.0, out.1)
}

/// Prepares node `i` of a validated graph.
pub fn prepare(g: &Graph, i: usize) -> Result<Step> {
    let node = &g.nodes[i];
    let input = node.input(0).ok_or(Error::at_op("missing input", i))?;
    let out = node.output();
    let (ti, to) = (&g.tensors[input], &g.tensors[out]);
    let channel_mults = |filter: TensorId, channels: usize| -> Result<Vec<QuantizedMultiplier>> {
        let fs = g.tensors[filter]
            .quant
            .scales(channels)
            .ok_or(Error::Quantization { tensor: filter, what: "filter scales" })?;
        Ok(kernels::conv::channel_multipliers(q(g, input).0, &fs, q(g, out).0).collect())
    };
    Ok(match &node.op {
        Op::Conv2d(c) => {
            let oc = to.shape[3];
            Step::Conv {
                geom: geometry(&ti.shape, &to.shape, &node.op),
                input_offset: -q(g, input).1,
                output_offset: q(g, out).1,
                act: act_range(c.activation, q(g, out)),
                multipliers: channel_mults(node.input(1).unwrap_or(0), oc)?,
            }
        }
        Op::DepthwiseConv2d(c) => {
            let oc = to.shape[3];
            Step::Depthwise {
                geom: geometry(&ti.shape, &to.shape, &node.op),
                multiplier: c.depth_multiplier,
                input_offset: -q(g, input).1,
                output_offset: q(g, out).1,
                act: act_range(c.activation, q(g, out)),
                multipliers: channel_mults(node.input(1).unwrap_or(0), oc)?,
            }
        }
        Op::FullyConnected(f) => {
            let filter = node.input(1).unwrap_or(0);
            let (units, depth) = (g.tensors[filter].shape[0], g.tensors[filter].shape[1]);
            let per_channel = matches!(g.tensors[filter].quant, crate::graph::Quant::PerChannel { .. });
            let fs = g.tensors[filter]
                .quant
                .scales(if per_channel { units } else { 1 })
                .ok_or(Error::Quantization { tensor: filter, what: "filter scales" })?;
            let (si, so) = (q(g, input).0 as f64, q(g, out).0 as f64);
            Step::FullyConnected {
                input_offset: -q(g, input).1,
                // The reference applies a per-tensor weight zero point and ignores per-channel ones.
                filter_offset: if per_channel {
                    0
                } else {
                    -g.tensors[filter].quant.per_tensor().map(|q| q.1).unwrap_or(0)
                },
                output_offset: q(g, out).1,
                act: act_range(f.activation, q(g, out)),
                scales: fs.iter().map(|&f| si * f as f64 / so).collect(),
                depth,
                units,
            }
        }
        Op::Add(act) => {
            let b = node.input(1).unwrap_or(0);
            let ((s1, z1), (s2, z2), (so, zo)) = (q(g, input), q(g, b), q(g, out));
            Step::Add(AddParams::prepare(s1, z1, s2, z2, so, zo, act_range(*act, (so, zo))))
        }
        Op::Pad(_) => Step::Pad { value: q(g, out).1 as i8 },
        Op::MaxPool2d(p) | Op::AveragePool2d(p) => Step::Pool {
            kind: if matches!(node.op, Op::MaxPool2d(_)) { PoolKind::Max } else { PoolKind::Average },
            geom: geometry(&ti.shape, &to.shape, &node.op),
            act: act_range(p.activation, q(g, out)),
        },
        Op::Mean(m) => {
            let s = pad4(&ti.shape);
            let shift = 4 - ti.shape.len();
            let count: usize = (0..ti.shape.len()).filter(|d| m.axes & (1 << d) != 0).map(|d| s[d + shift]).product();
            let (si, zi) = q(g, input);
            let (so, zo) = q(g, out);
            Step::Mean(MeanParams::prepare(si, zi, so, zo, count))
        }
        Op::Reshape => Step::Copy,
        Op::Concatenation(_) => Step::Concat,
        Op::Softmax(s) => Step::Softmax(
            SoftmaxParams::prepare(s.beta, q(g, input).0)
                .ok_or(Error::at_op("SOFTMAX beta × input scale is too small", i))?,
        ),
        Op::Quantize => {
            let (so, zo) = q(g, out);
            if ti.dtype == DType::F32 {
                Step::QuantizeF32 { scale: so, zero_point: zo }
            } else {
                let (si, zi) = q(g, input);
                Step::Requantize(Requantize::prepare(si, zi, so, zo))
            }
        }
        Op::Dequantize => {
            let (s, z) = q(g, input);
            Step::Dequantize { scale: s, zero_point: z }
        }
        Op::Relu | Op::Relu6 => {
            let (si, zi) = q(g, input);
            let (so, zo) = q(g, out);
            Step::Relu(ReluParams::prepare(si, zi, so, zo, matches!(node.op, Op::Relu6)))
        }
        Op::Logistic => {
            let ((si, zi), (so, zo)) = (q(g, input), q(g, out));
            Step::Logistic(Lut::logistic(si, zi, so, zo))
        }
        Op::HardSwish => {
            let (si, zi) = q(g, input);
            let (so, zo) = q(g, out);
            Step::HardSwish(
                HardSwishParams::prepare(si, zi, so, zo)
                    .ok_or(Error::at_op("HARD_SWISH output scale is too small for its input scale", i))?,
            )
        }
        Op::ResizeBilinear(r) => {
            Step::Resize(ResizeParams::prepare(r.align_corners, r.half_pixel_centers, &ti.shape, &to.shape))
        }
    })
}

pub(crate) fn const_i8(g: &Graph, t: Option<TensorId>) -> &[i8] {
    match t.and_then(|t| g.tensors[t].data.as_ref()) {
        Some(ConstData::I8(v)) => v,
        _ => &[],
    }
}

pub(crate) fn const_i32(g: &Graph, t: Option<TensorId>) -> Option<&[i32]> {
    match t.and_then(|t| g.tensors[t].data.as_ref()) {
        Some(ConstData::I32(v)) => Some(v),
        _ => None,
    }
}

/// Evaluates a prepared step: `inputs` are the data operand buffers with the
/// windows they hold, `out` the output buffer holding window `ow`, and
/// `region` (inside `ow`) the part of the output to compute. Windows always
/// cover all batches and channels. Global ops (FULLY_CONNECTED, MEAN, …) need
/// whole-tensor windows, which the schedules guarantee.
pub(crate) fn eval_region(
    g: &Graph,
    node_index: usize,
    step: &Step,
    inputs: &[(&[u8], Window)],
    out: &mut [u8],
    ow: Window,
    region: Rect,
) {
    let node = &g.nodes[node_index];
    let (x, iw) = inputs[0];
    let out_t = &g.tensors[node.output()];
    match step {
        Step::Conv { geom, input_offset, output_offset, act, multipliers } => {
            let st = output_stage(*input_offset, *output_offset, *act, multipliers);
            kernels::conv::conv2d(
                geom,
                &st,
                as_i8(x),
                iw,
                const_i8(g, node.input(1)),
                const_i32(g, node.input(2)),
                as_i8_mut(out),
                ow,
                region,
            );
        }
        Step::Depthwise { geom, multiplier, input_offset, output_offset, act, multipliers } => {
            let st = output_stage(*input_offset, *output_offset, *act, multipliers);
            kernels::depthwise::depthwise_conv2d(
                geom,
                *multiplier,
                &st,
                as_i8(x),
                iw,
                const_i8(g, node.input(1)),
                const_i32(g, node.input(2)),
                as_i8_mut(out),
                ow,
                region,
            );
        }
        Step::Pool { kind, geom, act } => {
            kernels::pool::pool2d(*kind, geom, act.0, act.1, as_i8(x), iw, as_i8_mut(out), ow, region)
        }
        Step::Pad { value } => {
            let Op::Pad(p) = &node.op else { return };
            let t = &g.tensors[node.input(0).unwrap_or(0)];
            kernels::pad::pad(&p.paddings, pad4(&t.shape), *value, as_i8(x), iw, as_i8_mut(out), ow, region);
        }
        Step::FullyConnected { input_offset, filter_offset, output_offset, act, scales, depth, units } => {
            let st = kernels::fully_connected::FcStage {
                input_offset: *input_offset,
                filter_offset: *filter_offset,
                output_offset: *output_offset,
                act_min: act.0,
                act_max: act.1,
                scales,
            };
            kernels::fully_connected::fully_connected(
                &st,
                as_i8(x),
                const_i8(g, node.input(1)),
                const_i32(g, node.input(2)),
                as_i8_mut(out),
                *depth,
                *units,
            );
        }
        Step::Mean(p) => {
            let Op::Mean(m) = &node.op else { return };
            let t = &g.tensors[node.input(0).unwrap_or(0)];
            let shift = 4 - t.shape.len();
            p.eval(as_i8(x), pad4(&t.shape), (m.axes as u32) << shift, as_i8_mut(out));
        }
        Step::Copy => out.copy_from_slice(&x[..out.len()]),
        Step::Softmax(p) => p.eval(as_i8(x), as_i8_mut(out), *out_t.shape.last().unwrap_or(&1)),
        Step::Resize(p) => p.eval(as_i8(x), as_i8_mut(out)),
        Step::Concat if matches!(node.op, Op::Concatenation(c) if c.axis == 3) => {
            if inputs.iter().all(|(_, w)| w.rect == region) && ow.rect == region {
                // Every buffer holds exactly the region: interleave pixel by pixel.
                kernels::concat::concat(inputs.iter().map(|(d, _)| *d), ow.n * region.area(), out);
                return;
            }
            // Windows larger than the region: one output row at a time.
            for (b, y) in rows(ow, region) {
                let o = ow.offset(b, y, region.x);
                let parts = inputs.iter().map(|(d, w)| {
                    let i = w.offset(b, y, region.x);
                    &d[i..i + region.w * w.c]
                });
                kernels::concat::concat(parts, region.w, &mut out[o..o + region.w * ow.c]);
            }
        }
        Step::Concat => {
            let Op::Concatenation(c) = &node.op else { return };
            let outer: usize = pad4(&out_t.shape)[..c.axis].iter().product();
            kernels::concat::concat(inputs.iter().map(|(d, _)| *d), outer, out);
        }
        _ => {
            // Element-wise ops: whole buffers for whole tensors (layer by layer,
            // any broadcasting) or when every window is the region; otherwise
            // row by row, since a window row is contiguous.
            let full = |k: usize, w: &Window| *w == full_window(&g.tensors[node.input(k).unwrap_or(0)].shape);
            let layer = ow == full_window(&out_t.shape) && inputs.iter().enumerate().all(|(k, (_, w))| full(k, w));
            if ow.rect == region && (layer || inputs.iter().all(|(_, w)| w.rect == region)) {
                eval_pointwise(g, node_index, step, inputs, out, None);
                return;
            }
            let in_size = g.tensors[node.input(0).unwrap_or(0)].dtype.size();
            let out_size = out_t.dtype.size();
            let mut row_inputs: [(&[u8], Window); 2] = [(&[], ow); 2];
            for (b, y) in rows(ow, region) {
                for (k, (d, w)) in inputs.iter().enumerate().take(2) {
                    let t = node.input(k).unwrap_or(0);
                    row_inputs[k] = if is_spatial_broadcast(g, t, node.output()) {
                        (*d, *w)
                    } else {
                        let size = if k == 0 { in_size } else { 1 };
                        let i = w.offset(b, y, region.x) * size;
                        (&d[i..i + region.w * w.c * size], *w)
                    };
                }
                let o = ow.offset(b, y, region.x) * out_size;
                eval_pointwise(
                    g,
                    node_index,
                    step,
                    &row_inputs[..inputs.len().min(2)],
                    &mut out[o..o + region.w * ow.c * out_size],
                    Some(region.w),
                );
            }
        }
    }
}

/// Whether operand `t` of an element-wise op broadcasts over all pixels of
/// `out` (a `[.., 1, 1, C]` or scalar operand).
pub(crate) fn is_spatial_broadcast(g: &Graph, t: TensorId, out: TensorId) -> bool {
    let (s, o) = (pad4(&g.tensors[t].shape), pad4(&g.tensors[out].shape));
    s[1] * s[2] == 1 && o[1] * o[2] > 1
}

/// Element-wise ops on matching buffers. `row` is `Some(width)` when the
/// buffers are one output row (ADD then sees `[1, 1, width, C]` operands, or
/// `[1, 1, 1, C]` for a broadcast operand), `None` for whole tensors.
fn eval_pointwise(
    g: &Graph,
    node_index: usize,
    step: &Step,
    inputs: &[(&[u8], Window)],
    out: &mut [u8],
    row: Option<usize>,
) {
    let node = &g.nodes[node_index];
    let x = inputs[0].0;
    match step {
        Step::Add(p) => {
            let y = inputs[1].0;
            let (a, b, o) = (node.input(0).unwrap_or(0), node.input(1).unwrap_or(0), node.output());
            let (sa, sb, so) = match row {
                None => (pad4(&g.tensors[a].shape), pad4(&g.tensors[b].shape), pad4(&g.tensors[o].shape)),
                Some(w) => {
                    let c = pad4(&g.tensors[o].shape)[3];
                    let of = |len: usize| {
                        if len == w * c {
                            [1, 1, w, c]
                        } else {
                            [1, 1, 1, len]
                        }
                    };
                    (of(x.len()), of(y.len()), [1, 1, w, c])
                }
            };
            kernels::add::add(p, as_i8(x), sa, as_i8(y), sb, as_i8_mut(out), so);
        }
        Step::QuantizeF32 { scale, zero_point } => {
            let vals = x.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]));
            kernels::quantize::quantize_f32(vals, *scale, *zero_point, as_i8_mut(out));
        }
        Step::Requantize(r) => r.eval(as_i8(x), as_i8_mut(out)),
        Step::Dequantize { scale, zero_point } => {
            for (o, v) in out.chunks_exact_mut(4).zip(as_i8(x)) {
                o.copy_from_slice(&kernels::quantize::dequantize_one(*v, *scale, *zero_point).to_le_bytes());
            }
        }
        Step::Relu(p) => p.eval(as_i8(x), as_i8_mut(out)),
        Step::Logistic(p) => p.eval(as_i8(x), as_i8_mut(out)),
        Step::HardSwish(p) => p.eval(as_i8(x), as_i8_mut(out)),
        _ => {}
    }
}

/// The requantization stage of a convolution step.
fn output_stage(
    input_offset: i32,
    output_offset: i32,
    act: (i32, i32),
    multipliers: &[QuantizedMultiplier],
) -> OutputStage<'_> {
    OutputStage { input_offset, output_offset, act_min: act.0, act_max: act.1, multipliers }
}

/// Prepares every node of a validated graph.
pub fn prepare_all(g: &Graph) -> Result<Vec<Step>> {
    (0..g.nodes.len()).map(|i| prepare(g, i)).collect()
}

/// Where an operand lives: its arena byte range and the window it holds.
pub(crate) type Place = (Range<usize>, Window);

/// Runs node `i`, computing `region` of its output into `out`; data operands
/// are found with `place` (constants come from the graph).
pub(crate) fn run_node(
    g: &Graph,
    i: usize,
    step: &Step,
    arena: &mut [u8],
    out: Place,
    region: Rect,
    place: &dyn Fn(TensorId) -> Result<Place>,
) -> Result<()> {
    let node = &g.nodes[i];
    let io = Io::split(arena, out.0)?;
    // Operands go in a fixed array so the run loop never allocates.
    let mut buf: [(&[u8], Window); 8] = [(&[], out.1); 8];
    let mut k = 0;
    for t in node.inputs.iter().take(node.op.data_operands(node.inputs.len())).flatten().copied() {
        if k == buf.len() {
            return Err(Error::at_op("more than 8 data operands", i));
        }
        buf[k] = match &g.tensors[t].data {
            Some(ConstData::I8(v)) => (bytemuck::cast_slice(v), full_window(&g.tensors[t].shape)),
            _ => {
                let (r, w) = place(t)?;
                (io.get(r)?, w)
            }
        };
        k += 1;
    }
    eval_region(g, i, step, &buf[..k], io.out, out.1, region);
    Ok(())
}

/// An operator over its own input (operand `aliased`): each output row is
/// computed into a ring of `delay + 1` scratch rows and written over the
/// input once no later row reads the bytes it lands on (see `layout::inplace_kind`).
#[allow(clippy::too_many_arguments)]
pub(crate) fn run_inplace_rows(
    g: &Graph,
    i: usize,
    step: &Step,
    layout: &ArenaLayout,
    arena: &mut [u8],
    buffer: Range<usize>,
    aliased: usize,
    scratch: Range<usize>,
    delay: usize,
) -> Result<()> {
    let node = &g.nodes[i];
    let ow = full_window(&g.tensors[node.output()].shape);
    let row = ow.rect.w * ow.c * g.tensors[node.output()].dtype.size();
    let Io2 { pieces, a: buf, b: scr } = Io2::split(arena, buffer, scratch)?;
    let mut others: [(&[u8], Window); 2] = [(&[], ow); 2];
    let operands = node.op.data_operands(node.inputs.len()).min(2);
    for (k, t) in node.inputs.iter().take(operands).enumerate() {
        let t = t.ok_or(Error::at_op("missing operand", i))?;
        let w = full_window(&g.tensors[t].shape);
        others[k] = match &g.tensors[t].data {
            Some(ConstData::I8(v)) => (bytemuck::cast_slice(v), w),
            _ if k == aliased => (&[][..], w),
            _ => (piece(&pieces, layout.range(g, t).ok_or(Error::at_tensor("tensor has no arena buffer", t))?)?, w),
        };
    }
    let aliased_bytes = g.tensors[node.input(aliased).unwrap_or(0)].bytes();
    let slots = delay + 1;
    for r in 0..ow.rect.h {
        let win = Window::new(1, Rect::new(r, 0, 1, ow.rect.w), ow.c);
        let s = (r % slots) * row;
        let mut ops = others;
        ops[aliased].0 = &buf[..aliased_bytes];
        eval_region(g, i, step, &ops[..operands], &mut scr[s..s + row], win, win.rect);
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

/// Runs an in-place operator of `layout` (its input and output share an offset).
fn run_inplace(g: &Graph, i: usize, step: &Step, layout: &ArenaLayout, ip: InPlace, arena: &mut [u8]) -> Result<()> {
    let node = &g.nodes[i];
    let missing = |t| Error::at_tensor("tensor has no arena buffer", t);
    let (input, out) = (node.input(ip.operand).unwrap_or(0), node.output());
    let (ir, or) = (layout.buffer_range(input).ok_or(missing(input))?, layout.buffer_range(out).ok_or(missing(out))?);
    let buffer = ir.start.min(or.start)..ir.end.max(or.end);
    let scratch = layout.buffer(ip.scratch);
    match (ip.kind, step) {
        (InPlaceKind::Rows { delay }, _) => {
            run_inplace_rows(g, i, step, layout, arena, buffer, ip.operand, scratch, delay)
        }
        (InPlaceKind::Channels, Step::Depthwise { geom, input_offset, output_offset, act, multipliers, .. }) => {
            let st = output_stage(*input_offset, *output_offset, *act, multipliers);
            let os = pad4(&g.tensors[out].shape);
            let (buf, scr) = split_two(arena, buffer, scratch)?;
            kernels::depthwise::depthwise_conv2d_inplace(
                geom,
                &st,
                as_i8_mut(buf),
                os[3],
                os[1],
                os[2],
                const_i8(g, node.input(1)),
                const_i32(g, node.input(2)),
                as_i8_mut(scr),
            );
            Ok(())
        }
        _ => Err(Error::Schedule("in-place layout on an operator that cannot run in place")),
    }
}

/// Runs nodes `ops` whose tensors all live whole in `layout` (layer by layer).
pub(crate) fn run_layers(
    g: &Graph,
    steps: &[Step],
    layout: &ArenaLayout,
    arena: &mut [u8],
    ops: Range<usize>,
) -> Result<()> {
    let range = |t: TensorId| layout.range(g, t).ok_or(Error::at_tensor("tensor has no arena buffer", t));
    let place = |t: TensorId| Ok((range(t)?, full_window(&g.tensors[t].shape)));
    for i in ops {
        let node = &g.nodes[i];
        let step = &steps[i];
        let out = node.output();
        if let Some(ip) = layout.inplace[i] {
            run_inplace(g, i, step, layout, ip, arena)?;
            continue;
        }
        let out_range = range(out)?;
        if matches!(step, Step::Copy) && range(node.input(0).unwrap_or(0))? == out_range {
            continue; // RESHAPE aliased in place
        }
        let ow = full_window(&g.tensors[out].shape);
        run_node(g, i, step, arena, (out_range, ow), ow.rect, &place)?;
    }
    Ok(())
}

/// A graph prepared for layer-by-layer execution in one arena.
pub struct Executor<'g> {
    pub graph: &'g Graph,
    pub steps: Vec<Step>,
    pub layout: ArenaLayout,
}

impl<'g> Executor<'g> {
    pub fn new(graph: &'g Graph) -> Result<Self> {
        Self::with_options(graph, &GreedyBySize, LayoutOptions::default())
    }

    pub fn with_options(graph: &'g Graph, planner: &dyn Planner, options: LayoutOptions) -> Result<Self> {
        let steps = prepare_all(graph)?;
        let layout = ArenaLayout::layer_by_layer(graph, planner, options);
        Ok(Self { graph, steps, layout })
    }

    /// Bytes of arena `run` needs.
    pub fn arena_size(&self) -> usize {
        self.layout.arena_size()
    }

    /// The arena bytes of graph input `i`, to be filled before `run`.
    pub fn input_mut<'a>(&self, arena: &'a mut [u8], i: usize) -> Result<&'a mut [u8]> {
        tensor_mut(self.graph, &self.layout, arena, *self.graph.inputs.get(i).ok_or(Error::model("no such input"))?)
    }

    /// The arena bytes of graph output `i` after `run`.
    pub fn output<'a>(&self, arena: &'a [u8], i: usize) -> Result<&'a [u8]> {
        tensor(self.graph, &self.layout, arena, *self.graph.outputs.get(i).ok_or(Error::model("no such output"))?)
    }

    /// Runs every node in order. Does not allocate.
    pub fn run(&self, arena: &mut [u8]) -> Result<()> {
        check_arena(self.arena_size(), arena)?;
        run_layers(self.graph, &self.steps, &self.layout, arena, 0..self.graph.nodes.len())
    }
}

pub(crate) fn check_arena(needed: usize, arena: &[u8]) -> Result<()> {
    if arena.len() < needed {
        return Err(Error::ArenaTooSmall { needed, got: arena.len() });
    }
    Ok(())
}

pub(crate) fn tensor<'a>(g: &Graph, layout: &ArenaLayout, arena: &'a [u8], t: TensorId) -> Result<&'a [u8]> {
    let r = layout.range(g, t).ok_or(Error::at_tensor("tensor has no arena buffer", t))?;
    let got = arena.len();
    arena.get(r).ok_or(Error::ArenaTooSmall { needed: layout.arena_size(), got })
}

pub(crate) fn tensor_mut<'a>(
    g: &Graph,
    layout: &ArenaLayout,
    arena: &'a mut [u8],
    t: TensorId,
) -> Result<&'a mut [u8]> {
    let r = layout.range(g, t).ok_or(Error::at_tensor("tensor has no arena buffer", t))?;
    let got = arena.len();
    arena.get_mut(r).ok_or(Error::ArenaTooSmall { needed: layout.arena_size(), got })
}

/// Window covering a whole tensor (shapes of rank < 4 are right-aligned to NHWC).
pub fn full_window(shape: &[usize]) -> Window {
    let s = pad4(shape);
    Window::full(s[0], s[1], s[2], s[3])
}
