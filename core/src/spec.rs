//! Architecture specs for MobileNetV2/MCUNet-style networks, a builder that
//! turns a spec into a [`Graph`] with seeded synthetic int8 weights and
//! realistic quantization, presets, and MCUNetV2's receptive-field
//! redistribution (RD) as a spec transform.
//!
//! RD changes the architecture, so it works here — on specs — rather than on
//! trained weights: memory, MACs, overhead, execution and export all work on
//! the built graph, but its weights would have to be trained.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::graph::{ConstData, DType, Graph, Node, Quant, Tensor, TensorId};
use crate::op::{self, Activation, Axis, Op, Padding};

/// A stack of inverted-residual blocks with the same settings (a row of the MobileNetV2 table).
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct BlockGroup {
    /// Depthwise kernel size.
    pub kernel: usize,
    /// Expansion ratio of the 1×1 expansion convolution (1: no expansion conv).
    pub expansion: usize,
    /// Stride of the first block of the group.
    pub stride: usize,
    /// Output channels before the width multiplier.
    pub out_channels: usize,
    pub repeat: usize,
    /// A squeeze-and-excitation gate after the depthwise convolution (MEAN,
    /// 1×1 reduce to a quarter, RELU6, 1×1 expand, LOGISTIC, MUL).
    #[cfg_attr(feature = "serde", serde(default))]
    pub se: bool,
}

#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ArchSpec {
    pub name: String,
    /// Input height and width.
    pub resolution: usize,
    pub width_multiplier: f32,
    /// First convolution: output channels (before the multiplier), kernel, stride.
    pub first_channels: usize,
    pub first_kernel: usize,
    pub first_stride: usize,
    pub blocks: Vec<BlockGroup>,
    /// Channels of the last 1×1 convolution (not scaled below width 1.0, as in Keras).
    pub head_channels: usize,
    pub classes: usize,
    /// Seed of the synthetic weights.
    pub seed: u64,
}

/// Keras' `_make_divisible`: round to a multiple of 8, never more than 10 % down.
pub fn make_divisible(v: f32, divisor: usize) -> usize {
    let d = divisor as f32;
    // Saturating: `as usize` saturates on absurd widths, the products must too.
    let mut n = (((v + d / 2.0) / d) as usize).saturating_mul(divisor);
    n = n.max(divisor);
    if (n as f32) < 0.9 * v {
        n = n.saturating_add(divisor);
    }
    n
}

fn group(kernel: usize, expansion: usize, stride: usize, out_channels: usize, repeat: usize) -> BlockGroup {
    BlockGroup { kernel, expansion, stride, out_channels, repeat, se: false }
}

impl ArchSpec {
    /// MobileNetV2 (Sandler et al.) at a width multiplier and resolution.
    pub fn mobilenet_v2(width: f32, resolution: usize, classes: usize) -> Self {
        ArchSpec {
            name: format!("mbv2-w{width}-r{resolution}"),
            resolution,
            width_multiplier: width,
            first_channels: 32,
            first_kernel: 3,
            first_stride: 2,
            blocks: alloc::vec![
                group(3, 1, 1, 16, 1),
                group(3, 6, 2, 24, 2),
                group(3, 6, 2, 32, 3),
                group(3, 6, 2, 64, 4),
                group(3, 6, 1, 96, 3),
                group(3, 6, 2, 160, 3),
                group(3, 6, 1, 320, 1),
            ],
            head_channels: 1280,
            classes,
            seed: 2021,
        }
    }

    /// An MCUNet-style network: mixed kernels (3/5/7) and expansions (3/4/6)
    /// at 176×176, the kind of model the TinyNAS search produces for 320 kB.
    pub fn mcunet_like() -> Self {
        ArchSpec {
            name: "mcunet-like-r176".into(),
            resolution: 176,
            width_multiplier: 1.0,
            first_channels: 16,
            first_kernel: 3,
            first_stride: 2,
            blocks: alloc::vec![
                group(3, 1, 1, 8, 1),
                group(7, 4, 2, 16, 2),
                group(5, 3, 2, 24, 3),
                group(7, 4, 2, 40, 3),
                group(5, 4, 1, 48, 3),
                group(5, 6, 2, 96, 3),
                group(5, 6, 1, 160, 1),
            ],
            head_channels: 640,
            classes: 1000,
            seed: 2020,
        }
    }

