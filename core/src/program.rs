//! The lowered program and its one interpreter.
//!
//! A graph and a schedule are lowered (module `lower`, host side) to the
//! plain tables below: tensors with their arena offsets, nodes with their
//! prepared [`Kernel`]s and operand lists, constant pools, and the patch loop.
//! [`Program::run`] executes them in a caller-given arena without
//! allocating. The host and browser executors run owned tables
//! (`lower::Lowered::program`); exported firmware runs the same tables as
//! `static`s, through this same code, so host, browser and board evaluate a
//! model identically by construction.

use core::ops::Range;

use crate::arena::{as_i8, as_i8_mut, split_two, Io, Io2};
pub use crate::arena::{high_water_mark, paint};
use crate::error::{Error, Result};
use crate::fixedpoint::QuantizedMultiplier;
use crate::halo::{self, Cache};
use crate::kernels;
use crate::kernels::binary::RescaledParams;
use crate::kernels::fast::binary::{Tables, TABLES_FROM};
use crate::literal_struct;
use crate::ops::{full, In, Kernel, Out};
use crate::region::{Rect, Window};

/// Where a run is (see [`Program::run_observed`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Step {
    /// The node about to run.
    pub node: usize,
    /// The patch it runs in (`None`: layer by layer, whole tensors).
    pub patch: Option<usize>,
}

/// Index of a tensor in [`Program::tensors`].
pub type TensorIndex = u16;

/// A run of elements in one of the constant pools of [`Consts`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Span {
    pub start: u32,
    pub len: u32,
}
literal_struct!(Span { start, len });

impl Span {
    pub const fn range(&self) -> Range<usize> {
        self.start as usize..self.start as usize + self.len as usize
    }
}

/// The constant pools a program's spans point into (weights live in flash).
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct Consts<'a> {
    /// int8 weights, constant int8 operands and lookup tables.
    pub bytes: &'a [u8],
    /// Biases.
    pub i32s: &'a [i32],
    /// Per-channel requantization multipliers.
    pub multipliers: &'a [QuantizedMultiplier],
    /// Double-precision rescale factors (FULLY_CONNECTED).
    pub f64s: &'a [f64],
}

fn pool<T>(p: &[T], s: Span) -> Result<&[T]> {
    p.get(s.range()).ok_or(Error::Program("a constant span is outside its pool"))
}

impl<'a> Consts<'a> {
    pub fn bytes(&self, s: Span) -> Result<&'a [u8]> {
        pool(self.bytes, s)
    }
    pub fn i8(&self, s: Span) -> Result<&'a [i8]> {
        Ok(as_i8(pool(self.bytes, s)?))
    }
    pub fn i32(&self, s: Span) -> Result<&'a [i32]> {
        pool(self.i32s, s)
    }
    /// An optional bias.
    pub fn bias(&self, s: Option<Span>) -> Result<Option<&'a [i32]>> {
        s.map(|s| self.i32(s)).transpose()
    }
    pub fn multipliers(&self, s: Span) -> Result<&'a [QuantizedMultiplier]> {
        pool(self.multipliers, s)
    }
    pub fn f64(&self, s: Span) -> Result<&'a [f64]> {
        pool(self.f64s, s)
    }
}

/// An activation tensor and its arena buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tensor {
    /// NHWC shape (lower ranks right-aligned, as `graph::Tensor::nhwc`).
    pub shape: [usize; 4],
    /// Bytes per element.
    pub elem: usize,
    /// Bytes of the whole tensor.
    pub bytes: usize,
    /// Start of its buffer in the arena.
    pub offset: usize,
    /// Bytes of its buffer (for patch-stage tensors: the largest patch window).
    pub buffer: usize,
    /// Its column in [`PatchPlan::rects`] (`None` outside the patch stage).
    pub stage: Option<u16>,
}
literal_struct!(Tensor { shape, elem, bytes, offset, buffer, stage });

