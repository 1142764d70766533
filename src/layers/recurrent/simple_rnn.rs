//! SimpleRNN, Keras's: `h' = activation(x·kernel + h·recurrent_kernel + bias)`.

use super::base::{product, RnnCore, Step};
use super::gate_math::{act, deriv, load, store, with_acts, LANES};
use crate::error::Result;
use crate::layers::registry::{ArgKind::*, LayerKind};
use crate::layers::{Backward, Ctx, Layer, Param, Rng};
use crate::tensor::{ops, Mat, Tensor};

/// Keras's `SimpleRNN(units, activation, use_bias, return_sequences, go_backwards, dropout,
/// recurrent_dropout)`.
#[allow(clippy::upper_case_acronyms)]
pub struct SimpleRNN {
    core: RnnCore,
}

impl SimpleRNN {
    /// SimpleRNN in the registry: class name, grammar row `simple_rnn(8)`, config.
    pub const KIND: LayerKind = LayerKind {
        class: "SimpleRNN",
        positional: &["units"],
        required: 1,
        args: &[
            ("units", PositiveInt),
            ("activation", Word),
            ("use_bias", Bool),
            ("return_sequences", Bool),
            ("go_backwards", Bool),
            ("dropout", Number),
            ("recurrent_dropout", Number),
        ],
        from_config: |c| {
            let mut layer = SimpleRNN::new(1);
            layer.core = RnnCore::from_config(c)?;
            Ok(Box::new(layer))
        },
    };

    /// A SimpleRNN of `units` units with Keras's defaults.
    pub fn new(units: usize) -> SimpleRNN {
        SimpleRNN { core: RnnCore::new(units) }
    }

    super::rnn_builders!();
    layer_builders!(core);
}

/// One step forward: `z += h_in·U`, `h = activation(z + bias)`, also left in `z`.
fn forward_step<const A: u8, const R: u8>(st: Step) {
    let (b, u) = (st.b, st.u);
    product(Mat::new(st.h_in, b, u), Mat::new(st.rk, u, u), st.z, 1.0);
    for (z, h) in st.z.chunks_exact_mut(u).zip(st.h.chunks_exact_mut(u)) {
        let mut j = 0;
        while j + LANES <= u {
            forward_lanes::<A, LANES>(j, z, st.bias, h);
            j += LANES;
        }
        for j in j..u {
            forward_lanes::<A, 1>(j, z, st.bias, h);
        }
    }
}

/// Units `j..j + L` of one row: `z = h = activation(z + bias)`.
#[inline(always)]
fn forward_lanes<const A: u8, const L: usize>(j: usize, z: &mut [f32], bias: &[f32], h: &mut [f32]) {
    let (mut v, bv) = (load::<L>(z, j), load::<L>(bias, j));
    for l in 0..L {
        v[l] = act::<A>(v[l] + bv[l]);
    }
    store(z, j, &v);
    store(h, j, &v);
}

/// One step back: `dz = dh · activation'`.
fn backward_step<const A: u8, const R: u8>(out: &[f32], dh: &[f32], dz: &mut [f32]) {
    for ((d, &o), &g) in dz.iter_mut().zip(out).zip(dh) {
        *d = g * deriv::<A>(o);
    }
}

impl Layer for SimpleRNN {
    layer_identity!(core);

    fn build(&mut self, input_shape: &[usize], rng: &mut Rng) -> Result<Vec<usize>> {
        let u = self.core.units;
        self.core.build(Self::KIND.class, 1, &[u], input_shape, rng)
    }

    fn weights_len(&self, input_shape: &[usize]) -> u128 {
        self.core.weights_len(1, self.core.units, input_shape)
    }

    fn forward(&mut self, x: &Tensor, ctx: &mut Ctx) {
        self.core.begin_forward(x, ctx, 1);
        let (a, r) = (self.core.activation, self.core.recurrent_activation);
        self.core.forward_steps([], |_, st, []| with_acts!(a, r, forward_step(st)));
        self.core.finish_forward();
    }

    fn output(&self) -> &Tensor {
        self.core.output()
    }

    fn backward(&mut self, _x: &Tensor, dout: &Tensor, how: Backward) {
        self.core.begin_backward(1, how.need_dinput);
        let (a, r) = (self.core.activation, self.core.recurrent_activation);
        self.core.backward_steps(dout, [], |s, mut st, []| {
            with_acts!(a, r, backward_step(st.gates, st.dh, st.dz));
            if s > 0 {
                st.carry(None, 0.0);
            }
        });
        if self.core.use_bias {
            let (db, beta) = self.core.bias.grad_accumulator();
            let ((t, b, _), u) = (self.core.dims, self.core.units);
            ops::col_sums(Mat::new(self.core.dzs.data(), t * b, u), db, beta);
        }
        self.core.recurrent_kernel_grad(None);
        self.core.finish_backward();
    }

    fn dinput(&self) -> &Tensor {
        self.core.dinput()
    }

    fn fusion(&self) -> crate::layers::Fusion<'_> {
        self.core.fusion()
    }

    fn visit_params(&mut self, f: &mut dyn FnMut(&mut Param)) {
        self.core.visit_params(f);
    }

    fn params(&self) -> Vec<&Param> {
        self.core.params()
    }

    fn config(&self) -> serde_json::Value {
        let mut config = self.core.config();
        config.remove("recurrent_activation");
        config.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::gradcheck::check_layer;
    use crate::layers::Activation;

    #[test]
    fn gradients_match_finite_differences() {
        check_layer(|| Box::new(SimpleRNN::new(3)), &[4, 2], 2);
        check_layer(|| Box::new(SimpleRNN::new(2).return_sequences(true).go_backwards(true)), &[3, 2], 2);
        check_layer(|| Box::new(SimpleRNN::new(2).activation(Activation::Sigmoid).use_bias(false)), &[3, 2], 2);
        check_layer(|| Box::new(SimpleRNN::new(3).dropout(0.3).recurrent_dropout(0.4)), &[4, 3], 3);
    }
}
