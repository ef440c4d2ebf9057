//! QUANTIZE (float32 → int8, int8 → int8) and DEQUANTIZE (int8 → float32).
//! Element-wise, so both can sit in a patch stage.

use crate::error::Result;
use crate::kernels::quantize::{dequantize_one, quantize_f32, Requantize};
use crate::literal_struct;
use crate::ops::{elementwise, map_i8, Eval, In, Out};
use crate::program::Consts;
use crate::region::Rect;

/// float32 → int8 with the output's scale and zero point.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct QuantizeF32 {
    pub scale: f32,
    pub zero_point: i32,
}
literal_struct!(QuantizeF32 { scale, zero_point });
literal_struct!(Requantize { input_zero_point, output_zero_point, multiplier });

/// int8 → float32 with the input's scale and zero point.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Dequantize {
    pub scale: f32,
    pub zero_point: i32,
}
literal_struct!(Dequantize { scale, zero_point });

#[cfg(feature = "alloc")]
pub(crate) fn validate_quantize(c: &crate::validate::Ctx) -> Result<()> {
    use crate::graph::DType;
    let inp = c.input(0)?;
    let out = c.output();
    c.int8_act(out)?;
    c.same_shape(inp.1, out)?;
    match inp.1.dtype {
        DType::F32 => Ok(()),
        DType::I8 => c.int8_act(inp).map(|_| ()),
        _ => Err(crate::Error::UnsupportedType {
            op_index: c.oi,
            tensor: inp.0,
            what: "QUANTIZE input must be float32 or int8",
        }),
    }
}

#[cfg(feature = "alloc")]
pub(crate) fn validate_dequantize(c: &crate::validate::Ctx) -> Result<()> {
    let inp = c.input(0)?;
    let out = c.output();
    c.int8_act(inp)?;
    c.same_shape(inp.1, out)?;
    if out.1.dtype != crate::graph::DType::F32 {
        return Err(crate::Error::UnsupportedType {
            op_index: c.oi,
            tensor: out.0,
            what: "DEQUANTIZE output must be float32",
        });
    }
    Ok(())
}

#[cfg(feature = "alloc")]
pub(crate) fn prepare_quantize(p: &mut crate::lower::Prepare) -> Result<super::Kernel> {
    let (input, out) = (p.input(0)?, p.output());
    let (so, zo) = p.quant(out)?;
    Ok(if p.tensor(input).dtype == crate::graph::DType::F32 {
        super::Kernel::QuantizeF32(QuantizeF32 { scale: so, zero_point: zo })
    } else {
        let (si, zi) = p.quant(input)?;
        super::Kernel::Requantize(Requantize::prepare(si, zi, so, zo))
    })
}

#[cfg(feature = "alloc")]
pub(crate) fn prepare_dequantize(p: &mut crate::lower::Prepare) -> Result<Dequantize> {
    let (scale, zero_point) = p.quant(p.input(0)?)?;
    Ok(Dequantize { scale, zero_point })
}

impl Eval for QuantizeF32 {
    fn eval(&self, _: &Consts, inputs: &[In], out: Out, region: Rect) -> Result<()> {
        elementwise(inputs, out, region, |ins, o, _| {
            let vals = ins[0].data.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]));
            quantize_f32(vals, self.scale, self.zero_point, crate::arena::as_i8_mut(o));
            Ok(())
        })
    }
}

impl Eval for Requantize {
    fn eval(&self, _: &Consts, inputs: &[In], out: Out, region: Rect) -> Result<()> {
        map_i8(inputs, out, region, |x, o| self.eval(x, o))
    }
}

impl Eval for Dequantize {
    fn eval(&self, _: &Consts, inputs: &[In], out: Out, region: Rect) -> Result<()> {
        elementwise(inputs, out, region, |ins, o, _| {
            for (o, v) in o.chunks_exact_mut(4).zip(crate::arena::as_i8(ins[0].data)) {
                o.copy_from_slice(&dequantize_one(*v, self.scale, self.zero_point).to_le_bytes());
            }
            Ok(())
        })
    }
}
