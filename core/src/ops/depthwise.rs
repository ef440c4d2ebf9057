//! DEPTHWISE_CONV_2D: int8, any depth multiplier, per-channel weights.
//! With multiplier 1 it can also run in place, channel by channel
//! (`program::Program` calls [`crate::kernels::depthwise::depthwise_conv2d_inplace`]).

#[cfg(feature = "alloc")]
use crate::error::Error;
use crate::error::Result;
use crate::kernels::conv::{Geometry, OutputStage};
use crate::kernels::depthwise::depthwise_conv2d;
use crate::literal_struct;
use crate::op::{window_rect, Activation, Axis, Padding};
use crate::ops::{first, Eval, In, Out};
use crate::program::{Consts, Span};
use crate::region::Rect;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DepthwiseConv2d {
    pub padding: Padding,
    pub h: Axis,
    pub w: Axis,
    pub depth_multiplier: usize,
    pub activation: Activation,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DepthwiseKernel {
    pub geom: Geometry,
    pub multiplier: usize,
    pub input_offset: i32,
    pub output_offset: i32,
    pub act: (i32, i32),
    pub multipliers: Span,
    /// int8 weights `[1, kh, kw, in_c * multiplier]`.
    pub filter: Span,
    pub bias: Option<Span>,
}
literal_struct!(DepthwiseKernel { geom, multiplier, input_offset, output_offset, act, multipliers, filter, bias });

impl DepthwiseConv2d {
    pub fn input_rect(&self, out: Rect, in_hw: (usize, usize), out_hw: (usize, usize)) -> Rect {
        window_rect(self.padding, self.h, self.w, out, in_hw, out_hw)
    }

    pub fn macs(&self, pixels: u64, out_c: usize) -> u64 {
        pixels * out_c as u64 * (self.h.kernel * self.w.kernel) as u64
    }

    #[cfg(feature = "alloc")]
    pub(crate) fn validate(&self, c: &crate::validate::Ctx) -> Result<()> {
        let inp = c.input(0)?;
        let out = c.output();
        c.int8_act(inp)?;
        c.int8_act(out)?;
        c.rank(inp, 4)?;
        c.rank(out, 4)?;
        let f = c.weights(1, 4)?;
        let (is, fs, os) = (&inp.1.shape, &f.1.shape, &out.1.shape);
        if fs[0] != 1 || fs[3] != is[3] * self.depth_multiplier {
            return Err(c.shape_err("depthwise filter must be [1, kh, kw, in_c * multiplier]", f.0));
        }
        c.per_channel(f, fs[3], 3)?;
        c.bias(2, fs[3])?;
        let expect = [is[0], self.h.out_size(self.padding, is[1]), self.w.out_size(self.padding, is[2]), fs[3]];
        if os[..] != expect[..] {
            return Err(c.shape_err("output shape does not match the depthwise convolution", out.0));
        }
        Ok(())
    }

    #[cfg(feature = "alloc")]
    pub(crate) fn prepare(&self, p: &mut crate::lower::Prepare) -> Result<DepthwiseKernel> {
        let (input, out, filter) = (p.input(0)?, p.output(), p.input(1)?);
        let ((si, zi), (so, zo)) = (p.quant(input)?, p.quant(out)?);
        let oc = p.shape(out)[3];
        let fs =
            p.tensor(filter).quant.scales(oc).ok_or(Error::Quantization { tensor: filter, what: "filter scales" })?;
        Ok(DepthwiseKernel {
            geom: super::conv::geometry(self.padding, self.h, self.w, p.shape(input), p.shape(out)),
            multiplier: self.depth_multiplier,
            input_offset: -zi,
            output_offset: zo,
            act: crate::kernels::activation_range(self.activation, so, zo),
            multipliers: p.multipliers(crate::kernels::conv::channel_multipliers(si, &fs, so))?,
            filter: p.weights(1)?,
            bias: p.bias(2)?,
        })
    }
}

impl DepthwiseKernel {
    pub(crate) fn stage<'c>(&self, c: &Consts<'c>) -> Result<OutputStage<'c>> {
        Ok(OutputStage {
            input_offset: self.input_offset,
            output_offset: self.output_offset,
            act_min: self.act.0,
            act_max: self.act.1,
            multipliers: c.multipliers(self.multipliers)?,
        })
    }
}

impl Eval for DepthwiseKernel {
    fn eval(&self, c: &Consts, inputs: &[In], out: Out, region: Rect) -> Result<()> {
        let x = first(inputs)?;
        let (filter, bias) = (c.i8(self.filter)?, c.bias(self.bias)?);
        let st = self.stage(c)?;
        let (x_data, o_data) = (crate::arena::as_i8(x.data), crate::arena::as_i8_mut(out.data));
        depthwise_conv2d(&self.geom, self.multiplier, &st, x_data, x.win, filter, bias, o_data, out.win, region);
        Ok(())
    }
}
