//! PAD: int8, filled with the output zero point. Spatial padding is a
//! window rule (each output pixel reads at most one input pixel), so PAD can
//! sit inside a patch stage.

use crate::error::Result;
use crate::kernels::pad::pad;
use crate::literal_struct;
use crate::op::Axis;
use crate::ops::{first, Eval, In, Out};
use crate::program::Consts;
use crate::region::Rect;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Pad {
    /// `[before, after]` for each of the four NHWC dimensions.
    pub paddings: [[usize; 2]; 4],
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PadKernel {
    pub value: i8,
    pub paddings: [[usize; 2]; 4],
}
literal_struct!(PadKernel { value, paddings });

impl Pad {
    pub fn input_rect(&self, out: Rect, in_hw: (usize, usize)) -> Rect {
        let unit = Axis { kernel: 1, stride: 1, dilation: 1 };
        let (y0, y1) = unit.input_span(self.paddings[1][0], in_hw.0, out.y, out.y_end());
        let (x0, x1) = unit.input_span(self.paddings[2][0], in_hw.1, out.x, out.x_end());
        Rect::new(y0, x0, y1 - y0, x1 - x0)
    }

    #[cfg(feature = "alloc")]
    pub(crate) fn validate(&self, c: &crate::validate::Ctx) -> Result<()> {
        let (inp, out, [qi, qo]) = c.int8_images()?;
        if qi != qo {
            return Err(c.shape_err("PAD input and output quantization differ", out.0));
        }
        for d in 0..4 {
            if out.1.shape[d] != inp.1.shape[d] + self.paddings[d][0] + self.paddings[d][1] {
                return Err(c.shape_err("PAD output shape does not match the paddings", out.0));
            }
        }
        Ok(())
    }

    #[cfg(feature = "alloc")]
    pub(crate) fn prepare(&self, p: &mut crate::lower::Prepare) -> Result<PadKernel> {
        let (_, zo) = p.quant(p.output())?;
        let value = i8::try_from(zo).map_err(|_| p.err("PAD zero point is outside int8"))?;
        Ok(PadKernel { value, paddings: self.paddings })
    }
}

impl Eval for PadKernel {
    fn eval(&self, _: &Consts, inputs: &[In], out: Out, region: Rect) -> Result<()> {
        let x = first(inputs)?;
        let (xd, od) = (crate::arena::as_i8(x.data), crate::arena::as_i8_mut(out.data));
        pad(&self.paddings, x.shape, self.value, xd, x.win, od, out.win, region);
        Ok(())
    }
}
