//! One module per operator family. Each owns, in one place: the operator's
//! typed parameters (what `op::Op` holds), its validation (host only), its
//! prepare into a [`Kernel`] (multipliers and shifts computed once, constant
//! data placed in the program's pools; host only), the kernel's eval over a
//! region of an output window, and how the prepared kernel is written into
//! an exported crate (the [`crate::literal::Literal`] of its parameters).
//!
//! The arithmetic itself lives in `kernels/` (reference kernels, the oracle);
//! the modules here bind it to operands. `op.rs` and this file only dispatch.

use crate::error::{Error, Result};
use crate::program::Consts;
use crate::region::{Rect, Window};

pub mod activation;
pub mod add;
pub mod concat;
pub mod conv;
pub mod depthwise;
pub mod fully_connected;
pub mod mean;
pub mod pad;
pub mod pool;
pub mod quantize;
pub mod reshape;
pub mod resize;
pub mod softmax;

// Every type a kernel literal names, so exported code needs one `use ops::*`.
pub use crate::fixedpoint::QuantizedMultiplier;
pub use crate::kernels::activation::{HardSwishParams, ReluParams};
pub use crate::kernels::add::AddParams;
pub use crate::kernels::conv::Geometry;
pub use crate::kernels::mean::MeanParams;
pub use crate::kernels::pool::PoolKind;
pub use crate::kernels::quantize::Requantize;
pub use crate::kernels::resize::ResizeParams;
pub use crate::kernels::softmax::SoftmaxParams;
pub use crate::program::Span;
pub use activation::Logistic;
pub use concat::Concat;
pub use conv::ConvKernel;
pub use depthwise::DepthwiseKernel;
pub use fully_connected::FcKernel;
pub use mean::MeanKernel;
pub use pad::PadKernel;
pub use pool::PoolKernel;
pub use quantize::{Dequantize, QuantizeF32};
pub use reshape::Reshape;
pub use resize::Resize;
pub use softmax::SoftmaxKernel;

/// A data operand as a kernel sees it: its bytes, the window of the tensor
/// they hold, the tensor's NHWC shape and its bytes per element.
#[derive(Clone, Copy, Debug)]
pub struct In<'d> {
    pub data: &'d [u8],
    pub win: Window,
    pub shape: [usize; 4],
    pub elem: usize,
}

/// The output buffer: its bytes and the window of the output tensor they hold.
#[derive(Debug)]
pub struct Out<'d> {
    pub data: &'d mut [u8],
    pub win: Window,
    pub shape: [usize; 4],
    pub elem: usize,
}

/// A prepared operator's evaluation: computes `region` (inside `out.win`) of
/// the output from `inputs`. Windows always cover all batches and channels;
/// operators that need whole tensors get whole-tensor windows (schedules
/// never put them in a patch stage).
pub trait Eval {
    fn eval(&self, consts: &Consts, inputs: &[In], out: Out, region: Rect) -> Result<()>;
}

