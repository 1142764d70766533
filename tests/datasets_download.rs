//! Downloads against a loopback HTTP server: mirror fallback, checksum failures, cut-off,
//! trickling and endless transfers must never leave a file under the final name nor a `.part`
//! file beside it; a full `load_data_from` with an empty cache fetches, verifies and decodes
//! small synthetic Fashion-MNIST files.

use flate2::{write::GzEncoder, Compression};
use kiln::datasets::{download, fashion_mnist, DatasetFile, DownloadOptions, Source};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the server answers for a path; unknown paths get 404.
#[derive(Clone)]
enum Reply {
    Body(Vec<u8>),
    /// Announces the full length, sends only the first half, then closes the connection.
    CutOff(Vec<u8>),
    /// Announces 1,000 bytes and sends one every 50 ms (until the client hangs up).
    Trickle,
    /// No length, zeros until the client hangs up.
    Endless,
}

/// Serves `routes` on 127.0.0.1 for at most `max_requests` connections (one request each).
/// Returns the base URL and the log of requested paths.
fn serve(routes: Vec<(&str, Reply)>, max_requests: usize) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let routes: HashMap<String, Reply> = routes.into_iter().map(|(p, r)| (p.to_string(), r)).collect();
    let log = Arc::new(Mutex::new(Vec::new()));
    let seen = log.clone();
    std::thread::spawn(move || {
        for _ in 0..max_requests {
            let Ok((mut s, _)) = listener.accept() else {
                return;
            };
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let mut req = Vec::new();
            let mut buf = [0u8; 1024];
            while !req.windows(4).any(|w| w == b"\r\n\r\n") && req.len() < 16 * 1024 {
                match s.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => req.extend_from_slice(&buf[..n]),
                }
            }
            let text = String::from_utf8_lossy(&req);
            let path = text.split_whitespace().nth(1).unwrap_or("").to_string();
            seen.lock().unwrap().push(path.clone());
            let (status, body, send) = match routes.get(&path) {
                Some(Reply::Body(b)) => ("200 OK", b.clone(), b.len()),
                Some(Reply::CutOff(b)) => ("200 OK", b.clone(), b.len() / 2),
                Some(Reply::Trickle) => {
                    trickle(&mut s);
                    continue;
                }
                Some(Reply::Endless) => {
                    endless(&mut s);
                    continue;
                }
                None => ("404 Not Found", b"not found".to_vec(), 9),
            };
            let head = format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\n{OCTETS}\r\n", body.len());
            let _ = s.write_all(head.as_bytes()).and_then(|_| s.write_all(&body[..send]));
        }
    });
    (base, log)
}

const OCTETS: &str = "Content-Type: application/octet-stream\r\nConnection: close\r\n";