    /// Presets by name, each also with an `-rd` variant.
    pub fn preset(name: &str) -> Option<Self> {
        let (base, rd) = match name.strip_suffix("-rd") {
            Some(b) => (b, true),
            None => (name, false),
        };
        let spec = match base {
            "mbv2-w0.35-r144" => Self::mobilenet_v2(0.35, 144, 2),
            "mbv2-w1.0-r224" => Self::mobilenet_v2(1.0, 224, 1000),
            "mcunet-like-r176" => Self::mcunet_like(),
            _ => return None,
        };
        Some(if rd { spec.redistribute(DEFAULT_RD_STAGE_GROUPS) } else { spec })
    }

    pub const PRESETS: [&'static str; 6] = [
        "mbv2-w0.35-r144",
        "mbv2-w0.35-r144-rd",
        "mbv2-w1.0-r224",
        "mbv2-w1.0-r224-rd",
        "mcunet-like-r176",
        "mcunet-like-r176-rd",
    ];

    /// Receptive-field redistribution for a patch stage made of the first
    /// conv and the first `stage_groups` block groups: inside the stage every
    /// depthwise kernel becomes 3×3 and each group loses one repeat (keeping
    /// at least one); the first group after the stage gains the removed
    /// blocks and a kernel of at least 5, so the network keeps its depth and
    /// moves receptive field to where it costs no halo.
    pub fn redistribute(&self, stage_groups: usize) -> Self {
        let mut out = self.clone();
        out.name = format!("{}-rd", self.name);
        let stage_groups = stage_groups.min(out.blocks.len());
        let mut moved = 0;
        for g in out.blocks.iter_mut().take(stage_groups) {
            g.kernel = g.kernel.min(3);
            if g.repeat > 1 {
                g.repeat -= 1;
                moved += 1;
            }
        }
        if let Some(g) = out.blocks.get_mut(stage_groups) {
            g.repeat = g.repeat.saturating_add(moved);
            g.kernel = g.kernel.max(5);
        }
        out
    }

    pub fn channels(&self, c: usize) -> usize {
        make_divisible(c as f32 * self.width_multiplier, 8)
    }
}

/// Stage size the presets' RD variants assume (first conv + 3 groups: the
/// blocks at 1/2, 1/4 and 1/8 resolution, as in MCUNetV2's MobileNetV2 study).
pub const DEFAULT_RD_STAGE_GROUPS: usize = 3;

/// Seeded generator for synthetic weights (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    /// Uniform in [0, 1).
    fn unit(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 24) as f32
    }
    fn int(&mut self, lo: i32, hi: i32) -> i32 {
        lo + (self.next() % (hi - lo + 1) as u64) as i32
    }
}

/// The graph built from a spec, with the operator index ending each block group.
pub struct Built {
    pub graph: Graph,
    /// Operator index of the last op of the first conv (index 0) and of each block group.
    pub group_ends: Vec<usize>,
}

struct Builder {
    g: Graph,
    rng: Rng,
}

const RELU6_SCALE: f32 = 6.0 / 255.0;

impl Builder {
    fn tensor(
        &mut self,
        name: String,
        shape: Vec<usize>,
        dtype: DType,
        quant: Quant,
        data: Option<ConstData>,
    ) -> TensorId {
        self.g.tensors.push(Tensor { name, dtype, shape, quant, data });
        self.g.tensors.len() - 1
    }

    fn act(&mut self, name: String, shape: Vec<usize>, scale: f32, zp: i32) -> TensorId {
        self.tensor(name, shape, DType::I8, Quant::PerTensor { scale, zero_point: zp }, None)
    }

    fn scale_zp(&self, t: TensorId) -> (f32, i32) {
        self.g.tensors[t].quant.per_tensor().unwrap_or((1.0, 0))
    }

