//! Text in the bundled font, laid out and rasterised with `ab_glyph`: each glyph sits at the pen
//! position plus its left side bearing, the pen moves by the unrounded advance and the kerning.
//!
//! plotters' own `ab_glyph` text (0.3.7) places every glyph's ink box at the pen position,
//! dropping the side bearing, and truncates the pen to whole pixels: narrow letters with wide
//! bearings ("i", "l") pull their neighbours in and leave holes after them ("train im ages").

use std::sync::OnceLock;

use ab_glyph::{point, Font, FontRef, PxScale, ScaleFont};

/// The bundled font (DejaVu Sans, assets/fonts/DejaVu-LICENSE): text works on machines
/// without system fonts.
pub(crate) static FONT_BYTES: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

fn font() -> &'static FontRef<'static> {
    static FONT: OnceLock<FontRef<'static>> = OnceLock::new();
    FONT.get_or_init(|| FontRef::try_from_slice(FONT_BYTES).expect("the bundled DejaVuSans.ttf is a valid font"))
}

/// The box `text` occupies at `size` pixels (ascent to descent): `(width, height)`, the width
/// being the sum of advances and kerning, rounded up.
pub(crate) fn text_size(text: &str, size: f64) -> (u32, u32) {
    let (advance, height) = (pen_end(text, size), font().as_scaled(scale(size)).height());
    (advance.ceil().max(0.0) as u32, height.ceil().max(0.0) as u32)
}

/// Calls `ink(x, y, coverage)` for every pixel of `text` at `size` pixels, `(x, y)` relative to the
/// top-left corner of its box (the baseline lies `ascent` below the top), starting the pen `x0`
/// pixels to the right of it (fractions keep sub-pixel positions exact).
pub(crate) fn rasterise(text: &str, size: f64, x0: f32, mut ink: impl FnMut(i32, i32, f32)) {
    let font = font().as_scaled(scale(size));
    let baseline = font.ascent();
    let mut pen = x0;
    let mut prev = None;
    for c in text.chars() {
        let id = font.glyph_id(c);
        if let Some(p) = prev {
            pen += font.kern(p, id);
        }
        prev = Some(id);
        let glyph = id.with_scale_and_position(scale(size), point(pen, baseline));
        if let Some(outline) = font.outline_glyph(glyph) {
            let b = outline.px_bounds();
            let (left, top) = (b.min.x as i32, b.min.y as i32);
            outline.draw(|x, y, coverage| ink(left + x as i32, top + y as i32, coverage));
        }
        pen += font.h_advance(id);
    }
}

/// Where the pen stands after `text`: its advance width.
fn pen_end(text: &str, size: f64) -> f32 {
    let font = font().as_scaled(scale(size));
    let mut prev = None;
    text.chars().fold(0.0, |pen, c| {
        let id = font.glyph_id(c);
        let kern = prev.map_or(0.0, |p| font.kern(p, id));
        prev = Some(id);
        pen + kern + font.h_advance(id)
    })
}

/// `size` is the height from descent to ascent, in pixels (what plotters calls the font size).
fn scale(size: f64) -> PxScale {
    PxScale::from(size.clamp(0.0, 4096.0) as f32)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The ink of `text` at `size` as columns: how much coverage each column holds.
    fn columns(text: &str, size: f64) -> Vec<f32> {
        let mut cols = vec![0.0; text_size(text, size).0 as usize + 8];
        rasterise(text, size, 4.0, |x, _, c| cols[x as usize] += c);
        cols
    }

    /// The first and last column holding ink past `threshold`, per run of inked columns.
    fn runs(cols: &[f32], threshold: f32) -> Vec<(usize, usize)> {
        let mut out: Vec<(usize, usize)> = Vec::new();
        for (x, _) in cols.iter().enumerate().filter(|(_, &c)| c > threshold) {
            match out.last_mut() {
                Some(run) if run.1 + 1 == x => run.1 = x,
                _ => out.push((x, x)),
            }
        }
        out
    }

    #[test]
    fn glyphs_sit_at_their_side_bearings() {
        // At 40 px "im" is two ink runs; the hole between them is the right bearing of "i" plus
        // the left bearing of "m", as the font's metrics say (plotters drew it ~2 px narrower).
        let font = font().as_scaled(scale(40.0));
        let (i, m) = (font.glyph_id('i'), font.glyph_id('m'));
        let outline_i = font.outline_glyph(i.with_scale_and_position(scale(40.0), point(0.0, 0.0))).unwrap();
        let ink_right_of_i = outline_i.px_bounds().max.x;
        let expected_gap = font.h_advance(i) + font.kern(i, m) + font.h_side_bearing(m) - ink_right_of_i;
        let r = runs(&columns("im", 40.0), 0.5);
        assert_eq!(r.len(), 2, "{r:?}");
        let gap = (r[1].0 - r[0].1 - 1) as f32;
        assert!((gap - expected_gap).abs() <= 1.0, "gap {gap} px, the font says {expected_gap:.2}");
        assert!((3.0..=6.0).contains(&gap), "{gap}");
    }

    #[test]
    fn the_box_is_the_advance_and_the_font_height() {
        assert_eq!(text_size("", 12.0), (0, 12));
        let (w, h) = text_size("Ankle boot", 12.0);
        assert_eq!(h, 12, "ascent to descent is the size");
        assert!((55..=65).contains(&w), "{w}");
        assert_eq!(text_size("mm", 20.0).0, (2.0 * pen_end("m", 20.0)).ceil() as u32);
    }
}
