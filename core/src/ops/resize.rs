//! RESIZE_BILINEAR (int8, 10-bit fixed-point source coordinates) and
//! RESIZE_NEAREST_NEIGHBOR, neither requantizing. Both need whole tensors for
//! now (they end a patch stage).

use crate::error::Result;
use crate::kernels::resize::ResizeParams;
use crate::literal_struct;
use crate::ops::{first, whole, Eval, In, Out};
use crate::program::Consts;
use crate::region::Rect;

/// The options of both resizes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ResizeOptions {
    pub align_corners: bool,
    pub half_pixel_centers: bool,
}

/// RESIZE_BILINEAR's kernel.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Resize {
    pub params: ResizeParams,
}
literal_struct!(Resize { params });
literal_struct!(ResizeParams { align_corners, half_pixel_centers, in_shape, out_shape, scale_h, scale_w });

/// RESIZE_NEAREST_NEIGHBOR's kernel (the same parameters, another eval).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Nearest {
    pub params: ResizeParams,
}
literal_struct!(Nearest { params });

impl ResizeOptions {
    /// int8 NHWC in and out, a constant size equal to the output's.
    #[cfg(feature = "alloc")]
    pub(crate) fn validate(&self, c: &crate::validate::Ctx) -> Result<()> {
        if self.align_corners && self.half_pixel_centers {
            return Err(c.err("a resize cannot combine align_corners and half_pixel_centers"));
        }
        let (inp, out, _) = c.int8_images()?;
        let size = c.input(1)?;
        let s = size.1.data.as_ref().and_then(|d| d.as_ints()).ok_or(c.err("a resize needs a constant size"))?;
        let (is, os) = (&inp.1.shape, &out.1.shape);
        if s.len() != 2 || s[0] as usize != os[1] || s[1] as usize != os[2] || os[0] != is[0] || os[3] != is[3] {
            return Err(c.shape_err("the resize's output shape does not match its size operand", out.0));
        }
        Ok(())
    }

    #[cfg(feature = "alloc")]
    pub(crate) fn prepare(&self, p: &mut crate::lower::Prepare) -> Result<ResizeParams> {
        let (is, os) = (p.shape(p.input(0)?), p.shape(p.output()));
        Ok(ResizeParams::prepare(self.align_corners, self.half_pixel_centers, &is, &os))
    }
}

/// A resize over whole tensors.
fn eval_whole(inputs: &[In], out: Out, region: Rect, f: impl FnOnce(&[i8], &mut [i8])) -> Result<()> {
    whole(inputs, &out, region)?;
    f(crate::arena::as_i8(first(inputs)?.data), crate::arena::as_i8_mut(out.data));
    Ok(())
}

impl Eval for Resize {
    fn eval(&self, _: &Consts, inputs: &[In], out: Out, region: Rect) -> Result<()> {
        eval_whole(inputs, out, region, |x, o| self.params.eval(x, o))
    }
}

impl Eval for Nearest {
    fn eval(&self, _: &Consts, inputs: &[In], out: Out, region: Rect) -> Result<()> {
        eval_whole(inputs, out, region, |x, o| self.params.eval_nearest(x, o))
    }
}
