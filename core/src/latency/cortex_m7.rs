//! Cortex-M7 instruction costs per operator class, fitted on per-step
//! instruction counts of the exported firmware under QEMU (mps2-an500):
//! written by `tools/bench-m7/run --costs at 0cc5360`; do not edit.
//!
//! Fitted on every shipped model under its board schedule and a second
//! (layer by layer, or the smallest peak); the estimate next to what was
//! measured (firmware with step markers):
//!
//! | model | schedule | measured | estimated | error |
//! |---|---|---:|---:|---:|
//! | blazeface-short-int8 | ops 0..=15, 1×2 patches | 81,451,233 | 83,490,876 | +2.5 % |
//! | blazeface-short-int8 | ops 0..=31, 8×8 patches | 322,869,944 | 324,685,182 | +0.6 % |
//! | mbv2-w0.35-r144-int8 | layer by layer | 70,049,879 | 65,163,098 | -7.0 % |
//! | mbv3se-int8 | ops 0..=1, 8×8 patches | 58,339,742 | 56,121,898 | -3.8 % |
//! | mbv3se-int8 | ops 0..=2, 2×3 patches | 63,660,724 | 59,483,491 | -6.6 % |
//! | opsnet-int8 | ops 0..=2, 5×7 patches | 14,522,564 | 13,504,016 | -7.0 % |
//! | opsnet-int8 | ops 0..=12, 7×8 patches | 50,039,825 | 43,627,094 | -12.8 % |
//! | torchconv-int8 | layer by layer | 13,105,738 | 12,408,555 | -5.3 % |
//! | yolofpn-int8 | layer by layer | 34,062,157 | 34,789,616 | +2.1 % |

use super::{CostModel, OpCost};

#[rustfmt::skip]
pub const CORTEX_M7: CostModel = CostModel {
    name: "Cortex-M7 (thumbv7em-none-eabihf, dsp), QEMU instruction counts",
    source: "tools/bench-m7/run --costs at 0cc5360",
    per_inference: 155.2,
    ops: &[
        OpCost { op: "ADD", form: "", per_step: 17967.1, per_mac: 0.0000, per_element: 19.0827, samples: 494 },
        OpCost { op: "AVERAGE_POOL_2D", form: "", per_step: 2901.6, per_mac: 0.0000, per_element: 95.0150, samples: 58 },
        OpCost { op: "CONCATENATION", form: "", per_step: 2136.4, per_mac: 0.0000, per_element: 1.5530, samples: 63 },
        OpCost { op: "CONV_2D", form: "1x1", per_step: 18846.0, per_mac: 1.3124, per_element: 11.6109, samples: 667 },
        OpCost { op: "CONV_2D", form: "dilated", per_step: 631.7, per_mac: 9.9554, per_element: 0.0000, samples: 57 },
        OpCost { op: "CONV_2D", form: "kxk", per_step: 28199.9, per_mac: 1.2746, per_element: 39.0007, samples: 291 },
        OpCost { op: "DEPTHWISE_CONV_2D", form: "3x3", per_step: 33698.2, per_mac: 5.1530, per_element: 0.0000, samples: 433 },
        OpCost { op: "DEPTHWISE_CONV_2D", form: "3x3 in place", per_step: 611275.7, per_mac: 3.6082, per_element: 0.0000, samples: 19 },
        OpCost { op: "DEPTHWISE_CONV_2D", form: "dilated", per_step: 1406.9, per_mac: 48.8341, per_element: 0.0000, samples: 57 },
        OpCost { op: "DEPTHWISE_CONV_2D", form: "kxk", per_step: 0.0, per_mac: 13.6068, per_element: 0.0000, samples: 8 },
        OpCost { op: "DEPTHWISE_CONV_2D", form: "kxk in place", per_step: 137068.9, per_mac: 15.5065, per_element: 0.0000, samples: 8 },
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
    fallback: OpCost { op: "*", form: "", per_step: 4376.0, per_mac: 1.9183, per_element: 1.3178, samples: 3564 },
};
