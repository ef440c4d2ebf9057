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
pub mod arg;
pub mod binary;
pub mod concat;
pub mod conv;
pub mod depthwise;
pub mod fully_connected;
pub mod gather;
pub mod mean;
pub mod pad;
pub mod pool;
pub mod quantize;
pub mod reshape;
pub mod resize;
pub mod softmax;
pub mod space;
pub mod tile;
pub mod transpose;
pub mod transpose_conv;

// Every type a kernel literal names, so exported code needs one `use ops::*`.
pub use crate::fixedpoint::QuantizedMultiplier;
pub use crate::kernels::binary::{MulParams, PreluParams, Rescale, RescaledParams};
pub use crate::kernels::conv::Geometry;
pub use crate::kernels::log_softmax::LogSoftmaxParams;
pub use crate::kernels::mean::MeanParams;
pub use crate::kernels::pool::PoolKind;
pub use crate::kernels::quantize::Requantize;
pub use crate::kernels::resize::ResizeParams;
pub use crate::kernels::softmax::SoftmaxParams;
pub use crate::kernels::transpose_conv::Upsampling;
pub use crate::program::Span;
pub use activation::Table;
pub use arg::ArgKernel;
pub use binary::{Binary, Extremum, MulKernel, RescaledKernel};
pub use concat::Concat;
pub use conv::{ConvKernel, Weights};
pub use depthwise::DepthwiseKernel;
pub use fully_connected::FcKernel;
pub use gather::GatherKernel;
pub use mean::{MeanKernel, ReduceKernel};
pub use pad::PadKernel;
pub use pool::PoolKernel;
pub use quantize::{Dequantize, QuantizeF32};
pub use reshape::Reshape;
pub use resize::{Nearest, Resize};
pub use softmax::{L2NormKernel, LogSoftmaxKernel, SoftmaxKernel};
pub use space::{BatchSpaceKernel, SpaceDepthKernel};
pub use tile::NdCopyKernel;
pub use transpose::TransposeKernel;
pub use transpose_conv::TransposeConvKernel;

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
    /// ADD, SUB and SQUARED_DIFFERENCE.
    Rescaled(RescaledKernel),
    Mul(MulKernel),
    /// MAXIMUM and MINIMUM.
    Extremum(Extremum),
    Prelu(PreluParams),
    Pad(PadKernel),
    Pool(PoolKernel),
    Mean(MeanKernel),
    /// REDUCE_MAX and REDUCE_MIN.
    Reduce(ReduceKernel),
    /// RESHAPE: a copy (skipped when the layout aliases it in place).
    Reshape(Reshape),
    Concat(Concat),
    Softmax(SoftmaxKernel),
    LogSoftmax(LogSoftmaxKernel),
    L2Norm(L2NormKernel),
    QuantizeF32(QuantizeF32),
    Requantize(Requantize),
    Dequantize(Dequantize),
    /// RELU, RELU6, LEAKY_RELU, LOGISTIC, TANH and HARD_SWISH: a table.
    Lookup(Table),
    Resize(Resize),
    ResizeNearest(Nearest),
    Transpose(TransposeKernel),
    SpaceDepth(SpaceDepthKernel),
    /// SPACE_TO_BATCH_ND and BATCH_TO_SPACE_ND.
    BatchSpace(BatchSpaceKernel),
    /// TILE, SLICE, STRIDED_SLICE and one output of SPLIT, SPLIT_V or UNPACK.
    NdCopy(NdCopyKernel),
    Gather(GatherKernel),
    TransposeConv(TransposeConvKernel),
    /// ARG_MAX and ARG_MIN.
    Arg(ArgKernel),
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

