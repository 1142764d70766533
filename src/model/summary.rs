//! `model.summary()`: Keras's table of layers, output shapes and parameter counts.

use super::Sequential;
use crate::error::{Error, Result};
use crate::layers::count_params;

const WIDTH: usize = 65;
/// Column ends, as Keras 2 places them for a sequential model (0.45, 0.85, 1.0 of 65).
const COLUMNS: [usize; 3] = [29, 55, 65];

/// Numbers with thousands separators, as Keras prints them: 79,510.
fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// One row: the first field after a space, each next one starting where the previous column ends.
fn row(fields: [&str; 3]) -> String {
    let mut line = String::from(" ");
    for (field, end) in fields.iter().zip(COLUMNS) {
        line.push_str(field);
        line.truncate(end - 1);
        while line.len() < end {
            line.push(' ');
        }
    }
    line.trim_end().to_string()
}

impl Sequential {
    /// The summary table as text; the model must be built (its input shape known).
    pub fn summary(&self) -> Result<String> {
        if !self.is_built() {
            return Err(Error::value(format!(
                "model '{}' is not built yet: give the first layer an input_shape, or call build(), fit() first",
                self.name
            )));
        }
        let mut out = format!("Model: \"{}\"\n{}\n", self.name, "_".repeat(WIDTH));
        out += &row(["Layer (type)", "Output Shape", "Param #"]);
        out += &format!("\n{}\n", "=".repeat(WIDTH));
        for (i, (layer, shape)) in self.layers.iter().zip(&self.layer_shapes).enumerate() {
            let name = format!("{} ({})", layer.name(), layer.class_name());
            let shape = format!("(None, {})", shape.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", "));
            out += &row([&name, &shape, &count_params(layer.as_ref()).0.to_string()]);
            out.push('\n');
            if i + 1 < self.layers.len() {
                out.push('\n');
            }
        }
        let (total, trainable) = self.count_params();
        out += &format!(
            "{}\nTotal params: {}\nTrainable params: {}\nNon-trainable params: {}\n{}\n",
            "=".repeat(WIDTH),
            thousands(total),
            thousands(trainable),
            thousands(total - trainable),
            "_".repeat(WIDTH)
        );
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::parse_layers;
    use crate::test_support::reference;

    fn model(spec: &str, input: &[usize]) -> Sequential {
        let mut m = Sequential::new();
        for layer in parse_layers(spec).unwrap() {
            m.add_boxed(layer);
        }
        m.build(input).unwrap();
        m
    }

    #[test]
    fn parameter_counts_and_shapes_equal_keras() {
        let refs = reference();
        let cases = [
            ("dense(10, activation=softmax)", vec![784]),
            ("flatten, dense(100, activation=relu), dropout(0.3), dense(10, activation=softmax)", vec![28, 28]),
            (
                "conv2d(32, 3, activation=relu, padding=same), max_pooling2d(2), \
                 conv2d(64, 3, activation=relu, padding=same), max_pooling2d(2), flatten, \
                 dense(100, activation=relu), dropout(0.4), dense(10, activation=softmax)",
                vec![28, 28, 1],
            ),
        ];
        for ((spec, input), want) in cases.iter().zip(refs["summaries"].as_array().unwrap()) {
            let m = model(spec, input);
            for (i, w) in want["layers"].as_array().unwrap().iter().enumerate() {
                assert_eq!(m.layers()[i].class_name(), w["class"].as_str().unwrap());
                let shape: Vec<usize> =
                    w["output_shape"].as_array().unwrap().iter().map(|d| d.as_u64().unwrap() as usize).collect();
                assert_eq!(m.layer_output_shapes()[i], shape, "{spec} layer {i}");
                assert_eq!(count_params(m.layers()[i].as_ref()).0 as u64, w["params"].as_u64().unwrap());
            }
            assert_eq!(m.count_params().0 as u64, want["total_params"].as_u64().unwrap());
        }
    }

    #[test]
    fn prints_keras_table() {
        let mut m = Sequential::named("fashion");
        for layer in parse_layers("flatten, dense(100, activation=relu, name=hidden), dropout(0.3), dense(10, activation=softmax, name=output)").unwrap() {
            m.add_boxed(layer);
        }
        assert!(m.summary().unwrap_err().to_string().contains("not built yet"));
        m.build(&[28, 28]).unwrap();
        let want = "\
Model: \"fashion\"
_________________________________________________________________
 Layer (type)                Output Shape              Param #
=================================================================
 flatten (Flatten)           (None, 784)               0

 hidden (Dense)              (None, 100)               78500

 dropout (Dropout)           (None, 100)               0

 output (Dense)              (None, 10)                1010
=================================================================
Total params: 79,510
Trainable params: 79,510
Non-trainable params: 0
_________________________________________________________________
";
        assert_eq!(m.summary().unwrap(), want);
        assert_eq!(thousands(333526), "333,526");
    }
}
