//! `.tflite` bytes → [`Graph`]. The bytes are untrusted: every index, size and
//! enum is checked, allocations are bounded by the file's own size, and each
//! rejection is an [`Error`] naming the tensor or operator at fault.

use alloc::string::String;
use alloc::vec::Vec;

use planus::ReadAsRoot;

use crate::error::{Error, Result};
use crate::graph::{ConstData, DType, Graph, Node, Quant, Tensor, TensorId};
use crate::op::{self, Activation, Axis, Op, Padding};
use crate::schema as fb;

/// Largest tensor the loader accepts (elements × element size), 256 MiB:
/// far above any microcontroller model, far below what would exhaust a host.
pub const MAX_TENSOR_BYTES: usize = 1 << 28;
/// Largest tensor rank the loader accepts.
pub const MAX_RANK: usize = 6;
/// Most tensors a subgraph may declare. Microcontroller models have a few
/// hundred; the bound keeps every later pass (validation, planning, search)
/// within its time and memory bounds on hostile files (the README's "Limits").
pub const MAX_TENSORS: usize = 16_384;
/// Most operators a subgraph may declare (same reason; MobileNetV2 has 65,
/// the detectors shipped here under 200).
pub const MAX_OPERATORS: usize = 4_096;
/// Most activation tensors live at one step ([`Graph::most_live_activations`]):
/// the arena planner's time and memory grow with the pairs of buffers live
/// together, and a patch stage can keep as many again live across it.
/// The shipped models reach 8; a model over the limit would need hundreds of
/// buffers in one microcontroller arena at once.
pub const MAX_LIVE_TENSORS: usize = 256;

/// Heap that loading and planning a file may take, per byte of the file, on
/// top of [`HEAP_SLACK`]: the bound the fuzz targets assert on every input.
pub const HEAP_PER_FILE_BYTE: usize = 64;
/// The constant part of the heap bound: the search's per-patch rectangles of
/// one candidate, at most [`MAX_TENSORS`] × 64 patches × 40 bytes, whatever the
/// file's size (flatbuffer entries may share one table).
pub const HEAP_SLACK: usize = 64 << 20;

fn limit(what: &'static str, value: usize, limit: usize) -> Result<()> {
    if value > limit {
        return Err(Error::Limit { what, value: value as u64, limit: limit as u64 });
    }
    Ok(())
}

fn fb_err(_: planus::Error) -> Error {
    Error::Flatbuffer("a table, vector or offset is out of bounds or malformed")
}

/// Parses and validates a `.tflite` model (subgraph 0).
pub fn load(bytes: &[u8]) -> Result<Graph> {
    read(bytes, None)
}

