//! MAX_POOL_2D and AVERAGE_POOL_2D: int8, padded taps excluded.

use crate::error::Result;
use crate::kernels::conv::Geometry;
use crate::kernels::pool::{pool2d, PoolKind};
use crate::literal_struct;
use crate::op::{window_rect, Activation, Axis, Padding};
use crate::ops::{first, Eval, In, Out};
use crate::program::Consts;
use crate::region::Rect;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Pool2d {
    pub padding: Padding,
    pub h: Axis,
    pub w: Axis,
    pub activation: Activation,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PoolKernel {
    pub kind: PoolKind,
    pub geom: Geometry,
    pub act: (i32, i32),
}
literal_struct!(PoolKernel { kind, geom, act });
literal_struct!(
    enum PoolKind {
        Max,
        Average,
    }
);

impl Pool2d {
    pub fn input_rect(&self, out: Rect, in_hw: (usize, usize), out_hw: (usize, usize)) -> Rect {
        window_rect(self.padding, self.h, self.w, out, in_hw, out_hw)
    }

    #[cfg(feature = "alloc")]
    pub(crate) fn validate(&self, c: &crate::validate::Ctx) -> Result<()> {
        let (inp, out, [qi, qo]) = c.int8_images()?;
        if qi != qo {
            return Err(c.shape_err("pool input and output quantization differ", out.0));
        }
        c.window_output(
            self.padding,
            self.h,
            self.w,
            inp.1,
            out,
            inp.1.shape[3],
            "output shape does not match the pool",
        )?;
        if self.h.kernel * self.w.kernel > crate::validate::MAX_ACCUMULATION {
            return Err(c.err("pool window too large for an int32 accumulator"));
        }
        Ok(())
    }

    #[cfg(feature = "alloc")]
    pub(crate) fn prepare(&self, p: &mut crate::lower::Prepare, kind: PoolKind) -> Result<PoolKernel> {
        let (so, zo) = p.quant(p.output())?;
        let geom = super::conv::geometry_of(p, self.padding, self.h, self.w)?;
        Ok(PoolKernel { kind, geom, act: crate::kernels::activation_range(self.activation, so, zo) })
    }
}

impl Eval for PoolKernel {
    fn eval(&self, _: &Consts, inputs: &[In], out: Out, region: Rect) -> Result<()> {
        let x = first(inputs)?;
        let (xd, od) = (crate::arena::as_i8(x.data), crate::arena::as_i8_mut(out.data));
        pool2d(self.kind, &self.geom, self.act.0, self.act.1, xd, x.win, od, out.win, region);
        Ok(())
    }
}
