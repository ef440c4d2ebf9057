//! One error type for the whole engine. Every variant names what was wrong
//! and where (tensor or operator index), so the CLI and the browser can show
//! the same one-line message.

use core::fmt;

#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// The bytes are not a valid TFLite flatbuffer.
    Flatbuffer(&'static str),
    /// A structural problem in the model, e.g. a missing field.
    Model(ModelError),
    /// Operators the engine does not implement: every one in the model.
    UnsupportedOps(UnsupportedOps),
    /// A tensor type the operator does not support.
    UnsupportedType { op_index: usize, tensor: usize, what: &'static str },
    /// A shape that is inconsistent, unsupported or absurdly large.
    Shape { op_index: Option<usize>, tensor: Option<usize>, what: &'static str },
    /// Quantization parameters the int8 spec rules out.
    Quantization { tensor: usize, what: &'static str },
    /// The arena passed to the executor is too small.
    ArenaTooSmall { needed: usize, got: usize },
    /// An input or output buffer of the wrong size.
    BufferSize { what: &'static str, expected: usize, got: usize },
    /// A patch schedule that cannot be applied to this graph.
    Schedule(&'static str),
    /// A patch stage cannot end at operator `split`: operator `op_index` (`op`) cannot be in it.
    Split { split: usize, op_index: usize, op: &'static str, why: &'static str },
    /// No schedule meets the memory budget; carries the smallest peak found.
    BudgetUnreachable { budget: usize, best_peak: usize },
    /// A size above a documented limit (`value` > `limit`).
    Limit { what: &'static str, value: u64, limit: u64 },
    /// Lowered tables that do not fit together (a span or window out of
    /// range): a lowering bug or tampered firmware tables, never bad input.
    Program(&'static str),
}

/// One kind of unsupported operator in a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnsupportedKind {
    pub name: &'static str,
    /// TFLite builtin code.
    pub code: i32,
    /// Index of the first operator of this kind.
    pub first_op: usize,
    /// Operators of this kind.
    pub count: usize,
}

/// Every unsupported operator of a model, by kind in order of first use
/// (the first [`UnsupportedOps::MAX_KINDS`] kinds listed, the rest counted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UnsupportedOps {
    pub kinds: [Option<UnsupportedKind>; UnsupportedOps::MAX_KINDS],
    /// Distinct kinds listed in `kinds`.
    pub distinct: usize,
    /// Unsupported operators of kinds beyond the listed ones.
    pub unlisted: usize,
    /// Unsupported operators in all.
    pub operators: usize,
    /// Operators in the model.
    pub total: usize,
}

impl UnsupportedOps {
    pub const MAX_KINDS: usize = 8;

    pub fn add(&mut self, name: &'static str, code: i32, op: usize) {
        self.operators += 1;
        let slot = self.kinds.iter_mut().position(|k| k.is_none_or(|k| k.code == code));
        match slot.map(|i| &mut self.kinds[i]) {
            Some(Some(k)) => k.count += 1,
            Some(empty) => {
                *empty = Some(UnsupportedKind { name, code, first_op: op, count: 1 });
                self.distinct += 1;
            }
            None => self.unlisted += 1,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.operators == 0
    }

    /// The listed kinds.
    pub fn iter(&self) -> impl Iterator<Item = &UnsupportedKind> {
        self.kinds.iter().flatten()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ModelError {
    pub what: &'static str,
    pub op_index: Option<usize>,
    pub tensor: Option<usize>,
}

impl Error {
    pub fn model(what: &'static str) -> Self {
        Error::Model(ModelError { what, op_index: None, tensor: None })
    }
    pub fn at_op(what: &'static str, op_index: usize) -> Self {
        Error::Model(ModelError { what, op_index: Some(op_index), tensor: None })
    }
    pub fn at_tensor(what: &'static str, tensor: usize) -> Self {
        Error::Model(ModelError { what, op_index: None, tensor: Some(tensor) })
    }
    pub fn shape(what: &'static str, op_index: Option<usize>, tensor: Option<usize>) -> Self {
        Error::Shape { op_index, tensor, what }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Flatbuffer(what) => write!(f, "not a valid .tflite flatbuffer: {what}"),
            Error::Model(m) => {
                write!(f, "invalid model: {}", m.what)?;
                if let Some(op) = m.op_index {
                    write!(f, " (operator {op})")?;
                }
                if let Some(t) = m.tensor {
                    write!(f, " (tensor {t})")?;
                }
                Ok(())
            }
            Error::UnsupportedOps(u) => {
                write!(f, "unsupported operator{} ", if u.operators == 1 { "" } else { "s" })?;
                for (i, k) in u.iter().enumerate() {
                    let sep = if i == 0 { "" } else { ", " };
                    write!(f, "{sep}{} (builtin code {}) at operator {}", k.name, k.code, k.first_op)?;
                    if k.count > 1 {
                        write!(f, " and {} more", k.count - 1)?;
                    }
                }
                if u.unlisted > 0 {
                    write!(f, ", and {} operators of other kinds", u.unlisted)?;
                }
                write!(f, ": {} of the model's {} operators", u.operators, u.total)
            }
            Error::UnsupportedType { op_index, tensor, what } => {
                write!(f, "unsupported tensor type at operator {op_index}, tensor {tensor}: {what}")
            }
            Error::Shape { op_index, tensor, what } => {
                write!(f, "bad shape: {what}")?;
                if let Some(op) = op_index {
                    write!(f, " (operator {op})")?;
                }
                if let Some(t) = tensor {
                    write!(f, " (tensor {t})")?;
                }
                Ok(())
            }
            Error::Quantization { tensor, what } => {
                write!(f, "bad quantization on tensor {tensor}: {what}")
            }
            Error::ArenaTooSmall { needed, got } => {
                write!(f, "arena too small: needs {needed} bytes, got {got}")
            }
            Error::BufferSize { what, expected, got } => {
                write!(f, "{what}: expected {expected} bytes, got {got}")
            }
            Error::Schedule(what) => write!(f, "invalid patch schedule: {what}"),
            Error::Split { split, op_index, op, why } => {
                write!(f, "a patch stage cannot end at operator {split}: operator {op_index} {op} {why}")
            }
            Error::Limit { what, value, limit } => write!(f, "{what}: {value} is more than the limit of {limit}"),
            Error::Program(what) => write!(f, "inconsistent lowered program: {what}"),
            Error::BudgetUnreachable { budget, best_peak } => write!(
                f,
                "no schedule fits the budget of {budget} bytes; the smallest achievable peak is {best_peak} bytes"
            ),
        }
    }
}

pub type Result<T> = core::result::Result<T, Error>;

impl core::error::Error for Error {}