/// How the loader sees one operator of a file (see [`outline`]).
#[derive(Clone, Debug, PartialEq)]
pub struct OpOutline {
    /// Index in the file's operator list.
    pub index: usize,
    pub name: &'static str,
    /// TFLite builtin code.
    pub code: i32,
    pub status: OpStatus,
    /// Shapes of the operator's tensors (`None`: an omitted optional operand).
    pub inputs: Vec<Option<Vec<usize>>>,
    pub outputs: Vec<Vec<usize>>,
    /// The activation tensors it reads (not constants): `(index in the
    /// file's tensor list, elements)`. With `writes`, the data flow of a
    /// model that does not load, so a page can draw it.
    pub reads: Vec<(usize, usize)>,
    /// Its output tensors, by index.
    pub writes: Vec<usize>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum OpStatus {
    Supported,
    /// patchwise has no kernel for this operator.
    Unsupported,
    /// A supported operator used in a way the loader refuses (the error says how).
    Invalid(Error),
}

/// Every operator of a model with whether patchwise runs it — what `inspect`
/// and the page show for a model that does not load (unsupported operators
/// marked). Fails only where the file itself is unreadable.
pub fn outline(bytes: &[u8]) -> Result<Vec<OpOutline>> {
    let mut ops = Vec::new();
    match read(bytes, Some(&mut ops)) {
        Ok(_) | Err(Error::UnsupportedOps(_)) => Ok(ops),
        // A graph-level check failed after every operator was read.
        Err(_) if !ops.is_empty() => Ok(ops),
        Err(e) => Err(e),
    }
}

fn read(bytes: &[u8], mut outline: Option<&mut Vec<OpOutline>>) -> Result<Graph> {
    if bytes.len() < 8 {
        return Err(Error::Flatbuffer("file is shorter than a flatbuffer header"));
    }
    if &bytes[4..8] != b"TFL3" {
        return Err(Error::Flatbuffer("missing the TFL3 file identifier"));
    }
    let model = fb::ModelRef::read_as_root(bytes).map_err(fb_err)?;
    let version = model.version().map_err(fb_err)?;
    if version != 3 {
        return Err(Error::model("unsupported schema version (expected 3)"));
    }
    let subgraphs = model.subgraphs().map_err(fb_err)?.ok_or(Error::model("model has no subgraphs"))?;
    let sg = subgraphs.get(0).ok_or(Error::model("model has no subgraphs"))?.map_err(fb_err)?;
    let buffers = model.buffers().map_err(fb_err)?;
    let codes = model.operator_codes().map_err(fb_err)?.ok_or(Error::model("model has no operator codes"))?;

    let fb_tensors = sg.tensors().map_err(fb_err)?.ok_or(Error::model("subgraph has no tensors"))?;
    limit("tensors in the subgraph", fb_tensors.len(), MAX_TENSORS)?;
    let mut tensors = Vec::with_capacity(fb_tensors.len());
    for (i, t) in fb_tensors.iter().enumerate() {
        let t = t.map_err(fb_err)?;
        tensors.push(load_tensor(bytes, &buffers, i, &t)?);
    }
    let n = tensors.len();
    let index = |v: i32, what: &'static str| -> Result<TensorId> {
        usize::try_from(v).ok().filter(|&i| i < n).ok_or(Error::model(what))
    };
    let io = |v: Option<planus::Vector<'_, i32>>, what| -> Result<Vec<TensorId>> {
        v.map(|v| v.iter().map(|i| index(i, what)).collect()).unwrap_or(Ok(Vec::new()))
    };
    let inputs = io(sg.inputs().map_err(fb_err)?, "subgraph input index out of range")?;
    let outputs = io(sg.outputs().map_err(fb_err)?, "subgraph output index out of range")?;
    if inputs.is_empty() || outputs.is_empty() {
        return Err(Error::model("subgraph declares no inputs or no outputs"));
    }

    let fb_ops = sg.operators().map_err(fb_err)?.ok_or(Error::model("subgraph has no operators"))?;
    limit("operators in the subgraph", fb_ops.len(), MAX_OPERATORS)?;
    let mut nodes = Vec::with_capacity(fb_ops.len());
    let mut unsupported = crate::error::UnsupportedOps::default();
    for (oi, o) in fb_ops.iter().enumerate() {
        let o = o.map_err(fb_err)?;
        let code_index = o.opcode_index().map_err(fb_err)? as usize;
        let code =
            codes.get(code_index).ok_or(Error::at_op("operator code index out of range", oi))?.map_err(fb_err)?;
        let deprecated = code.deprecated_builtin_code().map_err(fb_err)? as i32;
        // A code newer than our schema reads as an error: report it as unknown.
        let builtin = code.builtin_code().map(|c| c as i32).unwrap_or(i32::MAX);
        let code = builtin.max(deprecated);
        let mut ins = Vec::new();
        for i in o.inputs().map_err(fb_err)?.iter().flat_map(|v| v.iter()) {
            ins.push(if i < 0 {
                None
            } else {
                Some(
                    index(i, "operator input index out of range")
                        .map_err(|_| Error::at_op("operator input index out of range", oi))?,
                )
            });
        }
        let mut outs = Vec::new();
        for i in o.outputs().map_err(fb_err)?.iter().flat_map(|v| v.iter()) {
            outs.push(
                index(i, "operator output index out of range")
                    .map_err(|_| Error::at_op("operator output index out of range", oi))?,
            );
        }
        if outs.is_empty() {
            return Err(Error::at_op("operator has no outputs", oi));
        }
        let opts = o.builtin_options().map_err(fb_err)?;
        let decoded = decode_op(oi, code, opts, &ins, &outs, &tensors);
        if let Some(list) = outline.as_deref_mut() {
            let status = match &decoded {
                Ok(Some(_)) => OpStatus::Supported,
                Ok(None) => OpStatus::Unsupported,
                Err(e) => OpStatus::Invalid(e.clone()),
            };
            list.push(OpOutline {
                index: oi,
                name: builtin_name(code),
                code,
                status,
                inputs: ins.iter().map(|t| t.map(|t| tensors[t].shape.clone())).collect(),
                outputs: outs.iter().map(|&t| tensors[t].shape.clone()).collect(),
                reads: ins
                    .iter()
                    .flatten()
                    .filter(|&&t| !tensors[t].is_const())
                    .map(|&t| (t, tensors[t].shape.iter().fold(1usize, |n, &d| n.saturating_mul(d))))
                    .collect(),
                writes: outs.clone(),
            });
            if decoded.is_err() {
                continue;
            }
        }
        match decoded? {
            Some(Decoded::One(op)) => {
                // TRANSPOSE_CONV lists (output_shape, weights, input, bias): put
                // its data first, as every other operator has it.
                let inputs = match op {
                    Op::TransposeConv(_) => {
                        let at = |k: usize| ins.get(k).copied().flatten();
                        alloc::vec![at(2), at(1), at(3), at(0)]
                    }
                    _ => ins,
                };
                nodes.push(Node { op, inputs, outputs: outs })
            }
            Some(Decoded::Parts((value, parts))) => {
                for (op, &out) in parts.into_iter().zip(&outs) {
                    nodes.push(Node {
                        op: Op::NdCopy(op),
                        inputs: alloc::vec![Some(value)],
                        outputs: alloc::vec![out],
                    });
                }
            }
            // Keep reading: the user is told every operator the model needs at once.
            None => unsupported.add(builtin_name(code), code, oi),
        }
    }
    limit("operators once SPLIT/UNPACK are expanded into copies", nodes.len(), MAX_OPERATORS)?;
    if !unsupported.is_empty() {
        unsupported.total = fb_ops.len();
        return Err(Error::UnsupportedOps(unsupported));
    }
    let graph = Graph { tensors, nodes, inputs, outputs };
    crate::validate::validate(&graph)?;
    limit("activation tensors live at the same time", graph.most_live_activations(), MAX_LIVE_TENSORS)?;
    Ok(graph)
}

