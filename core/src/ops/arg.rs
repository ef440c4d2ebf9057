//! ARG_MAX and ARG_MIN: the index of the largest (smallest) element along one
//! axis, the first one on ties as in the reference; int8 or uint8 values
//! compared as stored, int32 or int64 indices out. Whole tensors (a head).

use crate::error::{Error, Result};
use crate::literal_struct;
use crate::ops::{first, whole, Eval, In, Out};
use crate::program::Consts;
use crate::region::Rect;

/// ARG_MAX (`max`) or ARG_MIN along a non-negative `axis`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ArgExtreme {
    pub max: bool,
    pub axis: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArgKernel {
    pub max: bool,
    /// uint8 input (else int8).
    pub unsigned: bool,
    pub outer: usize,
    pub axis_size: usize,
    pub inner: usize,
}
literal_struct!(ArgKernel { max, unsigned, outer, axis_size, inner });

impl ArgExtreme {
    pub fn name(&self) -> &'static str {
        if self.max {
            "ARG_MAX"
        } else {
            "ARG_MIN"
        }
    }

    #[cfg(feature = "alloc")]
    pub(crate) fn validate(&self, c: &crate::validate::Ctx) -> Result<()> {
        use crate::graph::DType;
        let (inp, out) = (c.input(0)?, c.output());
        if !matches!(inp.1.dtype, DType::I8 | DType::U8) {
            return Err(Error::UnsupportedType {
                op_index: c.oi,
                tensor: inp.0,
                what: "ARG_MAX/ARG_MIN support int8 and uint8 inputs",
            });
        }
        if !matches!(out.1.dtype, DType::I32 | DType::I64) {
            return Err(Error::UnsupportedType {
                op_index: c.oi,
                tensor: out.0,
                what: "ARG_MAX/ARG_MIN output must be int32 or int64",
            });
        }
        let s = &inp.1.shape;
        let mut want = s.clone();
        if self.axis >= s.len() {
            return Err(c.shape_err("ARG_MAX/ARG_MIN axis out of range", out.0));
        }
        want.remove(self.axis);
        if out.1.shape != want || s[self.axis] == 0 {
            return Err(c.shape_err("ARG_MAX/ARG_MIN output is not the input without its axis", out.0));
        }
        Ok(())
    }

    #[cfg(feature = "alloc")]
    pub(crate) fn prepare(&self, p: &mut crate::lower::Prepare) -> Result<ArgKernel> {
        let t = p.tensor(p.input(0)?);
        let s = &t.shape;
        Ok(ArgKernel {
            max: self.max,
            unsigned: t.dtype == crate::graph::DType::U8,
            outer: s[..self.axis].iter().product(),
            axis_size: s[self.axis],
            inner: s[self.axis + 1..].iter().product(),
        })
    }
}

impl Eval for ArgKernel {
    fn eval(&self, _: &Consts, inputs: &[In], out: Out, region: Rect) -> Result<()> {
        whole(inputs, &out, region)?;
        let x = first(inputs)?.data;
        let value = |i: usize| if self.unsigned { x[i] as i32 } else { x[i] as i8 as i32 };
        let e = out.elem;
        for o in 0..self.outer {
            for i in 0..self.inner {
                let at = |k: usize| (o * self.axis_size + k) * self.inner + i;
                let mut best = 0;
                for k in 1..self.axis_size {
                    let (v, b) = (value(at(k)), value(at(best)));
                    if if self.max { v > b } else { v < b } {
                        best = k;
                    }
                }
                let to = (o * self.inner + i) * e;
                let dst = out.data.get_mut(to..to + e).ok_or(Error::Program("ARG output is short"))?;
                if e == 8 {
                    dst.copy_from_slice(&(best as i64).to_le_bytes());
                } else {
                    dst.copy_from_slice(&(best as i32).to_le_bytes());
                }
            }
        }
        Ok(())
    }
}
