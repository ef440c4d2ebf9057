//! RESHAPE, SQUEEZE and EXPAND_DIMS: the bytes do not change; the layout
//! aliases the output to the input where it can, and the interpreter then
//! skips it.

use crate::error::Result;
use crate::ops::{first, sub, whole, Eval, In, Out};
use crate::program::Consts;
use crate::region::Rect;

/// Which of the shape-only operators a node is (they run the same way).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReshapeKind {
    Reshape,
    Squeeze,
    ExpandDims,
}

impl ReshapeKind {
    pub fn name(&self) -> &'static str {
        match self {
            ReshapeKind::Reshape => "RESHAPE",
            ReshapeKind::Squeeze => "SQUEEZE",
            ReshapeKind::ExpandDims => "EXPAND_DIMS",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Reshape;

impl crate::literal::Literal for Reshape {
    fn literal(&self, o: &mut dyn core::fmt::Write) -> core::fmt::Result {
        o.write_str("Reshape")
    }
}

#[cfg(feature = "alloc")]
pub(crate) fn validate(c: &crate::validate::Ctx) -> Result<()> {
    let inp = c.input(0)?;
    let out = c.output();
    if inp.1.dtype != out.1.dtype || inp.1.elements() != out.1.elements() || inp.1.is_const() {
        return Err(c.shape_err("a reshape changes the element count or type", out.0));
    }
    if inp.1.quant != out.1.quant {
        return Err(c.shape_err("a reshape changes quantization", out.0));
    }
    Ok(())
}

impl Eval for Reshape {
    fn eval(&self, _: &Consts, inputs: &[In], out: Out, region: Rect) -> Result<()> {
        whole(inputs, &out, region)?;
        let n = out.data.len();
        out.data.copy_from_slice(sub(first(inputs)?.data, 0, n)?);
        Ok(())
    }
}