/// The schema's name of builtin operator `code`.
fn builtin_name(code: i32) -> &'static str {
    usize::try_from(code).ok().and_then(|c| fb::BUILTIN_OPERATOR_NAMES.get(c)).copied().unwrap_or("an unknown operator")
}

fn dtype(t: fb::TensorType, i: usize) -> Result<DType> {
    Ok(match t {
        fb::TensorType::Float32 => DType::F32,
        fb::TensorType::Int8 => DType::I8,
        fb::TensorType::Int32 => DType::I32,
        fb::TensorType::Int64 => DType::I64,
        fb::TensorType::Uint8 => DType::U8,
        fb::TensorType::Int16 => DType::I16,
        fb::TensorType::Float16 => return Err(Error::at_tensor(
            "float16 tensors are not supported: patchwise runs int8 models (convert with full-integer quantization)",
            i,
        )),
        _ => return Err(Error::at_tensor("tensor type not supported (float32, int8, int16, int32, int64, uint8)", i)),
    })
}

fn load_tensor(
    bytes: &[u8],
    buffers: &Option<planus::Vector<'_, planus::Result<fb::BufferRef<'_>>>>,
    i: usize,
    t: &fb::TensorRef<'_>,
) -> Result<Tensor> {
    let dtype = dtype(t.type_().map_err(|_| Error::at_tensor("unknown tensor type", i))?, i)?;
    if t.sparsity().map_err(fb_err)?.is_some() {
        return Err(Error::at_tensor("sparse tensors are not supported", i));
    }
    let mut shape = Vec::new();
    if let Some(s) = t.shape().map_err(fb_err)? {
        if s.len() > MAX_RANK {
            return Err(Error::shape("rank above 6", None, Some(i)));
        }
        for d in s.iter() {
            if d <= 0 {
                return Err(Error::shape("dimension is zero, negative or dynamic", None, Some(i)));
            }
            shape.push(d as usize);
        }
    }
    let elements = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d)).ok_or(Error::shape(
        "element count overflows",
        None,
        Some(i),
    ))?;
    if elements.checked_mul(dtype.size()).is_none_or(|b| b > MAX_TENSOR_BYTES) {
        return Err(Error::shape("tensor larger than 256 MiB", None, Some(i)));
    }
    let name = String::from(t.name().map_err(fb_err)?.unwrap_or(""));
    let quant = match t.quantization().map_err(fb_err)? {
        None => Quant::None,
        Some(q) => load_quant(q, &shape, i)?,
    };
    let b = t.buffer().map_err(fb_err)? as usize;
    let mut data = None;
    if b != 0 {
        let buf = buffers
            .as_ref()
            .and_then(|v| v.get(b))
            .ok_or(Error::at_tensor("buffer index out of range", i))?
            .map_err(fb_err)?;
        let raw: &[u8] = match buf.data().map_err(fb_err)? {
            Some(d) if !d.is_empty() => d,
            _ => {
                let (off, size) = (buf.offset().map_err(fb_err)?, buf.size().map_err(fb_err)?);
                if off > 1 {
                    let start = usize::try_from(off).map_err(|_| Error::at_tensor("buffer offset out of range", i))?;
                    let len = usize::try_from(size).map_err(|_| Error::at_tensor("buffer size out of range", i))?;
                    bytes
                        .get(start..start.checked_add(len).ok_or(Error::at_tensor("buffer offset out of range", i))?)
                        .ok_or(Error::at_tensor("buffer lies outside the file", i))?
                } else {
                    &[]
                }
            }
        };
        if !raw.is_empty() {
            if raw.len() != elements * dtype.size() {
                return Err(Error::at_tensor("constant buffer size does not match the tensor shape", i));
            }
            data = Some(decode(dtype, raw));
        }
    }
    Ok(Tensor { name, dtype, shape, quant, data })
}

