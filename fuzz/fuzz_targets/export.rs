//! control byte + `.tflite` → firmware project (`patchwise_tests::fuzz::export`).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| patchwise_tests::fuzz::export(data));
