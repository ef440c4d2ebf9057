//! Firmware export: a model, a board and a schedule → a self-contained
//! `no_std` cargo project (cortex-m-rt) that runs the model on the board.
//!
//! ```no_run
//! # use patchwise_core::{boards, patch::InputMode};
//! # let bytes = std::fs::read("models/opsnet-int8.tflite").unwrap();
//! let g = patchwise_core::loader::load(&bytes).unwrap();
//! let board = boards::board("qemu-mps2-an500").unwrap();
//! let best = patchwise_firmware_export::best_schedule(&g, board, InputMode::InArena).unwrap();
//! let project = patchwise_firmware_export::export(&patchwise_firmware_export::ExportRequest {
//!     graph: &g,
//!     model_name: "opsnet-int8",
//!     board,
//!     schedule: best.schedule,
//!     input_mode: InputMode::InArena,
//!     input: None,
//! })
//! .unwrap();
//! project.write_to(std::path::Path::new("opsnet-firmware")).unwrap();
//! ```
//!
//! The project holds the model as data (int8 weights as `.bin` files in flash,
//! prepared multipliers, arena offsets and per-patch regions as Rust statics in
//! `src/model.rs`), the no-alloc half of `patchwise-core` in
//! `vendor/patchwise-core/` (its kernels and [`patchwise_core::program`],
//! the interpreter the host executors run too), `memory.x` with the board's
//! FLASH and RAM (a model that does not fit fails to link), and a `main.rs`
//! that prints `output_<i> <hex>` per output, the measured arena high-water
//! mark and the stack use.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use patchwise_core::boards::Board;
use patchwise_core::exec::{run_measured, Executor};
use patchwise_core::fit::FlashFit;
use patchwise_core::graph::{DType, Graph};
use patchwise_core::patch::InputMode;
use patchwise_core::plan::{self, Candidate, Schedule};

pub mod emit;
pub mod lower;
pub mod project;
pub mod run;
pub mod vendor;

pub use lower::{run_static, Export};

/// The smallest stack `memory.x` lets a program link with.
pub const MIN_STACK: usize = 8 * 1024;
/// RAM kept out of the arena budget: the minimum stack plus the program's
/// other statics (semihosting/RTT buffers, core's tables) with room to spare.
pub const STACK_RESERVE: usize = patchwise_core::boards::STACK_RESERVE as usize;

/// Bytes of RAM a schedule's arena may take on `board`.
pub fn arena_budget(board: &Board) -> usize {
    board.arena_budget()
}

/// The schedule with the fewest MACs whose arena fits `board` (with the stack reserve).
pub fn best_schedule(g: &Graph, board: &Board, mode: InputMode) -> Result<Candidate, ExportError> {
    Ok(plan::search(g, mode).best_within(arena_budget(board))?)
}

/// What to export.
#[derive(Clone, Debug)]
pub struct ExportRequest<'a> {
    pub graph: &'a Graph,
    /// Names the crate and the banner (e.g. the model file's stem).
    pub model_name: &'a str,
    pub board: &'a Board,
    pub schedule: Schedule,
    pub input_mode: InputMode,
    /// The bytes of every graph input, concatenated; `None`: a seeded input ([`seeded_input`]).
    pub input: Option<Vec<u8>>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExportError {
    Core(patchwise_core::Error),
    /// Something about the model the firmware cannot run.
    Unsupported(String),
    /// The given input does not match the model's inputs.
    Input(String),
    /// The firmware's weights, input and code (estimated) exceed the board's flash.
    Flash(FlashFit),
}

impl fmt::Display for ExportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExportError::Core(e) => write!(f, "{e}"),
            ExportError::Unsupported(s) => write!(f, "cannot export: {s}"),
            ExportError::Input(s) => write!(f, "bad input: {s}"),
            ExportError::Flash(fit) => write!(f, "{}", fit.not_fitting()),
        }
    }
}

impl std::error::Error for ExportError {}

impl From<patchwise_core::Error> for ExportError {
    fn from(e: patchwise_core::Error) -> Self {
        ExportError::Core(e)
    }
}

/// Facts about an export, for the CLI and the browser to show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    pub crate_name: String,
    pub model_name: String,
    pub board: String,
    pub target: String,
    pub schedule: String,
    pub arena_bytes: usize,
    /// int8 constant bytes in `data/` (weights; `input.bin` excluded).
    pub weight_bytes: usize,
    pub input_bytes: usize,
    /// The firmware's flash, estimated (it fits: [`export`] refuses otherwise).
    pub flash: FlashFit,
    pub outputs: usize,
    /// Path of the ELF `cargo build --release` makes, relative to the project (default target dir).
    pub elf: String,
}

/// An exported project: relative path → contents.
#[derive(Clone, Debug)]
pub struct Project {
    pub files: BTreeMap<String, Vec<u8>>,
    pub summary: Summary,
}

impl Project {
    /// Writes every file under `dir` (created if needed). Files whose
    /// contents are already there are left untouched, so re-exporting into
    /// the same directory rebuilds only what changed.
    pub fn write_to(&self, dir: &Path) -> std::io::Result<()> {
        for (path, bytes) in &self.files {
            let p = dir.join(path);
            if std::fs::read(&p).ok().as_deref() == Some(bytes.as_slice()) {
                continue;
            }
            if let Some(parent) = p.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(&p, bytes)?;
        }
        Ok(())
    }