fn decode(dtype: DType, raw: &[u8]) -> ConstData {
    fn le<const N: usize, T>(raw: &[u8], f: fn([u8; N]) -> T) -> Vec<T> {
        raw.chunks_exact(N).map(|c| f(c.try_into().unwrap_or([0; N]))).collect()
    }
    match dtype {
        DType::I8 => ConstData::I8(raw.iter().map(|&b| b as i8).collect()),
        DType::U8 => ConstData::U8(raw.to_vec()),
        DType::I16 => ConstData::I16(le(raw, i16::from_le_bytes)),
        DType::I32 => ConstData::I32(le(raw, i32::from_le_bytes)),
        DType::I64 => ConstData::I64(le(raw, i64::from_le_bytes)),
        DType::F32 => ConstData::F32(le(raw, f32::from_le_bytes)),
    }
}

fn load_quant(q: fb::QuantizationParametersRef<'_>, shape: &[usize], i: usize) -> Result<Quant> {
    if q.details().map_err(fb_err)?.is_some() {
        return Err(Error::Quantization { tensor: i, what: "custom quantization is not supported" });
    }
    let scales: Vec<f32> = q.scale().map_err(fb_err)?.map(|v| v.iter().collect()).unwrap_or_default();
    let zps: Vec<i64> = q.zero_point().map_err(fb_err)?.map(|v| v.iter().collect()).unwrap_or_default();
    if scales.is_empty() {
        return Ok(Quant::None);
    }
    if !scales.iter().all(|s| s.is_finite() && *s > 0.0) {
        return Err(Error::Quantization { tensor: i, what: "scale is not a positive finite number" });
    }
    if !(zps.is_empty() || zps.len() == scales.len()) {
        return Err(Error::Quantization { tensor: i, what: "zero-point count differs from scale count" });
    }
    let zps: Vec<i32> = zps
        .iter()
        .map(|&z| i32::try_from(z).ok().filter(|z| (-32768..=65535).contains(z)))
        .collect::<Option<_>>()
        .ok_or(Error::Quantization { tensor: i, what: "zero point out of range" })?;
    if scales.len() == 1 {
        return Ok(Quant::PerTensor { scale: scales[0], zero_point: zps.first().copied().unwrap_or(0) });
    }
    let axis = q.quantized_dimension().map_err(fb_err)?;
    let axis = usize::try_from(axis)
        .ok()
        .filter(|&a| a < shape.len())
        .ok_or(Error::Quantization { tensor: i, what: "quantized dimension out of range" })?;
    if shape[axis] != scales.len() {
        return Err(Error::Quantization {
            tensor: i,
            what: "per-channel scale count differs from the quantized dimension",
        });
    }
    let zero_points = if zps.is_empty() { alloc::vec![0; scales.len()] } else { zps };
    Ok(Quant::PerChannel { scales, zero_points, axis })
}

fn activation(a: planus::Result<fb::ActivationFunctionType>, oi: usize) -> Result<Activation> {
    Ok(match a.map_err(fb_err)? {
        fb::ActivationFunctionType::None => Activation::None,
        fb::ActivationFunctionType::Relu => Activation::Relu,
        fb::ActivationFunctionType::ReluN1To1 => Activation::ReluN1To1,
        fb::ActivationFunctionType::Relu6 => Activation::Relu6,
        _ => return Err(Error::at_op("fused activation not supported (TANH, SIGN_BIT)", oi)),
    })
}

