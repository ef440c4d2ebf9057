//! CONV_2D: int8 with per-channel (or per-tensor) symmetric weights.

#[cfg(feature = "alloc")]
use crate::error::Error;
use crate::error::Result;
use crate::kernels::conv::{Geometry, OutputStage, Weighted};
use crate::kernels::fast::conv::conv2d;
use crate::kernels::fast::packed;
use crate::literal_struct;
use crate::op::{window_rect, Activation, Axis, Padding};
use crate::ops::{first, Eval, In, Out};
use crate::program::{Consts, Span};
use crate::region::Rect;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Conv2d {
    pub padding: Padding,
    pub h: Axis,
    pub w: Axis,
    pub activation: Activation,
}

/// What a weighted kernel (CONV_2D, DEPTHWISE_CONV_2D) prepares: its
/// requantization and its constants.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Weights {
    pub input_offset: i32,
    pub output_offset: i32,
    /// Fused activation clamp `(min, max)`.
    pub act: (i32, i32),
    /// One per output channel.
    pub multipliers: Span,
    /// int8 weights (`[out_c, kh, kw, in_c]`, or `[1, kh, kw, c]` for depthwise).
    pub filter: Span,
    pub bias: Option<Span>,
}
literal_struct!(Weights { input_offset, output_offset, act, multipliers, filter, bias });

impl Weights {
    /// Per-output-channel multipliers from operand 1's scales, the weights and the bias (operand 2).
    #[cfg(feature = "alloc")]
    pub(crate) fn prepare(p: &mut crate::lower::Prepare, activation: Activation) -> Result<Weights> {
        let (input, out, filter) = (p.input(0)?, p.output(), p.input(1)?);
        let ((si, zi), (so, zo)) = (p.quant(input)?, p.quant(out)?);
        let oc = p.shape(out)[3];
        let fs =
            p.tensor(filter).quant.scales(oc).ok_or(Error::Quantization { tensor: filter, what: "filter scales" })?;
        Ok(Weights {
            input_offset: -zi,
            output_offset: zo,
            act: crate::kernels::activation_range(activation, so, zo),
            multipliers: p.multipliers(crate::kernels::conv::channel_multipliers(si, &fs, so))?,
            filter: p.weights(1)?,
            bias: p.bias(2)?,
        })
    }

    /// The output stage, weights and bias, from the program's pools.
    pub fn resolve<'c>(&self, c: &Consts<'c>) -> Result<Weighted<'c>> {
        let stage = OutputStage {
            input_offset: self.input_offset,
            output_offset: self.output_offset,
            act_min: self.act.0,
            act_max: self.act.1,
            multipliers: c.multipliers(self.multipliers)?,
        };
        Ok(Weighted { stage, filter: c.i8(self.filter)?, bias: c.bias(self.bias)? })
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ConvKernel {
    pub geom: Geometry,
    pub weights: Weights,
    /// `bias[oc] + input_offset·Σ filter[oc]` per output channel: where the optimized kernel's accumulators start.
    pub folded: Span,
    /// The filter [`pack`](crate::kernels::fast::packed::pack)ed for the
    /// host's and the browser's kernel; empty on boards ([`crate::lower::Packing`]).
    pub packed: Span,
    /// Its blocks' requantization where the target's packed kernel keeps
    /// it ([`packed::units`]: the browser's); else empty.
    pub units: Span,
}
literal_struct!(ConvKernel { geom, weights, folded, packed, units });
literal_struct!(Geometry { in_h, in_w, kh, kw, stride_h, stride_w, dil_h, dil_w, pad_top, pad_left });

/// Geometry of a sliding window over operand 0 producing the output.
#[cfg(feature = "alloc")]
pub(crate) fn geometry_of(p: &crate::lower::Prepare, padding: Padding, h: Axis, w: Axis) -> Result<Geometry> {
    Ok(geometry(padding, h, w, p.shape(p.input(0)?), p.shape(p.output())))
}

