//! TRANSPOSE: a permutation of up to six dimensions (PyTorch conversions put
//! one before and after most layers). A copy of the elements, any type;
//! needs whole tensors (it ends a patch stage).

use crate::error::Result;
use crate::literal_struct;
use crate::ops::{first, whole, Eval, In, Out};
use crate::program::Consts;
use crate::region::Rect;

/// The most dimensions a TRANSPOSE permutes.
pub const MAX_RANK: usize = 6;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Transpose {
    /// Output dimension `d` is input dimension `perm[d]` (the first `rank` entries).
    pub perm: [u8; MAX_RANK],
    pub rank: u8,
}

/// The prepared copy: the input's shape and the permutation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TransposeKernel {
    pub in_shape: [usize; MAX_RANK],
    pub perm: [u8; MAX_RANK],
    pub rank: u8,
}
literal_struct!(TransposeKernel { in_shape, perm, rank });

impl Transpose {
    #[cfg(feature = "alloc")]
    pub(crate) fn validate(&self, c: &crate::validate::Ctx) -> Result<()> {
        let r = self.rank as usize;
        let (inp, out) = c.moved(r)?;
        if (0..r).any(|d| out.1.shape[d] != inp.1.shape[self.perm[d] as usize]) {
            return Err(c.shape_err("TRANSPOSE output shape is not the permuted input shape", out.0));
        }
        Ok(())
    }

    #[cfg(feature = "alloc")]
    pub(crate) fn prepare(&self, p: &mut crate::lower::Prepare) -> Result<TransposeKernel> {
        let s = &p.tensor(p.input(0)?).shape;
        let mut in_shape = [1; MAX_RANK];
        in_shape[..s.len()].copy_from_slice(s);
        Ok(TransposeKernel { in_shape, perm: self.perm, rank: self.rank })
    }
}

impl Eval for TransposeKernel {
    fn eval(&self, _: &Consts, inputs: &[In], out: Out, region: Rect) -> Result<()> {
        whole(inputs, &out, region)?;
        let x = first(inputs)?;
        let r = self.rank as usize;
        let e = out.elem;
        // Input strides (elements), then the output walked in order with the
        // input offset advanced by the stride of the permuted dimension.
        let mut stride = [0usize; MAX_RANK];
        let mut acc = 1;
        for d in (0..r).rev() {
            stride[d] = acc;
            acc *= self.in_shape[d];
        }
        let out_shape: [usize; MAX_RANK] =
            core::array::from_fn(|d| if d < r { self.in_shape[self.perm[d] as usize] } else { 1 });
        let total: usize = out_shape[..r].iter().product();
        // Both tensors whole (checked above), at least `total` elements each:
        // the gathers below index inside them.
        if x.data.len() < total * e || out.data.len() < total * e {
            return Err(crate::Error::Program("TRANSPOSE operands shorter than their shapes"));
        }
        if total == 0 || r == 0 {
            out.data[..total * e].copy_from_slice(&x.data[..total * e]);
            return Ok(());
        }
        // Output rows along the last dimension: one strided gather each.
        let (inner, step) = (out_shape[r - 1], stride[self.perm[r - 1] as usize]);
        let mut index = [0usize; MAX_RANK];
        for o in out.data[..total * e].chunks_exact_mut(inner * e) {
            let base: usize = (0..r - 1).map(|d| index[d] * stride[self.perm[d] as usize]).sum();
            if e == 1 {
                for (k, o) in o.iter_mut().enumerate() {
                    *o = x.data[base + k * step];
                }
            } else {
                for (k, o) in o.chunks_exact_mut(e).enumerate() {
                    let i = (base + k * step) * e;
                    o.copy_from_slice(&x.data[i..i + e]);
                }
            }
            for d in (0..r - 1).rev() {
                index[d] += 1;
                if index[d] < out_shape[d] {
                    break;
                }
                index[d] = 0;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    //! The kernel against the definition, element by element: output
    //! multi-index `o` holds input multi-index `i` with `i[perm[d]] = o[d]`,
    //! for every rank 1..=6 and permutation, on 1- and 4-byte elements.
    use super::*;
    use crate::ops::full;
    use crate::region::Window;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    fn problem() -> impl Strategy<Value = (Vec<usize>, Vec<usize>, usize)> {
        (1usize..=MAX_RANK).prop_flat_map(|r| {
            (
                prop::collection::vec(1usize..=4, r),
                Just((0..r).collect::<Vec<_>>()).prop_shuffle(),
                prop::sample::select(alloc::vec![1usize, 4]),
            )
        })
    }

    proptest! {
        #[test]
        fn matches_the_definition((shape, perm, elem) in problem()) {
            let r = shape.len();
            let n: usize = shape.iter().product();
            let data: Vec<u8> = (0..n * elem).map(|i| (i * 7 + 3) as u8).collect();
            let mut k = TransposeKernel { in_shape: [1; MAX_RANK], perm: [0; MAX_RANK], rank: r as u8 };
            k.in_shape[..r].copy_from_slice(&shape);
            for (d, &p) in perm.iter().enumerate() {
                k.perm[d] = p as u8;
            }
            let out_shape: Vec<usize> = perm.iter().map(|&p| shape[p]).collect();
            let (s_in, s_out) = (crate::graph::nhwc(&shape), crate::graph::nhwc(&out_shape));
            let mut out = alloc::vec![0u8; n * elem];
            let x = In { data: &data, win: full(s_in), shape: s_in, elem };
            let w: Window = full(s_out);
            k.eval(&Consts::default(), &[x], Out { data: &mut out, win: w, shape: s_out, elem }, w.rect).unwrap();
            for o in 0..n {
                // Output multi-index, then the input element it names.
                let mut rem = o;
                let mut oi = alloc::vec![0usize; r];
                for d in (0..r).rev() {
                    oi[d] = rem % out_shape[d];
                    rem /= out_shape[d];
                }
                let mut ii = alloc::vec![0usize; r];
                for d in 0..r {
                    ii[perm[d]] = oi[d];
                }
                let i = (0..r).fold(0, |acc, d| acc * shape[d] + ii[d]);
                prop_assert_eq!(&out[o * elem..(o + 1) * elem], &data[i * elem..(i + 1) * elem]);
            }
        }
    }
}
