//! 2-D max and average pooling on the CPU, channels-last: x (B, H, W, C) → out (B, OH, OW, C),
//! one sample per task. Each output value depends on its own sample alone, so the bits do not
//! depend on the threads.

use rayon::prelude::*;

use crate::tensor::{Tensor, Window2d};

/// `out` = the maximum of each window per channel; `argmax` = where it lies, as an index into
/// its sample's (H, W, C) values (the first maximum in row-major order on ties).
#[track_caller]
pub(crate) fn max_forward(g: &Window2d, x: &Tensor, out: &mut Tensor, argmax: &mut Vec<u32>) {
    let (b, n_in, n_out, c) = (x.rows(), g.in_len(), g.positions() * g.c, g.c);
    let built = [g.h, g.w, c];
    assert_eq!(x.row_len(), n_in, "MaxPooling2D: input {} on a layer built for {built:?}", x.shape_str());
    assert!(n_in <= u32::MAX as usize, "MaxPooling2D: samples of {n_in} values are too large");
    out.ensure_shape(b, &[g.oh, g.ow, c]);
    argmax.resize(b * n_out, 0);
    let samples = x.data().par_chunks(n_in).zip(out.data_mut().par_chunks_mut(n_out));
    let two_by_two = (g.kh, g.kw, g.sh, g.sw, g.pad_top, g.pad_left) == (2, 2, 2, 2, 0, 0);
    samples.zip(argmax.par_chunks_mut(n_out)).for_each(|((x, out), arg)| {
        if two_by_two {
            return max_2x2(g, x, out, arg);
        }
        let mut cells = out.chunks_exact_mut(c).zip(arg.chunks_exact_mut(c));
        for oh in 0..g.oh {
            for ow in 0..g.ow {
                let (o, a) = cells.next().expect("one cell per output position");
                max_window(g, x, oh, ow, o, a);
            }
        }
    });
}

/// One output cell, any window: the maximum over the window's positions inside the image, per
/// channel, and where it lies. Strictly greater: the first maximum in row-major order wins
/// ties. Selects, not branches, so the channels run as vectors.
fn max_window(g: &Window2d, x: &[f32], oh: usize, ow: usize, o: &mut [f32], a: &mut [u32]) {
    let c = g.c;
    let mut first = true;
    for ih in g.rows(oh) {
        for iw in g.cols(ow) {
            let base = (ih * g.w + iw) * c;
            let src = &x[base..base + c];
            if first {
                o.copy_from_slice(src);
                a.iter_mut().enumerate().for_each(|(j, a)| *a = (base + j) as u32);
                first = false;
                continue;
            }
            for (j, ((o, a), &v)) in o.iter_mut().zip(a.iter_mut()).zip(src).enumerate() {
                let greater = v > *o;
                *o = if greater { v } else { *o };
                *a = if greater { (base + j) as u32 } else { *a };
            }
        }
    }
}

/// The usual MaxPooling2D(2) on one sample: the four values of each whole window in one pass
/// per channel, rather than one pass per position as [`max_window`] makes. The same
/// comparisons in the same order, so the same maxima, ties and argmax. Windows cut by "same"
/// padding at an odd edge go through [`max_window`].
fn max_2x2(g: &Window2d, x: &[f32], out: &mut [f32], arg: &mut [u32]) {
    let c = g.c;
    let mut cells = out.chunks_exact_mut(c).zip(arg.chunks_exact_mut(c));
    for oh in 0..g.oh {
        for ow in 0..g.ow {
            let (o, a) = cells.next().expect("one cell per output position");
            let (ih, iw) = (2 * oh, 2 * ow);
            if ih + 1 >= g.h || iw + 1 >= g.w {
                max_window(g, x, oh, ow, o, a);
                continue;
            }
            let b0 = (ih * g.w + iw) * c;
            let (b1, b2) = (b0 + c, b0 + g.w * c);
            let b3 = b2 + c;
            let (x0, x1, x2, x3) = (&x[b0..b0 + c], &x[b1..b1 + c], &x[b2..b2 + c], &x[b3..b3 + c]);
            for j in 0..c {
                let (mut m, mut i) = (x0[j], b0 + j);
                if x1[j] > m {
                    (m, i) = (x1[j], b1 + j);
                }
                if x2[j] > m {
                    (m, i) = (x2[j], b2 + j);
                }
                if x3[j] > m {
                    (m, i) = (x3[j], b3 + j);
                }
                o[j] = m;
                a[j] = i as u32;
            }
        }
    }
}

