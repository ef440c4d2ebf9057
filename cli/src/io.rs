//! Files in and out: models, `.npy` tensors and images.

use std::io::Cursor;
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

/// Deepest bracket nesting read in a `.npy` header.
const MAX_NPY_NESTING: usize = 4;

/// Parses `.npy` bytes of the element types patchwise uses.
pub fn parse_npy(bytes: &[u8]) -> Result<Npy> {
    // The header's length must fit in the file before npyz reserves a buffer
    // for it (versions 2 and 3 give it in four bytes: up to 4 GiB).
    let header_end = match (bytes.get(..6), bytes.get(6)) {
        (Some(b"\x93NUMPY"), Some(1)) => bytes.get(8..10).map(|b| 10 + u16::from_le_bytes([b[0], b[1]]) as u64),
        (Some(b"\x93NUMPY"), Some(2 | 3)) => {
            bytes.get(8..12).map(|b| 12 + u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as u64)
        }
        _ => None,
    };
    let header = match header_end {
        None => bail!("not a .npy file (no NUMPY magic and version 1, 2 or 3)"),
        Some(end) if end > bytes.len() as u64 => {
            bail!("the .npy header is {end} bytes long, more than the {}-byte file", bytes.len())
        }
        Some(end) => &bytes[..end as usize],
    };
    // The header is a Python literal parsed by a backtracking parser that
    // takes exponential time in its nesting (a few hundred bytes of "[[[["
    // hang it); a simple array's header nests two levels: `{'shape': (2, 3)}`.
    let (mut depth, mut deepest) = (0usize, 0usize);
    for &c in header {
        match c {
            b'(' | b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    if deepest > MAX_NPY_NESTING {
        bail!(
            "the .npy header nests {deepest} levels deep (a plain array's nests 2; at most {MAX_NPY_NESTING} are read)"
        );
    }
    // npyz multiplies the shape's dimensions unchecked while it reads the
    // header (its element count and its strides: (5, 2^64 - 1) overflows, and
    // so does (0, 10^10, 2^64 - 1), whose count is 0), so the product of the
    // nonzero dimensions, which bounds every product npyz takes, is checked first.
    if let Some(dims) = header_shape(header) {
        if dims.iter().try_fold(1u64, |n, &d| if d? == 0 { Some(n) } else { n.checked_mul(d?) }).is_none() {
            bail!("the .npy header declares a shape whose nonzero dimensions multiply past 64 bits");
        }
    }
    let npy = npyz::NpyFile::new(Cursor::new(bytes)).context("not a valid .npy file")?;
    let shape: Vec<usize> = npy.shape().iter().map(|&d| d as usize).collect();
    let descr = npy.header().dtype().descr();
    let code = descr.trim_matches('\'').trim_start_matches(['<', '|', '=']);
    let item = match code {
        "i1" | "u1" => 1,
        "i2" => 2,
        "f4" | "i4" => 4,
        "i8" => 8,
        other => bail!("unsupported .npy dtype {other}"),
    };
    // The header's shape must fit in the file before anything is allocated
    // for it (npyz reserves the whole array from the header).
    let declared = npy.shape().iter().try_fold(item, |n: u64, &d| n.checked_mul(d));
    if declared.is_none_or(|b| b > bytes.len() as u64) {
        bail!(
            "the .npy header declares shape {shape:?} ({item}-byte elements), more data than the {}-byte file holds",
            bytes.len()
        );
    }
    let (dtype, data) = match code {
        "i1" => (DType::I8, npy.into_vec::<i8>()?.into_iter().map(|v| v as u8).collect()),
        "u1" => (DType::U8, npy.into_vec::<u8>()?),
        "f4" => (DType::F32, npy.into_vec::<f32>()?.into_iter().flat_map(f32::to_le_bytes).collect()),
        "i4" => (DType::I32, npy.into_vec::<i32>()?.into_iter().flat_map(i32::to_le_bytes).collect()),
        "i8" => (DType::I64, npy.into_vec::<i64>()?.into_iter().flat_map(i64::to_le_bytes).collect()),
        "i2" => (DType::I16, npy.into_vec::<i16>()?.into_iter().flat_map(i16::to_le_bytes).collect()),
        other => bail!("unsupported .npy dtype {other}"),
    };
    Ok(Npy { shape, dtype, data })
}

/// The dimensions of a header's `'shape': (…)` entry, each `None` where it
/// does not fit in 64 bits; `None` when the header has no such entry of
/// plain integers (npyz then judges it).
fn header_shape(header: &[u8]) -> Option<Vec<Option<u64>>> {
    let at = header.windows(7).position(|w| w == b"'shape'" || w == b"\"shape\"")?;
    let rest = &header[at + 7..];
    let open = rest.iter().position(|&c| c == b'(')?;
    let close = rest[open..].iter().position(|&c| c == b')')? + open;
    let dims = rest[open + 1..close].split(|&c| c == b',').map(|d| d.trim_ascii()).filter(|d| !d.is_empty());
    dims.map(|d| {
        d.iter()
            .all(u8::is_ascii_digit)
            .then(|| d.iter().try_fold(0u64, |n, &c| n.checked_mul(10)?.checked_add(u64::from(c - b'0'))))
    })
    .collect()
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
        assert!(e.contains("declares shape [1000000, 1000] (4-byte elements), more data than"), "{e}");
        let mut long = ok.clone();
        long[6] = 2; // version 2: a four-byte header length, here 0x2776_0076
        let e = parse_npy(&long).err().unwrap().to_string();
        assert!(e.contains("more than the"), "{e}");
        assert!(parse_npy(b"not npy").is_err());
    }
}
