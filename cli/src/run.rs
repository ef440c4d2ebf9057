//! `inspect` and `run`.

use std::path::Path;
use std::time::Instant;

use anyhow::{bail, Result};
use patchwise_core::analysis;
use patchwise_core::exec::{self, Executor};
use patchwise_core::graph::{Graph, Quant, Tensor};
use patchwise_core::patch::{InputMode, PatchExecutor};
use patchwise_core::plan::Schedule;
use serde_json::{json, Value};

use crate::io;

fn quant_json(t: &Tensor) -> Value {
    match &t.quant {
        Quant::None => Value::Null,
        Quant::PerTensor { scale, zero_point } => json!({"scale": scale, "zero_point": zero_point}),
        Quant::PerChannel { scales, axis, .. } => {
            json!({"per_channel": scales.len(), "axis": axis})
        }
    }
}

fn tensor_json(g: &Graph, id: usize) -> Value {
    let t = &g.tensors[id];
    json!({"index": id, "name": t.name, "shape": t.shape, "dtype": t.dtype.name(), "quantization": quant_json(t)})
}

pub fn inspect(path: &Path, as_json: bool) -> Result<()> {
    let bytes = io::read_model_bytes(path)?;
    let g = match patchwise_core::loader::load(&bytes) {
        Ok(g) => g,
        Err(e) => return inspect_unloadable(path, &bytes, e, as_json),
    };
    let layers = analysis::layers(&g);
    let exec = Executor::new(&g)?;
    let macs: u64 = layers.iter().map(|l| l.macs).sum();
    if as_json {
        let v = json!({
            "model": path.display().to_string(),
            "file_bytes": bytes.len(),
            "macs": macs,
            "flash_bytes": g.flash_bytes(),
            "arena_bytes": exec.arena_size(),
            "inputs": g.inputs.iter().map(|&t| tensor_json(&g, t)).collect::<Vec<_>>(),
            "outputs": g.outputs.iter().map(|&t| tensor_json(&g, t)).collect::<Vec<_>>(),
            "layers": layers.iter().map(|l| json!({
                "index": l.index, "op": l.op, "input_shape": l.input_shape, "output_shape": l.output_shape,
                "macs": l.macs, "input_bytes": l.input_bytes, "output_bytes": l.output_bytes, "weight_bytes": l.weight_bytes,
            })).collect::<Vec<_>>(),
            "tensors": (0..g.tensors.len()).map(|t| tensor_json(&g, t)).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    println!("{}: {} operators, {} tensors, {} bytes", path.display(), g.nodes.len(), g.tensors.len(), bytes.len());
    for (kind, ids) in [("input", &g.inputs), ("output", &g.outputs)] {
        for &t in ids {
            let t = &g.tensors[t];
            let q = t.quant.per_tensor().map(|(s, z)| format!(" scale {s} zero point {z}")).unwrap_or_default();
            println!("  {kind} {:?} {}{q}", t.shape, t.dtype.name());
        }
    }
    println!(
        "{:>4}  {:<18} {:<18} {:<18} {:>12} {:>10} {:>10} {:>9}",
        "#", "op", "input", "output", "MACs", "in B", "out B", "weight B"
    );
    for l in &layers {
        println!(
            "{:>4}  {:<18} {:<18} {:<18} {:>12} {:>10} {:>10} {:>9}",
            l.index,
            l.op,
            format!("{:?}", l.input_shape),
            format!("{:?}", l.output_shape),
            l.macs,
            l.input_bytes,
            l.output_bytes,
            l.weight_bytes
        );
    }
    println!(
        "total: {macs} MACs, {} flash (weight) bytes, {} arena bytes layer by layer",
        g.flash_bytes(),
        exec.arena_size()
    );
    Ok(())
}

/// Input bytes for graph input 0 from a `.npy` or an image file.
pub fn load_input(g: &Graph, input: &Path) -> Result<Vec<u8>> {
    load_inputs(g, &[input])
}

/// The bytes of every model input, concatenated in the model's input order:
/// one `.npy` (or, for an image input, a PNG/JPEG) per input.
pub fn load_inputs(g: &Graph, inputs: &[&Path]) -> Result<Vec<u8>> {
    if inputs.len() != g.inputs.len() {
        let names: Vec<String> = g
            .inputs
            .iter()
            .map(|&t| {
                let t = &g.tensors[t];
                format!("{} {:?} {}", t.name, t.shape, t.dtype.name())
            })
            .collect();
        bail!(
            "the model has {} input{} ({}); pass one --input per input, in that order (got {})",
            g.inputs.len(),
            if g.inputs.len() == 1 { "" } else { "s" },
            names.join("; "),
            inputs.len()
        );
    }
    let mut data = Vec::new();
    for (&t, path) in g.inputs.iter().zip(inputs) {
        let t = &g.tensors[t];
        let is_npy = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("npy"));
        data.extend(if is_npy { io::read_npy(path, t)? } else { io::image_to_input(&io::read_image(path)?, t)? });
    }
    Ok(data)
}

/// `inspect` of a model that does not load: every operator, the ones
/// patchwise cannot run marked, then the load error (a failing exit status).
fn inspect_unloadable(path: &Path, bytes: &[u8], e: patchwise_core::Error, as_json: bool) -> Result<()> {
    use patchwise_core::loader::{outline, OpStatus};
    let err = anyhow::anyhow!("{}: {e}", path.display());
    let Ok(ops) = outline(bytes) else { return Err(err) };
    let status = |s: &OpStatus| match s {
        OpStatus::Supported => "supported".to_string(),
        OpStatus::Unsupported => "unsupported".to_string(),
        OpStatus::Invalid(e) => format!("refused: {e}"),
    };
    if as_json {
        let v = json!({
            "model": path.display().to_string(),
            "error": e.to_string(),
            "operators": ops.iter().map(|o| json!({
                "index": o.index, "op": o.name, "builtin_code": o.code, "status": status(&o.status),
                "inputs": o.inputs, "outputs": o.outputs,
            })).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Err(err);
    }
    print!("{}", outline_text(path, &ops));
    Err(err)
}

/// The operator table `inspect` prints for a model that does not load.
pub fn outline_text(path: &Path, ops: &[patchwise_core::loader::OpOutline]) -> String {
    use patchwise_core::loader::OpStatus;
    use std::fmt::Write;
    let mut s = String::new();
    let bad = ops.iter().filter(|o| o.status != OpStatus::Supported).count();
    let _ = writeln!(s, "{}: {} operators, {} that patchwise cannot run (marked !)", path.display(), ops.len(), bad);
    let _ = writeln!(s, "{:>4}   {:<26} {:<22} {:<18}", "#", "op", "input", "output");
    for o in ops {
        let mark = if o.status == OpStatus::Supported { ' ' } else { '!' };
        let first_in = o.inputs.iter().flatten().next().map(|s| format!("{s:?}")).unwrap_or_default();
        let first_out = o.outputs.first().map(|s| format!("{s:?}")).unwrap_or_default();
        let _ = write!(s, "{:>4} {mark} {:<26} {:<22} {:<18}", o.index, o.name, first_in, first_out);
        let _ = match &o.status {
            OpStatus::Supported => writeln!(s),
            OpStatus::Unsupported => writeln!(s, "  unsupported"),
            OpStatus::Invalid(e) => writeln!(s, "  refused: {e}"),
        };
    }
    s
}

pub struct RunResult {
    pub outputs: Vec<Vec<u8>>,
    pub predicted_arena: usize,
    pub measured_arena: usize,
    pub seconds: f64,
}

/// Runs layer by layer (see [`execute_scheduled`]).
pub fn execute(g: &Graph, input: &[u8]) -> Result<RunResult> {
    execute_scheduled(g, input, Schedule::LAYER_BY_LAYER)
}

/// Runs `schedule` twice under two arena paints (`exec::run_measured`: the
/// measured high-water mark is exact).
pub fn execute_scheduled(g: &Graph, input: &[u8], schedule: Schedule) -> Result<RunResult> {
    let start = Instant::now();
    let clock = || start.elapsed().as_secs_f64();
    let (predicted_arena, m) = match schedule.split {
        None => {
            let ex = Executor::new(g)?;
            (ex.arena_size(), exec::run_measured(&ex.program(), input, &clock)?)
        }
        Some(_) => {
            let ex = PatchExecutor::for_schedule(g, schedule, InputMode::InArena)?;
            (ex.arena_size(), exec::run_measured(&ex.program(), input, &clock)?)
        }
    };
    Ok(RunResult { outputs: m.outputs, predicted_arena, measured_arena: m.arena_hwm, seconds: m.elapsed })
}

pub fn run(path: &Path, inputs: &[&Path], schedule: Schedule, output_dir: Option<&Path>, as_json: bool) -> Result<()> {
    let (_, g) = io::read_model(path)?;
    let data = load_inputs(&g, inputs)?;
    let r = execute_scheduled(&g, &data, schedule)?;
    if let Some(dir) = output_dir {
        std::fs::create_dir_all(dir)?;
        for (i, (&t, bytes)) in g.outputs.iter().zip(&r.outputs).enumerate() {
            io::write_npy(&dir.join(format!("output_{i}.npy")), &g.tensors[t], bytes)?;
        }
    }
    let outputs: Vec<Value> = g
        .outputs
        .iter()
        .zip(&r.outputs)
        .enumerate()
        .map(|(i, (&t, bytes))| {
            let t = &g.tensors[t];
            let mut v = json!({"index": i, "shape": t.shape, "dtype": t.dtype.name()});
            if let Some(top) = analysis::top_classes(t, bytes, 5) {
                v["top"] = top.into_iter().map(|(class, score)| json!({"class": class, "score": score})).collect();
            }
            v
        })
        .collect();
    if as_json {
        let v = json!({
            "schedule": patchwise_core::plan::document::ScheduleDoc::from(schedule),
            "outputs": outputs,
            "predicted_arena_bytes": r.predicted_arena,
            "measured_arena_bytes": r.measured_arena,
            "time_ms": r.seconds * 1e3,
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        for o in &outputs {
            println!("output {}: {} {}", o["index"], o["shape"], o["dtype"].as_str().unwrap_or(""));
            if let Some(top) = o.get("top").and_then(Value::as_array) {
                for c in top {
                    println!("  class {:>4}  {:.4}", c["class"], c["score"].as_f64().unwrap_or(0.0));
                }
            }
        }
        println!("arena: predicted {} B, measured high-water mark {} B", r.predicted_arena, r.measured_arena);
        println!("time: {:.2} ms", r.seconds * 1e3);
    }
    Ok(())
}
