//! Structurally valid but hostile models, built from TFLite's schema: the
//! worst cases of the loader's limits (README, "Limits"), for the hostile
//! tests and the limit benchmark.

use patchwise_core::schema as fb;

/// Serialises a model with the "TFL3" identifier. planus writes none, so it
/// is inserted after the root offset: every other offset in a flatbuffer is
/// relative, so only the root moves.
pub fn serialise(m: &fb::Model) -> Vec<u8> {
    let plain = planus::Builder::new().finish(m, None).to_vec();
    let root = u32::from_le_bytes(plain[..4].try_into().expect("root offset")) + 4;
    [&root.to_le_bytes()[..], b"TFL3", &plain[4..]].concat()
}

/// `ops` RELUs in a chain over an int8 `[1, side, side, channels]` tensor:
/// every operator is a legal patch-stage end, so the search has the most
/// splits a model of this many operators can have.
pub fn relu_chain(ops: usize, side: usize, channels: usize) -> Vec<u8> {
    relus(ops, side, channels, false)
}

/// `ops` RELUs all reading the input, every output a graph output: all of
/// them are live together, so the arena planner meets the most pairs of
/// buffers live at the same time (quadratic in the operators), and every
/// patch stage keeps all its tensors whole.
pub fn relu_fan(ops: usize, side: usize, channels: usize) -> Vec<u8> {
    relus(ops, side, channels, true)
}

/// Tensor `t{i}`: an int8 `[1, side, side, channels]` image.
fn image(i: usize, side: usize, channels: usize) -> fb::Tensor {
    fb::Tensor {
        shape: Some(vec![1, side as i32, side as i32, channels as i32]),
        type_: fb::TensorType::Int8,
        name: Some(format!("t{i}")),
        quantization: Some(Box::new(fb::QuantizationParameters {
            scale: Some(vec![0.05]),
            zero_point: Some(vec![-3]),
            ..Default::default()
        })),
        ..Default::default()
    }
}

fn relus(ops: usize, side: usize, channels: usize, fan: bool) -> Vec<u8> {
    let tensor = |i: usize| image(i, side, channels);
    let operators = (0..ops)
        .map(|i| fb::Operator {
            opcode_index: 0,
            inputs: Some(vec![if fan { 0 } else { i as i32 }]),
            outputs: Some(vec![i as i32 + 1]),
            ..Default::default()
        })
        .collect();
    let m = fb::Model {
        version: 3,
        operator_codes: Some(vec![fb::OperatorCode {
            deprecated_builtin_code: 19,
            builtin_code: fb::BuiltinOperator::Relu,
            version: 1,
            ..Default::default()
        }]),
        subgraphs: Some(vec![fb::SubGraph {
            tensors: Some((0..=ops).map(tensor).collect()),
            inputs: Some(vec![0]),
            outputs: Some(if fan { (1..=ops as i32).collect() } else { vec![ops as i32] }),
            operators: Some(operators),
            ..Default::default()
        }]),
        buffers: Some(vec![fb::Buffer::default()]),
        ..Default::default()
    };
    serialise(&m)
}

/// A PAD of `pad` pixels around an int8 `[1, side, side, channels]` input,
/// then `relus` RELUs in a chain: every patch stage holds the PAD, whose
/// border cells read no input pixel on grids finer than its padding, so
/// the search cannot take its per-axis shortcut and walks every patch.
pub fn pad_then_relus(relus: usize, side: usize, pad: usize, channels: usize) -> Vec<u8> {
    let image = |i: usize, s: usize| image(i, s, channels);
    let padded = side + 2 * pad;
    let paddings = fb::Tensor {
        shape: Some(vec![4, 2]),
        type_: fb::TensorType::Int32,
        buffer: 1,
        name: Some("paddings".into()),
        ..Default::default()
    };
    let p = pad as i32;
    let data: Vec<u8> = [0, 0, p, p, p, p, 0, 0].iter().flat_map(|v: &i32| v.to_le_bytes()).collect();
    // Tensors: 0 input, 1 paddings, 2.. the PAD's and the RELUs' outputs.
    let mut tensors = vec![image(0, side), paddings];
    tensors.extend((0..=relus).map(|i| image(i + 2, padded)));
    let mut operators =
        vec![fb::Operator { opcode_index: 1, inputs: Some(vec![0, 1]), outputs: Some(vec![2]), ..Default::default() }];
    operators.extend((0..relus).map(|i| fb::Operator {
        opcode_index: 0,
        inputs: Some(vec![i as i32 + 2]),
        outputs: Some(vec![i as i32 + 3]),
        ..Default::default()
    }));
    let code = |deprecated: i8, builtin| fb::OperatorCode {
        deprecated_builtin_code: deprecated,
        builtin_code: builtin,
        version: 1,
        ..Default::default()
    };
    let m = fb::Model {
        version: 3,
        operator_codes: Some(vec![code(19, fb::BuiltinOperator::Relu), code(34, fb::BuiltinOperator::Pad)]),
        subgraphs: Some(vec![fb::SubGraph {
            tensors: Some(tensors),
            inputs: Some(vec![0]),
            outputs: Some(vec![relus as i32 + 2]),
            operators: Some(operators),
            ..Default::default()
        }]),
        buffers: Some(vec![fb::Buffer::default(), fb::Buffer { data: Some(data), ..Default::default() }]),
        ..Default::default()
    };
    serialise(&m)
}
