//! Conv2D's tests: against Keras, finite differences, the direct convolution on each of the
//! backend's paths (im2col, rebuilt im2col rows, Winograd), 1 and 2 threads, configs.

use super::*;
use crate::layers::gradcheck::check_layer;
use crate::test_support::{assert_close, reference, tensor_from_json};
use rand::{Rng as _, SeedableRng};

#[test]
fn forward_matches_keras() {
    let cases = reference()["layers"].as_array().unwrap().clone();
    let cases: Vec<_> = cases.iter().filter(|c| c["layer"] == "Conv2D").collect();
    assert_eq!(cases.len(), 3);
    for case in cases {
        let cfg = &case["config"];
        let (x, want) = (tensor_from_json(&case["input"]), tensor_from_json(&case["output"]));
        let mut layer = Conv2D::from_config(cfg).unwrap();
        let mut rng = Rng::seed_from_u64(0);
        layer.build(&x.shape()[1..], &mut rng).unwrap();
        let (kernel, bias) = (tensor_from_json(&case["kernel"]), tensor_from_json(&case["bias"]));
        assert_eq!(layer.kernel.value.shape(), kernel.shape());
        layer.kernel.value = kernel;
        layer.bias.value = bias;
        layer.forward(&x, &mut Ctx { training: false, rng: &mut rng, fold: Default::default() });
        assert_eq!(layer.output().shape(), want.shape(), "{cfg}");
        for (i, (&a, &b)) in layer.output().data().iter().zip(want.data()).enumerate() {
            assert_close(a, b, &format!("Conv2D {cfg} [{i}]"));
        }
    }
}

#[test]
fn gradients_match_finite_differences() {
    // The shapes are ones where check_layer's random inputs put no pre-activation within a
    // finite-difference step of relu's kink.
    let same = Padding::Same;
    for act in [Activation::Linear, Activation::Relu] {
        let c = move |f: usize, k: Size2| Conv2D::new(f, k).activation(act);
        check_layer(|| Box::new(c(2, Size2(3, 3))), &[4, 5, 2], 2);
        check_layer(|| Box::new(c(2, Size2(3, 3)).padding(same)), &[4, 3, 2], 2);
        check_layer(|| Box::new(c(2, Size2(3, 3)).padding(same).strides(2)), &[5, 4, 2], 1);
        let no_bias = move || c(2, Size2(3, 3)).use_bias(false);
        check_layer(|| Box::new(no_bias().strides((2, 1))), &[5, 4, 3], 1);
        check_layer(|| Box::new(no_bias().padding(same).strides(2)), &[6, 5, 1], 1);
        check_layer(|| Box::new(c(3, Size2(2, 3))), &[3, 4, 2], 4);
    }
}

/// Outputs and gradients of a 1-thread and a 2-thread pool, bit for bit.
#[test]
fn results_do_not_depend_on_the_thread_count() {
    // 3 channels in and 8 out: im2col; 16 and 16: Winograd.
    for (c, f) in [(3, 8), (16, 16)] {
        let run = |threads: usize| {
            crate::tensor::cpu::on_threads(threads, || {
                let mut rng = Rng::seed_from_u64(5);
                let mut layer = Conv2D::new(f, 3).padding(Padding::Same).activation(Activation::Relu);
                layer.build(&[9, 7, c], &mut rng).unwrap();
                assert_eq!(layer.winograd(), c == 16);
                let x: Vec<f32> = (0..11 * 9 * 7 * c).map(|_| rng.random_range(-1.0..1.0)).collect();
                let x = Tensor::from_vec(&[11, 9, 7, c], x).unwrap();
                layer.forward(&x, &mut Ctx { training: true, rng: &mut rng, fold: Default::default() });
                let g: Vec<f32> = (0..layer.out.len()).map(|_| rng.random_range(-1.0..1.0)).collect();
                let dout = Tensor::from_vec(layer.out.shape(), g).unwrap();
                layer.backward(&x, &dout, Backward::new(true));
                let grads: Vec<Vec<f32>> = layer.params().iter().map(|p| p.grad_to_vec()).collect();
                (layer.out.clone(), grads, layer.dinput.clone())
            })
        };
        let (one, two) = (run(1), run(2));
        assert!(one == two, "{c} -> {f} channels: 1 and 2 threads differ");
    }
}

/// Through Winograd (3x3, stride 1, same, channels in multiples of 16): gradients against
/// finite differences, and on the lesson's second convolution, batch 6 (a partial chunk),
/// everything against the direct convolution in f64.
#[test]
fn the_winograd_path_equals_the_direct_convolution() {
    let wino = || Conv2D::new(16, 3).padding(Padding::Same);
    check_layer(|| Box::new(wino()), &[4, 5, 16], 2);
    check_layer(|| Box::new(wino().use_bias(false)), &[3, 3, 16], 1);
    assert_matches_direct_convolution(6, 14, 14, 32, 64, true);
}

/// A layer whose batch's im2col rows are too many to keep (KEEP_COLS_MAX) rebuilds them
/// in backward: everything against the direct convolution in f64.
#[test]
fn rebuilt_im2col_rows_give_the_same_gradients() {
    let (b, h, w, c) = (7, 28, 28, 24); // 7 · 784 · 216 = 1.19M im2col values; a partial chunk
    assert!(b * h * w * 9 * c > ops::KEEP_COLS_MAX);
    assert_matches_direct_convolution(b, h, w, c, 8, false);
}

