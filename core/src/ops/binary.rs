//! ADD, MUL, SUB, SQUARED_DIFFERENCE, MAXIMUM, MINIMUM and PRELU: int8 element-wise
//! binaries with broadcasting (a `[1, 1, 1, C]` operand — a squeeze-and-
//! excitation gate — broadcasts over every patch, so they can sit in a patch
//! stage).

use crate::error::{Error, Result};
use crate::kernels::binary::{binary, MulParams, PreluParams, Rescale, RescaledParams};
use crate::kernels::fast::binary::{pair, paired, rescaled, rescaled_run, Tables, PAIRS, TABLES_FROM};
use crate::literal_struct;
use crate::op::Activation;
use crate::ops::{elementwise, Eval, In, Out};
use crate::program::{Consts, Span};
use crate::region::Rect;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Binary {
    /// What ADD prepares as (`Op::Add` stays its own variant: the layout runs it in place).
    Add(Activation),
    Mul(Activation),
    Sub(Activation),
    SquaredDifference,
    Maximum,
    Minimum,
    /// Operand 1 is the alpha.
    Prelu,
}

/// MAXIMUM (`max`) or MINIMUM of the raw int8 values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Extremum {
    pub max: bool,
}
literal_struct!(Extremum { max });
literal_struct!(PreluParams { input_offset, alpha_offset, output_offset, identity, alpha });
literal_struct!(MulParams { input1_offset, input2_offset, output_offset, multiplier, act_min, act_max });
literal_struct!(RescaledParams {
    kind,
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
/// ADD, SUB and SQUARED_DIFFERENCE as lowered: the parameters, and (host
/// and browser programs) every operand pair's result
/// ([`pair_table`](crate::kernels::fast::binary::pair_table); empty in a
/// board's program, where 64 KiB of flash an operator is too dear).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RescaledKernel {
    pub params: RescaledParams,
    pub pairs: Span,
}
literal_struct!(RescaledKernel { params, pairs });

/// MUL as lowered (see [`RescaledKernel`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MulKernel {
    pub params: MulParams,
    pub pairs: Span,
}
literal_struct!(MulKernel { params, pairs });

literal_struct!(
    enum Rescale {
        Add,
        Sub,
        SquaredDifference,
    }
);

impl Binary {
    pub fn name(&self) -> &'static str {
        match self {
            Binary::Add(_) => "ADD",
            Binary::Mul(_) => "MUL",
            Binary::Sub(_) => "SUB",
            Binary::SquaredDifference => "SQUARED_DIFFERENCE",
            Binary::Maximum => "MAXIMUM",
            Binary::Minimum => "MINIMUM",
            Binary::Prelu => "PRELU",
        }
    }

    #[cfg(feature = "alloc")]
    pub(crate) fn validate(&self, c: &crate::validate::Ctx) -> Result<()> {
        validate(c)
    }

    #[cfg(feature = "alloc")]
    pub(crate) fn prepare(&self, p: &mut crate::lower::Prepare) -> Result<super::Kernel> {
        use super::Kernel;
        let (a, b, o) = (p.input(0)?, p.input(1)?, p.output());
        let ((s1, z1), (s2, z2), (so, zo)) = (p.quant(a)?, p.quant(b)?, p.quant(o)?);
        let act = |a: Activation| crate::kernels::activation_range(a, so, zo);
        let mut rescaled = |kind, act| -> Result<Kernel> {
            let params = RescaledParams::prepare(kind, s1, z1, s2, z2, so, zo, act);
            let pairs = pair_table(p, |a, b| rescaled(&params, a, b))?;
            Ok(Kernel::Rescaled(RescaledKernel { params, pairs }))
        };
        Ok(match *self {
            Binary::Add(a) => rescaled(Rescale::Add, act(a))?,
            Binary::Sub(a) => rescaled(Rescale::Sub, act(a))?,
            Binary::SquaredDifference => rescaled(Rescale::SquaredDifference, (i8::MIN as i32, i8::MAX as i32))?,
            Binary::Mul(a) => {
                let params = MulParams::prepare(s1, z1, s2, z2, so, zo, act(a));
                let pairs = pair_table(p, |a, b| crate::kernels::fast::binary::mul(&params, a, b))?;
                Kernel::Mul(MulKernel { params, pairs })
            }
            Binary::Maximum => Kernel::Extremum(Extremum { max: true }),
            Binary::Minimum => Kernel::Extremum(Extremum { max: false }),
            Binary::Prelu => Kernel::Prelu(PreluParams::prepare(s1, z1, s2, z2, so, zo)),
        })
    }
}

/// `f`'s pair table where the program packs one ([`crate::lower::Packing::pairs`]).
#[cfg(feature = "alloc")]
fn pair_table(p: &mut crate::lower::Prepare, f: impl Fn(i8, i8) -> i8) -> Result<Span> {
    match p.packing.pairs {
        true => p.i8s(crate::kernels::fast::binary::pair_table(f)),
        false => Ok(Span::default()),
    }
}

