//! Prepared kernels as Rust source: what an exported crate's `model.rs`
//! holds. Every parameter type of a kernel implements [`Literal`] (structs
//! with [`literal_struct!`] beside their definition), so code generation is
//! one generic walk instead of a format string per operator.

use core::fmt::{Result, Write};

/// A value written as a Rust expression that evaluates to it, exactly
/// (floats round-trip through their shortest decimal or their bits).
pub trait Literal {
    fn literal(&self, out: &mut dyn Write) -> Result;
}

macro_rules! display_literal {
    ($($t:ty),*) => {$(
        impl Literal for $t {
            fn literal(&self, out: &mut dyn Write) -> Result {
                write!(out, "{self}")
            }
        }
    )*};
}
display_literal!(bool, u8, u16, u32, u64, usize, i8, i16, i32, i64);

macro_rules! float_literal {
    ($($t:ident),*) => {$(
        impl Literal for $t {
            fn literal(&self, out: &mut dyn Write) -> Result {
                if self.is_finite() {
                    write!(out, "{self:?}{}", stringify!($t))
                } else {
                    write!(out, "{}::from_bits({:#x})", stringify!($t), self.to_bits())
                }
            }
        }
    )*};
}
float_literal!(f32, f64);

impl<T: Literal> Literal for Option<T> {
    fn literal(&self, out: &mut dyn Write) -> Result {
        match self {
            None => out.write_str("None"),
            Some(v) => {
                out.write_str("Some(")?;
                v.literal(out)?;
                out.write_str(")")
            }
        }
    }
}

impl<T: Literal, const N: usize> Literal for [T; N] {
    fn literal(&self, out: &mut dyn Write) -> Result {
        out.write_str("[")?;
        for (i, v) in self.iter().enumerate() {
            if i > 0 {
                out.write_str(", ")?;
            }
            v.literal(out)?;
        }
        out.write_str("]")
    }
}

impl<A: Literal, B: Literal> Literal for (A, B) {
    fn literal(&self, out: &mut dyn Write) -> Result {
        out.write_str("(")?;
        self.0.literal(out)?;
        out.write_str(", ")?;
        self.1.literal(out)?;
        out.write_str(")")
    }
}

/// Implements [`Literal`] for a struct with named fields, or for an enum of
/// unit variants (`literal_struct!(enum PoolKind { Max, Average })`).
#[macro_export]
macro_rules! literal_struct {
    (enum $t:ident { $($v:ident),* $(,)? }) => {
        impl $crate::literal::Literal for $t {
            fn literal(&self, o: &mut dyn core::fmt::Write) -> core::fmt::Result {
                match self {
                    $($t::$v => o.write_str(concat!(stringify!($t), "::", stringify!($v))),)*
                }
            }
        }
    };
    ($t:ident { $($f:ident),* $(,)? }) => {
        impl $crate::literal::Literal for $t {
            #[allow(unused_variables)]
            fn literal(&self, o: &mut dyn core::fmt::Write) -> core::fmt::Result {
                o.write_str(concat!(stringify!($t), " {"))?;
                $(
                    o.write_str(concat!(" ", stringify!($f), ": "))?;
                    $crate::literal::Literal::literal(&self.$f, o)?;
                    o.write_str(",")?;
                )*
                o.write_str(" }")
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    struct S {
        a: i32,
        b: Option<[u8; 2]>,
        c: f32,
    }
    literal_struct!(S { a, b, c });

    struct L<'a>(&'a dyn Literal);
    impl core::fmt::Display for L<'_> {
        fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> Result {
            self.0.literal(f)
        }
    }

    #[test]
    fn structs_and_floats_round_trip() {
        let mut s = heapless_string();
        let v = S { a: -3, b: Some([1, 2]), c: 0.1 };
        write!(s, "{}", L(&v)).unwrap();
        assert_eq!(s.as_str(), "S { a: -3, b: Some([1, 2]), c: 0.1f32, }");
        let mut s = heapless_string();
        write!(s, "{}", L(&f32::INFINITY)).unwrap();
        assert_eq!(s.as_str(), "f32::from_bits(0x7f800000)");
    }

    /// A fixed buffer: the literal code never needs an allocator.
    fn heapless_string() -> Buf {
        Buf { bytes: [0; 128], len: 0 }
    }
    struct Buf {
        bytes: [u8; 128],
        len: usize,
    }
    impl Buf {
        fn as_str(&self) -> &str {
            core::str::from_utf8(&self.bytes[..self.len]).unwrap()
        }
    }
    impl Write for Buf {
        fn write_str(&mut self, s: &str) -> Result {
            let end = self.len + s.len();
            self.bytes.get_mut(self.len..end).ok_or(core::fmt::Error)?.copy_from_slice(s.as_bytes());
            self.len = end;
            Ok(())
        }
    }
}