/// A byte every 50 ms of an announced 1,000; stops when the client has gone.
fn trickle(s: &mut impl Write) {
    let head = format!("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n{OCTETS}\r\n");
    let _ = s.write_all(head.as_bytes());
    for _ in 0..1000 {
        if s.write_all(b"x").and_then(|_| s.flush()).is_err() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Zeros with no announced length, until the client hangs up (1 GiB at most).
fn endless(s: &mut impl Write) {
    let _ = s.write_all(format!("HTTP/1.1 200 OK\r\n{OCTETS}\r\n").as_bytes());
    let chunk = [0u8; 64 * 1024];
    for _ in 0..16 * 1024 {
        if s.write_all(&chunk).is_err() {
            return;
        }
    }
}

/// Downloads `url` into `dest` with the default limits.
fn get(urls: &[String], dest: &Path, sha: &str) -> kiln::Result<()> {
    download(urls, dest, &DatasetFile::new("f.gz", sha), &DownloadOptions::default())
}

/// A gzip-compressed u8 IDX file and the SHA-256 of its decompressed bytes.
fn gz_idx(dims: &[usize], data: &[u8]) -> (Vec<u8>, String) {
    let raw = kiln::data::encode_idx(dims, data);
    let mut e = GzEncoder::new(Vec::new(), Compression::fast());
    e.write_all(&raw).unwrap();
    (e.finish().unwrap(), hex::encode(Sha256::digest(&raw)))
}

/// Entries in `dir` other than `keep`: leftovers such as temporary files.
fn others(dir: &Path, keep: &str) -> Vec<String> {
    let names = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned());
    names.filter(|n| n != keep).collect()
}

#[test]
fn downloads_and_verifies() {
    let (bytes, sha) = gz_idx(&[4], &[1, 2, 3, 4]);
    let (base, _) = serve(vec![("/m/f.gz", Reply::Body(bytes.clone()))], 1);
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("f.gz");
    get(&[format!("{base}/m/f.gz")], &dest, &sha).unwrap();
    assert_eq!(std::fs::read(&dest).unwrap(), bytes);
    assert!(others(dir.path(), "f.gz").is_empty());
}

#[test]
fn falls_back_to_second_mirror() {
    let (bytes, sha) = gz_idx(&[2], &[7, 8]);
    let (base, log) = serve(vec![("/second/f.gz", Reply::Body(bytes))], 2);
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("f.gz");
    let urls = [format!("{base}/first/f.gz"), format!("{base}/second/f.gz")];
    get(&urls, &dest, &sha).unwrap();
    assert_eq!(*log.lock().unwrap(), ["/first/f.gz", "/second/f.gz"]);
    assert!(dest.is_file());
}

#[test]
fn checksum_mismatch_leaves_no_file() {
    let (bytes, actual) = gz_idx(&[2], &[7, 8]);
    let (base, _) = serve(vec![("/m/f.gz", Reply::Body(bytes))], 1);
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("f.gz");
    let expected = "0".repeat(64);
    let e = get(&[format!("{base}/m/f.gz")], &dest, &expected).unwrap_err();
    let want = format!(
        "download failed: {}: every mirror failed:\n  {base}/m/f.gz: checksum mismatch: expected sha256 {expected}, got {actual}",
        dest.display()
    );
    assert_eq!(e.to_string(), want);
    assert!(!dest.exists());
    assert!(others(dir.path(), "f.gz").is_empty(), "temporary file left behind");
}

#[test]
fn cut_off_transfer_leaves_no_file() {
    let data: Vec<u8> = (0..50_000u32).map(|i| (i % 7) as u8).collect();
    let (bytes, sha) = gz_idx(&[50_000], &data);
    let (base, _) = serve(vec![("/m/f.gz", Reply::CutOff(bytes))], 1);
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("f.gz");
    let e = get(&[format!("{base}/m/f.gz")], &dest, &sha).unwrap_err().to_string();
    assert!(
        e.starts_with(&format!("download failed: {}: every mirror failed:\n  {base}/m/f.gz: ", dest.display())),
        "{e}"
    );
    assert!(!dest.exists());
    assert!(others(dir.path(), "f.gz").is_empty(), "temporary file left behind");
}

/// Why downloading from a server that answers `reply` failed, with `opts`, once checked that
/// nothing is left in the directory.
fn failure(reply: Reply, opts: &DownloadOptions) -> String {
    let (base, _) = serve(vec![("/m/f.gz", reply)], 1);
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("f.gz");
    let url = format!("{base}/m/f.gz");
    let e = download(std::slice::from_ref(&url), &dest, &DatasetFile::new("f.gz", "00"), opts).unwrap_err().to_string();
    let head = format!("download failed: {}: every mirror failed:\n  {url}: ", dest.display());
    assert!(e.starts_with(&head), "{e}");
    assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none(), "nothing left behind");
    e[head.len()..].to_string()
}

#[test]
fn a_trickling_mirror_hits_the_deadline() {
    let opts = DownloadOptions { deadline: Duration::from_millis(500), ..DownloadOptions::default() };
    let why = failure(Reply::Trickle, &opts);
    assert!(why.starts_with("gave up at the deadline of 500ms (transfer failed after "), "{why}");
    assert!(why.ends_with(" bytes: timeout: global)"), "{why}");
}

#[test]
fn an_endless_body_hits_the_cap() {
    let opts = DownloadOptions { max_bytes: 100_000, ..DownloadOptions::default() };
    assert_eq!(failure(Reply::Endless, &opts), "the body exceeds the cap of 100000 bytes");
    let announced = Reply::Body(vec![0; 2000]);
    let opts = DownloadOptions { max_bytes: 1000, ..DownloadOptions::default() };
    assert_eq!(failure(announced, &opts), "the server announces 2000 bytes, more than the cap of 1000 bytes");
}