/// The pair table at `s`, `None` where the program has none (always on
/// boards: their programs never pack one, and their builds leave the
/// lookup out, 3.5 kB of flash).
fn pairs<'a>(c: &Consts<'a>, s: Span) -> Result<Option<&'a [u8; PAIRS]>> {
    if cfg!(target_arch = "arm") || s.len == 0 {
        return Ok(None);
    }
    let t = c.bytes(s)?.try_into().map_err(|_| Error::Program("a pair table is not 256 × 256 bytes"))?;
    Ok(Some(t))
}

/// A binary by its pair table `t`: runs of equal-shaped operands in one
/// loop, broadcasts element by element.
fn eval_pairs(t: &[u8; PAIRS], inputs: &[In], out: Out, region: Rect) -> Result<()> {
    elementwise(inputs, out, region, |ins, o, so| {
        let [x, y] = ins else { return Err(Error::Program("a binary operator needs two operands")) };
        let (xa, ya, o) = (crate::arena::as_i8(x.data), crate::arena::as_i8(y.data), crate::arena::as_i8_mut(o));
        if x.shape == so && y.shape == so {
            paired(t, xa, ya, o);
        } else {
            binary(xa, x.shape, ya, y.shape, o, so, |a, b| pair(t, a, b));
        }
        Ok(())
    })
}

#[cfg(feature = "alloc")]
/// int8 operands (either may be a constant) that broadcast to the int8 output.
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

/// Runs `op` element-wise over two int8 operands (see `ops::elementwise`).
fn eval_binary(inputs: &[In], out: Out, region: Rect, op: impl Fn(i8, i8) -> i8) -> Result<()> {
    elementwise(inputs, out, region, |ins, o, so| {
        let [x, y] = ins else { return Err(Error::Program("a binary operator needs two operands")) };
        let (xa, ya) = (crate::arena::as_i8(x.data), crate::arena::as_i8(y.data));
        binary(xa, x.shape, ya, y.shape, crate::arena::as_i8_mut(o), so, &op);
        Ok(())
    })
}

impl Extremum {
    #[inline(always)]
    pub fn apply(&self, a: i8, b: i8) -> i8 {
        if self.max {
            a.max(b)
        } else {
            a.min(b)
        }
    }
}

/// Each kernel's `apply(a, b)` over the broadcast operands.
macro_rules! binary_eval {
    ($($t:ty),*) => {$(
        impl Eval for $t {
            fn eval(&self, _: &Consts, inputs: &[In], out: Out, region: Rect) -> Result<()> {
                eval_binary(inputs, out, region, |a, b| self.apply(a, b))
            }
        }
    )*};
}
binary_eval!(Extremum, PreluParams);

// The optimized element functions (the reference `apply`s stay their oracle).
impl Eval for RescaledKernel {
    // Not inlined into the kernel dispatch: its tables (2 KiB of stack) are
    // then in its own frame, not under every other operator's.
    #[inline(never)]
    fn eval(&self, c: &Consts, inputs: &[In], out: Out, region: Rect) -> Result<()> {
        if let Some(t) = pairs(c, self.pairs)? {
            return eval_pairs(t, inputs, out, region);
        }
        // One set of tables for the whole region: a patch's rows are short.
        let elements = out.win.n * region.area() * out.win.c;
        let tables = (elements >= TABLES_FROM).then(|| Tables::new(&self.params));
        self.params.eval_with(tables.as_ref(), inputs, out, region)
    }
}

impl RescaledParams {
    /// [`Eval::eval`] with the rescale tables built by the caller: an
    /// operator run in place row by row (`program::InPlaceKind::Rows`)
    /// builds them once for all its rows, whose calls are each too short
    /// to pay for them.
    pub(crate) fn eval_with(&self, tables: Option<&Tables>, inputs: &[In], out: Out, region: Rect) -> Result<()> {
        elementwise(inputs, out, region, |ins, o, so| {
            let [x, y] = ins else { return Err(Error::Program("a binary operator needs two operands")) };
            let (xa, ya, o) = (crate::arena::as_i8(x.data), crate::arena::as_i8(y.data), crate::arena::as_i8_mut(o));
            if x.shape == so && y.shape == so {
                match tables {
                    Some(t) => t.run(self, xa, ya, o),
                    None => rescaled_run(self, xa, ya, o),
                }
            } else {
                binary(xa, x.shape, ya, y.shape, o, so, |a, b| rescaled(self, a, b));
            }
            Ok(())
        })
    }
}

impl Eval for MulKernel {
    fn eval(&self, c: &Consts, inputs: &[In], out: Out, region: Rect) -> Result<()> {
        if let Some(t) = pairs(c, self.pairs)? {
            return eval_pairs(t, inputs, out, region);
        }
        eval_binary(inputs, out, region, |a, b| crate::kernels::fast::binary::mul(&self.params, a, b))
    }
}
