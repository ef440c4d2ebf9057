//! MEAN over any set of axes of an int8 tensor of rank ≤ 4. Global: it ends
//! a patch stage.

use crate::error::Result;
use crate::kernels::mean::MeanParams;
use crate::literal_struct;
use crate::ops::{first, whole, Eval, In, Out};
use crate::program::Consts;
use crate::region::Rect;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Mean {
    /// Bit `i` set: dimension `i` (of the input's own rank) is reduced.
    pub axes: u8,
    pub keep_dims: bool,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MeanKernel {
    pub params: MeanParams,
    /// Bit mask over the four NHWC dimensions.
    pub axes: u32,
}
literal_struct!(MeanKernel { params, axes });
literal_struct!(MeanParams { input_zero_point, output_zero_point, multiplier, shift, count });

impl Mean {
    #[cfg(feature = "alloc")]
    pub(crate) fn validate(&self, c: &crate::validate::Ctx) -> Result<()> {
        use alloc::vec::Vec;
        let (inp, out, _) = c.int8_in_out()?;
        if inp.1.shape.len() > 4 {
            return Err(c.shape_err("MEAN supports up to 4-D tensors", inp.0));
        }
        if inp.1.elements() / out.1.elements().max(1) > 1 << 23 {
            return Err(c.shape_err("MEAN reduces too many elements for an int32 accumulator", inp.0));
        }
        let expect: Vec<usize> = inp
            .1
            .shape
            .iter()
            .enumerate()
            .filter_map(|(d, &n)| {
                if self.axes & (1 << d) == 0 {
                    Some(n)
                } else if self.keep_dims {
                    Some(1)
                } else {
                    None
                }
            })
            .collect();
        if out.1.shape != expect && out.1.elements() != expect.iter().product::<usize>() {
            return Err(c.shape_err("MEAN output shape does not match the reduction", out.0));
        }
        Ok(())
    }

    #[cfg(feature = "alloc")]
    pub(crate) fn prepare(&self, p: &mut crate::lower::Prepare) -> Result<MeanKernel> {
        let (input, out) = (p.input(0)?, p.output());
        let rank = p.tensor(input).shape.len();
        let shift = 4usize.checked_sub(rank).ok_or_else(|| p.err("MEAN input rank above 4"))?;
        let axes = (self.axes as u32) << shift;
        let s = p.shape(input);
        let count: usize = (0..4).filter(|d| axes & (1 << d) != 0).map(|d| s[d]).product();
        let ((si, zi), (so, zo)) = (p.quant(input)?, p.quant(out)?);
        Ok(MeanKernel { params: MeanParams::prepare(si, zi, so, zo, count), axes })
    }
}

impl Eval for MeanKernel {
    fn eval(&self, _: &Consts, inputs: &[In], out: Out, region: Rect) -> Result<()> {
        whole(inputs, &out, region)?;
        let x = first(inputs)?;
        self.params.eval(crate::arena::as_i8(x.data), x.shape, self.axes, crate::arena::as_i8_mut(out.data));
        Ok(())
    }
}
