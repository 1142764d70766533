//! Weight initializers with Keras's definitions (variance scaling; normals truncated at two
//! standard deviations, as Keras draws them).

use rand::Rng as _;

use super::Rng;
use crate::error::{Error, Result};

/// Keras's kernel and bias initializers.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub enum Initializer {
    #[default]
    /// Uniform in ±sqrt(6 / (fan_in + fan_out)) (Keras's default for kernels).
    GlorotUniform,
    /// Truncated normal, stddev sqrt(2 / (fan_in + fan_out)).
    GlorotNormal,
    /// Uniform in ±sqrt(6 / fan_in).
    HeUniform,
    /// Truncated normal, stddev sqrt(2 / fan_in).
    HeNormal,
    /// Uniform in ±sqrt(3 / fan_in).
    LecunUniform,
    /// Truncated normal, stddev sqrt(1 / fan_in).
    LecunNormal,
    /// All zeros (Keras's default for biases).
    Zeros,
    /// All ones.
    Ones,
}

/// Keras divides the standard deviation of its truncated normal by this factor, the standard
/// deviation of a unit normal truncated to [-2, 2], so the variance is the one asked for.
const TRUNCATED_STD: f64 = 0.879_625_661_034_239_8;

impl Initializer {
    /// Keras's names of the initializers, in the order above.
    pub const NAMES: [&'static str; 8] = [
        "glorot_uniform",
        "glorot_normal",
        "he_uniform",
        "he_normal",
        "lecun_uniform",
        "lecun_normal",
        "zeros",
        "ones",
    ];

    /// Keras's names: "glorot_uniform", "zeros", ...
    pub fn parse(name: &str) -> Result<Initializer> {
        let i = Self::NAMES.iter().position(|&n| n == name.trim().to_ascii_lowercase()).ok_or_else(|| {
            Error::value(format!("unknown initializer '{name}'; valid initializers: {}", Self::NAMES.join(", ")))
        })?;
        Ok([
            Initializer::GlorotUniform,
            Initializer::GlorotNormal,
            Initializer::HeUniform,
            Initializer::HeNormal,
            Initializer::LecunUniform,
            Initializer::LecunNormal,
            Initializer::Zeros,
            Initializer::Ones,
        ][i])
    }

    /// Keras's name.
    pub fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }

    /// Fills `w` for a weight with the given fans (Dense: in, units; Conv2D: kh·kw·in, kh·kw·out).
    pub fn fill(self, w: &mut [f32], fan_in: usize, fan_out: usize, rng: &mut Rng) {
        let (fan_in, fan_out) = (fan_in.max(1) as f64, fan_out.max(1) as f64);
        let (uniform, scale) = match self {
            Initializer::Zeros => return w.fill(0.0),
            Initializer::Ones => return w.fill(1.0),
            Initializer::GlorotUniform => (true, 2.0 / (fan_in + fan_out)),
            Initializer::GlorotNormal => (false, 2.0 / (fan_in + fan_out)),
            Initializer::HeUniform => (true, 2.0 / fan_in),
            Initializer::HeNormal => (false, 2.0 / fan_in),
            Initializer::LecunUniform => (true, 1.0 / fan_in),
            Initializer::LecunNormal => (false, 1.0 / fan_in),
        };
        if uniform {
            let limit = (3.0 * scale).sqrt();
            w.iter_mut().for_each(|v| *v = rng.random_range(-limit..limit) as f32);
        } else {
            let std = scale.sqrt() / TRUNCATED_STD;
            w.iter_mut().for_each(|v| *v = (truncated_normal(rng) * std) as f32);
        }
    }
}

/// A unit normal draw (Box–Muller), redrawn until it lies within two standard deviations.
fn truncated_normal(rng: &mut Rng) -> f64 {
    loop {
        let u1: f64 = 1.0 - rng.random::<f64>(); // (0, 1]
        let u2: f64 = rng.random();
        let n = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
        if n.abs() <= 2.0 {
            return n;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn moments(init: Initializer, fan_in: usize, fan_out: usize) -> (f64, f64, f64) {
        let mut w = vec![0.0f32; 200_000];
        init.fill(&mut w, fan_in, fan_out, &mut Rng::seed_from_u64(1));
        let n = w.len() as f64;
        let mean = w.iter().map(|&v| v as f64).sum::<f64>() / n;
        let var = w.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n;
        let max = w.iter().map(|v| v.abs() as f64).fold(0.0, f64::max);
        (mean, var, max)
    }

    #[test]
    fn variances_match_keras_definitions() {
        // glorot_uniform on (784, 10): limit sqrt(6 / 794), variance limit^2 / 3 = 2 / 794.
        let (mean, var, max) = moments(Initializer::GlorotUniform, 784, 10);
        assert!(mean.abs() < 1e-3);
        assert!((var - 2.0 / 794.0).abs() < 0.02 * 2.0 / 794.0, "{var}");
        assert!(max <= (6.0f64 / 794.0).sqrt());
        // he_normal: variance 2 / fan_in after truncation at 2 std of the untruncated normal.
        let (_, var, max) = moments(Initializer::HeNormal, 50, 7);
        assert!((var - 2.0 / 50.0).abs() < 0.02 * 2.0 / 50.0, "{var}");
        assert!(max <= 2.0 * (2.0f64 / 50.0).sqrt() / TRUNCATED_STD + 1e-6);
        assert_eq!(moments(Initializer::Zeros, 3, 3).1, 0.0);
    }

    #[test]
    fn names_round_trip() {
        for name in Initializer::NAMES {
            assert_eq!(Initializer::parse(name).unwrap().name(), name);
        }
        assert!(Initializer::parse("he").unwrap_err().to_string().contains("he_normal"));
    }
}
