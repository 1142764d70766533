//! The micro-kernel: an MR×NR tile of C held in registers while a sliver of A (read in place,
//! with its strides, one broadcast value at a time) and a packed B panel stream past. x86-64
//! gets AVX-512 and AVX2 kernels written with intrinsics; other CPUs the portable one. All use
//! fused multiply-adds in the same order, so they agree bit for bit.

/// A compiled micro-kernel and its tile shape.
#[derive(Clone, Copy)]
pub struct Kernel {
    pub mr: usize,
    pub nr: usize,
    /// `run(kc, a, rsa, csa, b, ldb, c_tile, ldc, h, w)`: C[..h, ..w] += A·B over kc steps,
    /// with A(i, p) at `a[i·rsa + p·csa]` for all MR rows and B(p, 0..NR) at `b[p·ldb..][..NR]`.
    pub run: Run,
}

/// A micro-kernel's signature (see [`Kernel::run`]).
pub type Run = fn(usize, &[f32], usize, usize, &[f32], usize, &mut [f32], usize, usize, usize);

/// The portable kernel (scalar `mul_add`, the same rounding as the vector FMAs).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn tile<const MR: usize, const NR: usize>(
    kc: usize,
    a: &[f32],
    rsa: usize,
    csa: usize,
    b: &[f32],
    ldb: usize,
    c: &mut [f32],
    ldc: usize,
    h: usize,
    w: usize,
) {
    let mut acc = [[0f32; NR]; MR];
    for p in 0..kc {
        let bp: &[f32; NR] = b[p * ldb..p * ldb + NR].try_into().expect("NR values");
        for (i, row) in acc.iter_mut().enumerate() {
            let av = a[i * rsa + p * csa];
            for (r, &bv) in row.iter_mut().zip(bp) {
                *r = av.mul_add(bv, *r);
            }
        }
    }
    for (i, row) in acc.iter().enumerate().take(h) {
        let c_row = &mut c[i * ldc..i * ldc + w];
        for (cv, &v) in c_row.iter_mut().zip(row) {
            *cv += v;
        }
    }
}

/// One x86 micro-kernel: `$vec` registers of `$lanes` floats, MR rows × NV registers of
/// accumulators, fed by broadcast A values and vector loads of the packed B panel.
#[cfg(target_arch = "x86_64")]
macro_rules! simd_kernel {
    ($name:ident, $features:literal, $mr:literal, $nv:literal, $lanes:literal,
     $zero:ident, $load:ident, $store:ident, $set1:ident, $fmadd:ident, $add:ident) => {
        #[allow(clippy::too_many_arguments)]
        pub(super) fn $name(
            kc: usize,
            a: &[f32],
            rsa: usize,
            csa: usize,
            b: &[f32],
            ldb: usize,
            c: &mut [f32],
            ldc: usize,
            h: usize,
            w: usize,
        ) {
            const MR: usize = $mr;
            const NV: usize = $nv;
            const NR: usize = NV * $lanes;
            assert!(kc == 0 || a.len() > (MR - 1) * rsa + (kc - 1) * csa);
            assert!((kc == 0 || b.len() >= (kc - 1) * ldb + NR) && h <= MR && w <= NR);
            assert!(h == 0 || c.len() >= (h - 1) * ldc + w);
            #[allow(clippy::too_many_arguments)]
            #[target_feature(enable = $features)]
            unsafe fn inner(
                kc: usize,
                a: &[f32],
                rsa: usize,
                csa: usize,
                b: &[f32],
                ldb: usize,
                c: &mut [f32],
                ldc: usize,
                h: usize,
                w: usize,
            ) {
                use std::arch::x86_64::*;
                let mut acc = [[$zero(); NV]; MR];
                let (mut ap, mut bp) = (a.as_ptr(), b.as_ptr());
                for _ in 0..kc {
                    let mut bv = [$zero(); NV];
                    for (v, r) in bv.iter_mut().enumerate() {
                        *r = $load(bp.add(v * $lanes));
                    }
                    for (i, row) in acc.iter_mut().enumerate() {
                        let av = $set1(*ap.add(i * rsa));
                        for (r, &bvv) in row.iter_mut().zip(&bv) {
                            *r = $fmadd(av, bvv, *r);
                        }
                    }
                    ap = ap.add(csa);
                    bp = bp.add(ldb);
                }
                if w == NR {
                    for (i, row) in acc.iter().enumerate().take(h) {
                        let cp = c.as_mut_ptr().add(i * ldc);
                        for (v, &r) in row.iter().enumerate() {
                            let q = cp.add(v * $lanes);
                            $store(q, $add($load(q), r));
                        }
                    }
                } else {
                    let mut tmp = [[0f32; $lanes]; NV];
                    for (i, row) in acc.iter().enumerate().take(h) {
                        for (t, &r) in tmp.iter_mut().zip(row) {
                            $store(t.as_mut_ptr(), r);
                        }
                        let vals = tmp.iter().flatten();
                        for (cv, &v) in c[i * ldc..i * ldc + w].iter_mut().zip(vals) {
                            *cv += v;
                        }
                    }
                }
            }
            // SAFETY: `select` hands out this kernel only after detecting $features at run time;
            // the asserts above keep every pointer access inside the slices.
            unsafe { inner(kc, a, rsa, csa, b, ldb, c, ldc, h, w) }
        }
    };
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    simd_kernel!(
        avx512_8x32,
        "avx512f",
        8,
        2,
        16,
        _mm512_setzero_ps,
        _mm512_loadu_ps,
        _mm512_storeu_ps,
        _mm512_set1_ps,
        _mm512_fmadd_ps,
        _mm512_add_ps
    );
    simd_kernel!(
        avx512_16x16,
        "avx512f",
        16,
        1,
        16,
        _mm512_setzero_ps,
        _mm512_loadu_ps,
        _mm512_storeu_ps,
        _mm512_set1_ps,
        _mm512_fmadd_ps,
        _mm512_add_ps
    );
    simd_kernel!(
        avx2_6x16,
        "avx2,fma",
        6,
        2,
        8,
        _mm256_setzero_ps,
        _mm256_loadu_ps,
        _mm256_storeu_ps,
        _mm256_set1_ps,
        _mm256_fmadd_ps,
        _mm256_add_ps
    );
    simd_kernel!(
        avx2_8x8,
        "avx2,fma",
        8,
        1,
        8,
        _mm256_setzero_ps,
        _mm256_loadu_ps,
        _mm256_storeu_ps,
        _mm256_set1_ps,
        _mm256_fmadd_ps,
        _mm256_add_ps
    );
}

