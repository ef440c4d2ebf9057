//! Cortex-M7 instruction costs per operator class, fitted on per-step
//! instruction counts of the exported firmware under QEMU (mps2-an500):
//! written by `tools/bench-m7/run --costs at a5b77b9`; do not edit.
//!
//! Fitted on every shipped model under its board schedule and a second
//! (layer by layer, or the smallest peak); the estimate next to what was
//! measured (firmware with step markers):
//!
//! | model | schedule | measured | estimated | error |
//! |---|---|---:|---:|---:|
//! | blazeface-short-int8 | ops 0..=15, 1×2 patches | 165,090,609 | 163,885,901 | -0.7 % |
//! | blazeface-short-int8 | ops 0..=31, 8×8 patches | 659,059,151 | 633,209,271 | -3.9 % |
//! | mbv2-w0.35-r144-int8 | layer by layer | 122,236,267 | 109,986,242 | -10.0 % |
//! | mbv3se-int8 | ops 0..=1, 8×8 patches | 102,216,331 | 99,526,781 | -2.6 % |
//! | mbv3se-int8 | ops 0..=2, 2×3 patches | 107,719,671 | 101,853,737 | -5.4 % |
//! | opsnet-int8 | ops 0..=2, 5×7 patches | 20,448,771 | 19,023,075 | -7.0 % |
//! | opsnet-int8 | ops 0..=12, 7×8 patches | 80,389,353 | 70,869,209 | -11.8 % |
//! | torchconv-int8 | layer by layer | 21,084,850 | 28,438,290 | +34.9 % |
//! | yolofpn-int8 | layer by layer | 61,883,977 | 63,171,634 | +2.1 % |

use super::{CostModel, OpCost};

#[rustfmt::skip]
pub const CORTEX_M7: CostModel = CostModel {
    name: "Cortex-M7 (thumbv7em-none-eabihf, dsp), QEMU instruction counts",
    source: "tools/bench-m7/run --costs at a5b77b9",
    per_inference: 84.1,
    ops: &[
        OpCost { op: "ADD", form: "", per_step: 7474.0, per_mac: 0.0000, per_element: 55.5205, samples: 494 },
        OpCost { op: "AVERAGE_POOL_2D", form: "", per_step: 4826.5, per_mac: 0.0000, per_element: 278.9321, samples: 58 },
        OpCost { op: "CONCATENATION", form: "", per_step: 2119.5, per_mac: 0.0000, per_element: 1.5710, samples: 63 },
        OpCost { op: "CONV_2D", form: "1x1", per_step: 28102.1, per_mac: 1.7050, per_element: 31.3312, samples: 667 },
        OpCost { op: "CONV_2D", form: "dilated", per_step: 568.2, per_mac: 9.9555, per_element: 0.0000, samples: 57 },
        OpCost { op: "CONV_2D", form: "kxk", per_step: 31967.3, per_mac: 2.8345, per_element: 73.0862, samples: 291 },
        OpCost { op: "DEPTHWISE_CONV_2D", form: "3x3", per_step: 10380.1, per_mac: 10.0258, per_element: 0.0000, samples: 433 },
        OpCost { op: "DEPTHWISE_CONV_2D", form: "3x3 in place", per_step: 684035.4, per_mac: 6.7981, per_element: 0.0000, samples: 19 },
        OpCost { op: "DEPTHWISE_CONV_2D", form: "dilated", per_step: 1347.6, per_mac: 48.8023, per_element: 0.0000, samples: 57 },
        OpCost { op: "DEPTHWISE_CONV_2D", form: "kxk", per_step: 0.0, per_mac: 13.7045, per_element: 0.0000, samples: 8 },
        OpCost { op: "DEPTHWISE_CONV_2D", form: "kxk in place", per_step: 142401.8, per_mac: 15.1162, per_element: 0.0000, samples: 8 },
        OpCost { op: "DEQUANTIZE", form: "", per_step: 481.9, per_mac: 0.0000, per_element: 143.0595, samples: 5 },
        OpCost { op: "FULLY_CONNECTED", form: "", per_step: 567.5, per_mac: 6.9961, per_element: 445.2744, samples: 12 },
        OpCost { op: "HARD_SWISH", form: "", per_step: 826.1, per_mac: 0.0000, per_element: 71.0430, samples: 163 },
        OpCost { op: "LEAKY_RELU", form: "", per_step: 415.2, per_mac: 0.0000, per_element: 59.5001, samples: 6 },
        OpCost { op: "LOGISTIC", form: "", per_step: 473.0, per_mac: 0.0000, per_element: 0.0000, samples: 2 },
        OpCost { op: "MAX_POOL_2D", form: "", per_step: 8029.2, per_mac: 0.0000, per_element: 181.6659, samples: 190 },
        OpCost { op: "MEAN", form: "", per_step: 844861.6, per_mac: 0.0000, per_element: 1408.8606, samples: 24 },
        OpCost { op: "MUL", form: "", per_step: 873.9, per_mac: 0.0000, per_element: 71.3166, samples: 36 },
        OpCost { op: "PAD", form: "", per_step: 583.4, per_mac: 0.0000, per_element: 21.9791, samples: 433 },
        OpCost { op: "QUANTIZE", form: "", per_step: 467.0, per_mac: 0.0000, per_element: 36.2985, samples: 101 },
        OpCost { op: "RELU", form: "", per_step: 26447.3, per_mac: 0.0000, per_element: 4.7468, samples: 417 },
        OpCost { op: "RESHAPE", form: "", per_step: 58.5, per_mac: 0.0000, per_element: 0.0000, samples: 9 },
        OpCost { op: "RESIZE_BILINEAR", form: "", per_step: 553088.0, per_mac: 0.0000, per_element: 0.0000, samples: 2 },
        OpCost { op: "RESIZE_NEAREST_NEIGHBOR", form: "", per_step: 0.0, per_mac: 0.0000, per_element: 3.4344, samples: 2 },
        OpCost { op: "SOFTMAX", form: "", per_step: 891.3, per_mac: 0.0000, per_element: 380.3367, samples: 5 },
        OpCost { op: "TRANSPOSE", form: "", per_step: 284.2, per_mac: 0.0000, per_element: 116.4021, samples: 2 },
    ],
    fallback: OpCost { op: "*", form: "", per_step: 7093.2, per_mac: 3.2955, per_element: 1.2262, samples: 3564 },
};
