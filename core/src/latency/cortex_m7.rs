//! Cortex-M7 instruction costs per operator class, fitted on per-step
//! instruction counts of the exported firmware under QEMU (mps2-an500):
//! written by `tools/bench-m7/run --costs at fdccd8a`; do not edit.
//!
//! Fitted on every shipped model under its board schedule and a second
//! (layer by layer, or the smallest peak); the estimate next to what was
//! measured (firmware with step markers):
//!
//! | model | schedule | measured | estimated | error |
//! |---|---|---:|---:|---:|
//! | blazeface-short-int8 | ops 0..=15, 1×2 patches | 110,398,841 | 110,491,635 | +0.1 % |
//! | blazeface-short-int8 | ops 0..=31, 8×8 patches | 450,118,262 | 422,258,803 | -6.2 % |
//! | mbv2-w0.35-r144-int8 | layer by layer | 93,525,080 | 84,795,969 | -9.3 % |
//! | mbv3se-int8 | ops 0..=1, 8×8 patches | 80,627,614 | 79,221,301 | -1.7 % |
//! | mbv3se-int8 | ops 0..=2, 2×3 patches | 84,923,124 | 81,660,693 | -3.8 % |
//! | opsnet-int8 | ops 0..=2, 5×7 patches | 16,070,431 | 15,146,415 | -5.7 % |
//! | opsnet-int8 | ops 0..=12, 7×8 patches | 55,934,229 | 49,920,184 | -10.8 % |
//! | torchconv-int8 | layer by layer | 15,769,913 | 15,313,347 | -2.9 % |
//! | yolofpn-int8 | layer by layer | 49,198,541 | 48,794,238 | -0.8 % |

use super::{CostModel, OpCost};

#[rustfmt::skip]
pub const CORTEX_M7: CostModel = CostModel {
    name: "Cortex-M7 (thumbv7em-none-eabihf, dsp), QEMU instruction counts",
    source: "tools/bench-m7/run --costs at fdccd8a",
    per_inference: 84.1,
    ops: &[
        OpCost { op: "ADD", form: "", per_step: 13141.9, per_mac: 0.0000, per_element: 30.5223, samples: 494 },
        OpCost { op: "AVERAGE_POOL_2D", form: "", per_step: 4540.3, per_mac: 0.0000, per_element: 253.1310, samples: 58 },
        OpCost { op: "CONCATENATION", form: "", per_step: 2062.2, per_mac: 0.0000, per_element: 1.5587, samples: 63 },
        OpCost { op: "CONV_2D", form: "1x1", per_step: 25006.0, per_mac: 1.5641, per_element: 20.7085, samples: 667 },
        OpCost { op: "CONV_2D", form: "dilated", per_step: 574.7, per_mac: 9.9555, per_element: 0.0000, samples: 57 },
        OpCost { op: "CONV_2D", form: "kxk", per_step: 25956.9, per_mac: 1.3859, per_element: 54.5200, samples: 291 },
        OpCost { op: "DEPTHWISE_CONV_2D", form: "3x3", per_step: 18995.7, per_mac: 7.6023, per_element: 0.0000, samples: 433 },
        OpCost { op: "DEPTHWISE_CONV_2D", form: "3x3 in place", per_step: 693574.2, per_mac: 4.9118, per_element: 0.0000, samples: 19 },
        OpCost { op: "DEPTHWISE_CONV_2D", form: "dilated", per_step: 1351.4, per_mac: 48.8369, per_element: 0.0000, samples: 57 },
        OpCost { op: "DEPTHWISE_CONV_2D", form: "kxk", per_step: 0.0, per_mac: 14.0270, per_element: 0.0000, samples: 8 },
        OpCost { op: "DEPTHWISE_CONV_2D", form: "kxk in place", per_step: 132273.1, per_mac: 15.2978, per_element: 0.0000, samples: 8 },
        OpCost { op: "DEQUANTIZE", form: "", per_step: 482.9, per_mac: 0.0000, per_element: 143.0595, samples: 5 },
        OpCost { op: "FULLY_CONNECTED", form: "", per_step: 567.5, per_mac: 6.9961, per_element: 445.2744, samples: 12 },
        OpCost { op: "HARD_SWISH", form: "", per_step: 825.1, per_mac: 0.0000, per_element: 71.0430, samples: 163 },
        OpCost { op: "LEAKY_RELU", form: "", per_step: 413.2, per_mac: 0.0000, per_element: 59.5001, samples: 6 },
        OpCost { op: "LOGISTIC", form: "", per_step: 471.0, per_mac: 0.0000, per_element: 0.0000, samples: 2 },
        OpCost { op: "MAX_POOL_2D", form: "", per_step: 3284.7, per_mac: 0.0000, per_element: 62.6251, samples: 190 },
        OpCost { op: "MEAN", form: "", per_step: 40661.7, per_mac: 0.0000, per_element: 104.2965, samples: 24 },
        OpCost { op: "MUL", form: "", per_step: 872.9, per_mac: 0.0000, per_element: 71.3166, samples: 36 },
        OpCost { op: "PAD", form: "", per_step: 1393.1, per_mac: 0.0000, per_element: 4.6440, samples: 433 },
        OpCost { op: "QUANTIZE", form: "", per_step: 466.3, per_mac: 0.0000, per_element: 36.2984, samples: 101 },
        OpCost { op: "RELU", form: "", per_step: 26449.4, per_mac: 0.0000, per_element: 4.7467, samples: 417 },
        OpCost { op: "RESHAPE", form: "", per_step: 58.5, per_mac: 0.0000, per_element: 0.0000, samples: 9 },
        OpCost { op: "RESIZE_BILINEAR", form: "", per_step: 553088.0, per_mac: 0.0000, per_element: 0.0000, samples: 2 },
        OpCost { op: "RESIZE_NEAREST_NEIGHBOR", form: "", per_step: 0.0, per_mac: 0.0000, per_element: 3.4344, samples: 2 },
        OpCost { op: "SOFTMAX", form: "", per_step: 892.3, per_mac: 0.0000, per_element: 380.3368, samples: 5 },
        OpCost { op: "TRANSPOSE", form: "", per_step: 284.2, per_mac: 0.0000, per_element: 116.4021, samples: 2 },
    ],
    fallback: OpCost { op: "*", form: "", per_step: 5599.4, per_mac: 2.4057, per_element: 1.3232, samples: 3564 },
};
