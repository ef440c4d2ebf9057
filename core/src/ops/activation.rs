//! RELU, RELU6, LEAKY_RELU, LOGISTIC, TANH and HARD_SWISH: element-wise int8 maps
//! (each with its reference kernel's arithmetic, see `kernels::activation`).

use crate::error::Result;
#[cfg(feature = "alloc")]
use crate::kernels::activation::Lut;
use crate::kernels::activation::{lookup, HardSwishParams, LeakyReluParams, ReluParams};
use crate::literal_struct;
use crate::ops::{map_i8, Eval, In, Out};
use crate::program::{Consts, Span};
use crate::region::Rect;

/// LEAKY_RELU's parameter.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LeakyRelu {
    pub alpha: f32,
}
literal_struct!(LeakyReluParams { input_zero_point, output_zero_point, identity, alpha });

/// LOGISTIC or TANH as a 256-entry table in the program's byte pool.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Table {
    pub table: Span,
}
literal_struct!(Table { table });
literal_struct!(ReluParams { input_zero_point, output_zero_point, multiplier, act_min, act_max });
literal_struct!(HardSwishParams {
    input_zero_point,
    output_zero_point,
    output_multiplier,
    output_exponent,
    reluish_multiplier,
    reluish_exponent
});

/// RELU, RELU6, LEAKY_RELU and HARD_SWISH: int8 in and out, same shape.
#[cfg(feature = "alloc")]
pub(crate) fn validate(c: &crate::validate::Ctx) -> Result<()> {
    let (inp, out, _) = c.int8_in_out()?;
    c.same_shape(inp.1, out)
}

#[cfg(feature = "alloc")]
fn scales(p: &crate::lower::Prepare) -> Result<((f32, i32), (f32, i32))> {
    Ok((p.quant(p.input(0)?)?, p.quant(p.output())?))
}

#[cfg(feature = "alloc")]
pub(crate) fn prepare_relu(p: &mut crate::lower::Prepare, relu6: bool) -> Result<ReluParams> {
    let ((si, zi), (so, zo)) = scales(p)?;
    Ok(ReluParams::prepare(si, zi, so, zo, relu6))
}

impl LeakyRelu {
    #[cfg(feature = "alloc")]
    pub(crate) fn prepare(&self, p: &mut crate::lower::Prepare) -> Result<LeakyReluParams> {
        let ((si, zi), (so, zo)) = scales(p)?;
        Ok(LeakyReluParams::prepare(si, zi, so, zo, self.alpha))
    }
}

#[cfg(feature = "alloc")]
pub(crate) fn prepare_table(p: &mut crate::lower::Prepare, tanh: bool) -> Result<Table> {
    let ((si, zi), (so, zo)) = scales(p)?;
    let lut = if tanh { Lut::tanh(si, zi, so, zo) } else { Lut::logistic(si, zi, so, zo) };
    Ok(Table { table: p.bytes(bytemuck::cast_slice(&lut.0))? })
}

#[cfg(feature = "alloc")]
pub(crate) fn prepare_hard_swish(p: &mut crate::lower::Prepare) -> Result<HardSwishParams> {
    let ((si, zi), (so, zo)) = scales(p)?;
    HardSwishParams::prepare(si, zi, so, zo).ok_or(p.err("HARD_SWISH output scale is too small for its input scale"))
}

impl Eval for ReluParams {
    fn eval(&self, _: &Consts, inputs: &[In], out: Out, region: Rect) -> Result<()> {
        map_i8(inputs, out, region, |x, o| crate::kernels::fast::activation::relu(self, x, o))
    }
}

impl Eval for LeakyReluParams {
    fn eval(&self, _: &Consts, inputs: &[In], out: Out, region: Rect) -> Result<()> {
        map_i8(inputs, out, region, |x, o| LeakyReluParams::eval(self, x, o))
    }
}

impl Eval for HardSwishParams {
    fn eval(&self, _: &Consts, inputs: &[In], out: Out, region: Rect) -> Result<()> {
        map_i8(inputs, out, region, |x, o| HardSwishParams::eval(self, x, o))
    }
}

impl Eval for Table {
    fn eval(&self, c: &Consts, inputs: &[In], out: Out, region: Rect) -> Result<()> {
        let table: &[i8; 256] =
            c.i8(self.table)?.try_into().map_err(|_| crate::Error::Program("lookup table is not 256 entries"))?;
        map_i8(inputs, out, region, |x, o| lookup(table, x, o))
    }
}
