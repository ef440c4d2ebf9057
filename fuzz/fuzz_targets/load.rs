//! `.tflite` bytes → loader and outline (`patchwise_tests::fuzz::load`).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| patchwise_tests::fuzz::load(data, patchwise_fuzz::peak_heap));
