//! [`V16`]: 16 floats in one 512-bit register where the build targets AVX-512 (this project's
//! `target-cpu=native` on a CPU that has it), else an array the compiler handles as it can. The
//! cells' hot rows use it where LLVM, preferring 256-bit vectors, would not: a gate block of
//! 4·8 values is two registers, the recurrent kernel of LSTM(8) sixteen. Every operation is the
//! IEEE one the scalar code does (an `fma` is `f32::mul_add`), so both paths give the same bits
//! as `gate_math`'s scalar functions.

#[cfg(all(target_arch = "x86_64", target_feature = "avx512f", target_feature = "avx512dq"))]
mod imp {
    use std::arch::x86_64::*;

    #[derive(Clone, Copy)]
    pub(crate) struct V16(__m512);

    impl V16 {
        /// 8 floats of `lo` in lanes 0..8 and 8 of `hi` in lanes 8..16.
        #[inline(always)]
        pub fn load2(lo: &[f32], hi: &[f32]) -> V16 {
            let (lo, hi) = (&lo[..8], &hi[..8]);
            // SAFETY: each slice holds 8 floats (checked above), the loads are unaligned, and this
            // build enables avx512f and avx512dq (the module's cfg).
            V16(unsafe {
                _mm512_insertf32x8::<1>(
                    _mm512_castps256_ps512(_mm256_loadu_ps(lo.as_ptr())),
                    _mm256_loadu_ps(hi.as_ptr()),
                )
            })
        }
        /// Lanes 0..8 to `lo`, 8..16 to `hi`.
        #[inline(always)]
        pub fn store2(self, lo: &mut [f32], hi: &mut [f32]) {
            let (lo, hi) = (&mut lo[..8], &mut hi[..8]);
            // SAFETY: as in `store`, and this build enables avx512f and avx512dq (the module's cfg).
            unsafe {
                let (a, b) = (_mm512_castps512_ps256(self.0), _mm512_extractf32x8_ps::<1>(self.0));
                _mm256_storeu_ps(lo.as_mut_ptr(), a);
                _mm256_storeu_ps(hi.as_mut_ptr(), b);
            }
        }
        #[inline(always)]
        pub fn load(s: &[f32]) -> V16 {
            let s = &s[..16];
            // SAFETY: `s` holds 16 floats (the slice above checks it); the load is unaligned.
            V16(unsafe { _mm512_loadu_ps(s.as_ptr()) })
        }
        #[inline(always)]
        pub fn store(self, s: &mut [f32]) {
            let s = &mut s[..16];
            // SAFETY: `s` holds 16 floats (checked above); the store is unaligned.
            unsafe { _mm512_storeu_ps(s.as_mut_ptr(), self.0) }
        }
        #[inline(always)]
        pub fn splat(x: f32) -> V16 {
            // SAFETY: this build enables avx512f and avx512dq (the module's cfg).
            V16(unsafe { _mm512_set1_ps(x) })
        }
        #[inline(always)]
        pub fn add(self, o: V16) -> V16 {
            // SAFETY: this build enables avx512f and avx512dq (the module's cfg).
            V16(unsafe { _mm512_add_ps(self.0, o.0) })
        }
        #[inline(always)]
        pub fn sub(self, o: V16) -> V16 {
            // SAFETY: this build enables avx512f and avx512dq (the module's cfg).
            V16(unsafe { _mm512_sub_ps(self.0, o.0) })
        }
        #[inline(always)]
        pub fn mul(self, o: V16) -> V16 {
            // SAFETY: this build enables avx512f and avx512dq (the module's cfg).
            V16(unsafe { _mm512_mul_ps(self.0, o.0) })
        }
        #[inline(always)]
        pub fn div(self, o: V16) -> V16 {
            // SAFETY: this build enables avx512f and avx512dq (the module's cfg).
            V16(unsafe { _mm512_div_ps(self.0, o.0) })
        }
        /// `self·a + b`, rounded once.
        #[inline(always)]
        pub fn mul_add(self, a: V16, b: V16) -> V16 {
            // SAFETY: this build enables avx512f and avx512dq (the module's cfg).
            V16(unsafe { _mm512_fmadd_ps(self.0, a.0, b.0) })
        }
        /// `self` clamped to [lo, hi] (for values that are not NaN).
        #[inline(always)]
        pub fn clamp(self, lo: f32, hi: f32) -> V16 {
            // SAFETY: this build enables avx512f and avx512dq (the module's cfg).
            V16(unsafe { _mm512_min_ps(_mm512_max_ps(self.0, _mm512_set1_ps(lo)), _mm512_set1_ps(hi)) })
        }
        #[inline(always)]
        pub fn abs(self) -> V16 {
            // SAFETY: this build enables avx512f and avx512dq (the module's cfg).
            V16(unsafe { _mm512_abs_ps(self.0) })
        }
        /// `self`'s magnitudes with `sign`'s signs.
        #[inline(always)]
        pub fn copysign(self, sign: V16) -> V16 {
            // Bitwise select: bits of `self` where the mask is set, of `sign` elsewhere (0xCA: a ? b : c).
            // SAFETY: this build enables avx512f and avx512dq (the module's cfg).
            V16(unsafe {
                let (m, a, b) = (_mm512_set1_epi32(i32::MAX), _mm512_castps_si512(self.0), _mm512_castps_si512(sign.0));
                _mm512_castsi512_ps(_mm512_ternarylogic_epi32::<0xCA>(m, a, b))
            })
        }
        /// Lane `l` of `a` where bit `l` of `mask` is set, of `self` elsewhere.
        #[inline(always)]
        pub fn select(self, mask: u16, a: V16) -> V16 {
            // SAFETY: this build enables avx512f and avx512dq (the module's cfg).
            V16(unsafe { _mm512_mask_blend_ps(mask, self.0, a.0) })
        }
        /// The bits as integers minus `k`'s, then `e` added and shifted left 23 (`exp`'s 2^n).
        #[inline(always)]
        pub fn pow2_of_shifted(self, k: f32) -> V16 {
            // SAFETY: this build enables avx512f and avx512dq (the module's cfg).
            V16(unsafe {
                let n = _mm512_sub_epi32(_mm512_castps_si512(self.0), _mm512_set1_epi32(k.to_bits() as i32));
                _mm512_castsi512_ps(_mm512_slli_epi32::<23>(_mm512_add_epi32(n, _mm512_set1_epi32(127))))
            })
        }
    }
}

