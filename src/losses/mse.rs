//! Mean squared error: mean over the last axis, summed over rows (the caller divides by B).

pub fn mean_squared_error(p: &[f32], y: &[f32], width: usize, grad: Option<&mut [f32]>) -> f64 {
    let total: f64 = p.iter().zip(y).map(|(&p, &t)| ((p - t) as f64).powi(2)).sum();
    if let Some(g) = grad {
        let n = p.len() as f32;
        for ((g, &p), &t) in g.iter_mut().zip(p).zip(y) {
            *g = 2.0 * (p - t) / n;
        }
    }
    total / width as f64
}
