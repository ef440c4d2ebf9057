//! The firmware-output checker and the vendored sources, on the host.

mod common;

use patchwise_firmware_export::run::{check_outputs, parse_output};
use patchwise_firmware_export::vendor::CORE_SOURCES;

const OUT: &str = "patchwise m on qemu-mps2-an500: layer-by-layer, arena 64 B
output_0 00ff7f80
output_1 0a
arena_hwm 64
arena_planned 64
stack_used 1800
stack_size 30000
done
";

#[test]
fn checker_accepts_equal_outputs_and_rejects_any_difference() {
    let r = parse_output(OUT).unwrap();
    assert_eq!(r.outputs, vec![vec![0x00, 0xff, 0x7f, 0x80], vec![0x0a]]);
    assert_eq!((r.arena_hwm, r.arena_planned, r.stack_used, r.done), (Some(64), Some(64), Some(1800), true));
    let want = vec![vec![0x00, 0xff, 0x7f, 0x80], vec![0x0a]];
    assert_eq!(check_outputs(&r, &want), Ok(()));
    // One tampered byte, a missing output, an extra byte, no `done`.
    let mut bad = want.clone();
    bad[0][2] = 0x7e;
    let e = check_outputs(&r, &bad).unwrap_err();
    assert!(e.contains("output_0") && e.contains("byte 2"), "{e}");
    assert!(check_outputs(&r, &want[..1]).is_err());
    let mut longer = want.clone();
    longer[1].push(0);
    assert!(check_outputs(&r, &longer).is_err());
    let unfinished = parse_output(&OUT.replace("done\n", "")).unwrap();
    assert!(check_outputs(&unfinished, &want).is_err());
}

#[test]
fn parser_rejects_malformed_lines() {
    assert!(parse_output("output_1 00\n").is_err(), "out of order");
    assert!(parse_output("output_0 0\n").is_err(), "odd length");
    assert!(parse_output("output_0 AB\n").is_err(), "uppercase");
    assert!(parse_output("output_0 zz\n").is_err(), "not hex");
}

/// Every module core compiles without `alloc` is vendored.
#[test]
fn vendored_core_has_every_no_alloc_module() {
    let have = |p: &str| CORE_SOURCES.iter().any(|(q, _)| *q == p);
    let root = common::repo().join("core/src");
    for (file, dir) in [("lib.rs", ""), ("kernels/mod.rs", "kernels/")] {
        let src = std::fs::read_to_string(root.join(file)).unwrap();
        let mut gated = false;
        for line in src.lines().map(str::trim) {
            if let Some(m) = line.strip_prefix("pub mod ").and_then(|l| l.strip_suffix(';')) {
                if !gated {
                    let (a, b) = (format!("{dir}{m}.rs"), format!("{dir}{m}/mod.rs"));
                    assert!(have(&a) || have(&b), "core module {a} is compiled without alloc but not vendored");
                }
            }
            if !line.starts_with("#[") || line.starts_with("#[cfg") {
                gated = line.starts_with("#[cfg(feature = \"alloc\")]");
            }
        }
        // The vendored copy is the current source.
        let vendored = CORE_SOURCES.iter().find(|(p, _)| *p == file).unwrap().1;
        assert_eq!(vendored, src);
    }
}
