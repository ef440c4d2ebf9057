//! DEPTH_TO_SPACE and SPACE_TO_DEPTH (NHWC, TFLite's DCR order): blocks of
//! `b × b` pixels moved into or out of the channels. Copies of the elements,
//! any type; whole tensors for now (they end a patch stage).

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

impl Eval for SpaceDepthKernel {
    fn eval(&self, _: &Consts, inputs: &[In], out: Out, region: Rect) -> Result<()> {
        whole(inputs, &out, region)?;
        let x = first(inputs)?;
        let ([n, oh, ow, oc], b, e) = (self.out_shape, self.block, out.elem);
        let [_, ih, iw, ic] = x.shape;
        let mut o = 0;
        for bi in 0..n {
            for y in 0..oh {
                for xx in 0..ow {
                    for ch in 0..oc {
                        let i = if self.to_space {
                            // Output pixel (y, x) takes channel block (y % b, x % b) of input pixel (y / b, x / b).
                            let d = ((y % b) * b + xx % b) * oc + ch;
                            ((bi * ih + y / b) * iw + xx / b) * ic + d
                        } else {
                            let (within, d) = (ch / ic, ch % ic);
                            ((bi * ih + y * b + within / b) * iw + xx * b + within % b) * ic + d
                        };
                        out.data[o * e..(o + 1) * e].copy_from_slice(&x.data[i * e..(i + 1) * e]);
                        o += 1;
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
    }
}
