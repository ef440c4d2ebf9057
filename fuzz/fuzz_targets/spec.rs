//! architecture-spec JSON → builder → plan (`patchwise_tests::fuzz::spec`).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| patchwise_tests::fuzz::spec(data));
