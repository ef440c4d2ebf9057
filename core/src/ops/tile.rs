//! TILE, SLICE, STRIDED_SLICE, SPLIT, SPLIT_V and UNPACK: N-D copies (up to
//! six dimensions, any element type) where output index `o` of dimension `d`
//! reads input index `o mod in[d]` (TILE) or `begin[d] + o * step[d]` (the
//! slices). Keras 3 writes UpSampling2D as RESHAPE + TILE, PyTorch conversions
//! slice and split channel groups. The loader turns an operator with several
//! outputs (SPLIT, SPLIT_V, UNPACK) into one slice per output, so every node
//! keeps one output. Whole tensors for now (they end a patch stage).

use crate::error::Result;
use crate::literal_struct;
use crate::ops::transpose::MAX_RANK;
use crate::ops::{first, whole, Eval, In, Out};
use crate::program::Consts;
use crate::region::Rect;

/// Which operator an N-D copy came from (the copy itself is the same shape of loop).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CopyKind {
    /// Output dimension `d` repeats the input `multiples[d]` times.
    Tile,
    Slice,
    StridedSlice,
    /// One output of SPLIT, SPLIT_V or UNPACK (the loader makes one node per output).
    Split,
    SplitV,
    Unpack,
}

/// The copy as read from the operator's constant operands and options.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NdCopy {
    pub kind: CopyKind,
    /// The input's rank.
    pub rank: u8,
    /// Multiples (TILE) or the first input index read per dimension (the slices).
    pub a: [usize; MAX_RANK],
    /// Input step per output index: STRIDED_SLICE's strides (may be negative), 1 otherwise.
    pub step: [i32; MAX_RANK],
    /// Dimensions of extent 1 that the output drops (STRIDED_SLICE's shrink
    /// mask, UNPACK's axis), as a bit mask.
    pub dropped: u8,
    /// Output dimensions of extent 1 that no input dimension makes
    /// (STRIDED_SLICE's new-axis mask), as a bit mask over the output's dimensions.
    pub inserted: u16,
    /// A 4-D slice of channels only (every image and pixel kept): each output
    /// pixel reads its own input pixel, so it can sit in a patch stage.
    pub channels_only: bool,
}

impl NdCopy {
    /// A copy of `kind` with unit steps and nothing dropped.
    pub fn new(kind: CopyKind, rank: usize, a: [usize; MAX_RANK]) -> Self {
        NdCopy { kind, rank: rank as u8, a, step: [1; MAX_RANK], dropped: 0, inserted: 0, channels_only: false }
    }

    /// Sets [`Self::channels_only`] from the operand shapes (the loader does, once).
    pub fn with_shapes(mut self, input: &[usize], output: &[usize]) -> Self {
        self.channels_only = self.kind != CopyKind::Tile
            && self.rank == 4
            && self.dropped == 0
            && self.inserted == 0
            && input.len() == 4
            && output.len() == 4
            && input[..3] == output[..3]
            && self.a[..3] == [0, 0, 0]
            && self.step[..4] == [1, 1, 1, 1];
        self
    }
}

/// The prepared copy: input and copy shapes (padded with 1s), begins and steps (TILE: 0 and 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NdCopyKernel {
    pub tile: bool,
    /// A channel slice computed over any region of pixels.
    pub channels_only: bool,
    pub rank: u8,
    pub in_shape: [usize; MAX_RANK],
    pub out_shape: [usize; MAX_RANK],
    pub begin: [usize; MAX_RANK],
    pub step: [i32; MAX_RANK],
}
literal_struct!(NdCopyKernel { tile, channels_only, rank, in_shape, out_shape, begin, step });

