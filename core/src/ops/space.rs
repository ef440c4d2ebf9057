//! DEPTH_TO_SPACE and SPACE_TO_DEPTH (NHWC, TFLite's DCR order): blocks of
//! `b × b` pixels moved into or out of the channels — window operators that
//! can sit in a patch stage; SPACE_TO_BATCH_ND and
//! BATCH_TO_SPACE_ND (4-D): pixels interleaved into or out of the batch, with
//! padding (filled with the output zero point) or crops — how TF writes
//! dilated convolutions. Copies of the elements, any type; the batch
//! movers need whole tensors (they end a patch stage).

use crate::error::Result;
use crate::literal_struct;
use crate::ops::{first, whole, Eval, In, Out};
use crate::program::Consts;
use crate::region::Rect;

/// Which way the block moves, and its side.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SpaceDepth {
    /// DEPTH_TO_SPACE (`true`) or SPACE_TO_DEPTH.
    pub to_space: bool,
    pub block: usize,
}

/// The prepared copy: the direction, the block and the output's NHWC shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpaceDepthKernel {
    pub to_space: bool,
    pub block: usize,
    pub out_shape: [usize; 4],
}
literal_struct!(SpaceDepthKernel { to_space, block, out_shape });

impl SpaceDepth {
    pub fn name(&self) -> &'static str {
        ["SPACE_TO_DEPTH", "DEPTH_TO_SPACE"][self.to_space as usize]
    }

    #[cfg(feature = "alloc")]
    pub(crate) fn validate(&self, c: &crate::validate::Ctx) -> Result<()> {
        let (inp, out) = c.moved(4)?;
        let (i, o, b) = (&inp.1.shape, &out.1.shape, self.block);
        let expect = if self.to_space {
            (i[3] % (b * b) == 0).then(|| [i[0], i[1] * b, i[2] * b, i[3] / (b * b)])
        } else {
            (i[1] % b == 0 && i[2] % b == 0).then(|| [i[0], i[1] / b, i[2] / b, i[3] * b * b])
        };
        if expect.is_none_or(|e| o[..] != e[..]) {
            return Err(c.shape_err("the output shape does not match the block size", out.0));
        }
        Ok(())
    }

    #[cfg(feature = "alloc")]
    pub(crate) fn prepare(&self, p: &mut crate::lower::Prepare) -> Result<SpaceDepthKernel> {
        Ok(SpaceDepthKernel { to_space: self.to_space, block: self.block, out_shape: p.shape(p.output()) })
    }
}

impl SpaceDepth {
    /// The input rectangle output rectangle `out` reads: each output pixel
    /// comes from one input pixel (DEPTH_TO_SPACE) or one `b × b` block.
    pub fn input_rect(&self, out: Rect) -> Rect {
        let b = self.block;
        if self.to_space {
            let (y0, x0) = (out.y / b, out.x / b);
            Rect::new(y0, x0, (out.y_end() - 1) / b + 1 - y0, (out.x_end() - 1) / b + 1 - x0)
        } else {
            Rect::new(out.y * b, out.x * b, out.h * b, out.w * b)
        }
    }
}

impl Eval for SpaceDepthKernel {
    fn eval(&self, _: &Consts, inputs: &[In], out: Out, region: Rect) -> Result<()> {
        let x = first(inputs)?;
        let (b, e) = (self.block, out.elem);
        let (oc, ic) = (self.out_shape[3], x.shape[3]);
        for (bi, y) in crate::ops::rows(out.win, region) {
            for xx in region.x..region.x_end() {
                let o = out.win.offset(bi, y, xx) * e;
                if self.to_space {
                    // Output pixel (y, x) takes channel block (y % b, x % b) of input pixel (y / b, x / b).
                    let i = (x.win.offset(bi, y / b, xx / b) + ((y % b) * b + xx % b) * oc) * e;
                    crate::ops::sub_mut(out.data, o, oc * e)?.copy_from_slice(crate::ops::sub(x.data, i, oc * e)?);
                } else {
                    // Output channels `k·C..(k+1)·C` are input pixel (y·b + k / b, x·b + k % b).
                    for k in 0..b * b {
                        let i = x.win.offset(bi, y * b + k / b, xx * b + k % b) * e;
                        let dst = crate::ops::sub_mut(out.data, o + k * ic * e, ic * e)?;
                        dst.copy_from_slice(crate::ops::sub(x.data, i, ic * e)?);
                    }
                }
            }
        }
        Ok(())
    }
}

