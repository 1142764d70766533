//! Looking inside a model: every layer's output for some inputs (what the lesson's "feature
//! map" pictures show; Keras builds a `Model(inputs, [layer.output ...])` for the same).

use super::Sequential;
use crate::error::Result;
use crate::tensor::Tensor;

impl Sequential {
    /// The output of every layer for `x` (inference mode), in layer order.
    pub fn layer_outputs(&mut self, x: &Tensor) -> Result<Vec<Tensor>> {
        self.check_input(x, x.rows(), false)?;
        let n = x.rows();
        let mut outputs: Vec<Tensor> = Vec::with_capacity(self.layers.len());
        for start in (0..n).step_by(32) {
            let end = (start + 32).min(n);
            self.batch_x = x.slice_rows(start, end);
            self.forward_batch(false);
            for (i, layer) in self.layers.iter().enumerate() {
                let out = layer.output();
                if start == 0 {
                    let mut shape = out.shape().to_vec();
                    shape[0] = n;
                    outputs.push(Tensor::zeros(&shape));
                }
                let w = out.row_len();
                outputs[i].data_mut()[start * w..end * w].copy_from_slice(out.data());
            }
        }
        Ok(outputs)
    }
}

#[cfg(test)]
mod tests {
    use crate::layers::{Activation, Dense};
    use crate::model::Sequential;
    use crate::Tensor;

    #[test]
    fn last_layer_output_equals_predict() {
        let mut m = Sequential::new();
        m.add(Dense::new(3).activation(Activation::Relu).input_shape(&[2]));
        m.add(Dense::new(2).activation(Activation::Softmax));
        let x = Tensor::from_vec(&[40, 2], (0..80).map(|i| (i as f32 * 0.1).sin()).collect()).unwrap();
        let outs = m.layer_outputs(&x).unwrap();
        assert_eq!(outs.len(), 2);
        assert_eq!(outs[0].shape(), &[40, 3]);
        assert_eq!(outs[1], m.predict(&x).unwrap());
        assert!(outs[0].data().iter().all(|&v| v >= 0.0), "relu outputs");
    }
}
