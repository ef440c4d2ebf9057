//! RELU, RELU6, LEAKY_RELU, LOGISTIC, TANH and HARD_SWISH: element-wise int8
//! maps of the value alone, so each is prepared as a 256-entry table built
//! with its reference kernel's arithmetic (`kernels::activation`) and run as
//! a lookup: exact by construction, and as fast on a patch's short rows as on
//! a whole tensor (RELU's per-element rescale was a quarter of BlazeFace's
//! extra instructions under cached 8×6 patches on the Cortex-M7).

use crate::error::Result;
use crate::kernels::activation::lookup;
#[cfg(feature = "alloc")]
use crate::kernels::activation::Lut;
#[cfg(feature = "alloc")]
use crate::kernels::activation::{HardSwishParams, LeakyReluParams, ReluParams};
use crate::literal_struct;
use crate::ops::{map_i8, Eval, In, Out};
use crate::program::{Consts, Span};
use crate::region::Rect;

/// LEAKY_RELU's parameter.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LeakyRelu {
    pub alpha: f32,
}

/// An element-wise int8 map as a 256-entry table in the program's byte pool.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Table {
    pub table: Span,
}
literal_struct!(Table { table });

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
fn table(p: &mut crate::lower::Prepare, lut: &Lut) -> Result<Table> {
    Ok(Table { table: p.bytes(bytemuck::cast_slice(&lut.0))? })
}

#[cfg(feature = "alloc")]
pub(crate) fn prepare_relu(p: &mut crate::lower::Prepare, relu6: bool) -> Result<Table> {
    let ((si, zi), (so, zo)) = scales(p)?;
    let r = ReluParams::prepare(si, zi, so, zo, relu6);
    table(p, &Lut::tabulate(|x, o| r.eval(x, o)))
}

impl LeakyRelu {
    #[cfg(feature = "alloc")]
    pub(crate) fn prepare(&self, p: &mut crate::lower::Prepare) -> Result<Table> {
        let ((si, zi), (so, zo)) = scales(p)?;
        let r = LeakyReluParams::prepare(si, zi, so, zo, self.alpha);
        table(p, &Lut::tabulate(|x, o| r.eval(x, o)))
    }
}

#[cfg(feature = "alloc")]
pub(crate) fn prepare_table(p: &mut crate::lower::Prepare, tanh: bool) -> Result<Table> {
    let ((si, zi), (so, zo)) = scales(p)?;
    let lut = if tanh { Lut::tanh(si, zi, so, zo) } else { Lut::logistic(si, zi, so, zo) };
    table(p, &lut)
}

#[cfg(feature = "alloc")]
pub(crate) fn prepare_hard_swish(p: &mut crate::lower::Prepare) -> Result<Table> {
    let ((si, zi), (so, zo)) = scales(p)?;
    let h = HardSwishParams::prepare(si, zi, so, zo)
        .ok_or(p.err("HARD_SWISH output scale is too small for its input scale"))?;
    table(p, &Lut::tabulate(|x, o| h.eval(x, o)))
}

impl Eval for Table {
    fn eval(&self, c: &Consts, inputs: &[In], out: Out, region: Rect) -> Result<()> {
        let table: &[i8; 256] =
            c.i8(self.table)?.try_into().map_err(|_| crate::Error::Program("lookup table is not 256 entries"))?;
        map_i8(inputs, out, region, |x, o| lookup(table, x, o))
    }
}
