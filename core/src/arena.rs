//! Views of the one arena a model runs in: disjoint mutable and shared
//! slices for an operator's output and operands (the planner guarantees they
//! do not overlap; a violation is an error, never aliasing), and the paint
//! that measures the arena's high-water mark. No allocation; shared by the
//! host executors and the firmware's static executor.

use core::ops::Range;

use crate::error::{Error, Result};

/// Disjoint views of the arena: the output range mutable, everything else readable.
pub(crate) struct Io<'a> {
    left: &'a [u8],
    right: &'a [u8],
    right_start: usize,
    pub out: &'a mut [u8],
}

impl<'a> Io<'a> {
    pub fn split(arena: &'a mut [u8], out: Range<usize>) -> Result<Self> {
        if out.end > arena.len() {
            return Err(Error::ArenaTooSmall { needed: out.end, got: arena.len() });
        }
        let (left, rest) = arena.split_at_mut(out.start);
        let (mid, right) = rest.split_at_mut(out.end - out.start);
        Ok(Io { left, right, right_start: out.end, out: mid })
    }
    pub fn get(&self, r: Range<usize>) -> Result<&'a [u8]> {
        if r.end <= self.left.len() {
            Ok(&self.left[r])
        } else if r.start >= self.right_start && r.end - self.right_start <= self.right.len() {
            Ok(&self.right[r.start - self.right_start..r.end - self.right_start])
        } else {
            Err(Error::Schedule("an input buffer overlaps the output buffer"))
        }
    }
}

/// Two disjoint mutable ranges of the arena (`a`, `b`); everything else readable.
pub(crate) struct Io2<'a> {
    pub pieces: [(usize, &'a [u8]); 3],
    pub a: &'a mut [u8],
    pub b: &'a mut [u8],
}

impl<'a> Io2<'a> {
    pub fn split(arena: &'a mut [u8], a: Range<usize>, b: Range<usize>) -> Result<Self> {
        let end = a.end.max(b.end);
        if end > arena.len() {
            return Err(Error::ArenaTooSmall { needed: end, got: arena.len() });
        }
        let swap = b.start < a.start;
        let (lo, hi) = if swap { (b, a) } else { (a, b) };
        if lo.end > hi.start {
            return Err(Error::Schedule("in-place scratch overlaps its buffer"));
        }
        let (p0, rest) = arena.split_at_mut(lo.start);
        let (m0, rest) = rest.split_at_mut(lo.end - lo.start);
        let (p1, rest) = rest.split_at_mut(hi.start - lo.end);
        let (m1, p2) = rest.split_at_mut(hi.end - hi.start);
        let pieces = [(0, &*p0), (lo.end, &*p1), (hi.end, &*p2)];
        let (a, b) = if swap { (m1, m0) } else { (m0, m1) };
        Ok(Io2 { pieces, a, b })
    }
}

/// The read-only arena bytes `r` from the pieces of an [`Io2`].
pub(crate) fn piece<'a>(pieces: &[(usize, &'a [u8]); 3], r: Range<usize>) -> Result<&'a [u8]> {
    for &(start, p) in pieces {
        if r.start >= start && r.end <= start + p.len() {
            return Ok(&p[r.start - start..r.end - start]);
        }
    }
    Err(Error::Schedule("an input buffer overlaps the output buffer"))
}

pub fn as_i8(b: &[u8]) -> &[i8] {
    bytemuck::cast_slice(b)
}
pub fn as_i8_mut(b: &mut [u8]) -> &mut [i8] {
    bytemuck::cast_slice_mut(b)
}

/// Two disjoint mutable ranges of the arena.
pub(crate) fn split_two(arena: &mut [u8], a: Range<usize>, b: Range<usize>) -> Result<(&mut [u8], &mut [u8])> {
    if a.end > arena.len() || b.end > arena.len() {
        return Err(Error::ArenaTooSmall { needed: a.end.max(b.end), got: arena.len() });
    }
    if a.end <= b.start {
        let (l, r) = arena.split_at_mut(b.start);
        Ok((&mut l[a], &mut r[..b.end - b.start]))
    } else if b.end <= a.start {
        let (l, r) = arena.split_at_mut(a.start);
        Ok((&mut r[..a.end - a.start], &mut l[b]))
    } else {
        Err(Error::Schedule("in-place scratch overlaps its buffer"))
    }
}

/// Fills the arena with `byte` before a run, for [`high_water_mark`].
pub fn paint(arena: &mut [u8], byte: u8) {
    arena.fill(byte);
}

/// One past the highest arena byte that no longer holds the paint `byte`.
/// Run twice with different paints and take the larger: a byte cannot be
/// written with both paint values, so the result is then exact.
pub fn high_water_mark(arena: &[u8], byte: u8) -> usize {
    arena.iter().rposition(|&b| b != byte).map_or(0, |p| p + 1)
}
