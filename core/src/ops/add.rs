//! ADD: int8 with 4-D broadcasting. Element-wise, so it can sit in a patch
//! stage (a `[.., 1, 1, C]` operand broadcasts over every patch).

use crate::error::Result;
use crate::kernels::add::{add, AddParams};
use crate::literal_struct;
use crate::ops::{elementwise, Eval, In, Out};
use crate::program::Consts;
use crate::region::Rect;

literal_struct!(AddParams {
    left_shift,
    input1_offset,
    input2_offset,
    input1,
    input2,
    output,
    output_offset,
    act_min,
    act_max
});

#[cfg(feature = "alloc")]
pub(crate) fn validate(c: &crate::validate::Ctx) -> Result<()> {
    use crate::graph::nhwc;
    let (a, b) = (c.input(0)?, c.input(1)?);
    let out = c.output();
    c.int8_data(a)?;
    c.int8_data(b)?;
    c.int8_act(out)?;
    let (sa, sb, so) = (a.1.shape.len(), b.1.shape.len(), out.1.shape.len());
    if sa > 4 || sb > 4 || so > 4 {
        return Err(c.shape_err("ADD supports up to 4-D tensors", out.0));
    }
    let (na, nb, no) = (nhwc(&a.1.shape), nhwc(&b.1.shape), nhwc(&out.1.shape));
    for d in 0..4 {
        let want = na[d].max(nb[d]);
        if (na[d] != want && na[d] != 1) || (nb[d] != want && nb[d] != 1) || no[d] != want {
            return Err(c.shape_err("ADD operands do not broadcast to the output", out.0));
        }
    }
    Ok(())
}

#[cfg(feature = "alloc")]
pub(crate) fn prepare(p: &mut crate::lower::Prepare, act: crate::op::Activation) -> Result<AddParams> {
    let (a, b, o) = (p.input(0)?, p.input(1)?, p.output());
    let ((s1, z1), (s2, z2), (so, zo)) = (p.quant(a)?, p.quant(b)?, p.quant(o)?);
    Ok(AddParams::prepare(s1, z1, s2, z2, so, zo, crate::kernels::activation_range(act, so, zo)))
}

impl Eval for AddParams {
    fn eval(&self, _: &Consts, inputs: &[In], out: Out, region: Rect) -> Result<()> {
        elementwise(inputs, out, region, |ins, o, so| {
            let [x, y] = ins else { return Err(crate::Error::Program("ADD needs two operands")) };
            let (xa, ya) = (crate::arena::as_i8(x.data), crate::arena::as_i8(y.data));
            add(self, xa, x.shape, ya, y.shape, crate::arena::as_i8_mut(o), so);
            Ok(())
        })
    }
}
