//! control bytes + `.tflite` → layer by layer vs patch-based runs (`patchwise_tests::fuzz::run`).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| patchwise_tests::fuzz::run(data));
