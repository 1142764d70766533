//! Images in the terminal: each character cell is two pixels, `▀` with the upper pixel as
//! foreground and the lower as background colour, so a user over SSH sees the samples too.

use std::fmt::Write;
use std::io::IsTerminal;

use super::canvas::Rgb;
use super::pixel_rgb;

/// How colours are written: the 24 grays of the 256-colour palette (every terminal since
/// xterm) or 24-bit colour where the terminal says it has it (`COLORTERM=truecolor`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColorMode {
    /// The 24 grays of the 256-colour palette.
    Gray256,
    /// 24-bit colour (`COLORTERM=truecolor`).
    TrueColor,
}

impl ColorMode {
    /// True colour when `COLORTERM` is `truecolor` or `24bit`, else the 256-colour grays.
    pub fn detect() -> ColorMode {
        match std::env::var("COLORTERM").as_deref() {
            Ok("truecolor") | Ok("24bit") => ColorMode::TrueColor,
            _ => ColorMode::Gray256,
        }
    }
}

/// Whether standard output is a terminal (pictures are drawn there only then).
pub fn stdout_is_terminal() -> bool {
    std::io::stdout().is_terminal()
}

/// The terminal's width in columns; where standard output is not a terminal, `COLUMNS`, else 80.
pub fn terminal_columns() -> usize {
    let env = || std::env::var("COLUMNS").ok().and_then(|v| v.trim().parse().ok()).filter(|&c: &usize| c > 0);
    console::Term::stdout().size_checked().map(|(_, cols)| cols as usize).or_else(env).unwrap_or(80)
}

/// Draws `images` (each `rows × cols` pixels of `channels` bytes, coloured as the PNG:
/// [`pixel_rgb`]) side by side, as many per band as fit in `width` columns, each with its
/// caption centred underneath.
pub fn render_images(
    images: &[(&[u8], &str)],
    (rows, cols, channels): (usize, usize, usize),
    mode: ColorMode,
    width: usize,
) -> String {
    const GAP: usize = 2;
    let per_band = ((width + GAP) / (cols + GAP)).max(1);
    let mut out = String::new();
    for band in images.chunks(per_band) {
        for y in (0..rows).step_by(2) {
            for (k, (pixels, _)) in band.iter().enumerate() {
                if k > 0 {
                    out.push_str(&" ".repeat(GAP));
                }
                let mut last = None;
                for x in 0..cols {
                    let top = pixel_rgb(pixels, y * cols + x, channels);
                    // An odd last row: the lower half is the white background.
                    let bottom = if y + 1 < rows { pixel_rgb(pixels, (y + 1) * cols + x, channels) } else { WHITE };
                    let cell = (top, bottom);
                    if last != Some(cell) {
                        push_colors(&mut out, cell.0, cell.1, mode);
                        last = Some(cell);
                    }
                    out.push('▀');
                }
                out.push_str("\x1b[0m");
            }
            out.push('\n');
        }
        let captions: Vec<String> = band.iter().map(|(_, c)| centre(c, cols)).collect();
        out.push_str(captions.join(&" ".repeat(GAP)).trim_end());
        out.push('\n');
    }
    out
}

const WHITE: Rgb = [255, 255, 255];

/// The colours of the next `▀` cells: foreground `top`, background `bottom`.
fn push_colors(out: &mut String, top: Rgb, bottom: Rgb, mode: ColorMode) {
    match mode {
        ColorMode::TrueColor => {
            let ([r, g, b], [br, bg, bb]) = (top, bottom);
            let _ = write!(out, "\x1b[38;2;{r};{g};{b}m\x1b[48;2;{br};{bg};{bb}m");
        }
        ColorMode::Gray256 => {
            let _ = write!(out, "\x1b[38;5;{}m\x1b[48;5;{}m", palette_index(top), palette_index(bottom));
        }
    }
}

