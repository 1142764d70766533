//! kiln's own GEMM (`kiln::tensor::ops::matmul`, src/tensor/cpu/gemm/) against `matrixmultiply::sgemm`
//! and the `gemm` crate single-threaded and on 2 rayon threads, on the products kiln's
//! lesson, MLP and CNN actually compute (f32, row-major, batch 32).
//!
//! `cargo bench --bench gemm -- --warm-up-time 1 --measurement-time 2`
//!
//! Before timing, prints whether each library's result is bitwise identical across thread
//! settings and across repeated runs, and how far the two libraries are apart.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use gemm::Parallelism;
use kiln::tensor::Mat;

/// `c (m, n) = op(a) (m, k) · op(b) (k, n)`; `ta`: a stored (k, m), `tb`: b stored (n, k).
#[derive(Clone, Copy)]
struct Shape {
    name: &'static str,
    m: usize,
    k: usize,
    n: usize,
    ta: bool,
    tb: bool,
}

const fn s(name: &'static str, m: usize, k: usize, n: usize, ta: bool, tb: bool) -> Shape {
    Shape { name, m, k, n, ta, tb }
}

const SHAPES: &[Shape] = &[
    // Lesson: Dense(10) on 784 inputs. x: (32, 784), w: (784, 10).
    s("lesson_fwd_32x784x10", 32, 784, 10, false, false),
    s("lesson_dW_784x32x10_tA", 784, 32, 10, true, false), // x^T · dz
    // MLP: Dense(100, relu) → Dense(10).
    s("mlp_fwd1_32x784x100", 32, 784, 100, false, false),
    s("mlp_dW1_784x32x100_tA", 784, 32, 100, true, false), // x^T · dz1
    s("mlp_dX_32x100x784_tB", 32, 100, 784, false, true),  // dz1 · w1^T
    s("mlp_fwd2_32x100x10", 32, 100, 10, false, false),
    // CNN im2col: conv1 (32·28·28 positions, 3×3×1 patches, 32 filters), conv2 after pooling.
    s("conv1_25088x9x32", 25088, 9, 32, false, false),
    s("conv2_6272x288x64", 6272, 288, 64, false, false),
    s("conv1_dW_9x25088x32_tA", 9, 25088, 32, true, false), // cols^T · dout
    s("conv2_dW_288x6272x64_tA", 288, 6272, 64, true, false),
];

