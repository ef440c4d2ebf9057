//! The operators patchwise executes: `enum Op` with typed parameters, and
//! the dispatch to each family's module in `ops/` (receptive-field rule,
//! MAC count, validation, prepare). Shared geometry (`Axis`, `Padding`,
//! fused `Activation`) lives here.

#[cfg(feature = "alloc")]
use crate::ops::Kernel;
use crate::region::Rect;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Padding {
    Same,
    Valid,
}

/// Fused activation of an operator (TFLite `ActivationFunctionType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Activation {
    None,
    Relu,
    ReluN1To1,
    Relu6,
}

/// Geometry shared by convolutions and pools along one spatial axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Axis {
    pub kernel: usize,
    pub stride: usize,
    pub dilation: usize,
}

impl Axis {
    pub const fn effective_kernel(&self) -> usize {
        (self.kernel - 1) * self.dilation + 1
    }
    /// Output size for an input of size `input` (TFLite `ComputeOutSize`).
    pub fn out_size(&self, padding: Padding, input: usize) -> usize {
        match padding {
            Padding::Same => input.div_ceil(self.stride),
            Padding::Valid => {
                let eff = self.effective_kernel();
                if input < eff {
                    0
                } else {
                    (input - eff) / self.stride + 1
                }
            }
        }
    }
    /// Padding before the first element (TFLite puts the odd extra after).
    pub fn pad_before(&self, padding: Padding, input: usize, output: usize) -> usize {
        match padding {
            Padding::Valid => 0,
            Padding::Same => {
                let needed = (output.saturating_sub(1)) * self.stride + self.effective_kernel();
                needed.saturating_sub(input) / 2
            }
        }
    }
    /// Input interval `[start, end)` read by outputs `[o0, o1)`, clipped to `[0, input)`.
    pub fn input_span(&self, pad_before: usize, input: usize, o0: usize, o1: usize) -> (usize, usize) {
        if o1 <= o0 {
            return (0, 0);
        }
        let lo = (o0 * self.stride) as isize - pad_before as isize;
        let hi = ((o1 - 1) * self.stride + self.effective_kernel()) as isize - pad_before as isize;
        let lo = lo.clamp(0, input as isize) as usize;
        let hi = hi.clamp(0, input as isize) as usize;
        (lo, hi.max(lo))
    }
}

pub use crate::ops::activation::LeakyRelu;
pub use crate::ops::arg::ArgExtreme;
pub use crate::ops::binary::Binary;
pub use crate::ops::concat::{Concatenation, Pack};
pub use crate::ops::conv::Conv2d;
pub use crate::ops::depthwise::DepthwiseConv2d;
pub use crate::ops::fully_connected::FullyConnected;
pub use crate::ops::gather::Gather;
pub use crate::ops::mean::{Mean, Reduce};
pub use crate::ops::pad::Pad;
pub use crate::ops::pool::Pool2d;
pub use crate::ops::reshape::ReshapeKind;
pub use crate::ops::resize::ResizeOptions;
pub use crate::ops::softmax::Softmax;
pub use crate::ops::space::{BatchSpace, SpaceDepth};
pub use crate::ops::tile::{CopyKind, NdCopy};
pub use crate::ops::transpose::Transpose;
pub use crate::ops::transpose_conv::TransposeConv;

/// The input rectangle a sliding window reads for output rectangle `out`,
/// clipped to the input (padding is implied, not stored).
pub fn window_rect(
    padding: Padding,
    h: Axis,
    w: Axis,
    out: Rect,
    in_hw: (usize, usize),
    out_hw: (usize, usize),
) -> Rect {
    let (pt, pl) = (h.pad_before(padding, in_hw.0, out_hw.0), w.pad_before(padding, in_hw.1, out_hw.1));
    let (y0, y1) = h.input_span(pt, in_hw.0, out.y, out.y_end());
    let (x0, x1) = w.input_span(pl, in_hw.1, out.x, out.x_end());
    Rect::new(y0, x0, y1 - y0, x1 - x0)
}

