//! Writes the hostile models the page test uploads (tools/web-test):
//! `cargo run -p patchwise-tests --example hostile_models -- OUT_DIR`.
//! - `deep-chain.tflite`: the loader's most operators (a 4096-RELU chain): the
//!   search stops at its work limit and says so;
//! - `huge-arena.tflite`: one RELU over a 1×6000×6000×3 int8 tensor: it loads
//!   and plans, but its 216 MB arena is beyond what the playground runs.

use patchwise_tests::hostile::relu_chain;

fn main() {
    let out = std::path::PathBuf::from(std::env::args().nth(1).expect("usage: hostile_models OUT_DIR"));
    std::fs::create_dir_all(&out).expect("create OUT_DIR");
    let files = [
        ("deep-chain.tflite", relu_chain(patchwise_core::loader::MAX_OPERATORS, 16, 4)),
        ("huge-arena.tflite", relu_chain(1, 6000, 3)),
    ];
    for (name, bytes) in files {
        std::fs::write(out.join(name), bytes).expect("write model");
        println!("{}", out.join(name).display());
    }
}