fn fill(len: usize, seed: u64) -> Vec<f32> {
    let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    (0..len)
        .map(|_| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((state >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect()
}

fn inputs(sh: &Shape) -> (Vec<f32>, Vec<f32>) {
    (fill(sh.m * sh.k, 1), fill(sh.k * sh.n, 2))
}

/// Row and column strides of op(a) (m, k) and op(b) (k, n).
fn strides(sh: &Shape) -> ((isize, isize), (isize, isize)) {
    let a = if sh.ta { (1, sh.m as isize) } else { (sh.k as isize, 1) };
    let b = if sh.tb { (1, sh.k as isize) } else { (sh.n as isize, 1) };
    (a, b)
}

fn with_matrixmultiply(sh: &Shape, a: &[f32], b: &[f32], c: &mut [f32]) {
    let ((rsa, csa), (rsb, csb)) = strides(sh);
    // SAFETY: a, b, c hold m·k, k·n, m·n values, matching the strides above.
    unsafe {
        matrixmultiply::sgemm(
            sh.m,
            sh.k,
            sh.n,
            1.0,
            a.as_ptr(),
            rsa,
            csa,
            b.as_ptr(),
            rsb,
            csb,
            0.0,
            c.as_mut_ptr(),
            sh.n as isize,
            1,
        );
    }
}

fn with_gemm(sh: &Shape, a: &[f32], b: &[f32], c: &mut [f32], par: Parallelism) {
    let ((rsa, csa), (rsb, csb)) = strides(sh);
    // SAFETY: as above. gemm computes dst = alpha·dst + beta·lhs·rhs; read_dst = false.
    unsafe {
        gemm::gemm(
            sh.m,
            sh.n,
            sh.k,
            c.as_mut_ptr(),
            1,
            sh.n as isize,
            false,
            a.as_ptr(),
            csa,
            rsa,
            b.as_ptr(),
            csb,
            rsb,
            0.0,
            1.0,
            false,
            false,
            false,
            par,
        );
    }
}

fn bits(c: &[f32]) -> Vec<u32> {
    c.iter().map(|x| x.to_bits()).collect()
}

/// Bitwise comparisons across thread settings and repeated runs; largest gap between libraries.
fn determinism_report() {
    println!("determinism (bitwise): gemm None vs Rayon(1), Rayon(2) x5; matrixmultiply x5 runs");
    for sh in SHAPES {
        let (a, b) = inputs(sh);
        let run = |par: Option<Parallelism>| {
            let mut c = vec![f32::NAN; sh.m * sh.n];
            match par {
                Some(p) => with_gemm(sh, &a, &b, &mut c, p),
                None => with_matrixmultiply(sh, &a, &b, &mut c),
            }
            c
        };
        let g1 = run(Some(Parallelism::None));
        let r1 = run(Some(Parallelism::Rayon(1)));
        let r2_equal = (0..5).all(|_| bits(&run(Some(Parallelism::Rayon(2)))) == bits(&g1));
        // gemm runs products under 48·48·256 multiply-adds on one thread even with Rayon(2);
        // threshold 0 makes every shape split over both threads.
        gemm::set_threading_threshold(0);
        let forced_equal = (0..5).all(|_| bits(&run(Some(Parallelism::Rayon(2)))) == bits(&g1));
        gemm::set_threading_threshold(gemm::DEFAULT_THREADING_THRESHOLD);
        let mm = run(None);
        let mm_repeat = (0..5).all(|_| bits(&run(None)) == bits(&mm));
        let gap = mm.iter().zip(&g1).map(|(x, y)| (x - y).abs()).fold(0.0f32, f32::max);
        let naive_spot = (0..sh.k)
            .map(|p| {
                let ai = if sh.ta { p * sh.m } else { p };
                let bj = if sh.tb { p } else { p * sh.n };
                a[ai] as f64 * b[bj] as f64
            })
            .sum::<f64>();
        println!(
            "  {:<26} gemm None==Rayon(1): {:<5} ==Rayon(2): {:<5} ==Rayon(2) forced: {:<5} \
             mm repeatable: {:<5} max|mm-gemm|: {:.2e}  c[0,0] err mm {:.1e} gemm {:.1e}",
            sh.name,
            bits(&r1) == bits(&g1),
            r2_equal,
            forced_equal,
            mm_repeat,
            gap,
            (mm[0] as f64 - naive_spot).abs(),
            (g1[0] as f64 - naive_spot).abs(),
        );
    }
}

/// An (rows, cols) operand stored as given, or stored transposed and read in place.
fn operand(data: &[f32], rows: usize, cols: usize, t: bool) -> Mat<'_> {
    if t {
        Mat::new(data, cols, rows).t()
    } else {
        Mat::new(data, rows, cols)
    }
}

fn bench(c: &mut Criterion) {
    determinism_report();
    for sh in SHAPES {
        let (a, b) = inputs(sh);
        let mut out = vec![0.0f32; sh.m * sh.n];
        let mut group = c.benchmark_group(sh.name);
        let (am, bm) = (operand(&a, sh.m, sh.k, sh.ta), operand(&b, sh.k, sh.n, sh.tb));
        group.bench_function(BenchmarkId::from_parameter("kiln"), |bn| {
            bn.iter(|| kiln::tensor::ops::matmul(am, bm, &mut out, 0.0))
        });
        group.bench_function(BenchmarkId::from_parameter("matrixmultiply"), |bn| {
            bn.iter(|| with_matrixmultiply(sh, &a, &b, &mut out))
        });
        for (label, par) in [("gemm_none", Parallelism::None), ("gemm_rayon2", Parallelism::Rayon(2))] {
            group.bench_function(BenchmarkId::from_parameter(label), |bn| {
                bn.iter(|| with_gemm(sh, &a, &b, &mut out, par))
            });
        }
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
