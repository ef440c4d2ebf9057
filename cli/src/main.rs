//! `patchwise`: the command line over patchwise-core.

use patchwise_cli::run;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "patchwise", version, about = "Patch-based (MCUNetV2) int8 inference: inspect, run, plan, export")]
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
        #[arg(long)]
        input: PathBuf,
        /// Write each output as DIR/output_<i>.npy.
        #[arg(long)]
        output_dir: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Inspect { model, json } => run::inspect(&model, json),
        Command::Run { model, input, output_dir, json } => run::run(&model, &input, output_dir.as_deref(), json),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
