//! Prints lowered tables as `src/model.rs`: Rust statics the firmware's
//! `patchwise_core::static_exec::Model` reads, with int8 weights in flash via
//! `include_bytes!` of `data/t<tensor>.bin`.

use std::collections::BTreeMap;
use std::fmt::Write;

use patchwise_core::fixedpoint::QuantizedMultiplier;
use patchwise_core::kernels::conv::Geometry;
use patchwise_core::kernels::pool::PoolKind;
use patchwise_core::patch::InputMode;
use patchwise_core::static_exec::{InPlaceKind, Kernel, Operand};

use crate::lower::{const_i8, Lowered};
use crate::ExportError;

/// `model.rs` and the `.bin` files it includes (path → bytes).
pub struct Emitted {
    pub source: String,
    pub data: BTreeMap<String, Vec<u8>>,
}

fn f32_lit(x: f32) -> Result<String, ExportError> {
    if !x.is_finite() {
        return Err(ExportError::Unsupported(format!("non-finite constant {x}")));
    }
    Ok(format!("{x:?}"))
}

fn f64_lit(x: f64) -> Result<String, ExportError> {
    if !x.is_finite() {
        return Err(ExportError::Unsupported(format!("non-finite constant {x}")));
    }
    Ok(format!("{x:?}"))
}

fn geometry(g: &Geometry) -> String {
    format!(
        "Geometry {{ in_h: {}, in_w: {}, kh: {}, kw: {}, stride_h: {}, stride_w: {}, dil_h: {}, dil_w: {}, pad_top: {}, pad_left: {} }}",
        g.in_h, g.in_w, g.kh, g.kw, g.stride_h, g.stride_w, g.dil_h, g.dil_w, g.pad_top, g.pad_left
    )
}

fn qm(m: &QuantizedMultiplier) -> String {
    format!("qm({}, {})", m.multiplier, m.shift)
}

/// Comma-separated values, `per_line` to a line, indented.
fn list<T>(items: &[T], per_line: usize, indent: &str, f: impl Fn(&T) -> String) -> String {
    let mut s = String::new();
    for chunk in items.chunks(per_line.max(1)) {
        s.push_str(indent);
        s.push_str(&chunk.iter().map(&f).collect::<Vec<_>>().join(", "));
        s.push_str(",\n");
    }
    s
}

/// Names of the statics holding constant tensors, emitted once each.
struct Statics {
    out: String,
    data: BTreeMap<String, Vec<u8>>,
    done: BTreeMap<String, ()>,
}

impl Statics {
    fn bytes(&mut self, t: usize, data: &[u8], name: &str) -> String {
        let id = format!("T{t}");
        if self.done.insert(id.clone(), ()).is_none() {
            let file = format!("data/t{t}.bin");
            let _ = writeln!(self.out, "/// `{}` ({} B, int8)", name.replace('`', "'"), data.len());
            let _ = writeln!(self.out, "static {id}: [u8; {}] = *include_bytes!(\"../{file}\");", data.len());
            self.data.insert(file, data.to_vec());
        }
        format!("&{id}")
    }

    fn i32s(&mut self, t: usize, v: &[i32], name: &str) -> String {
        let id = format!("B{t}");
        if self.done.insert(id.clone(), ()).is_none() {
            let _ = writeln!(self.out, "/// `{}` (int32)", name.replace('`', "'"));
            let _ =
                write!(self.out, "static {id}: [i32; {}] = [\n{}];\n", v.len(), list(v, 12, "    ", |x| x.to_string()));
        }
        format!("&{id}")
    }
}

/// Human-readable schedule, e.g. `patches: ops 0..=11 on a 3x3 grid (9 patches), input in the arena`.
pub fn schedule_text(l: &Lowered) -> String {
    match (&l.patch, l.schedule.split) {
        (Some(p), Some(split)) => format!(
            "patches: ops 0..={split} on a {}x{} grid ({} patches), input {}",
            p.grid.0,
            p.grid.1,
            p.patches(),
            if l.mode == InputMode::Streamed { "streamed" } else { "in the arena" }
        ),
        _ => "layer-by-layer".to_string(),
    }
}

