//! Every per-operator golden case is byte-identical to TFLite's BUILTIN_REF.

use patchwise_tests::{cases, check_case, root};

#[test]
fn every_op_case_is_bit_exact() {
    let dir = root().join("tests/golden/ops");
    let all = cases(&dir, None);
    assert!(all.len() >= 50, "expected the generated op cases in {}", dir.display());
    let failures: Vec<String> =
        all.iter().filter_map(|c| check_case(c).err().map(|e| format!("{}: {e}", c.name))).collect();
    assert!(failures.is_empty(), "{} of {} cases differ:\n{}", failures.len(), all.len(), failures.join("\n"));
}
