//! Keras's `Orthogonal` initializer, the default for recurrent kernels.

use rand::Rng as _;

use crate::layers::Rng;

/// Fills `w`, a (rows, cols) matrix, as Keras's `Orthogonal(gain=1)` does: a normal matrix of
/// shape (max, min) made orthonormal by QR (signs fixed so R's diagonal is positive, which is
/// what Gram-Schmidt gives), transposed when rows < cols. A recurrent kernel (units, 4·units)
/// then has orthonormal rows.
pub(crate) fn orthogonal(w: &mut [f32], rows: usize, cols: usize, rng: &mut Rng) {
    let (n, k) = (rows.max(cols), rows.min(cols));
    // q: k columns of n values each, column-major.
    let mut q: Vec<f64> = (0..n * k).map(|_| normal(rng)).collect();
    for j in 0..k {
        for _pass in 0..2 {
            // Modified Gram-Schmidt, twice for accuracy ("twice is enough").
            for i in 0..j {
                let dot: f64 = (0..n).map(|r| q[i * n + r] * q[j * n + r]).sum();
                for r in 0..n {
                    q[j * n + r] -= dot * q[i * n + r];
                }
            }
        }
        let norm = (0..n).map(|r| q[j * n + r].powi(2)).sum::<f64>().sqrt().max(f64::MIN_POSITIVE);
        q[j * n..(j + 1) * n].iter_mut().for_each(|v| *v /= norm);
    }
    for r in 0..rows {
        for c in 0..cols {
            // (n, k) matrix element (a, b) is q[b·n + a]; transposed when rows < cols.
            let v = if rows >= cols { q[c * n + r] } else { q[r * n + c] };
            w[r * cols + c] = v as f32;
        }
    }
}

/// A unit normal draw (Box–Muller).
fn normal(rng: &mut Rng) -> f64 {
    let u1: f64 = 1.0 - rng.random::<f64>();
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn rows_or_columns_are_orthonormal() {
        for (rows, cols) in [(8, 32), (6, 6), (10, 3)] {
            let mut w = vec![0.0; rows * cols];
            orthogonal(&mut w, rows, cols, &mut Rng::seed_from_u64(5));
            // The shorter side's vectors are orthonormal: w·wᵀ = I (rows <= cols) or wᵀ·w = I.
            let (vecs, len, at): (usize, usize, Box<dyn Fn(usize, usize) -> f32>) = if rows <= cols {
                (rows, cols, Box::new(|v, i| w[v * cols + i]))
            } else {
                (cols, rows, Box::new(|v, i| w[i * cols + v]))
            };
            for a in 0..vecs {
                for b in 0..vecs {
                    let dot: f32 = (0..len).map(|i| at(a, i) * at(b, i)).sum();
                    let want = if a == b { 1.0 } else { 0.0 };
                    assert!((dot - want).abs() < 1e-5, "({rows}, {cols}): <{a}, {b}> = {dot}");
                }
            }
        }
    }
}
