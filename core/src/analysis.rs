//! Per-layer figures of a graph: MACs, activation and weight bytes.
//! The CLI's `inspect`, the planner tables and the playground's charts all
//! read these, so every view reports the same numbers.

use alloc::vec::Vec;

use crate::graph::nhwc;
use crate::graph::{DType, Graph, Tensor};
use crate::region::Rect;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayerInfo {
    pub index: usize,
    pub op: &'static str,
    pub input_shape: Vec<usize>,
    pub output_shape: Vec<usize>,
    pub macs: u64,
    /// Bytes of all activation inputs.
    pub input_bytes: usize,
    pub output_bytes: usize,
    /// Bytes of constant operands (weights, bias, shape operands).
    pub weight_bytes: usize,
}

pub fn layers(g: &Graph) -> Vec<LayerInfo> {
    (0..g.nodes.len()).map(|i| layer(g, i)).collect()
}

pub fn layer(g: &Graph, i: usize) -> LayerInfo {
    let node = &g.nodes[i];
    let out = &g.tensors[node.output()];
    let first = node.input(0).map(|t| &g.tensors[t]);
    let input_shape = first.map(|t| t.shape.clone()).unwrap_or_default();
    let o = nhwc(&out.shape);
    let in_c = first.map(|t| *t.shape.last().unwrap_or(&1)).unwrap_or(1);
    let k_depth = node.input(1).map(|t| *g.tensors[t].shape.last().unwrap_or(&0)).unwrap_or(0);
    let macs = node.op.macs(o[0], Rect::full(o[1], o[2]), in_c, o[3], k_depth);
    let macs = if matches!(node.op, crate::op::Op::FullyConnected(_)) {
        let batches = if k_depth == 0 { 0 } else { first.map(|t| t.elements()).unwrap_or(0) / k_depth };
        (batches * o[3] * k_depth) as u64
    } else {
        macs
    };
    LayerInfo {
        index: i,
        op: node.op.name(),
        input_shape,
        output_shape: out.shape.clone(),
        macs,
        input_bytes: g.activation_inputs(i).map(|t| g.tensors[t].bytes()).sum(),
        output_bytes: out.bytes(),
        weight_bytes: node
            .inputs
            .iter()
            .flatten()
            .filter_map(|&t| g.tensors[t].data.as_ref())
            .map(|d| d.byte_len())
            .sum(),
    }
}

pub fn total_macs(g: &Graph) -> u64 {
    layers(g).iter().map(|l| l.macs).sum()
}

/// Top classes of a classifier output (`[1, N]`, N ≥ 2): `(class, dequantized score)`,
/// highest first (ties: lower class first). `None` for other outputs.
pub fn top_classes(t: &Tensor, data: &[u8], k: usize) -> Option<Vec<(usize, f32)>> {
    if t.shape.len() != 2 || t.shape[0] != 1 || t.shape[1] < 2 {
        return None;
    }
    let vals: Vec<f32> = match t.dtype {
        DType::I8 => {
            let (s, z) = t.quant.per_tensor().unwrap_or((1.0, 0));
            data.iter().map(|&b| s * (b as i8 as i32 - z) as f32).collect()
        }
        DType::F32 => data.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect(),
        _ => return None,
    };
    let mut idx: Vec<usize> = (0..vals.len()).collect();
    idx.sort_by(|&a, &b| vals[b].total_cmp(&vals[a]).then(a.cmp(&b)));
    Some(idx.into_iter().take(k).map(|i| (i, vals[i])).collect())
}
