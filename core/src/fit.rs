//! Whether a model's firmware fits a board's flash: its constant pools
//! (weights, biases, requantization tables, as lowered), the input it bundles
//! (an exported firmware carries one in `data/input.bin`), and an estimate of
//! its code. One rule for the explorer, `plan --board`, the exporter and the
//! page, so they agree.

use alloc::format;
use alloc::string::String;

use crate::boards::Board;
use crate::error::Result;
use crate::graph::Graph;

/// Flash an exported firmware needs besides its constant pools: its code and
/// structural tables. Measured by `tools/code-size` on every shipped model
/// (2026-12-08, session 1, after the depthwise's short rows):
/// 142.3–168.8 kB on Armv7E-M, 132.0–155.1 kB on Armv6-M; the estimate is
/// the largest with a little room, 168 KiB and 152 KiB.
pub fn code_bytes(board: &Board) -> usize {
    if board.has_dsp() {
        CODE_BYTES_DSP
    } else {
        CODE_BYTES_PLAIN
    }
}

/// [`code_bytes`] on Armv7E-M (the DSP kernels): 168 KiB.
pub const CODE_BYTES_DSP: usize = 168 * 1024;
/// [`code_bytes`] on Armv6-M: 152 KiB.
pub const CODE_BYTES_PLAIN: usize = 152 * 1024;

/// The constant pools of `g` lowered layer by layer (a patch schedule
/// prepares the same constants: `firmware-export`'s tests check it).
pub fn pool_bytes(g: &Graph) -> Result<usize> {
    Ok(crate::lower::lower(g, &crate::plan::layer_layout(g), &[], crate::patch::InputMode::InArena)?
        .pools
        .flash_bytes())
}

/// A firmware's flash, estimated, against a board's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlashFit {
    pub board: &'static str,
    pub flash: usize,
    /// Constant pools: weights, biases, requantization tables.
    pub pools: usize,
    /// The bundled input (0 for a deployment that reads a sensor).
    pub input: usize,
    /// [`code_bytes`].
    pub code: usize,
}

impl FlashFit {
    pub fn new(board: &Board, pools: usize, input: usize) -> Self {
        FlashFit { board: board.name, flash: board.flash_bytes as usize, pools, input, code: code_bytes(board) }
    }

    pub fn estimate(&self) -> usize {
        self.pools + self.input + self.code
    }

    pub fn fits(&self) -> bool {
        self.estimate() <= self.flash
    }

    /// What the estimate is made of, in bytes.
    pub fn breakdown(&self) -> String {
        let input = if self.input > 0 { format!(", input {} B", self.input) } else { String::new() };
        format!("weights and tables {} B{input}, code about {} B", self.pools, self.code)
    }

    /// The message when it does not fit.
    pub fn not_fitting(&self) -> String {
        format!(
            "the firmware would not fit {}'s flash: about {} B ({}) against {} B; pick a board with more flash or a smaller model",
            self.board,
            self.estimate(),
            self.breakdown(),
            self.flash
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::boards;

    #[test]
    fn the_estimate_adds_pools_input_and_code() {
        let b = boards::board("stm32f746g-disco").unwrap();
        let f = FlashFit::new(b, 930_000, 1_000);
        assert_eq!(f.estimate(), 930_000 + 1_000 + 168 * 1024);
        assert!(!f.fits());
        assert_eq!(
            f.not_fitting(),
            "the firmware would not fit stm32f746g-disco's flash: about 1103032 B (weights and tables 930000 B, \
             input 1000 B, code about 172032 B) against 1048576 B; pick a board with more flash or a smaller model"
        );
        let f = FlashFit::new(b, 1_048_576 - 172_032, 0);
        assert!(f.fits());
        assert_eq!(f.breakdown(), "weights and tables 876544 B, code about 172032 B");
    }
}
