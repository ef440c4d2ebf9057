//! control byte + image bytes → decode → model input (`patchwise_tests::fuzz::image`).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| patchwise_tests::fuzz::image(data));
