//! Graph validation: operand counts, types, quantization and shapes of every
//! node, and the data-flow order. After `validate` succeeds, kernels can
//! index their buffers without bounds surprises, so a hostile model fails
//! here with an error rather than in a kernel with a panic.

use crate::error::{Error, Result};
use crate::graph::{DType, Graph, Quant, Tensor, TensorId};

/// One node under validation, with the checks the op modules share.
pub(crate) struct Ctx<'g> {
    pub g: &'g Graph,
    pub oi: usize,
}

impl<'g> Ctx<'g> {
    pub(crate) fn err(&self, what: &'static str) -> Error {
        Error::at_op(what, self.oi)
    }
    pub(crate) fn shape_err(&self, what: &'static str, t: TensorId) -> Error {
        Error::shape(what, Some(self.oi), Some(t))
    }
    pub(crate) fn input(&self, i: usize) -> Result<(TensorId, &'g Tensor)> {
        let id = self.g.nodes[self.oi].input(i).ok_or(self.err("missing input operand"))?;
        Ok((id, &self.g.tensors[id]))
    }
    pub(crate) fn output(&self) -> (TensorId, &'g Tensor) {
        let id = self.g.nodes[self.oi].outputs[0];
        (id, &self.g.tensors[id])
    }
    pub(crate) fn int8_act(&self, (id, t): (TensorId, &Tensor)) -> Result<(f32, i32)> {
        if t.is_const() {
            return Err(self.shape_err("expected an activation, found a constant", id));
        }
        self.int8_data((id, t))
    }
    /// An int8 value operand that may be a constant (e.g. a bias added by ADD).
    pub(crate) fn int8_data(&self, (id, t): (TensorId, &Tensor)) -> Result<(f32, i32)> {
        if t.dtype != DType::I8 {
            return Err(Error::UnsupportedType { op_index: self.oi, tensor: id, what: "expected an int8 tensor" });
        }
        let (s, z) = t
            .quant
            .per_tensor()
            .ok_or(Error::Quantization { tensor: id, what: "int8 activation needs per-tensor scale and zero point" })?;
        if !(-128..=127).contains(&z) {
            return Err(Error::Quantization { tensor: id, what: "int8 zero point outside -128..127" });
        }
        Ok((s, z))
    }
    /// Operand 0 and the output, both int8 activations: their ids, tensors and quantization.
    #[allow(clippy::type_complexity)]
    pub(crate) fn int8_in_out(&self) -> Result<((TensorId, &'g Tensor), (TensorId, &'g Tensor), [(f32, i32); 2])> {
        let (inp, out) = (self.input(0)?, self.output());
        let q = [self.int8_act(inp)?, self.int8_act(out)?];
        Ok((inp, out, q))
    }
    /// The output of a sliding window over `inp` is `[n, out_h, out_w, channels]`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn window_output(
        &self,
        padding: crate::op::Padding,
        h: crate::op::Axis,
        w: crate::op::Axis,
        inp: &Tensor,
        (id, out): (TensorId, &Tensor),
        channels: usize,
        what: &'static str,
    ) -> Result<()> {
        let is = &inp.shape;
        let expect = [is[0], h.out_size(padding, is[1]), w.out_size(padding, is[2]), channels];
        if out.shape[..] != expect[..] {
            return Err(self.shape_err(what, id));
        }
        Ok(())
    }
    /// Operand 0 and the output of an operator that only moves elements: same
    /// type and quantization, an activation input, both of rank `rank`.
    #[allow(clippy::type_complexity)]
    pub(crate) fn moved(&self, rank: usize) -> Result<((TensorId, &'g Tensor), (TensorId, &'g Tensor))> {
        let (inp, out) = self.moved_any()?;
        if inp.1.shape.len() != rank || out.1.shape.len() != rank {
            return Err(self.shape_err("the operator's parameters and tensor ranks differ", out.0));
        }
        Ok((inp, out))
    }
    /// [`Self::moved`] without the rank check (for operators that add or drop dimensions).
    #[allow(clippy::type_complexity)]
    pub(crate) fn moved_any(&self) -> Result<((TensorId, &'g Tensor), (TensorId, &'g Tensor))> {
        let (inp, out) = (self.input(0)?, self.output());
        if inp.1.dtype != out.1.dtype || inp.1.quant != out.1.quant || inp.1.is_const() {
            return Err(self.shape_err("the operator would change the type or quantization", out.0));
        }
        Ok((inp, out))
    }
    /// [`Self::int8_in_out`] for 4-D (NHWC) image tensors.
    #[allow(clippy::type_complexity)]
    pub(crate) fn int8_images(&self) -> Result<((TensorId, &'g Tensor), (TensorId, &'g Tensor), [(f32, i32); 2])> {
        let (inp, out, q) = self.int8_in_out()?;
        self.rank(inp, 4)?;
        self.rank(out, 4)?;
        Ok((inp, out, q))
    }
    pub(crate) fn rank(&self, (id, t): (TensorId, &Tensor), r: usize) -> Result<()> {
        if t.shape.len() != r {
            return Err(self.shape_err(if r == 4 { "expected a 4-D (NHWC) tensor" } else { "unexpected rank" }, id));
        }
        Ok(())
    }
    pub(crate) fn same_shape(&self, a: &Tensor, (id, b): (TensorId, &Tensor)) -> Result<()> {
        if a.shape != b.shape {
            return Err(self.shape_err("output shape differs from input shape", id));
        }
        Ok(())
    }
    pub(crate) fn weights(&self, i: usize, rank: usize) -> Result<(TensorId, &'g Tensor)> {
        let (id, t) = self.input(i)?;
        if t.dtype != DType::I8 || !t.is_const() {
            return Err(Error::UnsupportedType {
                op_index: self.oi,
                tensor: id,
                what: "weights must be constant int8",
            });
        }
        if t.shape.len() != rank {
            return Err(self.shape_err("weights have the wrong rank", id));
        }
        Ok((id, t))
    }
    pub(crate) fn per_channel(&self, (id, t): (TensorId, &Tensor), channels: usize, axis: usize) -> Result<()> {
        match &t.quant {
            Quant::PerTensor { zero_point: 0, .. } => Ok(()),
            Quant::PerChannel { scales, zero_points, axis: a }
                if scales.len() == channels && *a == axis && zero_points.iter().all(|&z| z == 0) =>
            {
                Ok(())
            }
            Quant::PerChannel { .. } | Quant::PerTensor { .. } => Err(Error::Quantization {
                tensor: id,
                what: "weights need symmetric per-tensor or per-output-channel scales",
            }),
            Quant::None => Err(Error::Quantization { tensor: id, what: "weights are not quantized" }),
        }
    }
    pub(crate) fn bias(&self, i: usize, channels: usize) -> Result<()> {
        if let Some(id) = self.g.nodes[self.oi].input(i) {
            let t = &self.g.tensors[id];
            if t.dtype != DType::I32 || !t.is_const() {
                return Err(Error::UnsupportedType {
                    op_index: self.oi,
                    tensor: id,
                    what: "bias must be constant int32",
                });
            }
            if t.elements() != channels {
                return Err(self.shape_err("bias length differs from the output channels", id));
            }
        }
        Ok(())
    }
}

