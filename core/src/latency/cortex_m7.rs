//! Cortex-M7 instruction costs per operator class, fitted on per-step
//! instruction counts of the exported firmware under QEMU (mps2-an500):
//! written by `tools/bench-m7/run --costs at 6312bcb`; do not edit.
//!
//! Fitted on every shipped model under its board schedule and a second
//! (layer by layer, or the smallest peak); the estimate next to what was
//! measured (firmware with step markers):
//!
//! | model | schedule | measured | estimated | error |
//! |---|---|---:|---:|---:|
//! | blazeface-short-int8 | ops 0..=15, 1×2 patches | 78,353,136 | 77,772,865 | -0.7 % |
//! | blazeface-short-int8 | ops 0..=31, 8×8 patches | 295,940,934 | 299,878,782 | +1.3 % |
//! | mbv2-w0.35-r144-int8 | layer by layer | 65,772,736 | 64,336,848 | -2.2 % |
//! | mbv3se-int8 | ops 0..=1, 8×8 patches | 43,874,464 | 41,723,942 | -4.9 % |
//! | mbv3se-int8 | ops 0..=2, 2×3 patches | 60,482,257 | 58,379,370 | -3.5 % |
//! | opsnet-int8 | ops 0..=2, 5×7 patches | 14,277,505 | 13,244,316 | -7.2 % |
//! | opsnet-int8 | ops 0..=12, 7×8 patches | 48,816,517 | 42,568,645 | -12.8 % |
//! | torchconv-int8 | layer by layer | 13,068,810 | 12,041,234 | -7.9 % |
//! | yolofpn-int8 | layer by layer | 32,203,271 | 31,949,468 | -0.8 % |

use super::{CostModel, OpCost};

#[rustfmt::skip]
pub const CORTEX_M7: CostModel = CostModel {
    name: "Cortex-M7 (thumbv7em-none-eabihf, dsp), QEMU instruction counts",
    source: "tools/bench-m7/run --costs at 6312bcb",
    per_inference: 155.3,
    ops: &[
        OpCost { op: "ADD", form: "", per_step: 17973.0, per_mac: 0.0000, per_element: 19.0826, samples: 494 },
        OpCost { op: "AVERAGE_POOL_2D", form: "", per_step: 2930.5, per_mac: 0.0000, per_element: 95.8308, samples: 58 },
        OpCost { op: "CONCATENATION", form: "", per_step: 2198.4, per_mac: 0.0000, per_element: 1.5651, samples: 63 },
        OpCost { op: "CONV_2D", form: "1x1", per_step: 16725.0, per_mac: 1.2189, per_element: 13.2927, samples: 667 },
        OpCost { op: "CONV_2D", form: "dilated", per_step: 633.8, per_mac: 9.9553, per_element: 0.0000, samples: 57 },
        OpCost { op: "CONV_2D", form: "kxk", per_step: 22476.6, per_mac: 1.2267, per_element: 39.3349, samples: 291 },
        OpCost { op: "DEPTHWISE_CONV_2D", form: "3x3", per_step: 18420.0, per_mac: 4.1096, per_element: 0.0000, samples: 433 },
        OpCost { op: "DEPTHWISE_CONV_2D", form: "3x3 in place", per_step: 611285.4, per_mac: 3.6082, per_element: 0.0000, samples: 19 },
        OpCost { op: "DEPTHWISE_CONV_2D", form: "dilated", per_step: 1865.8, per_mac: 48.9540, per_element: 0.0000, samples: 57 },
        OpCost { op: "DEPTHWISE_CONV_2D", form: "kxk", per_step: 271937.4, per_mac: 4.0895, per_element: 0.0000, samples: 8 },
        OpCost { op: "DEPTHWISE_CONV_2D", form: "kxk in place", per_step: 137083.1, per_mac: 15.5065, per_element: 0.0000, samples: 8 },
        OpCost { op: "DEQUANTIZE", form: "", per_step: 497.2, per_mac: 0.0000, per_element: 142.8271, samples: 5 },
        OpCost { op: "FULLY_CONNECTED", form: "", per_step: 582.6, per_mac: 6.9961, per_element: 445.2631, samples: 12 },
        OpCost { op: "HARD_SWISH", form: "", per_step: 871.1, per_mac: 0.0000, per_element: 4.7613, samples: 163 },
        OpCost { op: "LEAKY_RELU", form: "", per_step: 429.3, per_mac: 0.0000, per_element: 4.7501, samples: 6 },
        OpCost { op: "LOGISTIC", form: "", per_step: 483.0, per_mac: 0.0000, per_element: 0.0000, samples: 2 },
        OpCost { op: "MAX_POOL_2D", form: "", per_step: 3332.2, per_mac: 0.0000, per_element: 60.8812, samples: 190 },
        OpCost { op: "MEAN", form: "", per_step: 34091.4, per_mac: 0.0000, per_element: 71.1840, samples: 24 },
        OpCost { op: "MUL", form: "", per_step: 882.1, per_mac: 0.0000, per_element: 71.3172, samples: 36 },
        OpCost { op: "PAD", form: "", per_step: 1432.1, per_mac: 0.0000, per_element: 4.7015, samples: 433 },
        OpCost { op: "QUANTIZE", form: "", per_step: 0.0, per_mac: 0.0000, per_element: 31.1934, samples: 101 },
        OpCost { op: "RELU", form: "", per_step: 783.1, per_mac: 0.0000, per_element: 4.7461, samples: 417 },
        OpCost { op: "RESHAPE", form: "", per_step: 59.6, per_mac: 0.0000, per_element: 0.0001, samples: 9 },
        OpCost { op: "RESIZE_BILINEAR", form: "", per_step: 559087.0, per_mac: 0.0000, per_element: 0.0000, samples: 2 },
        OpCost { op: "RESIZE_NEAREST_NEIGHBOR", form: "", per_step: 0.0, per_mac: 0.0000, per_element: 3.4353, samples: 2 },
        OpCost { op: "SOFTMAX", form: "", per_step: 890.1, per_mac: 0.0000, per_element: 381.9632, samples: 5 },
        OpCost { op: "TRANSPOSE", form: "", per_step: 0.0, per_mac: 0.0000, per_element: 28.2441, samples: 2 },
    ],
    fallback: OpCost { op: "*", form: "", per_step: 4228.7, per_mac: 1.8368, per_element: 1.3207, samples: 3564 },
};
