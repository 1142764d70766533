//! The operations against sums in f64, on shapes that take every path of the CPU backend: a
//! transposed right operand, products split in halves, a kernel summed in two partial sums.

use super::*;

fn wave(n: usize, f: f64) -> Vec<f32> {
    (0..n).map(|i| ((i as f64 + 1.0) * f).sin() as f32).collect()
}

/// (a·b)[i][j] in f64.
fn reference(a: Mat, b: Mat) -> Vec<f64> {
    let mut c = Vec::with_capacity(a.rows() * b.cols());
    for i in 0..a.rows() {
        for j in 0..b.cols() {
            c.push((0..a.cols()).map(|p| a.at(i, p) as f64 * b.at(p, j) as f64).sum());
        }
    }
    c
}

fn close(got: &[f32], want: &[f64], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert!((g as f64 - w).abs() <= 1e-4 * w.abs().max(1.0), "{what}[{i}]: {g} vs {w}");
    }
}

#[test]
fn products_match_f64_sums_on_every_path() {
    // (m, k, n): small; a kernel gradient large enough for halves (1025 x 64); a wide kernel
    // read transposed (dx = dz · kernelᵀ).
    for &(m, k, n) in &[(3, 5, 4), (1025, 3, 64), (3, 64, 1025)] {
        let (a, b) = (wave(m * k, 0.37), wave(k * n, 0.91));
        for (ta, tb) in [(false, false), (true, false), (false, true)] {
            let am = if ta { Mat::new(&a, k, m).t() } else { Mat::new(&a, m, k) };
            let bm = if tb { Mat::new(&b, n, k).t() } else { Mat::new(&b, k, n) };
            let want = reference(am, bm);
            let mut c = vec![f32::NAN; m * n];
            matmul(am, bm, &mut c, 0.0);
            close(&c, &want, &format!("({m},{k},{n}) {ta} {tb}"));
            matmul(am, bm, &mut c, 1.0);
            let twice: Vec<f64> = want.iter().map(|w| 2.0 * w).collect();
            close(&c, &twice, &format!("({m},{k},{n}) {ta} {tb}, beta 1"));
        }
    }
}

#[test]
fn a_large_kernel_is_summed_in_two_halves_with_its_bias() {
    // 1025 x 64 values: past the split; an odd width, so the halves differ.
    let (b, k, n) = (3, 1025, 64);
    let (x, w, bias) = (wave(b * k, 0.37), wave(k * n, 0.91), wave(n, 0.5));
    let (xm, wm) = (Mat::new(&x, b, k), Mat::new(&w, k, n));
    let want: Vec<f64> = reference(xm, wm).iter().enumerate().map(|(i, z)| z + bias[i % n] as f64).collect();
    let (mut z, mut out) = (vec![0.0; b * n], vec![0.0; b * n]);
    matmul_bias_act(xm, wm, Some(&bias), Activation::Tanh, &mut z, &mut out);
    close(&z, &want, "z");
    close(&out, &want.iter().map(|z| z.tanh()).collect::<Vec<_>>(), "tanh(z)");
    matmul_bias(xm, wm, None, &mut z);
    close(&z, &reference(xm, wm), "no bias");
}

#[test]
fn activation_backward_and_column_sums() {
    let out = [0.5f32, 0.25, -0.5, 0.0];
    let mut dz = [0.0; 4];
    activation_backward(Activation::Tanh, &out, &[1.0, 2.0, 1.0, 1.0], &mut dz, 2);
    assert_eq!(dz, [0.75, 2.0 * 0.9375, 0.75, 1.0]);
    activation_backward(Activation::Sigmoid, &out, &[1.0; 4], &mut dz, 2);
    assert_eq!(dz, [0.25, 0.1875, -0.75, 0.0]);
    let mut db = [1.0, 1.0];
    col_sums(Mat::new(&out, 2, 2), &mut db, 0.0);
    assert_eq!(db, [0.0, 0.25]);
}

#[test]
#[should_panic(expected = "matmul: (2, 3) x (2, 2)")]
fn mismatched_shapes_name_both() {
    matmul(Mat::new(&[0.0; 6], 2, 3), Mat::new(&[0.0; 4], 2, 2), &mut [0.0; 4], 0.0);
}
