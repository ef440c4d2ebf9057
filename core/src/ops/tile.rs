//! TILE and SLICE: N-D copies (up to six dimensions, any element type) —
//! Keras 3 writes UpSampling2D as RESHAPE + TILE, PyTorch conversions slice
//! channel groups. Whole tensors for now (they end a patch stage).

use crate::error::Result;
use crate::literal_struct;
use crate::ops::transpose::MAX_RANK;
use crate::ops::{first, whole, Eval, In, Out};
use crate::program::Consts;
use crate::region::Rect;

/// TILE (`multiples`) or SLICE (`begin`), with the shapes both need.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CopyKind {
    /// Output dimension `d` repeats the input `multiples[d]` times.
    Tile,
    /// Output dimension `d` is input `begin[d]..begin[d] + out[d]`.
    Slice,
}

/// TILE's multiples or SLICE's begin and size, as read from the constant operands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NdCopy {
    pub kind: CopyKind,
    pub rank: u8,
    /// Multiples (TILE) or begins (SLICE).
    pub a: [usize; MAX_RANK],
}

/// The prepared copy: input and output shapes (padded with 1s) and the begins (0 for TILE).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NdCopyKernel {
    pub tile: bool,
    pub rank: u8,
    pub in_shape: [usize; MAX_RANK],
    pub out_shape: [usize; MAX_RANK],
    pub begin: [usize; MAX_RANK],
}
literal_struct!(NdCopyKernel { tile, rank, in_shape, out_shape, begin });

impl NdCopy {
    pub fn name(&self) -> &'static str {
        match self.kind {
            CopyKind::Tile => "TILE",
            CopyKind::Slice => "SLICE",
        }
    }

    #[cfg(feature = "alloc")]
    pub(crate) fn validate(&self, c: &crate::validate::Ctx) -> Result<()> {
        let r = self.rank as usize;
        let (inp, out) = c.moved(r)?;
        let ok = (0..r).all(|d| {
            let (i, o) = (inp.1.shape[d], out.1.shape[d]);
            match self.kind {
                CopyKind::Tile => i.checked_mul(self.a[d]) == Some(o),
                CopyKind::Slice => self.a[d].checked_add(o).is_some_and(|e| e <= i),
            }
        });
        if !ok {
            return Err(c.shape_err("the output shape does not match the copy's parameters", out.0));
        }
        Ok(())
    }

    #[cfg(feature = "alloc")]
    pub(crate) fn prepare(&self, p: &mut crate::lower::Prepare) -> Result<NdCopyKernel> {
        let pad = |s: &[usize]| {
            let mut a = [1; MAX_RANK];
            a[..s.len()].copy_from_slice(s);
            a
        };
        let (i, o) = (pad(&p.tensor(p.input(0)?).shape), pad(&p.tensor(p.output()).shape));
        let begin = if self.kind == CopyKind::Slice { self.a } else { [0; MAX_RANK] };
        Ok(NdCopyKernel { tile: self.kind == CopyKind::Tile, rank: self.rank, in_shape: i, out_shape: o, begin })
    }
}

/// Calls `f(output element, input element)` for every output element of an
/// N-D copy whose output dimension `d`, index `o`, reads input index `map(d, o)`.
pub(crate) fn nd_copy(
    rank: usize,
    in_shape: &[usize; MAX_RANK],
    out_shape: &[usize; MAX_RANK],
    map: impl Fn(usize, usize) -> usize,
    mut f: impl FnMut(usize, usize),
) {
    let mut stride = [0usize; MAX_RANK];
    let mut acc = 1;
    for d in (0..rank).rev() {
        stride[d] = acc;
        acc *= in_shape[d];
    }
    let total: usize = out_shape[..rank].iter().product();
    let mut index = [0usize; MAX_RANK];
    for o in 0..total {
        f(o, (0..rank).map(|d| map(d, index[d]) * stride[d]).sum());
        for d in (0..rank).rev() {
            index[d] += 1;
            if index[d] < out_shape[d] {
                break;
            }
            index[d] = 0;
        }
    }
}

impl Eval for NdCopyKernel {
    fn eval(&self, _: &Consts, inputs: &[In], out: Out, region: Rect) -> Result<()> {
        whole(inputs, &out, region)?;
        let x = first(inputs)?;
        let e = out.elem;
        let map = |d: usize, o: usize| if self.tile { o % self.in_shape[d] } else { self.begin[d] + o };
        nd_copy(self.rank as usize, &self.in_shape, &self.out_shape, map, |o, i| {
            out.data[o * e..(o + 1) * e].copy_from_slice(&x.data[i * e..(i + 1) * e]);
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    //! TILE against its definition (output index `o` reads input `o mod n`
    //! per dimension), and SLICE of a tiled tensor at any whole repeat gives
    //! the input back, for ranks 1..=6.
    use super::*;
    use crate::ops::full;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    fn run(k: &NdCopyKernel, data: &[u8]) -> Vec<u8> {
        let r = k.rank as usize;
        let (s_in, s_out) = (crate::graph::nhwc(&k.in_shape[..r]), crate::graph::nhwc(&k.out_shape[..r]));
        let mut out = alloc::vec![0u8; k.out_shape[..r].iter().product()];
        let x = In { data, win: full(s_in), shape: s_in, elem: 1 };
        let w = full(s_out);
        k.eval(&Consts::default(), &[x], Out { data: &mut out, win: w, shape: s_out, elem: 1 }, w.rect).unwrap();
        out
    }

    proptest! {
        #[test]
        fn tile_and_slice_back((shape, mult, pick) in (1usize..=MAX_RANK).prop_flat_map(|r| (
            prop::collection::vec(1usize..=3, r), prop::collection::vec(1usize..=3, r), prop::collection::vec(0usize..3, r)))) {
            let r = shape.len();
            let pad = |v: &[usize]| { let mut a = [1; MAX_RANK]; a[..r].copy_from_slice(v); a };
            let data: Vec<u8> = (0..shape.iter().product::<usize>()).map(|i| (i * 11 + 5) as u8).collect();
            let out: Vec<usize> = shape.iter().zip(&mult).map(|(s, m)| s * m).collect();
            let tile = NdCopyKernel { tile: true, rank: r as u8, in_shape: pad(&shape), out_shape: pad(&out), begin: [0; MAX_RANK] };
            let tiled = run(&tile, &data);
            let index = |s: &[usize], i: &[usize]| (0..r).fold(0, |acc, d| acc * s[d] + i[d]);
            for o in 0..tiled.len() {
                let mut rem = o;
                let mut oi = alloc::vec![0usize; r];
                for d in (0..r).rev() { oi[d] = rem % out[d]; rem /= out[d]; }
                let ii: Vec<usize> = (0..r).map(|d| oi[d] % shape[d]).collect();
                prop_assert_eq!(tiled[o], data[index(&shape, &ii)]);
            }
            let begin: Vec<usize> = (0..r).map(|d| (pick[d] % mult[d]) * shape[d]).collect();
            let slice = NdCopyKernel { tile: false, rank: r as u8, in_shape: pad(&out), out_shape: pad(&shape), begin: pad(&begin) };
            prop_assert_eq!(run(&slice, &tiled), data);
        }
    }
}
