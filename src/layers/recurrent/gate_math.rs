//! The gates' activations, written so the compiler vectorises whole gate blocks: a branch-free
//! `exp` (Cephes' polynomial, within 2 ulp of the exact value) and the activation chosen by a
//! const parameter, so a cell's step is compiled once per (activation, recurrent activation)
//! pair with no branch per value.

use crate::error::{Error, Result};
use crate::layers::Activation;

/// `Activation` as a const parameter: 0 linear, 1 relu, 2 sigmoid, 3 tanh.
pub(crate) fn code(a: Activation) -> u8 {
    match a {
        Activation::Linear => 0,
        Activation::Relu => 1,
        Activation::Sigmoid => 2,
        Activation::Tanh | Activation::Softmax => 3,
    }
}

/// Softmax over a gate's units is not something Keras's recurrent cells are used with; the
/// rest are.
pub(crate) fn check(layer: &str, class: &str, what: &str, a: Activation) -> Result<()> {
    if a == Activation::Softmax {
        return Err(Error::value(format!(
            "layer '{layer}' ({class}): {what}='softmax' is not supported in a recurrent cell; \
             use tanh, sigmoid, relu or linear"
        )));
    }
    Ok(())
}

/// How many units a cell computes at once: one vector register of f32 (256 bits).
pub(crate) const LANES: usize = 8;

/// `s[j..j + L]` as an array: a cell's arithmetic on arrays of `L` values compiles to vector
/// instructions, where on slices of a run-time length it stays scalar.
#[inline(always)]
pub(crate) fn load<const L: usize>(s: &[f32], j: usize) -> [f32; L] {
    s[j..j + L].try_into().expect("L values")
}

/// Writes `v` to `s[j..j + L]`.
#[inline(always)]
pub(crate) fn store<const L: usize>(s: &mut [f32], j: usize, v: &[f32; L]) {
    s[j..j + L].copy_from_slice(v);
}

/// e^x for x in [-87, 88] (clamped outside): 2^n · p(r), r = x - n·ln 2.
#[inline(always)]
pub(crate) fn exp(x: f32) -> f32 {
    let x = x.clamp(-87.0, 88.0);
    // n = round(x / ln 2) by the 1.5·2^23 trick, which vectorises where `round` does not:
    // `x/ln 2 + SHIFT` lies in [2^23, 2^24), where the float's step is 1, so its bits minus
    // SHIFT's are n as an integer (no float-to-int conversion, which does not vectorise).
    const SHIFT: f32 = 12_582_912.0;
    let shifted = x * std::f32::consts::LOG2_E + SHIFT;
    let n = shifted - SHIFT;
    let ni = shifted.to_bits() as i32 - SHIFT.to_bits() as i32;
    let r = x - n * 0.693_359_4 - n * -2.121_944_4e-4;
    let mut p = 1.987_569_1e-4f32;
    p = p * r + 1.398_2e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 1.666_666_5e-1;
    p = p * r + 5.000_000_1e-1;
    let y = p * r * r + r + 1.0;
    y * f32::from_bits(((ni + 127) as u32) << 23)
}

#[inline(always)]
fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + exp(-x))
}

#[inline(always)]
fn tanh(x: f32) -> f32 {
    let e = exp(-2.0 * x.abs());
    ((1.0 - e) / (1.0 + e)).copysign(x)
}

/// The activation `A` (see [`code`]) of `x`.
#[inline(always)]
pub(crate) fn act<const A: u8>(x: f32) -> f32 {
    match A {
        0 => x,
        1 => x.max(0.0),
        2 => sigmoid(x),
        _ => tanh(x),
    }
}

/// The derivative of activation `A` written with its output `y = act(x)`.
#[inline(always)]
pub(crate) fn deriv<const A: u8>(y: f32) -> f32 {
    match A {
        0 => 1.0,
        1 => {
            if y > 0.0 {
                1.0
            } else {
                0.0
            }
        }
        2 => y * (1.0 - y),
        _ => 1.0 - y * y,
    }
}

/// Calls `$f::<A, R>(args)` with the const codes of activations `$a` and `$r`.
macro_rules! with_acts {
    ($a:expr, $r:expr, $f:ident($($x:expr),* $(,)?)) => {{
        use $crate::layers::recurrent::gate_math::code;
        match (code($a), code($r)) {
            (0, 0) => $f::<0, 0>($($x),*),
            (0, 1) => $f::<0, 1>($($x),*),
            (0, 2) => $f::<0, 2>($($x),*),
            (0, _) => $f::<0, 3>($($x),*),
            (1, 0) => $f::<1, 0>($($x),*),
            (1, 1) => $f::<1, 1>($($x),*),
            (1, 2) => $f::<1, 2>($($x),*),
            (1, _) => $f::<1, 3>($($x),*),
            (2, 0) => $f::<2, 0>($($x),*),
            (2, 1) => $f::<2, 1>($($x),*),
            (2, 2) => $f::<2, 2>($($x),*),
            (2, _) => $f::<2, 3>($($x),*),
            (_, 0) => $f::<3, 0>($($x),*),
            (_, 1) => $f::<3, 1>($($x),*),
            (_, 2) => $f::<3, 2>($($x),*),
            (_, _) => $f::<3, 3>($($x),*),
        }
    }};
}
pub(crate) use with_acts;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_sigmoid_and_tanh_are_within_a_few_ulp() {
        for i in -2000..=2000 {
            let x = i as f32 * 0.01;
            let rel = |got: f32, want: f64| ((got as f64 - want) / want.abs().max(1e-30)).abs();
            assert!(rel(exp(x), (x as f64).exp()) < 3e-7, "exp({x}) = {}", exp(x));
            let s = 1.0 / (1.0 + (-(x as f64)).exp());
            assert!((sigmoid(x) as f64 - s).abs() < 2e-7, "sigmoid({x})");
            assert!((tanh(x) as f64 - (x as f64).tanh()).abs() < 2e-7, "tanh({x})");
        }
        assert_eq!(exp(-1000.0), exp(-87.0));
        assert!(exp(1000.0).is_finite() && sigmoid(-1000.0) >= 0.0 && tanh(1000.0) == 1.0);
        assert_eq!((deriv::<1>(0.0), deriv::<1>(2.0), deriv::<2>(0.5), deriv::<3>(0.5)), (0.0, 1.0, 0.25, 0.75));
    }
}