/// SPACE_TO_BATCH_ND (`to_batch`, with `pads`) or BATCH_TO_SPACE_ND (with crops in `pads`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BatchSpace {
    pub to_batch: bool,
    /// Block height and width.
    pub block: [usize; 2],
    /// `[before, after]` padding (or crop) of height and width.
    pub pads: [[usize; 2]; 2],
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchSpaceKernel {
    pub to_batch: bool,
    pub block: [usize; 2],
    /// Top and left padding (or crop).
    pub before: [usize; 2],
    pub in_shape: [usize; 4],
    pub out_shape: [usize; 4],
    /// The padding value's bytes (the output zero point; 0 for float).
    pub pad: [u8; 4],
}
literal_struct!(BatchSpaceKernel { to_batch, block, before, in_shape, out_shape, pad });

impl BatchSpace {
    pub fn name(&self) -> &'static str {
        ["BATCH_TO_SPACE_ND", "SPACE_TO_BATCH_ND"][self.to_batch as usize]
    }

    #[cfg(feature = "alloc")]
    pub(crate) fn validate(&self, c: &crate::validate::Ctx) -> Result<()> {
        let (inp, out) = c.moved(4)?;
        let (i, o) = (&inp.1.shape, &out.1.shape);
        let ([bh, bw], [[t, b], [l, r]]) = (self.block, self.pads);
        let expect = if self.to_batch {
            let (h, w) = (i[1] + t + b, i[2] + l + r);
            (h % bh == 0 && w % bw == 0).then(|| [i[0] * bh * bw, h / bh, w / bw, i[3]])
        } else {
            let (h, w) = (i[1] * bh, i[2] * bw);
            (i[0] % (bh * bw) == 0 && t + b <= h && l + r <= w).then(|| [i[0] / (bh * bw), h - t - b, w - l - r, i[3]])
        };
        if expect.is_none_or(|e| o[..] != e[..]) {
            return Err(c.shape_err("the output shape does not match the block and paddings", out.0));
        }
        Ok(())
    }

    #[cfg(feature = "alloc")]
    pub(crate) fn prepare(&self, p: &mut crate::lower::Prepare) -> Result<BatchSpaceKernel> {
        let out = p.tensor(p.output());
        let pad = match (out.dtype, out.quant.per_tensor()) {
            (crate::graph::DType::F32, _) | (_, None) => [0; 4],
            (_, Some((_, zp))) => (zp as i32).to_le_bytes(),
        };
        Ok(BatchSpaceKernel {
            to_batch: self.to_batch,
            block: self.block,
            before: [self.pads[0][0], self.pads[1][0]],
            in_shape: p.shape(p.input(0)?),
            out_shape: p.shape(p.output()),
            pad,
        })
    }
}

