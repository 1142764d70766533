//! How much memory kiln agrees to allocate, checked before anything is allocated: a model's
//! weights, and the buffers one batch needs. Sizes from files and flags are counted in `u128`
//! with saturating arithmetic, so a size that overflows `usize` is refused with a readable
//! message instead of wrapping around or ending in a `capacity overflow` abort.

use crate::error::{Error, Result};

/// The most memory a model's weights may take, and the most the buffers of one batch may take:
/// 8 GB each (f32 values, 4 bytes). A CPU model that trains in reasonable time is far below it.
pub const MEMORY_LIMIT_BYTES: u128 = 8_000_000_000;

/// The number of values in a tensor of `shape`, saturating at `u128::MAX`.
pub fn len_u128(shape: &[usize]) -> u128 {
    shape.iter().fold(1u128, |n, &d| n.saturating_mul(d as u128))
}

/// `values` f32 values as bytes: "31 GB", "512 MB", "12 kB", "40 bytes" (decimal units).
pub fn human_bytes(values: u128) -> String {
    let bytes = values.saturating_mul(4);
    const UNITS: [(u128, &str); 5] = [
        (1_000_000_000_000_000, "PB"),
        (1_000_000_000_000, "TB"),
        (1_000_000_000, "GB"),
        (1_000_000, "MB"),
        (1_000, "kB"),
    ];
    if bytes >= 1_000_000_000_000_000_000 {
        return format!("{:.1e} bytes", bytes as f64);
    }
    for (unit, name) in UNITS {
        if bytes >= unit {
            return format!("{} {name}", (bytes + unit / 2) / unit);
        }
    }
    format!("{bytes} bytes")
}

/// Refuses `values` f32 values when they exceed [`MEMORY_LIMIT_BYTES`]; `what` says whose they
/// are ("model 'm': its weights") and ends up before "need 31 GB". Allocates nothing when they
/// fit (training steps call it).
pub fn check_values(values: u128, what: impl FnOnce() -> String) -> Result<()> {
    if values.saturating_mul(4) <= MEMORY_LIMIT_BYTES {
        return Ok(());
    }
    Err(Error::value(format!(
        "{} need {} ({} values), more than the {} kiln allows",
        what(),
        human_bytes(values),
        group(values),
        human_bytes(MEMORY_LIMIT_BYTES / 4)
    )))
}

/// 7840010000 as "7,840,010,000".
fn group(n: u128) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_in_decimal_units_and_the_limit_is_checked() {
        assert_eq!(human_bytes(7_840_010_000), "31 GB");
        assert_eq!(human_bytes(10), "40 bytes");
        assert_eq!(human_bytes(300), "1 kB");
        assert_eq!(human_bytes(len_u128(&[usize::MAX, usize::MAX])), "3.4e38 bytes");
        assert_eq!(len_u128(&[usize::MAX, usize::MAX, usize::MAX]), u128::MAX);
        assert!(check_values(2_000_000_000, || unreachable!()).is_ok());
        assert_eq!(
            check_values(7_840_010_000, || "model 'm': its weights".into()).unwrap_err().to_string(),
            "model 'm': its weights need 31 GB (7,840,010,000 values), more than the 8 GB kiln allows"
        );
    }
}