/// An operator with its typed parameters. Operand tensors live in the node.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Op {
    Conv2d(Conv2d),
    DepthwiseConv2d(DepthwiseConv2d),
    FullyConnected(FullyConnected),
    Add(Activation),
    /// MUL, SUB, SQUARED_DIFFERENCE, MAXIMUM, MINIMUM.
    Binary(Binary),
    Pad(Pad),
    MaxPool2d(Pool2d),
    AveragePool2d(Pool2d),
    /// MEAN, SUM.
    Mean(Mean),
    /// REDUCE_MAX, REDUCE_MIN.
    Reduce(Reduce),
    /// RESHAPE, SQUEEZE, EXPAND_DIMS.
    Reshape(ReshapeKind),
    Concatenation(Concatenation),
    Pack(Pack),
    Softmax(Softmax),
    LogSoftmax,
    L2Normalization,
    Quantize,
    Dequantize,
    Relu,
    Relu6,
    LeakyRelu(LeakyRelu),
    Logistic,
    Tanh,
    HardSwish,
    ResizeBilinear(ResizeOptions),
    ResizeNearest(ResizeOptions),
    Transpose(Transpose),
    /// DEPTH_TO_SPACE, SPACE_TO_DEPTH.
    SpaceDepth(SpaceDepth),
    /// SPACE_TO_BATCH_ND, BATCH_TO_SPACE_ND.
    BatchSpace(BatchSpace),
    /// TILE, SLICE, STRIDED_SLICE, SPLIT, SPLIT_V, UNPACK.
    NdCopy(NdCopy),
    Gather(Gather),
    TransposeConv(TransposeConv),
    /// ARG_MAX, ARG_MIN.
    Arg(ArgExtreme),
}

/// How an operator's output rectangle depends on its (first) input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Spatial {
    /// Output pixel (y, x) reads exactly input pixel (y, x).
    Pointwise,
    /// A sliding window (convolutions, pools, pad).
    Window,
    /// Needs the whole input tensor: ends a patch stage.
    Global,
}

