//! MEAN, SUM, REDUCE_MAX and REDUCE_MIN over any set of axes of an int8
//! tensor of rank ≤ 4. Global: they end a patch stage.

use crate::error::Result;
use crate::kernels::mean::{reduce, MeanParams};
use crate::literal_struct;
use crate::ops::{first, whole, Eval, In, Out};
use crate::program::Consts;
use crate::region::Rect;

/// MEAN's or SUM's reduction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Mean {
    /// Bit `i` set: dimension `i` (of the input's own rank) is reduced.
    pub axes: u8,
    pub keep_dims: bool,
    /// SUM (else MEAN).
    pub sum: bool,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MeanKernel {
    pub params: MeanParams,
    /// Bit mask over the four NHWC dimensions.
    pub axes: u32,
}
literal_struct!(MeanKernel { params, axes });
literal_struct!(MeanParams { input_zero_point, output_zero_point, multiplier, shift, count });

/// REDUCE_MAX (`max`) or REDUCE_MIN over `axes` (as [`Mean`]'s).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Reduce {
    pub max: bool,
    pub axes: u8,
    pub keep_dims: bool,
}

/// The prepared extremum: which, and the NHWC axis mask.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReduceKernel {
    pub max: bool,
    pub axes: u32,
}
literal_struct!(ReduceKernel { max, axes });

/// The input's axis mask moved to the four NHWC dimensions.
#[cfg(feature = "alloc")]
fn nhwc_axes(p: &crate::lower::Prepare, axes: u8) -> Result<u32> {
    let rank = p.tensor(p.input(0)?).shape.len();
    let shift = 4usize.checked_sub(rank).ok_or_else(|| p.err("reductions take at most 4-D inputs"))?;
    Ok((axes as u32) << shift)
}

impl Reduce {
    pub fn name(&self) -> &'static str {
        ["REDUCE_MIN", "REDUCE_MAX"][self.max as usize]
    }

    /// As MEAN, and the raw values are compared: input and output share their quantization.
    #[cfg(feature = "alloc")]
    pub(crate) fn validate(&self, c: &crate::validate::Ctx) -> Result<()> {
        let (_, out, [qi, qo]) = c.int8_in_out()?;
        if qi != qo {
            return Err(c.shape_err("REDUCE_MAX/REDUCE_MIN input and output quantization differ", out.0));
        }
        Mean { axes: self.axes, keep_dims: self.keep_dims, sum: false }.validate(c)
    }

    #[cfg(feature = "alloc")]
    pub(crate) fn prepare(&self, p: &mut crate::lower::Prepare) -> Result<ReduceKernel> {
        Ok(ReduceKernel { max: self.max, axes: nhwc_axes(p, self.axes)? })
    }
}

impl Eval for ReduceKernel {
    fn eval(&self, _: &Consts, inputs: &[In], out: Out, region: Rect) -> Result<()> {
        whole(inputs, &out, region)?;
        let x = first(inputs)?;
        let max = self.max;
        reduce(crate::arena::as_i8(x.data), x.shape, self.axes, crate::arena::as_i8_mut(out.data), |v| {
            if max {
                v.max().unwrap_or(i8::MIN)
            } else {
                v.min().unwrap_or(i8::MAX)
            }
        });
        Ok(())
    }
}

impl Mean {
    pub fn name(&self) -> &'static str {
        if self.sum {
            "SUM"
        } else {
            "MEAN"
        }
    }

    #[cfg(feature = "alloc")]
    pub(crate) fn validate(&self, c: &crate::validate::Ctx) -> Result<()> {
        use alloc::vec::Vec;
        let (inp, out, _) = c.int8_in_out()?;
        if inp.1.shape.len() > 4 {
            return Err(c.shape_err("reductions support up to 4-D tensors", inp.0));
        }
        if inp.1.elements() / out.1.elements().max(1) > 1 << 23 {
            return Err(c.shape_err("the reduction covers too many elements for an int32 accumulator", inp.0));
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
            return Err(c.shape_err("the output shape does not match the reduction", out.0));
        }
        Ok(())
    }

    #[cfg(feature = "alloc")]
    pub(crate) fn prepare(&self, p: &mut crate::lower::Prepare) -> Result<MeanKernel> {
        let (input, out) = (p.input(0)?, p.output());
        let axes = nhwc_axes(p, self.axes)?;
        let s = p.shape(input);
        let count: usize = (0..4).filter(|d| axes & (1 << d) != 0).map(|d| s[d]).product();
        let ((si, zi), (so, zo)) = (p.quant(input)?, p.quant(out)?);
        let params = if self.sum {
            MeanParams::prepare_sum(si, zi, so, zo, count)
        } else {
            MeanParams::prepare(si, zi, so, zo, count)
        };
        Ok(MeanKernel { params, axes })
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
