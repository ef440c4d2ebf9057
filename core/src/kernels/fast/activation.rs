//! RELU and RELU6, optimized: the reference maps each int8 value through a
//! rescale and a clamp, a function of the value alone, so a slice of at
//! least [`TABLE_FROM`] values is mapped through a 256-entry table built with
//! the reference function itself — equal by construction, three instructions
//! an element instead of a rescale (on BlazeFace RELU was 7 % of a
//! Cortex-M7 inference).

use crate::kernels::activation::ReluParams;

/// Shortest slice worth building the table for.
pub const TABLE_FROM: usize = 256;

pub fn relu(p: &ReluParams, input: &[i8], output: &mut [i8]) {
    if input.len() < TABLE_FROM {
        return p.eval(input, output);
    }
    let mut table = [0i8; 256];
    for (i, t) in table.iter_mut().enumerate() {
        p.eval(&[i as u8 as i8], core::slice::from_mut(t));
    }
    for (o, &x) in output.iter_mut().zip(input) {
        *o = table[x as u8 as usize];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn relu_equals_the_reference(
            (si, so) in (1e-4f32..1.0, 1e-4f32..1.0),
            (zi, zo) in (-128i32..=127, -128i32..=127),
            relu6 in any::<bool>(),
            input in prop::collection::vec(any::<i8>(), 0..1200),
        ) {
            let p = ReluParams::prepare(si, zi, so, zo, relu6);
            let (mut want, mut got) = (alloc::vec![0i8; input.len()], alloc::vec![1i8; input.len()]);
            p.eval(&input, &mut want);
            relu(&p, &input, &mut got);
            prop_assert_eq!(got, want);
        }
    }
}