    /// Weights `[d0, kh, kw, d3]` with per-channel scales along `axis`, and a bias,
    /// scaled so that outputs land inside the output range.
    fn weights(
        &mut self,
        name: &str,
        shape: [usize; 4],
        axis: usize,
        fan_in: usize,
        in_scale: f32,
        out_scale: f32,
    ) -> (TensorId, TensorId) {
        let n: usize = shape.iter().product();
        let data: Vec<i8> = (0..n).map(|_| self.rng.int(-127, 127) as i8).collect();
        let channels = shape[axis];
        let target = out_scale / (in_scale * 127.0 * libm::sqrtf(fan_in as f32) * 0.5);
        let scales: Vec<f32> = (0..channels).map(|_| target * (0.5 + self.rng.unit())).collect();
        let bias: Vec<i32> = (0..channels).map(|_| self.rng.int(-512, 512)).collect();
        let w = self.tensor(
            format!("{name}.weights"),
            shape.to_vec(),
            DType::I8,
            Quant::PerChannel { scales: scales.clone(), zero_points: alloc::vec![0; channels], axis },
            Some(ConstData::I8(data)),
        );
        let bias_scales: Vec<f32> = scales.iter().map(|s| s * in_scale).collect();
        let b = self.tensor(
            format!("{name}.bias"),
            alloc::vec![channels],
            DType::I32,
            Quant::PerChannel { scales: bias_scales, zero_points: alloc::vec![0; channels], axis: 0 },
            Some(ConstData::I32(bias)),
        );
        (w, b)
    }

    fn node(&mut self, op: Op, inputs: &[TensorId], out: TensorId) -> usize {
        self.g.nodes.push(Node { op, inputs: inputs.iter().map(|&t| Some(t)).collect(), outputs: alloc::vec![out] });
        self.g.nodes.len() - 1
    }

    fn conv(&mut self, name: &str, x: TensorId, out_c: usize, k: usize, stride: usize, relu6: bool) -> TensorId {
        let s = self.g.tensors[x].shape.clone();
        let (in_scale, _) = self.scale_zp(x);
        let axis = Axis { kernel: k, stride, dilation: 1 };
        let (oh, ow) = (axis.out_size(Padding::Same, s[1]), axis.out_size(Padding::Same, s[2]));
        let (out_scale, zp) =
            if relu6 { (RELU6_SCALE, -128) } else { (0.04 + 0.04 * self.rng.unit(), self.rng.int(-10, 10)) };
        let (w, b) = self.weights(name, [out_c, k, k, s[3]], 0, k * k * s[3], in_scale, out_scale);
        let y = self.act(format!("{name}.out"), alloc::vec![s[0], oh, ow, out_c], out_scale, zp);
        let act = if relu6 { Activation::Relu6 } else { Activation::None };
        self.node(Op::Conv2d(op::Conv2d { padding: Padding::Same, h: axis, w: axis, activation: act }), &[x, w, b], y);
        y
    }

    fn depthwise(&mut self, name: &str, x: TensorId, k: usize, stride: usize) -> TensorId {
        let s = self.g.tensors[x].shape.clone();
        let (in_scale, _) = self.scale_zp(x);
        let axis = Axis { kernel: k, stride, dilation: 1 };
        let (oh, ow) = (axis.out_size(Padding::Same, s[1]), axis.out_size(Padding::Same, s[2]));
        let (w, b) = self.weights(name, [1, k, k, s[3]], 3, k * k, in_scale, RELU6_SCALE);
        let y = self.act(format!("{name}.out"), alloc::vec![s[0], oh, ow, s[3]], RELU6_SCALE, -128);
        let op = op::DepthwiseConv2d {
            padding: Padding::Same,
            h: axis,
            w: axis,
            depth_multiplier: 1,
            activation: Activation::Relu6,
        };
        self.node(Op::DepthwiseConv2d(op), &[x, w, b], y);
        y
    }

