//! The two faces of DejaVu Sans: measuring text (advance widths, word
//! wrap, the size at which a value fits one line) and which characters
//! they can show.

use super::*;

pub(super) const REGULAR_TTF: &[u8] = include_bytes!("../../../templates/report/fonts/DejaVuSans.ttf");
pub(super) const BOLD_TTF: &[u8] = include_bytes!("../../../templates/report/fonts/DejaVuSans-Bold.ttf");

/// Resource names; their first six letters are the subset tag.
pub(super) const REGULAR_ID: &str = "DJVSRG";
pub(super) const BOLD_ID: &str = "DJVSBD";

/// Advance widths of one face, for measuring text.
pub(super) struct Metrics {
    pub(super) units_per_em: f32,
    /// Advance of each code point below `TABLE`, in font units.
    pub(super) table: Vec<u16>,
    /// Glyph of each code point below `TABLE`.
    pub(super) glyphs: Vec<Option<u16>>,
    pub(super) notdef: u16,
}

pub(super) const TABLE: u32 = 0x0600;

impl Metrics {
    pub(super) fn new(font: &ParsedFont) -> Self {
        let notdef = font.get_horizontal_advance(0);
        let glyphs: Vec<Option<u16>> = (0..TABLE).map(|c| font.lookup_glyph_index(c)).collect();
        let table = glyphs.iter().map(|g| g.map(|g| font.get_horizontal_advance(g)).unwrap_or(notdef)).collect();
        let upem = font.pdf_font_metrics.units_per_em;
        Metrics { units_per_em: if upem == 0 { 1000.0 } else { f32::from(upem) }, table, glyphs, notdef }
    }
}

/// The two embedded faces (DejaVu Sans and DejaVu Sans Bold), parsed once.
pub struct Fonts {
    pub(super) regular: ParsedFont,
    pub(super) bold: ParsedFont,
    pub(super) regular_metrics: Metrics,
    pub(super) bold_metrics: Metrics,
    /// The font programs' tables, for subsetting.
    pub(super) regular_program: FontProgram,
    pub(super) bold_program: FontProgram,
    /// What printpdf is given: the faces without outlines (see
    /// [`FontProgram::skeleton`]).
    pub(super) regular_skeleton: ParsedFont,
    pub(super) bold_skeleton: ParsedFont,
}

impl std::fmt::Debug for Fonts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Fonts(DejaVu Sans, DejaVu Sans Bold)")
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Face {
    Regular,
    Bold,
}

impl Face {
    /// Where this face's entry is in pairs such as [`UsedGlyphs`].
    pub(super) fn index(self) -> usize {
        match self {
            Face::Regular => 0,
            Face::Bold => 1,
        }
    }
}

impl Fonts {
    /// Parses the embedded fonts (about a millisecond; prefer [`Fonts::embedded`]).
    pub fn load() -> Result<Fonts, RenderError> {
        let regular =
            ParsedFont::from_bytes(REGULAR_TTF, 0, &mut Vec::new()).ok_or(RenderError::Font("DejaVu Sans"))?;
        let bold = ParsedFont::from_bytes(BOLD_TTF, 0, &mut Vec::new()).ok_or(RenderError::Font("DejaVu Sans Bold"))?;
        let regular_metrics = Metrics::new(&regular);
        let bold_metrics = Metrics::new(&bold);
        let regular_program = FontProgram::parse(REGULAR_TTF).ok_or(RenderError::Font("DejaVu Sans"))?;
        let bold_program = FontProgram::parse(BOLD_TTF).ok_or(RenderError::Font("DejaVu Sans Bold"))?;
        let skeleton = |program: &FontProgram, name| {
            let bytes = program.skeleton().ok_or(RenderError::Font(name))?;
            ParsedFont::from_bytes(&bytes, 0, &mut Vec::new()).ok_or(RenderError::Font(name))
        };
        let regular_skeleton = skeleton(&regular_program, "DejaVu Sans")?;
        let bold_skeleton = skeleton(&bold_program, "DejaVu Sans Bold")?;
        Ok(Fonts {
            regular,
            bold,
            regular_metrics,
            bold_metrics,
            regular_program,
            bold_program,
            regular_skeleton,
            bold_skeleton,
        })
    }

