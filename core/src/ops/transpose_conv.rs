//! TRANSPOSE_CONV: int8 with per-channel symmetric weights, the upsampling
//! layer of decoders and feature pyramids. Each output region gathers its
//! own taps (see `kernels::transpose_conv`), so it has a receptive-field rule
//! and can sit in a patch stage. The loader puts the operands in data-first
//! order: input, weights, bias, output shape.

#[cfg(feature = "alloc")]
use crate::error::Error;
use crate::error::Result;
use crate::kernels::transpose_conv::{transpose_conv, Upsampling};
use crate::literal_struct;
use crate::op::{Activation, Axis, Padding};
use crate::ops::conv::Weights;
use crate::ops::{first, Eval, In, Out};
use crate::program::Consts;
use crate::region::Rect;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TransposeConv {
    pub padding: Padding,
    /// Filter size and stride per axis (no dilation).
    pub h: Axis,
    pub w: Axis,
    pub activation: Activation,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TransposeConvKernel {
    pub geom: Upsampling,
    pub weights: Weights,
}
literal_struct!(TransposeConvKernel { geom, weights });
literal_struct!(Upsampling { in_h, in_w, kh, kw, stride_h, stride_w, pad_top, pad_left });

impl TransposeConv {
    /// Padding before the first output, as TFLite computes it: the forward
    /// convolution's SAME/VALID padding with the output in the input's place.
    fn pad(a: Axis, padding: Padding, out: usize) -> usize {
        a.pad_before(padding, out, a.out_size(padding, out))
    }

    pub fn input_rect(&self, out: Rect, in_hw: (usize, usize), out_hw: (usize, usize)) -> Rect {
        let (ph, pw) = (Self::pad(self.h, self.padding, out_hw.0), Self::pad(self.w, self.padding, out_hw.1));
        let (y0, y1) = Upsampling::input_span(out.y, out.y_end(), ph, self.h.kernel, self.h.stride, in_hw.0);
        let (x0, x1) = Upsampling::input_span(out.x, out.x_end(), pw, self.w.kernel, self.w.stride, in_hw.1);
        Rect::new(y0, x0, y1 - y0, x1 - x0)
    }

    /// Taps land on an output pixel `kernel / stride` times per axis on average.
    pub fn macs(&self, pixels: u64, in_c: usize, out_c: usize) -> u64 {
        let taps = (self.h.kernel * self.w.kernel) as u64 / (self.h.stride * self.w.stride) as u64;
        pixels * taps.max(1) * (in_c * out_c) as u64
    }

    #[cfg(feature = "alloc")]
    pub(crate) fn validate(&self, c: &crate::validate::Ctx) -> Result<()> {
        let (inp, out, _) = c.int8_images()?;
        let f = c.weights(1, 4)?;
        let (is, fs, os) = (&inp.1.shape, &f.1.shape, &out.1.shape);
        if fs[3] != is[3] || fs[0] != os[3] || (fs[1], fs[2]) != (self.h.kernel, self.w.kernel) {
            return Err(c.shape_err("TRANSPOSE_CONV filter does not match its input and output channels", f.0));
        }
        c.per_channel(f, fs[0], 0)?;
        c.bias(2, fs[0])?;
        if fs[1] * fs[2] * fs[3] > crate::validate::MAX_ACCUMULATION {
            return Err(c.shape_err("transposed convolution window too large for an int32 accumulator", f.0));
        }
        let shape = c.input(3)?;
        let declared = shape.1.data.as_ref().and_then(crate::graph::ConstData::as_ints);
        let matches = declared.is_some_and(|d| d.len() == 4 && d.iter().zip(os).all(|(&a, &b)| a == b as i64));
        if !matches || os[0] != is[0] || os[1] == 0 || os[2] == 0 {
            return Err(c.shape_err("TRANSPOSE_CONV output_shape operand differs from its output", out.0));
        }
        Ok(())
    }

    #[cfg(feature = "alloc")]
    pub(crate) fn prepare(&self, p: &mut crate::lower::Prepare) -> Result<TransposeConvKernel> {
        let (i, o) = (p.shape(p.input(0)?), p.shape(p.output()));
        let geom = Upsampling {
            in_h: i[1],
            in_w: i[2],
            kh: self.h.kernel,
            kw: self.w.kernel,
            stride_h: self.h.stride,
            stride_w: self.w.stride,
            pad_top: Self::pad(self.h, self.padding, o[1]),
            pad_left: Self::pad(self.w, self.padding, o[2]),
        };
        if geom.kh == 0 || geom.kw == 0 {
            return Err(Error::at_op("TRANSPOSE_CONV filter is empty", p.op_index));
        }
        Ok(TransposeConvKernel { geom, weights: Weights::prepare(p, self.activation)? })
    }
}

impl Eval for TransposeConvKernel {
    fn eval(&self, c: &Consts, inputs: &[In], out: Out, region: Rect) -> Result<()> {
        let x = first(inputs)?;
        let k = self.weights.resolve(c)?;
        let (xd, od) = (crate::arena::as_i8(x.data), crate::arena::as_i8_mut(out.data));
        transpose_conv(&self.geom, &k, xd, x.win, od, out.win, region);
        Ok(())
    }
}
