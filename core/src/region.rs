//! Rectangles of NHWC activations.
//!
//! Patch-based inference computes one spatial window of a tensor at a time;
//! a `Window` says which window a buffer holds, so kernels can translate
//! full-tensor coordinates (needed for padding) into buffer offsets.

/// A spatial rectangle in full-tensor coordinates: rows `y..y+h`, columns `x..x+w`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Rect {
    pub y: usize,
    pub x: usize,
    pub h: usize,
    pub w: usize,
}

impl Rect {
    pub const fn new(y: usize, x: usize, h: usize, w: usize) -> Self {
        Self { y, x, h, w }
    }
    pub const fn full(h: usize, w: usize) -> Self {
        Self { y: 0, x: 0, h, w }
    }
    pub const fn area(&self) -> usize {
        self.h * self.w
    }
    pub const fn is_empty(&self) -> bool {
        self.h == 0 || self.w == 0
    }
    pub const fn y_end(&self) -> usize {
        self.y + self.h
    }
    pub const fn x_end(&self) -> usize {
        self.x + self.w
    }
    /// Smallest rectangle covering both.
    pub fn union(&self, other: &Rect) -> Rect {
        if self.is_empty() {
            return *other;
        }
        if other.is_empty() {
            return *self;
        }
        let y = self.y.min(other.y);
        let x = self.x.min(other.x);
        Rect::new(y, x, self.y_end().max(other.y_end()) - y, self.x_end().max(other.x_end()) - x)
    }
}

/// What part of an NHWC tensor a buffer holds: all `n` batches and all `c`
/// channels of the spatial rectangle `rect`, laid out `n × h × w × c`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub n: usize,
    pub rect: Rect,
    pub c: usize,
}

impl Window {
    pub const fn full(n: usize, h: usize, w: usize, c: usize) -> Self {
        Self { n, rect: Rect::full(h, w), c }
    }
    pub const fn new(n: usize, rect: Rect, c: usize) -> Self {
        Self { n, rect, c }
    }
    /// Number of elements the buffer holds.
    pub const fn len(&self) -> usize {
        self.n * self.rect.h * self.rect.w * self.c
    }
    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Offset of element `(b, y, x, 0)` where `y`, `x` are full-tensor coordinates.
    #[inline(always)]
    pub fn offset(&self, b: usize, y: usize, x: usize) -> usize {
        debug_assert!(y >= self.rect.y && y < self.rect.y_end(), "row outside window");
        debug_assert!(x >= self.rect.x && x < self.rect.x_end(), "column outside window");
        ((b * self.rect.h + (y - self.rect.y)) * self.rect.w + (x - self.rect.x)) * self.c
    }
}
