//! The no-alloc part of `patchwise-core`, vendored into every exported
//! crate (`vendor/patchwise-core/`). The sources are embedded when this
//! crate is compiled, so an export always carries the core it was checked with.

/// (path inside `src/`, contents) of every core source the firmware compiles.
pub const CORE_SOURCES: &[(&str, &str)] = &[
    ("lib.rs", include_str!("../../core/src/lib.rs")),
    ("arena.rs", include_str!("../../core/src/arena.rs")),
    ("error.rs", include_str!("../../core/src/error.rs")),
    ("fixedpoint.rs", include_str!("../../core/src/fixedpoint.rs")),
    ("op.rs", include_str!("../../core/src/op.rs")),
    ("region.rs", include_str!("../../core/src/region.rs")),
    ("boards.rs", include_str!("../../core/src/boards.rs")),
    ("preprocess.rs", include_str!("../../core/src/preprocess.rs")),
    ("static_exec.rs", include_str!("../../core/src/static_exec.rs")),
    ("kernels/mod.rs", include_str!("../../core/src/kernels/mod.rs")),
    ("kernels/activation.rs", include_str!("../../core/src/kernels/activation.rs")),
    ("kernels/add.rs", include_str!("../../core/src/kernels/add.rs")),
    ("kernels/concat.rs", include_str!("../../core/src/kernels/concat.rs")),
    ("kernels/conv.rs", include_str!("../../core/src/kernels/conv.rs")),
    ("kernels/depthwise.rs", include_str!("../../core/src/kernels/depthwise.rs")),
    ("kernels/fully_connected.rs", include_str!("../../core/src/kernels/fully_connected.rs")),
    ("kernels/mean.rs", include_str!("../../core/src/kernels/mean.rs")),
    ("kernels/pad.rs", include_str!("../../core/src/kernels/pad.rs")),
    ("kernels/pool.rs", include_str!("../../core/src/kernels/pool.rs")),
    ("kernels/quantize.rs", include_str!("../../core/src/kernels/quantize.rs")),
    ("kernels/resize.rs", include_str!("../../core/src/kernels/resize.rs")),
    ("kernels/softmax.rs", include_str!("../../core/src/kernels/softmax.rs")),
];

/// `vendor/patchwise-core/Cargo.toml`: no features (no alloc), no workspace.
pub fn core_cargo_toml(version: &str) -> String {
    format!(
        r#"# patchwise-core {version}: kernels, fixed-point math, regions and the static executor,
# vendored by patchwise-firmware-export (the `alloc` half of the crate is left out).
[package]
name = "patchwise-core"
version = "{version}"
edition = "2021"
license = "Apache-2.0"
description = "no_std int8 kernels and static executor of patchwise (vendored, no alloc)"

[dependencies]
libm = "0.2"
bytemuck = {{ version = "1", default-features = false }}

[lints.rust]
# lib.rs gates the host-only modules (not vendored) behind these features.
unexpected_cfgs = {{ level = "warn", check-cfg = ['cfg(feature, values("alloc", "serde"))'] }}
"#
    )
}