#[cfg(not(all(target_arch = "x86_64", target_feature = "avx512f", target_feature = "avx512dq")))]
mod imp {
    #[derive(Clone, Copy)]
    pub(crate) struct V16([f32; 16]);

    impl V16 {
        #[inline(always)]
        fn map(self, o: V16, f: impl Fn(f32, f32) -> f32) -> V16 {
            V16(std::array::from_fn(|l| f(self.0[l], o.0[l])))
        }
        #[inline(always)]
        pub fn load2(lo: &[f32], hi: &[f32]) -> V16 {
            V16(std::array::from_fn(|l| if l < 8 { lo[l] } else { hi[l - 8] }))
        }
        #[inline(always)]
        pub fn store2(self, lo: &mut [f32], hi: &mut [f32]) {
            lo[..8].copy_from_slice(&self.0[..8]);
            hi[..8].copy_from_slice(&self.0[8..]);
        }
        #[inline(always)]
        pub fn load(s: &[f32]) -> V16 {
            V16(s[..16].try_into().expect("16 values"))
        }
        #[inline(always)]
        pub fn store(self, s: &mut [f32]) {
            s[..16].copy_from_slice(&self.0);
        }
        #[inline(always)]
        pub fn splat(x: f32) -> V16 {
            V16([x; 16])
        }
        #[inline(always)]
        pub fn add(self, o: V16) -> V16 {
            self.map(o, |a, b| a + b)
        }
        #[inline(always)]
        pub fn sub(self, o: V16) -> V16 {
            self.map(o, |a, b| a - b)
        }
        #[inline(always)]
        pub fn mul(self, o: V16) -> V16 {
            self.map(o, |a, b| a * b)
        }
        #[inline(always)]
        pub fn div(self, o: V16) -> V16 {
            self.map(o, |a, b| a / b)
        }
        #[inline(always)]
        pub fn mul_add(self, a: V16, b: V16) -> V16 {
            V16(std::array::from_fn(|l| self.0[l].mul_add(a.0[l], b.0[l])))
        }
        #[inline(always)]
        pub fn clamp(self, lo: f32, hi: f32) -> V16 {
            V16(self.0.map(|x| x.clamp(lo, hi)))
        }
        #[inline(always)]
        pub fn abs(self) -> V16 {
            V16(self.0.map(f32::abs))
        }
        #[inline(always)]
        pub fn copysign(self, sign: V16) -> V16 {
            self.map(sign, f32::copysign)
        }
        #[inline(always)]
        pub fn select(self, mask: u16, a: V16) -> V16 {
            V16(std::array::from_fn(|l| if mask >> l & 1 == 1 { a.0[l] } else { self.0[l] }))
        }
        #[inline(always)]
        pub fn pow2_of_shifted(self, k: f32) -> V16 {
            V16(self.0.map(|x| f32::from_bits(((x.to_bits() as i32 - k.to_bits() as i32 + 127) as u32) << 23)))
        }
    }
}