#[allow(clippy::too_many_arguments)]
fn generic_4x8(
    kc: usize,
    a: &[f32],
    rsa: usize,
    csa: usize,
    b: &[f32],
    ldb: usize,
    c: &mut [f32],
    ldc: usize,
    h: usize,
    w: usize,
) {
    tile::<4, 8>(kc, a, rsa, csa, b, ldb, c, ldc, h, w)
}

/// The best kernel for this CPU and an output `n` columns wide (narrow outputs, such as a
/// 10-class layer, get a narrow tile so fewer lanes are wasted on padding).
pub fn select(n: usize) -> Kernel {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") && std::arch::is_x86_feature_detected!("fma") {
            return if n <= 16 {
                Kernel { mr: 16, nr: 16, run: x86::avx512_16x16 }
            } else {
                Kernel { mr: 8, nr: 32, run: x86::avx512_8x32 }
            };
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
            return if n <= 8 {
                Kernel { mr: 8, nr: 8, run: x86::avx2_8x8 }
            } else {
                Kernel { mr: 6, nr: 16, run: x86::avx2_6x16 }
            };
        }
    }
    let _ = n;
    Kernel { mr: 4, nr: 8, run: generic_4x8 }
}

/// Every kernel this CPU can run (tests check they agree bit for bit).
#[cfg(test)]
pub fn all() -> Vec<Kernel> {
    let mut out = vec![Kernel { mr: 4, nr: 8, run: generic_4x8 }];
    #[cfg(target_arch = "x86_64")]
    {
        let has = |f: &str| match f {
            "avx512f" => std::arch::is_x86_feature_detected!("avx512f"),
            _ => std::arch::is_x86_feature_detected!("avx2"),
        } && std::arch::is_x86_feature_detected!("fma");
        if has("avx512f") {
            out.push(Kernel { mr: 8, nr: 32, run: x86::avx512_8x32 });
            out.push(Kernel { mr: 16, nr: 16, run: x86::avx512_16x16 });
        }
        if has("avx2") {
            out.push(Kernel { mr: 6, nr: 16, run: x86::avx2_6x16 });
            out.push(Kernel { mr: 8, nr: 8, run: x86::avx2_8x8 });
        }
    }
    out
}
