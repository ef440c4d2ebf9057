//! CONCATENATION along any axis.

/// Copies `inputs` (each `outer × (dim_i × inner)` bytes) into `output`.
/// `chunks[i]` is `dim_i × inner × element size` for input `i`.
pub fn concat_bytes<'a>(inputs: impl Iterator<Item = (&'a [u8], usize)> + Clone, outer: usize, output: &mut [u8]) {
    let mut o = 0;
    for k in 0..outer {
        for (data, chunk) in inputs.clone() {
            output[o..o + chunk].copy_from_slice(&data[k * chunk..(k + 1) * chunk]);
            o += chunk;
        }
    }
}
