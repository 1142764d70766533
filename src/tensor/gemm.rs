//! Matrix products through a well-kept GEMM crate. Every product in kiln goes through
//! [`matmul`], so the library behind it is chosen in one place (see docs/BENCHMARKS.md).

/// Whether an operand is stored transposed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transpose {
    No,
    Yes,
}

/// `c = op(a) · op(b) + beta · c`, with `op(a)`: (m, k), `op(b)`: (k, n), `c`: (m, n), all
/// row-major. `a` is stored (m, k), or (k, m) when `ta` is [`Transpose::Yes`]; likewise `b`.
/// `beta` is 0 (overwrite) or 1 (accumulate, as gradients do).
#[track_caller]
#[allow(clippy::too_many_arguments)]
pub fn matmul(
    m: usize,
    k: usize,
    n: usize,
    a: &[f32],
    ta: Transpose,
    b: &[f32],
    tb: Transpose,
    c: &mut [f32],
    beta: f32,
) {
    assert!(
        a.len() >= m * k && b.len() >= k * n && c.len() >= m * n,
        "matmul: ({m}, {k}) x ({k}, {n}) needs {} / {} / {} values, got {} / {} / {}",
        m * k,
        k * n,
        m * n,
        a.len(),
        b.len(),
        c.len()
    );
    if m == 0 || n == 0 {
        return;
    }
    let (rsa, csa) = match ta {
        Transpose::No => (k as isize, 1),
        Transpose::Yes => (1, m as isize),
    };
    let (rsb, csb) = match tb {
        Transpose::No => (n as isize, 1),
        Transpose::Yes => (1, k as isize),
    };
    // SAFETY: the pointers cover the extents asserted above with the strides computed from the
    // same dimensions; `c` does not alias `a` or `b` (distinct borrows).
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            1.0,
            a.as_ptr(),
            rsa,
            csa,
            b.as_ptr(),
            rsb,
            csb,
            beta,
            c.as_mut_ptr(),
            n as isize,
            1,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(m: usize, k: usize, n: usize, a: &[f32], b: &[f32]) -> Vec<f32> {
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                for p in 0..k {
                    c[i * n + j] += a[i * k + p] * b[p * n + j];
                }
            }
        }
        c
    }

    fn transpose(rows: usize, cols: usize, x: &[f32]) -> Vec<f32> {
        let mut t = vec![0.0; x.len()];
        for i in 0..rows {
            for j in 0..cols {
                t[j * rows + i] = x[i * cols + j];
            }
        }
        t
    }

    #[test]
    fn all_transpose_combinations_match_naive() {
        let (m, k, n) = (5, 7, 3);
        let a: Vec<f32> = (0..m * k).map(|i| (i as f32 * 0.37).sin()).collect();
        let b: Vec<f32> = (0..k * n).map(|i| (i as f32 * 0.11).cos()).collect();
        let want = naive(m, k, n, &a, &b);
        let at = transpose(m, k, &a);
        let bt = transpose(k, n, &b);
        for (aa, ta) in [(&a, Transpose::No), (&at, Transpose::Yes)] {
            for (bb, tb) in [(&b, Transpose::No), (&bt, Transpose::Yes)] {
                let mut c = vec![1.0; m * n];
                matmul(m, k, n, aa, ta, bb, tb, &mut c, 1.0);
                for (got, w) in c.iter().zip(&want) {
                    assert!((got - (w + 1.0)).abs() < 1e-5, "{ta:?} {tb:?}: {got} vs {w}");
                }
            }
        }
    }
}
