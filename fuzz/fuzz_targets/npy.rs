//! `.npy` bytes → the CLI parser (`patchwise_tests::fuzz::npy`).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| patchwise_tests::fuzz::npy(data, patchwise_fuzz::peak_heap));
