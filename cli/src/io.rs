//! Files in and out: models, `.npy` tensors and images.

use std::path::Path;

use anyhow::{bail, Context, Result};
use npyz::WriterBuilder;
use patchwise_core::graph::{DType, Graph, Tensor};

/// Largest model file read (models for microcontrollers are far smaller).
const MAX_MODEL_BYTES: u64 = 256 << 20;

pub fn read_model(path: &Path) -> Result<(Vec<u8>, Graph)> {
    let bytes = read_model_bytes(path)?;
    let graph = patchwise_core::loader::load(&bytes).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    Ok((bytes, graph))
}

/// A model file's bytes (at most 256 MiB).
pub fn read_model_bytes(path: &Path) -> Result<Vec<u8>> {
    let meta = std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    if meta.len() > MAX_MODEL_BYTES {
        bail!("{}: model file larger than 256 MiB", path.display());
    }
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

/// A model for the analysis commands: a `.tflite` file, an architecture
/// spec (`.json`), or a preset name (see `patchwise_core::spec::ArchSpec::PRESETS`).
/// `rd` applies receptive-field redistribution to a spec.
pub fn read_graph(arg: &str, rd: bool) -> Result<Graph> {
    use patchwise_core::spec::{self, ArchSpec};
    let spec = if let Some(p) = ArchSpec::preset(arg) {
        Some(p)
    } else if arg.ends_with(".json") {
        let text = std::fs::read_to_string(arg).with_context(|| format!("cannot read {arg}"))?;
        Some(serde_json::from_str::<ArchSpec>(&text).with_context(|| format!("{arg}: not a valid architecture spec"))?)
    } else {
        None
    };
    match spec {
        Some(s) => {
            let s = if rd && !s.name.ends_with("-rd") { s.redistribute(spec::DEFAULT_RD_STAGE_GROUPS) } else { s };
            Ok(spec::build(&s).map_err(|e| anyhow::anyhow!("{arg}: {e}"))?.graph)
        }
        None if rd => {
            // What-if on a trained model: redistribute its inferred architecture.
            let g = read_model(Path::new(arg))?.1;
            let s = spec::infer(&g).map_err(|e| anyhow::anyhow!("{arg}: {}", e.rd_unavailable()))?;
            Ok(spec::build(&s.redistribute(spec::DEFAULT_RD_STAGE_GROUPS))
                .map_err(|e| anyhow::anyhow!("{arg}: {e}"))?
                .graph)
        }
        None => Ok(read_model(Path::new(arg))?.1),
    }
}

/// A `.npy` array: its shape, element type and raw little-endian bytes.
pub struct Npy {
    pub shape: Vec<usize>,
    pub dtype: DType,
    pub data: Vec<u8>,
}

/// Parses `.npy` bytes of the element types patchwise uses.
///
/// The header is read here, strictly, rather than by npyz: it is untrusted
/// text that npyz evaluates as a Python literal, and a fuzzer kept finding
/// arithmetic in that path that overflows or backtracks (findings 3, 5, 10,
/// 12, 13). What numpy writes is a tiny language — a dict of exactly
/// `descr`, `fortran_order` and `shape` — and anything else is refused by name.
pub fn parse_npy(bytes: &[u8]) -> Result<Npy> {
    let header_start = match (bytes.get(..6), bytes.get(6)) {
        (Some(b"\x93NUMPY"), Some(1)) => 10,
        (Some(b"\x93NUMPY"), Some(2 | 3)) => 12,
        _ => bail!("not a .npy file (no NUMPY magic and version 1, 2 or 3)"),
    };
    let header_end = match bytes.get(8..header_start) {
        Some(&[a, b]) => header_start as u64 + u64::from(u16::from_le_bytes([a, b])),
        Some(&[a, b, c, d]) => header_start as u64 + u64::from(u32::from_le_bytes([a, b, c, d])),
        _ => bail!("the .npy file ends inside its preamble"),
    };
    if header_end > bytes.len() as u64 {
        bail!("the .npy header is {header_end} bytes long, more than the {}-byte file", bytes.len());
    }
    let header = npy_header(&bytes[header_start..header_end as usize])?;
    let code = header.descr.trim_start_matches(['<', '|', '=']);
    let (dtype, item): (_, u64) = match code {
        "i1" => (DType::I8, 1),
        "u1" => (DType::U8, 1),
        "i2" => (DType::I16, 2),
        "f4" => (DType::F32, 4),
        "i4" => (DType::I32, 4),
        "i8" => (DType::I64, 8),
        _ => bail!(
            "unsupported .npy dtype {:?} (int8, uint8, int16, int32, int64 or float32, little-endian)",
            header.descr
        ),
    };
    // An empty array may carry any other dimension; only the nonzero ones
    // have to multiply within 64 bits for the shape to mean anything.
    let nonzero = header.shape.iter().filter(|&&d| d != 0).try_fold(1u64, |n, &d| n.checked_mul(d));
    if nonzero.is_none() || header.shape.iter().any(|&d| usize::try_from(d).is_err()) {
        bail!("the .npy header declares a shape whose nonzero dimensions multiply past 64 bits");
    }
    let shape: Vec<usize> = header.shape.iter().map(|&d| d as usize).collect();
    let elements = if shape.contains(&0) { 0 } else { nonzero.unwrap_or(0) };
    let data = &bytes[header_end as usize..];
    match elements.checked_mul(item) {
        Some(want) if want == data.len() as u64 => {}
        _ => bail!(
            "the .npy header declares shape {shape:?} ({item}-byte elements), but the file holds {} data bytes",
            data.len()
        ),
    }
    let data = if header.fortran_order { c_order(data, &shape, item as usize) } else { data.to_vec() };
    Ok(Npy { shape, dtype, data })
}

/// The fields of a `.npy` header.
struct NpyHeader<'a> {
    descr: &'a str,
    fortran_order: bool,
    shape: Vec<u64>,
}

