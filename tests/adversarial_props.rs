//! Property-based checks of everything kiln reads from users: the model file reader (random and
//! mutated bytes and headers), the `--layers` grammar (random strings; every accepted line
//! round-trips through save and load) and the model config JSON (mutations). None may panic:
//! each input loads or is an error. Case counts stay small so the suite stays fast.

use kiln::io::load_model;
use kiln::layers::parse_layers;
use kiln::model::Sequential;
use proptest::prelude::*;
use serde_json::{json, Value};

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

/// A model exercising every layer kind: its saved bytes and its architecture.
fn sample_model() -> Sequential {
    let spec = "reshape(6, 6, 1), conv2d(2, 3, padding=same, activation=relu, name=c), max_pooling2d(2), \
                average_pooling2d(1), batch_normalization, flatten, dense(4, activation=relu), dropout(0.2), \
                activation(tanh), dense(3, activation=softmax, name=out)";
    let mut m = Sequential::named("sample");
    for layer in parse_layers(spec).unwrap() {
        m.add_boxed(layer);
    }
    m.compile(kiln::model::Compile::new("sparse_categorical_crossentropy").optimizer("adam")).unwrap();
    m.build(&[36]).unwrap();
    let x = kiln::Tensor::from_vec(&[4, 36], (0..144).map(|i| (i % 7) as f32 / 7.0).collect()).unwrap();
    let y = kiln::Tensor::from_vec(&[4], vec![0.0, 1.0, 2.0, 1.0]).unwrap();
    m.train_on_batch(&x, &y).unwrap();
    m
}

/// Loads `bytes` as a model file; the result may be Ok or Err, never a panic.
fn load_bytes(bytes: &[u8]) -> kiln::Result<Sequential> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.safetensors");
    std::fs::write(&path, bytes).unwrap();
    load_model(&path)
}

/// Values a mutation puts in a config: wrong types, edge numbers, sizes that overflow.
fn hostile_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!(null)),
        Just(json!(true)),
        Just(json!(-1)),
        Just(json!(0)),
        Just(json!(3)),
        Just(json!(1.5)),
        Just(json!(4294967296u64)),
        Just(json!(u64::MAX)),
        Just(json!(-1e308)),
        Just(json!("channels_first")),
        Just(json!("relu")),
        Just(json!("")),
        Just(json!([])),
        Just(json!([3, 0])),
        Just(json!([2, 2])),
        Just(json!({})),
    ]
}