#[test]
fn a_gzip_bomb_stops_at_the_published_size() {
    let (bytes, sha) = gz_idx(&[1_000_000], &vec![0; 1_000_000]);
    let (base, _) = serve(vec![("/m/f.gz", Reply::Body(bytes))], 1);
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("f.gz");
    let file = DatasetFile::new("f.gz", &sha).with_size(1000);
    let url = format!("{base}/m/f.gz");
    let e = download(std::slice::from_ref(&url), &dest, &file, &DownloadOptions::default()).unwrap_err().to_string();
    let want = format!(
        "download failed: {}: every mirror failed:\n  {url}: is larger than the published 1000 bytes (after decompression)",
        dest.display()
    );
    assert_eq!(e, want);
    assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none(), "nothing left behind");
}

#[test]
fn leftovers_of_an_interrupted_download_are_removed() {
    let (bytes, sha) = gz_idx(&[2], &[7, 8]);
    let (base, _) = serve(vec![("/m/f.gz", Reply::Body(bytes))], 1);
    let dir = tempfile::tempdir().unwrap();
    let old = std::time::SystemTime::now() - Duration::from_secs(3600);
    let leftover = |name: &str| -> PathBuf {
        let p = dir.path().join(name);
        std::fs::File::create(&p).unwrap().set_modified(old).unwrap();
        p
    };
    let (ours, other) = (leftover(".f.gz.q8Zt2m.part"), leftover(".g.gz.q8Zt2m.part"));
    get(&[format!("{base}/m/f.gz")], &dir.path().join("f.gz"), &sha).unwrap();
    assert!(!ours.exists(), "the interrupted download's .part is gone");
    assert_eq!(others(dir.path(), "f.gz"), [other.file_name().unwrap().to_str().unwrap()]);
}

#[test]
fn load_data_from_empty_cache_downloads_everything() {
    let images = |n: usize| gz_idx(&[n, 28, 28], &vec![3; n * 784]);
    let files = [images(5), gz_idx(&[5], &[0, 1, 2, 3, 9]), images(2), gz_idx(&[2], &[4, 5])];
    let names = fashion_mnist::FILES.map(|(name, _, _)| name);
    let routes = names.iter().zip(&files).map(|(n, (b, _))| (n.to_string(), Reply::Body(b.clone())));
    let routes: Vec<(String, Reply)> = routes.map(|(n, r)| (format!("/mirror/{n}"), r)).collect();
    let (base, log) = serve(routes.iter().map(|(p, r)| (p.as_str(), r.clone())).collect(), 16);
    let root = tempfile::tempdir().unwrap();
    let cache = root.path().join("cache").join("fashion-mnist");
    let opts = fashion_mnist::LoadOptions {
        data_dir: None,
        cache_dir: Some(cache.clone()),
        system_dir: None,
        mirrors: vec![format!("{base}/dead"), format!("{base}/mirror/")],
        files: [0, 1, 2, 3].map(|i| DatasetFile::new(names[i], &files[i].1)),
        download: true,
        progress: false,
        verbose: false,
    };
    let d = fashion_mnist::load(&opts).unwrap();
    assert_eq!(d.source, Source::Downloaded(cache.clone()));
    assert_eq!(d.train_images.shape(), &[5, 28, 28]);
    assert_eq!(d.test_labels.data(), &[4, 5]);
    assert_eq!(d.class_counts().0, [1, 1, 1, 1, 0, 0, 0, 0, 0, 1]);
    assert_eq!(log.lock().unwrap().len(), 8, "each file: dead mirror, then the good one");
    // Second load: from the cache, no network.
    let ((x, y), (xt, yt)) = fashion_mnist::load_data_from(&opts).unwrap();
    assert_eq!((x.rows(), y.rows(), xt.rows(), yt.rows()), (5, 5, 2, 2));
    assert_eq!(fashion_mnist::load(&opts).unwrap().source, Source::Cache(cache.clone()));
    // A corrupt cached file is replaced by a fresh download.
    std::fs::write(cache.join(names[1]), b"junk").unwrap();
    assert_eq!(fashion_mnist::load(&opts).unwrap().source, Source::Downloaded(cache.clone()));
    assert_eq!(log.lock().unwrap().len(), 16);
    assert_eq!(others(&cache, "").len(), 4, "only the four files in the cache");
}