impl Tensor {
    /// The window covering the whole tensor.
    pub const fn full(&self) -> Window {
        full(self.shape)
    }
    /// The tensor's bytes in the arena.
    pub fn range(&self) -> Range<usize> {
        self.offset..self.offset + if self.bytes < self.buffer { self.bytes } else { self.buffer }
    }
    /// Its whole buffer.
    pub const fn buffer_range(&self) -> Range<usize> {
        self.offset..self.offset + self.buffer
    }
}

/// A data operand: an arena tensor or constant int8 data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operand {
    Tensor(TensorIndex),
    Const { data: Span, shape: [usize; 4] },
}

impl crate::literal::Literal for Operand {
    fn literal(&self, o: &mut dyn core::fmt::Write) -> core::fmt::Result {
        match self {
            Operand::Tensor(t) => write!(o, "Operand::Tensor({t})"),
            Operand::Const { data, shape } => {
                o.write_str("Operand::Const { data: ")?;
                data.literal(o)?;
                o.write_str(", shape: ")?;
                shape.literal(o)?;
                o.write_str(" }")
            }
        }
    }
}

/// One row of an operator run in place row by row.
type RowEval<'e> = dyn FnMut(&[In], Out, Rect) -> Result<()> + 'e;

/// Runs `rows` with ADD/SUB's rescale tables for `p` built once for all
/// rows, in a frame of its own (2 KiB of stack that the other row operators
/// do not carry).
#[inline(never)]
fn with_tables(p: &RescaledParams, rows: impl FnOnce(&mut RowEval) -> Result<()>) -> Result<()> {
    let tables = Tables::new(p);
    rows(&mut |ops, o, r| p.eval_with(Some(&tables), ops, o, r))
}

/// How an operator runs over its own input (planned by `layout`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InPlaceKind {
    /// Depthwise, channel by channel through one input-plane scratch.
    Channels,
    /// Output rows held back `delay` rows in a row scratch (1×1 convolutions, ADD).
    Rows { delay: usize },
}

impl crate::literal::Literal for InPlaceKind {
    fn literal(&self, o: &mut dyn core::fmt::Write) -> core::fmt::Result {
        match self {
            InPlaceKind::Channels => o.write_str("InPlaceKind::Channels"),
            InPlaceKind::Rows { delay } => write!(o, "InPlaceKind::Rows {{ delay: {delay} }}"),
        }
    }
}

/// An in-place run: the output overwrites data operand `operand`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InPlace {
    pub kind: InPlaceKind,
    pub operand: usize,
    /// Arena offset and bytes of the scratch buffer.
    pub scratch: (usize, usize),
}
literal_struct!(InPlace { kind, operand, scratch });

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Node {
    pub kernel: Kernel,
    /// Data operands, in the operator's order: a span of [`Program::operands`].
    pub inputs: Span,
    pub output: TensorIndex,
    pub inplace: Option<InPlace>,
}
literal_struct!(Node { kernel, inputs, output, inplace });

/// A patch stage (ops `first..=split`) run over `patches` cells; its
/// tables are spans into [`Stages`]'s.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PatchPlan {
    pub first: usize,
    pub split: usize,
    pub patches: usize,
    pub input: TensorIndex,
    pub output: TensorIndex,
    /// The input is read patch by patch from the buffer passed to `run`.
    pub streamed: bool,
    /// Stage tensors (columns of `rects`).
    pub columns: usize,
    /// `rects[p * columns + column]`: the rectangle patch `p` computes (reads,
    /// for a streamed input), a span of [`Stages::rects`].
    pub rects: Span,
    /// Tensors held whole during the stage besides its output (read after
    /// the stage, and its inputs unless streamed): a span of [`Stages::kept`].
    pub kept: Span,
    /// Columns of the patch grid (patches run in raster order).
    pub grid_cols: usize,
    /// Stage tensors whose halos are cached rather than recomputed (module
    /// `halo`): a span of [`Stages::caches`].
    pub caches: Span,
}
literal_struct!(PatchPlan { first, split, patches, input, output, streamed, columns, rects, kept, grid_cols, caches });