/// Reads `{'descr': '<i1', 'fortran_order': False, 'shape': (2, 3), }`
/// (either quote, any spacing, an optional trailing comma, each key once).
fn npy_header(text: &[u8]) -> Result<NpyHeader<'_>> {
    let mut s = HeaderText { text, at: 0 };
    let (mut descr, mut fortran_order, mut shape) = (None, None, None);
    s.expect(b'{')?;
    while !s.eat(b'}') {
        let key = s.string()?;
        s.expect(b':')?;
        let fresh = match key {
            "descr" => descr.replace(s.string()?).is_none(),
            "fortran_order" => fortran_order.replace(s.boolean()?).is_none(),
            "shape" => shape.replace(s.tuple()?).is_none(),
            other => bail!("the .npy header has a key {other:?} (only descr, fortran_order and shape are read)"),
        };
        if !fresh {
            bail!("the .npy header gives {key:?} twice");
        }
        if !s.eat(b',') {
            s.expect(b'}')?;
            break;
        }
    }
    s.skip_space();
    if s.at != text.len() {
        bail!("the .npy header has text after its closing brace (at byte {})", s.at);
    }
    match (descr, fortran_order, shape) {
        (Some(descr), Some(fortran_order), Some(shape)) => Ok(NpyHeader { descr, fortran_order, shape }),
        _ => bail!("the .npy header lacks one of descr, fortran_order and shape"),
    }
}

/// A position in a `.npy` header's text.
struct HeaderText<'a> {
    text: &'a [u8],
    at: usize,
}

impl<'a> HeaderText<'a> {
    fn skip_space(&mut self) {
        while self.text.get(self.at).is_some_and(|c| c.is_ascii_whitespace()) {
            self.at += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        self.skip_space();
        let hit = self.text.get(self.at) == Some(&c);
        self.at += usize::from(hit);
        hit
    }

    fn expect(&mut self, c: u8) -> Result<()> {
        if !self.eat(c) {
            bail!("the .npy header is not a dict literal: expected {:?} at byte {}", c as char, self.at);
        }
        Ok(())
    }

    /// A quoted string without escapes.
    fn string(&mut self) -> Result<&'a str> {
        self.skip_space();
        let quote = match self.text.get(self.at) {
            Some(&q @ (b'\'' | b'"')) => q,
            _ => bail!("the .npy header is not a dict literal: expected a quoted string at byte {}", self.at),
        };
        let body = &self.text[self.at + 1..];
        let Some(len) = body.iter().position(|&c| c == quote || c == b'\\') else {
            bail!("the .npy header has an unterminated string at byte {}", self.at);
        };
        if body[len] == b'\\' {
            bail!("the .npy header has an escaped string at byte {} (numpy writes none)", self.at);
        }
        let value = std::str::from_utf8(&body[..len]).context("the .npy header has a string that is not UTF-8")?;
        self.at += len + 2;
        Ok(value)
    }

    fn boolean(&mut self) -> Result<bool> {
        self.skip_space();
        for (word, value) in [(&b"True"[..], true), (b"False", false)] {
            if self.text[self.at..].starts_with(word) {
                self.at += word.len();
                return Ok(value);
            }
        }
        bail!("the .npy header's fortran_order is neither True nor False")
    }

