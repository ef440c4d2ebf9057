//! Cortex-M7 instruction costs per operator class, fitted on per-step
//! instruction counts of the exported firmware under QEMU (mps2-an500):
//! written by `tools/bench-m7/run --costs at 7245872`; do not edit.
//!
//! Fitted on every shipped model under its board schedule and a second
//! (layer by layer, or the smallest peak); the estimate next to what was
//! measured (firmware with step markers):
//!
//! | model | schedule | measured | estimated | error |
//! |---|---|---:|---:|---:|
//! | blazeface-short-int8 | ops 0..=15, 1×2 patches | 205,828,462 | 202,251,518 | -1.7 % |
//! | blazeface-short-int8 | ops 0..=31, 8×8 patches | 801,150,776 | 776,695,056 | -3.1 % |
//! | mbv2-w0.35-r144-int8 | layer by layer | 179,155,618 | 175,002,019 | -2.3 % |
//! | mbv3se-int8 | ops 0..=1, 8×8 patches | 118,760,347 | 117,975,435 | -0.7 % |
//! | mbv3se-int8 | ops 0..=2, 2×3 patches | 125,308,848 | 123,911,606 | -1.1 % |
//! | opsnet-int8 | ops 0..=2, 5×7 patches | 22,062,227 | 20,350,542 | -7.8 % |
//! | opsnet-int8 | ops 0..=12, 7×8 patches | 89,981,107 | 80,827,577 | -10.2 % |
//! | torchconv-int8 | layer by layer | 27,779,009 | 34,401,307 | +23.8 % |
//! | yolofpn-int8 | layer by layer | 86,843,767 | 87,063,782 | +0.3 % |

use super::{CostModel, OpCost};

#[rustfmt::skip]
pub const CORTEX_M7: CostModel = CostModel {
    name: "Cortex-M7 (thumbv7em-none-eabihf, dsp), QEMU instruction counts",
    source: "tools/bench-m7/run --costs at 7245872",
    per_inference: 78.0,
    ops: &[
        OpCost { op: "ADD", form: "", per_step: 7457.6, per_mac: 0.0000, per_element: 55.5217, samples: 494 },
        OpCost { op: "AVERAGE_POOL_2D", form: "", per_step: 4809.8, per_mac: 0.0000, per_element: 278.9440, samples: 58 },
        OpCost { op: "CONCATENATION", form: "", per_step: 2044.9, per_mac: 0.0000, per_element: 1.5610, samples: 63 },
        OpCost { op: "CONV_2D", form: "1x1", per_step: 4310.4, per_mac: 1.9854, per_element: 85.1457, samples: 667 },
        OpCost { op: "CONV_2D", form: "dilated", per_step: 560.0, per_mac: 9.9555, per_element: 0.0000, samples: 57 },
        OpCost { op: "CONV_2D", form: "kxk", per_step: 2285.2, per_mac: 3.2563, per_element: 142.8248, samples: 291 },
        OpCost { op: "DEPTHWISE_CONV_2D", form: "3x3", per_step: 5469.6, per_mac: 9.1878, per_element: 0.0000, samples: 433 },
        OpCost { op: "DEPTHWISE_CONV_2D", form: "3x3 in place", per_step: 750678.4, per_mac: 10.6680, per_element: 0.0000, samples: 19 },
        OpCost { op: "DEPTHWISE_CONV_2D", form: "dilated", per_step: 1323.7, per_mac: 48.9123, per_element: 0.0000, samples: 57 },
        OpCost { op: "DEPTHWISE_CONV_2D", form: "kxk", per_step: 0.0, per_mac: 14.1780, per_element: 0.0000, samples: 8 },
        OpCost { op: "DEPTHWISE_CONV_2D", form: "kxk in place", per_step: 228204.5, per_mac: 15.0071, per_element: 0.0000, samples: 8 },
        OpCost { op: "DEQUANTIZE", form: "", per_step: 487.0, per_mac: 0.0000, per_element: 143.0207, samples: 5 },
        OpCost { op: "FULLY_CONNECTED", form: "", per_step: 574.5, per_mac: 6.9961, per_element: 445.2797, samples: 12 },
        OpCost { op: "HARD_SWISH", form: "", per_step: 801.7, per_mac: 0.0000, per_element: 71.0422, samples: 163 },
        OpCost { op: "LEAKY_RELU", form: "", per_step: 417.2, per_mac: 0.0000, per_element: 60.0001, samples: 6 },
        OpCost { op: "LOGISTIC", form: "", per_step: 473.0, per_mac: 0.0000, per_element: 0.0000, samples: 2 },
        OpCost { op: "MAX_POOL_2D", form: "", per_step: 8009.3, per_mac: 0.0000, per_element: 181.6687, samples: 190 },
        OpCost { op: "MEAN", form: "", per_step: 843775.5, per_mac: 0.0000, per_element: 1374.4380, samples: 24 },
        OpCost { op: "MUL", form: "", per_step: 881.3, per_mac: 0.0000, per_element: 71.3166, samples: 36 },
        OpCost { op: "PAD", form: "", per_step: 571.4, per_mac: 0.0000, per_element: 21.9788, samples: 433 },
        OpCost { op: "QUANTIZE", form: "", per_step: 797.2, per_mac: 0.0000, per_element: 36.9536, samples: 101 },
        OpCost { op: "RELU", form: "", per_step: 26424.5, per_mac: 0.0000, per_element: 4.7471, samples: 417 },
        OpCost { op: "RESHAPE", form: "", per_step: 58.6, per_mac: 0.0000, per_element: 0.0000, samples: 9 },
        OpCost { op: "RESIZE_BILINEAR", form: "", per_step: 553095.0, per_mac: 0.0000, per_element: 0.0000, samples: 2 },
        OpCost { op: "RESIZE_NEAREST_NEIGHBOR", form: "", per_step: 0.0, per_mac: 0.0000, per_element: 3.4354, samples: 2 },
        OpCost { op: "SOFTMAX", form: "", per_step: 896.3, per_mac: 0.0000, per_element: 377.3344, samples: 5 },
        OpCost { op: "TRANSPOSE", form: "", per_step: 285.2, per_mac: 0.0000, per_element: 115.4021, samples: 2 },
    ],
    fallback: OpCost { op: "*", form: "", per_step: 5477.0, per_mac: 4.7379, per_element: 1.4995, samples: 3564 },
};
