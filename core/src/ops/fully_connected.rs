//! FULLY_CONNECTED: int8, per-tensor or per-channel weights, rescaled in
//! double precision as the reference kernel does.

#[cfg(feature = "alloc")]
use crate::error::Error;
use crate::error::Result;
use crate::kernels::fully_connected::{fully_connected, FcStage};
use crate::literal_struct;
use crate::op::Activation;
use crate::ops::{first, whole, Eval, In, Out};
use crate::program::{Consts, Span};
use crate::region::Rect;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FullyConnected {
    pub activation: Activation,
    pub keep_num_dims: bool,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FcKernel {
    pub input_offset: i32,
    /// Added to every weight: `-zero_point` for per-tensor weights, 0 for per-channel.
    pub filter_offset: i32,
    pub output_offset: i32,
    pub act: (i32, i32),
    /// `input_scale * filter_scale[u] / output_scale`, one per unit or one for all.
    pub scales: Span,
    pub depth: usize,
    pub units: usize,
    /// int8 weights `[units, depth]`.
    pub filter: Span,
    pub bias: Option<Span>,
}
literal_struct!(FcKernel { input_offset, filter_offset, output_offset, act, scales, depth, units, filter, bias });

impl FullyConnected {
    pub fn macs(&self, batch: usize, units: usize, depth: usize) -> u64 {
        (batch * units * depth) as u64
    }

    #[cfg(feature = "alloc")]
    pub(crate) fn validate(&self, c: &crate::validate::Ctx) -> Result<()> {
        use crate::graph::Quant;
        let (inp, out, _) = c.int8_in_out()?;
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
        if depth > crate::validate::MAX_ACCUMULATION {
            return Err(c.shape_err("FULLY_CONNECTED depth too large for an int32 accumulator", f.0));
        }
        if depth == 0 || inp.1.elements() % depth != 0 || out.1.elements() != inp.1.elements() / depth * units {
            return Err(c.shape_err("FULLY_CONNECTED shapes do not agree", out.0));
        }
        Ok(())
    }

    #[cfg(feature = "alloc")]
    pub(crate) fn prepare(&self, p: &mut crate::lower::Prepare) -> Result<FcKernel> {
        use crate::graph::Quant;
        let (input, out, filter) = (p.input(0)?, p.output(), p.input(1)?);
        let ((si, zi), (so, zo)) = (p.quant(input)?, p.quant(out)?);
        let ft = p.tensor(filter);
        let (units, depth) = match ft.shape[..] {
            [units, depth] => (units, depth),
            _ => return Err(p.err("FULLY_CONNECTED weights are not 2-D")),
        };
        let per_channel = matches!(ft.quant, Quant::PerChannel { .. });
        let fs = ft
            .quant
            .scales(if per_channel { units } else { 1 })
            .ok_or(Error::Quantization { tensor: filter, what: "filter scales" })?;
        // The reference applies a per-tensor weight zero point and ignores per-channel ones.
        let filter_offset = match (per_channel, ft.quant.per_tensor()) {
            (false, Some((_, z))) => -z,
            _ => 0,
        };
        let act = crate::kernels::activation_range(self.activation, so, zo);
        let (si, so) = (si as f64, so as f64);
        Ok(FcKernel {
            input_offset: -zi,
            filter_offset,
            output_offset: zo,
            act,
            scales: p.f64s(fs.iter().map(|&f| si * f as f64 / so))?,
            depth,
            units,
            filter: p.weights(1)?,
            bias: p.bias(2)?,
        })
    }
}

impl Eval for FcKernel {
    fn eval(&self, c: &Consts, inputs: &[In], out: Out, region: Rect) -> Result<()> {
        whole(inputs, &out, region)?;
        let x = first(inputs)?;
        let st = FcStage {
            input_offset: self.input_offset,
            filter_offset: self.filter_offset,
            output_offset: self.output_offset,
            act_min: self.act.0,
            act_max: self.act.1,
            scales: c.f64(self.scales)?,
        };
        let (filter, bias) = (c.i8(self.filter)?, c.bias(self.bias)?);
        let (x, o) = (crate::arena::as_i8(x.data), crate::arena::as_i8_mut(out.data));
        fully_connected(&st, x, filter, bias, o, self.depth, self.units);
        Ok(())
    }
}