    /// `x · sigmoid(expand(relu6(reduce(mean(x)))))`, the gate a `[1, 1, 1, C]` vector.
    fn squeeze_excite(&mut self, name: &str, x: TensorId) -> TensorId {
        let s = self.g.tensors[x].shape.clone();
        let c = s[3];
        let (xs, xz) = self.scale_zp(x);
        let pooled = self.act(format!("{name}.pool"), alloc::vec![s[0], 1, 1, c], xs, xz);
        let axes = self.tensor(
            format!("{name}.axes"),
            alloc::vec![2],
            DType::I32,
            Quant::None,
            Some(ConstData::I32(alloc::vec![1, 2])),
        );
        self.node(Op::Mean(op::Mean { axes: 0b0110, keep_dims: true, sum: false }), &[x, axes], pooled);
        let r = self.conv(&format!("{name}.reduce"), pooled, (c / 4).max(8), 1, 1, true);
        let e = self.conv(&format!("{name}.expand"), r, c, 1, 1, false);
        let gate = self.act(format!("{name}.gate"), alloc::vec![s[0], 1, 1, c], 1.0 / 256.0, -128);
        self.node(Op::Logistic, &[e], gate);
        let y = self.act(format!("{name}.out"), s, xs, xz);
        self.node(Op::Binary(op::Binary::Mul(Activation::None)), &[x, gate], y);
        y
    }

    fn add(&mut self, name: &str, a: TensorId, b: TensorId) -> TensorId {
        let s = self.g.tensors[a].shape.clone();
        let scale = 0.05 + 0.03 * self.rng.unit();
        let zp = self.rng.int(-8, 8);
        let y = self.act(format!("{name}.out"), s, scale, zp);
        self.node(Op::Add(Activation::None), &[a, b], y);
        y
    }
}

/// How large a spec may make its network, checked before anything is allocated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpecLimits {
    /// Synthetic int8 weights in all (bytes).
    pub weights: u64,
    /// Bytes of the largest int8 activation.
    pub activation: u64,
}

impl SpecLimits {
    /// What `build` accepts: 64 MiB of weights, and a tensor as large as the loader allows.
    pub const DEFAULT: SpecLimits =
        SpecLimits { weights: 64 << 20, activation: crate::loader::MAX_TENSOR_BYTES as u64 };
}

/// Weights the builder would create for `spec` and its largest activation
/// (int8 elements), in saturating arithmetic so that absurd fields cannot overflow.
pub fn sizes(spec: &ArchSpec) -> (u64, u64) {
    let sq = |k: u64| k.saturating_mul(k);
    let ch = |c: usize| spec.channels(c) as u64;
    let mut h = (spec.resolution as u64).div_ceil(spec.first_stride.max(1) as u64);
    let mut c = ch(spec.first_channels);
    let mut weights = c.saturating_mul(sq(spec.first_kernel as u64)).saturating_mul(3);
    let mut act = sq(spec.resolution as u64).saturating_mul(3).max(sq(h).saturating_mul(c));
    for g in &spec.blocks {
        let out = ch(g.out_channels);
        // Repeats after the first are identical (c = out, stride 1): their
        // weights are added `repeat - 1` times, so a hostile repeat count
        // costs no time.
        for rep in 0..g.repeat.min(2) {
            let e = c.saturating_mul(g.expansion as u64);
            let expand = if g.expansion != 1 { c.saturating_mul(e) } else { 0 };
            let block =
                expand.saturating_add(sq(g.kernel as u64).saturating_mul(e)).saturating_add(e.saturating_mul(out));
            let times = if rep == 0 { 1 } else { g.repeat as u64 - 1 };
            weights = weights.saturating_add(block.saturating_mul(times));
            act = act.max(sq(h).saturating_mul(e));
            if rep == 0 {
                h = h.div_ceil(g.stride.max(1) as u64);
            }
            act = act.max(sq(h).saturating_mul(e.max(out)));
            c = out;
        }
    }
    let head = (spec.head_channels as u64).max(ch(spec.head_channels));
    weights = weights.saturating_add(c.saturating_mul(head)).saturating_add(head.saturating_mul(spec.classes as u64));
    (weights, act.max(sq(h).saturating_mul(head)))
}

/// Rejects a spec whose weights or largest activation exceed `limits`, before allocating.
pub fn check_sizes(spec: &ArchSpec, limits: SpecLimits) -> crate::error::Result<()> {
    use crate::error::Error;
    check_fields(spec)?;
    let (weights, act) = sizes(spec);
    if weights > limits.weights {
        return Err(Error::Limit { what: "spec: bytes of synthetic weights", value: weights, limit: limits.weights });
    }
    if act > limits.activation {
        return Err(Error::Limit {
            what: "spec: bytes of the largest activation",
            value: act,
            limit: limits.activation,
        });
    }
    Ok(())
}

