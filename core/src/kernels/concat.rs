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

#[cfg(test)]
mod tests {
    //! The kernel against a plain transcription of TFLite's `Concatenation`
    //! by index: output element `[.., i, ..]` along `axis` comes from the
    //! operand whose extent covers `i`.
    use super::*;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    fn reference(parts: &[([usize; 4], Vec<u8>)], axis: usize) -> Vec<u8> {
        let mut o = parts[0].0;
        o[axis] = parts.iter().map(|(s, _)| s[axis]).sum();
        let mut out = Vec::new();
        for n in 0..o[0] {
            for y in 0..o[1] {
                for x in 0..o[2] {
                    for c in 0..o[3] {
                        let mut i = [n, y, x, c];
                        let (s, data) = parts
                            .iter()
                            .find(|(s, _)| {
                                let hit = i[axis] < s[axis];
                                if !hit {
                                    i[axis] -= s[axis];
                                }
                                hit
                            })
                            .expect("the index lies in one operand");
                        out.push(data[((i[0] * s[1] + i[1]) * s[2] + i[2]) * s[3] + i[3]]);
                    }
                }
            }
        }
        out
    }

    fn problem() -> impl Strategy<Value = (usize, Vec<([usize; 4], Vec<u8>)>)> {
        (0usize..4, [1usize..=3, 1usize..=4, 1usize..=4, 1usize..=4], prop::collection::vec(1usize..=4, 1..=4))
            .prop_flat_map(|(axis, shape, extents)| {
                let parts: Vec<_> = extents
                    .into_iter()
                    .map(|e| {
                        let mut s = shape;
                        s[axis] = e;
                        prop::collection::vec(any::<u8>(), s.iter().product::<usize>()).prop_map(move |d| (s, d))
                    })
                    .collect();
                (Just(axis), parts)
            })
    }

    proptest! {
        #[test]
        fn matches_reference((axis, parts) in problem()) {
            let want = reference(&parts, axis);
            let outer: usize = parts[0].0[..axis].iter().product();
            let mut out = alloc::vec![0u8; want.len()];
            concat(parts.iter().map(|(_, d)| d.as_slice()), outer, &mut out);
            prop_assert_eq!(out, want);
        }
    }
}
