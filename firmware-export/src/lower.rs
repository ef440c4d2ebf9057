//! A graph lowered for one schedule: core's [`patchwise_core::lower`] tables
//! together with the schedule they were lowered for, which the emitter
//! prints as Rust statics and the host can run directly to check them.

use patchwise_core::exec::{run_measured, Measured};
use patchwise_core::graph::Graph;
use patchwise_core::lower::{lower, Lowered};
use patchwise_core::patch::{InputMode, PatchSchedule};
use patchwise_core::plan::{self, Schedule};

use crate::ExportError;

pub struct Export<'g> {
    pub graph: &'g Graph,
    pub schedule: Schedule,
    /// The input mode in effect (`InArena` without a patch stage).
    pub mode: InputMode,
    /// The patch stages, in operator order (none: layer by layer).
    pub stages: Vec<PatchSchedule>,
    pub lowered: Lowered,
}

impl<'g> Export<'g> {
    pub fn new(g: &'g Graph, schedule: Schedule, mode: InputMode) -> Result<Self, ExportError> {
        let (stages, layout) = plan::layout(g, schedule, mode)?;
        let mode = if stages.is_empty() { InputMode::InArena } else { mode };
        let lowered = lower(g, &layout, &stages, mode)?;
        Ok(Self { graph: g, schedule, mode, stages, lowered })
    }

    pub fn arena_size(&self) -> usize {
        self.lowered.arena_size
    }

    /// Bytes of each graph input, in order.
    pub fn input_sizes(&self) -> Vec<usize> {
        self.graph.inputs.iter().map(|&t| self.graph.tensors[t].bytes()).collect()
    }
}

/// Runs the exported tables on the host exactly as the firmware does (two
/// painted runs, the larger high-water mark).
pub fn run_static(e: &Export, input: &[u8]) -> Result<Measured, ExportError> {
    Ok(run_measured(&e.lowered.program(), input, &|| 0.0)?)
}
