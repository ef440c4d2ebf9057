//! Lists the sources of `patchwise-core` that exported firmware compiles:
//! every module of `core/src/lib.rs` not gated behind the `alloc` feature,
//! with its sub-modules (so a new operator module in `ops/` or kernel in
//! `kernels/` is vendored without touching this crate).

use std::fmt::Write;
use std::path::{Path, PathBuf};

/// Every `.rs` file under `core/src/<dir>`, sub-directories included, relative to `core/src`.
fn sources(core: &Path, dir: &Path, files: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(core.join(dir)).expect("module directory") {
        let p = e.expect("dir entry").path();
        let rel = dir.join(p.file_name().expect("file name"));
        if p.is_dir() {
            sources(core, &rel, files);
        } else if p.extension().is_some_and(|x| x == "rs") {
            files.push(rel);
        }
    }
}

fn main() {
    let core = Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/src");
    println!("cargo:rerun-if-changed={}", core.display());
    let lib = std::fs::read_to_string(core.join("lib.rs")).expect("core/src/lib.rs");
    let mut files = vec![PathBuf::from("lib.rs")];
    let mut gated = false;
    for line in lib.lines().map(str::trim) {
        if line.starts_with("#[cfg(feature = \"alloc\")]") {
            gated = true;
            continue;
        }
        if let Some(name) = line.strip_prefix("pub mod ").and_then(|r| r.strip_suffix(';')) {
            if !gated {
                if core.join(format!("{name}.rs")).is_file() {
                    files.push(PathBuf::from(format!("{name}.rs")));
                } else {
                    sources(&core, Path::new(name), &mut files);
                }
            }
        }
        if !line.starts_with("#[") {
            gated = false;
        }
    }
    files.sort();
    let mut out = String::from("&[\n");
    for f in &files {
        let abs = core.join(f).canonicalize().expect("core source");
        let rel = f.to_str().expect("utf-8 path").replace('\\', "/");
        let _ = writeln!(out, "    ({rel:?}, include_str!({:?})),", abs.to_str().expect("utf-8 path"));
    }
    out.push(']');
    let dest = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("core_sources.rs");
    std::fs::write(dest, out).expect("write core_sources.rs");
}
