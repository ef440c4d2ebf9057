//! DEPTHWISE_CONV_2D: int8, any depth multiplier, per-channel weights.
//! With multiplier 1 it can also run in place, channel by channel
//! (`program::Program` calls [`crate::kernels::fast::depthwise::depthwise_conv2d_inplace`]).

use crate::error::Result;
use crate::kernels::conv::Geometry;
use crate::kernels::fast::depthwise::{depthwise_conv2d_in, dilated, Runs};
use crate::literal_struct;
use crate::op::{window_rect, Activation, Axis, Padding};
use crate::ops::conv::Weights;
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
    pub weights: Weights,
    /// `bias[c] + input_offset·Σ_taps filter[tap][c]` per channel: where the optimized kernels' accumulators start.
    pub folded: Span,
}
literal_struct!(DepthwiseKernel { geom, multiplier, weights, folded });

impl DepthwiseConv2d {
    pub fn input_rect(&self, out: Rect, in_hw: (usize, usize), out_hw: (usize, usize)) -> Rect {
        window_rect(self.padding, self.h, self.w, out, in_hw, out_hw)
    }

    pub fn macs(&self, pixels: u64, out_c: usize) -> u64 {
        pixels * out_c as u64 * (self.h.kernel * self.w.kernel) as u64
    }

    #[cfg(feature = "alloc")]
    pub(crate) fn validate(&self, c: &crate::validate::Ctx) -> Result<()> {
        let (inp, out, _) = c.int8_images()?;
        let f = c.weights(1, 4)?;
        let (is, fs) = (&inp.1.shape, &f.1.shape);
        if fs[0] != 1 || fs[3] != is[3] * self.depth_multiplier {
            return Err(c.shape_err("depthwise filter must be [1, kh, kw, in_c * multiplier]", f.0));
        }
        c.per_channel(f, fs[3], 3)?;
        c.bias(2, fs[3])?;
        let what = "output shape does not match the depthwise convolution";
        c.window_output(self.padding, self.h, self.w, inp.1, out, fs[3], what)
    }

    #[cfg(feature = "alloc")]
    pub(crate) fn prepare(&self, p: &mut crate::lower::Prepare) -> Result<DepthwiseKernel> {
        let geom = super::conv::geometry_of(p, self.padding, self.h, self.w)?;
        let weights = Weights::prepare(p, self.activation)?;
        let channels = p.shape(p.output())[3];
        let (filter, bias) = (p.weight_data(1)?, p.bias_data(2)?);
        let folded =
            p.i32s(crate::kernels::fast::depthwise::folded_bias(filter, channels, bias, weights.input_offset))?;
        Ok(DepthwiseKernel { geom, multiplier: self.depth_multiplier, weights, folded })
    }
}

impl Eval for DepthwiseKernel {
    fn eval(&self, c: &Consts, inputs: &[In], out: Out, region: Rect) -> Result<()> {
        let x = first(inputs)?;
        let k = self.weights.resolve(c)?;
        let (xd, od) = (crate::arena::as_i8(x.data), crate::arena::as_i8_mut(out.data));
        let (g, folded) = (&self.geom, c.i32(self.folded)?);
        // Boards keep the reference for dilated windows: a second kernel
        // call here moved the undilated kernel's code (MobileNetV3's count
        // rose 1 % on the Cortex-M7, whatever the dilated kernel held).
        if cfg!(not(target_arch = "arm")) && (g.dil_h != 1 || g.dil_w != 1) {
            dilated(g, self.multiplier, &k, folded, xd, x.win, od, out.win, region);
        } else {
            depthwise_conv2d_in(g, self.multiplier, &k, folded, xd, x.win, od, out.win, region, &mut Runs::new());
        }
        Ok(())
    }
}
