//! Halo caching (beyond MCUNetV2, after StreamNet): patches run in raster
//! order, and a stage tensor whose halo is cached is computed once per
//! pixel. Its producer computes, in each patch, only the part of the window
//! no earlier patch computed; the rows shared with the patch above come from
//! a row cache (as wide as the tensor, as tall as the largest overlap) and
//! the columns shared with the patch to the left from a column cache (as
//! tall as the window, as wide as the largest overlap).
//!
//! [`split`] is the one rule that says which part of a window is computed,
//! which is copied in from the caches and which is saved for the next
//! patches; the schedule (sizes, MACs, timeline) and the interpreter both
//! derive it from the same four neighbouring windows, so they cannot
//! disagree. Windows are products of per-axis spans (every patch of a grid
//! row shares its rows, of a grid column its columns) whose starts only move
//! forward; the schedule checks both before it caches a tensor. (An end may
//! move back — a hull over a branch can reach further in one cell than the
//! next —: the next window then takes all it shares from the cache and
//! computes only what lies past the previous window's end.)

use crate::error::{Error, Result};
use crate::region::{Rect, Window};

/// What a patch does with one cached tensor's window `here` (full-tensor
/// coordinates; each part may be empty).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Split {
    /// Computed by the producer in this patch.
    pub computed: Rect,
    /// Copied from the row cache before: the rows shared with the patch above.
    pub top_in: Rect,
    /// Copied from the column cache before: the columns shared with the patch to the left.
    pub left_in: Rect,
    /// Saved to the row cache after: the rows the patch below shares.
    pub bottom_out: Rect,
    /// Saved to the column cache after: the columns the patch to the right shares.
    pub right_out: Rect,
}

/// `[a, b)` as `(start, len)`, empty when `b <= a`.
fn span(a: usize, b: usize) -> (usize, usize) {
    (a, b.saturating_sub(a))
}

fn rect((y, h): (usize, usize), (x, w): (usize, usize)) -> Rect {
    Rect::new(y, x, h, w)
}

/// Splits window `here` given its neighbours' windows of the same tensor
/// (`None` at the grid's edge, or where that patch does not need the tensor).
/// An empty neighbouring window takes no part: it computes and saves nothing.
pub fn split(here: Rect, above: Option<Rect>, left: Option<Rect>, below: Option<Rect>, right: Option<Rect>) -> Split {
    let [above, left, below, right] = [above, left, below, right].map(|r| r.filter(|r| !r.is_empty()));
    let (y0, y1, x0, x1) = (here.y, here.y_end(), here.x, here.x_end());
    // The first row (column) no earlier patch of this grid column (row) computed.
    let new_y = above.map_or(y0, |a| a.y_end().clamp(y0, y1));
    let new_x = left.map_or(x0, |l| l.x_end().clamp(x0, x1));
    // What the next patch takes: the rows (columns) both windows hold.
    let rows_below = below.map_or((y1, 0), |b| span(b.y.clamp(y0, y1), y1.min(b.y_end())));
    let cols_right = right.map_or((x1, 0), |r| span(r.x.clamp(x0, x1), x1.min(r.x_end())));
    Split {
        computed: rect(span(new_y, y1), span(new_x, x1)),
        top_in: rect(span(y0, new_y), span(new_x, x1)),
        left_in: rect(span(y0, y1), span(x0, new_x)),
        bottom_out: rect(rows_below, span(new_x, x1)),
        right_out: rect(span(y0, y1), cols_right),
    }
}

/// [`split`] for window `here` of patch `p` of a raster grid of `patches`
/// patches, `cols` a row, its neighbours' windows of the same tensor read
/// with `window` (the schedule's sizes and MACs and the interpreter all ask
/// this, so they see the same neighbours).
pub fn split_in_grid(
    here: Rect,
    p: usize,
    patches: usize,
    cols: usize,
    window: impl Fn(usize) -> Option<Rect>,
) -> Split {
    let cols = cols.max(1);
    let col = p % cols;
    let at = |q: Option<usize>| q.filter(|&q| q < patches).and_then(&window);
    split(
        here,
        at(p.checked_sub(cols)),
        at((col > 0).then(|| p - 1)),
        at(Some(p + cols)),
        at((col + 1 < cols).then_some(p + 1)),
    )
}

/// A cached tensor: where its caches live and how they are laid out (a
/// tensor held whole needs none: its rows and columns are 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Cache {
    pub tensor: crate::program::TensorIndex,
    /// Row cache: arena offset, rows held, and the column range `(x, w)` it spans.
    pub rows_at: usize,
    pub rows: usize,
    pub cols_span: (usize, usize),
    /// Column cache: arena offset, rows held (the tallest window) and columns held.
    pub cols_at: usize,
    pub col_rows: usize,
    pub cols: usize,
}
crate::literal_struct!(Cache { tensor, rows_at, rows, cols_span, cols_at, col_rows, cols });