/// The field ranges `build` accepts, checked before any size is computed.
fn check_fields(spec: &ArchSpec) -> crate::error::Result<()> {
    if spec.resolution == 0 || spec.resolution > 1024 || spec.blocks.is_empty() || spec.blocks.len() > 64 {
        return Err(crate::error::Error::model(
            "spec: resolution must be 1..1024 and there must be 1..64 block groups",
        ));
    }
    let bad_group = |g: &BlockGroup| {
        g.kernel == 0
            || g.kernel > 11
            || g.kernel % 2 == 0
            || g.stride == 0
            || g.stride > 4
            || g.expansion == 0
            || g.expansion > 16
            || g.repeat == 0
            || g.repeat > 16
            || g.out_channels == 0
            || g.out_channels > 4096
    };
    if spec.blocks.iter().any(bad_group)
        || spec.first_kernel % 2 == 0
        || spec.first_kernel > 11
        || spec.first_stride == 0
        || spec.first_stride > 4
    {
        return Err(crate::error::Error::model(
            "spec: kernels must be odd and ≤ 11, strides 1..4, expansions 1..16, repeats 1..16",
        ));
    }
    if !(spec.width_multiplier > 0.0 && spec.width_multiplier <= 4.0)
        || spec.classes == 0
        || spec.classes > 100_000
        || spec.head_channels > 8192
        || spec.first_channels > 4096
    {
        return Err(crate::error::Error::model(
            "spec: width multiplier must be in (0, 4], classes 1..100000, first and head channels ≤ 4096 and 8192",
        ));
    }
    Ok(())
}