    /// `()`, `(n,)` or `(a, b, …)` of decimal integers.
    fn tuple(&mut self) -> Result<Vec<u64>> {
        self.expect(b'(')?;
        let mut dims = Vec::new();
        while !self.eat(b')') {
            let digits = self.text[self.at..].iter().take_while(|c| c.is_ascii_digit()).count();
            if digits == 0 {
                bail!("the .npy header's shape is not a tuple of integers (at byte {})", self.at);
            }
            let d = self.text[self.at..self.at + digits]
                .iter()
                .try_fold(0u64, |n, &c| n.checked_mul(10)?.checked_add(u64::from(c - b'0')));
            self.at += digits;
            // Python 2's numpy wrote long integers with an L.
            self.at += usize::from(self.text.get(self.at) == Some(&b'L'));
            match d {
                Some(d) if dims.len() < MAX_NPY_RANK => dims.push(d),
                Some(_) => bail!("the .npy header's shape has more than {MAX_NPY_RANK} dimensions"),
                None => bail!("the .npy header declares a dimension past 64 bits"),
            }
            if !self.eat(b',') {
                if !self.eat(b')') {
                    bail!("the .npy header's shape is not a tuple of integers (at byte {})", self.at);
                }
                break;
            }
        }
        Ok(dims)
    }
}

/// Most dimensions read in a `.npy` shape (numpy's own limit is 64).
const MAX_NPY_RANK: usize = 64;

/// A Fortran-order (column-major) array's bytes in C order.
fn c_order(data: &[u8], shape: &[usize], item: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    let mut index = vec![0usize; shape.len()];
    for _ in 0..data.len() / item {
        // The first axis varies fastest in the file.
        let (mut offset, mut stride) = (0, 1);
        for (&i, &d) in index.iter().zip(shape) {
            offset += i * stride;
            stride *= d;
        }
        out.extend_from_slice(&data[offset * item..][..item]);
        // C order: the last axis varies fastest in the output.
        for (i, &d) in index.iter_mut().zip(shape).rev() {
            *i += 1;
            if *i < d {
                break;
            }
            *i = 0;
        }
    }
    out
}

/// A tensor's raw little-endian bytes read from `.npy`, checked against `t`.
pub fn read_npy(path: &Path, t: &Tensor) -> Result<Vec<u8>> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let npy = parse_npy(&bytes).with_context(|| path.display().to_string())?;
    if npy.shape != t.shape {
        bail!("{}: shape {:?} does not match the model input {:?}", path.display(), npy.shape, t.shape);
    }
    if npy.dtype != t.dtype {
        bail!("{}: dtype {} does not match the model input ({})", path.display(), npy.dtype.name(), t.dtype.name());
    }
    Ok(npy.data)
}

/// Writes raw tensor bytes as `.npy` with the tensor's dtype and shape.
pub fn write_npy(path: &Path, t: &Tensor, data: &[u8]) -> Result<()> {
    let shape: Vec<u64> = t.shape.iter().map(|&d| d as u64).collect();
    let mut buf = Vec::new();
    {
        macro_rules! write_as {
            ($ty:ty, $it:expr) => {{
                let mut w =
                    npyz::WriteOptions::<$ty>::new().default_dtype().shape(&shape).writer(&mut buf).begin_nd()?;
                w.extend($it)?;
                w.finish()?;
            }};
        }
        match t.dtype {
            DType::I8 => write_as!(i8, data.iter().map(|&b| b as i8)),
            DType::U8 => write_as!(u8, data.iter().copied()),
            DType::F32 => write_as!(f32, data.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))),
            DType::I32 => write_as!(i32, data.chunks_exact(4).map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]))),
            DType::I64 => {
                write_as!(i64, data.chunks_exact(8).map(|c| i64::from_le_bytes(c.try_into().unwrap_or([0; 8]))))
            }
            DType::I16 => write_as!(i16, data.chunks_exact(2).map(|c| i16::from_le_bytes([c[0], c[1]]))),
        }
    }
    std::fs::write(path, buf).with_context(|| format!("cannot write {}", path.display()))
}

pub use patchwise_image::Rgb;

/// Largest image file read.
const MAX_IMAGE_FILE_BYTES: u64 = 256 << 20;

