//! Decoding the N-D copy family (TILE, SLICE, STRIDED_SLICE, SPLIT, SPLIT_V,
//! UNPACK) from operands and options into [`NdCopy`]s. The operators with
//! several outputs become one copy per output, each reading the same value.

use alloc::vec::Vec;

use super::{const_ints, fb_err};
use crate::error::{Error, Result};
use crate::graph::{Tensor, TensorId};
use crate::op::{CopyKind, NdCopy};
use crate::ops::transpose::MAX_RANK;
use crate::schema as fb;

/// An operator decoded into copies: the value they all read and one copy per output.
pub(super) type Parts = (TensorId, Vec<NdCopy>);

fn shape_of(tensors: &[Tensor], id: Option<TensorId>, oi: usize) -> Result<(TensorId, &[usize])> {
    let id = id.ok_or(Error::at_op("missing input operand", oi))?;
    let s = &tensors[id].shape;
    if s.is_empty() || s.len() > MAX_RANK {
        return Err(Error::at_op("copies support tensors of rank 1 to 6", oi));
    }
    Ok((id, s))
}

/// `axis` (negative counts from the end) as an index below `rank`.
fn axis_index(axis: i64, rank: usize, oi: usize) -> Result<usize> {
    let a = if axis < 0 { axis + rank as i64 } else { axis };
    usize::try_from(a).ok().filter(|&a| a < rank).ok_or(Error::at_op("axis out of range", oi))
}

fn bounded(v: i64, oi: usize) -> Result<usize> {
    usize::try_from(v).ok().filter(|&v| v <= 1 << 20).ok_or(Error::at_op("copy parameter out of range", oi))
}

/// TILE and SLICE.
pub(super) fn tile_or_slice(
    oi: usize,
    tile: bool,
    ins: &[Option<TensorId>],
    outs: &[TensorId],
    tensors: &[Tensor],
) -> Result<NdCopy> {
    let what = if tile { "TILE needs constant multiples" } else { "SLICE needs a constant begin" };
    let a = const_ints(tensors, ins.get(1).copied().flatten(), oi, what)?;
    let (_, in_shape) = shape_of(tensors, ins.first().copied().flatten(), oi)?;
    let out_shape = &tensors[outs[0]].shape;
    let rank = in_shape.len();
    if a.len() != rank || out_shape.len() != rank {
        return Err(Error::at_op("TILE/SLICE parameters do not match the tensor ranks", oi));
    }
    let mut v = [0usize; MAX_RANK];
    for (d, &x) in a.iter().enumerate() {
        v[d] = bounded(x, oi)?;
    }
    if !tile {
        // The output must be what `size` says (-1: to the end), as the reference computes it.
        let size = const_ints(tensors, ins.get(2).copied().flatten(), oi, "SLICE needs a constant size")?;
        let consistent = size.len() == rank
            && (0..rank).all(|d| match size[d] {
                -1 => in_shape[d].checked_sub(v[d]) == Some(out_shape[d]),
                s => usize::try_from(s) == Ok(out_shape[d]),
            });
        if !consistent {
            return Err(Error::at_op("SLICE size does not match its output shape", oi));
        }
    }
    Ok(NdCopy::new(if tile { CopyKind::Tile } else { CopyKind::Slice }, rank, v).with_shapes(in_shape, out_shape))
}

