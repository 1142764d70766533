//! The micro-kernel: an MR×NR tile of C held in registers while a sliver of A (read in place,
//! with its strides, one broadcast value at a time) and a packed B panel stream past. x86-64
//! gets AVX-512 and AVX2 kernels written with intrinsics; other CPUs the portable one. All use
//! fused multiply-adds in the same order, so they agree bit for bit.

/// A compiled micro-kernel and its tile shape.
#[derive(Clone, Copy)]
pub struct Kernel {
    pub mr: usize,
    pub nr: usize,
    /// `run(kc, a, rsa, csa, b, ldb, c_tile, ldc, h, w, overwrite)`: C[..h, ..w] += A·B (or
    /// `= A·B` when `overwrite`) over kc steps, with A(i, p) at `a[i·rsa + p·csa]` for all MR
    /// rows and B(p, 0..NR) at `b[p·ldb..][..NR]`.
    pub run: Run,
    /// Narrower kernels with the same MR, `(nr, run)` widest first, for a last panel of B no
    /// wider than their `nr`: fewer lanes spent on zero padding (a 100-unit layer's last 4
    /// columns). They sum in the same order, so the bits do not change.
    pub narrow: &'static [(usize, Run)],
}

/// A micro-kernel's signature (see [`Kernel::run`]).
pub type Run = fn(usize, &[f32], usize, usize, &[f32], usize, &mut [f32], usize, usize, usize, bool);

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
    overwrite: bool,
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
            *cv = if overwrite { v } else { *cv + v };
        }
    }
}

/// One x86 micro-kernel: `$vec` registers of `$lanes` floats, MR rows × NV registers of
/// accumulators, fed by broadcast A values and vector loads of the packed B panel. Partial
/// tiles (w < NR) load and store C with the ISA's masked moves via `$load_n` / `$store_n`.
#[cfg(target_arch = "x86_64")]
macro_rules! simd_kernel {
    ($name:ident, $features:literal, $mr:literal, $nv:literal, $lanes:literal,
     $zero:ident, $load:ident, $store:ident, $set1:ident, $fmadd:ident, $add:ident,
     $load_n:ident, $store_n:ident) => {
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
            overwrite: bool,
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
                overwrite: bool,
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
                let cp = c.as_mut_ptr();
                if w == NR {
                    for (i, row) in acc.iter().enumerate().take(h) {
                        for (v, &r) in row.iter().enumerate() {
                            let q = cp.add(i * ldc + v * $lanes);
                            $store(q, if overwrite { r } else { $add($load(q), r) });
                        }
                    }
                } else {
                    for (i, row) in acc.iter().enumerate().take(h) {
                        for (v, &r) in row.iter().enumerate() {
                            let rem = w.saturating_sub(v * $lanes).min($lanes);
                            if rem == 0 {
                                break;
                            }
                            let q = cp.add(i * ldc + v * $lanes);
                            $store_n(q, rem, if overwrite { r } else { $add($load_n(q, rem), r) });
                        }
                    }
                }
            }
            // SAFETY: `select` hands out this kernel only after detecting $features at run time;
            // the asserts above keep every pointer access inside the slices (masked moves touch
            // only the first `w` columns).
            unsafe { inner(kc, a, rsa, csa, b, ldb, c, ldc, h, w, overwrite) }
        }
    };
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    // Masked moves of the first `rem` (1..=lanes) floats at `p`; the other lanes are neither
    // read nor written.
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn zmm_load_n(p: *const f32, rem: usize) -> __m512 {
        _mm512_maskz_loadu_ps(((1u32 << rem) - 1) as u16, p)
    }
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn zmm_store_n(p: *mut f32, rem: usize, v: __m512) {
        _mm512_mask_storeu_ps(p, ((1u32 << rem) - 1) as u16, v)
    }
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn ymm_mask(rem: usize) -> __m256i {
        const M: [i32; 16] = [-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0];
        _mm256_loadu_si256(M.as_ptr().add(8 - rem).cast())
    }
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn ymm_load_n(p: *const f32, rem: usize) -> __m256 {
        _mm256_maskload_ps(p, ymm_mask(rem))
    }
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn ymm_store_n(p: *mut f32, rem: usize, v: __m256) {
        _mm256_maskstore_ps(p, ymm_mask(rem), v)
    }

    /// An AVX-512 kernel: MR rows × NV registers of 16 floats.
    macro_rules! zmm_kernel {
        ($name:ident, $mr:literal, $nv:literal) => {
            simd_kernel!(
                $name,
                "avx512f",
                $mr,
                $nv,
                16,
                _mm512_setzero_ps,
                _mm512_loadu_ps,
                _mm512_storeu_ps,
                _mm512_set1_ps,
                _mm512_fmadd_ps,
                _mm512_add_ps,
                zmm_load_n,
                zmm_store_n
            );
        };
    }

    /// An AVX2+FMA kernel: MR rows × NV registers of 8 floats.
    macro_rules! ymm_kernel {
        ($name:ident, $mr:literal, $nv:literal) => {
            simd_kernel!(
                $name,
                "avx2,fma",
                $mr,
                $nv,
                8,
                _mm256_setzero_ps,
                _mm256_loadu_ps,
                _mm256_storeu_ps,
                _mm256_set1_ps,
                _mm256_fmadd_ps,
                _mm256_add_ps,
                ymm_load_n,
                ymm_store_n
            );
        };
    }

    zmm_kernel!(avx512_8x32, 8, 2);
    zmm_kernel!(avx512_8x16, 8, 1);
    zmm_kernel!(avx512_16x16, 16, 1);
    ymm_kernel!(avx2_6x16, 6, 2);
    ymm_kernel!(avx2_6x8, 6, 1);
    ymm_kernel!(avx2_8x8, 8, 1);
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
    overwrite: bool,
) {
    tile::<4, 8>(kc, a, rsa, csa, b, ldb, c, ldc, h, w, overwrite)
}

