//! The crossentropies fused with the output layer's softmax or sigmoid, from its logits: the
//! loss of each row and its gradient with respect to the logits, `(p - y) / n`, in one pass
//! over the rows.

use crate::tensor::ops::Targets;

/// Σ_rows crossentropy(softmax(z), y) = Σ_rows (Σ_j y_j)·logsumexp(z) − y·z, and with `grad`,
/// d(mean)/dz = (p − y) / B, p = softmax(z) as the forward pass computed it.
pub(crate) fn softmax_crossentropy(z: &[f32], p: &[f32], y: Targets, width: usize, grad: Option<&mut [f32]>) -> f64 {
    let b = (p.len() / width) as f32;
    let mut grad = grad.map(|g| g.chunks_exact_mut(width));
    let mut total = 0.0f64;
    for (i, (zr, pr)) in z.chunks_exact(width).zip(p.chunks_exact(width)).enumerate() {
        let lse = logsumexp(zr);
        let g = grad.as_mut().map(|rows| rows.next().expect("one gradient row per row"));
        match y {
            Targets::Indices(y) => {
                let k = y[i] as usize;
                total += lse - zr[k] as f64;
                if let Some(g) = g {
                    g.copy_from_slice(pr);
                    g[k] -= 1.0;
                    g.iter_mut().for_each(|v| *v /= b);
                }
            }
            Targets::Probabilities(y) => {
                let yr = &y[i * width..][..width];
                let ysum: f64 = yr.iter().map(|&t| t as f64).sum();
                let dot: f64 = zr.iter().zip(yr).map(|(&z, &t)| z as f64 * t as f64).sum();
                total += ysum * lse - dot;
                if let Some(g) = g {
                    g.iter_mut().zip(pr).zip(yr).for_each(|((g, &p), &t)| *g = (p - t) / b);
                }
            }
        }
    }
    total
}

fn logsumexp(z: &[f32]) -> f64 {
    let max = z.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    max + z.iter().map(|&v| (v as f64 - max).exp()).sum::<f64>().ln()
}

/// Σ_rows mean_j binary crossentropy(sigmoid(z), y) = max(z, 0) − z·y + log(1 + e^−|z|), and
/// with `grad`, d(mean)/dz = (p − y) / n over all n values.
pub(crate) fn sigmoid_crossentropy(z: &[f32], p: &[f32], y: &[f32], width: usize, grad: Option<&mut [f32]>) -> f64 {
    let n = p.len() as f32;
    let mut total = 0.0f64;
    let loss = |zj: f32, t: f32| {
        let z = zj as f64;
        z.max(0.0) - z * t as f64 + (-z.abs()).exp().ln_1p()
    };
    match grad {
        Some(g) => {
            for (((g, &zj), &pj), &t) in g.iter_mut().zip(z).zip(p).zip(y) {
                total += loss(zj, t);
                *g = (pj - t) / n;
            }
        }
        None => z.iter().zip(y).for_each(|(&zj, &t)| total += loss(zj, t)),
    }
    total / width as f64
}
