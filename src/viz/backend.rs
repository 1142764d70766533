//! plotters' bitmap backend with kiln's text (`viz::glyphs`): every shape goes to
//! `BitMapBackend` unchanged, every piece of text (captions, tick labels, legends, rotated axis
//! names) is measured and drawn by `glyphs`, so a chart and a hand-drawn label look alike.

use plotters::prelude::BitMapBackend;
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingBackend, DrawingErrorKind};

use super::glyphs;

type BitMapError = <BitMapBackend<'static> as DrawingBackend>::ErrorType;

/// A [`BitMapBackend`] over an RGB buffer whose text is drawn by `viz::glyphs`.
pub struct GlyphBackend<'a> {
    inner: BitMapBackend<'a>,
}

impl<'a> GlyphBackend<'a> {
    /// Draws on `rgb`, `size.0 × size.1` pixels, three bytes each.
    pub fn with_buffer(rgb: &'a mut [u8], size: (u32, u32)) -> GlyphBackend<'a> {
        GlyphBackend { inner: BitMapBackend::with_buffer(rgb, size) }
    }
}

impl DrawingBackend for GlyphBackend<'_> {
    type ErrorType = BitMapError;

    fn get_size(&self) -> (u32, u32) {
        self.inner.get_size()
    }

    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<BitMapError>> {
        self.inner.ensure_prepared()
    }

    fn present(&mut self) -> Result<(), DrawingErrorKind<BitMapError>> {
        self.inner.present()
    }

    fn draw_pixel(&mut self, point: BackendCoord, color: BackendColor) -> Result<(), DrawingErrorKind<BitMapError>> {
        self.inner.draw_pixel(point, color)
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<BitMapError>> {
        self.inner.draw_line(from, to, style)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<BitMapError>> {
        self.inner.draw_rect(upper_left, bottom_right, style, fill)
    }

    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        size: (u32, u32),
        src: &[u8],
    ) -> Result<(), DrawingErrorKind<BitMapError>> {
        self.inner.blit_bitmap(pos, size, src)
    }

    /// The text's box hangs from `pos` as the style's anchor says, then turns with its transform
    /// about `pos` (a y-axis name reads bottom to top).
    fn draw_text<S: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<BitMapError>> {
        let color = style.color();
        if color.alpha == 0.0 {
            return Ok(());
        }
        let size = style.size();
        let width = glyphs::text_size(text, size).0 as f32;
        let height = glyphs::text_size("", size).1 as i32;
        // The horizontal offset stays fractional (glyphs keep sub-pixel positions).
        let x0 = match style.anchor().h_pos {
            HPos::Left => 0.0,
            HPos::Center => -width / 2.0,
            HPos::Right => -width,
        };
        let dy = match style.anchor().v_pos {
            VPos::Top => 0,
            VPos::Center => -height / 2,
            VPos::Bottom => -height,
        };
        let turn = style.transform();
        let mut result = Ok(());
        glyphs::rasterise(text, size, x0, |x, y, coverage| {
            let (x, y) = turn.transform(x, y + dy);
            let ink = BackendColor { alpha: color.alpha * f64::from(coverage.min(1.0)), rgb: color.rgb };
            if result.is_ok() && coverage > 0.0 {
                result = self.inner.draw_pixel((pos.0 + x, pos.1 + y), ink);
            }
        });
        result
    }

    fn estimate_text_size<S: BackendTextStyle>(
        &self,
        text: &str,
        style: &S,
    ) -> Result<(u32, u32), DrawingErrorKind<BitMapError>> {
        Ok(glyphs::text_size(text, style.size()))
    }
}
