//! Properties of the IDX reader over random and mutated input: it never panics, it accepts a
//! file exactly when the header's dimensions match the data, and it never allocates more than
//! the input justifies (the bytes themselves for a raw file, deflate's 1032× expansion for
//! gzip), whatever the header claims.

use flate2::{write::GzEncoder, Compression};
use kiln::data::{encode_idx, parse_idx, MAX_DEFLATE_RATIO};
use proptest::prelude::*;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::Write;
use std::path::Path;

/// Counts the bytes live on each thread and their peak (proptest runs a property's cases on
/// one thread; the other tests in this binary run on theirs).
struct PeakAlloc;

thread_local! {
    static LIVE: Cell<usize> = const { Cell::new(0) };
    static PEAK: Cell<usize> = const { Cell::new(0) };
}

fn add(n: usize) {
    let _ = LIVE.try_with(|l| {
        l.set(l.get() + n);
        let _ = PEAK.try_with(|p| p.set(p.get().max(l.get())));
    });
}

fn sub(n: usize) {
    let _ = LIVE.try_with(|l| l.set(l.get().saturating_sub(n)));
}

unsafe impl GlobalAlloc for PeakAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        add(layout.size());
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        sub(layout.size());
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // Old and new blocks coexist while the data is copied.
        add(new_size);
        sub(layout.size());
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: PeakAlloc = PeakAlloc;

/// Fixed costs of one read whatever the input: the inflate state and window, the hasher, the
/// header, error messages.
const OVERHEAD: usize = 256 * 1024;

/// Parses `bytes` as an IDX file with `ndim` dimensions; returns whether it was accepted and
/// the peak of the bytes allocated meanwhile above what was live before.
fn parse_measured(bytes: &[u8], ndim: usize) -> (bool, usize) {
    let before = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(before));
    let ok = parse_idx(Path::new("p.idx"), bytes, ndim).is_ok();
    (ok, PEAK.with(Cell::get) - before)
}

/// What `bytes` can justify: themselves if raw, deflate's largest expansion if gzip, twice
/// (a growing buffer holds old and new while it moves).
fn justified(bytes: &[u8]) -> usize {
    let gz = bytes.starts_with(&[0x1f, 0x8b]);
    let data = if gz { bytes.len() * MAX_DEFLATE_RATIO as usize } else { bytes.len() };
    2 * data + OVERHEAD
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// A header for `dims` (any u32s, as a hostile file may hold) followed by `data`.
fn lying_file(dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut f = vec![0, 0, 8, dims.len() as u8];
    dims.iter().for_each(|d| f.extend(d.to_be_bytes()));
    f.extend_from_slice(data);
    f
}

/// Dimensions near the data's true size, tiny, or anywhere up to u32::MAX.
fn dim() -> impl Strategy<Value = u32> {
    prop_oneof![0u32..64, any::<u32>(), Just(u32::MAX)]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512), ndim in 1usize..4) {
        let (_, peak) = parse_measured(&bytes, ndim);
        prop_assert!(peak <= justified(&bytes), "peak {peak} for {} bytes", bytes.len());
    }

    #[test]
    fn lying_headers_are_refused_in_bounded_memory(
        dims in proptest::collection::vec(dim(), 1..4),
        data in proptest::collection::vec(any::<u8>(), 0..3000),
        compress in any::<bool>(),
    ) {
        let raw = lying_file(&dims, &data);
        let bytes = if compress { gz(&raw) } else { raw };
        let honest = dims.iter().try_fold(1u64, |a, &d| a.checked_mul(d as u64)) == Some(data.len() as u64);
        let (ok, peak) = parse_measured(&bytes, dims.len());
        prop_assert_eq!(ok, honest);
        prop_assert!(peak <= justified(&bytes), "peak {} for {} bytes claiming {:?}", peak, bytes.len(), dims);
    }

    #[test]
    fn mutated_files_never_panic(
        rows in 0usize..40,
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
        compress in any::<bool>(),
    ) {
        let pixels: Vec<u8> = (0..rows * 9).map(|i| (i * 31 % 256) as u8).collect();
        let raw = encode_idx(&[rows, 3, 3], &pixels);
        let mut bytes = if compress { gz(&raw) } else { raw };
        for (at, x) in flips {
            let i = at.index(bytes.len());
            bytes[i] ^= x;
        }
        let keep = bytes.len() - cut.index(bytes.len() / 4 + 1);
        bytes.truncate(keep);
        let (_, peak) = parse_measured(&bytes, 3);
        prop_assert!(peak <= justified(&bytes), "peak {peak} for {} bytes", bytes.len());
    }
}

#[test]
fn the_bound_is_tight_enough_to_mean_something() {
    // A 41-byte gzip file claiming 1 GB is refused having allocated almost nothing.
    let bytes = gz(&lying_file(&[1 << 30], &[]));
    let (ok, peak) = parse_measured(&bytes, 1);
    assert!(!ok);
    assert!(peak < OVERHEAD, "peak {peak}");
    // An honest file is read with about its own size.
    let raw = encode_idx(&[100_000], &vec![5; 100_000]);
    let (ok, peak) = parse_measured(&raw, 1);
    assert!(ok);
    assert!((100_000..100_000 + OVERHEAD).contains(&peak), "peak {peak}");
}