impl Eval for BatchSpaceKernel {
    fn eval(&self, _: &Consts, inputs: &[In], out: Out, region: Rect) -> Result<()> {
        whole(inputs, &out, region)?;
        let x = first(inputs)?;
        let e = out.elem;
        let ([bh, bw], [top, left]) = (self.block, self.before);
        let (i, o) = (self.in_shape, self.out_shape);
        let row = i[3] * e;
        let at = |s: [usize; 4], n: usize, y: usize, xx: usize| ((n * s[1] + y) * s[2] + xx) * s[3] * e;
        if self.to_batch {
            // Output image `ob` is input image `ob % n` shifted by block position `ob / n`.
            for ob in 0..o[0] {
                let (ib, shift) = (ob % i[0], ob / i[0]);
                let (sy, sx) = (shift / bw, shift % bw);
                for oy in 0..o[1] {
                    for ox in 0..o[2] {
                        let dst = &mut out.data[at(o, ob, oy, ox)..][..row];
                        let (y, xx) = (oy * bh + sy, ox * bw + sx);
                        if y < top || y >= top + i[1] || xx < left || xx >= left + i[2] {
                            for v in dst.chunks_exact_mut(e) {
                                v.copy_from_slice(&self.pad[..e]);
                            }
                        } else {
                            dst.copy_from_slice(&x.data[at(i, ib, y - top, xx - left)..][..row]);
                        }
                    }
                }
            }
        } else {
            for ib in 0..i[0] {
                let (ob, shift) = (ib % o[0], ib / o[0]);
                for iy in 0..i[1] {
                    let Some(oy) = (iy * bh + shift / bw).checked_sub(top).filter(|&y| y < o[1]) else { continue };
                    for ix in 0..i[2] {
                        let Some(ox) = (ix * bw + shift % bw).checked_sub(left).filter(|&v| v < o[2]) else {
                            continue;
                        };
                        out.data[at(o, ob, oy, ox)..][..row].copy_from_slice(&x.data[at(i, ib, iy, ix)..][..row]);
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    //! SPACE_TO_DEPTH then DEPTH_TO_SPACE with the same block is the identity,
    //! and DEPTH_TO_SPACE puts channel `(dy·b + dx)·C + c` of pixel `(y, x)`
    //! at pixel `(y·b + dy, x·b + dx)`.
    use super::*;
    use crate::ops::full;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    fn run(k: SpaceDepthKernel, data: &[u8], shape: [usize; 4]) -> Vec<u8> {
        let mut out = alloc::vec![0u8; data.len()];
        let x = In { data, win: full(shape), shape, elem: 1 };
        let w = full(k.out_shape);
        k.eval(&Consts::default(), &[x], Out { data: &mut out, win: w, shape: k.out_shape, elem: 1 }, w.rect).unwrap();
        out
    }

    proptest! {
        #[test]
        fn round_trip_and_placement(n in 1usize..=2, h in 1usize..=3, w in 1usize..=3, c in 1usize..=3, b in 1usize..=3) {
            let s = [n, h * b, w * b, c];
            let data: Vec<u8> = (0..s.iter().product::<usize>()).map(|i| (i * 13 + 1) as u8).collect();
            let down = SpaceDepthKernel { to_space: false, block: b, out_shape: [n, h, w, c * b * b] };
            let deep = run(down, &data, s);
            let up = SpaceDepthKernel { to_space: true, block: b, out_shape: s };
            prop_assert_eq!(&run(up, &deep, down.out_shape), &data);
            for y in 0..h { for x in 0..w { for dy in 0..b { for dx in 0..b { for ch in 0..c {
                let src = ((y * w + x) * c * b * b) + (dy * b + dx) * c + ch;
                let dst = (((y * b + dy) * w * b) + x * b + dx) * c + ch;
                prop_assert_eq!(deep[src], data[dst]);
            }}}}}
        }

        #[test]
        fn batch_round_trip(n in 1usize..=2, h in 1usize..=5, w in 1usize..=5, c in 1usize..=2, bh in 1usize..=3, bw in 1usize..=3,
                            pads in [0usize..3, 0usize..3, 0usize..3, 0usize..3]) {
            // Pad up to a multiple of the block, then crop the same amounts back.
            let (pt, pl) = (pads[0], pads[2]);
            let pb = (bh - (h + pt) % bh) % bh + bh * (pads[1] % 2);
            let pr = (bw - (w + pl) % bw) % bw + bw * (pads[3] % 2);
            let s = [n, h, w, c];
            let data: Vec<u8> = (0..n * h * w * c).map(|i| (i * 7 + 3) as u8).collect();
            let mid = [n * bh * bw, (h + pt + pb) / bh, (w + pl + pr) / bw, c];
            let to = BatchSpaceKernel { to_batch: true, block: [bh, bw], before: [pt, pl], in_shape: s, out_shape: mid, pad: [0xEE; 4] };
            let mut batched = alloc::vec![0u8; mid.iter().product()];
            let (wi, wm) = (full(s), full(mid));
            to.eval(&Consts::default(), &[In { data: &data, win: wi, shape: s, elem: 1 }],
                    Out { data: &mut batched, win: wm, shape: mid, elem: 1 }, wm.rect).unwrap();
            let pads_written = batched.iter().filter(|&&v| v == 0xEE).count();
            prop_assert_eq!(pads_written, batched.len() - data.len());
            let back = BatchSpaceKernel { to_batch: false, out_shape: s, in_shape: mid, ..to };
            let mut out = alloc::vec![0u8; data.len()];
            back.eval(&Consts::default(), &[In { data: &batched, win: wm, shape: mid, elem: 1 }],
                      Out { data: &mut out, win: wi, shape: s, elem: 1 }, wi.rect).unwrap();
            prop_assert_eq!(out, data);
        }
    }
}