    /// The process-wide fonts, parsed on first use.
    pub fn embedded() -> Result<&'static Fonts, RenderError> {
        static FONTS: OnceLock<Result<Fonts, RenderError>> = OnceLock::new();
        match FONTS.get_or_init(Fonts::load) {
            Ok(f) => Ok(f),
            Err(RenderError::Font(name)) => Err(RenderError::Font(name)),
            Err(e) => Err(pdf_error(e)),
        }
    }

    pub(super) fn face(&self, face: Face) -> (&ParsedFont, &Metrics) {
        match face {
            Face::Regular => (&self.regular, &self.regular_metrics),
            Face::Bold => (&self.bold, &self.bold_metrics),
        }
    }

    /// The glyph that shows `c`, as the font's cmap says.
    pub(super) fn glyph(&self, face: Face, c: char) -> Option<u16> {
        let (font, m) = self.face(face);
        let c = u32::from(c);
        match m.glyphs.get(c as usize) {
            Some(g) => *g,
            None => font.lookup_glyph_index(c),
        }
    }

    /// Width of `s` in points at `size`.
    pub(super) fn width(&self, face: Face, size: f32, s: &str) -> f32 {
        self.points(face, size, self.units(face, s))
    }

    /// Advance of `s` in font units: widths add up (no kerning), so a line
    /// is measured word by word.
    pub(super) fn units(&self, face: Face, s: &str) -> u32 {
        let (font, m) = self.face(face);
        s.chars()
            .map(|c| {
                let c = u32::from(c);
                let adv = match m.table.get(c as usize) {
                    Some(a) => *a,
                    None => font.lookup_glyph_index(c).map(|g| font.get_horizontal_advance(g)).unwrap_or(m.notdef),
                };
                u32::from(adv)
            })
            .sum()
    }

    pub(super) fn points(&self, face: Face, size: f32, units: u32) -> f32 {
        let m = match face {
            Face::Regular => &self.regular_metrics,
            Face::Bold => &self.bold_metrics,
        };
        units as f32 * size / m.units_per_em
    }

    /// The largest size up to `max` (in steps of 0.25 pt) at which `s` fits
    /// on one line of `width` points: what must never wrap, such as a report
    /// number, is set smaller instead.
    pub(super) fn one_line_size(&self, face: Face, max: f32, s: &str, width: f32) -> f32 {
        let at_one = self.width(face, 1.0, s);
        if at_one <= 0.0 || at_one * max <= width {
            return max;
        }
        ((width / at_one) * 4.0).floor() / 4.0
    }

    /// Greedy word wrap of `s` to `width` points; words wider than a line
    /// are broken between characters.
    pub(super) fn wrap(&self, face: Face, size: f32, s: &str, width: f32) -> Vec<String> {
        let s = printable(s);
        let space = self.units(face, " ");
        let mut lines = Vec::new();
        let mut line = String::new();
        let mut line_units = 0;
        for word in s.split_whitespace() {
            let word_units = self.units(face, word);
            let candidate = if line.is_empty() { word_units } else { line_units + space + word_units };
            if self.points(face, size, candidate) <= width {
                if !line.is_empty() {
                    line.push(' ');
                }
                line.push_str(word);
                line_units = candidate;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            if self.points(face, size, word_units) <= width {
                line.push_str(word);
                line_units = word_units;
            } else {
                for c in word.chars() {
                    line.push(c);
                    if self.width(face, size, &line) > width {
                        line.pop();
                        lines.push(std::mem::take(&mut line));
                        line.push(c);
                    }
                }
                line_units = self.units(face, &line);
            }
        }
        if !line.is_empty() || lines.is_empty() {
            lines.push(line);
        }
        lines
    }
}

/// Whether DejaVu Sans lacks glyphs for `c`: CJK ideographs, kana, hangul,
/// CJK punctuation and full-width forms.
pub(super) fn is_cjk(c: char) -> bool {
    matches!(u32::from(c),
        0x2E80..=0x9FFF | 0xA960..=0xA97F | 0xAC00..=0xD7FF | 0xF900..=0xFAFF | 0xFE30..=0xFE4F
        | 0xFF00..=0xFFEF | 0x1_B000..=0x1_B16F | 0x2_0000..=0x3_FFFF)
}

/// The text as printed: CJK characters (which the embedded font cannot show)
/// removed and the spaces around them collapsed, so `国家电网 State Grid
/// Shanghai` prints as `State Grid Shanghai`. The full text stays in
/// `report.json`.
pub fn printable(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_cjk) {
        return Cow::Borrowed(s);
    }
    let kept: String = s.chars().map(|c| if is_cjk(c) { ' ' } else { c }).collect();
    let words: Vec<&str> = kept.split_whitespace().collect();
    if words.is_empty() { Cow::Borrowed("(see report.json)") } else { Cow::Owned(words.join(" ")) }
}