/// A program's patch stages, in operator order (none: layer by layer), and
/// the tables their spans point into.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct Stages<'a> {
    pub plans: &'a [PatchPlan],
    pub rects: &'a [Option<Rect>],
    pub kept: &'a [TensorIndex],
    pub caches: &'a [Cache],
}

impl<'a> Stages<'a> {
    /// Layer by layer: no stage.
    pub const NONE: Stages<'static> = Stages { plans: &[], rects: &[], kept: &[], caches: &[] };

    /// Stage `k` with its tables resolved.
    fn get(&self, k: usize) -> Result<Stage<'a>> {
        let plan = *self.plans.get(k).ok_or(Error::Program("no such patch stage"))?;
        let bad = || Error::Program("a patch stage's span is out of range");
        let rects = self.rects.get(plan.rects.range()).ok_or_else(bad)?;
        if plan.patches.checked_mul(plan.columns) != Some(rects.len()) || plan.grid_cols == 0 {
            return Err(Error::Program("a patch stage's rectangles do not match its grid"));
        }
        Ok(Stage {
            plan,
            rects,
            kept: self.kept.get(plan.kept.range()).ok_or_else(bad)?,
            caches: self.caches.get(plan.caches.range()).ok_or_else(bad)?,
        })
    }
}

/// One stage's plan with its tables.
struct Stage<'a> {
    plan: PatchPlan,
    rects: &'a [Option<Rect>],
    kept: &'a [TensorIndex],
    caches: &'a [Cache],
}

impl Stage<'_> {
    fn rect(&self, p: usize, t: &Tensor) -> Option<Rect> {
        t.stage.and_then(|c| self.rects.get(p * self.plan.columns + c as usize).copied().flatten())
    }

    /// Whether tensor `t` lives whole across the stage (the output, kept
    /// tensors, and inputs not streamed).
    fn holds_whole(&self, t: TensorIndex) -> bool {
        t == self.plan.output || self.kept.contains(&t)
    }

    /// How patch `p` splits cached tensor `t`'s window `here` (module `halo`).
    fn halo(&self, p: usize, t: &Tensor, here: Rect) -> halo::Split {
        halo::split_in_grid(here, p, self.plan.patches, self.plan.grid_cols, |q| self.rect(q, t))
    }
}

/// A lowered model: every table the interpreter reads.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Program<'a> {
    pub tensors: &'a [Tensor],
    pub nodes: &'a [Node],
    pub operands: &'a [Operand],
    pub consts: Consts<'a>,
    pub inputs: &'a [TensorIndex],
    pub outputs: &'a [TensorIndex],
    pub arena_size: usize,
    pub stages: Stages<'a>,
}

/// Where an operand lives: its arena byte range and the window it holds.
type Place = (Range<usize>, Window);

/// The most data operands one node may have.
pub const MAX_OPERANDS: usize = 8;

fn cannot_run_in_place() -> Error {
    Error::Schedule("in-place layout on an operator that cannot run in place")
}

impl<'a> Program<'a> {
    fn tensor(&self, t: TensorIndex) -> Result<&Tensor> {
        self.tensors.get(t as usize).ok_or(Error::at_tensor("tensor index out of range", t as usize))
    }

