//! patchwise-core: a `no_std` int8 TFLite engine built for MCUNetV2-style
//! patch-based inference.
//!
//! - [`loader`] turns untrusted `.tflite` bytes into a typed [`graph::Graph`].
//! - [`kernels`] are int8 kernels bit-exact with TFLite's reference kernels.
//! - [`planner`] places buffers in one arena; [`lower`] turns a graph and a
//!   schedule into a [`program::Program`], whose one interpreter runs inside a
//!   caller-given arena without allocating (host, browser and firmware alike).
//! - [`op`] and [`ops`]: the operators, one module per family.
//!
//! Without the `alloc` feature only the kernels, the operators' eval, the
//! program interpreter, fixed-point math and region types are available:
//! enough for generated firmware.
#![no_std]
#![deny(unsafe_code)]

#[cfg(feature = "alloc")]
extern crate alloc;

pub mod arena;
pub mod error;
pub mod fixedpoint;
pub mod halo;
pub mod kernels;
pub mod literal;
pub mod op;
pub mod ops;
pub mod program;
pub mod region;

#[cfg(feature = "alloc")]
pub mod detect;
#[cfg(feature = "alloc")]
pub mod exec;
#[cfg(feature = "alloc")]
pub mod explore;
#[cfg(feature = "alloc")]
pub mod fit;
#[cfg(feature = "alloc")]
pub mod graph;
#[cfg(feature = "alloc")]
pub mod latency;
#[cfg(feature = "alloc")]
pub mod layout;
#[cfg(feature = "alloc")]
pub mod loader;
#[cfg(feature = "alloc")]
pub mod lower;
#[cfg(feature = "alloc")]
pub mod patch;
#[cfg(feature = "alloc")]
pub mod plan;
#[cfg(feature = "alloc")]
pub mod planner;
#[cfg(feature = "alloc")]
#[allow(clippy::all, dead_code, unused_imports, non_camel_case_types, missing_docs, unsafe_code)]
pub mod schema;
#[cfg(feature = "alloc")]
pub mod spec;
#[cfg(feature = "alloc")]
pub mod validate;
#[cfg(feature = "alloc")]
pub mod watch;

pub use error::{Error, Result};
#[cfg(feature = "alloc")]
pub mod analysis;
pub mod boards;
pub mod preprocess;