/// STRIDED_SLICE: begin, end and strides resolved per dimension the way
/// TFLite's `StartForAxis`/`StopForAxis` do (masks, negative indices,
/// clamping, `offset`), then checked against the declared output shape.
pub(super) fn strided_slice(
    oi: usize,
    opts: Option<fb::BuiltinOptionsRef<'_>>,
    ins: &[Option<TensorId>],
    outs: &[TensorId],
    tensors: &[Tensor],
) -> Result<NdCopy> {
    let (_, in_shape) = shape_of(tensors, ins.first().copied().flatten(), oi)?;
    let rank = in_shape.len();
    let get = |k: usize, what| const_ints(tensors, ins.get(k).copied().flatten(), oi, what);
    let begin = get(1, "STRIDED_SLICE needs a constant begin")?;
    let end = get(2, "STRIDED_SLICE needs a constant end")?;
    let strides = get(3, "STRIDED_SLICE needs constant strides")?;
    let (mut bm, mut em, mut sm, mut offset, mut ellipsis, mut new_axis) = (0, 0, 0, false, 0, 0);
    if let Some(o) = opts!(opts, StridedSliceOptions, oi) {
        bm = o.begin_mask().map_err(fb_err)?;
        em = o.end_mask().map_err(fb_err)?;
        sm = o.shrink_axis_mask().map_err(fb_err)?;
        offset = o.offset().map_err(fb_err)?;
        ellipsis = o.ellipsis_mask().map_err(fb_err)?;
        new_axis = o.new_axis_mask().map_err(fb_err)?;
    }
    let m = begin.len();
    // At most one ellipsis bit (a mask with the sign bit set is as hostile as any other).
    if end.len() != m || strides.len() != m || m > 2 * MAX_RANK || ellipsis.count_ones() > 1 {
        return Err(Error::at_op("STRIDED_SLICE begin, end and strides differ in length, or several ellipses", oi));
    }
    // The sparse spec (`m` entries, an ellipsis, new axes) made dense, one
    // entry per input dimension, as TensorFlow's BuildDenseSpec does; an
    // absent ellipsis stands at the end. `out_dims`: the output's dimensions
    // in order, `Some(d)` from input dimension `d`, `None` a new axis.
    let bit = |mask: i32, j: usize| mask & (1 << j) != 0;
    let ellipsis_at = (0..m).find(|&j| bit(ellipsis, j)).unwrap_or(m);
    let new_after = (ellipsis_at + 1..m).filter(|&j| bit(new_axis, j)).count();
    let mut dense = alloc::vec![(0i64, 0i64, 1i64, true, true, false); rank]; // begin, end, stride, bm, em, shrink
    let mut out_dims: Vec<Option<usize>> = Vec::new();
    let mut d = 0;
    for j in 0..=m {
        if j == ellipsis_at {
            // Full ranges up to the dimensions the entries after the ellipsis name.
            let named_after = m.saturating_sub(j + 1) - new_after;
            let upto = rank.checked_sub(named_after).filter(|&u| u >= d);
            let upto = upto.ok_or(Error::at_op("STRIDED_SLICE names more dimensions than its input has", oi))?;
            while d < upto {
                out_dims.push(Some(d));
                d += 1;
            }
            continue;
        }
        if j == m {
            break;
        }
        if bit(new_axis, j) {
            out_dims.push(None);
            continue;
        }
        if d >= rank {
            return Err(Error::at_op("STRIDED_SLICE names more dimensions than its input has", oi));
        }
        dense[d] = (begin[j], end[j], strides[j], bit(bm, j), bit(em, j), bit(sm, j));
        if !bit(sm, j) {
            out_dims.push(Some(d));
        }
        d += 1;
    }
    if d != rank {
        return Err(Error::at_op("STRIDED_SLICE does not cover every input dimension", oi));
    }
    let mut c = NdCopy::new(CopyKind::StridedSlice, rank, [0; MAX_RANK]);
    let mut counts = [0usize; MAX_RANK];
    for d in 0..rank {
        let dim = in_shape[d] as i64;
        let (b_d, e_d, s, b_masked, e_masked, shrink) = dense[d];
        if s == 0 || s.abs() > 1 << 20 {
            return Err(Error::at_op("STRIDED_SLICE strides must be nonzero and at most 2^20", oi));
        }
        let (lo, hi) = if s > 0 { (0, dim) } else { (-1, dim - 1) };
        let mut start = if b_masked {
            if s > 0 {
                i64::MIN / 2
            } else {
                i64::MAX / 2
            }
        } else {
            b_d
        };
        if start < 0 {
            start += dim;
        }
        let start = start.clamp(lo, hi);
        let count = if shrink {
            if !(0..dim).contains(&start) {
                return Err(Error::at_op("STRIDED_SLICE shrinks an axis at an index outside it", oi));
            }
            1
        } else {
            let mut stop = if e_masked {
                if s > 0 {
                    i64::MAX / 2
                } else {
                    i64::MIN / 2
                }
            } else if offset {
                e_d.saturating_add(b_d)
            } else {
                e_d
            };
            if stop < 0 {
                stop += dim;
            }
            let stop = stop.clamp(lo, hi);
            let span = if s > 0 { stop - start } else { start - stop };
            if span <= 0 {
                0
            } else {
                (span + s.abs() - 1) / s.abs()
            }
        };
        c.a[d] = start.max(0) as usize;
        c.step[d] = s as i32;
        if shrink {
            c.dropped |= 1 << d;
        }
        counts[d] = count as usize;
    }
    let out: Vec<usize> = out_dims.iter().map(|o| o.map_or(1, |d| counts[d])).collect();
    for (k, o) in out_dims.iter().enumerate() {
        if o.is_none() {
            c.inserted |= 1u16.checked_shl(k as u32).ok_or(Error::at_op("STRIDED_SLICE output rank too high", oi))?;
        }
    }
    if tensors[outs[0]].shape != out {
        return Err(Error::at_op("STRIDED_SLICE output shape differs from what begin, end and strides give", oi));
    }
    Ok(c.with_shapes(in_shape, &out))
}