    fn operands_of(&self, node: &Node) -> Result<&'a [Operand]> {
        self.operands.get(node.inputs.range()).ok_or(Error::Program("a node's operand span is out of range"))
    }

    /// Whether graph input `i` is streamed (passed to `run`) rather than stored in the arena.
    pub fn is_streamed(&self, i: usize) -> bool {
        matches!(self.stages.plans.first(), Some(p) if p.streamed && self.inputs.get(i) == Some(&p.input))
    }

    /// The arena bytes of graph input `i`, to fill before `run`.
    pub fn input_mut<'b>(&self, arena: &'b mut [u8], i: usize) -> Result<&'b mut [u8]> {
        if self.is_streamed(i) {
            return Err(Error::Schedule("a streamed input is passed to run, not stored in the arena"));
        }
        let t = self.tensor(*self.inputs.get(i).ok_or(Error::model("no such input"))?)?;
        let got = arena.len();
        arena.get_mut(t.range()).ok_or(Error::ArenaTooSmall { needed: self.arena_size, got })
    }

    /// The arena bytes of graph output `i` after `run`.
    pub fn output<'b>(&self, arena: &'b [u8], i: usize) -> Result<&'b [u8]> {
        let t = self.tensor(*self.outputs.get(i).ok_or(Error::model("no such output"))?)?;
        let got = arena.len();
        arena.get(t.range()).ok_or(Error::ArenaTooSmall { needed: self.arena_size, got })
    }

    /// Runs the program. `streamed` is the whole input when the patch stage
    /// streams it (read patch by patch, never copied whole into the arena).
    /// Does not allocate.
    pub fn run(&self, arena: &mut [u8], streamed: Option<&[u8]>) -> Result<()> {
        self.run_observed(arena, streamed, |_, _| {})
    }

    /// [`run`](Self::run), telling `at` which node runs next (in the patch
    /// stage, in which patch) before it runs, with the arena as it is then:
    /// a page shows where a run is, a timeline measures what each step wrote.
    /// With a no-op `at` this is `run`.
    pub fn run_observed(
        &self,
        arena: &mut [u8],
        streamed: Option<&[u8]>,
        mut at: impl FnMut(Step, &[u8]),
    ) -> Result<()> {
        if arena.len() < self.arena_size {
            return Err(Error::ArenaTooSmall { needed: self.arena_size, got: arena.len() });
        }
        let mut next = 0;
        for k in 0..self.stages.plans.len() {
            let stage = self.stages.get(k)?;
            let plan = stage.plan;
            if plan.split >= self.nodes.len() || plan.first < next || plan.first > plan.split {
                return Err(Error::Schedule("patch stages overlap, are out of order or past the last operator"));
            }
            if plan.streamed && plan.first != 0 {
                return Err(Error::Program("only a stage starting at the first operator can stream the input"));
            }
            self.run_layers(arena, next..plan.first, &mut at)?;
            self.run_stage(&stage, arena, streamed, &mut at)?;
            next = plan.split + 1;
        }
        self.run_layers(arena, next..self.nodes.len(), &mut at)
    }

    /// Runs one patch stage, patch by patch.
    fn run_stage(
        &self,
        stage: &Stage,
        arena: &mut [u8],
        streamed: Option<&[u8]>,
        at: &mut impl FnMut(Step, &[u8]),
    ) -> Result<()> {
        let plan = stage.plan;
        for p in 0..plan.patches {
            if plan.streamed {
                let src = streamed.ok_or(Error::Schedule("streamed mode needs the input passed to run"))?;
                self.copy_input_patch(stage, p, src, arena)?;
            }
            for (i, node) in self.nodes.iter().enumerate().take(plan.split + 1).skip(plan.first) {
                let out = self.tensor(node.output)?;
                let Some(region) = stage.rect(p, out) else { continue };
                let out_place = self.place(stage, p, node.output)?;
                at(Step { node: i, patch: Some(p) }, arena);
                let Some(cache) = stage.caches.iter().find(|c| c.tensor == node.output) else {
                    // Empty when every consumer caches and takes nothing new from this patch.
                    if !region.is_empty() {
                        self.run_node(i, arena, out_place, region, &|t| self.place(stage, p, t))?;
                    }
                    continue;
                };
                // A tensor held whole keeps what earlier patches computed in place.
                let window = !stage.holds_whole(node.output);
                let split = stage.halo(p, out, region);
                if window {
                    self.cache_copies(cache, out, &split, &out_place, arena, true)?;
                }
                if !split.computed.is_empty() {
                    self.run_node(i, arena, out_place.clone(), split.computed, &|t| self.place(stage, p, t))?;
                }
                if window {
                    self.cache_copies(cache, out, &split, &out_place, arena, false)?;
                }
            }
        }
        Ok(())
    }

    /// Where tensor `t` lives during patch `p`: the stage's output, its kept
    /// tensors (and its inputs, unless streamed) whole, every other stage
    /// tensor as its window.
    fn place(&self, stage: &Stage, p: usize, t: TensorIndex) -> Result<Place> {
        let tensor = self.tensor(t)?;
        let start = tensor.offset;
        if stage.holds_whole(t) {
            return Ok((start..start + tensor.bytes, tensor.full()));
        }
        let r = stage.rect(p, tensor).ok_or(Error::Schedule("a patch reads a tensor it does not compute"))?;
        let w = Window::new(tensor.shape[0], r, tensor.shape[3]);
        let len = w.len() * tensor.elem;
        if len > tensor.buffer {
            return Err(Error::Program("a patch window is larger than its tensor's buffer"));
        }
        Ok((start..start + len, w))
    }

    /// Moves a cached tensor's shared strips between its window (`window`)
    /// and its caches: into the window before its producer runs (`fill`),
    /// out to the caches after. A tensor held whole has no caches.
    fn cache_copies(
        &self,
        cache: &Cache,
        t: &Tensor,
        split: &halo::Split,
        window: &Place,
        arena: &mut [u8],
        fill: bool,
    ) -> Result<()> {
        let (n, c, elem) = (t.shape[0], t.shape[3], t.elem);
        let here = window.1.rect;
        let strips = [
            // Row cache rows are relative to the first row of the window that reads them.
            (cache.rows_at, cache.row_bytes(n, c, elem), if fill { split.top_in } else { split.bottom_out }, true),
            (cache.cols_at, cache.col_bytes(n, c, elem), if fill { split.left_in } else { split.right_out }, false),
        ];
        for (at, bytes, strip, rows) in strips {
            if strip.is_empty() {
                continue;
            }
            let cw = match (rows, fill) {
                (true, true) => cache.row_window(n, here.y, c),
                (true, false) => cache.row_window(n, strip.y, c),
                (false, true) => cache.col_window(n, here.y, here.x, c),
                (false, false) => cache.col_window(n, here.y, strip.x, c),
            };
            let (win, cache_bytes) = split_two(arena, window.0.clone(), at..at + bytes)?;
            if fill {
                halo::copy_rect(cache_bytes, cw, win, window.1, strip, elem)?;
            } else {
                halo::copy_rect(win, window.1, cache_bytes, cw, strip, elem)?;
            }
        }
        Ok(())
    }

    /// Copies the input rows patch `p` reads from the whole streamed input.
    fn copy_input_patch(&self, stage: &Stage, p: usize, src: &[u8], arena: &mut [u8]) -> Result<()> {
        let t = self.tensor(stage.plan.input)?;
        let full = t.full();
        let size = t.elem;
        if src.len() != full.len() * size {
            return Err(Error::BufferSize { what: "streamed input", expected: full.len() * size, got: src.len() });
        }
        let (range, w) = self.place(stage, p, stage.plan.input)?;
        let got = arena.len();
        let dst = arena.get_mut(range).ok_or(Error::ArenaTooSmall { needed: self.arena_size, got })?;
        if w.is_empty() {
            return Ok(()); // a patch that reads only padding
        }
        let row = w.rect.w * w.c * size;
        for b in 0..w.n {
            for y in w.rect.y..w.rect.y_end() {
                let from = full.offset(b, y, w.rect.x) * size;
                let to = w.offset(b, y, w.rect.x) * size;
                dst[to..to + row].copy_from_slice(&src[from..from + row]);
            }
        }
        Ok(())
    }

    /// Runs nodes `ops` whose tensors all live whole in the arena (layer by layer).
    fn run_layers(&self, arena: &mut [u8], ops: Range<usize>, at: &mut impl FnMut(Step, &[u8])) -> Result<()> {
        for i in ops {
            let node = &self.nodes[i];
            at(Step { node: i, patch: None }, arena);
            if let Some(ip) = node.inplace {
                self.run_inplace(node, ip, arena)?;
                continue;
            }
            let out = self.tensor(node.output)?;
            let out_range = out.range();
            if let (Kernel::Reshape(_), Some(Operand::Tensor(t))) = (node.kernel, self.operands_of(node)?.first()) {
                if self.tensor(*t)?.range() == out_range {
                    continue; // RESHAPE aliased in place
                }
            }
            let ow = out.full();
            self.run_node(i, arena, (out_range, ow), ow.rect, &|t| self.whole_place(t))?;
        }
        Ok(())
    }

    /// Where tensor `t` lives outside the patch stage: its bytes, whole.
    fn whole_place(&self, t: TensorIndex) -> Result<Place> {
        let t = self.tensor(t)?;
        Ok((t.range(), t.full()))
    }

    /// A constant or arena operand as a kernel sees it, and for an arena
    /// tensor the byte range (found with `place`) its data is to be read from.
    fn operand_view<'d>(
        &self,
        op: Operand,
        place: impl FnOnce(TensorIndex) -> Result<Place>,
    ) -> Result<(In<'d>, Option<Range<usize>>)>
    where
        'a: 'd,
    {
        Ok(match op {
            Operand::Const { data: span, shape } => {
                // Constants are stored densely: their element size follows from the span.
                let n: usize = shape.iter().product();
                let elem = if n == 0 { 1 } else { span.len as usize / n };
                (In { data: self.consts.bytes(span)?, win: full(shape), shape, elem }, None)
            }
            Operand::Tensor(t) => {
                let (r, win) = place(t)?;
                let tt = self.tensor(t)?;
                (In { data: &[], win, shape: tt.shape, elem: tt.elem }, Some(r))
            }
        })
    }

    /// Runs node `i`, computing `region` of its output into `out`; arena
    /// operands are found with `place`.
    fn run_node(
        &self,
        i: usize,
        arena: &mut [u8],
        out: Place,
        region: Rect,
        place: &dyn Fn(TensorIndex) -> Result<Place>,
    ) -> Result<()> {
        let node = &self.nodes[i];
        let out_t = self.tensor(node.output)?;
        let operands = self.operands_of(node)?;
        if operands.is_empty() || operands.len() > MAX_OPERANDS {
            return Err(Error::at_op("an operator needs 1 to 8 data operands", i));
        }
        let io = Io::split(arena, out.0)?;
        // Operands go in a fixed array so the run loop never allocates.
        let empty = In { data: &[], win: out.1, shape: [1; 4], elem: 1 };
        let mut buf = [empty; MAX_OPERANDS];
        for (k, &op) in operands.iter().enumerate() {
            let (mut view, range) = self.operand_view(op, place)?;
            if let Some(r) = range {
                view.data = io.get(r)?;
            }
            buf[k] = view;
        }
        let o = Out { data: io.out, win: out.1, shape: out_t.shape, elem: out_t.elem };
        node.kernel.eval(&self.consts, &buf[..operands.len()], o, region)
    }

    /// Runs an in-place operator (its input and output share an offset).
    fn run_inplace(&self, node: &Node, ip: InPlace, arena: &mut [u8]) -> Result<()> {
        let operands = self.operands_of(node)?;
        let Some(Operand::Tensor(input)) = operands.get(ip.operand) else { return Err(cannot_run_in_place()) };
        let (it, ot) = (self.tensor(*input)?, self.tensor(node.output)?);
        let (ir, or) = (it.buffer_range(), ot.buffer_range());
        let buffer = ir.start.min(or.start)..ir.end.max(or.end);
        let scratch = ip.scratch.0..ip.scratch.0 + ip.scratch.1;
        match (ip.kind, node.kernel) {
            (InPlaceKind::Rows { delay }, kernel) => {
                let rows = |eval: &mut RowEval| {
                    self.run_inplace_rows(operands, ot, arena, buffer, ip.operand, scratch, delay, eval)
                };
                match kernel {
                    // ADD/SUB build their rescale tables once, not in every row's call.
                    Kernel::Rescaled(k) if k.pairs.len == 0 && ot.full().len() >= TABLES_FROM => {
                        with_tables(&k.params, rows)
                    }
                    _ => rows(&mut |ops, o, r| kernel.eval(&self.consts, ops, o, r)),
                }
            }
            (InPlaceKind::Channels, Kernel::Depthwise(k)) => {
                let weighted = k.weights.resolve(&self.consts)?;
                let os = ot.shape;
                let (buf, scr) = split_two(arena, buffer, scratch)?;
                if scr.len() < k.geom.in_h * k.geom.in_w || buf.len() < it.bytes.max(ot.bytes) {
                    return Err(Error::Program("in-place depthwise buffers are too small"));
                }
                let (buf, scr) = (as_i8_mut(buf), as_i8_mut(scr));
                let folded = self.consts.i32(k.folded)?;
                kernels::fast::depthwise::depthwise_conv2d_inplace(
                    &k.geom,
                    &weighted,
                    folded,
                    buf,
                    os[3],
                    (os[1], os[2]),
                    scr,
                );
                Ok(())
            }
            _ => Err(cannot_run_in_place()),
        }
    }

    /// Output rows computed into a ring of `delay + 1` scratch rows and
    /// written over the input once no later row reads the bytes they land on.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn run_inplace_rows(
        &self,
        operands: &[Operand],
        out_t: &Tensor,
        arena: &mut [u8],
        buffer: Range<usize>,
        aliased: usize,
        scratch: Range<usize>,
        delay: usize,
        eval: &mut RowEval,
    ) -> Result<()> {
        let ow = out_t.full();
        let row = ow.rect.w * ow.c * out_t.elem;
        let Io2 { pieces, a: buf, b: scr } = Io2::split(arena, buffer, scratch)?;
        let n = operands.len().min(2);
        let mut others = [In { data: &[], win: ow, shape: [1; 4], elem: 1 }; 2];
        for (k, &op) in operands.iter().take(n).enumerate() {
            let (mut view, range) = self.operand_view(op, |t| self.whole_place(t))?;
            if let (Some(r), false) = (range, k == aliased) {
                view.data = crate::arena::piece(&pieces, r)?;
            }
            others[k] = view;
        }
        let aliased_bytes = match operands.get(aliased) {
            Some(Operand::Tensor(t)) => self.tensor(*t)?.bytes,
            _ => return Err(cannot_run_in_place()),
        };
        let slots = delay + 1;
        if scr.len() < slots * row || buf.len() < aliased_bytes.max(ow.rect.h * row) {
            return Err(Error::Program("in-place row buffers are too small"));
        }

        for r in 0..ow.rect.h {
            let win = Window::new(1, Rect::new(r, 0, 1, ow.rect.w), ow.c);
            let s = (r % slots) * row;
            let mut ops = others;
            ops[aliased].data = &buf[..aliased_bytes];
            let o = Out { data: &mut scr[s..s + row], win, shape: out_t.shape, elem: out_t.elem };
            eval(&ops[..n], o, win.rect)?;
            if r >= delay {
                let f = r - delay;
                let fs = (f % slots) * row;
                buf[f * row..(f + 1) * row].copy_from_slice(&scr[fs..fs + row]);
            }
        }
        for f in ow.rect.h.saturating_sub(delay)..ow.rect.h {
            let fs = (f % slots) * row;
            buf[f * row..(f + 1) * row].copy_from_slice(&scr[fs..fs + row]);
        }
        Ok(())
    }
}