/// Places for a Keras dataset file: an empty cache, a Keras folder, the loopback mirror.
fn keras_opts(root: &Path, base: &str, file: DatasetFile) -> kiln::datasets::keras_file::KerasFileOptions {
    kiln::datasets::keras_file::KerasFileOptions {
        data_dir: None,
        cache_dir: Some(root.join("cache")),
        keras_dir: Some(root.join("keras")),
        mirrors: vec![format!("{base}/m")],
        file,
        download: true,
        progress: false,
        verbose: false,
    }
}

#[test]
fn mnist_downloads_good_and_rejects_corrupt_and_truncated() {
    use kiln::data::{encode_npy, encode_npz};
    let npz = encode_npz(&[
        ("x_test", encode_npy("|u1", false, &[1, 28, 28], &[5; 784])),
        ("x_train", encode_npy("|u1", false, &[2, 28, 28], &[7; 2 * 784])),
        ("y_train", encode_npy("|u1", false, &[2], &[3, 9])),
        ("y_test", encode_npy("|u1", false, &[1], &[1])),
    ]);
    let sha = hex::encode(Sha256::digest(&npz));
    let mut corrupt = npz.clone();
    corrupt[100] ^= 1;
    let routes = vec![
        ("/m/mnist.npz", Reply::Body(npz.clone())),
        ("/bad/mnist.npz", Reply::Body(corrupt)),
        ("/cut/mnist.npz", Reply::CutOff(npz.clone())),
    ];
    let (base, _) = serve(routes, 3);
    let root = tempfile::tempdir().unwrap();
    let mut opts = keras_opts(root.path(), &base, DatasetFile::stored("mnist.npz", &sha));
    for bad in ["bad", "cut"] {
        opts.mirrors = vec![format!("{base}/{bad}")];
        let e = kiln::datasets::mnist::load(&opts).unwrap_err().to_string();
        assert!(e.starts_with("download failed: "), "{e}");
        assert!(!root.path().join("cache/mnist.npz").exists(), "{bad}: nothing under the final name");
    }
    opts.mirrors = vec![format!("{base}/m")];
    let (((x, y), (xt, yt)), source) = kiln::datasets::mnist::load(&opts).unwrap();
    assert_eq!(source, Source::Downloaded(root.path().join("cache")));
    assert_eq!(
        (x.shape(), y.data(), xt.shape(), yt.data()),
        (&[2, 28, 28][..], &[3, 9][..], &[1, 28, 28][..], &[1][..])
    );
    // Keras's own copy is found offline, after kiln's places.
    std::fs::remove_file(root.path().join("cache/mnist.npz")).unwrap();
    std::fs::create_dir_all(root.path().join("keras")).unwrap();
    std::fs::write(root.path().join("keras/mnist.npz"), &npz).unwrap();
    opts.download = false;
    assert_eq!(kiln::datasets::mnist::load(&opts).unwrap().1, Source::Keras(root.path().join("keras")));
}

/// A CIFAR batch as Python 2's cPickle (protocol 2) wrote it: a dict with "data", a NumPy
/// (n, 3072) uint8 array, and "labels", a list of ints.
fn cifar_batch_pickle(data: &[u8], labels: &[u8]) -> Vec<u8> {
    let n = labels.len();
    let mut p = b"\x80\x02}q\x01(U\x04dataq\x02cnumpy.core.multiarray\n_reconstruct\nq\x03cnumpy\nndarray\nq\x04K\x00\x85U\x01b\x87Rq\x05(K\x01".to_vec();
    p.push(b'M');
    p.extend((n as u16).to_le_bytes());
    p.extend(b"M\x00\x0c\x86cnumpy\ndtype\nq\x06U\x02u1K\x00K\x01\x87Rq\x07(K\x03U\x01|NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb\x89T");
    p.extend((data.len() as u32).to_le_bytes());
    p.extend(data);
    p.extend(b"tbU\x06labelsq\x08]q\t(");
    for &l in labels {
        p.extend([b'K', l]);
    }
    p.extend(b"eu.");
    p
}

