//! GATHER: rows of `params` picked by integer `indices` along one axis (any
//! element type; indices int32 or int64, constant or computed). PyTorch
//! conversions use it for index_select and channel shuffles. An index outside
//! the axis is an error at run time, as in the reference. Whole tensors.

use crate::error::{Error, Result};
use crate::literal_struct;
use crate::ops::{whole, Eval, In, Out};
use crate::program::Consts;
use crate::region::Rect;

/// GATHER's options: the (non-negative) axis of `params` and the leading batch dimensions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Gather {
    pub axis: usize,
    pub batch_dims: usize,
}

/// The prepared gather: `batch × outer` blocks of `axis_size × inner`
/// elements of which `coords` (per batch) are picked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GatherKernel {
    pub batch: usize,
    pub outer: usize,
    pub axis_size: usize,
    pub inner: usize,
    pub coords: usize,
    /// Bytes per index: 4 (int32) or 8 (int64).
    pub index_bytes: u8,
}
literal_struct!(GatherKernel { batch, outer, axis_size, inner, coords, index_bytes });

impl Gather {
    #[cfg(feature = "alloc")]
    pub(crate) fn validate(&self, c: &crate::validate::Ctx) -> Result<()> {
        use crate::graph::DType;
        let (params, out) = (c.input(0)?, c.output());
        let idx = c.input(1)?;
        if params.1.dtype != out.1.dtype || params.1.quant != out.1.quant {
            return Err(c.shape_err("GATHER would change the type or quantization", out.0));
        }
        if !matches!(idx.1.dtype, DType::I32 | DType::I64) {
            return Err(Error::UnsupportedType {
                op_index: c.oi,
                tensor: idx.0,
                what: "GATHER indices must be int32 or int64",
            });
        }
        let (p, i) = (&params.1.shape, &idx.1.shape);
        let (a, b) = (self.axis, self.batch_dims);
        if a >= p.len() || b > a || b > i.len() || p[..b] != i[..b] {
            return Err(c.shape_err("GATHER axis or batch_dims do not fit the operands", out.0));
        }
        let want: alloc::vec::Vec<usize> = p[..a].iter().chain(&i[b..]).chain(&p[a + 1..]).copied().collect();
        if out.1.shape != want {
            return Err(c.shape_err("GATHER output shape is not params with the axis replaced by indices", out.0));
        }
        Ok(())
    }

    #[cfg(feature = "alloc")]
    pub(crate) fn prepare(&self, p: &mut crate::lower::Prepare) -> Result<GatherKernel> {
        let params = &p.tensor(p.input(0)?).shape;
        let idx = p.tensor(p.input(1)?);
        let (a, b) = (self.axis, self.batch_dims);
        Ok(GatherKernel {
            batch: params[..b].iter().product(),
            outer: params[b..a].iter().product(),
            axis_size: params[a],
            inner: params[a + 1..].iter().product(),
            coords: idx.shape[b..].iter().product(),
            index_bytes: idx.dtype.size() as u8,
        })
    }
}

impl Eval for GatherKernel {
    fn eval(&self, _: &Consts, inputs: &[In], out: Out, region: Rect) -> Result<()> {
        whole(inputs, &out, region)?;
        let [params, indices] = inputs else { return Err(Error::Program("GATHER needs params and indices")) };
        let (e, ib) = (out.elem, self.index_bytes as usize);
        let row = self.inner * e;
        for b in 0..self.batch {
            for o in 0..self.outer {
                for k in 0..self.coords {
                    let at = (b * self.coords + k) * ib;
                    let raw = indices.data.get(at..at + ib).ok_or(Error::Program("GATHER indices are short"))?;
                    let index = if ib == 8 {
                        i64::from_le_bytes(raw.try_into().map_err(|_| Error::Program("GATHER index width"))?)
                    } else {
                        i32::from_le_bytes(raw.try_into().map_err(|_| Error::Program("GATHER index width"))?) as i64
                    };
                    let index = usize::try_from(index)
                        .ok()
                        .filter(|&i| i < self.axis_size)
                        .ok_or(Error::Program("GATHER index outside the gathered axis"))?;
                    let from = ((b * self.outer + o) * self.axis_size + index) * row;
                    let to = ((b * self.outer + o) * self.coords + k) * row;
                    out.data[to..to + row].copy_from_slice(&params.data[from..from + row]);
                }
            }
        }
        Ok(())
    }
}