fn padding(p: planus::Result<fb::Padding>) -> Result<Padding> {
    Ok(match p.map_err(fb_err)? {
        fb::Padding::Same => Padding::Same,
        fb::Padding::Valid => Padding::Valid,
    })
}

fn positive(v: i32, what: &'static str, oi: usize) -> Result<usize> {
    if (1..=4096).contains(&v) {
        Ok(v as usize)
    } else {
        Err(Error::at_op(what, oi))
    }
}

fn const_ints(tensors: &[Tensor], id: Option<TensorId>, oi: usize, what: &'static str) -> Result<Vec<i64>> {
    id.and_then(|t| tensors[t].data.as_ref()).and_then(ConstData::as_ints).ok_or(Error::at_op(what, oi))
}

macro_rules! opts {
    ($opts:expr, $variant:ident, $oi:expr) => {
        match $opts {
            Some(fb::BuiltinOptionsRef::$variant(o)) => Some(o),
            None => None,
            Some(_) => return Err(Error::at_op("builtin options of the wrong type for the operator", $oi)),
        }
    };
}

mod copies;

/// An operator as graph nodes: most are one node; SPLIT, SPLIT_V and UNPACK
/// become one node per output, each reading the same value.
enum Decoded {
    One(Op),
    Parts(copies::Parts),
}