impl Op {
    pub fn name(&self) -> &'static str {
        match self {
            Op::Conv2d(_) => "CONV_2D",
            Op::DepthwiseConv2d(_) => "DEPTHWISE_CONV_2D",
            Op::FullyConnected(_) => "FULLY_CONNECTED",
            Op::Add(_) => "ADD",
            Op::Binary(b) => b.name(),
            Op::Pad(_) => "PAD",
            Op::MaxPool2d(_) => "MAX_POOL_2D",
            Op::AveragePool2d(_) => "AVERAGE_POOL_2D",
            Op::Mean(m) => m.name(),
            Op::Reduce(r) => r.name(),
            Op::Reshape(k) => k.name(),
            Op::Concatenation(_) => "CONCATENATION",
            Op::Pack(_) => "PACK",
            Op::Softmax(_) => "SOFTMAX",
            Op::LogSoftmax => "LOG_SOFTMAX",
            Op::L2Normalization => "L2_NORMALIZATION",
            Op::Quantize => "QUANTIZE",
            Op::Dequantize => "DEQUANTIZE",
            Op::Relu => "RELU",
            Op::Relu6 => "RELU6",
            Op::LeakyRelu(_) => "LEAKY_RELU",
            Op::Logistic => "LOGISTIC",
            Op::Tanh => "TANH",
            Op::HardSwish => "HARD_SWISH",
            Op::ResizeBilinear(_) => "RESIZE_BILINEAR",
            Op::ResizeNearest(_) => "RESIZE_NEAREST_NEIGHBOR",
            Op::Transpose(_) => "TRANSPOSE",
            Op::SpaceDepth(s) => s.name(),
            Op::BatchSpace(b) => b.name(),
            Op::NdCopy(c) => c.name(),
            Op::Gather(_) => "GATHER",
            Op::TransposeConv(_) => "TRANSPOSE_CONV",
            Op::Arg(a) => a.name(),
        }
    }

    /// How many leading operands are data (values the kernel reads as a
    /// tensor, possibly constant) rather than parameters (weights, shapes).
    pub fn data_operands(&self, operands: usize) -> usize {
        match self {
            Op::Add(_) | Op::Binary(_) | Op::Gather(_) => 2,
            Op::Concatenation(_) | Op::Pack(_) => operands,
            _ => 1,
        }
    }

    /// The class of receptive-field rule; `Global` ops cannot be inside a patch stage.
    pub fn spatial(&self) -> Spatial {
        match self {
            Op::Conv2d(_)
            | Op::DepthwiseConv2d(_)
            | Op::TransposeConv(_)
            | Op::MaxPool2d(_)
            | Op::AveragePool2d(_)
            | Op::Pad(_)
            | Op::ResizeBilinear(_)
            | Op::ResizeNearest(_)
            | Op::SpaceDepth(_) => Spatial::Window,
            Op::Add(_)
            | Op::Binary(_)
            | Op::Quantize
            | Op::Dequantize
            | Op::Relu
            | Op::LeakyRelu(_)
            | Op::Relu6
            | Op::Logistic
            | Op::Tanh
            | Op::HardSwish => Spatial::Pointwise,
            // Concatenation along channels, and slices of channels, keep every pixel where it is.
            Op::Concatenation(c) if c.axis == 3 => Spatial::Pointwise,
            Op::NdCopy(c) if c.channels_only => Spatial::Pointwise,
            Op::FullyConnected(_)
            | Op::Mean(_)
            | Op::Reduce(_)
            | Op::Reshape(_)
            | Op::Softmax(_)
            | Op::LogSoftmax
            | Op::L2Normalization
            | Op::Concatenation(_)
            | Op::Pack(_)
            | Op::Transpose(_)
            | Op::BatchSpace(_)
            | Op::NdCopy(_)
            | Op::Gather(_)
            | Op::Arg(_) => Spatial::Global,
        }
    }

    /// Receptive-field rule: the input rectangle that output rectangle `out`
    /// reads, clipped to the input (padding is not stored, it is implied).
    /// `None` for global ops.
    pub fn input_rect(&self, out: Rect, in_hw: (usize, usize), out_hw: (usize, usize)) -> Option<Rect> {
        if out.is_empty() {
            return Some(Rect::new(0, 0, 0, 0));
        }
        match self {
            Op::Conv2d(c) => Some(c.input_rect(out, in_hw, out_hw)),
            Op::DepthwiseConv2d(c) => Some(c.input_rect(out, in_hw, out_hw)),
            Op::TransposeConv(c) => Some(c.input_rect(out, in_hw, out_hw)),
            Op::MaxPool2d(p) | Op::AveragePool2d(p) => Some(p.input_rect(out, in_hw, out_hw)),
            Op::Pad(p) => Some(p.input_rect(out, in_hw)),
            Op::ResizeBilinear(r) => Some(r.input_rect(out, in_hw, out_hw, false)),
            Op::ResizeNearest(r) => Some(r.input_rect(out, in_hw, out_hw, true)),
            Op::SpaceDepth(s) => Some(s.input_rect(out)),
            _ if self.spatial() == Spatial::Pointwise => Some(out),
            _ => None,
        }
    }

    /// Multiply-accumulates to compute output rectangle `out` (all channels, `batch` images).
    /// `in_c` is the input channel count, `out_c` the output's, `k_depth` the
    /// FULLY_CONNECTED accumulation depth.
    pub fn macs(&self, batch: usize, out: Rect, in_c: usize, out_c: usize, k_depth: usize) -> u64 {
        let px = (batch * out.area()) as u64;
        match self {
            Op::Conv2d(c) => c.macs(px, in_c, out_c),
            Op::DepthwiseConv2d(c) => c.macs(px, out_c),
            Op::TransposeConv(c) => c.macs(px, in_c, out_c),
            Op::FullyConnected(f) => f.macs(batch, out_c, k_depth),
            _ => 0,
        }
    }

    /// Checks node `c.oi`'s operands: types, quantization and shapes.
    #[cfg(feature = "alloc")]
    pub(crate) fn validate(&self, c: &crate::validate::Ctx) -> crate::Result<()> {
        use crate::ops;
        match self {
            Op::Conv2d(p) => p.validate(c),
            Op::DepthwiseConv2d(p) => p.validate(c),
            Op::FullyConnected(p) => p.validate(c),
            Op::Add(_) => ops::binary::validate(c),
            Op::Binary(b) => b.validate(c),
            Op::Pad(p) => p.validate(c),
            Op::MaxPool2d(p) | Op::AveragePool2d(p) => p.validate(c),
            Op::Mean(p) => p.validate(c),
            Op::Reduce(p) => p.validate(c),
            Op::Reshape(_) => ops::reshape::validate(c),
            Op::Concatenation(p) => p.validate(c),
            Op::Pack(p) => p.validate(c),
            Op::Softmax(p) => p.validate(c),
            Op::LogSoftmax => ops::softmax::validate_log_softmax(c),
            Op::L2Normalization => ops::softmax::validate_l2_norm(c),
            Op::Logistic => ops::softmax::validate_unit_output(c),
            Op::Tanh => ops::softmax::validate_fixed_output(
                c,
                1.0 / 128.0,
                0,
                "int8 TANH output must have scale 1/128 and zero point 0",
            ),
            Op::Quantize => ops::quantize::validate(c, true),
            Op::Dequantize => ops::quantize::validate(c, false),
            Op::Relu | Op::Relu6 | Op::LeakyRelu(_) | Op::HardSwish => ops::activation::validate(c),
            Op::ResizeBilinear(p) | Op::ResizeNearest(p) => p.validate(c),
            Op::Transpose(t) => t.validate(c),
            Op::SpaceDepth(s) => s.validate(c),
            Op::BatchSpace(b) => b.validate(c),
            Op::NdCopy(n) => n.validate(c),
            Op::Gather(x) => x.validate(c),
            Op::TransposeConv(t) => t.validate(c),
            Op::Arg(a) => a.validate(c),
        }
    }

    /// Prepares node `p.op_index` of a validated graph into its kernel.
    #[cfg(feature = "alloc")]
    pub(crate) fn prepare(&self, p: &mut crate::lower::Prepare) -> crate::Result<Kernel> {
        use crate::kernels::pool::PoolKind;
        use crate::ops::{self, activation};
        Ok(match self {
            Op::Conv2d(c) => Kernel::Conv(c.prepare(p)?),
            Op::DepthwiseConv2d(c) => Kernel::Depthwise(c.prepare(p)?),
            Op::FullyConnected(f) => Kernel::FullyConnected(f.prepare(p)?),
            Op::Add(act) => ops::Binary::Add(*act).prepare(p)?,
            Op::Binary(b) => b.prepare(p)?,
            Op::Pad(x) => Kernel::Pad(x.prepare(p)?),
            Op::MaxPool2d(x) => Kernel::Pool(x.prepare(p, PoolKind::Max)?),
            Op::AveragePool2d(x) => Kernel::Pool(x.prepare(p, PoolKind::Average)?),
            Op::Mean(m) => Kernel::Mean(m.prepare(p)?),
            Op::Reduce(r) => Kernel::Reduce(r.prepare(p)?),
            Op::Reshape(_) => Kernel::Reshape(ops::Reshape),
            Op::Concatenation(c) => Kernel::Concat(c.prepare(p)?),
            Op::Pack(k) => Kernel::Concat(k.prepare(p)?),
            Op::Softmax(s) => Kernel::Softmax(s.prepare(p)?),
            Op::LogSoftmax => Kernel::LogSoftmax(ops::softmax::prepare_log_softmax(p)?),
            Op::L2Normalization => Kernel::L2Norm(ops::softmax::prepare_l2_norm(p)?),
            Op::Quantize => ops::quantize::prepare_quantize(p)?,
            Op::Dequantize => Kernel::Dequantize(ops::quantize::prepare_dequantize(p)?),
            Op::Relu => Kernel::Lookup(activation::prepare_relu(p, false)?),
            Op::Relu6 => Kernel::Lookup(activation::prepare_relu(p, true)?),
            Op::LeakyRelu(l) => Kernel::Lookup(l.prepare(p)?),
            Op::Logistic => Kernel::Lookup(activation::prepare_table(p, false)?),
            Op::Tanh => Kernel::Lookup(activation::prepare_table(p, true)?),
            Op::HardSwish => Kernel::Lookup(activation::prepare_hard_swish(p)?),
            Op::ResizeBilinear(r) => Kernel::Resize(ops::Resize { params: r.prepare(p)? }),
            Op::ResizeNearest(r) => Kernel::ResizeNearest(ops::Nearest { params: r.prepare(p)? }),
            Op::Transpose(t) => Kernel::Transpose(t.prepare(p)?),
            Op::SpaceDepth(s) => Kernel::SpaceDepth(s.prepare(p)?),
            Op::BatchSpace(b) => Kernel::BatchSpace(b.prepare(p)?),
            Op::NdCopy(n) => Kernel::NdCopy(n.prepare(p)?),
            Op::Gather(x) => Kernel::Gather(x.prepare(p)?),
            Op::TransposeConv(t) => Kernel::TransposeConv(t.prepare(p)?),
            Op::Arg(a) => Kernel::Arg(a.prepare(p)?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_padding_puts_extra_after() {
        let a = Axis { kernel: 3, stride: 2, dilation: 1 };
        assert_eq!(a.out_size(Padding::Same, 112), 56);
        // needed = 55*2+3 = 113 -> total 1 -> before 0
        assert_eq!(a.pad_before(Padding::Same, 112, 56), 0);
        assert_eq!(a.pad_before(Padding::Same, 113, 57), 1);
        let b = Axis { kernel: 5, stride: 1, dilation: 2 };
        assert_eq!(b.out_size(Padding::Valid, 17), 9);
        assert_eq!(b.pad_before(Padding::Same, 17, 17), 4);
    }

    #[test]
    fn conv_receptive_field_clips_to_input() {
        let op = Op::Conv2d(Conv2d {
            padding: Padding::Same,
            h: Axis { kernel: 3, stride: 1, dilation: 1 },
            w: Axis { kernel: 3, stride: 1, dilation: 1 },
            activation: Activation::None,
        });
        let r = op.input_rect(Rect::new(0, 0, 4, 4), (8, 8), (8, 8)).unwrap();
        assert_eq!(r, Rect::new(0, 0, 5, 5));
        let r = op.input_rect(Rect::new(4, 4, 4, 4), (8, 8), (8, 8)).unwrap();
        assert_eq!(r, Rect::new(3, 3, 5, 5));
    }
}