    /// The text files (everything but `data/`), e.g. for snapshots.
    /// The project as a zip archive under `<crate name>/`: entries in path
    /// order, stored, with a fixed timestamp, so the CLI's `--zip` and the
    /// browser's download are byte-identical for the same request.
    pub fn to_zip(&self) -> Result<Vec<u8>, ExportError> {
        use std::io::Write;
        let mut buf = std::io::Cursor::new(Vec::new());
        let mut z = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored)
            .last_modified_time(zip::DateTime::default())
            .unix_permissions(0o644);
        let err = |e: &dyn fmt::Display| ExportError::Unsupported(format!("zip: {e}"));
        for (path, bytes) in &self.files {
            z.start_file(format!("{}/{path}", self.summary.crate_name), opts).map_err(|e| err(&e))?;
            z.write_all(bytes).map_err(|e| err(&e))?;
        }
        z.finish().map_err(|e| err(&e))?;
        Ok(buf.into_inner())
    }

    pub fn text_files(&self) -> impl Iterator<Item = (&str, &str)> {
        self.files
            .iter()
            .filter(|(p, _)| !p.starts_with("data/"))
            .filter_map(|(p, b)| std::str::from_utf8(b).ok().map(|s| (p.as_str(), s)))
    }
}

/// A cargo package name from the model and board names.
pub fn crate_name(model_name: &str, board: &Board) -> String {
    let s = slug(&format!("{model_name}-{}", board.name));
    if s.starts_with(|c: char| c.is_ascii_alphabetic()) {
        s
    } else {
        format!("fw-{s}")
    }
}

/// `s` lowercased, every run of other characters than ASCII letters and
/// digits one dash, no dash at either end (`"MBv2 w1.0"` → `"mbv2-w1-0"`).
pub fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.to_lowercase().chars() {
        let c = if c.is_ascii_alphanumeric() { c } else { '-' };
        if !(c == '-' && (out.is_empty() || out.ends_with('-'))) {
            out.push(c);
        }
    }
    out.trim_end_matches('-').to_string()
}

/// A deterministic input for every graph input, concatenated: int8 values
/// uniform over [-128, 127], float32 values uniform in [-1, 1).
pub fn seeded_input(g: &Graph, seed: u64) -> Vec<u8> {
    let mut state = seed;
    let mut next = move || {
        // splitmix64
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let mut out = Vec::new();
    for &t in &g.inputs {
        let t = &g.tensors[t];
        match t.dtype {
            DType::F32 => {
                for _ in 0..t.elements() {
                    let v = (next() >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0;
                    out.extend_from_slice(&v.to_le_bytes());
                }
            }
            _ => out.extend((0..t.bytes()).map(|_| next() as u8)),
        }
    }
    out
}

/// The seed of the bundled input when the request gives none.
pub const DEFAULT_SEED: u64 = 2021;

/// The outputs of core's layer-by-layer `Executor` on `input`: what the firmware must print.
pub fn reference_outputs(g: &Graph, input: &[u8]) -> Result<Vec<Vec<u8>>, ExportError> {
    Ok(run_measured(&Executor::new(g)?.program(), input, &|| 0.0)?.outputs)
}

/// The input a request bundles (its own, or the seeded one), checked against the model.
pub fn request_input(req: &ExportRequest) -> Result<Vec<u8>, ExportError> {
    let g = req.graph;
    let needed: usize = g.inputs.iter().map(|&t| g.tensors[t].bytes()).sum();
    let input = req.input.clone().unwrap_or_else(|| seeded_input(g, DEFAULT_SEED));
    if input.len() != needed {
        return Err(ExportError::Input(format!("{} bytes given, the model's inputs take {needed}", input.len())));
    }
    Ok(input)
}

/// Exports the project (nothing is written: see [`Project::write_to`]).
pub fn export(req: &ExportRequest) -> Result<Project, ExportError> {
    let board = req.board;
    let input = request_input(req)?;
    let lowered = Export::new(req.graph, req.schedule, req.input_mode)?;
    let flash = FlashFit::new(board, lowered.lowered.pools.flash_bytes(), input.len());
    if !flash.fits() {
        return Err(ExportError::Flash(flash));
    }
    let emitted = emit::emit(&lowered, req.model_name, board.name, &input)?;
    let crate_name = crate_name(req.model_name, board);
    let weight_bytes = emitted.data.iter().filter(|(p, _)| p.as_str() != "data/input.bin").map(|(_, b)| b.len()).sum();
    let summary = Summary {
        crate_name: crate_name.clone(),
        model_name: req.model_name.to_string(),
        board: board.name.to_string(),
        target: board.target.to_string(),
        schedule: emit::schedule_text(&lowered),
        arena_bytes: lowered.arena_size(),
        weight_bytes,
        input_bytes: input.len(),
        flash,
        outputs: req.graph.outputs.len(),
        elf: format!("target/{}/release/{crate_name}", board.target),
    };
    let version = env!("CARGO_PKG_VERSION");
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut text = |p: &str, s: String| {
        files.insert(p.to_string(), s.into_bytes());
    };
    text("Cargo.toml", project::cargo_toml(&crate_name, board, version));
    text(".cargo/config.toml", project::cargo_config(board));
    text("memory.x", project::memory_x(board, lowered.arena_size()));
    text("build.rs", project::BUILD_RS.to_string());
    text("src/main.rs", project::main_rs(board));
    text("src/model.rs", emitted.source);
    text("README.md", project::readme(board, &summary));
    text(".gitignore", "/target\n".to_string());
    text("vendor/patchwise-core/Cargo.toml", vendor::core_cargo_toml(version));
    for (path, src) in vendor::CORE_SOURCES {
        text(&format!("vendor/patchwise-core/src/{path}"), src.to_string());
    }
    files.extend(emitted.data);
    Ok(Project { files, summary })
}