#[test]
fn cifar10_reads_pickled_batches_from_a_download() {
    // Six batches of two images; pixel (row r, col c, channel k) of image i in batch b is
    // (b * 2 + i + k * 50 + r) mod 256, stored channel-first as CIFAR does.
    let mut tar = tar::Builder::new(Vec::new());
    for (b, name) in kiln::datasets::cifar10::BATCHES.iter().enumerate() {
        let mut data = Vec::new();
        for i in 0..2 {
            for k in 0..3 {
                for r in 0..32 {
                    data.extend(std::iter::repeat_n(((b * 2 + i + k * 50 + r) % 256) as u8, 32));
                }
            }
        }
        let bytes = cifar_batch_pickle(&data, &[b as u8, 9]);
        let mut h = tar::Header::new_gnu();
        h.set_size(bytes.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        tar.append_data(&mut h, format!("cifar-10-batches-py/{name}"), &bytes[..]).unwrap();
    }
    let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
    gz.write_all(&tar.into_inner().unwrap()).unwrap();
    let archive = gz.finish().unwrap();
    let sha = hex::encode(Sha256::digest(&archive));
    let (base, _) = serve(vec![("/m/cifar-10-python.tar.gz", Reply::Body(archive))], 1);
    let root = tempfile::tempdir().unwrap();
    let opts = keras_opts(root.path(), &base, DatasetFile::stored("cifar-10-python.tar.gz", &sha));
    let (((x, y), (xt, yt)), source) = kiln::datasets::cifar10::load(&opts).unwrap();
    assert_eq!(source, Source::Downloaded(root.path().join("cache")));
    assert_eq!(
        (x.shape(), y.shape(), xt.shape(), yt.shape()),
        (&[10, 32, 32, 3][..], &[10, 1][..], &[2, 32, 32, 3][..], &[2, 1][..])
    );
    assert_eq!(y.data(), &[0, 9, 1, 9, 2, 9, 3, 9, 4, 9]);
    assert_eq!(yt.data(), &[5, 9]);
    // Image 3 (batch 1, image 1), row 4, column 0: channels (3 + 4, 3 + 50 + 4, 3 + 100 + 4).
    let px = &x.data()[3 * 3072 + 4 * 96..][..3];
    assert_eq!(px, &[7, 57, 107]);
    assert_eq!(&xt.data()[3072..3075], &[11, 61, 111]);
}

/// The six extracted CIFAR batches of two pictures each, as Keras leaves them in
/// `~/.keras/datasets/cifar-10-batches-py`; picture i of batch b is filled with 20·(2b + i) + 7·k
/// in channel k. Returns the test batch's two pictures in (H, W, C) order.
fn write_extracted_cifar(home: &Path) -> Vec<u8> {
    let dir = home.join(".keras/datasets/cifar-10-batches-py");
    std::fs::create_dir_all(&dir).unwrap();
    let mut test_hwc = Vec::new();
    for (b, name) in kiln::datasets::cifar10::BATCHES.iter().enumerate() {
        let value = |i: usize, k: usize| (20 * (2 * b + i) + 7 * k) as u8;
        let data: Vec<u8> = (0..2).flat_map(|i| (0..3).flat_map(move |k| [value(i, k); 1024])).collect();
        if *name == "test_batch" {
            test_hwc = (0..2).flat_map(|i| (0..1024).flat_map(move |_| (0..3).map(move |k| value(i, k)))).collect();
        }
        std::fs::write(dir.join(name), cifar_batch_pickle(&data, &[b as u8, 9])).unwrap();
    }
    test_hwc
}

#[test]
fn predict_by_index_on_cifar10_names_its_classes_and_matches_the_array_path() {
    let home = tempfile::tempdir().unwrap();
    let test_pictures = write_extracted_cifar(home.path());
    let path = |name: &str| home.path().join(name).to_str().unwrap().to_string();
    let kiln = |args: &[&str]| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_kiln"));
        c.args(args).env("HOME", home.path()).env("XDG_CACHE_HOME", home.path().join("cache"));
        c.env("KILN_MIRRORS", "http://127.0.0.1:9").env_remove("KILN_DATA_DIR");
        let out = c.output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let model = path("m.safetensors");
    let train =
        ["train", "--dataset", "cifar10", "--epochs", "1", "--layers", "flatten, dense(10, activation=softmax)"];
    let (ok, _, err) = kiln(&[&train[..], &["--save", &model, "--verbose", "0"]].concat());
    assert!(ok, "{err}");

    let (json, png) = (path("p.json"), path("p.png"));
    let (ok, out, err) =
        kiln(&["predict", &model, "--dataset", "cifar10", "--index", "1", "0", "--json", &json, "--out", &png]);
    assert!(ok, "{err}");
    // Test labels are 5 (dog) and 9 (truck); the classes are named by CIFAR-10's names.
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("    1: ") && lines[0].contains("true: truck"), "{out}");
    assert!(lines[2].starts_with("    0: ") && lines[2].contains("true: dog"), "{out}");
    assert!(lines[1].trim_start().starts_with("airplane 0."), "{out}");
    assert!(image::open(&png).is_ok());
    let by_index: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(by_index["index"], serde_json::json!([1, 0]));

    // The same two pictures given as an array: the same outputs, in the order asked for.
    let npz = path("x.npz");
    let swapped: Vec<u8> = [&test_pictures[3072..], &test_pictures[..3072]].concat();
    let x = kiln::data::encode_npy("|u1", false, &[2, 32, 32, 3], &swapped);
    std::fs::write(&npz, kiln::data::encode_npz(&[("x", x)])).unwrap();
    let (ok, _, err) = kiln(&["predict", &model, "--data", &npz, "--json", &json]);
    assert!(ok, "{err}");
    let by_array: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(by_index["probabilities"], by_array["outputs"]);

    let (ok, _, err) = kiln(&["predict", &model, "--dataset", "cifar10", "--index", "2"]);
    assert!(!ok);
    assert!(err.contains("--index 2 is out of range: the test split has 2 images (0..2)"), "{err}");
}