/// Largest number of products summed into one int32 accumulator: with int8
/// operands (|x| ≤ 255 after the offset, |w| ≤ 127) this cannot overflow.
pub const MAX_ACCUMULATION: usize = 1 << 16;

/// Checks `g`: see the module documentation.
pub fn validate(g: &Graph) -> Result<()> {
    let mut written = alloc::vec![false; g.tensors.len()];
    for &i in &g.inputs {
        if g.tensors[i].is_const() {
            return Err(Error::at_tensor("graph input is a constant", i));
        }
        written[i] = true;
    }
    for oi in 0..g.nodes.len() {
        let node = &g.nodes[oi];
        for t in node.inputs.iter().flatten() {
            if !g.tensors[*t].is_const() && !written[*t] {
                return Err(Error::Model(crate::error::ModelError {
                    what: "operator reads a tensor before any operator writes it",
                    op_index: Some(oi),
                    tensor: Some(*t),
                }));
            }
        }
        if node.outputs.len() != 1 {
            return Err(Error::at_op("operators with several outputs are not supported", oi));
        }
        let out = node.outputs[0];
        if written[out] || g.tensors[out].is_const() {
            return Err(Error::Model(crate::error::ModelError {
                what: "tensor written twice or constant written",
                op_index: Some(oi),
                tensor: Some(out),
            }));
        }
        validate_node(&Ctx { g, oi })?;
        written[out] = true;
    }
    for &o in &g.outputs {
        if !written[o] {
            return Err(Error::at_tensor("graph output is never written", o));
        }
    }
    Ok(())
}

fn validate_node(c: &Ctx) -> Result<()> {
    c.g.nodes[c.oi].op.validate(c)
}
