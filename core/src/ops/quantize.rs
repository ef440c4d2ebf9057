//! QUANTIZE (float32, int8 or uint8 → int8 or uint8) and DEQUANTIZE (int8 or
//! uint8 → float32): how uint8-input models and float-input conversions
//! enter int8. Element-wise, so both can sit in a patch stage.

use crate::error::Result;
use crate::kernels::quantize::{dequantize_one, quantize_f32, Requantize};
use crate::literal_struct;
use crate::ops::{elementwise, Eval, In, Out};
use crate::program::Consts;
use crate::region::Rect;

/// float32 → int8 (or uint8) with the output's `(scale, zero_point)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct QuantizeF32 {
    pub output: (f32, i32),
    pub unsigned: bool,
}
literal_struct!(QuantizeF32 { output, unsigned });
literal_struct!(Requantize { input_zero_point, output_zero_point, multiplier, input_unsigned, output_unsigned });

/// int8 (or uint8) → float32 with the input's `(scale, zero_point)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Dequantize {
    pub input: (f32, i32),
    pub unsigned: bool,
}
literal_struct!(Dequantize { input, unsigned });

/// An int8 or uint8 activation: its quantization and whether it is unsigned.
#[cfg(feature = "alloc")]
fn eight_bit(c: &crate::validate::Ctx, t: (crate::graph::TensorId, &crate::graph::Tensor)) -> Result<bool> {
    use crate::graph::DType;
    match t.1.dtype {
        DType::I8 => c.int8_act(t).map(|_| false),
        DType::U8 if !t.1.is_const() => {
            let (_, z) = t.1.quant.per_tensor().ok_or(crate::Error::Quantization {
                tensor: t.0,
                what: "uint8 activation needs per-tensor scale and zero point",
            })?;
            if !(0..=255).contains(&z) {
                return Err(crate::Error::Quantization { tensor: t.0, what: "uint8 zero point outside 0..255" });
            }
            Ok(true)
        }
        _ => Err(crate::Error::UnsupportedType {
            op_index: c.oi,
            tensor: t.0,
            what: "expected an int8 or uint8 activation",
        }),
    }
}

/// QUANTIZE (`quantize`: float32, int8 or uint8 → int8 or uint8) and
/// DEQUANTIZE (int8 or uint8 → float32), same shape.
#[cfg(feature = "alloc")]
pub(crate) fn validate(c: &crate::validate::Ctx, quantize: bool) -> Result<()> {
    use crate::graph::DType;
    let (inp, out) = (c.input(0)?, c.output());
    let (quantized, other) = if quantize { (out, inp) } else { (inp, out) };
    eight_bit(c, quantized)?;
    c.same_shape(inp.1, out)?;
    match (quantize, other.1.dtype) {
        (_, DType::F32) => Ok(()),
        (true, DType::I8 | DType::U8) => eight_bit(c, other).map(|_| ()),
        _ => Err(crate::Error::UnsupportedType {
            op_index: c.oi,
            tensor: other.0,
            what: if quantize {
                "QUANTIZE input must be float32, int8 or uint8"
            } else {
                "DEQUANTIZE output must be float32"
            },
        }),
    }
}

#[cfg(feature = "alloc")]
pub(crate) fn prepare_quantize(p: &mut crate::lower::Prepare) -> Result<super::Kernel> {
    use crate::graph::DType;
    let (input, out) = (p.input(0)?, p.output());
    let output = p.quant(out)?;
    let unsigned = |t| p.tensor(t).dtype == DType::U8;
    Ok(if p.tensor(input).dtype == DType::F32 {
        super::Kernel::QuantizeF32(QuantizeF32 { output, unsigned: unsigned(out) })
    } else {
        let (si, zi) = p.quant(input)?;
        super::Kernel::Requantize(Requantize {
            input_unsigned: unsigned(input),
            output_unsigned: unsigned(out),
            ..Requantize::prepare(si, zi, output.0, output.1)
        })
    })
}

#[cfg(feature = "alloc")]
pub(crate) fn prepare_dequantize(p: &mut crate::lower::Prepare) -> Result<Dequantize> {
    let input = p.input(0)?;
    Ok(Dequantize { input: p.quant(input)?, unsigned: p.tensor(input).dtype == crate::graph::DType::U8 })
}

impl Eval for QuantizeF32 {
    fn eval(&self, _: &Consts, inputs: &[In], out: Out, region: Rect) -> Result<()> {
        elementwise(inputs, out, region, |ins, o, _| {
            quantize_f32(ins[0].data, self.output.0, self.output.1, self.unsigned, o);
            Ok(())
        })
    }
}

impl Eval for Requantize {
    fn eval(&self, _: &Consts, inputs: &[In], out: Out, region: Rect) -> Result<()> {
        elementwise(inputs, out, region, |ins, o, _| {
            Requantize::eval(self, ins[0].data, o);
            Ok(())
        })
    }
}

impl Eval for Dequantize {
    fn eval(&self, _: &Consts, inputs: &[In], out: Out, region: Rect) -> Result<()> {
        elementwise(inputs, out, region, |ins, o, _| {
            for (o, &b) in o.chunks_exact_mut(4).zip(ins[0].data) {
                let q = crate::kernels::quantize::value(b, self.unsigned);
                o.copy_from_slice(&dequantize_one(q, self.input.0, self.input.1).to_le_bytes());
            }
            Ok(())
        })
    }
}
