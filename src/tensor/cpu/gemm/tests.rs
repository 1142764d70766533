use super::*;

fn naive(m: usize, k: usize, n: usize, a: View, b: View) -> Vec<f64> {
    let mut c = vec![0.0; m * n];
    for i in 0..m {
        for j in 0..n {
            c[i * n + j] = (0..k).map(|p| a.at(i, p) as f64 * b.at(p, j) as f64).sum();
        }
    }
    c
}

fn values(n: usize, seed: f32) -> Vec<f32> {
    (0..n).map(|i| ((i as f32 + seed) * 0.7311).sin()).collect()
}

#[test]
fn matches_f64_reference_for_every_shape_and_transpose() {
    // Shapes around every tile and block edge, and kiln's own (784 inputs, 10 and 100 units).
    let shapes = [(1, 1, 1), (5, 7, 3), (17, 33, 9), (32, 784, 10), (32, 100, 10), (49, 300, 33), (100, 513, 70)];
    for &(m, k, n) in &shapes {
        let (a, b) = (values(m * k, 1.0), values(k * n, 2.0));
        for ta in [false, true] {
            for tb in [false, true] {
                let am = if ta { Mat::new(&a, k, m).t() } else { Mat::new(&a, m, k) };
                let bm = if tb { Mat::new(&b, n, k).t() } else { Mat::new(&b, k, n) };
                let want = naive(m, k, n, View::of(am), View::of(bm));
                let mut c = vec![1.0f32; m * n];
                gemm(2, am, bm, &mut c, 1.0);
                for (got, w) in c.iter().zip(&want) {
                    let tol = 1e-5 * (k as f64).sqrt() * (1.0 + w.abs());
                    assert!((*got as f64 - (w + 1.0)).abs() < tol, "({m},{k},{n}) {ta:?} {tb:?}: {got} vs {}", w + 1.0);
                }
                gemm(1, am, bm, &mut c, 0.0);
                assert!((c[0] as f64 - want[0]).abs() < 1e-3, "beta 0 overwrites");
            }
        }
    }
}

#[test]
fn every_kernel_and_thread_count_gives_identical_bits() {
    // Large enough to take the multi-threaded path (m·n·k ≥ PARALLEL_MIN, m > MC).
    let (m, k, n) = (1200, 300, 40);
    let (a, b) = (values(m * k, 3.0), values(k * n, 4.0));
    let av = View { data: &a, rs: k, cs: 1 };
    let bv = View { data: &b, rs: n, cs: 1 };
    assert!(m * n * k >= PARALLEL_MIN);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
    // n = 40 leaves a partial last panel for every kernel (the narrow tail kernels run);
    // overwrite (beta = 0) must equal adding to zeros.
    for overwrite in [false, true] {
        let mut results = Vec::new();
        for kernel in kernels::all() {
            for threads in [1, 2] {
                let mut c = vec![if overwrite { f32::NAN } else { 0.5f32 }; m * n];
                pool.install(|| product(kernel, threads, m, k, n, av, bv, &mut c, overwrite));
                results.push(((kernel.mr, kernel.nr, threads), c));
            }
        }
        if overwrite {
            let mut zeros = vec![0f32; m * n];
            product(kernels::all()[0], 1, m, k, n, av, bv, &mut zeros, false);
            results.push(((0, 0, 0), zeros));
        }
        let (first_key, first) = &results[0];
        for (key, c) in &results[1..] {
            let same = c.iter().zip(first).all(|(x, y)| x.to_bits() == y.to_bits());
            assert!(same, "kernel/threads {key:?} differs from {first_key:?} (overwrite {overwrite})");
        }
    }
}

/// A part of a larger product read where it lies: rows 3.. and columns 5.. of a (20, 30) A
/// stored transposed, times rows 5.. of B, into a C with beta 1.
#[test]
fn a_strided_part_of_a_product_matches_the_reference() {
    let (big_m, big_k, n) = (20, 30, 19);
    let (a, b) = (values(big_m * big_k, 3.0), values(big_k * n, 4.0));
    let (i0, p0) = (3, 5);
    let (m, k) = (big_m - i0, big_k - p0);
    // a stored as (big_k, big_m): element (i, p) of the part at a[(p0 + p)·big_m + i0 + i]
    let av = View { data: &a[p0 * big_m + i0..], rs: 1, cs: big_m };
    let bv = View { data: &b[p0 * n..], rs: n, cs: 1 };
    let want = naive(m, k, n, av, bv);
    let mut c = vec![0.5f32; m * n];
    let am = Mat::new(&a, big_k, big_m).t().row_range(i0..big_m).col_range(p0..big_k);
    gemm(1, am, Mat::new(&b, big_k, n).row_range(p0..big_k), &mut c, 1.0);
    for (got, w) in c.iter().zip(&want) {
        assert!((*got as f64 - (w + 0.5)).abs() < 1e-5 * (1.0 + w.abs()), "{got} vs {}", w + 0.5);
    }
}
