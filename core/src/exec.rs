//! The host executors: prepare + lower + the one interpreter
//! ([`crate::program::Program::run`]). [`Executor`] runs a graph layer by
//! layer; `patch::PatchExecutor` under a patch schedule. Both lower the graph
//! once (multipliers, shifts, tables) and then run inside a caller-given
//! arena without allocating — the same code the firmware runs over statics.

use alloc::vec::Vec;

pub use crate::arena::{high_water_mark, paint};
use crate::error::{Error, Result};
use crate::graph::Graph;
use crate::layout::{ArenaLayout, LayoutOptions};
use crate::lower::{lower_packed, Lowered, Packing};
use crate::planner::{GreedyBySize, Planner};
use crate::program::Program;
pub use crate::program::Step;

/// A graph prepared for layer-by-layer execution in one arena.
pub struct Executor<'g> {
    pub graph: &'g Graph,
    pub layout: ArenaLayout,
    pub lowered: Lowered,
}

impl<'g> Executor<'g> {
    pub fn new(graph: &'g Graph) -> Result<Self> {
        Self::with_options(graph, &GreedyBySize, LayoutOptions::default())
    }

    pub fn with_options(graph: &'g Graph, planner: &dyn Planner, options: LayoutOptions) -> Result<Self> {
        let layout = ArenaLayout::layer_by_layer(graph, planner, options);
        let lowered = lower_packed(graph, &layout, &[], crate::patch::InputMode::InArena, Packing::HOST)?;
        Ok(Self { graph, layout, lowered })
    }

    /// The lowered program.
    pub fn program(&self) -> Program<'_> {
        self.lowered.program()
    }

    /// Bytes of arena `run` needs.
    pub fn arena_size(&self) -> usize {
        self.layout.arena_size()
    }

    /// The arena bytes of graph input `i`, to be filled before `run`.
    pub fn input_mut<'a>(&self, arena: &'a mut [u8], i: usize) -> Result<&'a mut [u8]> {
        self.program().input_mut(arena, i)
    }

    /// The arena bytes of graph output `i` after `run`.
    pub fn output<'a>(&self, arena: &'a [u8], i: usize) -> Result<&'a [u8]> {
        self.program().output(arena, i)
    }

    /// Runs every node in order. Does not allocate.
    pub fn run(&self, arena: &mut [u8]) -> Result<()> {
        self.program().run(arena, None)
    }
}

/// The two bytes [`run_measured`] paints the arena with, run by run: a byte
/// a run wrote cannot hold both after it.
pub const PAINTS: [u8; 2] = [0xAA, 0x55];

/// A measured run: the outputs and the arena's exact high-water mark.
#[derive(Clone, Debug, PartialEq)]
pub struct Measured {
    pub outputs: Vec<Vec<u8>>,
    /// Bytes of arena actually written (two paints, the larger mark).
    pub arena_hwm: usize,
    /// `clock()` after the last run minus before it.
    pub elapsed: f64,
}

/// Runs `p` twice in a fresh arena, painted 0xAA then 0x55, on `input` (the
/// bytes of every graph input, concatenated). A byte cannot hold both paints
/// after a run, so the larger high-water mark is exactly the bytes written.
/// Both runs must give the same outputs. `clock` times the last run.
pub fn run_measured(p: &Program, input: &[u8], clock: &dyn Fn() -> f64) -> Result<Measured> {
    run_measured_observed(p, input, clock, &mut |_, _, _| {})
}

/// [`run_measured`], telling `observe` which of the two runs (0, 1) is at
/// which step, with the arena before that step's node runs.
pub fn run_measured_observed(
    p: &Program,
    input: &[u8],
    clock: &dyn Fn() -> f64,
    observe: &mut dyn FnMut(usize, Step, &[u8]),
) -> Result<Measured> {
    let sizes: Vec<usize> = p
        .inputs
        .iter()
        .map(|&t| p.tensors.get(t as usize).map(|t| t.bytes).ok_or(Error::at_tensor("no such input", t as usize)))
        .collect::<Result<_>>()?;
    let total: usize = sizes.iter().sum();
    if input.len() != total {
        return Err(Error::BufferSize { what: "model input", expected: total, got: input.len() });
    }
    let mut arena = alloc::vec![0u8; p.arena_size];
    let mut m = Measured { outputs: Vec::new(), arena_hwm: 0, elapsed: 0.0 };
    for (pass, byte) in PAINTS.into_iter().enumerate() {
        paint(&mut arena, byte);
        let (mut at, mut streamed) = (0, None);
        for (i, &n) in sizes.iter().enumerate() {
            let src = &input[at..at + n];
            at += n;
            if p.is_streamed(i) {
                streamed = Some(src);
            } else {
                p.input_mut(&mut arena, i)?.copy_from_slice(src);
            }
        }
        let t0 = clock();
        p.run_observed(&mut arena, streamed, |s, a| observe(pass, s, a))?;
        m.elapsed = clock() - t0;
        m.arena_hwm = m.arena_hwm.max(high_water_mark(&arena, byte));
        let outputs = (0..p.outputs.len()).map(|i| p.output(&arena, i).map(<[u8]>::to_vec)).collect::<Result<_>>()?;
        if !m.outputs.is_empty() && m.outputs != outputs {
            return Err(Error::Program("two runs of the same input gave different outputs"));
        }
        m.outputs = outputs;
    }
    Ok(m)
}
