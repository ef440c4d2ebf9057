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
    let tensor = |i: usize| fb::Tensor {
        shape: Some(vec![1, side as i32, side as i32, channels as i32]),
        type_: fb::TensorType::Int8,
        name: Some(format!("t{i}")),
        quantization: Some(Box::new(fb::QuantizationParameters {
            scale: Some(vec![0.05]),
            zero_point: Some(vec![-3]),
            ..Default::default()
        })),
        ..Default::default()
    };
    let operators = (0..ops)
        .map(|i| fb::Operator {
            opcode_index: 0,
            inputs: Some(vec![i as i32]),
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
            outputs: Some(vec![ops as i32]),
            operators: Some(operators),
            ..Default::default()
        }]),
        buffers: Some(vec![fb::Buffer::default()]),
        ..Default::default()
    };
    serialise(&m)
}