/// SPLIT (operands: axis, value), SPLIT_V (value, sizes, axis) and UNPACK
/// (value; axis and count in the options): one unit-step slice per output.
pub(super) fn split(
    oi: usize,
    code: i32,
    opts: Option<fb::BuiltinOptionsRef<'_>>,
    ins: &[Option<TensorId>],
    outs: &[TensorId],
    tensors: &[Tensor],
) -> Result<Parts> {
    let value = if code == 49 { 1 } else { 0 };
    let (id, in_shape) = shape_of(tensors, ins.get(value).copied().flatten(), oi)?;
    let rank = in_shape.len();
    let n = outs.len();
    let axis_operand = |k: usize, name| -> Result<usize> {
        let a = const_ints(tensors, ins.get(k).copied().flatten(), oi, name)?;
        match a[..] {
            [a] => axis_index(a, rank, oi),
            _ => Err(Error::at_op("the split axis must be one constant", oi)),
        }
    };
    let (kind, axis, sizes) = match code {
        49 => {
            let axis = axis_operand(0, "SPLIT needs a constant axis")?;
            if let Some(o) = opts!(opts, SplitOptions, oi) {
                if usize::try_from(o.num_splits().map_err(fb_err)?) != Ok(n) {
                    return Err(Error::at_op("SPLIT num_splits differs from its number of outputs", oi));
                }
            }
            if in_shape[axis] % n != 0 {
                return Err(Error::at_op("SPLIT axis is not divisible by the number of outputs", oi));
            }
            (CopyKind::Split, axis, alloc::vec![in_shape[axis] / n; n])
        }
        102 => {
            let axis = axis_operand(2, "SPLIT_V needs a constant axis")?;
            let v = const_ints(tensors, ins.get(1).copied().flatten(), oi, "SPLIT_V needs constant sizes")?;
            if v.len() != n || v.iter().filter(|&&s| s == -1).count() > 1 {
                return Err(Error::at_op("SPLIT_V needs one size per output, at most one of them -1", oi));
            }
            let known: i64 = v.iter().filter(|&&s| s != -1).sum();
            let rest = in_shape[axis] as i64 - known;
            let mut sizes = Vec::with_capacity(n);
            for &s in &v {
                let s = if s == -1 { rest } else { s };
                sizes.push(usize::try_from(s).map_err(|_| Error::at_op("SPLIT_V size is negative", oi))?);
            }
            (CopyKind::SplitV, axis, sizes)
        }
        _ => {
            let o = opts!(opts, UnpackOptions, oi).ok_or(Error::at_op("UNPACK without options", oi))?;
            let axis = axis_index(o.axis().map_err(fb_err)? as i64, rank, oi)?;
            if usize::try_from(o.num().map_err(fb_err)?) != Ok(n) || in_shape[axis] != n {
                return Err(Error::at_op("UNPACK count differs from its outputs or the axis size", oi));
            }
            (CopyKind::Unpack, axis, alloc::vec![1; n])
        }
    };
    if sizes.iter().sum::<usize>() != in_shape[axis] {
        return Err(Error::at_op("the split sizes do not add up to the axis size", oi));
    }
    let mut parts = Vec::with_capacity(n);
    let mut at = 0;
    for (k, &size) in sizes.iter().enumerate() {
        let mut want: Vec<usize> = in_shape.to_vec();
        want[axis] = size;
        let mut c = NdCopy::new(kind, rank, [0; MAX_RANK]);
        c.a[axis] = at;
        if kind == CopyKind::Unpack {
            want.remove(axis);
            c.dropped = 1 << axis;
        }
        if tensors[outs[k]].shape != want {
            return Err(Error::at_op("a split output's shape differs from its part of the input", oi));
        }
        parts.push(c.with_shapes(in_shape, &want));
        at += size;
    }
    Ok((id, parts))
}