fn decode_op(
    oi: usize,
    code: i32,
    opts: Option<fb::BuiltinOptionsRef<'_>>,
    ins: &[Option<TensorId>],
    outs: &[TensorId],
    tensors: &[Tensor],
) -> Result<Option<Decoded>> {
    if let 49 | 102 | 88 = code {
        return copies::split(oi, code, opts, ins, outs, tensors).map(|p| Some(Decoded::Parts(p)));
    }
    let kernel_hw = |t: Option<TensorId>, h: usize, w: usize| -> Result<(usize, usize)> {
        let s = &t.map(|t| &tensors[t].shape).ok_or(Error::at_op("missing filter operand", oi))?;
        if s.len() != 4 {
            return Err(Error::shape("filter must be 4-D", Some(oi), t));
        }
        Ok((s[h], s[w]))
    };
    // CONV_2D and DEPTHWISE_CONV_2D options share their stride and dilation fields.
    macro_rules! window_axes {
        ($o:expr, $k:expr) => {{
            let (kh, kw) = $k;
            let stride = |v: core::result::Result<i32, _>| positive(v.map_err(fb_err)?, "stride must be 1..4096", oi);
            let dilation =
                |v: core::result::Result<i32, _>| positive(v.map_err(fb_err)?, "dilation must be 1..4096", oi);
            (
                Axis { kernel: kh, stride: stride($o.stride_h())?, dilation: dilation($o.dilation_h_factor())? },
                Axis { kernel: kw, stride: stride($o.stride_w())?, dilation: dilation($o.dilation_w_factor())? },
            )
        }};
    }
    // `None`: an operator the engine does not implement.
    Ok(Some(Decoded::One(match code {
        3 => {
            let o = opts!(opts, Conv2DOptions, oi).ok_or(Error::at_op("CONV_2D without options", oi))?;
            let (h, w) = window_axes!(o, kernel_hw(ins.get(1).copied().flatten(), 1, 2)?);
            Op::Conv2d(op::Conv2d {
                padding: padding(o.padding())?,
                h,
                w,
                activation: activation(o.fused_activation_function(), oi)?,
            })
        }
        4 => {
            let o =
                opts!(opts, DepthwiseConv2DOptions, oi).ok_or(Error::at_op("DEPTHWISE_CONV_2D without options", oi))?;
            let (h, w) = window_axes!(o, kernel_hw(ins.get(1).copied().flatten(), 1, 2)?);
            let in_c = ins.first().copied().flatten().and_then(|t| tensors[t].shape.last().copied()).unwrap_or(0);
            let out_c = tensors[outs[0]].shape.last().copied().unwrap_or(0);
            if in_c == 0 || out_c % in_c != 0 {
                return Err(Error::at_op("depthwise output channels are not a multiple of input channels", oi));
            }
            Op::DepthwiseConv2d(op::DepthwiseConv2d {
                padding: padding(o.padding())?,
                h,
                w,
                depth_multiplier: out_c / in_c,
                activation: activation(o.fused_activation_function(), oi)?,
            })
        }
        9 => {
            let o = opts!(opts, FullyConnectedOptions, oi);
            let (act, keep) = match o {
                Some(o) => {
                    if o.weights_format().map_err(fb_err)? != fb::FullyConnectedOptionsWeightsFormat::Default {
                        return Err(Error::at_op("shuffled FULLY_CONNECTED weights are not supported", oi));
                    }
                    (activation(o.fused_activation_function(), oi)?, o.keep_num_dims().map_err(fb_err)?)
                }
                None => (Activation::None, false),
            };
            Op::FullyConnected(op::FullyConnected { activation: act, keep_num_dims: keep })
        }
        0 => {
            let act = match opts!(opts, AddOptions, oi) {
                Some(o) => activation(o.fused_activation_function(), oi)?,
                None => Activation::None,
            };
            Op::Add(act)
        }
        18 => Op::Binary(op::Binary::Mul(match opts!(opts, MulOptions, oi) {
            Some(o) => activation(o.fused_activation_function(), oi)?,
            None => Activation::None,
        })),
        41 => Op::Binary(op::Binary::Sub(match opts!(opts, SubOptions, oi) {
            Some(o) => activation(o.fused_activation_function(), oi)?,
            None => Activation::None,
        })),
        99 => Op::Binary(op::Binary::SquaredDifference),
        55 => Op::Binary(op::Binary::Maximum),
        57 => Op::Binary(op::Binary::Minimum),
        54 => Op::Binary(op::Binary::Prelu),
        5 | 26 => {
            let to_space = code == 5;
            let block = match (to_space, opts) {
                (true, Some(fb::BuiltinOptionsRef::DepthToSpaceOptions(o))) => o.block_size().map_err(fb_err)?,
                (false, Some(fb::BuiltinOptionsRef::SpaceToDepthOptions(o))) => o.block_size().map_err(fb_err)?,
                _ => return Err(Error::at_op("DEPTH_TO_SPACE / SPACE_TO_DEPTH without their block size", oi)),
            };
            Op::SpaceDepth(op::SpaceDepth { to_space, block: positive(block, "block size must be 1..4096", oi)? })
        }
        69 | 65 => Op::NdCopy(copies::tile_or_slice(oi, code == 69, ins, outs, tensors)?),
        45 => Op::NdCopy(copies::strided_slice(oi, opts, ins, outs, tensors)?),
        39 => {
            let p = const_ints(tensors, ins.get(1).copied().flatten(), oi, "TRANSPOSE needs a constant permutation")?;
            let rank = p.len();
            let mut perm = [0u8; crate::ops::transpose::MAX_RANK];
            let mut seen = [false; crate::ops::transpose::MAX_RANK];
            if rank == 0 || rank > perm.len() {
                return Err(Error::at_op("TRANSPOSE permutes 1 to 6 dimensions", oi));
            }
            for (d, &v) in p.iter().enumerate() {
                let v = usize::try_from(v).ok().filter(|&v| v < rank && !seen[v]);
                let v = v.ok_or(Error::at_op("TRANSPOSE permutation is not a permutation of its dimensions", oi))?;
                (perm[d], seen[v]) = (v as u8, true);
            }
            Op::Transpose(op::Transpose { perm, rank: rank as u8 })
        }
        34 => {
            let p = const_ints(tensors, ins.get(1).copied().flatten(), oi, "PAD needs constant paddings")?;
            let rank = ins.first().copied().flatten().map(|t| tensors[t].shape.len()).unwrap_or(0);
            if rank != 4 || p.len() != 8 || p.iter().any(|&v| !(0..=4096).contains(&v)) {
                return Err(Error::at_op("PAD supports 4-D tensors with paddings in 0..4096", oi));
            }
            Op::Pad(op::Pad { paddings: core::array::from_fn(|d| [p[2 * d] as usize, p[2 * d + 1] as usize]) })
        }
        1 | 17 => {
            let o = opts!(opts, Pool2DOptions, oi).ok_or(Error::at_op("pool without options", oi))?;
            let p = op::Pool2d {
                padding: padding(o.padding())?,
                h: Axis {
                    kernel: positive(o.filter_height().map_err(fb_err)?, "filter size must be 1..4096", oi)?,
                    stride: positive(o.stride_h().map_err(fb_err)?, "stride must be 1..4096", oi)?,
                    dilation: 1,
                },
                w: Axis {
                    kernel: positive(o.filter_width().map_err(fb_err)?, "filter size must be 1..4096", oi)?,
                    stride: positive(o.stride_w().map_err(fb_err)?, "stride must be 1..4096", oi)?,
                    dilation: 1,
                },
                activation: activation(o.fused_activation_function(), oi)?,
            };
            if code == 1 {
                Op::AveragePool2d(p)
            } else {
                Op::MaxPool2d(p)
            }
        }
        40 | 74 | 82 | 89 => {
            let keep_dims = match opts!(opts, ReducerOptions, oi) {
                Some(o) => o.keep_dims().map_err(fb_err)?,
                None => false,
            };
            let rank = ins.first().copied().flatten().map(|t| tensors[t].shape.len()).unwrap_or(0) as i64;
            let mut axes = 0u8;
            for a in const_ints(tensors, ins.get(1).copied().flatten(), oi, "a reduction needs constant axes")? {
                let a = if a < 0 { a + rank } else { a };
                if !(0..rank).contains(&a) {
                    return Err(Error::at_op("reduction axis out of range", oi));
                }
                axes |= 1 << a;
            }
            match code {
                40 | 74 => Op::Mean(op::Mean { axes, keep_dims, sum: code == 74 }),
                c => Op::Reduce(op::Reduce { max: c == 82, axes, keep_dims }),
            }
        }
        83 => {
            let o = opts!(opts, PackOptions, oi).ok_or(Error::at_op("PACK without options", oi))?;
            let rank = tensors[outs[0]].shape.len() as i32;
            let axis = o.axis().map_err(fb_err)?;
            let axis = if axis < 0 { axis + rank } else { axis };
            if !(0..rank).contains(&axis) || usize::try_from(o.values_count().map_err(fb_err)?) != Ok(ins.len()) {
                return Err(Error::at_op("PACK axis out of range or values_count differs from its inputs", oi));
            }
            Op::Pack(op::Pack { axis: axis as usize })
        }
        37 | 38 => {
            let what = "SPACE_TO_BATCH_ND / BATCH_TO_SPACE_ND need a constant block shape and paddings or crops";
            let block = const_ints(tensors, ins.get(1).copied().flatten(), oi, what)?;
            let pads = const_ints(tensors, ins.get(2).copied().flatten(), oi, what)?;
            let rank = ins.first().copied().flatten().map_or(0, |t| tensors[t].shape.len());
            let small = |v: i64| usize::try_from(v).ok().filter(|&v| v <= 4096);
            match (rank, &block[..], &pads[..]) {
                (4, &[bh, bw], &[t, b, l, r]) => {
                    let (Some(bh), Some(bw)) = (small(bh).filter(|&v| v > 0), small(bw).filter(|&v| v > 0)) else {
                        return Err(Error::at_op("block shape must be 1..4096", oi));
                    };
                    let p = [t, b, l, r].map(small);
                    let [Some(t), Some(b), Some(l), Some(r)] = p else {
                        return Err(Error::at_op("paddings and crops must be 0..4096", oi));
                    };
                    Op::BatchSpace(op::BatchSpace { to_batch: code == 38, block: [bh, bw], pads: [[t, b], [l, r]] })
                }
                _ => {
                    return Err(Error::at_op(
                        "SPACE_TO_BATCH_ND / BATCH_TO_SPACE_ND support 4-D tensors with a 2-D block",
                        oi,
                    ))
                }
            }
        }
        67 => {
            let o = opts!(opts, TransposeConvOptions, oi).ok_or(Error::at_op("TRANSPOSE_CONV without options", oi))?;
            let (kh, kw) = kernel_hw(ins.get(1).copied().flatten(), 1, 2)?;
            let stride = |v: core::result::Result<i32, _>| positive(v.map_err(fb_err)?, "stride must be 1..4096", oi);
            Op::TransposeConv(op::TransposeConv {
                padding: padding(o.padding())?,
                h: Axis { kernel: kh, stride: stride(o.stride_h())?, dilation: 1 },
                w: Axis { kernel: kw, stride: stride(o.stride_w())?, dilation: 1 },
                activation: activation(o.fused_activation_function(), oi)?,
            })
        }
        36 => {
            let (axis, batch_dims) = match opts!(opts, GatherOptions, oi) {
                Some(o) => (o.axis().map_err(fb_err)?, o.batch_dims().map_err(fb_err)?),
                None => (0, 0),
            };
            let rank = |k: usize| ins.get(k).copied().flatten().map_or(0, |t| tensors[t].shape.len()) as i32;
            let axis = if axis < 0 { axis + rank(0) } else { axis };
            let batch_dims = if batch_dims < 0 { batch_dims + rank(1) } else { batch_dims };
            if !(0..rank(0)).contains(&axis) || !(0..=axis).contains(&batch_dims) {
                return Err(Error::at_op("GATHER axis or batch_dims out of range", oi));
            }
            Op::Gather(op::Gather { axis: axis as usize, batch_dims: batch_dims as usize })
        }
        56 | 79 => {
            let a = const_ints(tensors, ins.get(1).copied().flatten(), oi, "ARG_MAX/ARG_MIN need a constant axis")?;
            let rank = ins.first().copied().flatten().map_or(0, |t| tensors[t].shape.len()) as i64;
            let axis = match a[..] {
                [a] if (-rank..rank).contains(&a) => (if a < 0 { a + rank } else { a }) as usize,
                _ => return Err(Error::at_op("ARG_MAX/ARG_MIN axis must be one index inside the input's rank", oi)),
            };
            Op::Arg(op::ArgExtreme { max: code == 56, axis })
        }
        22 => Op::Reshape(op::ReshapeKind::Reshape),
        43 => Op::Reshape(op::ReshapeKind::Squeeze),
        70 => Op::Reshape(op::ReshapeKind::ExpandDims),
        2 => {
            let o = opts!(opts, ConcatenationOptions, oi).ok_or(Error::at_op("CONCATENATION without options", oi))?;
            let rank = tensors[outs[0]].shape.len() as i32;
            let axis = o.axis().map_err(fb_err)?;
            let axis = if axis < 0 { axis + rank } else { axis };
            if !(0..rank).contains(&axis) {
                return Err(Error::at_op("CONCATENATION axis out of range", oi));
            }
            // Normalise to NHWC numbering so "axis 3" always means channels.
            let axis = (axis + 4 - rank) as usize;
            Op::Concatenation(op::Concatenation { axis, activation: activation(o.fused_activation_function(), oi)? })
        }
        25 => {
            let beta = match opts!(opts, SoftmaxOptions, oi) {
                Some(o) => o.beta().map_err(fb_err)?,
                None => 1.0,
            };
            if !(beta.is_finite() && beta > 0.0) {
                return Err(Error::at_op("SOFTMAX beta must be positive and finite", oi));
            }
            Op::Softmax(op::Softmax { beta })
        }
        50 => Op::LogSoftmax,
        11 => {
            if let Some(o) = opts!(opts, L2NormOptions, oi) {
                if activation(o.fused_activation_function(), oi)? != Activation::None {
                    return Err(Error::at_op("L2_NORMALIZATION with a fused activation is not supported", oi));
                }
            }
            Op::L2Normalization
        }
        114 => Op::Quantize,
        6 => Op::Dequantize,
        19 => Op::Relu,
        21 => Op::Relu6,
        14 => Op::Logistic,
        28 => Op::Tanh,
        117 => Op::HardSwish,
        23 => {
            let (align_corners, half_pixel_centers) = match opts!(opts, ResizeBilinearOptions, oi) {
                Some(o) => (o.align_corners().map_err(fb_err)?, o.half_pixel_centers().map_err(fb_err)?),
                None => (false, false),
            };
            Op::ResizeBilinear(op::ResizeOptions { align_corners, half_pixel_centers })
        }
        97 => {
            let (align_corners, half_pixel_centers) = match opts!(opts, ResizeNearestNeighborOptions, oi) {
                Some(o) => (o.align_corners().map_err(fb_err)?, o.half_pixel_centers().map_err(fb_err)?),
                None => (false, false),
            };
            Op::ResizeNearest(op::ResizeOptions { align_corners, half_pixel_centers })
        }
        98 => {
            let alpha = match opts!(opts, LeakyReluOptions, oi) {
                Some(o) => o.alpha().map_err(fb_err)?,
                None => 0.2,
            };
            if !alpha.is_finite() {
                return Err(Error::at_op("LEAKY_RELU alpha is not finite", oi));
            }
            Op::LeakyRelu(op::LeakyRelu { alpha })
        }
        _ => return Ok(None),
    })))
}
