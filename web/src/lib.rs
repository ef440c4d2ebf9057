//! patchwise playground: a Yew (CSR) app that plans, draws and runs
//! patch-based schedules in the browser.
//!
//! The crate splits in two:
//!
//! - plain Rust that builds and is tested natively as well: the worker's
//!   computations ([`compute`]), the messages between page and worker
//!   ([`proto`]), the models it offers and their receptive-field
//!   redistribution ([`models`]), the numbers the page shows ([`view`],
//!   [`fmt`]), the Explore view's sweep state ([`explorer`]), the camera's ([`camera`]), the "watch it run" view's ([`watch`]), the schedule export ([`export`]) and the shareable URL ([`share`]);
//! - browser-only code, compiled for `wasm32` only: the app state
//!   (`state`), the worker agent (`agent`), and one function component per
//!   file under `components`.
//!
//! Two binaries: `app` (the page) and `worker` (the web worker that runs the
//! schedule search and the models, so the page never freezes).

pub mod camera;
pub mod compute;
pub mod explorer;
pub mod export;
pub mod fmt;
pub mod models;
pub mod proto;
pub mod share;
pub mod view;
pub mod watch;

#[cfg(target_arch = "wasm32")]
pub mod agent;
#[cfg(target_arch = "wasm32")]
pub mod app;
#[cfg(target_arch = "wasm32")]
pub mod components;
#[cfg(target_arch = "wasm32")]
pub mod dom;
#[cfg(target_arch = "wasm32")]
pub mod state;

/// The bundled model shown on first open.
pub const DEFAULT_MODEL: &[u8] = include_bytes!("../../models/blazeface-short-int8.tflite");
pub const DEFAULT_MODEL_NAME: &str = "blazeface-short-int8.tflite";
/// The bundled image shown on first open (already the model's 128×128 input size).
pub const DEFAULT_IMAGE: &[u8] = include_bytes!("../../assets/images/astronaut-128.png");
pub const DEFAULT_IMAGE_NAME: &str = "astronaut-128.png";
pub const DEFAULT_IMAGE_SIZE: (u32, u32) = (128, 128);
/// The board whose SRAM is the default budget.
pub const DEFAULT_BOARD: &str = "stm32f746g-disco";
