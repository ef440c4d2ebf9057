//! The design-space explorer: for one board, which networks of a family
//! (input resolution × width multiplier, with or without RD) fit layer by
//! layer, which fit only patch-based, and what the largest that fits costs —
//! MCUNetV2's "larger design space" claim as a table and a frontier.
//!
//! Each spec is built and searched with the schedule search itself
//! ([`plan::search_within`]: the answers of [`plan::search`] +
//! `best_within`, without planning candidates their lower bound rules out).
//! MACs are the accuracy proxy, as in MCUNet's TinyNAS.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::boards::{self, Board};
use crate::error::{Error, Result};
use crate::patch::InputMode;
use crate::plan::{self, Candidate, Schedule};
use crate::spec::{build, ArchSpec, DEFAULT_RD_STAGE_GROUPS};

/// A family of architectures the sweep scales.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum Family {
    /// MobileNetV2 (the paper's ImageNet backbone, 1000 classes).
    Mbv2,
    /// The MCUNet-style mixed-kernel network of the `mcunet-like-r176` preset.
    Mcunet,
}

impl Family {
    pub const ALL: [Family; 2] = [Family::Mbv2, Family::Mcunet];

    pub fn name(self) -> &'static str {
        match self {
            Family::Mbv2 => "mbv2",
            Family::Mcunet => "mcunet",
        }
    }

    pub fn parse(name: &str) -> Result<Self> {
        Self::ALL.into_iter().find(|f| f.name() == name).ok_or(Error::Schedule("unknown family (mbv2, mcunet)"))
    }

    /// The family's network at `resolution` and `width` with `classes`
    /// outputs, RD applied when `rd`.
    pub fn spec(self, resolution: usize, width: f32, rd: bool, classes: usize) -> ArchSpec {
        let mut s = match self {
            Family::Mbv2 => ArchSpec::mobilenet_v2(width, resolution, classes),
            Family::Mcunet => ArchSpec::mcunet_like(),
        };
        s.classes = classes;
        s.resolution = resolution;
        s.width_multiplier = width;
        s.name = format!("{}-w{width}-r{resolution}", self.name());
        if rd {
            s = s.redistribute(DEFAULT_RD_STAGE_GROUPS);
        }
        s
    }
}

/// The specs a sweep evaluates: every resolution × width × RD choice.
#[derive(Clone, Debug, PartialEq)]
pub struct Sweep {
    pub family: Family,
    pub resolutions: Vec<usize>,
    pub widths: Vec<f32>,
    pub rd: Vec<bool>,
    /// Classifier outputs: [`DEFAULT_CLASSES`] (a person detector, the
    /// microcontroller task of MCUNetV2's VWW results and MLPerf Tiny), or 1000
    /// for ImageNet, whose classifier alone is 1.3 MB at MobileNetV2's 1280
    /// head channels.
    pub classes: usize,
}

/// Classes of the default sweep: two (visual wake words).
pub const DEFAULT_CLASSES: usize = 2;

/// Resolutions the default sweep tries: 64 to 320 in steps of 16.
pub const DEFAULT_RESOLUTIONS: (usize, usize, usize) = (64, 320, 16);
/// Width multipliers the default sweep tries (MobileNetV2's published ones).
pub const DEFAULT_WIDTHS: [f32; 7] = [0.25, 0.35, 0.5, 0.75, 1.0, 1.3, 1.4];
/// Most specs one sweep may hold.
pub const MAX_SPECS: usize = 2048;

impl Sweep {
    /// The default sweep of `family`: 17 resolutions × 7 widths × RD off/on (238 specs).
    pub fn new(family: Family) -> Self {
        let (lo, hi, step) = DEFAULT_RESOLUTIONS;
        Sweep {
            family,
            resolutions: (lo..=hi).step_by(step).collect(),
            widths: DEFAULT_WIDTHS.to_vec(),
            rd: alloc::vec![false, true],
            classes: DEFAULT_CLASSES,
        }
    }

    /// Every spec, resolution-major, as `(resolution, width, rd)`.
    pub fn points(&self) -> Result<Vec<(usize, f32, bool)>> {
        if self.resolutions.is_empty() || self.widths.is_empty() || self.rd.is_empty() {
            return Err(Error::Schedule(
                "the sweep is empty: give at least one resolution, one width and one RD choice",
            ));
        }
        if let Some(&r) = self.resolutions.iter().find(|&&r| !(32..=1024).contains(&r)) {
            return Err(Error::Limit { what: "sweep resolution (32 to 1024)", value: r as u64, limit: 1024 });
        }
        if !(1..=100_000).contains(&self.classes) {
            return Err(Error::Schedule("the sweep's classes must be 1 to 100000"));
        }
        if self.widths.iter().any(|&w| !(w > 0.0 && w <= 4.0)) {
            return Err(Error::Schedule("a sweep width multiplier is outside (0, 4]"));
        }
        let n = self.resolutions.len() * self.widths.len() * self.rd.len();
        if n > MAX_SPECS {
            return Err(Error::Limit { what: "specs in the sweep", value: n as u64, limit: MAX_SPECS as u64 });
        }
        let mut out = Vec::with_capacity(n);
        for &r in &self.resolutions {
            for &w in &self.widths {
                for &rd in &self.rd {
                    out.push((r, w, rd));
                }
            }
        }
        Ok(out)
    }
}