/// Decodes a PNG/JPEG file (`patchwise_image::decode`: refused beyond its size limits).
pub fn read_image(path: &Path) -> Result<Rgb> {
    let meta = std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    if meta.len() > MAX_IMAGE_FILE_BYTES {
        bail!("{}: image file larger than 256 MiB", path.display());
    }
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    patchwise_image::decode(&bytes).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// The model input bytes for an image (core's `preprocess::image_input`).
pub fn image_to_input(img: &Rgb, t: &Tensor) -> Result<Vec<u8>> {
    Ok(patchwise_image::to_input(img, t)?)
}

#[cfg(test)]
mod tests {
    use super::parse_npy;

    fn npy_v1(header: &str, data: &[u8]) -> Vec<u8> {
        let mut h = header.to_string();
        while (10 + h.len() + 1) % 64 != 0 {
            h.push(' ');
        }
        h.push('\n');
        [&b"\x93NUMPY\x01\x00"[..], &(h.len() as u16).to_le_bytes(), h.as_bytes(), data].concat()
    }

    #[test]
    fn sizes_in_the_header_are_checked_against_the_file() {
        let ok = npy_v1("{'descr': '|i1', 'fortran_order': False, 'shape': (2, 3), }", &[1, 2, 3, 4, 5, 6]);
        assert_eq!(parse_npy(&ok).unwrap().data, [1, 2, 3, 4, 5, 6]);
        let big = npy_v1("{'descr': '<i4', 'fortran_order': False, 'shape': (1000000, 1000), }", &[0; 16]);
        let e = parse_npy(&big).err().unwrap().to_string();
        assert!(
            e.contains("declares shape [1000000, 1000] (4-byte elements), but the file holds 16 data bytes"),
            "{e}"
        );
        let mut long = ok.clone();
        long[6] = 2; // version 2: a four-byte header length, here 0x2776_0076
        let e = parse_npy(&long).err().unwrap().to_string();
        assert!(e.contains("more than the"), "{e}");
        assert!(parse_npy(b"not npy").is_err());
    }

    #[test]
    fn headers_numpy_writes_are_read_and_others_named() {
        let read = |h: &str, data: &[u8]| parse_npy(&npy_v1(h, data)).map(|n| (n.shape, n.data));
        let refused = |h: &str| read(h, &[]).err().unwrap().to_string();
        assert_eq!(read("{\"descr\":\"|u1\",\"fortran_order\":False,\"shape\":(3,)}", &[7, 8, 9]).unwrap().0, [3]);
        assert_eq!(
            read("{'descr': '<i1', 'fortran_order': False, 'shape': (), }", &[5]).unwrap().0,
            Vec::<usize>::new()
        );
        assert_eq!(read("{'shape': (2L, 1L), 'fortran_order': False, 'descr': '|i1'}", &[1, 2]).unwrap().0, [2, 1]);
        // Column-major bytes come back in C order: [[1, 2, 3], [4, 5, 6]] is stored 1 4 2 5 3 6.
        let f = read("{'descr': '|i1', 'fortran_order': True, 'shape': (2, 3), }", &[1, 4, 2, 5, 3, 6]).unwrap();
        assert_eq!(f.1, [1, 2, 3, 4, 5, 6]);
        assert_eq!(
            read("{'descr': '<i1', 'fortran_order': False, 'shape': (0, 99999999999), }", &[]).unwrap().0[1],
            99999999999
        );
        for (header, message) in [
            ("{'descr': '<i1', 'fortran_order': False, 'shape': (1+1,), }", "not a tuple of integers"),
            ("{'descr': '<i1', 'fortran_order': False, 'shape': (2,), 'shape': (1,)}", "gives \"shape\" twice"),
            ("{'descr': '<i1', 'fortran_order': False}", "lacks one of"),
            ("{'descr': '<i1', 'fortran_order': False, 'shape': (1,), 'x': 1}", "has a key \"x\""),
            ("{'descr': '>f8', 'fortran_order': False, 'shape': (1,)}", "unsupported .npy dtype \">f8\""),
            ("{'descr': [('a', '<i4', (5, 7))], 'fortran_order': False, 'shape': (1,)}", "expected a quoted string"),
            ("{'descr': '<i1', 'fortran_order': 0, 'shape': (1,)}", "neither True nor False"),
            ("{'descr': '<i1', 'fortran_order': False, 'shape': (1,)} x", "text after its closing brace"),
            ("{'descr': '<i1', 'fortran_order': False, 'shape': (99999999999999999999,)}", "past 64 bits"),
            ("{'descr': '<i1', 'fortran_order': False, 'shape': (4294967296, 4294967296)}", "multiply past 64 bits"),
            ("{'descr': 'i1\\', 'fortran_order': False, 'shape': (1,)}", "escaped string"),
            ("{'descr': '<i1", "unterminated string"),
        ] {
            let e = refused(header);
            assert!(e.contains(message), "{header}: {e}");
        }
    }
}
