//! The typed model: tensors, constant data and operator nodes in execution order.
//!
//! A `Graph` is what the loader produces from untrusted `.tflite` bytes and
//! what the planner, the patch analysis, the executor and the exporters read.

use alloc::string::String;
use alloc::vec::Vec;

use crate::op::Op;

pub type TensorId = usize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DType {
    F32,
    I8,
    I32,
    I64,
    U8,
    I16,
}

impl DType {
    pub const fn size(self) -> usize {
        match self {
            DType::F32 | DType::I32 => 4,
            DType::I64 => 8,
            DType::I16 => 2,
            DType::I8 | DType::U8 => 1,
        }
    }
    pub const fn name(self) -> &'static str {
        match self {
            DType::F32 => "float32",
            DType::I8 => "int8",
            DType::I32 => "int32",
            DType::I64 => "int64",
            DType::U8 => "uint8",
            DType::I16 => "int16",
        }
    }
}

/// Affine quantization `real = scale * (q - zero_point)`.
#[derive(Clone, Debug, PartialEq, Default)]
pub enum Quant {
    #[default]
    None,
    PerTensor {
        scale: f32,
        zero_point: i32,
    },
    PerChannel {
        scales: Vec<f32>,
        zero_points: Vec<i32>,
        axis: usize,
    },
}

impl Quant {
    /// Scale and zero point of a per-tensor quantized tensor.
    pub fn per_tensor(&self) -> Option<(f32, i32)> {
        match self {
            Quant::PerTensor { scale, zero_point } => Some((*scale, *zero_point)),
            Quant::PerChannel { scales, zero_points, .. } if scales.len() == 1 => {
                Some((scales[0], zero_points.first().copied().unwrap_or(0)))
            }
            _ => None,
        }
    }
    /// Scales per channel (a per-tensor scale repeated `n` times).
    pub fn scales(&self, n: usize) -> Option<Vec<f32>> {
        match self {
            Quant::PerTensor { scale, .. } => Some(alloc::vec![*scale; n]),
            Quant::PerChannel { scales, .. } if scales.len() == n => Some(scales.clone()),
            Quant::PerChannel { scales, .. } if scales.len() == 1 => Some(alloc::vec![scales[0]; n]),
            _ => None,
        }
    }
}

/// Constant tensor contents, decoded to their element type.
#[derive(Clone, Debug, PartialEq)]
pub enum ConstData {
    I8(Vec<i8>),
    I32(Vec<i32>),
    I64(Vec<i64>),
    F32(Vec<f32>),
    U8(Vec<u8>),
    I16(Vec<i16>),
}

impl ConstData {
    pub fn byte_len(&self) -> usize {
        match self {
            ConstData::I8(v) => v.len(),
            ConstData::U8(v) => v.len(),
            ConstData::I16(v) => v.len() * 2,
            ConstData::I32(v) => v.len() * 4,
            ConstData::F32(v) => v.len() * 4,
            ConstData::I64(v) => v.len() * 8,
        }
    }
    /// Integer values as i64 (for shape-like constant operands).
    pub fn as_ints(&self) -> Option<Vec<i64>> {
        match self {
            ConstData::I32(v) => Some(v.iter().map(|&x| x as i64).collect()),
            ConstData::I64(v) => Some(v.clone()),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    pub name: String,
    pub dtype: DType,
    pub shape: Vec<usize>,
    pub quant: Quant,
    /// `Some` for weights and other constants (they live in flash).
    pub data: Option<ConstData>,
}

impl Tensor {
    pub fn elements(&self) -> usize {
        self.shape.iter().product()
    }
    pub fn bytes(&self) -> usize {
        self.elements() * self.dtype.size()
    }
    pub fn is_const(&self) -> bool {
        self.data.is_some()
    }
    /// Shape as NHWC (see [`nhwc`]).
    pub fn nhwc(&self) -> [usize; 4] {
        nhwc(&self.shape)
    }
}

/// A shape as four NHWC dimensions, the way TFLite's kernels extend shapes:
/// lower ranks are right-aligned (`[N, C]` → `[1, 1, N, C]`, which is what
/// broadcasting needs), higher ranks fold their leading dimensions into the
/// first, so the element count is kept.
pub fn nhwc(s: &[usize]) -> [usize; 4] {
    let mut r = [1; 4];
    let k = s.len().min(4);
    r[4 - k..].copy_from_slice(&s[s.len() - k..]);
    if s.len() > 4 {
        r[0] = s[..s.len() - 3].iter().product();
    }
    r
}

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub op: Op,
    /// Operand tensors in TFLite order; `None` for an omitted optional operand.
    pub inputs: Vec<Option<TensorId>>,
    pub outputs: Vec<TensorId>,
}

impl Node {
    pub fn input(&self, i: usize) -> Option<TensorId> {
        self.inputs.get(i).copied().flatten()
    }
    pub fn output(&self) -> TensorId {
        self.outputs[0]
    }
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct Graph {
    pub tensors: Vec<Tensor>,
    pub nodes: Vec<Node>,
    pub inputs: Vec<TensorId>,
    pub outputs: Vec<TensorId>,
}

impl Graph {
    pub fn tensor(&self, id: TensorId) -> &Tensor {
        &self.tensors[id]
    }

