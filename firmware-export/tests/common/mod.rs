//! Shared by the firmware-export tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use patchwise_core::graph::Graph;

pub const MODELS: &[&str] = &["opsnet-int8", "mbv2-w0.35-r144-int8", "blazeface-short-int8"];

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root").to_path_buf()
}

pub fn load(name: &str) -> Graph {
    let bytes = std::fs::read(repo().join("models").join(format!("{name}.tflite"))).expect("model file");
    patchwise_core::loader::load(&bytes).expect("model loads")
}

/// Where the tests write exported projects and build them (one directory per
/// target, shared by every export for it, so the vendored core and the
/// dependencies are built once).
pub fn work_dir(target: &str) -> PathBuf {
    repo().join("target").join("firmware-export-tests").join(target)
}

/// Nested cargo builds run one at a time (2 cores, shared directories).
pub fn build_lock() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}