pub use crate::fit::{code_bytes, CODE_BYTES_DSP, CODE_BYTES_PLAIN};

/// One evaluated spec.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct SpecPoint {
    pub resolution: usize,
    pub width: f32,
    pub rd: bool,
    /// MACs of one inference, layer by layer.
    pub macs: u64,
    /// The firmware's constant pools (weights, biases, requantization
    /// tables) + [`code_bytes`].
    pub flash_bytes: usize,
    pub layer_peak_bytes: usize,
    /// The peak of [`SpecPoint::schedule`]: the fewest-MACs schedule whose
    /// peak fits the board's SRAM, or the smallest-peak one if none does.
    pub patch_peak_bytes: usize,
    /// MACs under [`SpecPoint::schedule`] (halos recomputed included).
    pub patch_macs: u64,
    /// SRAM and flash both fit, layer by layer.
    pub fits_layer: bool,
    /// SRAM and flash both fit under the schedule.
    pub fits_patch: bool,
    /// Weights and code fit the board's flash.
    pub flash_fits: bool,
    pub schedule: Schedule,
    /// Legal stage ends the search left untried (its work limit).
    pub splits_untried: usize,
}

/// The largest networks (by MACs) that fit: indices into the evaluated specs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Frontier {
    pub layer: Option<usize>,
    pub patch: Option<usize>,
}

/// The SRAM an arena may take on `board` ([`Board::arena_budget`]) unless `sram` overrides it.
pub fn arena_budget(board: &Board, sram: Option<usize>) -> usize {
    sram.unwrap_or_else(|| board.arena_budget())
}

/// Evaluates one spec of `sweep` for `board` with an arena budget of `budget` bytes.
pub fn evaluate(
    sweep: &Sweep,
    (resolution, width, rd): (usize, f32, bool),
    board: &Board,
    budget: usize,
    mode: InputMode,
) -> Result<SpecPoint> {
    let g = build(&sweep.family.spec(resolution, width, rd, sweep.classes))?.graph;
    let within = plan::search_within(&g, mode, budget);
    // A deployed network reads its input from a sensor: no bundled input.
    let flash = crate::fit::FlashFit::new(board, crate::fit::pool_bytes(&g)?, 0);
    let (flash_bytes, flash_fits) = (flash.estimate(), flash.fits());
    let chosen: Candidate = within.best.unwrap_or(within.smallest);
    Ok(SpecPoint {
        resolution,
        width,
        rd,
        macs: within.base_macs,
        flash_bytes,
        layer_peak_bytes: within.layer_peak_bytes,
        patch_peak_bytes: chosen.peak_bytes,
        patch_macs: chosen.macs,
        fits_layer: flash_fits && within.layer_peak_bytes <= budget,
        fits_patch: flash_fits && within.best.is_some(),
        flash_fits,
        schedule: chosen.schedule,
        splits_untried: within.splits_untried,
    })
}

/// The specs with the most MACs that fit layer by layer and patch-based
/// (ties: the smaller peak, then the earlier spec).
pub fn frontier(points: &[SpecPoint]) -> Frontier {
    let best = |fits: &dyn Fn(&SpecPoint) -> bool, peak: &dyn Fn(&SpecPoint) -> usize| {
        let mut best: Option<usize> = None;
        for (i, p) in points.iter().enumerate().filter(|(_, p)| fits(p)) {
            if best.is_none_or(|b| {
                (p.macs, core::cmp::Reverse(peak(p))) > (points[b].macs, core::cmp::Reverse(peak(&points[b])))
            }) {
                best = Some(i);
            }
        }
        best
    };
    Frontier {
        layer: best(&|p| p.fits_layer, &|p| p.layer_peak_bytes),
        patch: best(&|p| p.fits_patch, &|p| p.patch_peak_bytes),
    }
}

/// Looks a board up, naming the known ones when it is not.
pub fn board(name: &str) -> core::result::Result<&'static Board, String> {
    boards::board(name).ok_or_else(|| {
        let known: Vec<&str> = boards::BOARDS.iter().map(|b| b.name).collect();
        format!("unknown board {name:?} (known: {})", known.join(", "))
    })
}
