//! `.tflite` bytes → load → schedule search → report (`patchwise_tests::fuzz::plan`).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| patchwise_tests::fuzz::plan(data, patchwise_fuzz::peak_heap));
