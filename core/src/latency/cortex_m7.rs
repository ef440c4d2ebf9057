//! Cortex-M7 instruction costs per operator class, fitted on per-step
//! instruction counts of the exported firmware under QEMU (mps2-an500):
//! written by `tools/bench-m7/run --costs at d296389`; do not edit.
//!
//! Fitted on every shipped model under its board schedule and a second
//! (layer by layer, or the smallest peak); the estimate next to what was
//! measured (firmware with step markers):
//!
//! | model | schedule | measured | estimated | error |
//! |---|---|---:|---:|---:|
//! | blazeface-short-int8 | ops 0..=15, 1×2 patches | 79,275,014 | 78,658,994 | -0.8 % |
//! | blazeface-short-int8 | ops 0..=31, 8×8 patches | 303,127,167 | 306,668,735 | +1.2 % |
//! | mbv2-w0.35-r144-int8 | layer by layer | 66,620,678 | 64,611,863 | -3.0 % |
//! | mbv3se-int8 | ops 0..=1, 8×8 patches | 44,884,823 | 42,614,621 | -5.1 % |
//! | mbv3se-int8 | ops 0..=2, 2×3 patches | 61,173,552 | 58,714,771 | -4.0 % |
//! | opsnet-int8 | ops 0..=2, 5×7 patches | 14,525,286 | 13,491,342 | -7.1 % |
//! | opsnet-int8 | ops 0..=12, 7×8 patches | 50,032,385 | 43,662,720 | -12.7 % |
//! | torchconv-int8 | layer by layer | 13,102,087 | 12,401,294 | -5.3 % |
//! | yolofpn-int8 | layer by layer | 32,545,657 | 32,320,860 | -0.7 % |

use super::{CostModel, OpCost};

#[rustfmt::skip]
pub const CORTEX_M7: CostModel = CostModel {
    name: "Cortex-M7 (thumbv7em-none-eabihf, dsp), QEMU instruction counts",
    source: "tools/bench-m7/run --costs at 8f163a8",
    per_inference: 155.3,
    ops: &[
        OpCost { op: "ADD", form: "", per_step: 17977.5, per_mac: 0.0000, per_element: 19.0806, samples: 494 },
        OpCost { op: "AVERAGE_POOL_2D", form: "", per_step: 2929.8, per_mac: 0.0000, per_element: 95.6794, samples: 58 },
        OpCost { op: "CONCATENATION", form: "", per_step: 2198.6, per_mac: 0.0000, per_element: 1.5653, samples: 63 },
        OpCost { op: "CONV_2D", form: "1x1", per_step: 19310.1, per_mac: 1.2349, per_element: 12.9990, samples: 667 },
        OpCost { op: "CONV_2D", form: "dilated", per_step: 634.9, per_mac: 9.9553, per_element: 0.0000, samples: 57 },
        OpCost { op: "CONV_2D", form: "kxk", per_step: 28203.3, per_mac: 1.2746, per_element: 39.0005, samples: 291 },
        OpCost { op: "DEPTHWISE_CONV_2D", form: "3x3", per_step: 24131.1, per_mac: 4.1593, per_element: 0.0000, samples: 433 },
        OpCost { op: "DEPTHWISE_CONV_2D", form: "3x3 in place", per_step: 611285.4, per_mac: 3.6082, per_element: 0.0000, samples: 19 },
        OpCost { op: "DEPTHWISE_CONV_2D", form: "dilated", per_step: 1433.0, per_mac: 48.9530, per_element: 0.0000, samples: 57 },
        OpCost { op: "DEPTHWISE_CONV_2D", form: "kxk", per_step: 296700.4, per_mac: 4.1066, per_element: 0.0000, samples: 8 },
        OpCost { op: "DEPTHWISE_CONV_2D", form: "kxk in place", per_step: 137083.1, per_mac: 15.5065, per_element: 0.0000, samples: 8 },
        OpCost { op: "DEQUANTIZE", form: "", per_step: 497.2, per_mac: 0.0000, per_element: 142.8271, samples: 5 },
        OpCost { op: "FULLY_CONNECTED", form: "", per_step: 582.6, per_mac: 6.9961, per_element: 445.2631, samples: 12 },
        OpCost { op: "HARD_SWISH", form: "", per_step: 874.6, per_mac: 0.0000, per_element: 4.7617, samples: 163 },
        OpCost { op: "LEAKY_RELU", form: "", per_step: 431.3, per_mac: 0.0000, per_element: 4.7501, samples: 6 },
        OpCost { op: "LOGISTIC", form: "", per_step: 485.0, per_mac: 0.0000, per_element: 0.0000, samples: 2 },
        OpCost { op: "MAX_POOL_2D", form: "", per_step: 3337.2, per_mac: 0.0000, per_element: 60.8089, samples: 190 },
        OpCost { op: "MEAN", form: "", per_step: 34091.4, per_mac: 0.0000, per_element: 71.1840, samples: 24 },
        OpCost { op: "MUL", form: "", per_step: 892.0, per_mac: 0.0000, per_element: 71.3173, samples: 36 },
        OpCost { op: "PAD", form: "", per_step: 1442.0, per_mac: 0.0000, per_element: 4.7040, samples: 433 },
        OpCost { op: "QUANTIZE", form: "", per_step: 0.0, per_mac: 0.0000, per_element: 31.1933, samples: 101 },
        OpCost { op: "RELU", form: "", per_step: 785.5, per_mac: 0.0000, per_element: 4.7461, samples: 417 },
        OpCost { op: "RESHAPE", form: "", per_step: 59.6, per_mac: 0.0000, per_element: 0.0001, samples: 9 },
        OpCost { op: "RESIZE_BILINEAR", form: "", per_step: 559952.0, per_mac: 0.0000, per_element: 0.0000, samples: 2 },
        OpCost { op: "RESIZE_NEAREST_NEIGHBOR", form: "", per_step: 0.0, per_mac: 0.0000, per_element: 3.4351, samples: 2 },
        OpCost { op: "SOFTMAX", form: "", per_step: 890.1, per_mac: 0.0000, per_element: 381.9632, samples: 5 },
        OpCost { op: "TRANSPOSE", form: "", per_step: 0.0, per_mac: 0.0000, per_element: 28.2432, samples: 2 },
    ],
    fallback: OpCost { op: "*", form: "", per_step: 4341.8, per_mac: 1.8714, per_element: 1.3011, samples: 3564 },
};
