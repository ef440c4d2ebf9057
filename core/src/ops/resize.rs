//! RESIZE_BILINEAR (int8, 10-bit fixed-point source coordinates) and
//! RESIZE_NEAREST_NEIGHBOR, neither requantizing. Both need whole tensors for
//! now (they end a patch stage).

use crate::error::Result;
use crate::kernels::resize::{NearestParams, ResizeParams};
use crate::literal_struct;
use crate::ops::{first, whole, Eval, In, Out};
use crate::program::Consts;
use crate::region::Rect;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ResizeBilinear {
    pub align_corners: bool,
    pub half_pixel_centers: bool,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Resize {
    pub params: ResizeParams,
}
literal_struct!(Resize { params });
literal_struct!(ResizeParams { align_corners, half_pixel_centers, in_shape, out_shape, scale_h, scale_w });

/// RESIZE_NEAREST_NEIGHBOR's options.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ResizeNearest {
    pub align_corners: bool,
    pub half_pixel_centers: bool,
}
literal_struct!(NearestParams { align_corners, half_pixel_centers, in_shape, out_shape });

impl ResizeNearest {
    #[cfg(feature = "alloc")]
    pub(crate) fn validate(&self, c: &crate::validate::Ctx) -> Result<()> {
        ResizeBilinear { align_corners: self.align_corners, half_pixel_centers: self.half_pixel_centers }.validate(c)
    }

    #[cfg(feature = "alloc")]
    pub(crate) fn prepare(&self, p: &mut crate::lower::Prepare) -> Result<NearestParams> {
        let (in_shape, out_shape) = (p.shape(p.input(0)?), p.shape(p.output()));
        Ok(NearestParams {
            align_corners: self.align_corners,
            half_pixel_centers: self.half_pixel_centers,
            in_shape,
            out_shape,
        })
    }
}

impl Eval for NearestParams {
    fn eval(&self, _: &Consts, inputs: &[In], out: Out, region: Rect) -> Result<()> {
        whole(inputs, &out, region)?;
        self.eval(crate::arena::as_i8(first(inputs)?.data), crate::arena::as_i8_mut(out.data));
        Ok(())
    }
}

impl ResizeBilinear {
    /// Also RESIZE_NEAREST_NEIGHBOR's: int8 NHWC in and out, a constant size equal to the output's.
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
    pub(crate) fn prepare(&self, p: &mut crate::lower::Prepare) -> Result<Resize> {
        let (is, os) = (p.shape(p.input(0)?), p.shape(p.output()));
        Ok(Resize { params: ResizeParams::prepare(self.align_corners, self.half_pixel_centers, &is, &os) })
    }
}

impl Eval for Resize {
    fn eval(&self, _: &Consts, inputs: &[In], out: Out, region: Rect) -> Result<()> {
        whole(inputs, &out, region)?;
        let x = first(inputs)?;
        self.params.eval(crate::arena::as_i8(x.data), crate::arena::as_i8_mut(out.data));
        Ok(())
    }
}