#[cfg(target_arch = "x86_64")]
const AVX512_8X32: Kernel = Kernel {
    mr: 8,
    nr: 32,
    run: x86::avx512_8x32,
    narrow: &[(16, x86::avx512_8x16 as Run), (8, x86::avx2_8x8 as Run)],
};
#[cfg(target_arch = "x86_64")]
const AVX512_16X16: Kernel = Kernel { mr: 16, nr: 16, run: x86::avx512_16x16, narrow: &[] };
#[cfg(target_arch = "x86_64")]
const AVX2_6X16: Kernel = Kernel { mr: 6, nr: 16, run: x86::avx2_6x16, narrow: &[(8, x86::avx2_6x8 as Run)] };
#[cfg(target_arch = "x86_64")]
const AVX2_8X8: Kernel = Kernel { mr: 8, nr: 8, run: x86::avx2_8x8, narrow: &[] };
const GENERIC_4X8: Kernel = Kernel { mr: 4, nr: 8, run: generic_4x8, narrow: &[] };

/// The best kernel for this CPU and an output `n` columns wide (narrow outputs, such as a
/// 10-class layer, get a narrow tile so fewer lanes are wasted on padding).
pub fn select(n: usize) -> Kernel {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") && std::arch::is_x86_feature_detected!("fma") {
            return if n <= 16 { AVX512_16X16 } else { AVX512_8X32 };
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
            return if n <= 8 { AVX2_8X8 } else { AVX2_6X16 };
        }
    }
    let _ = n;
    GENERIC_4X8
}

/// Every kernel this CPU can run (tests check they agree bit for bit).
#[cfg(test)]
pub fn all() -> Vec<Kernel> {
    let mut out = vec![GENERIC_4X8];
    #[cfg(target_arch = "x86_64")]
    {
        let fma = std::arch::is_x86_feature_detected!("fma");
        if std::arch::is_x86_feature_detected!("avx512f") && fma {
            out.extend([AVX512_8X32, AVX512_16X16]);
        }
        if std::arch::is_x86_feature_detected!("avx2") && fma {
            out.extend([AVX2_6X16, AVX2_8X8]);
        }
    }
    out
}