impl NdCopy {
    pub fn name(&self) -> &'static str {
        match self.kind {
            CopyKind::Tile => "TILE",
            CopyKind::Slice => "SLICE",
            CopyKind::StridedSlice => "STRIDED_SLICE",
            CopyKind::Split => "SPLIT",
            CopyKind::SplitV => "SPLIT_V",
            CopyKind::Unpack => "UNPACK",
        }
    }

    /// The copy's extent per input dimension: the output shape with the
    /// dropped dimensions put back as 1 and the inserted ones (all 1) left out.
    #[cfg(feature = "alloc")]
    fn extent(&self, out: &[usize]) -> Option<[usize; MAX_RANK]> {
        let r = self.rank as usize;
        let mut e = [1; MAX_RANK];
        let mut k = 0;
        let inserted = |k: usize| k < 16 && self.inserted & (1 << k) != 0;
        let skip_inserted = |k: &mut usize| -> Option<()> {
            while inserted(*k) {
                (*out.get(*k)? == 1).then_some(())?;
                *k += 1;
            }
            Some(())
        };
        for (d, e) in e.iter_mut().enumerate().take(r) {
            if self.dropped & (1 << d) == 0 {
                skip_inserted(&mut k)?;
                *e = *out.get(k)?;
                k += 1;
            }
        }
        skip_inserted(&mut k)?;
        (k == out.len()).then_some(e)
    }

    #[cfg(feature = "alloc")]
    pub(crate) fn validate(&self, c: &crate::validate::Ctx) -> Result<()> {
        let r = self.rank as usize;
        let (inp, out) = c.moved_any()?;
        let e = match self.extent(&out.1.shape) {
            Some(e) if inp.1.shape.len() == r => e,
            _ => return Err(c.shape_err("the operator's parameters and tensor ranks differ", out.0)),
        };
        let ok = (0..r).all(|d| {
            let i = inp.1.shape[d];
            match self.kind {
                CopyKind::Tile => i.checked_mul(self.a[d]) == Some(e[d]),
                // The first and the last index read lie inside the input.
                _ if e[d] == 0 => true,
                _ => {
                    let last = self.a[d] as i64 + (e[d] as i64 - 1) * self.step[d] as i64;
                    self.a[d] < i && (0..i as i64).contains(&last)
                }
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
        let i = pad(&p.tensor(p.input(0)?).shape);
        let o = self.extent(&p.tensor(p.output()).shape).ok_or(p.err("copy shape does not match its output"))?;
        let tile = self.kind == CopyKind::Tile;
        let (begin, step) = if tile { ([0; MAX_RANK], [1; MAX_RANK]) } else { (self.a, self.step) };
        Ok(NdCopyKernel {
            tile,
            channels_only: self.channels_only,
            rank: self.rank,
            in_shape: i,
            out_shape: o,
            begin,
            step,
        })
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
        let x = first(inputs)?;
        let e = out.elem;
        if self.channels_only {
            // Pixel by pixel over the region: channels `begin[3]..` of the same input pixel.
            let (c0, oc) = (self.begin[3] * e, out.win.c * e);
            for (b, y) in crate::ops::rows(out.win, region) {
                for xx in region.x..region.x_end() {
                    let i = x.win.offset(b, y, xx) * e + c0;
                    let o = out.win.offset(b, y, xx) * e;
                    crate::ops::sub_mut(out.data, o, oc)?.copy_from_slice(crate::ops::sub(x.data, i, oc)?);
                }
            }
            return Ok(());
        }
        whole(inputs, &out, region)?;
        let map = |d: usize, o: usize| {
            if self.tile {
                o % self.in_shape[d]
            } else {
                // Validation keeps every index read inside the input.
                (self.begin[d] as i64 + o as i64 * self.step[d] as i64) as usize
            }
        };
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
            let tile = NdCopyKernel { tile: true, channels_only: false, rank: r as u8, in_shape: pad(&shape), out_shape: pad(&out), begin: [0; MAX_RANK], step: [1; MAX_RANK] };
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
            let slice = NdCopyKernel { tile: false, channels_only: false, rank: r as u8, in_shape: pad(&out), out_shape: pad(&shape), begin: pad(&begin), step: [1; MAX_RANK] };
            prop_assert_eq!(run(&slice, &tiled), data);
        }

        #[test]
        fn reversing_twice_is_the_identity(shape in (1usize..=MAX_RANK).prop_flat_map(|r| prop::collection::vec(1usize..=4, r))) {
            let r = shape.len();
            let mut s = [1; MAX_RANK];
            s[..r].copy_from_slice(&shape);
            let mut last = [0; MAX_RANK];
            for d in 0..r { last[d] = shape[d] - 1; }
            let k = NdCopyKernel { tile: false, channels_only: false, rank: r as u8, in_shape: s, out_shape: s, begin: last, step: [-1; MAX_RANK] };
            let data: Vec<u8> = (0..shape.iter().product::<usize>()).map(|i| (i * 7 + 3) as u8).collect();
            let once = run(&k, &data);
            prop_assert_eq!(once.first(), data.last());
            prop_assert_eq!(run(&k, &once), data);
        }
    }
}
