//! Cortex-M7 instruction costs per operator class, fitted on per-step
//! instruction counts of the exported firmware under QEMU (mps2-an500):
//! written by `tools/bench-m7/run --costs at 161683c`; do not edit.
//!
//! Fitted on every shipped model under its board schedule and a second
//! (layer by layer, or the smallest peak); the estimate next to what was
//! measured (firmware with step markers):
//!
//! | model | schedule | measured | estimated | error |
//! |---|---|---:|---:|---:|
//! | blazeface-short-int8 | ops 0..=15, 1×2 patches | 86,425,767 | 87,679,540 | +1.5 % |
//! | blazeface-short-int8 | ops 0..=31, 8×8 patches | 336,050,975 | 336,949,052 | +0.3 % |
//! | mbv2-w0.35-r144-int8 | layer by layer | 73,520,024 | 68,566,430 | -6.7 % |
//! | mbv3se-int8 | ops 0..=1, 8×8 patches | 59,024,138 | 57,060,235 | -3.3 % |
//! | mbv3se-int8 | ops 0..=2, 2×3 patches | 63,973,707 | 60,131,152 | -6.0 % |
//! | opsnet-int8 | ops 0..=2, 5×7 patches | 15,368,369 | 14,301,939 | -6.9 % |
//! | opsnet-int8 | ops 0..=12, 7×8 patches | 52,023,671 | 45,614,822 | -12.3 % |
//! | torchconv-int8 | layer by layer | 14,435,402 | 13,741,833 | -4.8 % |
//! | yolofpn-int8 | layer by layer | 36,535,814 | 37,122,681 | +1.6 % |

use super::{CostModel, OpCost};

#[rustfmt::skip]
pub const CORTEX_M7: CostModel = CostModel {
    name: "Cortex-M7 (thumbv7em-none-eabihf, dsp), QEMU instruction counts",
    source: "tools/bench-m7/run --costs at 161683c",
    per_inference: 155.2,
    ops: &[
        OpCost { op: "ADD", form: "", per_step: 17967.1, per_mac: 0.0000, per_element: 19.0827, samples: 494 },
        OpCost { op: "AVERAGE_POOL_2D", form: "", per_step: 4505.2, per_mac: 0.0000, per_element: 251.7932, samples: 58 },
        OpCost { op: "CONCATENATION", form: "", per_step: 2138.0, per_mac: 0.0000, per_element: 1.5525, samples: 63 },
        OpCost { op: "CONV_2D", form: "1x1", per_step: 18827.7, per_mac: 1.3081, per_element: 14.0405, samples: 667 },
        OpCost { op: "CONV_2D", form: "dilated", per_step: 632.7, per_mac: 9.9554, per_element: 0.0000, samples: 57 },
        OpCost { op: "CONV_2D", form: "kxk", per_step: 28249.7, per_mac: 1.2656, per_element: 40.6691, samples: 291 },
        OpCost { op: "DEPTHWISE_CONV_2D", form: "3x3", per_step: 27363.9, per_mac: 5.9502, per_element: 0.0000, samples: 433 },
        OpCost { op: "DEPTHWISE_CONV_2D", form: "3x3 in place", per_step: 589349.5, per_mac: 4.1628, per_element: 0.0000, samples: 19 },
        OpCost { op: "DEPTHWISE_CONV_2D", form: "dilated", per_step: 1407.9, per_mac: 48.8341, per_element: 0.0000, samples: 57 },
        OpCost { op: "DEPTHWISE_CONV_2D", form: "kxk", per_step: 0.0, per_mac: 13.5474, per_element: 0.0000, samples: 8 },
        OpCost { op: "DEPTHWISE_CONV_2D", form: "kxk in place", per_step: 142080.4, per_mac: 15.3315, per_element: 0.0000, samples: 8 },
        OpCost { op: "DEQUANTIZE", form: "", per_step: 490.1, per_mac: 0.0000, per_element: 142.8657, samples: 5 },
        OpCost { op: "FULLY_CONNECTED", form: "", per_step: 576.3, per_mac: 6.9960, per_element: 445.2968, samples: 12 },
        OpCost { op: "HARD_SWISH", form: "", per_step: 876.6, per_mac: 0.0000, per_element: 4.7614, samples: 163 },
        OpCost { op: "LEAKY_RELU", form: "", per_step: 423.3, per_mac: 0.0000, per_element: 4.7501, samples: 6 },
        OpCost { op: "LOGISTIC", form: "", per_step: 477.0, per_mac: 0.0000, per_element: 0.0000, samples: 2 },
        OpCost { op: "MAX_POOL_2D", form: "", per_step: 3314.4, per_mac: 0.0000, per_element: 60.6174, samples: 190 },
        OpCost { op: "MEAN", form: "", per_step: 40670.8, per_mac: 0.0000, per_element: 104.2978, samples: 24 },
        OpCost { op: "MUL", form: "", per_step: 882.3, per_mac: 0.0000, per_element: 71.3166, samples: 36 },
        OpCost { op: "PAD", form: "", per_step: 1436.7, per_mac: 0.0000, per_element: 4.7009, samples: 433 },
        OpCost { op: "QUANTIZE", form: "", per_step: 888.0, per_mac: 0.0000, per_element: 36.9308, samples: 101 },
        OpCost { op: "RELU", form: "", per_step: 786.2, per_mac: 0.0000, per_element: 4.7460, samples: 417 },
        OpCost { op: "RESHAPE", form: "", per_step: 59.8, per_mac: 0.0000, per_element: 0.0000, samples: 9 },
        OpCost { op: "RESIZE_BILINEAR", form: "", per_step: 559081.0, per_mac: 0.0000, per_element: 0.0000, samples: 2 },
        OpCost { op: "RESIZE_NEAREST_NEIGHBOR", form: "", per_step: 0.0, per_mac: 0.0000, per_element: 3.4343, samples: 2 },
        OpCost { op: "SOFTMAX", form: "", per_step: 895.3, per_mac: 0.0000, per_element: 380.8376, samples: 5 },
        OpCost { op: "TRANSPOSE", form: "", per_step: 288.2, per_mac: 0.0000, per_element: 114.4021, samples: 2 },
    ],
    fallback: OpCost { op: "*", form: "", per_step: 4389.3, per_mac: 1.9712, per_element: 1.3462, samples: 3564 },
};