/// Builds a spec into a validated graph (NHWC, batch 1, int8 in and out).
pub fn build(spec: &ArchSpec) -> crate::error::Result<Built> {
    check_sizes(spec, SpecLimits::DEFAULT)?;
    let mut b = Builder { g: Graph::default(), rng: Rng(spec.seed | 1) };
    let r = spec.resolution;
    let x = b.act("input".into(), alloc::vec![1, r, r, 3], 1.0 / 128.0, 0);
    b.g.inputs.push(x);
    let mut x = b.conv("conv0", x, spec.channels(spec.first_channels), spec.first_kernel, spec.first_stride, true);
    let mut group_ends = alloc::vec![b.g.nodes.len() - 1];
    let mut block = 0;
    for grp in &spec.blocks {
        let out_c = spec.channels(grp.out_channels);
        for rep in 0..grp.repeat {
            let stride = if rep == 0 { grp.stride } else { 1 };
            let in_c = b.g.tensors[x].shape[3];
            let name = format!("block{block}");
            let mut h = x;
            if grp.expansion != 1 {
                h = b.conv(&format!("{name}.expand"), h, in_c * grp.expansion, 1, 1, true);
            }
            h = b.depthwise(&format!("{name}.dw"), h, grp.kernel, stride);
            if grp.se {
                h = b.squeeze_excite(&format!("{name}.se"), h);
            }
            h = b.conv(&format!("{name}.project"), h, out_c, 1, 1, false);
            if stride == 1 && in_c == out_c {
                h = b.add(&format!("{name}.add"), h, x);
            }
            x = h;
            block += 1;
        }
        group_ends.push(b.g.nodes.len() - 1);
    }
    let head = if spec.width_multiplier > 1.0 {
        make_divisible(spec.head_channels as f32 * spec.width_multiplier, 8)
    } else {
        spec.head_channels
    };
    x = b.conv("head", x, head, 1, 1, true);
    let (hs, hz) = b.scale_zp(x);
    let pooled = b.act("pool.out".into(), alloc::vec![1, head], hs, hz);
    let axes =
        b.tensor("pool.axes".into(), alloc::vec![2], DType::I32, Quant::None, Some(ConstData::I32(alloc::vec![1, 2])));
    b.node(Op::Mean(op::Mean { axes: 0b0110, keep_dims: false, sum: false }), &[x, axes], pooled);
    let logit_scale = 0.1;
    let n: usize = spec.classes * head;
    let data: Vec<i8> = (0..n).map(|_| b.rng.int(-127, 127) as i8).collect();
    let w_scale = logit_scale / (hs * 127.0 * libm::sqrtf(head as f32) * 0.5);
    let w = b.tensor(
        "fc.weights".into(),
        alloc::vec![spec.classes, head],
        DType::I8,
        Quant::PerTensor { scale: w_scale, zero_point: 0 },
        Some(ConstData::I8(data)),
    );
    let bias: Vec<i32> = (0..spec.classes).map(|_| b.rng.int(-256, 256)).collect();
    let bias = b.tensor(
        "fc.bias".into(),
        alloc::vec![spec.classes],
        DType::I32,
        Quant::PerTensor { scale: w_scale * hs, zero_point: 0 },
        Some(ConstData::I32(bias)),
    );
    let logits = b.act("fc.out".into(), alloc::vec![1, spec.classes], logit_scale, 0);
    b.node(
        Op::FullyConnected(op::FullyConnected { activation: Activation::None, keep_num_dims: false }),
        &[pooled, w, bias],
        logits,
    );
    let probs = b.act("softmax.out".into(), alloc::vec![1, spec.classes], 1.0 / 256.0, -128);
    b.node(Op::Softmax(op::Softmax { beta: 1.0 }), &[logits], probs);
    b.g.outputs.push(probs);
    crate::validate::validate(&b.g)?;
    Ok(Built { graph: b.g, group_ends })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keras_channel_rounding() {
        assert_eq!(make_divisible(32.0 * 0.35, 8), 16);
        assert_eq!(make_divisible(24.0 * 0.35, 8), 8);
        assert_eq!(make_divisible(320.0 * 0.35, 8), 112);
    }

    #[test]
    fn absurd_specs_are_rejected_before_allocating() {
        let mut s = ArchSpec::preset("mbv2-w1.0-r224").unwrap();
        s.resolution = 1024;
        s.width_multiplier = 4.0;
        s.blocks[0].expansion = 16;
        assert!(build(&s).is_err());
        let mut s = ArchSpec::preset("mbv2-w0.35-r144").unwrap();
        s.classes = 100_000;
        s.head_channels = 8192;
        assert!(build(&s).is_err());
    }

    #[test]
    fn presets_build_and_rd_keeps_depth() {
        for name in ArchSpec::PRESETS {
            let spec = ArchSpec::preset(name).unwrap();
            let built = build(&spec).unwrap();
            assert_eq!(built.group_ends.len(), spec.blocks.len() + 1, "{name}");
        }
        let base = ArchSpec::preset("mbv2-w1.0-r224").unwrap();
        let rd = ArchSpec::preset("mbv2-w1.0-r224-rd").unwrap();
        let depth = |s: &ArchSpec| s.blocks.iter().map(|g| g.repeat).sum::<usize>();
        assert_eq!(depth(&base), depth(&rd));
        assert!(rd.blocks[..DEFAULT_RD_STAGE_GROUPS].iter().all(|g| g.kernel == 3));
    }
}

/// Why [`infer`] could not read a graph as an MBConv network: where it stopped and what it expected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotMbconv {
    /// The operator it stopped at (`None`: the graph as a whole).
    pub op_index: Option<usize>,
    pub op: &'static str,
    pub what: &'static str,
}

impl NotMbconv {
    /// The sentence the CLI and the page give when RD cannot be applied to a trained model.
    pub fn rd_unavailable(&self) -> String {
        alloc::format!(
            "receptive-field redistribution needs a MobileNetV2/MCUNet-style architecture (first conv, MBConv \
             blocks with optional squeeze-and-excitation, 1×1 head conv, MEAN, FULLY_CONNECTED); this model does \
             not follow it: {self}"
        )
    }
}

impl core::fmt::Display for NotMbconv {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.op_index {
            Some(i) => write!(f, "at operator {i} ({}): {}", self.op, self.what),
            None => f.write_str(self.what),
        }
    }
}

