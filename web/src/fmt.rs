//! Human-readable numbers: bytes in kB/MB (1 kB = 1000 B), MACs in k/M/G.

/// `v` in the largest of `units` (`(divisor, suffix, decimals)`, ascending) it reaches.
fn scaled(v: f64, units: &[(f64, &str, usize)]) -> String {
    let (d, unit, decimals) = units.iter().rev().find(|u| v >= u.0).copied().unwrap_or(units[0]);
    format!("{:.*}{unit}", decimals, v / d)
}

/// `259328` → `"259.3 kB"`.
pub fn bytes(b: usize) -> String {
    scaled(b as f64, &[(1.0, " B", 0), (1e3, " kB", 1), (1e6, " MB", 2)])
}

/// Bytes as KiB (board SRAM sizes are powers of two): `327680` → `"320 KiB"`.
pub fn kib(b: usize) -> String {
    if b % 1024 == 0 {
        format!("{} KiB", b / 1024)
    } else {
        format!("{:.1} KiB", b as f64 / 1024.0)
    }
}

/// `31545856` → `"31.55 M"`.
pub fn count(n: u64) -> String {
    scaled(n as f64, &[(1.0, "", 0), (1e3, " k", 1), (1e6, " M", 2), (1e9, " G", 2)])
}

/// A short axis label: `100000` → `"100 kB"`, `250000` → `"250 kB"`, `1500000` → `"1.5 MB"`.
pub fn bytes_tick(b: f64) -> String {
    let (v, unit) = if b < 1e3 {
        (b, "B")
    } else if b < 1e6 {
        (b / 1e3, "kB")
    } else {
        (b / 1e6, "MB")
    };
    format!("{} {unit}", trim(v))
}

/// A short axis label for a count: `25000000` → `"25 M"`, `27500000` → `"27.5 M"`.
pub fn count_tick(n: f64) -> String {
    let (v, unit) = if n < 1e3 {
        (n, "")
    } else if n < 1e6 {
        (n / 1e3, " k")
    } else if n < 1e9 {
        (n / 1e6, " M")
    } else {
        (n / 1e9, " G")
    };
    format!("{}{unit}", trim(v))
}

/// Up to two decimals, trailing zeros dropped.
fn trim(v: f64) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// A percentage with two decimals: `2.5516` → `"2.55 %"`.
pub fn pct(p: f64) -> String {
    format!("{p:.2} %")
}

/// Milliseconds: `"12.3 ms"`, `"1.24 s"`.
pub fn millis(ms: f64) -> String {
    if ms < 1000.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{:.2} s", ms / 1000.0)
    }
}

/// Microseconds: `"850"`, `"12.3 k"` (a table column headed µs).
pub fn micros(us: f64) -> String {
    if us < 10_000.0 {
        format!("{us:.0}")
    } else {
        format!("{:.1} k", us / 1000.0)
    }
}

/// A shape as `32×32×24` (batch dropped when it is 1).
pub fn shape(s: &[usize]) -> String {
    let s = if s.len() > 1 && s[0] == 1 { &s[1..] } else { s };
    s.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("×")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readable() {
        assert_eq!(bytes(259_328), "259.3 kB");
        assert_eq!(bytes(999), "999 B");
        assert_eq!(bytes(1_234_567), "1.23 MB");
        assert_eq!(kib(327_680), "320 KiB");
        assert_eq!(count(31_545_856), "31.55 M");
        assert_eq!(count(784_896), "784.9 k");
        assert_eq!(pct(2.5515978695073236), "2.55 %");
        assert_eq!(shape(&[1, 32, 32, 24]), "32×32×24");
        assert_eq!(bytes_tick(100_000.0), "100 kB");
        assert_eq!(bytes_tick(0.0), "0 B");
        assert_eq!(count_tick(27_500_000.0), "27.5 M");
    }
}
