//! QUANTIZE (float32 → int8, int8 → int8) and DEQUANTIZE (int8 → float32).
//! Element-wise, so both can sit in a patch stage.

use crate::error::Result;
use crate::kernels::quantize::{dequantize_one, quantize_f32, Requantize};
use crate::literal_struct;
use crate::ops::{elementwise, map_i8, Eval, In, Out};
use crate::program::Consts;
use crate::region::Rect;

/// float32 → int8 with the output's `(scale, zero_point)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct QuantizeF32 {
    pub output: (f32, i32),
}
literal_struct!(QuantizeF32 { output });
literal_struct!(Requantize { input_zero_point, output_zero_point, multiplier });

/// int8 → float32 with the input's `(scale, zero_point)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Dequantize {
    pub input: (f32, i32),
}
literal_struct!(Dequantize { input });

/// QUANTIZE (`to_int8`: float32 or int8 → int8) and DEQUANTIZE (int8 → float32), same shape.
#[cfg(feature = "alloc")]
pub(crate) fn validate(c: &crate::validate::Ctx, to_int8: bool) -> Result<()> {
    use crate::graph::DType;
    let (inp, out) = (c.input(0)?, c.output());
    let (int8, other) = if to_int8 { (out, inp) } else { (inp, out) };
    c.int8_act(int8)?;
    c.same_shape(inp.1, out)?;
    match (to_int8, other.1.dtype) {
        (_, DType::F32) => Ok(()),
        (true, DType::I8) => c.int8_act(other).map(|_| ()),
        _ => Err(crate::Error::UnsupportedType {
            op_index: c.oi,
            tensor: other.0,
            what: if to_int8 { "QUANTIZE input must be float32 or int8" } else { "DEQUANTIZE output must be float32" },
        }),
    }
}

#[cfg(feature = "alloc")]
pub(crate) fn prepare_quantize(p: &mut crate::lower::Prepare) -> Result<super::Kernel> {
    let (input, out) = (p.input(0)?, p.output());
    let output = p.quant(out)?;
    Ok(if p.tensor(input).dtype == crate::graph::DType::F32 {
        super::Kernel::QuantizeF32(QuantizeF32 { output })
    } else {
        let (si, zi) = p.quant(input)?;
        super::Kernel::Requantize(Requantize::prepare(si, zi, output.0, output.1))
    })
}

#[cfg(feature = "alloc")]
pub(crate) fn prepare_dequantize(p: &mut crate::lower::Prepare) -> Result<Dequantize> {
    Ok(Dequantize { input: p.quant(p.input(0)?)? })
}

impl Eval for QuantizeF32 {
    fn eval(&self, _: &Consts, inputs: &[In], out: Out, region: Rect) -> Result<()> {
        elementwise(inputs, out, region, |ins, o, _| {
            let vals = ins[0].data.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]));
            quantize_f32(vals, self.output.0, self.output.1, crate::arena::as_i8_mut(o));
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
                o.copy_from_slice(&dequantize_one(*v, self.input.0, self.input.1).to_le_bytes());
            }
            Ok(())
        })
    }
}
