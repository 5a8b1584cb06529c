//! Page content streams, written straight to bytes.
//!
//! The report is laid out as printpdf operations ([`Op`]). printpdf would
//! turn every operator into lopdf objects and format each number through
//! `core::fmt`, which was half the time of a whole report. This writes the
//! operators the report uses with exactly the bytes printpdf writes for them
//! (a test renders whole reports both ways and compares the files), and
//! refuses any other operation rather than guessing.

use std::collections::BTreeMap;

use printpdf::{Color, Line, LinePoint, Op, PaintMode, PdfFontHandle, Polygon, TextItem, WindingOrder};

use super::{BOLD_ID, Face, Fonts, REGULAR_ID, RenderError};

/// The glyphs each face shows, with the character each stands for: what
/// the font subsets, widths and ToUnicode maps are made from.
pub(super) type UsedGlyphs = [BTreeMap<u16, char>; 2];

/// The glyphs shown so far, one slot per glyph id: a page shows thousands
/// of characters and a map lookup for each was a tenth of the page's time.
pub(super) struct GlyphUse {
    faces: [Vec<Option<char>>; 2],
}

impl GlyphUse {
    pub(super) fn new() -> Self {
        GlyphUse { faces: [Vec::new(), Vec::new()] }
    }

    fn record(&mut self, face: Face, glyph: u16, c: char) {
        let slots = &mut self.faces[face.index()];
        let g = usize::from(glyph);
        if g >= slots.len() {
            slots.resize(g + 1, None);
        }
        // The last character shown wins, as in printpdf.
        slots[g] = Some(c);
    }

    pub(super) fn into_map(self) -> UsedGlyphs {
        self.faces.map(|slots| {
            slots.into_iter().enumerate().filter_map(|(g, c)| Some((u16::try_from(g).ok()?, c?))).collect()
        })
    }
}

/// Writes one page's operators, as printpdf would, and records the glyphs
/// they show in `used`.
pub(super) fn encode(ops: &[Op], fonts: &Fonts, used: &mut GlyphUse) -> Result<Vec<u8>, RenderError> {
    let mut w = Writer { out: Vec::with_capacity(ops.len() * 24), first: true };
    let mut face = None;
    for op in ops {
        match op {
            Op::StartTextSection => w.op(b"BT"),
            Op::EndTextSection => w.op(b"ET"),
            Op::SetFont { font, size } => {
                let PdfFontHandle::External(id) = font else { return Err(unsupported("a built-in font")) };
                face = match id.0.as_str() {
                    REGULAR_ID => Some(Face::Regular),
                    BOLD_ID => Some(Face::Bold),
                    _ => return Err(unsupported("an unknown font")),
                };
                w.start();
                w.out.push(b'/');
                w.out.extend_from_slice(id.0.as_bytes());
                w.out.push(b' ');
                w.number(size.0);
                w.out.extend_from_slice(b"Tf");
            }
            Op::SetFillColor { col } => w.color(col, b"rg")?,
            Op::SetOutlineColor { col } => w.color(col, b"RG")?,
            Op::SetOutlineThickness { pt } => {
                w.start();
                w.number(pt.0);
                w.out.push(b'w');
            }
            Op::SetTextMatrix { matrix } => {
                w.start();
                for v in matrix.as_array() {
                    w.number(v);
                }
                w.out.extend_from_slice(b"Tm");
            }
            Op::ShowText { items } => {
                let [TextItem::Text(text)] = items.as_slice() else {
                    return Err(unsupported("a text run other than one string"));
                };
                let face = face.ok_or_else(|| unsupported("text before a font is set"))?;
                w.start();
                w.out.push(b'<');
                for c in text.chars() {
                    // A character the font lacks shows glyph 0, as in printpdf.
                    let glyph = fonts.glyph(face, c);
                    if let Some(g) = glyph {
                        used.record(face, g, c);
                    }
                    w.hex(glyph.unwrap_or(0));
                }
                w.out.extend_from_slice(b"> Tj");
            }
            Op::DrawLine { line } => w.line(line)?,
            Op::DrawPolygon { polygon } => w.polygon(polygon)?,
            _ => return Err(unsupported("an operator the report does not use")),
        }
    }
    Ok(w.out)
}

fn unsupported(what: &str) -> RenderError {
    RenderError::Pdf(crate::pdf::PdfError(format!("the page content writer does not support {what}")))
}

/// Operators one per line, each operand followed by a space (lopdf's layout).
struct Writer {
    out: Vec<u8>,
    first: bool,
}

impl Writer {
    /// Starts an operator on its own line.
    fn start(&mut self) {
        if self.first {
            self.first = false;
        } else {
            self.out.push(b'\n');
        }
    }

    fn op(&mut self, operator: &[u8]) {
        self.start();
        self.out.extend_from_slice(operator);
    }

    /// One operand and its separating space.
    fn number(&mut self, v: f32) {
        write_real(&mut self.out, v);
        self.out.push(b' ');
    }

