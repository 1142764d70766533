//! Decompressing Fashion-MNIST's real training images (26 MB of gzip, 47 MB inflated), the
//! largest read `kiln data` and `kiln train` do: `cargo bench --bench gunzip`.
//! Needs Debian's `dataset-fashion-mnist` package (/usr/share/datasets/fashion-mnist).

use criterion::{criterion_group, criterion_main, Criterion};
use std::io::{BufReader, Read};
use std::path::Path;

const FILE: &str = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz";

fn gunzip(c: &mut Criterion) {
    let path = Path::new(FILE);
    let compressed = std::fs::read(path).expect("dataset-fashion-mnist must be installed");
    let mut out = Vec::with_capacity(47_040_016);
    let mut group = c.benchmark_group("gunzip");
    group.sample_size(20);
    group.bench_function("train_images_to_memory", |b| {
        b.iter(|| {
            out.clear();
            flate2::bufread::MultiGzDecoder::new(BufReader::with_capacity(256 * 1024, &compressed[..]))
                .read_to_end(&mut out)
                .unwrap();
            assert_eq!(out.len(), 47_040_016);
        })
    });
    group.bench_function("read_idx_train_images", |b| {
        b.iter(|| assert_eq!(kiln::data::read_idx(path, 3).unwrap().tensor.rows(), 60_000))
    });
    group.finish();
}

criterion_group!(benches, gunzip);
criterion_main!(benches);
