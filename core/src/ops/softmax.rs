//! Normalisations over the last axis, int8 in and out, each with the output
//! quantization its reference kernel fixes: SOFTMAX (1/256, -128),
//! LOG_SOFTMAX (16/256, 127) and L2_NORMALIZATION (1/128, 0). Whole tensors.

#[cfg(feature = "alloc")]
use crate::error::Error;
use crate::error::Result;
use crate::kernels::l2norm::l2_normalize;
use crate::kernels::log_softmax::LogSoftmaxParams;
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

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LogSoftmaxKernel {
    pub params: LogSoftmaxParams,
    pub depth: usize,
}
literal_struct!(LogSoftmaxKernel { params, depth });
literal_struct!(LogSoftmaxParams {
    input_multiplier,
    input_left_shift,
    reverse_multiplier,
    reverse_right_shift,
    diff_min
});

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct L2NormKernel {
    pub input_zero_point: i32,
    pub depth: usize,
}
literal_struct!(L2NormKernel { input_zero_point, depth });

/// Values per row: the last dimension.
#[cfg(feature = "alloc")]
fn depth(p: &crate::lower::Prepare) -> usize {
    p.tensor(p.output()).shape.last().copied().unwrap_or(1)
}

#[cfg(feature = "alloc")]
pub(crate) fn validate_log_softmax(c: &crate::validate::Ctx) -> Result<()> {
    validate_fixed_output(c, 16.0 / 256.0, 127, "int8 LOG_SOFTMAX output must have scale 16/256 and zero point 127")
}

#[cfg(feature = "alloc")]
pub(crate) fn validate_l2_norm(c: &crate::validate::Ctx) -> Result<()> {
    validate_fixed_output(c, 1.0 / 128.0, 0, "int8 L2_NORMALIZATION output must have scale 1/128 and zero point 0")
}

#[cfg(feature = "alloc")]
pub(crate) fn prepare_log_softmax(p: &mut crate::lower::Prepare) -> Result<LogSoftmaxKernel> {
    let (si, _) = p.quant(p.input(0)?)?;
    let params = LogSoftmaxParams::prepare(si).ok_or(p.err("LOG_SOFTMAX input scale is too small (at most 2^-26)"))?;
    Ok(LogSoftmaxKernel { params, depth: depth(p) })
}

#[cfg(feature = "alloc")]
pub(crate) fn prepare_l2_norm(p: &mut crate::lower::Prepare) -> Result<L2NormKernel> {
    let (_, zi) = p.quant(p.input(0)?)?;
    Ok(L2NormKernel { input_zero_point: zi, depth: depth(p) })
}

impl Eval for LogSoftmaxKernel {
    fn eval(&self, _: &Consts, inputs: &[In], out: Out, region: Rect) -> Result<()> {
        whole(inputs, &out, region)?;
        let x = first(inputs)?;
        self.params.eval(crate::arena::as_i8(x.data), crate::arena::as_i8_mut(out.data), self.depth);
        Ok(())
    }
}

impl Eval for L2NormKernel {
    fn eval(&self, _: &Consts, inputs: &[In], out: Out, region: Rect) -> Result<()> {
        whole(inputs, &out, region)?;
        let x = first(inputs)?;
        l2_normalize(self.input_zero_point, crate::arena::as_i8(x.data), crate::arena::as_i8_mut(out.data), self.depth);
        Ok(())
    }
}

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