impl Cache {
    /// Bytes of the row cache of a tensor with `n` batches, `c` channels, `elem`-byte elements.
    pub const fn row_bytes(&self, n: usize, c: usize, elem: usize) -> usize {
        n * self.rows * self.cols_span.1 * c * elem
    }
    /// Bytes of the column cache.
    pub const fn col_bytes(&self, n: usize, c: usize, elem: usize) -> usize {
        n * self.col_rows * self.cols * c * elem
    }
    /// The row cache as a window whose first row is tensor row `base`.
    pub const fn row_window(&self, n: usize, base: usize, c: usize) -> Window {
        Window::new(n, Rect::new(base, self.cols_span.0, self.rows, self.cols_span.1), c)
    }
    /// The column cache as a window whose first row is `y` and first column `base`.
    pub const fn col_window(&self, n: usize, y: usize, base: usize, c: usize) -> Window {
        Window::new(n, Rect::new(y, base, self.col_rows, self.cols), c)
    }
}

fn inside(r: Rect, w: &Window) -> bool {
    r.y >= w.rect.y && r.y_end() <= w.rect.y_end() && r.x >= w.rect.x && r.x_end() <= w.rect.x_end()
}

/// Copies rectangle `r` of every batch from `src` (holding window `sw`) to
/// `dst` (holding `dw`), `elem`-byte elements. A rectangle outside either
/// window, or a buffer shorter than its window, is an inconsistent program.
pub fn copy_rect(src: &[u8], sw: Window, dst: &mut [u8], dw: Window, r: Rect, elem: usize) -> Result<()> {
    if r.is_empty() || sw.n == 0 {
        return Ok(());
    }
    let bad = || Error::Program("a cached halo strip lies outside its window or buffer");
    if !inside(r, &sw) || !inside(r, &dw) || sw.c != dw.c || sw.n != dw.n {
        return Err(bad());
    }
    if src.len() < sw.len() * elem || dst.len() < dw.len() * elem {
        return Err(bad());
    }
    let row = r.w * sw.c * elem;
    for b in 0..sw.n {
        for y in r.y..r.y_end() {
            let (from, to) = (sw.offset(b, y, r.x) * elem, dw.offset(b, y, r.x) * elem);
            dst[to..to + row].copy_from_slice(&src[from..from + row]);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 3×3 grid over a 12×12 tensor whose windows overlap by 2 (a 3×3 conv's halo after one more).
    fn windows() -> [[Rect; 3]; 3] {
        let spans = [(0, 6), (2, 6), (6, 6)];
        core::array::from_fn(|r| core::array::from_fn(|c| rect(spans[r], spans[c])))
    }

    #[test]
    fn every_pixel_is_computed_once_and_every_window_is_filled() {
        let w = windows();
        let mut computed = [[0u8; 12]; 12];
        for r in 0..3 {
            for c in 0..3 {
                let at = |r: Option<usize>, c: Option<usize>| Some(w[r?][c?]);
                let s = split(
                    w[r][c],
                    at(r.checked_sub(1), Some(c)),
                    at(Some(r), c.checked_sub(1)),
                    at((r + 1 < 3).then_some(r + 1), Some(c)),
                    at(Some(r), (c + 1 < 3).then_some(c + 1)),
                );
                let mut filled = [[false; 12]; 12];
                for part in [s.computed, s.top_in, s.left_in] {
                    for y in part.y..part.y_end() {
                        for x in part.x..part.x_end() {
                            assert!(!filled[y][x], "patch ({r}, {c}) fills ({y}, {x}) twice");
                            filled[y][x] = true;
                        }
                    }
                }
                for y in s.computed.y..s.computed.y_end() {
                    for x in s.computed.x..s.computed.x_end() {
                        computed[y][x] += 1;
                    }
                }
                let h = w[r][c];
                assert_eq!(filled.iter().flatten().filter(|&&f| f).count(), h.area());
                // What it saves is what its neighbours take.
                if r + 1 < 3 {
                    let below = split(w[r + 1][c], Some(h), (c > 0).then(|| w[r + 1][c - 1]), None, None);
                    assert_eq!(s.bottom_out, below.top_in);
                }
                if c + 1 < 3 {
                    let right = split(w[r][c + 1], (r > 0).then(|| w[r - 1][c + 1]), Some(h), None, None);
                    assert_eq!(s.right_out, right.left_in);
                }
            }
        }
        assert!(computed.iter().flatten().all(|&n| n == 1), "{computed:?}");
    }

    #[test]
    fn strips_outside_their_windows_are_refused() {
        let w = Window::new(1, Rect::new(0, 0, 2, 2), 1);
        let mut dst = [0u8; 4];
        assert!(copy_rect(&[1, 2, 3, 4], w, &mut dst, w, Rect::new(1, 1, 1, 1), 1).is_ok());
        assert_eq!(dst, [0, 0, 0, 4]);
        assert!(copy_rect(&[1, 2, 3, 4], w, &mut dst, w, Rect::new(1, 1, 2, 1), 1).is_err());
        assert!(copy_rect(&[1, 2, 3], w, &mut dst, w, Rect::new(0, 0, 1, 1), 1).is_err());
    }
}
