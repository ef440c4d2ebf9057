//! Cortex-M7 instruction costs per operator class, fitted on per-step
//! instruction counts of the exported firmware under QEMU (mps2-an500):
//! written by `tools/bench-m7/run --costs at d01034a`; do not edit.
//!
//! Fitted on every shipped model under its board schedule and a second
//! (layer by layer, or the smallest peak); the estimate next to what was
//! measured (firmware with step markers):
//!
//! | model | schedule | measured | estimated | error |
//! |---|---|---:|---:|---:|
//! | blazeface-short-int8 | ops 0..=15, 1×2 patches | 86,438,006 | 87,604,081 | +1.3 % |
//! | blazeface-short-int8 | ops 0..=31, 8×8 patches | 336,092,117 | 336,904,650 | +0.2 % |
//! | mbv2-w0.35-r144-int8 | layer by layer | 73,519,799 | 68,566,434 | -6.7 % |
//! | mbv3se-int8 | ops 0..=1, 8×8 patches | 59,024,364 | 57,060,069 | -3.3 % |
//! | mbv3se-int8 | ops 0..=2, 2×3 patches | 63,973,605 | 60,131,205 | -6.0 % |
//! | opsnet-int8 | ops 0..=2, 5×7 patches | 14,595,957 | 13,558,570 | -7.1 % |
//! | opsnet-int8 | ops 0..=12, 7×8 patches | 50,261,727 | 43,935,014 | -12.6 % |
//! | torchconv-int8 | layer by layer | 13,139,021 | 12,417,542 | -5.5 % |
//! | yolofpn-int8 | layer by layer | 36,535,819 | 37,122,701 | +1.6 % |

use super::{CostModel, OpCost};

#[rustfmt::skip]
pub const CORTEX_M7: CostModel = CostModel {
    name: "Cortex-M7 (thumbv7em-none-eabihf, dsp), QEMU instruction counts",
    source: "tools/bench-m7/run --costs at d01034a",
    per_inference: 155.2,
    ops: &[
        OpCost { op: "ADD", form: "", per_step: 17967.1, per_mac: 0.0000, per_element: 19.0827, samples: 494 },
        OpCost { op: "AVERAGE_POOL_2D", form: "", per_step: 2901.6, per_mac: 0.0000, per_element: 95.0150, samples: 58 },
        OpCost { op: "CONCATENATION", form: "", per_step: 2136.4, per_mac: 0.0000, per_element: 1.5530, samples: 63 },
        OpCost { op: "CONV_2D", form: "1x1", per_step: 18827.2, per_mac: 1.3081, per_element: 14.0405, samples: 667 },
        OpCost { op: "CONV_2D", form: "dilated", per_step: 631.7, per_mac: 9.9554, per_element: 0.0000, samples: 57 },
        OpCost { op: "CONV_2D", form: "kxk", per_step: 28248.8, per_mac: 1.2656, per_element: 40.6693, samples: 291 },
        OpCost { op: "DEPTHWISE_CONV_2D", form: "3x3", per_step: 27363.9, per_mac: 5.9502, per_element: 0.0000, samples: 433 },
        OpCost { op: "DEPTHWISE_CONV_2D", form: "3x3 in place", per_step: 589349.5, per_mac: 4.1628, per_element: 0.0000, samples: 19 },
        OpCost { op: "DEPTHWISE_CONV_2D", form: "dilated", per_step: 1407.9, per_mac: 48.8341, per_element: 0.0000, samples: 57 },
        OpCost { op: "DEPTHWISE_CONV_2D", form: "kxk", per_step: 0.0, per_mac: 13.5474, per_element: 0.0000, samples: 8 },
        OpCost { op: "DEPTHWISE_CONV_2D", form: "kxk in place", per_step: 142080.4, per_mac: 15.3315, per_element: 0.0000, samples: 8 },
        OpCost { op: "DEQUANTIZE", form: "", per_step: 493.1, per_mac: 0.0000, per_element: 142.8658, samples: 5 },
        OpCost { op: "FULLY_CONNECTED", form: "", per_step: 577.3, per_mac: 6.9960, per_element: 445.2967, samples: 12 },
        OpCost { op: "HARD_SWISH", form: "", per_step: 873.9, per_mac: 0.0000, per_element: 4.7624, samples: 163 },
        OpCost { op: "LEAKY_RELU", form: "", per_step: 424.3, per_mac: 0.0000, per_element: 4.7501, samples: 6 },
        OpCost { op: "LOGISTIC", form: "", per_step: 478.0, per_mac: 0.0000, per_element: 0.0000, samples: 2 },
        OpCost { op: "MAX_POOL_2D", form: "", per_step: 3336.1, per_mac: 0.0000, per_element: 60.9642, samples: 190 },
        OpCost { op: "MEAN", form: "", per_step: 40669.7, per_mac: 0.0000, per_element: 104.2978, samples: 24 },
        OpCost { op: "MUL", form: "", per_step: 877.4, per_mac: 0.0000, per_element: 71.3166, samples: 36 },
        OpCost { op: "PAD", form: "", per_step: 1424.1, per_mac: 0.0000, per_element: 4.7012, samples: 433 },
        OpCost { op: "QUANTIZE", form: "", per_step: 0.0, per_mac: 0.0000, per_element: 31.1865, samples: 101 },
        OpCost { op: "RELU", form: "", per_step: 782.6, per_mac: 0.0000, per_element: 4.7461, samples: 417 },
        OpCost { op: "RESHAPE", form: "", per_step: 59.8, per_mac: 0.0000, per_element: 0.0000, samples: 9 },
        OpCost { op: "RESIZE_BILINEAR", form: "", per_step: 559947.0, per_mac: 0.0000, per_element: 0.0000, samples: 2 },
        OpCost { op: "RESIZE_NEAREST_NEIGHBOR", form: "", per_step: 0.0, per_mac: 0.0000, per_element: 3.4343, samples: 2 },
        OpCost { op: "SOFTMAX", form: "", per_step: 897.3, per_mac: 0.0000, per_element: 380.8378, samples: 5 },
        OpCost { op: "TRANSPOSE", form: "", per_step: 0.0, per_mac: 0.0000, per_element: 28.2424, samples: 2 },
    ],
    fallback: OpCost { op: "*", form: "", per_step: 4310.2, per_mac: 1.9712, per_element: 1.3572, samples: 3564 },
};