/// Element-wise evaluation: `f(operands, out, out_shape)` runs on buffers
/// whose elements correspond one to one or broadcast, each operand's `shape`
/// (and `out_shape`) being the NHWC shape of the buffer passed. Whole tensors
/// go in one call with their own shapes (any broadcasting). Otherwise, when
/// every operand window is exactly the region and has the output's shape, in
/// one call on the region; else one output row at a time (a window row is
/// contiguous): an operand that broadcasts over pixels is passed as its
/// `[1, 1, 1, C]` values, any other as its row of the region.
pub(crate) fn elementwise(
    inputs: &[In],
    out: Out,
    region: Rect,
    mut f: impl FnMut(&[In], &mut [u8], [usize; 4]) -> Result<()>,
) -> Result<()> {
    let ow = out.win;
    if ow == full(out.shape) && region == ow.rect && inputs.iter().all(|i| i.win == full(i.shape)) {
        return f(inputs, out.data, out.shape);
    }
    let Some(&x) = inputs.first() else { return Err(Error::Program("an operator has no data operand")) };
    let mut parts = [x; 2];
    if inputs.len() > parts.len() {
        return Err(Error::Program("an element-wise operator has more than two operands"));
    }
    if ow.rect == region && inputs.iter().all(|i| i.win.rect == region && i.shape == out.shape) {
        let shape = [ow.n, region.h, region.w, ow.c];
        for (k, i) in inputs.iter().enumerate() {
            parts[k] = In { shape, ..*i };
        }
        return f(&parts[..inputs.len()], out.data, shape);
    }
    for (b, y) in rows(ow, region) {
        for (k, i) in inputs.iter().enumerate() {
            // An operand with one image serves every image of the output.
            let ib = if i.shape[0] == 1 { 0 } else { b };
            parts[k] = if i.shape[1] * i.shape[2] == 1 {
                let c = i.shape[3];
                In { data: sub(i.data, ib * c * i.elem, c * i.elem)?, shape: [1, 1, 1, c], ..*i }
            } else {
                let s = i.win.offset(ib, y, region.x) * i.elem;
                In { data: sub(i.data, s, region.w * i.win.c * i.elem)?, shape: [1, 1, region.w, i.win.c], ..*i }
            };
        }
        let o = ow.offset(b, y, region.x) * out.elem;
        f(&parts[..inputs.len()], sub_mut(out.data, o, region.w * ow.c * out.elem)?, [1, 1, region.w, ow.c])?;
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

#[cfg(test)]
mod tests {
    //! The interpreter's element-wise path: a region computed from operand
    //! windows larger than it (rows picked out of each window, a broadcast
    //! `[1, 1, 1, C]` operand passed whole) equals that region of the
    //! whole-tensor evaluation.
    use super::*;
    use crate::kernels::testing::crop;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    fn rect_in(h: usize, w: usize, (y, x, rh, rw): Area) -> Rect {
        let (y, x) = (y % h, x % w);
        Rect::new(y, x, rh.min(h - y).max(1), rw.min(w - x).max(1))
    }

    type Area = (usize, usize, usize, usize);

    /// ADD on `[1, h, w, c]` (plus a `[1, 1, 1, c]` operand if `broadcast`):
    /// region `inner` of windows covering `outer`, and the same region of the whole.
    fn add_on_windows(
        h: usize,
        w: usize,
        c: usize,
        broadcast: bool,
        pairs: bool,
        outer: Area,
        inner: Area,
        seed: u64,
    ) -> (Vec<u8>, Vec<u8>) {
        let byte =
            |i: usize| (seed.wrapping_mul(0x9e37_79b9_7f4a_7c15).wrapping_add(i as u64 * 0x2545_f491) >> 40) as u8;
        let a: Vec<u8> = (0..h * w * c).map(byte).collect();
        let b: Vec<u8> = (0..if broadcast { c } else { h * w * c }).map(|i| byte(i + 7919)).collect();
        let (sa, sb) = ([1, h, w, c], if broadcast { [1, 1, 1, c] } else { [1, h, w, c] });
        let params = RescaledParams::prepare(Rescale::Add, 0.05, 3, 0.11, -9, 0.13, 2, (-128, 127));
        // With `pairs`, as the host's programs run it (the pair table), else as a board's.
        let table: Vec<u8> = match pairs {
            true => crate::kernels::fast::binary::pair_table(|a, b| params.apply(a, b)).map(|v| v as u8).collect(),
            false => Vec::new(),
        };
        let kernel = Kernel::Rescaled(RescaledKernel { params, pairs: Span { start: 0, len: table.len() as u32 } });
        let consts = Consts { bytes: &table, ..Consts::default() };
        let full_w = full(sa);
        let mut whole = alloc::vec![0u8; h * w * c];
        let ins = [view(&a, sa, full_w), view(&b, sb, full(sb))];
        kernel.eval(&consts, &ins, Out { data: &mut whole, win: full_w, shape: sa, elem: 1 }, full_w.rect).unwrap();

        let win_r = rect_in(h, w, outer);
        let region = rect_in(win_r.h, win_r.w, inner);
        let region = Rect::new(win_r.y + region.y, win_r.x + region.x, region.h, region.w);
        let win = Window::new(1, win_r, c);
        let a_win = crop(&a, w, c, win_r);
        let b_win = if broadcast { b.clone() } else { crop(&b, w, c, win_r) };
        let b_w = if broadcast { full(sb) } else { win };
        let mut out = alloc::vec![0u8; win.len()];
        let ins = [view(&a_win, sa, win), view(&b_win, sb, b_w)];
        kernel.eval(&consts, &ins, Out { data: &mut out, win, shape: sa, elem: 1 }, region).unwrap();
        let got = crop(&out, win_r.w, c, Rect::new(region.y - win_r.y, region.x - win_r.x, region.h, region.w));
        (got, crop(&whole, w, c, region))
    }

    /// Shrunk from the proptest: a one-pixel patch at the origin whose window
    /// equals the broadcast operand's `(0, 0, 1, 1)` took the whole-buffer
    /// path with whole-tensor shapes and indexed past the patch.
    #[test]
    fn regression_one_pixel_patch_with_a_broadcast_operand() {
        let (got, want) = add_on_windows(3, 1, 1, true, false, (3, 0, 1, 1), (0, 0, 1, 1), 0);
        assert_eq!(got, want);
    }

    proptest! {
        #[test]
        fn add_on_windows_equals_whole(
            (h, w, c) in (1usize..=6, 1usize..=6, 1usize..=3),
            broadcast in any::<bool>(),
            pairs in any::<bool>(),
            outer in (0usize..6, 0usize..6, 1usize..7, 1usize..7),
            inner in (0usize..6, 0usize..6, 1usize..7, 1usize..7),
            seed in any::<u64>(),
        ) {
            let (got, want) = add_on_windows(h, w, c, broadcast, pairs, outer, inner, seed);
            prop_assert_eq!(got, want);
        }
    }

    fn view(data: &[u8], shape: [usize; 4], win: Window) -> In<'_> {
        In { data, win, shape, elem: 1 }
    }
}