/// Every object and array in `v`, as JSON pointers.
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            out.push(at.clone());
            for (k, child) in map {
                pointers(child, format!("{at}/{k}"), out);
            }
        }
        Value::Array(items) => {
            out.push(at.clone());
            for (i, child) in items.iter().enumerate() {
                pointers(child, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// Applies one mutation to the container at pointer `which` (mod their count): a key or an
/// item replaced by `value`, removed, or a key renamed.
fn mutate(v: &mut Value, which: usize, op: u8, key: usize, value: Value) {
    let mut all = Vec::new();
    pointers(v, String::new(), &mut all);
    let target = v.pointer_mut(&all[which % all.len()]).expect("pointer exists");
    match target {
        Value::Object(map) if !map.is_empty() => {
            let k = map.keys().nth(key % map.len()).unwrap().clone();
            match op % 3 {
                0 => drop(map.insert(k, value)),
                1 => drop(map.remove(&k)),
                _ => {
                    let old = map.remove(&k).unwrap();
                    map.insert(format!("{k}x"), old);
                }
            }
        }
        Value::Array(items) if !items.is_empty() => {
            let i = key % items.len();
            match op % 2 {
                0 => items[i] = value,
                _ => drop(items.remove(i)),
            }
        }
        other => *other = value,
    }
}

proptest! {
    #![proptest_config(config(48))]

    #[test]
    fn random_bytes_never_panic_the_model_reader(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        prop_assert!(load_bytes(&bytes).is_err());
    }

    #[test]
    fn a_random_header_length_or_body_never_panics(len in any::<u64>(), body in "[ -~]{0,80}") {
        let mut bytes = len.to_le_bytes().to_vec();
        bytes.extend_from_slice(body.as_bytes());
        prop_assert!(load_bytes(&bytes).is_err());
    }

    #[test]
    fn mutated_model_files_never_panic(flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..4),
                                       cut in any::<usize>(), truncate in any::<bool>()) {
        let mut bytes = SAMPLE.with(|s| s.clone());
        for (at, byte) in flips {
            let i = at % bytes.len();
            bytes[i] = byte;
        }
        if truncate {
            bytes.truncate(cut % bytes.len());
        }
        let _ = load_bytes(&bytes);
    }

    #[test]
    fn mutated_headers_never_panic(which in any::<usize>(), op in any::<u8>(), key in any::<usize>(),
                                   value in hostile_value()) {
        let bytes = SAMPLE.with(|s| s.clone());
        let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
        let mut header: Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
        mutate(&mut header, which, op, key, value);
        let text = header.to_string();
        let mut out = (text.len() as u64).to_le_bytes().to_vec();
        out.extend_from_slice(text.as_bytes());
        out.extend_from_slice(&bytes[8 + n..]);
        let _ = load_bytes(&out);
    }

    #[test]
    fn mutated_model_configs_are_loaded_or_refused(mutations in proptest::collection::vec(
        (any::<usize>(), any::<u8>(), any::<usize>(), hostile_value()), 1..4)) {
        let mut arch = SAMPLE_JSON.with(|j| j.clone());
        for (which, op, key, value) in mutations {
            mutate(&mut arch, which, op, key, value);
        }
        if let Ok(m) = Sequential::from_json(&arch) {
            // Whatever loads describes itself again the same way.
            prop_assert_eq!(Sequential::from_json(&m.to_json()).unwrap().to_json(), m.to_json());
        }
    }

    #[test]
    fn random_layer_lines_never_panic(spec in "[a-z_0-9(),= .'\"-]{0,60}") {
        let _ = parse_layers(&spec);
    }
}

/// A layer line the grammar may accept, from its real vocabulary (wrong values included).
fn layer_line() -> impl Strategy<Value = String> {
    let name = prop_oneof![
        Just(String::new()),
        "[a-zA-Z0-9_./ -]{1,12}".prop_map(|n| format!(", name={n}")),
        Just(", name=optimizer".to_string()),
        Just(", name=optimizer.x".to_string()),
    ];
    let layer = prop_oneof![
        (1usize..5, prop_oneof![Just("relu"), Just("softmax"), Just("linear"), Just("nope")])
            .prop_map(|(u, a)| format!("dense({u}, activation={a}")),
        Just("flatten(".to_string()),
        (0.0f64..1.2).prop_map(|r| format!("dropout({r:.2}")),
        Just("batch_normalization(momentum=0.9".to_string()),
        Just("activation(tanh".to_string()),
        (1usize..4).prop_map(|k| format!("conv2d(2, {k}, padding=same")),
        (1usize..3).prop_map(|p| format!("max_pooling2d({p}")),
    ];
    proptest::collection::vec((layer, name), 1..5).prop_map(|items| {
        let items: Vec<String> = items
            .into_iter()
            .map(
                |(l, n)| {
                    if l.ends_with('(') && !n.is_empty() {
                        format!("{l}{})", &n[2..])
                    } else {
                        format!("{l}{n})")
                    }
                },
            )
            .collect();
        format!("reshape(4, 4, 1), {}, flatten, dense(2, activation=softmax)", items.join(", "))
    })
}

proptest! {
    #![proptest_config(config(32))]

    /// Every line the grammar accepts, with any name it accepts, builds a model that saves and
    /// loads back with the same architecture and weights.
    #[test]
    fn every_accepted_layer_line_round_trips(spec in layer_line()) {
        let Ok(layers) = parse_layers(&spec) else { return Ok(()) };
        let mut m = Sequential::new();
        for layer in layers {
            m.add_boxed(layer);
        }
        if m.build(&[16]).is_err() {
            return Ok(());
        }
        let back = load_bytes(&m.to_bytes().unwrap());
        prop_assert!(back.is_ok(), "{spec}: {:?}", back.err().map(|e| e.to_string()));
        let back = back.unwrap();
        prop_assert_eq!(back.to_json(), m.to_json());
        prop_assert_eq!(back.weights_sha256(), m.weights_sha256());
    }
}

thread_local! {
    static SAMPLE: Vec<u8> = sample_model().to_bytes().unwrap();
    static SAMPLE_JSON: Value = {
        let mut j = sample_model().to_json();
        j["config"]["input_shape"] = json!([36]);
        j
    };
}
