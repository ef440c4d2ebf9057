//! Cortex-M7 instruction costs per operator class, fitted on per-step
//! instruction counts of the exported firmware under QEMU (mps2-an500):
//! written by `tools/bench-m7/run --costs at 499e1ed`; do not edit.
//!
//! Fitted on every shipped model under its board schedule and a second
//! (layer by layer, or the smallest peak); the estimate next to what was
//! measured (firmware with step markers):
//!
//! | model | schedule | measured | estimated | error |
//! |---|---|---:|---:|---:|
//! | blazeface-short-int8 | ops 0..=15, 1×2 patches | 79,280,262 | 79,519,135 | +0.3 % |
//! | blazeface-short-int8 | ops 0..=31, 8×8 patches | 303,137,048 | 307,978,621 | +1.6 % |
//! | mbv2-w0.35-r144-int8 | layer by layer | 69,975,539 | 65,113,131 | -6.9 % |
//! | mbv3se-int8 | ops 0..=1, 8×8 patches | 44,881,567 | 43,036,246 | -4.1 % |
//! | mbv3se-int8 | ops 0..=2, 2×3 patches | 63,141,831 | 59,136,802 | -6.3 % |
//! | opsnet-int8 | ops 0..=2, 5×7 patches | 14,524,198 | 13,501,907 | -7.0 % |
//! | opsnet-int8 | ops 0..=12, 7×8 patches | 50,049,602 | 43,633,897 | -12.8 % |
//! | torchconv-int8 | layer by layer | 13,101,772 | 12,400,511 | -5.4 % |
//! | yolofpn-int8 | layer by layer | 32,545,466 | 32,704,267 | +0.5 % |

use super::{CostModel, OpCost};

#[rustfmt::skip]
pub const CORTEX_M7: CostModel = CostModel {
    name: "Cortex-M7 (thumbv7em-none-eabihf, dsp), QEMU instruction counts",
    source: "tools/bench-m7/run --costs at 499e1ed",
    per_inference: 155.2,
    ops: &[
        OpCost { op: "ADD", form: "", per_step: 17967.1, per_mac: 0.0000, per_element: 19.0827, samples: 494 },
        OpCost { op: "AVERAGE_POOL_2D", form: "", per_step: 2898.7, per_mac: 0.0000, per_element: 95.0145, samples: 58 },
        OpCost { op: "CONCATENATION", form: "", per_step: 2192.4, per_mac: 0.0000, per_element: 1.5651, samples: 63 },
        OpCost { op: "CONV_2D", form: "1x1", per_step: 18846.5, per_mac: 1.3124, per_element: 11.6109, samples: 667 },
        OpCost { op: "CONV_2D", form: "dilated", per_step: 632.7, per_mac: 9.9554, per_element: 0.0000, samples: 57 },
        OpCost { op: "CONV_2D", form: "kxk", per_step: 28200.8, per_mac: 1.2746, per_element: 39.0005, samples: 291 },
        OpCost { op: "DEPTHWISE_CONV_2D", form: "3x3", per_step: 24125.1, per_mac: 4.1593, per_element: 0.0000, samples: 433 },
        OpCost { op: "DEPTHWISE_CONV_2D", form: "3x3 in place", per_step: 611275.7, per_mac: 3.6082, per_element: 0.0000, samples: 19 },
        OpCost { op: "DEPTHWISE_CONV_2D", form: "dilated", per_step: 1426.8, per_mac: 48.9531, per_element: 0.0000, samples: 57 },
        OpCost { op: "DEPTHWISE_CONV_2D", form: "kxk", per_step: 296694.3, per_mac: 4.1066, per_element: 0.0000, samples: 8 },
        OpCost { op: "DEPTHWISE_CONV_2D", form: "kxk in place", per_step: 137068.9, per_mac: 15.5065, per_element: 0.0000, samples: 8 },
        OpCost { op: "DEQUANTIZE", form: "", per_step: 491.1, per_mac: 0.0000, per_element: 142.8658, samples: 5 },
        OpCost { op: "FULLY_CONNECTED", form: "", per_step: 576.3, per_mac: 6.9960, per_element: 445.2968, samples: 12 },
        OpCost { op: "HARD_SWISH", form: "", per_step: 868.3, per_mac: 0.0000, per_element: 4.7618, samples: 163 },
        OpCost { op: "LEAKY_RELU", form: "", per_step: 425.3, per_mac: 0.0000, per_element: 4.7501, samples: 6 },
        OpCost { op: "LOGISTIC", form: "", per_step: 479.0, per_mac: 0.0000, per_element: 0.0000, samples: 2 },
        OpCost { op: "MAX_POOL_2D", form: "", per_step: 3332.0, per_mac: 0.0000, per_element: 60.9647, samples: 190 },
        OpCost { op: "MEAN", form: "", per_step: 34029.8, per_mac: 0.0000, per_element: 70.4531, samples: 24 },
        OpCost { op: "MUL", form: "", per_step: 878.4, per_mac: 0.0000, per_element: 71.3166, samples: 36 },
        OpCost { op: "PAD", form: "", per_step: 1435.1, per_mac: 0.0000, per_element: 4.7042, samples: 433 },
        OpCost { op: "QUANTIZE", form: "", per_step: 0.0, per_mac: 0.0000, per_element: 31.1862, samples: 101 },
        OpCost { op: "RELU", form: "", per_step: 779.5, per_mac: 0.0000, per_element: 4.7461, samples: 417 },
        OpCost { op: "RESHAPE", form: "", per_step: 59.8, per_mac: 0.0000, per_element: 0.0000, samples: 9 },
        OpCost { op: "RESIZE_BILINEAR", form: "", per_step: 559946.0, per_mac: 0.0000, per_element: 0.0000, samples: 2 },
        OpCost { op: "RESIZE_NEAREST_NEIGHBOR", form: "", per_step: 0.0, per_mac: 0.0000, per_element: 3.4342, samples: 2 },
        OpCost { op: "SOFTMAX", form: "", per_step: 895.3, per_mac: 0.0000, per_element: 380.8376, samples: 5 },
        OpCost { op: "TRANSPOSE", form: "", per_step: 0.0, per_mac: 0.0000, per_element: 28.2424, samples: 2 },
    ],
    fallback: OpCost { op: "*", form: "", per_step: 4345.2, per_mac: 1.9009, per_element: 1.2899, samples: 3564 },
};