/// The nearest colour of the 256-colour palette: a gray ([`gray_index`]) for a gray, else the
/// nearest of the 6×6×6 colour cube (16 + 36 r + 6 g + b, levels 0, 95, 135, 175, 215, 255).
pub fn palette_index([r, g, b]: Rgb) -> u8 {
    if r == g && g == b {
        return gray_index(r);
    }
    let level = |v: u8| {
        [0u8, 95, 135, 175, 215, 255]
            .iter()
            .enumerate()
            .min_by_key(|(_, &l)| (l as i32 - v as i32).abs())
            .map_or(0, |(i, _)| i as u8)
    };
    16 + 36 * level(r) + 6 * level(g) + level(b)
}

/// The nearest gray of the 256-colour palette: 16 (black), 232–255 (8, 18, …, 238), 231 (white).
pub fn gray_index(v: u8) -> u8 {
    let v = v as i32;
    let mut best = (16u8, v);
    for i in 0..24u8 {
        let d = (8 + 10 * i as i32 - v).abs();
        if d < best.1 {
            best = (232 + i, d);
        }
    }
    if 255 - v < best.1 {
        best = (231, 255 - v);
    }
    best.0
}

/// `text` cut to `width` characters and centred in that many columns.
fn centre(text: &str, width: usize) -> String {
    let t: String = text.chars().take(width).collect();
    let n = t.chars().count();
    let left = (width - n) / 2;
    format!("{}{}{}", " ".repeat(left), t, " ".repeat(width - n - left))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_grays_to_the_palette() {
        assert_eq!(
            (gray_index(0), gray_index(255), gray_index(8), gray_index(128), gray_index(250)),
            (16, 231, 232, 244, 231)
        );
    }

    #[test]
    fn draws_two_pixels_per_cell_and_wraps_to_the_width() {
        // A 3×2 image: top row black ink (255), middle row white (0), bottom row gray (128).
        let img = [255, 255, 0, 0, 128, 128];
        let s = render_images(&[(&img, "Bag"), (&img, "T-shirt/top")], (3, 2, 1), ColorMode::TrueColor, 80);
        let lines: Vec<&str> = s.lines().collect();
        assert_eq!(lines.len(), 3, "two cell rows and a caption line: {s:?}");
        // Ink is dark on white: foreground black over a white background.
        assert!(lines[0].starts_with("\x1b[38;2;0;0;0m\x1b[48;2;255;255;255m▀"), "{:?}", lines[0]);
        assert!(lines[1].starts_with("\x1b[38;2;127;127;127m\x1b[48;2;255;255;255m▀"), "{:?}", lines[1]);
        assert_eq!(lines[0].matches('▀').count(), 4);
        assert_eq!(lines[2], "Ba  T-");
        // Four columns fit one 2-column image per band.
        let narrow = render_images(&[(&img, "a"), (&img, "b")], (3, 2, 1), ColorMode::Gray256, 4);
        assert_eq!(narrow.lines().count(), 6);
        assert!(narrow.starts_with("\x1b[38;5;16m\x1b[48;5;231m▀"), "{narrow:?}");
    }

    #[test]
    fn draws_colour_pictures_in_colour() {
        // One column, two rows: red over half-transparent blue (over white: 128, 128, 255).
        let rgba = [255, 0, 0, 255, 0, 0, 255, 128];
        let s = render_images(&[(&rgba, "")], (2, 1, 4), ColorMode::TrueColor, 80);
        assert!(s.starts_with("\x1b[38;2;255;0;0m\x1b[48;2;127;127;255m▀"), "{s:?}");
        let rgb = [255, 0, 0, 0, 0, 255];
        let s = render_images(&[(&rgb, "")], (2, 1, 3), ColorMode::Gray256, 80);
        assert!(s.starts_with("\x1b[38;5;196m\x1b[48;5;21m▀"), "{s:?}");
        assert_eq!((palette_index([128, 128, 128]), palette_index([0, 100, 0])), (244, 22));
    }
}