pub(crate) use imp::V16;

/// e^x lane by lane, `gate_math::exp`'s operations in the same order.
#[inline(always)]
pub(crate) fn exp(x: V16) -> V16 {
    const SHIFT: f32 = 12_582_912.0;
    let x = x.clamp(-87.0, 88.0);
    let shifted = x.mul(V16::splat(std::f32::consts::LOG2_E)).add(V16::splat(SHIFT));
    let n = shifted.sub(V16::splat(SHIFT));
    let r = x.sub(n.mul(V16::splat(0.693_359_4))).sub(n.mul(V16::splat(-2.121_944_4e-4)));
    let mut p = V16::splat(1.987_569_1e-4);
    for c in [1.398_2e-3, 8.333_452e-3, 4.166_579_6e-2, 1.666_666_5e-1, 5.000_000_1e-1] {
        p = p.mul(r).add(V16::splat(c));
    }
    let y = p.mul(r).mul(r).add(r).add(V16::splat(1.0));
    y.mul(shifted.pow2_of_shifted(SHIFT))
}

/// tanh in the lanes of `tanh_lanes`, the logistic sigmoid in the others, with one `exp`:
/// `gate_math`'s formulas, `(1 - e)/(1 + e)` with `e = exp(-2|x|)` and `1/(1 + exp(-x))`.
#[inline(always)]
pub(crate) fn tanh_sigmoid(x: V16, tanh_lanes: u16) -> V16 {
    let arg = x.mul(V16::splat(-1.0)).select(tanh_lanes, x.abs().mul(V16::splat(-2.0)));
    let e = exp(arg);
    let one = V16::splat(1.0);
    let y = one.select(tanh_lanes, one.sub(e)).div(one.add(e));
    y.select(tanh_lanes, y.copysign(x))
}

#[cfg(test)]
mod tests {
    use super::super::gate_math::act;
    use super::*;

    #[test]
    fn lanes_give_the_scalar_functions_bits() {
        for i in -600..600 {
            let xs: [f32; 16] = std::array::from_fn(|l| (i * 16 + l as i32) as f32 * 0.0013 - 0.4);
            let mut got = [0.0; 16];
            tanh_sigmoid(V16::load(&xs), 0x00FF).store(&mut got);
            for l in 0..16 {
                let want = if l < 8 { act::<3>(xs[l]) } else { act::<2>(xs[l]) };
                assert_eq!(got[l].to_bits(), want.to_bits(), "lane {l} of {}", xs[l]);
            }
            exp(V16::load(&xs)).store(&mut got);
            assert_eq!(got.map(f32::to_bits), xs.map(|x| super::super::gate_math::exp(x).to_bits()));
        }
    }
}
