//! The no-alloc part of `patchwise-core`, vendored into every exported
//! crate (`vendor/patchwise-core/`). The sources are embedded when this
//! crate is compiled, so an export always carries the core it was checked with.

/// (path inside `src/`, contents) of every core source the firmware
/// compiles, in path order (listed by `build.rs` from core's `lib.rs`).
pub const CORE_SOURCES: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/core_sources.rs"));

/// `vendor/patchwise-core/Cargo.toml`: no features (no alloc), no workspace.
pub fn core_cargo_toml(version: &str) -> String {
    format!(
        r#"# patchwise-core {version}: kernels, operators, fixed-point math, regions and the program interpreter,
# vendored by patchwise-firmware-export (the `alloc` half of the crate is left out).
[package]
name = "patchwise-core"
version = "{version}"
edition = "2021"
license = "Apache-2.0"
description = "no_std int8 kernels and program interpreter of patchwise (vendored, no alloc)"

[features]
# Armv7E-M DSP kernels (enabled by the firmware crate for thumbv7em boards).
dsp = []

[dependencies]
libm = "0.2"
bytemuck = {{ version = "1", default-features = false }}

# The host's AVX2 kernels detect the CPU at run time (compiled only for x86-64).
[target.'cfg(target_arch = "x86_64")'.dependencies]
cpufeatures = "0.3"

[lints.rust]
# lib.rs gates the host-only modules (not vendored) behind these features.
unexpected_cfgs = {{ level = "warn", check-cfg = ['cfg(feature, values("alloc", "serde", "dsp"))'] }}
"#
    )
}
