//! CONCATENATION: int8 inputs share the output's quantization (TFLite
//! rejects anything else), so this is a strided copy.

/// Concatenates `parts` along an axis: each part is `outer` blocks of
/// `part.len() / outer` bytes, interleaved into `output`.
pub fn concat<'a>(parts: impl Iterator<Item = &'a [u8]>, outer: usize, output: &mut [u8]) {
    if outer == 0 {
        return;
    }
    let row = output.len() / outer;
    let mut col = 0;
    for data in parts {
        let chunk = data.len() / outer;
        for k in 0..outer {
            output[k * row + col..k * row + col + chunk].copy_from_slice(&data[k * chunk..(k + 1) * chunk]);
        }
        col += chunk;
    }
}
