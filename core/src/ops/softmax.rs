//! SOFTMAX over the last axis, int8 in, int8 out (scale 1/256, zero point -128).

#[cfg(feature = "alloc")]
use crate::error::Error;
use crate::error::Result;
use crate::kernels::softmax::SoftmaxParams;
use crate::literal_struct;
use crate::ops::{first, whole, Eval, In, Out};
use crate::program::Consts;
use crate::region::Rect;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Softmax {
    pub beta: f32,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SoftmaxKernel {
    pub params: SoftmaxParams,
    /// Values per softmax row.
    pub depth: usize,
}
literal_struct!(SoftmaxKernel { params, depth });
literal_struct!(SoftmaxParams { input_multiplier, input_left_shift, diff_min });

/// SOFTMAX and LOGISTIC: int8 outputs with the fixed scale 1/256 and zero point -128.
#[cfg(feature = "alloc")]
pub(crate) fn validate_unit_output(c: &crate::validate::Ctx) -> Result<()> {
    validate_fixed_output(
        c,
        1.0 / 256.0,
        -128,
        "int8 SOFTMAX/LOGISTIC output must have scale 1/256 and zero point -128",
    )
}

/// An int8 map of one input whose output quantization the reference fixes.
#[cfg(feature = "alloc")]
pub(crate) fn validate_fixed_output(c: &crate::validate::Ctx, scale: f32, zp: i32, what: &'static str) -> Result<()> {
    let inp = c.input(0)?;
    let out = c.output();
    c.int8_act(inp)?;
    let (s, z) = c.int8_act(out)?;
    c.same_shape(inp.1, out)?;
    if s != scale || z != zp {
        return Err(Error::Quantization { tensor: out.0, what });
    }
    Ok(())
}

impl Softmax {
    #[cfg(feature = "alloc")]
    pub(crate) fn validate(&self, c: &crate::validate::Ctx) -> Result<()> {
        validate_unit_output(c)
    }

    #[cfg(feature = "alloc")]
    pub(crate) fn prepare(&self, p: &mut crate::lower::Prepare) -> Result<SoftmaxKernel> {
        let (si, _) = p.quant(p.input(0)?)?;
        let params = SoftmaxParams::prepare(self.beta, si).ok_or(p.err("SOFTMAX beta × input scale is too small"))?;
        let out = p.output();
        Ok(SoftmaxKernel { params, depth: p.tensor(out).shape.last().copied().unwrap_or(1) })
    }
}

impl Eval for SoftmaxKernel {
    fn eval(&self, _: &Consts, inputs: &[In], out: Out, region: Rect) -> Result<()> {
        whole(inputs, &out, region)?;
        let x = first(inputs)?;
        self.params.eval(crate::arena::as_i8(x.data), crate::arena::as_i8_mut(out.data), self.depth);
        Ok(())
    }
}