/// A "same" 3x3 Conv2D (f filters, random bias) on a (b, h, w, c) batch: output, input
/// gradient and kernel gradient against the direct convolution in f64; whether it runs
/// through Winograd, as `winograd` says.
fn assert_matches_direct_convolution(b: usize, h: usize, w: usize, c: usize, f: usize, winograd: bool) {
    let mut layer = Conv2D::new(f, 3).padding(Padding::Same).bias_initializer(Initializer::GlorotUniform);
    let mut rng = Rng::seed_from_u64(3);
    layer.build(&[h, w, c], &mut rng).unwrap();
    assert_eq!(layer.winograd(), winograd);
    let value = |i: usize, m: usize| ((i * 7919 + m) % 1013) as f32 / 1013.0 - 0.5;
    let x = Tensor::from_vec(&[b, h, w, c], (0..b * h * w * c).map(|i| value(i, 1)).collect()).unwrap();
    let dout = Tensor::from_vec(&[b, h, w, f], (0..b * h * w * f).map(|i| value(i, 2)).collect()).unwrap();
    layer.forward(&x, &mut Ctx { training: true, rng: &mut rng, fold: Default::default() });
    layer.visit_params(&mut |p| p.zero_grad());
    layer.backward(&x, &dout, Backward::new(true));
    let (kernel, bias) = (layer.kernel.value.data(), layer.bias.value.data());
    let mut dx = vec![0f64; b * h * w * c];
    let mut dk = vec![0f64; 9 * c * f];
    for (n, oy, ox, k) in
        (0..b).flat_map(|n| (0..h).flat_map(move |oy| (0..w).flat_map(move |ox| (0..f).map(move |k| (n, oy, ox, k)))))
    {
        let mut sum = bias[k] as f64;
        let o = ((n * h + oy) * w + ox) * f + k;
        let g = dout.data()[o] as f64;
        for (i, j, ch) in (0..3).flat_map(|i| (0..3).flat_map(move |j| (0..c).map(move |ch| (i, j, ch)))) {
            let (y, xx) = ((oy + i).wrapping_sub(1), (ox + j).wrapping_sub(1));
            if y < h && xx < w {
                let at = ((n * h + y) * w + xx) * c + ch;
                let wi = ((i * 3 + j) * c + ch) * f + k;
                sum += x.data()[at] as f64 * kernel[wi] as f64;
                dx[at] += g * kernel[wi] as f64;
                dk[wi] += g * x.data()[at] as f64;
            }
        }
        let got = layer.output().data()[o] as f64;
        assert!((got - sum).abs() <= 1e-5 * (1.0 + sum.abs()), "output {o}: {got} vs {sum}");
    }
    let close = |got: &[f32], want: &[f64], what: &str| {
        for (i, (&g, &d)) in got.iter().zip(want).enumerate() {
            assert!((g as f64 - d).abs() <= 1e-5 * (1.0 + d.abs()), "{what} {i}: {g} vs {d}");
        }
    };
    close(layer.dinput().data(), &dx, "dx");
    close(&layer.kernel.grad_to_vec(), &dk, "dkernel");
}

#[test]
fn bad_configurations_are_errors_naming_the_layer() {
    let mut rng = Rng::seed_from_u64(0);
    let err = |layer: Conv2D, shape: &[usize]| {
        layer.name("conv2d").build(shape, &mut Rng::seed_from_u64(0)).unwrap_err().to_string()
    };
    assert_eq!(
        err(Conv2D::new(32, 3), &[784]),
        "layer 'conv2d' (Conv2D) expects samples of shape (height, width, channels), got (784,); \
         reshape the images to (28, 28, 1)"
    );
    assert_eq!(
        err(Conv2D::new(0, 3), &[28, 28, 1]),
        "layer 'conv2d' (Conv2D): expected a positive integer, received filters=0"
    );
    assert_eq!(
        err(Conv2D::new(4, 3).strides((1, 0)), &[28, 28, 1]),
        "layer 'conv2d' (Conv2D): expected positive integers, received strides=(1, 0)"
    );
    assert_eq!(
        err(Conv2D::new(4, 5), &[4, 6, 1]),
        "layer 'conv2d' (Conv2D): kernel_size (5, 5) is larger than the input (4, 6, 1) with \
         padding='valid'; use padding='same' or a smaller kernel_size"
    );
    assert!(Conv2D::new(4, 5).padding(Padding::Same).build(&[4, 6, 1], &mut rng).is_ok());
}

#[test]
fn config_round_trips_and_counts_match_keras() {
    let layer = Conv2D::new(64, (3, 2))
        .strides(2)
        .padding(Padding::Same)
        .activation(Activation::Relu)
        .use_bias(false)
        .kernel_initializer(Initializer::HeNormal)
        .name("c")
        .input_shape(&[28, 28, 1]);
    let cfg = layer.config();
    assert_eq!(cfg["kernel_size"], json!([3, 2]));
    assert_eq!(Conv2D::from_config(&cfg).unwrap().config(), cfg);
    let err = |cfg: Value| Conv2D::from_config(&cfg).err().unwrap().to_string();
    assert_eq!(
        err(json!({"filters": 4, "kernel_size": [3, 0], "name": "c"})),
        "layer 'c' (Conv2D): expected a positive integer or a pair of them, received kernel_size=[3, 0]"
    );
    assert_eq!(err(json!({"kernel_size": 3})), "Conv2D: the config is missing 'filters'");
    // The CNN's two convolutions: 320 and 18496 parameters, as model.summary() reports.
    let mut rng = Rng::seed_from_u64(0);
    let mut c1 = Conv2D::new(32, 3).padding(Padding::Same);
    assert_eq!(c1.build(&[28, 28, 1], &mut rng).unwrap(), vec![28, 28, 32]);
    let mut c2 = Conv2D::new(64, 3).padding(Padding::Same);
    assert_eq!(c2.build(&[14, 14, 32], &mut rng).unwrap(), vec![14, 14, 64]);
    assert_eq!((super::super::count_params(&c1).0, super::super::count_params(&c2).0), (320, 18496));
}