#[test]
fn imdb_downloads_and_loads_as_keras_does() {
    use kiln::data::{encode_npy, encode_npz};
    use kiln::datasets::imdb::{self, encode_reviews_npy, ImdbOptions};
    let labels =
        |v: &[i64]| encode_npy("<i8", false, &[v.len()], &v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>());
    let npz = encode_npz(&[
        ("x_test", encode_reviews_npy(&[vec![4, 9], vec![1]])),
        ("x_train", encode_reviews_npy(&[vec![1, 2, 3], vec![8], vec![5, 6, 7, 8, 9]])),
        ("y_train", labels(&[0, 1, 1])),
        ("y_test", labels(&[1, 0])),
    ]);
    let sha = hex::encode(Sha256::digest(&npz));
    let (base, _) = serve(vec![("/m/imdb.npz", Reply::Body(npz.clone()))], 1);
    let root = tempfile::tempdir().unwrap();
    let opts = keras_opts(root.path(), &base, DatasetFile::stored("imdb.npz", &sha));
    let raw = imdb::read_npz(&{
        let p = root.path().join("raw.npz");
        std::fs::write(&p, &npz).unwrap();
        p
    })
    .unwrap();
    assert_eq!(raw.0, (vec![vec![1, 2, 3], vec![8], vec![5, 6, 7, 8, 9]], vec![0, 1, 1]));
    let keras = ImdbOptions { num_words: Some(10), maxlen: Some(5), ..Default::default() };
    let ((x, y), (xt, yt)) = imdb::load(&opts, &keras).unwrap().0;
    // What load_data gives for the same options (shuffled by RandomState(113)).
    assert_eq!(imdb::prepare(raw, &keras).unwrap(), ((x.clone(), y.clone()), (xt.clone(), yt.clone())));
    assert_eq!(x.len(), 2, "the review of 6 ids (start_char included) is dropped: maxlen=5 keeps shorter ones");
    assert!(x.iter().chain(&xt).all(|r| r[0] == 1 && r.iter().all(|&w| w < 10)), "{x:?} {xt:?}");
    assert!(root.path().join("cache/imdb.npz").exists(), "kept in the cache");
}