    fn hex(&mut self, glyph: u16) {
        const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
        for shift in [12, 8, 4, 0] {
            self.out.push(DIGITS[usize::from((glyph >> shift) & 0xF)]);
        }
    }

    fn color(&mut self, col: &Color, operator: &[u8]) -> Result<(), RenderError> {
        let Color::Rgb(rgb) = col else { return Err(unsupported("a colour other than RGB")) };
        self.start();
        self.number(rgb.r);
        self.number(rgb.g);
        self.number(rgb.b);
        self.out.extend_from_slice(operator);
        Ok(())
    }

    /// `x y m`, then `x y l` for each further point.
    fn path(&mut self, points: &[LinePoint]) -> Result<(), RenderError> {
        for (i, p) in points.iter().enumerate() {
            if p.bezier {
                return Err(unsupported("curves"));
            }
            self.start();
            self.number(p.p.x.0);
            self.number(p.p.y.0);
            self.out.push(if i == 0 { b'm' } else { b'l' });
        }
        Ok(())
    }

    fn line(&mut self, line: &Line) -> Result<(), RenderError> {
        if line.points.is_empty() {
            return Ok(());
        }
        self.path(&line.points)?;
        if line.is_closed {
            self.op(b"h");
        }
        self.op(b"S");
        Ok(())
    }

    /// Every ring, one closing `h` for all, then one paint operator.
    fn polygon(&mut self, polygon: &Polygon) -> Result<(), RenderError> {
        if polygon.rings.is_empty() {
            return Ok(());
        }
        for ring in &polygon.rings {
            self.path(&ring.points)?;
        }
        self.op(b"h");
        match (polygon.mode, polygon.winding_order) {
            (PaintMode::Fill, WindingOrder::NonZero) => self.op(b"f"),
            (PaintMode::Fill, WindingOrder::EvenOdd) => self.op(b"f*"),
            (PaintMode::Stroke, _) => self.op(b"S"),
            _ => return Err(unsupported("clipping or fill-and-stroke")),
        }
        Ok(())
    }
}

/// Writes `v` as `format!("{v}")` does (the shortest digits that read back
/// as `v`, never an exponent), which is how lopdf writes a real.
///
/// The layout places everything on a 1/100 pt grid and its colours have at
/// most three decimals, so nearly every number takes the fast path: a value
/// below 8192 whose nearest three-decimal number `n / 1000` reads back as
/// `v` is written as that number. Below 8192 an `f32` step is under 0.001,
/// so no other number of three or fewer decimals reads back as `v`, and the
/// shortest form is `n / 1000` without trailing zeros. Anything else goes
/// through `core::fmt`.
fn write_real(out: &mut Vec<u8>, v: f32) {
    let scaled = (f64::from(v) * 1000.0).round();
    if v.abs() < 8192.0 && !(v == 0.0 && v.is_sign_negative()) {
        #[allow(clippy::cast_possible_truncation, reason = "|scaled| < 8,192,001 by the check above")]
        let n = scaled as i32;
        #[allow(clippy::cast_precision_loss, reason = "|n| < 2^24: exact in f32")]
        let exact = n as f32 / 1000.0 == v;
        if exact {
            if n < 0 {
                out.push(b'-');
            }
            let n = n.unsigned_abs();
            write_integer(out, n / 1000);
            let mut frac = n % 1000;
            if frac != 0 {
                out.push(b'.');
                let mut digits = 3;
                while frac.is_multiple_of(10) {
                    frac /= 10;
                    digits -= 1;
                }
                let start = out.len();
                out.resize(start + digits, b'0');
                for slot in out[start..].iter_mut().rev() {
                    *slot = b'0' + (frac % 10) as u8;
                    frac /= 10;
                }
            }
            return;
        }
    }
    use std::io::Write;
    let _ = write!(out, "{v}");
}

fn write_integer(out: &mut Vec<u8>, mut n: u32) {
    let mut digits = [0u8; 10];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn real(v: f32) -> String {
        let mut out = Vec::new();
        write_real(&mut out, v);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn reals_as_core_fmt_writes_them() {
        for v in [0.0, -0.0, 1.0, -1.0, 0.5, 0.05, 0.968, 841.89, 787.89, 12.5, 1000.0, 8191.999, 8192.0, 1e-7, 3.4e38]
        {
            assert_eq!(real(v), format!("{v}"), "{v:?}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]

        #[test]
        fn grid_values_match_core_fmt(n in -9_000_000i32..9_000_000, scale in prop::sample::select(vec![1.0f32, 10.0, 100.0, 1000.0])) {
            let v = n as f32 / scale;
            prop_assert_eq!(real(v), format!("{v}"));
        }

        #[test]
        fn any_value_matches_core_fmt(bits in any::<u32>()) {
            let v = f32::from_bits(bits);
            prop_assume!(v.is_finite());
            prop_assert_eq!(real(v), format!("{v}"));
        }

        #[test]
        fn layout_sums_match_core_fmt(a in 0.0f32..900.0, b in 0.0f32..900.0) {
            let v = 841.89 - a + b * 0.35;
            prop_assert_eq!(real(v), format!("{v}"));
        }
    }
}