/// Reads a MobileNetV2 / ProxylessNAS / MCUNet-style architecture back from
/// a graph — a first convolution, MBConv blocks (optional 1×1 expansion with
/// an integer ratio, a k×k depthwise convolution with k = 3, 5, 7…, an
/// optional squeeze-and-excitation gate, a 1×1 projection, an optional
/// residual ADD), a 1×1 head convolution, MEAN and FULLY_CONNECTED layers —
/// so RD can be shown as a "what if" on a loaded model. Activations as
/// separate operators and explicit PADs before a depthwise convolution are
/// read through. Where the graph departs from that pattern, the error names
/// the operator. The weights of a redistributed network would have to be
/// retrained.
pub fn infer(g: &Graph) -> core::result::Result<ArchSpec, NotMbconv> {
    let nodes = &g.nodes;
    let stop = |i: usize, what| NotMbconv {
        op_index: Some(i),
        op: nodes.get(i).map_or("end of graph", |n| n.op.name()),
        what,
    };
    let whole = |what| NotMbconv { op_index: None, op: "", what };
    let shape = |i: usize| g.tensors[nodes[i].output()].nhwc();
    let input = g.tensors[*g.inputs.first().ok_or(whole("the model has no input"))?].nhwc();
    if input[1] != input[2] || input[3] != 3 {
        return Err(whole("the input is not a square RGB image"));
    }
    let op = |i: usize| nodes.get(i).map(|n| n.op);
    // Activations written as their own operators follow the op they belong to.
    let skip_act = |mut i: usize| {
        while matches!(op(i), Some(Op::Relu | Op::Relu6 | Op::HardSwish | Op::LeakyRelu(_))) {
            i += 1;
        }
        i
    };
    let is_1x1 = |i: usize| matches!(op(i), Some(Op::Conv2d(c)) if c.h.kernel == 1 && c.w.kernel == 1 && c.h.stride == 1 && c.w.stride == 1);
    let Some(Op::Conv2d(c0)) = op(0) else { return Err(stop(0, "the network does not start with a convolution")) };
    let mut spec = ArchSpec {
        name: "inferred".into(),
        resolution: input[1],
        width_multiplier: 1.0,
        first_channels: shape(0)[3],
        first_kernel: c0.h.kernel,
        first_stride: c0.h.stride,
        blocks: Vec::new(),
        head_channels: 0,
        classes: 0,
        seed: 1,
    };
    let mut i = skip_act(1);
    let head = loop {
        let in_c = shape(i - 1)[3];
        let start = i;
        let mut at = i;
        let expand = is_1x1(at) && {
            let after = skip_act(at + 1);
            matches!(op(after), Some(Op::DepthwiseConv2d(_) | Op::Pad(_)))
        };
        if expand {
            at = skip_act(at + 1);
        }
        if matches!(op(at), Some(Op::Pad(_))) {
            at += 1;
        }
        let Some(Op::DepthwiseConv2d(dw)) = op(at) else { break start };
        let hidden = shape(at)[3];
        at = skip_act(at + 1);
        // Squeeze-and-excitation: MEAN over the pixels, 1×1 convs, a gate, MUL.
        let mut se = false;
        if matches!(op(at), Some(Op::Mean(m)) if m.keep_dims && !m.sum) {
            let feature = nodes[at].input(0);
            let mul = (at + 1..nodes.len().min(at + 12))
                .find(|&k| matches!(op(k), Some(Op::Binary(op::Binary::Mul(_)))) && nodes[k].inputs.contains(&feature));
            let Some(mul) = mul else { return Err(stop(at, "a squeeze-and-excitation MEAN without its MUL gate")) };
            se = true;
            at = mul + 1;
        }
        if !is_1x1(at) {
            return Err(stop(at, "expected the 1×1 projection convolution of an MBConv block"));
        }
        let expansion = if expand { hidden / in_c } else { 1 };
        if (expand && hidden != in_c * expansion) || (!expand && hidden != in_c) {
            return Err(stop(start, "the expansion ratio is not an integer"));
        }
        let out_c = shape(at)[3];
        at += 1;
        if matches!(op(at), Some(Op::Add(_))) {
            at = skip_act(at + 1);
        }
        let block =
            BlockGroup { kernel: dw.h.kernel, expansion, stride: dw.h.stride, out_channels: out_c, repeat: 1, se };
        match spec.blocks.last_mut() {
            Some(last)
                if block.stride == 1
                    && last.kernel == block.kernel
                    && last.expansion == block.expansion
                    && last.se == block.se
                    && last.out_channels == out_c =>
            {
                last.repeat += 1
            }
            _ => spec.blocks.push(block),
        }
        i = at;
    };
    if spec.blocks.is_empty() {
        return Err(stop(head, "expected an MBConv block (1×1 expansion, depthwise convolution, 1×1 projection)"));
    }
    if !is_1x1(head) {
        return Err(stop(head, "expected the 1×1 head convolution after the last MBConv block"));
    }
    let pool = skip_act(head + 1);
    if !matches!(op(pool), Some(Op::Mean(m)) if !m.sum) {
        return Err(stop(pool, "expected the global MEAN after the head convolution"));
    }
    let fc = (pool + 1..nodes.len()).rev().find(|&k| matches!(op(k), Some(Op::FullyConnected(_))));
    let Some(fc) = fc else { return Err(stop(pool + 1, "expected FULLY_CONNECTED after the pooling")) };
    spec.head_channels = shape(head)[3];
    spec.classes = *g.tensors[nodes[fc].output()].shape.last().ok_or(stop(fc, "the classifier output has no shape"))?;
    Ok(spec)
}

