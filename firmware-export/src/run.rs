//! Building an exported project and checking what the firmware prints
//! (used by the tests; the CLI can use it for `export --run`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::project::QEMU_ARGS;

/// What the firmware printed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunReport {
    /// `output_<i>` bytes, by index.
    pub outputs: Vec<Vec<u8>>,
    pub arena_hwm: Option<usize>,
    pub arena_planned: Option<usize>,
    pub stack_used: Option<usize>,
    pub stack_size: Option<usize>,
    pub cycles: Option<u64>,
    /// The closing `done` line was printed.
    pub done: bool,
}

fn hex(s: &str) -> Result<Vec<u8>, String> {
    if s.len() % 2 != 0 {
        return Err(format!("odd-length hex ({} digits)", s.len()));
    }
    (0..s.len())
        .step_by(2)
        .map(|i| {
            let d = &s[i..i + 2];
            if !d.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
                return Err(format!("not lowercase hex: {d:?}"));
            }
            u8::from_str_radix(d, 16).map_err(|e| e.to_string())
        })
        .collect()
}

/// Parses the firmware's lines (other lines, e.g. the banner, are ignored).
/// `output_<i>` lines must come in order from 0.
pub fn parse_output(stdout: &str) -> Result<RunReport, String> {
    let mut r = RunReport::default();
    for line in stdout.lines() {
        let line = line.trim_end();
        let (key, value) = line.split_once(' ').unwrap_or((line, ""));
        let num = |v: &str| v.parse::<u64>().map_err(|e| format!("{key}: {e}"));
        if let Some(i) = key.strip_prefix("output_") {
            let i: usize = i.parse().map_err(|_| format!("bad output line: {line:.60}"))?;
            if i != r.outputs.len() {
                return Err(format!("output_{i} out of order (expected output_{})", r.outputs.len()));
            }
            r.outputs.push(hex(value).map_err(|e| format!("output_{i}: {e}"))?);
            continue;
        }
        match key {
            "arena_hwm" => r.arena_hwm = Some(num(value)? as usize),
            "arena_planned" => r.arena_planned = Some(num(value)? as usize),
            "stack_used" => r.stack_used = Some(num(value)? as usize),
            "stack_size" => r.stack_size = Some(num(value)? as usize),
            "cycles" => r.cycles = Some(num(value)?),
            "done" => r.done = true,
            _ => {}
        }
    }
    Ok(r)
}

/// Compares the printed outputs with the expected ones; the error names the
/// first difference.
pub fn check_outputs(report: &RunReport, expected: &[Vec<u8>]) -> Result<(), String> {
    if !report.done {
        return Err("the firmware did not print `done`".into());
    }
    if report.outputs.len() != expected.len() {
        return Err(format!("{} outputs printed, {} expected", report.outputs.len(), expected.len()));
    }
    for (i, (got, want)) in report.outputs.iter().zip(expected).enumerate() {
        if got.len() != want.len() {
            return Err(format!("output_{i}: {} bytes printed, {} expected", got.len(), want.len()));
        }
        if let Some(k) = got.iter().zip(want).position(|(a, b)| a != b) {
            let n = got.iter().zip(want).filter(|(a, b)| a != b).count();
            return Err(format!(
                "output_{i}: {n} of {} bytes differ, first at byte {k}: firmware {:#04x}, host {:#04x}",
                got.len(),
                got[k],
                want[k]
            ));
        }
    }
    Ok(())
}

/// Runs `cargo build --release` in an exported project. `target_dir`
/// overrides the target directory (share one across exports to build the
/// dependencies once). Returns the ELF, or cargo's stderr.
pub fn cargo_build(
    project: &Path,
    crate_name: &str,
    target: &str,
    target_dir: Option<&Path>,
    features: &[&str],
    offline: bool,
) -> Result<PathBuf, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(project).args(["build", "--release", "--color", "never"]);
    if offline {
        cmd.arg("--offline");
    }
    if !features.is_empty() {
        cmd.args(["--features", &features.join(",")]);
    }
    // A nested build: drop what an enclosing cargo (e.g. `cargo test`) set for itself.
    // (RUSTFLAGS would replace the project's `-Tlink.x`.)
    const SET_BY_CARGO: &[&str] = &[
        "CARGO_BUILD_",
        "CARGO_TARGET_",
        "CARGO_PROFILE_",
        "CARGO_MANIFEST_",
        "CARGO_PKG_",
        "CARGO_BIN_",
        "CARGO_CRATE_NAME",
        "CARGO_PRIMARY_PACKAGE",
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "RUSTDOCFLAGS",
    ];
    for (k, _) in std::env::vars() {
        if SET_BY_CARGO.iter().any(|p| k.starts_with(p)) {
            cmd.env_remove(k);
        }
    }
    let dir = target_dir.map(Path::to_path_buf).unwrap_or_else(|| project.join("target"));
    cmd.env("CARGO_TARGET_DIR", &dir);
    let out = cmd.output().map_err(|e| format!("cannot run cargo: {e}"))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    Ok(dir.join(target).join("release").join(crate_name))
}

/// What a QEMU run gave.
#[derive(Debug)]
pub struct QemuRun {
    pub stdout: String,
    pub stderr: String,
    /// `None` when QEMU was killed at the timeout.
    pub exit_code: Option<i32>,
    pub elapsed: Duration,
}

/// Runs an ELF on QEMU's mps2-an500 with semihosting, killed after `timeout`.
pub fn run_qemu(elf: &Path, timeout: Duration) -> std::io::Result<QemuRun> {
    run_qemu_with(elf, timeout, &[])
}

/// [`run_qemu`] with extra QEMU arguments (e.g. `-plugin`).
pub fn run_qemu_with(elf: &Path, timeout: Duration, extra: &[String]) -> std::io::Result<QemuRun> {
    let start = Instant::now();
    let mut child = Command::new("qemu-system-arm")
        .args(extra)
        .args(QEMU_ARGS)
        .arg(elf)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    // Drain the pipes on threads so a chatty program cannot block on a full pipe.
    let mut so = child.stdout.take().expect("piped");
    let mut se = child.stderr.take().expect("piped");
    let t_out = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = std::io::Read::read_to_end(&mut so, &mut s);
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = std::io::Read::read_to_end(&mut se, &mut s);
        s
    });
    let exit_code = loop {
        if let Some(status) = child.try_wait()? {
            break Some(status.code().unwrap_or(-1));
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stdout = String::from_utf8_lossy(&t_out.join().unwrap_or_default()).into_owned();
    let stderr = String::from_utf8_lossy(&t_err.join().unwrap_or_default()).into_owned();
    Ok(QemuRun { stdout, stderr, exit_code, elapsed: start.elapsed() })
}
