//! CONCATENATION and PACK: the inputs share the output's quantization, so
//! both are a strided copy. Along channels every pixel stays where it is, so
//! CONCATENATION can sit in a patch stage; along another axis, and PACK
//! (which stacks along a new axis, any element type), need whole tensors.

use crate::error::{Error, Result};
use crate::kernels::concat::concat;
use crate::literal_struct;
use crate::op::Activation;
use crate::ops::{rows, sub, sub_mut, whole, Eval, In, Out};
use crate::program::Consts;
use crate::region::Rect;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Concatenation {
    /// Non-negative axis.
    pub axis: usize,
    pub activation: Activation,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Concat {
    /// Along the channels (NHWC axis 3).
    pub channels: bool,
    /// Blocks per operand (the product of the output dims before the axis).
    pub outer: usize,
}
literal_struct!(Concat { channels, outer });

impl Concatenation {
    #[cfg(feature = "alloc")]
    pub(crate) fn validate(&self, c: &crate::validate::Ctx) -> Result<()> {
        use crate::graph::nhwc;
        let out = c.output();
        let qo = c.int8_act(out)?;
        if self.activation != Activation::None {
            return Err(c.err("CONCATENATION with a fused activation is not supported"));
        }
        let on = nhwc(&out.1.shape);
        let mut sum = 0;
        let inputs = &c.g.nodes[c.oi].inputs;
        for i in inputs.iter().flatten() {
            let t = &c.g.tensors[*i];
            if c.int8_data((*i, t))? != qo {
                return Err(Error::Quantization {
                    tensor: *i,
                    what: "int8 CONCATENATION inputs must share the output's scale and zero point",
                });
            }
            if t.shape.len() != out.1.shape.len() {
                return Err(c.shape_err("CONCATENATION inputs differ in rank", *i));
            }
            let n = nhwc(&t.shape);
            for d in 0..4 {
                if d != self.axis && n[d] != on[d] {
                    return Err(c.shape_err("CONCATENATION inputs differ outside the axis", *i));
                }
            }
            sum += n[self.axis];
        }
        if sum != on[self.axis] || inputs.is_empty() {
            return Err(c.shape_err("CONCATENATION output size along the axis is wrong", out.0));
        }
        Ok(())
    }

    #[cfg(feature = "alloc")]
    pub(crate) fn prepare(&self, p: &mut crate::lower::Prepare) -> Result<Concat> {
        let s = p.shape(p.output());
        let axis = self.axis.min(4);
        Ok(Concat { channels: axis == 3, outer: s[..axis].iter().product() })
    }
}

/// PACK's new axis, counted in the output's dimensions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Pack {
    pub axis: usize,
}

impl Pack {
    #[cfg(feature = "alloc")]
    pub(crate) fn validate(&self, c: &crate::validate::Ctx) -> Result<()> {
        let out = c.output();
        let inputs = &c.g.nodes[c.oi].inputs;
        let first = c.input(0)?.1;
        let mut want = first.shape.clone();
        if self.axis > want.len() {
            return Err(c.shape_err("PACK axis out of range", out.0));
        }
        want.insert(self.axis, inputs.len());
        if out.1.shape != want {
            return Err(c.shape_err("PACK output shape is not the inputs stacked along the axis", out.0));
        }
        for i in inputs.iter() {
            let i = i.ok_or(c.err("missing input operand"))?;
            let t = &c.g.tensors[i];
            if t.shape != first.shape || t.dtype != out.1.dtype {
                return Err(c.shape_err("PACK inputs differ in shape or type", i));
            }
            if t.quant != out.1.quant {
                return Err(Error::Quantization {
                    tensor: i,
                    what: "PACK inputs must share the output's quantization",
                });
            }
        }
        Ok(())
    }

    #[cfg(feature = "alloc")]
    pub(crate) fn prepare(&self, p: &mut crate::lower::Prepare) -> Result<Concat> {
        let s = &p.tensor(p.output()).shape;
        Ok(Concat { channels: false, outer: s[..self.axis].iter().product() })
    }
}

impl Eval for Concat {
    fn eval(&self, _: &Consts, inputs: &[In], out: Out, region: Rect) -> Result<()> {
        if !self.channels {
            whole(inputs, &out, region)?;
            concat(inputs.iter().map(|i| i.data), self.outer, out.data);
            return Ok(());
        }
        let ow = out.win;
        if inputs.iter().all(|i| i.win.rect == region) && ow.rect == region {
            // Every buffer holds exactly the region: interleave pixel by pixel.
            concat(inputs.iter().map(|i| i.data), ow.n * region.area(), out.data);
            return Ok(());
        }
        // Windows larger than the region: one output row at a time.
        for (b, y) in rows(ow, region) {
            let o = ow.offset(b, y, region.x);
            let mut parts = [&[][..]; crate::program::MAX_OPERANDS];
            for (k, i) in inputs.iter().enumerate() {
                *parts.get_mut(k).ok_or(Error::Program("too many CONCATENATION operands"))? =
                    sub(i.data, i.win.offset(b, y, region.x), region.w * i.win.c)?;
            }
            concat(parts[..inputs.len()].iter().copied(), region.w, sub_mut(out.data, o, region.w * ow.c)?);
        }
        Ok(())
    }
}
