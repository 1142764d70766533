//! Matrix transposition, in cache-sized tiles.

/// `dst (cols, rows) = src (rows, cols)ᵀ`, both row-major. Works in 16×16 tiles, so both the
/// reads and the writes stay within a few cache lines at a time; a full tile goes through a
/// local array, read and written in whole 16-value rows that the compiler vectorizes.
pub fn transpose(rows: usize, cols: usize, src: &[f32], dst: &mut [f32]) {
    assert!(
        src.len() >= rows * cols && dst.len() >= rows * cols,
        "transpose: ({rows}, {cols}) needs {} values, got {} and {}",
        rows * cols,
        src.len(),
        dst.len()
    );
    const T: usize = 16;
    for i0 in (0..rows).step_by(T) {
        for j0 in (0..cols).step_by(T) {
            if i0 + T <= rows && j0 + T <= cols {
                let mut tile = [[0f32; T]; T];
                for (i, t) in tile.iter_mut().enumerate() {
                    *t = src[(i0 + i) * cols + j0..][..T].try_into().expect("T values");
                }
                for j in 0..T {
                    let out: &mut [f32; T] = (&mut dst[(j0 + j) * rows + i0..][..T]).try_into().expect("T values");
                    for (i, o) in out.iter_mut().enumerate() {
                        *o = tile[i][j];
                    }
                }
                continue;
            }
            for i in i0..(i0 + T).min(rows) {
                let row = &src[i * cols..][..cols];
                for j in j0..(j0 + T).min(cols) {
                    dst[j * rows + i] = row[j];
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transposes_any_shape() {
        for (rows, cols) in [(1, 1), (3, 5), (16, 16), (17, 33), (40, 7), (32, 3136), (3136, 32), (48, 20)] {
            let src: Vec<f32> = (0..rows * cols).map(|v| v as f32).collect();
            let mut dst = vec![0.0; rows * cols];
            transpose(rows, cols, &src, &mut dst);
            for i in 0..rows {
                for j in 0..cols {
                    assert_eq!(dst[j * rows + i], src[i * cols + j], "({rows}, {cols}) at ({i}, {j})");
                }
            }
        }
    }
}