/// Defines [`Kernel`], the prepared form of every operator, with its eval and
/// literal dispatch. Each variant wraps one family's prepared parameters.
macro_rules! kernels {
    ($($(#[$doc:meta])* $variant:ident($ty:ty)),* $(,)?) => {
        /// A prepared operator: plain data (spans into the program's constant
        /// pools instead of references), the same on the host and in flash.
        #[derive(Clone, Copy, Debug, PartialEq)]
        pub enum Kernel {
            $($(#[$doc])* $variant($ty),)*
        }

        impl Kernel {
            pub fn eval(&self, consts: &Consts, inputs: &[In], out: Out, region: Rect) -> Result<()> {
                match self {
                    $(Kernel::$variant(k) => Eval::eval(k, consts, inputs, out, region),)*
                }
            }
        }

        impl crate::literal::Literal for Kernel {
            fn literal(&self, o: &mut dyn core::fmt::Write) -> core::fmt::Result {
                match self {
                    $(Kernel::$variant(k) => {
                        o.write_str(concat!("Kernel::", stringify!($variant), "("))?;
                        k.literal(o)?;
                        o.write_str(")")
                    })*
                }
            }
        }
    };
}

kernels! {
    Conv(ConvKernel),
    Depthwise(DepthwiseKernel),
    FullyConnected(FcKernel),
    Add(AddParams),
    Pad(PadKernel),
    Pool(PoolKernel),
    Mean(MeanKernel),
    /// RESHAPE: a copy (skipped when the layout aliases it in place).
    Reshape(Reshape),
    Concat(Concat),
    Softmax(SoftmaxKernel),
    QuantizeF32(QuantizeF32),
    Requantize(Requantize),
    Dequantize(Dequantize),
    Relu(ReluParams),
    Logistic(Logistic),
    HardSwish(HardSwishParams),
    Resize(Resize),
}

pub(crate) const fn full(s: [usize; 4]) -> Window {
    Window::full(s[0], s[1], s[2], s[3])
}

/// Whether an operand of shape `s` broadcasts over every pixel of an output
/// of shape `o` (a `[.., 1, 1, C]` or scalar operand).
pub fn is_spatial_broadcast(s: [usize; 4], o: [usize; 4]) -> bool {
    s[1] * s[2] == 1 && o[1] * o[2] > 1
}

/// (batch, row) pairs of a region.
pub(crate) fn rows(ow: Window, region: Rect) -> impl Iterator<Item = (usize, usize)> {
    (0..ow.n).flat_map(move |b| (region.y..region.y_end()).map(move |y| (b, y)))
}

fn window_error() -> Error {
    Error::Program("an operand window does not cover the region")
}

pub(crate) fn sub(d: &[u8], start: usize, len: usize) -> Result<&[u8]> {
    d.get(start..start + len).ok_or_else(window_error)
}

pub(crate) fn sub_mut(d: &mut [u8], start: usize, len: usize) -> Result<&mut [u8]> {
    d.get_mut(start..start + len).ok_or_else(window_error)
}

/// Checks that every kernel operand and the output hold what a whole-tensor
/// operator reads and writes.
pub(crate) fn whole(inputs: &[In], out: &Out, region: Rect) -> Result<()> {
    let ok = out.win == full(out.shape)
        && region == out.win.rect
        && out.data.len() >= out.win.len() * out.elem
        && inputs.iter().all(|i| i.win == full(i.shape) && i.data.len() >= i.win.len() * i.elem);
    if ok {
        Ok(())
    } else {
        Err(Error::Program("an operator that needs whole tensors got a window"))
    }
}

/// The first data operand.
pub(crate) fn first<'d>(inputs: &[In<'d>]) -> Result<In<'d>> {
    inputs.first().copied().ok_or(Error::Program("an operator has no data operand"))
}

/// Element-wise evaluation: `f(operands, out, row)` runs on buffers whose
/// elements correspond one to one (or broadcast). Whole buffers are passed
/// for whole tensors (any broadcasting) and when every window is the region
/// (`row` is `None`); otherwise one output row at a time, since a window row
/// is contiguous (`row` is `Some(width)`; a spatially broadcast operand is
/// passed whole).
pub(crate) fn elementwise(
    inputs: &[In],
    out: Out,
    region: Rect,
    mut f: impl FnMut(&[In], &mut [u8], Option<usize>) -> Result<()>,
) -> Result<()> {
    let ow = out.win;
    let layer = ow == full(out.shape) && inputs.iter().all(|i| i.win == full(i.shape));
    if ow.rect == region && (layer || inputs.iter().all(|i| i.win.rect == region)) {
        return f(inputs, out.data, None);
    }
    let Some(&x) = inputs.first() else { return Err(Error::Program("an operator has no data operand")) };
    let mut row_inputs = [x; 2];
    if inputs.len() > row_inputs.len() {
        return Err(Error::Program("an element-wise operator has more than two operands"));
    }
    for (b, y) in rows(ow, region) {
        for (k, i) in inputs.iter().enumerate() {
            row_inputs[k] = if is_spatial_broadcast(i.shape, out.shape) {
                *i
            } else {
                let s = i.win.offset(b, y, region.x) * i.elem;
                In { data: sub(i.data, s, region.w * i.win.c * i.elem)?, ..*i }
            };
        }
        let o = ow.offset(b, y, region.x) * out.elem;
        f(&row_inputs[..inputs.len()], sub_mut(out.data, o, region.w * ow.c * out.elem)?, Some(region.w))?;
    }
    Ok(())
}

/// An element-wise int8 → int8 map on one operand.
pub(crate) fn map_i8(inputs: &[In], out: Out, region: Rect, f: impl Fn(&[i8], &mut [i8])) -> Result<()> {
    elementwise(inputs, out, region, |ins, o, _| {
        f(crate::arena::as_i8(ins[0].data), crate::arena::as_i8_mut(o));
        Ok(())
    })
}
