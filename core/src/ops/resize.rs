//! RESIZE_BILINEAR (int8, 10-bit fixed-point source coordinates) and
//! RESIZE_NEAREST_NEIGHBOR, neither requantizing. Each output pixel reads a
//! few input pixels near its source coordinate, so both are window
//! operators: they can sit in a patch stage (an upsampling neck).

use crate::error::Result;
use crate::kernels::resize::ResizeParams;
use crate::literal_struct;
use crate::ops::{first, Eval, In, Out};
use crate::program::Consts;
use crate::region::Rect;

/// The largest side a resize takes: its source coordinates (side × 1024 plus
/// rounding) must fit in 32 bits.
pub const MAX_RESIZE_SIDE: usize = 1 << 19;

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
    /// The input rectangle output rectangle `out` reads (`nearest`: RESIZE_NEAREST_NEIGHBOR).
    pub fn input_rect(&self, out: Rect, in_hw: (usize, usize), out_hw: (usize, usize), nearest: bool) -> Rect {
        let p = ResizeParams::prepare(
            self.align_corners,
            self.half_pixel_centers,
            &[1, in_hw.0, in_hw.1, 1],
            &[1, out_hw.0, out_hw.1, 1],
        );
        let span = |o0, o1, horizontal| {
            if nearest {
                p.nearest_span(o0, o1, horizontal)
            } else {
                p.input_span(o0, o1, horizontal)
            }
        };
        let ((y0, y1), (x0, x1)) = (span(out.y, out.y_end(), false), span(out.x, out.x_end(), true));
        Rect::new(y0, x0, y1 + 1 - y0, x1 + 1 - x0)
    }

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
        // Source coordinates are 10-bit fixed point in 32 bits (as in TFLite):
        // larger sides would overflow them.
        if let Some(&side) = [is[1], is[2], os[1], os[2]].iter().max().filter(|&&v| v > MAX_RESIZE_SIDE) {
            return Err(crate::error::Error::Limit {
                what: "a resize's height or width (10-bit fixed point in 32 bits)",
                value: side as u64,
                limit: MAX_RESIZE_SIDE as u64,
            });
        }
        Ok(())
    }

    #[cfg(feature = "alloc")]
    pub(crate) fn prepare(&self, p: &mut crate::lower::Prepare) -> Result<ResizeParams> {
        let (is, os) = (p.shape(p.input(0)?), p.shape(p.output()));
        Ok(ResizeParams::prepare(self.align_corners, self.half_pixel_centers, &is, &os))
    }
}

impl Eval for Resize {
    fn eval(&self, _: &Consts, inputs: &[In], out: Out, region: Rect) -> Result<()> {
        let x = first(inputs)?;
        let (xd, od) = (crate::arena::as_i8(x.data), crate::arena::as_i8_mut(out.data));
        self.params.eval_region(xd, x.win, od, out.win, region);
        Ok(())
    }
}

impl Eval for Nearest {
    fn eval(&self, _: &Consts, inputs: &[In], out: Out, region: Rect) -> Result<()> {
        let x = first(inputs)?;
        let (xd, od) = (crate::arena::as_i8(x.data), crate::arena::as_i8_mut(out.data));
        self.params.eval_nearest_region(xd, x.win, od, out.win, region);
        Ok(())
    }
}
