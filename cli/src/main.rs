//! `patchwise`: the command line over patchwise-core.

use patchwise_cli::{detect, plan, run};

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "patchwise",
    version,
    about = "Patch-based (MCUNetV2) int8 inference: inspect, run, plan, explore, export"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Operators, tensors, MACs, activation and weight bytes of a model.
    Inspect {
        model: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Run a model on a .npy tensor or an image (PNG/JPEG).
    Run {
        model: PathBuf,
        /// A .npy tensor or an image, once per model input, in the model's input order.
        #[arg(long, required = true)]
        input: Vec<PathBuf>,
        /// Run patch-based: last operator of the patch stage.
        #[arg(long, requires = "grid")]
        split: Option<usize>,
        /// Patch grid: N or RxC (with --split).
        #[arg(long, requires = "split")]
        grid: Option<String>,
        /// Halos shared by neighbouring patches: recompute them (MCUNetV2), cache them, or auto (the fewer MACs within the budget, per-layer mixtures included).
        #[arg(long, default_value = "recompute")]
        halo: String,
        /// A schedule from `plan --json` (the whole document or its `schedule`), instead of --split/--grid/--halo.
        #[arg(long, conflicts_with_all = ["split", "grid"])]
        schedule: Option<PathBuf>,
        /// Patch stages after the first: FIRST..=LAST:RxC, optionally :cache (repeat for more).
        #[arg(long, requires = "split")]
        then: Vec<String>,
        /// Write each output as DIR/output_<i>.npy.
        #[arg(long)]
        output_dir: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Per-layer memory, the patch schedule, its peak SRAM and MAC overhead.
    Plan {
        /// A .tflite file, an architecture spec (.json) or a preset name
        /// (mbv2-w0.35-r144, mbv2-w1.0-r224, mcunet-like-r176, each also with -rd).
        model: String,
        /// Apply receptive-field redistribution (specs and presets).
        #[arg(long)]
        rd: bool,
        /// Last operator of the patch stage, or `auto` to search.
        #[arg(long)]
        split: Option<String>,
        /// Patch grid: N or RxC (e.g. 4 or 4x3).
        #[arg(long)]
        grid: Option<String>,
        /// SRAM budget in bytes.
        #[arg(long, conflicts_with = "board")]
        budget: Option<usize>,
        /// A board whose SRAM sets the budget (e.g. stm32f746g-disco).
        #[arg(long)]
        board: Option<String>,
        /// Count the input as streamed from camera/flash instead of held in SRAM.
        #[arg(long)]
        streamed_input: bool,
        /// Halos shared by neighbouring patches: recompute them (MCUNetV2), cache them, or auto (the fewer MACs within the budget, per-layer mixtures included).
        #[arg(long, default_value = "recompute")]
        halo: String,
        /// Patch stages after the first: FIRST..=LAST:RxC, optionally :cache (repeat for more), or
        /// `auto` to search them where the memory peak is after the first stage.
        #[arg(long)]
        then: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// Export a model and schedule as a no_std firmware crate for a board.
    Export {
        /// A .tflite file, an architecture spec (.json) or a preset name.
        model: String,
        /// Target board (stm32f746g-disco, nucleo-h743zi, nrf52840-dk, rpi-pico, qemu-mps2-an500).
        #[arg(long)]
        board: String,
        /// Input bundled into the firmware (.npy or image); default: a seeded one.
        #[arg(long)]
        input: Option<PathBuf>,
        /// Last operator of the patch stage (default: the fewest-MAC schedule that fits the board).
        #[arg(long, requires = "grid")]
        split: Option<usize>,
        /// Patch grid: N or RxC (with --split).
        #[arg(long, requires = "split")]
        grid: Option<String>,
        /// Stream the input patch by patch instead of holding it in SRAM.
        #[arg(long)]
        streamed_input: bool,
        /// Halos shared by neighbouring patches: recompute them (MCUNetV2), cache them, or auto (the fewer MACs within the budget, per-layer mixtures included).
        #[arg(long, default_value = "recompute")]
        halo: String,
        /// A schedule from `plan --json` (the whole document or its `schedule`), instead of --split/--grid/--halo.
        #[arg(long, conflicts_with_all = ["split", "grid"])]
        schedule: Option<PathBuf>,
        /// Patch stages after the first: FIRST..=LAST:RxC, optionally :cache (repeat for more).
        #[arg(long, requires = "split")]
        then: Vec<String>,
        /// Directory to write the crate into, or a `.zip` file.
        #[arg(long)]
        out: PathBuf,
    },
    /// Which networks of a family (resolution × width, with and without RD)
    /// fit a board layer by layer, which only patch-based, and the largest that fits.
    Explore {
        /// Board (stm32f746g-disco, nucleo-h743zi, nrf52840-dk, rpi-pico, qemu-mps2-an500).
        #[arg(long)]
        board: String,
        /// mbv2 (MobileNetV2) or mcunet (the mcunet-like-r176 network).
        #[arg(long, default_value = "mbv2")]
        family: String,
        /// Resolutions: LO:HI:STEP or a list (default 64:320:16).
        #[arg(long)]
        resolutions: Option<String>,
        /// Width multipliers, a list (default 0.25,0.35,0.5,0.75,1.0,1.3,1.4).
        #[arg(long)]
        widths: Option<String>,
        /// Receptive-field redistribution: off, on or both.
        #[arg(long, default_value = "both")]
        rd: String,
        /// Classifier outputs (default 2, a person detector; 1000 for ImageNet).
        #[arg(long)]
        classes: Option<usize>,
        /// Arena budget in bytes instead of the board's SRAM less the stack reserve.
        #[arg(long)]
        budget: Option<usize>,
        /// Count the input as streamed from camera/flash instead of held in SRAM.
        #[arg(long)]
        streamed_input: bool,
        #[arg(long)]
        json: bool,
    },
    /// Detect faces with BlazeFace: boxes and keypoints in image pixels.
    Detect {
        model: PathBuf,
        image: PathBuf,
        /// Run patch-based: last operator of the patch stage.
        #[arg(long, requires = "grid")]
        split: Option<usize>,
        /// Patch grid: N or RxC (with --split).
        #[arg(long, requires = "split")]
        grid: Option<String>,
        /// Halos shared by neighbouring patches: recompute them (MCUNetV2) or cache them.
        #[arg(long, default_value = "recompute")]
        halo: String,
        /// A schedule from `plan --json` (the whole document or its `schedule`), instead of --split/--grid/--halo.
        #[arg(long, conflicts_with_all = ["split", "grid"])]
        schedule: Option<PathBuf>,
        /// Patch stages after the first: FIRST..=LAST:RxC, optionally :cache (repeat for more).
        #[arg(long, requires = "split")]
        then: Vec<String>,
        /// Minimum score (MediaPipe's min_score_thresh).
        #[arg(long, default_value_t = patchwise_core::detect::DEFAULT_THRESHOLD)]
        threshold: f32,
        #[arg(long)]
        json: bool,
        /// Write the image with boxes and keypoints drawn as PNG.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

/// `--schedule FILE`, or `--split S --grid RxC --halo H`, or layer by layer.
fn schedule_or_file(
    file: Option<&std::path::Path>,
    split: Option<usize>,
    grid: Option<String>,
    halo: &str,
    then: &[String],
) -> anyhow::Result<patchwise_core::plan::Schedule> {
    match file {
        Some(f) => Ok(plan::read_schedule(f)?.0),
        None => schedule(split, grid, halo, then),
    }
}

/// `--split S --grid RxC [--then ...]`, or layer by layer.
fn schedule(
    split: Option<usize>,
    grid: Option<String>,
    halo: &str,
    then: &[String],
) -> anyhow::Result<patchwise_core::plan::Schedule> {
    let halo = plan::parse_halo(halo)?;
    if halo == patchwise_core::plan::HaloChoice::Auto {
        anyhow::bail!("--halo auto chooses against a budget: use it with `plan`; here give recompute or cache");
    }
    let first = match (split, grid) {
        (Some(s), Some(g)) => {
            patchwise_core::plan::Schedule::patched(s, plan::parse_grid(&g)?).with_halo(plan::halo_of(halo))
        }
        _ => patchwise_core::plan::Schedule::LAYER_BY_LAYER,
    };
    plan::apply_then(first, plan::parse_then(then)?)
}

fn main() -> ExitCode {
    // Let `patchwise plan ... | head` end quietly, as Unix tools do, instead
    // of panicking on a closed stdout.
    #[cfg(unix)]
    #[allow(unsafe_code)]
    // SAFETY: restoring the default disposition of SIGPIPE before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Inspect { model, json } => run::inspect(&model, json),
        Command::Run { model, input, split, grid, halo, schedule: file, then, output_dir, json } => {
            let inputs: Vec<&std::path::Path> = input.iter().map(PathBuf::as_path).collect();
            schedule_or_file(file.as_deref(), split, grid, &halo, &then)
                .and_then(|s| run::run(&model, &inputs, s, output_dir.as_deref(), json))
        }
        Command::Plan { model, rd, split, grid, budget, board, streamed_input, halo, then, json } => (|| {
            let g = patchwise_cli::io::read_graph(&model, rd)?;
            let before = if rd { Some(patchwise_cli::io::read_graph(&model, false)?) } else { None };
            let req = plan::Request {
                split: split.as_deref().map(plan::parse_split).transpose()?,
                grid: grid.as_deref().map(plan::parse_grid).transpose()?,
                budget,
                board,
                streamed_input,
                halo: plan::parse_halo(&halo)?,
                then: plan::parse_then(&then)?,
                model_name: std::path::Path::new(&model).file_name().and_then(|n| n.to_str()).map(String::from),
            };
            plan::plan(
                &g,
                &req,
                json,
                before.as_ref().map(|b| {
                    (b, !model.ends_with(".json") && patchwise_core::spec::ArchSpec::preset(&model).is_none())
                }),
            )
        })(),
        Command::Export { model, board, input, split, grid, streamed_input, halo, schedule: file, then, out } => {
            (|| {
                let g = patchwise_cli::io::read_graph(&model, false)?;
                let name =
                    std::path::Path::new(&model).file_stem().and_then(|s| s.to_str()).unwrap_or("model").to_string();
                let (sched, streamed_input) = match file.as_deref().map(plan::read_schedule).transpose()? {
                    // A plan document says how it counted the input; a bare schedule keeps --streamed-input.
                    Some((s, sram)) => (Some(s), sram.map_or(streamed_input, |in_sram| !in_sram)),
                    None if split.is_some() => (Some(schedule(split, grid, &halo, &then)?), streamed_input),
                    None => (None, streamed_input),
                };
                let halo = plan::parse_halo(&halo)?;
                patchwise_cli::export::run(&g, &name, &board, sched, streamed_input, halo, input.as_deref(), &out)
            })()
        }
        Command::Explore { board, family, resolutions, widths, rd, classes, budget, streamed_input, json } => {
            let req = patchwise_cli::explore::Request {
                board,
                family,
                streamed_input,
                budget,
                resolutions,
                widths,
                rd,
                classes,
            };
            patchwise_cli::explore::explore(&req, json)
        }
        Command::Detect { model, image, split, grid, halo, schedule: file, then, threshold, json, out } => {
            schedule_or_file(file.as_deref(), split, grid, &halo, &then)
                .and_then(|s| detect::detect(&model, &image, s, threshold, json, out.as_deref()))
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