/// dL/dx of a max pooling: each output's gradient added at its maximum (windows that overlap
/// share maxima). With `relu_out` (the forward output, when the layer below is a ReLU whose
/// backward this pass does), only where that maximum is positive.
#[track_caller]
pub(crate) fn max_backward(g: &Window2d, dout: &Tensor, argmax: &[u32], relu_out: Option<&Tensor>, dx: &mut Tensor) {
    let (b, n_in, n_out) = (dout.rows(), g.in_len(), g.positions() * g.c);
    assert_eq!(dout.len(), b * n_out, "MaxPooling2D backward: dout {} for outputs of {n_out} values", dout.shape_str());
    assert_eq!(
        argmax.len(),
        dout.len(),
        "MaxPooling2D backward: {} maxima for dout {}",
        argmax.len(),
        dout.shape_str()
    );
    dx.ensure_shape(b, &[g.h, g.w, g.c]);
    let samples = dx.data_mut().par_chunks_mut(n_in).zip(dout.data().par_chunks(n_out));
    let samples = samples.zip(argmax.par_chunks(n_out));
    match relu_out {
        Some(out) => {
            assert_eq!(
                out.len(),
                dout.len(),
                "MaxPooling2D backward: out {} for dout {}",
                out.shape_str(),
                dout.shape_str()
            );
            samples.zip(out.data().par_chunks(n_out)).for_each(|(((dx, dout), arg), out)| {
                dx.fill(0.0);
                // The maximum is the input at `i`: relu's gradient there is 1 where it is
                // positive. A select, not a branch: the sign of a maximum is not predictable.
                let cells = arg.iter().zip(dout).zip(out);
                cells.for_each(|((&i, &d), &o)| dx[i as usize] += if o > 0.0 { d } else { 0.0 });
            });
        }
        None => samples.for_each(|((dx, dout), arg)| {
            dx.fill(0.0);
            arg.iter().zip(dout).for_each(|(&i, &d)| dx[i as usize] += d);
        }),
    }
}

/// The number of the window's positions inside the image (TF's "same" padding averages only
/// those).
fn count(g: &Window2d, oh: usize, ow: usize) -> f32 {
    (g.rows(oh).len() * g.cols(ow).len()) as f32
}

/// `out` = the mean of each window per channel, over its positions inside the image.
#[track_caller]
pub(crate) fn average_forward(g: &Window2d, x: &Tensor, out: &mut Tensor) {
    let (b, n_in, n_out, c) = (x.rows(), g.in_len(), g.positions() * g.c, g.c);
    let built = [g.h, g.w, c];
    assert_eq!(x.row_len(), n_in, "AveragePooling2D: input {} on a layer built for {built:?}", x.shape_str());
    out.ensure_shape(b, &[g.oh, g.ow, c]);
    let samples = x.data().par_chunks(n_in).zip(out.data_mut().par_chunks_mut(n_out));
    samples.for_each(|(x, out)| {
        let mut cells = out.chunks_exact_mut(c);
        for oh in 0..g.oh {
            for ow in 0..g.ow {
                let o = cells.next().expect("one cell per output position");
                o.fill(0.0);
                for ih in g.rows(oh) {
                    for iw in g.cols(ow) {
                        let src = &x[(ih * g.w + iw) * c..][..c];
                        o.iter_mut().zip(src).for_each(|(o, &v)| *o += v);
                    }
                }
                let n = count(g, oh, ow);
                o.iter_mut().for_each(|o| *o /= n);
            }
        }
    });
}

/// dL/dx of an average pooling: each output's gradient shared equally by its window's positions.
#[track_caller]
pub(crate) fn average_backward(g: &Window2d, dout: &Tensor, dx: &mut Tensor) {
    let (b, n_in, n_out, c) = (dout.rows(), g.in_len(), g.positions() * g.c, g.c);
    assert_eq!(
        dout.len(),
        b * n_out,
        "AveragePooling2D backward: dout {} for outputs of {n_out} values",
        dout.shape_str()
    );
    dx.ensure_shape(b, &[g.h, g.w, c]);
    let samples = dx.data_mut().par_chunks_mut(n_in).zip(dout.data().par_chunks(n_out));
    samples.for_each(|(dx, dout)| {
        dx.fill(0.0);
        let mut cells = dout.chunks_exact(c);
        for oh in 0..g.oh {
            for ow in 0..g.ow {
                let d = cells.next().expect("one cell per output position");
                let n = count(g, oh, ow);
                for ih in g.rows(oh) {
                    for iw in g.cols(ow) {
                        let dst = &mut dx[(ih * g.w + iw) * c..][..c];
                        dst.iter_mut().zip(d).for_each(|(o, &v)| *o += v / n);
                    }
                }
            }
        }
    });
}
