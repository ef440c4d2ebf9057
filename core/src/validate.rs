//! Graph validation: operand counts, types, quantization and shapes of every
//! node, and the data-flow order. After `validate` succeeds, kernels can
//! index their buffers without bounds surprises, so a hostile model fails
//! here with an error rather than in a kernel with a panic.

use alloc::vec::Vec;

use crate::error::{Error, Result};
use crate::graph::{DType, Graph, Quant, Tensor, TensorId};
use crate::op::Op;

struct Ctx<'g> {
    g: &'g Graph,
    oi: usize,
}

impl<'g> Ctx<'g> {
    fn err(&self, what: &'static str) -> Error {
        Error::at_op(what, self.oi)
    }
    fn shape_err(&self, what: &'static str, t: TensorId) -> Error {
        Error::shape(what, Some(self.oi), Some(t))
    }
    fn input(&self, i: usize) -> Result<(TensorId, &'g Tensor)> {
        let id = self.g.nodes[self.oi].input(i).ok_or(self.err("missing input operand"))?;
        Ok((id, &self.g.tensors[id]))
    }
    fn output(&self) -> (TensorId, &'g Tensor) {
        let id = self.g.nodes[self.oi].outputs[0];
        (id, &self.g.tensors[id])
    }
    fn int8_act(&self, (id, t): (TensorId, &Tensor)) -> Result<(f32, i32)> {
        if t.is_const() {
            return Err(self.shape_err("expected an activation, found a constant", id));
        }
        self.int8_data((id, t))
    }
    /// An int8 value operand that may be a constant (e.g. a bias added by ADD).
    fn int8_data(&self, (id, t): (TensorId, &Tensor)) -> Result<(f32, i32)> {
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
    fn rank(&self, (id, t): (TensorId, &Tensor), r: usize) -> Result<()> {
        if t.shape.len() != r {
            return Err(self.shape_err(if r == 4 { "expected a 4-D (NHWC) tensor" } else { "unexpected rank" }, id));
        }
        Ok(())
    }
    fn same_shape(&self, a: &Tensor, (id, b): (TensorId, &Tensor)) -> Result<()> {
        if a.shape != b.shape {
            return Err(self.shape_err("output shape differs from input shape", id));
        }
        Ok(())
    }
    fn weights(&self, i: usize, rank: usize) -> Result<(TensorId, &'g Tensor)> {
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
    fn per_channel(&self, (id, t): (TensorId, &Tensor), channels: usize, axis: usize) -> Result<()> {
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
    fn bias(&self, i: usize, channels: usize) -> Result<()> {
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
    let node = &c.g.nodes[c.oi];
    let out = c.output();
    match &node.op {
        Op::Conv2d(p) => {
            let inp = c.input(0)?;
            c.int8_act(inp)?;
            c.int8_act(out)?;
            c.rank(inp, 4)?;
            c.rank(out, 4)?;
            let f = c.weights(1, 4)?;
            let (is, fs, os) = (&inp.1.shape, &f.1.shape, &out.1.shape);
            if fs[3] != is[3] {
                return Err(c.shape_err(
                    "filter input channels differ from the input's (grouped convolution is not supported)",
                    f.0,
                ));
            }
            c.per_channel(f, fs[0], 0)?;
            c.bias(2, fs[0])?;
            if fs[1] * fs[2] * fs[3] > MAX_ACCUMULATION {
                return Err(c.shape_err("convolution window too large for an int32 accumulator", f.0));
            }
            let expect = [is[0], p.h.out_size(p.padding, is[1]), p.w.out_size(p.padding, is[2]), fs[0]];
            if os[..] != expect[..] {
                return Err(c.shape_err("output shape does not match the convolution", out.0));
            }
        }
        Op::DepthwiseConv2d(p) => {
            let inp = c.input(0)?;
            c.int8_act(inp)?;
            c.int8_act(out)?;
            c.rank(inp, 4)?;
            c.rank(out, 4)?;
            let f = c.weights(1, 4)?;
            let (is, fs, os) = (&inp.1.shape, &f.1.shape, &out.1.shape);
            if fs[0] != 1 || fs[3] != is[3] * p.depth_multiplier {
                return Err(c.shape_err("depthwise filter must be [1, kh, kw, in_c * multiplier]", f.0));
            }
            c.per_channel(f, fs[3], 3)?;
            c.bias(2, fs[3])?;
            let expect = [is[0], p.h.out_size(p.padding, is[1]), p.w.out_size(p.padding, is[2]), fs[3]];
            if os[..] != expect[..] {
                return Err(c.shape_err("output shape does not match the depthwise convolution", out.0));
            }
        }
        Op::FullyConnected(_) => {
            let inp = c.input(0)?;
            c.int8_act(inp)?;
            c.int8_act(out)?;
            let f = c.weights(1, 2)?;
            let (units, depth) = (f.1.shape[0], f.1.shape[1]);
            match &f.1.quant {
                Quant::PerChannel { .. } => c.per_channel(f, units, 0)?,
                Quant::PerTensor { .. } => {}
                Quant::None => return Err(Error::Quantization { tensor: f.0, what: "weights are not quantized" }),
            }
            if !(-127..=127).contains(&f.1.quant.per_tensor().map(|q| q.1).unwrap_or(0)) {
                return Err(Error::Quantization { tensor: f.0, what: "weight zero point out of range" });
            }
            c.bias(2, units)?;
            if depth > MAX_ACCUMULATION {
                return Err(c.shape_err("FULLY_CONNECTED depth too large for an int32 accumulator", f.0));
            }
            if depth == 0 || inp.1.elements() % depth != 0 || out.1.elements() != inp.1.elements() / depth * units {
                return Err(c.shape_err("FULLY_CONNECTED shapes do not agree", out.0));
            }
        }
        Op::Add(_) => {
            let (a, b) = (c.input(0)?, c.input(1)?);
            c.int8_data(a)?;
            c.int8_data(b)?;
            c.int8_act(out)?;
            let (sa, sb, so) = (a.1.shape.len(), b.1.shape.len(), out.1.shape.len());
            if sa > 4 || sb > 4 || so > 4 {
                return Err(c.shape_err("ADD supports up to 4-D tensors", out.0));
            }
            let (na, nb, no) = (pad4(&a.1.shape), pad4(&b.1.shape), pad4(&out.1.shape));
            for d in 0..4 {
                let want = na[d].max(nb[d]);
                if (na[d] != want && na[d] != 1) || (nb[d] != want && nb[d] != 1) || no[d] != want {
                    return Err(c.shape_err("ADD operands do not broadcast to the output", out.0));
                }
            }
        }
        Op::Pad(p) => {
            let inp = c.input(0)?;
            let qi = c.int8_act(inp)?;
            let qo = c.int8_act(out)?;
            c.rank(inp, 4)?;
            c.rank(out, 4)?;
            if qi != qo {
                return Err(c.shape_err("PAD input and output quantization differ", out.0));
            }
            for d in 0..4 {
                if out.1.shape[d] != inp.1.shape[d] + p.paddings[d][0] + p.paddings[d][1] {
                    return Err(c.shape_err("PAD output shape does not match the paddings", out.0));
                }
            }
        }
        Op::MaxPool2d(p) | Op::AveragePool2d(p) => {
            let inp = c.input(0)?;
            let qi = c.int8_act(inp)?;
            let qo = c.int8_act(out)?;
            c.rank(inp, 4)?;
            c.rank(out, 4)?;
            if qi != qo {
                return Err(c.shape_err("pool input and output quantization differ", out.0));
            }
            let is = &inp.1.shape;
            let expect = [is[0], p.h.out_size(p.padding, is[1]), p.w.out_size(p.padding, is[2]), is[3]];
            if out.1.shape[..] != expect[..] {
                return Err(c.shape_err("output shape does not match the pool", out.0));
            }
            if p.h.kernel * p.w.kernel > MAX_ACCUMULATION {
                return Err(c.err("pool window too large for an int32 accumulator"));
            }
        }
        Op::Mean(m) => {
            let inp = c.input(0)?;
            c.int8_act(inp)?;
            c.int8_act(out)?;
            if inp.1.shape.len() > 4 {
                return Err(c.shape_err("MEAN supports up to 4-D tensors", inp.0));
            }
            if inp.1.elements() / out.1.elements().max(1) > 1 << 23 {
                return Err(c.shape_err("MEAN reduces too many elements for an int32 accumulator", inp.0));
            }
            let expect: Vec<usize> = inp
                .1
                .shape
                .iter()
                .enumerate()
                .filter_map(|(d, &n)| {
                    if m.axes & (1 << d) == 0 {
                        Some(n)
                    } else if m.keep_dims {
                        Some(1)
                    } else {
                        None
                    }
                })
                .collect();
            if out.1.shape != expect && out.1.elements() != expect.iter().product::<usize>() {
                return Err(c.shape_err("MEAN output shape does not match the reduction", out.0));
            }
        }
        Op::Reshape => {
            let inp = c.input(0)?;
            if inp.1.dtype != out.1.dtype || inp.1.elements() != out.1.elements() || inp.1.is_const() {
                return Err(c.shape_err("RESHAPE changes the element count or type", out.0));
            }
            if inp.1.quant != out.1.quant {
                return Err(c.shape_err("RESHAPE changes quantization", out.0));
            }
        }
        Op::Concatenation(p) => {
            let qo = c.int8_act(out)?;
            if p.activation != crate::op::Activation::None {
                return Err(c.err("CONCATENATION with a fused activation is not supported"));
            }
            let on = pad4(&out.1.shape);
            let mut sum = 0;
            for i in node.inputs.iter().flatten() {
                let t = &c.g.tensors[*i];
                if c.int8_data((*i, t))? != qo {
                    return Err(Error::Quantization {
                        tensor: *i,
                        what: "int8 CONCATENATION inputs must share the output's scale and zero point",
                    });
                }
                if t.shape.len() != out.1.shape.len() {
                    return Err(c.shape_err("CONCATENATION inputs differ in rank", *i));
                }
                let n = pad4(&t.shape);
                for d in 0..4 {
                    if d != p.axis && n[d] != on[d] {
                        return Err(c.shape_err("CONCATENATION inputs differ outside the axis", *i));
                    }
                }
                sum += n[p.axis];
            }
            if sum != on[p.axis] || node.inputs.is_empty() {
                return Err(c.shape_err("CONCATENATION output size along the axis is wrong", out.0));
            }
        }
        Op::Softmax(_) | Op::Logistic => {
            let inp = c.input(0)?;
            c.int8_act(inp)?;
            let (s, z) = c.int8_act(out)?;
            c.same_shape(inp.1, out)?;
            if s != 1.0 / 256.0 || z != -128 {
                return Err(Error::Quantization {
                    tensor: out.0,
                    what: "int8 SOFTMAX/LOGISTIC output must have scale 1/256 and zero point -128",
                });
            }
        }
        Op::Quantize => {
            let inp = c.input(0)?;
            c.int8_act(out)?;
            c.same_shape(inp.1, out)?;
            match inp.1.dtype {
                DType::F32 => {}
                DType::I8 => {
                    c.int8_act(inp)?;
                }
                _ => {
                    return Err(Error::UnsupportedType {
                        op_index: c.oi,
                        tensor: inp.0,
                        what: "QUANTIZE input must be float32 or int8",
                    })
                }
            }
        }
        Op::Dequantize => {
            let inp = c.input(0)?;
            c.int8_act(inp)?;
            c.same_shape(inp.1, out)?;
            if out.1.dtype != DType::F32 {
                return Err(Error::UnsupportedType {
                    op_index: c.oi,
                    tensor: out.0,
                    what: "DEQUANTIZE output must be float32",
                });
            }
        }
        Op::Relu | Op::Relu6 | Op::HardSwish => {
            let inp = c.input(0)?;
            c.int8_act(inp)?;
            c.int8_act(out)?;
            c.same_shape(inp.1, out)?;
        }
        Op::ResizeBilinear(r) => {
            if r.align_corners && r.half_pixel_centers {
                return Err(c.err("RESIZE_BILINEAR cannot combine align_corners and half_pixel_centers"));
            }
            let inp = c.input(0)?;
            c.int8_act(inp)?;
            c.int8_act(out)?;
            c.rank(inp, 4)?;
            c.rank(out, 4)?;
            let size = c.input(1)?;
            let s =
                size.1.data.as_ref().and_then(|d| d.as_ints()).ok_or(c.err("RESIZE_BILINEAR needs a constant size"))?;
            let (is, os) = (&inp.1.shape, &out.1.shape);
            if s.len() != 2 || s[0] as usize != os[1] || s[1] as usize != os[2] || os[0] != is[0] || os[3] != is[3] {
                return Err(c.shape_err("RESIZE_BILINEAR output shape does not match its size operand", out.0));
            }
        }
    }
    Ok(())
}

/// Right-aligns a shape of rank ≤ 4 into four dimensions.
pub fn pad4(s: &[usize]) -> [usize; 4] {
    let mut r = [1; 4];
    let k = s.len().min(4);
    r[4 - k..].copy_from_slice(&s[s.len() - k..]);
    r
}