    /// Input operands of node `i` that are activations (not constants).
    pub fn activation_inputs(&self, i: usize) -> impl Iterator<Item = TensorId> + '_ {
        self.nodes[i].inputs.iter().flatten().copied().filter(|&t| !self.tensors[t].is_const())
    }

    /// Bytes of constant data (weights, biases, shape operands): the flash footprint.
    pub fn flash_bytes(&self) -> usize {
        self.tensors.iter().filter_map(|t| t.data.as_ref()).map(ConstData::byte_len).sum()
    }

    /// Each activation tensor's (graph inputs' and operator outputs') live
    /// steps in the layer-by-layer order, `(first, last)`: from the step that
    /// writes it (0 for inputs) to the last that reads it (the end for graph
    /// outputs); `None` for constants and unused tensors.
    pub fn activation_spans(&self) -> Vec<Option<(usize, usize)>> {
        let n = self.nodes.len();
        let mut first = alloc::vec![usize::MAX; self.tensors.len()];
        let mut last = alloc::vec![0usize; self.tensors.len()];
        for &t in &self.inputs {
            first[t] = 0;
        }
        for (i, node) in self.nodes.iter().enumerate() {
            for &t in node.inputs.iter().flatten() {
                last[t] = last[t].max(i);
            }
            for &t in &node.outputs {
                first[t] = first[t].min(i);
            }
        }
        for &t in &self.outputs {
            last[t] = n;
        }
        first.iter().zip(&last).map(|(&f, &l)| (f != usize::MAX).then_some((f, l.max(f)))).collect()
    }

    /// The most activation tensors live at one step of the layer-by-layer
    /// order ([`Graph::activation_spans`]). The arena planner meets every
    /// pair of buffers live together, so this bounds its time and memory
    /// (`loader::MAX_LIVE_TENSORS`).
    pub fn most_live_activations(&self) -> usize {
        let mut delta = alloc::vec![0isize; self.nodes.len() + 2];
        for (f, l) in self.activation_spans().into_iter().flatten() {
            delta[f] += 1;
            delta[l + 1] -= 1;
        }
        let (mut live, mut most) = (0isize, 0isize);
        for d in delta {
            live += d;
            most = most.max(live);
        }
        most as usize
    }

    /// Number of operator nodes reading each tensor, plus one for graph outputs.
    pub fn consumers(&self) -> Vec<usize> {
        let mut n = alloc::vec![0usize; self.tensors.len()];
        for node in &self.nodes {
            for t in node.inputs.iter().flatten() {
                n[*t] += 1;
            }
        }
        for &t in &self.outputs {
            n[t] += 1;
        }
        n
    }
}