pub fn emit(l: &Lowered, model_name: &str, board: &str, input: &[u8]) -> Result<Emitted, ExportError> {
    let g = l.graph;
    let mut st = Statics { out: String::new(), data: BTreeMap::new(), done: BTreeMap::new() };
    let mut multipliers = String::new();
    let mut nodes = String::new();
    for (i, node) in g.nodes.iter().enumerate() {
        let out_t = node.output();
        let _ = writeln!(
            nodes,
            "    // {i}: {} -> t{out_t} {:?} `{}`",
            node.op.name(),
            g.tensors[out_t].shape,
            g.tensors[out_t].name.replace('`', "'")
        );
        let filter_name = |k: usize| node.input(k).map_or(String::new(), |t| g.tensors[t].name.clone());
        let filter = |st: &mut Statics| -> String {
            match node.input(1).and_then(|t| const_i8(g, t).map(|d| (t, d))) {
                Some((t, d)) => st.bytes(t, d, &filter_name(1)),
                None => "&[]".into(),
            }
        };
        let bias = |st: &mut Statics| -> String {
            match node.input(2).and_then(|t| crate::lower::const_i32(g, Some(t)).map(|v| (t, v))) {
                Some((t, v)) => format!("Some({})", st.i32s(t, v, &filter_name(2))),
                None => "None".into(),
            }
        };
        let mut mults = |m: &[QuantizedMultiplier]| -> String {
            let id = format!("M{i}");
            let _ = write!(multipliers, "static {id}: [Qm; {}] = [\n{}];\n", m.len(), list(m, 6, "    ", qm));
            format!("&{id}")
        };
        let kernel = match l.kernel(i)? {
            Kernel::Conv { geom, input_offset, output_offset, act, multipliers, .. } => format!(
                "Kernel::Conv {{ geom: {}, input_offset: {input_offset}, output_offset: {output_offset}, act: {act:?}, multipliers: {}, filter: {}, bias: {} }}",
                geometry(&geom),
                mults(multipliers),
                filter(&mut st),
                bias(&mut st)
            ),
            Kernel::Depthwise { geom, multiplier, input_offset, output_offset, act, multipliers, .. } => format!(
                "Kernel::Depthwise {{ geom: {}, multiplier: {multiplier}, input_offset: {input_offset}, output_offset: {output_offset}, act: {act:?}, multipliers: {}, filter: {}, bias: {} }}",
                geometry(&geom),
                mults(multipliers),
                filter(&mut st),
                bias(&mut st)
            ),
            Kernel::FullyConnected { input_offset, filter_offset, output_offset, act, scales, depth, units, .. } => {
                let id = format!("S{i}");
                let lits = scales.iter().map(|&x| f64_lit(x)).collect::<Result<Vec<_>, _>>()?;
                let _ = write!(multipliers, "static {id}: [f64; {}] = [\n{}];\n", lits.len(), list(&lits, 4, "    ", |s| s.clone()));
                format!(
                    "Kernel::FullyConnected {{ input_offset: {input_offset}, filter_offset: {filter_offset}, output_offset: {output_offset}, act: {act:?}, scales: &{id}, depth: {depth}, units: {units}, filter: {}, bias: {} }}",
                    filter(&mut st),
                    bias(&mut st)
                )
            }
            Kernel::Add(p) => format!(
                "Kernel::Add(AddParams {{ left_shift: {}, input1_offset: {}, input2_offset: {}, input1: {}, input2: {}, output: {}, output_offset: {}, act_min: {}, act_max: {} }})",
                p.left_shift,
                p.input1_offset,
                p.input2_offset,
                qm(&p.input1),
                qm(&p.input2),
                qm(&p.output),
                p.output_offset,
                p.act_min,
                p.act_max
            ),
            Kernel::Pad { value, paddings } => format!("Kernel::Pad {{ value: {value}, paddings: {paddings:?} }}"),
            Kernel::Pool { kind, geom, act } => format!(
                "Kernel::Pool {{ kind: PoolKind::{}, geom: {}, act: {act:?} }}",
                match kind {
                    PoolKind::Max => "Max",
                    PoolKind::Average => "Average",
                },
                geometry(&geom)
            ),
            Kernel::Mean { params: p, axes } => format!(
                "Kernel::Mean {{ params: MeanParams {{ input_zero_point: {}, output_zero_point: {}, multiplier: {}, shift: {}, count: {} }}, axes: {axes:#06b} }}",
                p.input_zero_point, p.output_zero_point, p.multiplier, p.shift, p.count
            ),
            Kernel::Copy => "Kernel::Copy".into(),
            Kernel::ConcatChannels => "Kernel::ConcatChannels".into(),
            Kernel::Concat { outer } => format!("Kernel::Concat {{ outer: {outer} }}"),
            Kernel::Softmax { params: p, depth } => format!(
                "Kernel::Softmax {{ params: SoftmaxParams {{ input_multiplier: {}, input_left_shift: {}, diff_min: {} }}, depth: {depth} }}",
                p.input_multiplier, p.input_left_shift, p.diff_min
            ),
            Kernel::QuantizeF32 { scale, zero_point } => {
                format!("Kernel::QuantizeF32 {{ scale: {}, zero_point: {zero_point} }}", f32_lit(scale)?)
            }
            Kernel::Requantize(r) => format!(
                "Kernel::Requantize(Requantize {{ input_zero_point: {}, output_zero_point: {}, multiplier: {} }})",
                r.input_zero_point,
                r.output_zero_point,
                qm(&r.multiplier)
            ),
            Kernel::Dequantize { scale, zero_point } => {
                format!("Kernel::Dequantize {{ scale: {}, zero_point: {zero_point} }}", f32_lit(scale)?)
            }
            Kernel::Relu(p) => format!(
                "Kernel::Relu(ReluParams {{ input_zero_point: {}, output_zero_point: {}, multiplier: {}, act_min: {}, act_max: {} }})",
                p.input_zero_point,
                p.output_zero_point,
                qm(&p.multiplier),
                p.act_min,
                p.act_max
            ),
            Kernel::Logistic(lut) => {
                format!("Kernel::Logistic(Lut([\n{}        ]))", list(&lut.0, 16, "            ", |v| v.to_string()))
            }
            Kernel::HardSwish(p) => format!(
                "Kernel::HardSwish(HardSwishParams {{ input_zero_point: {}, output_zero_point: {}, output_multiplier: {}, output_exponent: {}, reluish_multiplier: {}, reluish_exponent: {} }})",
                p.input_zero_point,
                p.output_zero_point,
                p.output_multiplier,
                p.output_exponent,
                p.reluish_multiplier,
                p.reluish_exponent
            ),
            Kernel::Resize(p) => format!(
                "Kernel::Resize(ResizeParams {{ align_corners: {}, half_pixel_centers: {}, in_shape: {:?}, out_shape: {:?}, scale_h: {}, scale_w: {} }})",
                p.align_corners, p.half_pixel_centers, p.in_shape, p.out_shape, p.scale_h, p.scale_w
            ),
        };
        let mut inputs = Vec::new();
        for &t in l.operand_tensors(i) {
            inputs.push(match l.operand(t) {
                Operand::Tensor(k) => format!("Operand::Tensor({k})"),
                Operand::Const { data, shape } => {
                    format!("Operand::Const {{ data: {}, shape: {shape:?} }}", st.bytes(t, data, &g.tensors[t].name))
                }
            });
        }
        let inplace = match l.inplace(i) {
            None => "None".to_string(),
            Some(ip) => format!(
                "Some(InPlace {{ kind: {}, operand: {}, scratch: {:?} }})",
                match ip.kind {
                    InPlaceKind::Channels => "InPlaceKind::Channels".to_string(),
                    InPlaceKind::Rows { delay } => format!("InPlaceKind::Rows {{ delay: {delay} }}"),
                },
                ip.operand,
                ip.scratch
            ),
        };
        let _ = writeln!(
            nodes,
            "    Node {{\n        kernel: {kernel},\n        inputs: &[{}],\n        output: {},\n        inplace: {inplace},\n    }},",
            inputs.join(", "),
            l.idx(out_t)
        );
    }

    let mut s = String::new();
    let arena = l.arena_size();
    let sizes = l.input_sizes();
    let _ = writeln!(s, "//! {model_name} on {board}: the model as static tables for");
    let _ = writeln!(s, "//! `patchwise_core::static_exec`. Generated by patchwise-firmware-export; do not edit.");
    let _ = writeln!(s, "//!");
    let _ = writeln!(s, "//! Schedule: {}.", schedule_text(l));
    let _ = writeln!(s, "//! Arena: {arena} B, as planned by `patchwise_core::plan::layout`.");
    let _ = writeln!(s, "#![allow(unused_imports, clippy::all)]\n");
    s.push_str(
        "use patchwise_core::fixedpoint::QuantizedMultiplier as Qm;
use patchwise_core::kernels::activation::{HardSwishParams, Lut, ReluParams};
use patchwise_core::kernels::add::AddParams;
use patchwise_core::kernels::conv::Geometry;
use patchwise_core::kernels::mean::MeanParams;
use patchwise_core::kernels::pool::PoolKind;
use patchwise_core::kernels::quantize::Requantize;
use patchwise_core::kernels::resize::ResizeParams;
use patchwise_core::kernels::softmax::SoftmaxParams;
use patchwise_core::region::Rect;
use patchwise_core::static_exec::{InPlace, InPlaceKind, Kernel, Model, Node, Operand, PatchPlan, Tensor};

",
    );
    let _ = writeln!(s, "pub const NAME: &str = {model_name:?};");
    let _ = writeln!(s, "pub const BOARD: &str = {board:?};");
    let _ = writeln!(s, "pub const SCHEDULE: &str = {:?};", schedule_text(l));
    let _ = writeln!(
        s,
        "/// Last operator of the patch stage (`None`: layer by layer) and the patch grid (rows, columns)."
    );
    let _ = writeln!(s, "pub const SPLIT: Option<usize> = {:?};", l.patch.as_ref().map(|p| p.split));
    let _ = writeln!(s, "pub const GRID: (usize, usize) = {:?};", l.patch.as_ref().map_or((1, 1), |p| p.grid));
    let _ = writeln!(s, "/// Bytes of the activation arena (`static mut ARENA` in main.rs).");
    let _ = writeln!(s, "pub const ARENA_SIZE: usize = {arena};");
    let _ = writeln!(s, "/// Bytes of each graph input in [`INPUT`], in order.");
    let _ = writeln!(s, "pub const INPUT_SIZES: [usize; {}] = {sizes:?};", sizes.len());
    let _ = writeln!(s, "/// The bundled input: every graph input's bytes, concatenated.");
    let _ = writeln!(s, "pub static INPUT: [u8; {}] = *include_bytes!(\"../data/input.bin\");\n", input.len());
    let patch = match l.patch_plan() {
        None => "None".to_string(),
        Some(p) => format!(
            "Some(PatchPlan {{ split: {}, patches: {}, input: {}, output: {}, streamed: {}, columns: {}, rects: &RECTS }})",
            p.split, p.patches, p.input, p.output, p.streamed, p.columns
        ),
    };
    let _ = writeln!(
        s,
        "pub static MODEL: Model<'static> = Model {{\n    tensors: &TENSORS,\n    nodes: &NODES,\n    inputs: &{:?},\n    outputs: &{:?},\n    arena_size: ARENA_SIZE,\n    patch: {patch},\n}};\n",
        l.inputs(),
        l.outputs()
    );
    s.push_str("const fn qm(multiplier: i32, shift: i32) -> Qm {\n    Qm { multiplier, shift }\n}\n\n");
    let _ = writeln!(
        s,
        "/// Activation tensors: NHWC shape, bytes per element, bytes, arena offset and buffer bytes, patch column."
    );
    let _ = writeln!(s, "static TENSORS: [Tensor; {}] = [", l.tensors.len());
    for (k, t) in l.tensors.iter().enumerate() {
        let id = l.tensor_ids[k];
        let _ = writeln!(
            s,
            "    Tensor {{ shape: {:?}, elem: {}, bytes: {}, offset: {}, buffer: {}, stage: {:?} }}, // {k}: t{id} `{}`",
            t.shape,
            t.elem,
            t.bytes,
            t.offset,
            t.buffer,
            t.stage,
            g.tensors[id].name.replace('`', "'")
        );
    }
    s.push_str("];\n\n");
    let _ = writeln!(s, "static NODES: [Node<'static>; {}] = [", g.nodes.len());
    s.push_str(&nodes);
    s.push_str("];\n");
    if let Some(p) = &l.patch {
        let cols = l.columns.len();
        s.push_str("\nconst fn r(y: usize, x: usize, h: usize, w: usize) -> Option<Rect> {\n    Some(Rect::new(y, x, h, w))\n}\n\n");
        let _ = writeln!(
            s,
            "/// Per patch, the rectangle of each stage tensor (columns: {}).",
            l.columns.iter().map(|t| format!("t{t}")).collect::<Vec<_>>().join(", ")
        );
        let _ = writeln!(s, "static RECTS: [Option<Rect>; {}] = [", p.patches() * cols);
        for k in 0..p.patches() {
            let row: Vec<String> = l.rects[k * cols..(k + 1) * cols]
                .iter()
                .map(|r| match r {
                    Some(r) => format!("r({}, {}, {}, {})", r.y, r.x, r.h, r.w),
                    None => "None".into(),
                })
                .collect();
            let _ = writeln!(s, "    // patch {k}\n    {},", row.join(", "));
        }
        s.push_str("];\n");
    }
    if !multipliers.is_empty() {
        s.push('\n');
        s.push_str(&multipliers);
    }
    if !st.out.is_empty() {
        s.push('\n');
        s.push_str(&st.out);
    }
    let mut data = st.data;
    data.insert("data/input.bin".into(), input.to_vec());
    Ok(Emitted { source: s, data })
}
