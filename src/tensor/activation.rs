//! Activation functions, forward and backward, over rows of a (batch, features) buffer.

use crate::error::{Error, Result};

/// Keras's activations; parsed from Keras's strings ("relu", "softmax", ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Activation {
    #[default]
    /// `x` (Keras's default, `None`).
    Linear,
    /// `max(x, 0)`.
    Relu,
    /// `1 / (1 + e^-x)`.
    Sigmoid,
    /// `tanh(x)`.
    Tanh,
    /// `e^x / sum(e^x)` over each row.
    Softmax,
}

impl Activation {
    /// Keras's names of the activations, in the order above.
    pub const NAMES: [&'static str; 5] = ["linear", "relu", "sigmoid", "tanh", "softmax"];

    /// Parses Keras's name; the error lists the valid names.
    pub fn parse(name: &str) -> Result<Activation> {
        Ok(match name.trim().to_ascii_lowercase().as_str() {
            "linear" | "none" => Activation::Linear,
            "relu" => Activation::Relu,
            "sigmoid" => Activation::Sigmoid,
            "tanh" => Activation::Tanh,
            "softmax" => Activation::Softmax,
            other => {
                return Err(Error::value(format!(
                    "unknown activation '{other}'; valid activations: {}",
                    Self::NAMES.join(", ")
                )))
            }
        })
    }

    /// Keras's name: "relu", "softmax", ...
    pub fn name(self) -> &'static str {
        match self {
            Activation::Linear => "linear",
            Activation::Relu => "relu",
            Activation::Sigmoid => "sigmoid",
            Activation::Tanh => "tanh",
            Activation::Softmax => "softmax",
        }
    }

    /// `out = f(z)`; softmax works on rows of `width` values.
    pub fn forward(self, z: &[f32], out: &mut [f32], width: usize) {
        out.copy_from_slice(z);
        self.forward_in_place(out, &[], width);
    }

    /// `v = f(v + bias)` in place over rows of `width` values (`bias` empty: none): one pass over
    /// a layer's output, straight after the product that wrote it (bias and relu in one pass).
    pub fn forward_in_place(self, v: &mut [f32], bias: &[f32], width: usize) {
        debug_assert!(bias.is_empty() || bias.len() == width);
        if !bias.is_empty() {
            let rows = v.chunks_exact_mut(width);
            if self == Activation::Relu {
                rows.for_each(|r| r.iter_mut().zip(bias).for_each(|(v, &b)| *v = (*v + b).max(0.0)));
                return;
            }
            rows.for_each(|r| r.iter_mut().zip(bias).for_each(|(v, &b)| *v += b));
        }
        match self {
            Activation::Linear => {}
            Activation::Relu => v.iter_mut().for_each(|v| *v = v.max(0.0)),
            Activation::Sigmoid => v.iter_mut().for_each(|v| *v = sigmoid(*v)),
            Activation::Tanh => v.iter_mut().for_each(|v| *v = v.tanh()),
            Activation::Softmax => v.chunks_exact_mut(width).for_each(softmax_row),
        }
    }

    /// `dz = dout * f'(z)`, written with the forward output `out` (all these derivatives can be).
    pub fn backward(self, out: &[f32], dout: &[f32], dz: &mut [f32], width: usize) {
        let it = dz.iter_mut().zip(out).zip(dout);
        match self {
            Activation::Linear => dz.copy_from_slice(dout),
            // relu'(z) = 1 where z > 0, i.e. where the output is positive.
            Activation::Relu => it.for_each(|((d, &o), &g)| *d = if o > 0.0 { g } else { 0.0 }),
            Activation::Sigmoid => it.for_each(|((d, &o), &g)| *d = g * o * (1.0 - o)),
            Activation::Tanh => it.for_each(|((d, &o), &g)| *d = g * (1.0 - o * o)),
            // dz_i = p_i (g_i - sum_j g_j p_j)
            Activation::Softmax => {
                let rows = dz.chunks_exact_mut(width).zip(out.chunks_exact(width));
                for ((d, p), g) in rows.zip(dout.chunks_exact(width)) {
                    let dot: f32 = p.iter().zip(g).map(|(p, g)| p * g).sum();
                    for ((d, &p), &g) in d.iter_mut().zip(p).zip(g) {
                        *d = p * (g - dot);
                    }
                }
            }
        }
    }
}

pub(crate) fn sigmoid(v: f32) -> f32 {
    1.0 / (1.0 + (-v).exp())
}

/// Numerically stable softmax of one row, in place: shift by the maximum before exponentiating.
pub(crate) fn softmax_row(v: &mut [f32]) {
    let max = v.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for o in v.iter_mut() {
        *o = (*o - max).exp();
        sum += *o;
    }
    let inv = 1.0 / sum;
    v.iter_mut().for_each(|o| *o *= inv);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Central finite differences in f64 of L = sum(g * f(z)) against backward.
    #[test]
    fn every_activation_matches_finite_differences() {
        let width = 4;
        let z: Vec<f32> = vec![0.3, -1.2, 2.0, 0.05, -0.4, 0.9, -2.5, 1.1];
        let g: Vec<f32> = vec![0.7, -0.2, 0.5, 1.0, -0.3, 0.8, 0.1, -0.9];
        for act in [Activation::Linear, Activation::Relu, Activation::Sigmoid, Activation::Tanh, Activation::Softmax] {
            let mut out = vec![0.0; z.len()];
            act.forward(&z, &mut out, width);
            let mut dz = vec![0.0; z.len()];
            act.backward(&out, &g, &mut dz, width);
            let loss = |z: &[f32]| -> f64 {
                let mut o = vec![0.0; z.len()];
                act.forward(z, &mut o, width);
                o.iter().zip(&g).map(|(&o, &g)| o as f64 * g as f64).sum()
            };
            for i in 0..z.len() {
                let h = 1e-3;
                let (mut zp, mut zm) = (z.clone(), z.clone());
                zp[i] += h;
                zm[i] -= h;
                let fd = (loss(&zp) - loss(&zm)) / (2.0 * h as f64);
                assert!((fd - dz[i] as f64).abs() < 2e-3, "{act:?}[{i}]: {fd} vs {}", dz[i]);
            }
        }
    }

    #[test]
    fn softmax_is_stable_for_large_inputs() {
        let mut out = [1000.0, 1000.0, -1000.0];
        softmax_row(&mut out);
        assert_eq!(out, [0.5, 0.5, 0.0]);
    }

    #[test]
    fn unknown_name_lists_valid_ones() {
        let err = Activation::parse("rleu").unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown activation 'rleu'; valid activations: linear, relu, sigmoid, tanh, softmax"
        );
        assert_eq!(Activation::parse("ReLU").unwrap(), Activation::Relu);
    }
}