/// Geometry of a sliding window over `in_shape` producing `out_shape` (NHWC).
#[cfg(feature = "alloc")]
fn geometry(padding: Padding, h: Axis, w: Axis, in_shape: [usize; 4], out_shape: [usize; 4]) -> Geometry {
    Geometry {
        in_h: in_shape[1],
        in_w: in_shape[2],
        kh: h.kernel,
        kw: w.kernel,
        stride_h: h.stride,
        stride_w: w.stride,
        dil_h: h.dilation,
        dil_w: w.dilation,
        pad_top: h.pad_before(padding, in_shape[1], out_shape[1]),
        pad_left: w.pad_before(padding, in_shape[2], out_shape[2]),
    }
}

impl Conv2d {
    pub fn input_rect(&self, out: Rect, in_hw: (usize, usize), out_hw: (usize, usize)) -> Rect {
        window_rect(self.padding, self.h, self.w, out, in_hw, out_hw)
    }

    pub fn macs(&self, pixels: u64, in_c: usize, out_c: usize) -> u64 {
        pixels * out_c as u64 * (self.h.kernel * self.w.kernel * in_c) as u64
    }

    #[cfg(feature = "alloc")]
    pub(crate) fn validate(&self, c: &crate::validate::Ctx) -> Result<()> {
        let (inp, out, _) = c.int8_images()?;
        let f = c.weights(1, 4)?;
        let (is, fs) = (&inp.1.shape, &f.1.shape);
        if fs[3] != is[3] {
            return Err(c.shape_err(
                "filter input channels differ from the input's (grouped convolution is not supported)",
                f.0,
            ));
        }
        c.per_channel(f, fs[0], 0)?;
        c.bias(2, fs[0])?;
        if fs[1] * fs[2] * fs[3] > crate::validate::MAX_ACCUMULATION {
            return Err(c.shape_err("convolution window too large for an int32 accumulator", f.0));
        }
        let what = "output shape does not match the convolution";
        c.window_output(self.padding, self.h, self.w, inp.1, out, fs[0], what)
    }

    #[cfg(feature = "alloc")]
    pub(crate) fn prepare(&self, p: &mut crate::lower::Prepare) -> Result<ConvKernel> {
        let geom = geometry_of(p, self.padding, self.h, self.w)?;
        let weights = Weights::prepare(p, self.activation)?;
        let oc = p.shape(p.output())[3];
        let (filter, bias) = (p.weight_data(1)?, p.bias_data(2)?);
        let folded = p.i32s(crate::kernels::fast::conv::folded_bias(filter, oc, bias, weights.input_offset))?;
        let f_row = geom.kw * p.shape(p.input(0)?)[3];
        let (packed, units) = match p.packing.conv {
            true => {
                let packed = p.i8s(packed::pack(filter, oc, geom.kh, f_row))?;
                // The stage and folded bias as the kernel will resolve them.
                let units = {
                    let c = p.consts();
                    let k = weights.resolve(&c)?;
                    packed::units(&k.stage, k.bias, c.i32(folded)?, oc, geom.kh * f_row).unwrap_or_default()
                };
                (packed, p.i32s(units)?)
            }
            false => (Span::default(), Span::default()),
        };
        Ok(ConvKernel { geom, weights, folded, packed, units })
    }
}

impl Eval for ConvKernel {
    fn eval(&self, c: &Consts, inputs: &[In], out: Out, region: Rect) -> Result<()> {
        let x = first(inputs)?;
        let k = self.weights.resolve(c)?;
        let (xd, od) = (crate::arena::as_i8(x.data), crate::arena::as_i8_mut(out.data));
        let folded = c.i32(self.folded)?;
        // Boards' programs never pack (and their builds leave the packed kernel out).
        if cfg!(target_arch = "arm") || self.packed.len == 0 {
            conv2d(&self.geom, &k, folded, xd, x.win, od, out.win, region)
        } else {
            let packed = (c.i8(self.packed)?, c.i32(self.units)?);
            packed::conv2d(&self.geom, &k, folded, packed, xd, x.win, od, out.win, region)
        }
        Ok(())
    }
}
