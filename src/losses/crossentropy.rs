//! Crossentropies from probabilities (clipped, as Keras). Fused with the output layer's
//! softmax/sigmoid (from logits, as Keras's `fit` computes them) they are tensor operations,
//! `ops::softmax_crossentropy` and `ops::sigmoid_crossentropy`.

use super::EPSILON;

/// `-sum_j y_j log(q_j)` with q = clip(p / sum(p)), as Keras computes it from probabilities;
/// the gradient includes the normalisation's, and clipped values get none (as Keras's tape).
/// Sparse targets hold one class index per row, dense ones a row of `width` values.
pub fn categorical(p: &[f32], y: &[f32], width: usize, sparse: bool, grad: Option<&mut [f32]>) -> f64 {
    let b = p.len() / width;
    let mut total = 0.0f64;
    let mut grad = grad;
    for (i, row) in p.chunks_exact(width).enumerate() {
        let s: f32 = row.iter().sum();
        let onehot = |j: usize| -> f32 {
            if sparse {
                (y[i] as usize == j) as u8 as f32
            } else {
                y[i * width + j]
            }
        };
        let mut loss = 0.0f64;
        let mut ysum = 0.0f32;
        for (j, &pj) in row.iter().enumerate() {
            let t = onehot(j);
            let q = (pj / s).clamp(EPSILON, 1.0 - EPSILON);
            loss -= t as f64 * (q as f64).ln();
            ysum += t;
        }
        total += loss;
        if let Some(g) = grad.as_deref_mut() {
            // L = -sum_j y_j log(p_j / s): dL/dp_j = -y_j / p_j (unless clipped) + sum(y) / s.
            for (j, &pj) in row.iter().enumerate() {
                let q = pj / s;
                let direct = if q > EPSILON && q < 1.0 - EPSILON { -onehot(j) / pj } else { 0.0 };
                g[i * width + j] = (direct + ysum / s) / b as f32;
            }
        }
    }
    total
}

/// Binary crossentropy from probabilities, clipped; mean over the last axis, summed over rows.
pub fn binary(p: &[f32], y: &[f32], width: usize, grad: Option<&mut [f32]>) -> f64 {
    let n = p.len() as f32;
    let mut total = 0.0f64;
    for (&pj, &t) in p.iter().zip(y) {
        let q = pj.clamp(EPSILON, 1.0 - EPSILON) as f64;
        total -= t as f64 * q.ln() + (1.0 - t as f64) * (1.0 - q).ln();
    }
    if let Some(g) = grad {
        for ((g, &pj), &t) in g.iter_mut().zip(p).zip(y) {
            let inside = pj > EPSILON && pj < 1.0 - EPSILON;
            *g = if inside { (-t / pj + (1.0 - t) / (1.0 - pj)) / n } else { 0.0 };
        }
    }
    total / width as f64
}
