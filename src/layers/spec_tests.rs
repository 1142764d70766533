//! Tests of the one-line grammar ([`super`]).

use super::*;
use crate::layers::count_params;
use crate::model::Sequential;

fn err(line: &str) -> String {
    parse_layers(line).err().expect("an error").to_string()
}

#[test]
fn the_help_lists_every_layer_and_activation_the_parser_takes() {
    let help = grammar_help();
    let layers: Vec<&str> = help.lines().filter_map(|l| l.strip_prefix("  ")?.split('(').next()).collect();
    assert_eq!(layers, layer_kinds().iter().map(|k| base_name(k.class)).collect::<Vec<_>>());
    assert_eq!(layers[..3], ["dense", "flatten", "dropout"]);
    assert!(help.contains("\n  conv2d(filters, kernel_size, strides=..., padding=..., activation=..., "), "{help}");
    assert!(help.contains("\n  rescaling(scale, offset, name=...)\n"), "{help}");
    for name in crate::layers::Activation::NAMES {
        parse_layers(&format!("activation({name})")).unwrap();
    }
    assert!(help.ends_with("\nActivations: linear, relu, sigmoid, tanh, softmax"), "{help}");
}

#[test]
fn parses_the_keras_like_line_into_named_layers() {
    let line =
        "flatten, dense(100, activation=relu, name=hidden), dropout(0.3), dense(10, activation=softmax, name=output)";
    let layers = parse_layers(line).unwrap();
    let names: Vec<_> = layers.iter().map(|l| (l.class_name(), l.name().to_string())).collect();
    let want = [("Flatten", "flatten"), ("Dense", "hidden"), ("Dropout", "dropout"), ("Dense", "output")];
    assert_eq!(names, want.map(|(c, n)| (c, n.to_string())));
    assert_eq!(layers[1].config()["activation"], "relu");
    assert_eq!(layers[2].config()["rate"], json!(0.3));
    let more = parse_layers(
        "Reshape(28, 28, 1), BatchNormalization(momentum=0.9), Activation(ReLU), Dense(4, use_bias=False)",
    );
    let more = more.unwrap();
    assert_eq!(more[0].config()["target_shape"], json!([28, 28, 1]));
    assert_eq!(more[1].config()["momentum"], json!(0.9));
    assert_eq!(more[2].config()["activation"], "relu");
    assert_eq!(more[3].config()["use_bias"], false);
}

#[test]
fn unnamed_layers_get_keras_names_around_given_ones() {
    let layers = parse_layers("dense(4), dense(4), dense(2, name=dense_1), flatten").unwrap();
    let names: Vec<_> = layers.iter().map(|l| l.name()).collect();
    assert_eq!(names, ["dense", "dense_2", "dense_1", "flatten"]);
}

#[test]
fn convolution_and_pooling_make_keras_configs() {
    let configs =
        layer_configs("conv2d(32, 3, activation=relu, padding=same, strides=2), max_pooling2d(2), AveragePooling2D")
            .unwrap();
    assert_eq!(
        configs,
        [
            json!({"class_name": "Conv2D", "config": {"filters": 32, "kernel_size": 3, "activation": "relu",
                   "padding": "same", "strides": 2, "name": "conv2d"}}),
            json!({"class_name": "MaxPooling2D", "config": {"pool_size": 2, "name": "max_pooling2d"}}),
            json!({"class_name": "AveragePooling2D", "config": {"name": "average_pooling2d"}}),
        ]
    );
}

#[test]
fn errors_give_the_column_and_the_valid_choices() {
    assert_eq!(
        err("flatten, dense2(10)"),
        "column 10: unknown layer 'dense2'; valid layers: dense, flatten, dropout, batch_normalization, \
         activation, reshape, conv2d, max_pooling2d, average_pooling2d, rescaling, embedding, simple_rnn, lstm, gru, \
         global_average_pooling1d"
    );
    assert_eq!(err("flatten, dense(0)"), "column 16: dense: expected a positive integer, received units=0");
    assert_eq!(err("dropout(abc)"), "column 9: dropout: expected a number, received rate=abc");
    assert_eq!(err("dropout(1/0)"), "column 9: dropout: expected a number, received rate=1/0");
    assert_eq!(err("reshape(28, 0)"), "column 13: reshape: expected a positive integer or -1, received target_shape=0");
    assert_eq!(err("dense(4, use_bias=maybe)"), "column 10: dense: expected true or false, received use_bias=maybe");
    assert_eq!(
        err("flatten, dense(10, activaton=relu)"),
        "column 20: unknown argument 'activaton' for dense; valid arguments: units, activation, use_bias, \
         kernel_initializer, bias_initializer, name"
    );
    assert_eq!(err("dense(10, relu"), "column 6: unbalanced parentheses: this '(' is never closed");
    assert_eq!(err("flatten), dense(10)"), "column 8: unbalanced parentheses: this ')' has no matching '('");
    assert_eq!(
        err("reshape((28, 28))"),
        "column 9: nested parentheses; arguments are plain values, as in reshape(28, 28, 1)"
    );
    assert_eq!(err("flatten, , dense(10)"), "column 10: empty layer (a doubled or trailing comma?)");
    assert_eq!(err("dense(10) x"), "column 11: unexpected text 'x' after ')'");
    assert_eq!(err("dense(10,)"), "column 10: dense: empty argument");
    assert_eq!(err("dense()"), "column 1: dense: missing argument 'units'");
    assert_eq!(err("dense(10, 20)"), "column 11: dense takes 1 positional argument (units)");
    assert_eq!(err("flatten(3)"), "column 9: flatten takes no positional arguments");
    assert_eq!(err("dense(units=3, 4)"), "column 16: dense: positional argument '4' follows keyword arguments");
    assert_eq!(err("dense(3, units=4)"), "column 10: dense: argument 'units' is given twice");
    assert_eq!(err(" "), "the layer list is empty; write e.g. \"flatten, dense(10, activation=softmax)\"");
    // Columns count characters, not bytes.
    assert_eq!(err("dense(2, name=é), dense(0)"), "column 25: dense: expected a positive integer, received units=0");
}

#[test]
fn values_are_checked_by_the_layers_themselves() {
    assert_eq!(
        err("flatten, dense(10), dropout(1.5)"),
        "column 21 (in 'dropout(1.5)'): layer 'dropout' (Dropout): rate must be in [0, 1), received rate=1.5"
    );
    assert_eq!(
        err("dense(10, activation=rleu)"),
        "column 1 (in 'dense(10, activation=rleu)'): layer 'dense' (Dense): unknown activation 'rleu'; \
         valid activations: linear, relu, sigmoid, tanh, softmax"
    );
}

#[test]
fn the_mlp_line_has_keras_shapes_and_parameter_counts() {
    let refs = crate::test_support::reference();
    let case = &refs["summaries"][1];
    let mut model = Sequential::new();
    for layer in
        parse_layers("flatten, dense(100, activation=relu), dropout(0.3), dense(10, activation=softmax)").unwrap()
    {
        model.add_boxed(layer);
    }
    model.build(&[28, 28]).unwrap();
    for (i, want) in case["layers"].as_array().unwrap().iter().enumerate() {
        assert_eq!(model.layers()[i].class_name(), want["class"]);
        assert_eq!(json!(model.layer_output_shapes()[i]), want["output_shape"]);
        assert_eq!(json!(count_params(model.layers()[i].as_ref()).0), want["params"]);
    }
}