#[cfg(test)]
mod infer_tests {
    use super::*;

    fn shapes(g: &Graph) -> Vec<(&'static str, Vec<usize>)> {
        g.nodes.iter().map(|n| (n.op.name(), g.tensors[n.output()].shape.clone())).collect()
    }

    /// An MCUNet-style network: kernels 3/5/7, expansions 1/3/4/6, SE in
    /// some groups. It builds, validates, and reads back to the same network.
    #[test]
    fn mbconv_with_se_and_mixed_kernels_is_inferred_back() {
        let blocks = alloc::vec![
            BlockGroup { se: false, ..group(3, 1, 1, 16, 1) },
            BlockGroup { se: true, ..group(5, 3, 2, 24, 2) },
            BlockGroup { se: false, ..group(7, 4, 2, 40, 2) },
            BlockGroup { se: true, ..group(3, 6, 2, 80, 1) },
        ];
        let spec = ArchSpec {
            name: "mbconv-se".into(),
            resolution: 64,
            width_multiplier: 1.0,
            first_channels: 16,
            first_kernel: 3,
            first_stride: 2,
            blocks,
            head_channels: 160,
            classes: 5,
            seed: 3,
        };
        let g = build(&spec).unwrap().graph;
        crate::validate::validate(&g).unwrap();
        assert!(g.nodes.iter().any(|n| matches!(n.op, Op::Binary(op::Binary::Mul(_)))));
        let back = infer(&g).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back.blocks, spec.blocks);
        let rebuilt = build(&ArchSpec { seed: spec.seed, name: spec.name.clone(), ..back }).unwrap().graph;
        assert_eq!(shapes(&rebuilt), shapes(&g));
    }

    /// A graph that is not an MBConv network is refused with the operator where reading stopped.
    #[test]
    fn what_infer_cannot_read_is_named() {
        let mut g = build(&ArchSpec::preset("mbv2-w0.35-r144").unwrap()).unwrap().graph;
        // The classifier removed: the head's MEAN is the last operator.
        let mean = g.nodes.iter().rposition(|n| matches!(n.op, Op::Mean(_))).unwrap();
        g.nodes.truncate(mean + 1);
        let e = infer(&g).unwrap_err();
        assert_eq!(e.what, "expected FULLY_CONNECTED after the pooling", "{e}");
        assert!(alloc::format!("{e}").starts_with("at operator"), "{e}");
    }

    #[test]
    fn a_built_spec_is_inferred_back() {
        for name in ["mbv2-w0.35-r144", "mbv2-w1.0-r224", "mcunet-like-r176"] {
            let spec = ArchSpec::preset(name).unwrap();
            let g = build(&spec).unwrap().graph;
            let back = infer(&g).unwrap_or_else(|e| panic!("{name}: {e}"));
            let rebuilt = build(&ArchSpec { seed: spec.seed, name: spec.name.clone(), ..back }).unwrap().graph;
            assert_eq!(shapes(&rebuilt), shapes(&g), "{name}");
        }
    }
}
