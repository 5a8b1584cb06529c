//! The report PDF: A4, English, laid out for an immigration officer.
//!
//! Pages are laid out first (text measured with the font's own advance
//! widths), then every page gets its footer ("Page X of Y") once the count is
//! known. The pages are printpdf operations; [`content`] writes them as
//! printpdf would, only faster. printpdf makes the document (page tree,
//! resources, font dictionaries; classic xref), our subsets of DejaVu replace
//! its font programs, and lopdf then replaces printpdf's random document id
//! and 1970 dates, sets the document information and attaches `report.json`.
//! The same data gives the same bytes.

use std::borrow::Cow;
use std::sync::OnceLock;

use lopdf::{Document, Object};
use printpdf::{
    Color, FontId, Line, LinePoint, Op, PaintMode, ParsedFont, PdfDocument, PdfFont, PdfFontHandle, PdfPage,
    PdfSaveOptions, Point, Polygon, PolygonRing, Pt, Rgb, TextItem, TextMatrix, WindingOrder,
};
use printpdf_lopdf::{
    Dictionary as PDictionary, Document as PDocument, Object as PObject, Stream as PStream,
    StringFormat as PStringFormat,
};
use sha2::{Digest, Sha256};

use super::data::{Amount, AssetFigures, ReportData};
use super::subset::FontProgram;
use crate::domain::Currency;

mod content;

use content::{GlyphUse, UsedGlyphs};

pub use super::sample::sample_report;

/// The name of the attached report data.
pub const REPORT_JSON_NAME: &str = "report.json";

const REGULAR_TTF: &[u8] = include_bytes!("../../templates/report/fonts/DejaVuSans.ttf");
const BOLD_TTF: &[u8] = include_bytes!("../../templates/report/fonts/DejaVuSans-Bold.ttf");

/// Resource names; their first six letters are the subset tag.
const REGULAR_ID: &str = "DJVSRG";
const BOLD_ID: &str = "DJVSBD";

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("cannot load the font {0}")]
    Font(&'static str),
    #[error("cannot make the QR code: {0}")]
    Qr(String),
    #[error("cannot write the PDF: {0}")]
    Pdf(String),
    #[error("the PDF has no attached {REPORT_JSON_NAME}")]
    NoReportJson,
    #[error("cannot encode the report data: {0}")]
    Json(#[from] serde_json::Error),
}

fn pdf_error(e: impl std::fmt::Display) -> RenderError {
    RenderError::Pdf(e.to_string())
}

// ---------------------------------------------------------------------------
// Fonts and measuring

/// Advance widths of one face, for measuring text.
struct Metrics {
    units_per_em: f32,
    /// Advance of each code point below `TABLE`, in font units.
    table: Vec<u16>,
    /// Glyph of each code point below `TABLE`.
    glyphs: Vec<Option<u16>>,
    notdef: u16,
}

const TABLE: u32 = 0x0600;

impl Metrics {
    fn new(font: &ParsedFont) -> Self {
        let notdef = font.get_horizontal_advance(0);
        let glyphs: Vec<Option<u16>> = (0..TABLE).map(|c| font.lookup_glyph_index(c)).collect();
        let table = glyphs.iter().map(|g| g.map(|g| font.get_horizontal_advance(g)).unwrap_or(notdef)).collect();
        let upem = font.pdf_font_metrics.units_per_em;
        Metrics { units_per_em: if upem == 0 { 1000.0 } else { f32::from(upem) }, table, glyphs, notdef }
    }
}

/// The two embedded faces (DejaVu Sans and DejaVu Sans Bold), parsed once.
pub struct Fonts {
    regular: ParsedFont,
    bold: ParsedFont,
    regular_metrics: Metrics,
    bold_metrics: Metrics,
    /// The font programs' tables, for subsetting.
    regular_program: FontProgram,
    bold_program: FontProgram,
    /// What printpdf is given: the faces without outlines (see
    /// [`FontProgram::skeleton`]).
    regular_skeleton: ParsedFont,
    bold_skeleton: ParsedFont,
}

impl std::fmt::Debug for Fonts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Fonts(DejaVu Sans, DejaVu Sans Bold)")
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Face {
    Regular,
    Bold,
}

impl Face {
    /// Where this face's entry is in pairs such as [`UsedGlyphs`].
    fn index(self) -> usize {
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
            Err(e) => Err(RenderError::Pdf(e.to_string())),
        }
    }

    fn face(&self, face: Face) -> (&ParsedFont, &Metrics) {
        match face {
            Face::Regular => (&self.regular, &self.regular_metrics),
            Face::Bold => (&self.bold, &self.bold_metrics),
        }
    }

    /// The glyph that shows `c`, as the font's cmap says.
    fn glyph(&self, face: Face, c: char) -> Option<u16> {
        let (font, m) = self.face(face);
        let c = u32::from(c);
        match m.glyphs.get(c as usize) {
            Some(g) => *g,
            None => font.lookup_glyph_index(c),
        }
    }

    /// Width of `s` in points at `size`.
    fn width(&self, face: Face, size: f32, s: &str) -> f32 {
        self.points(face, size, self.units(face, s))
    }

    /// Advance of `s` in font units: widths add up (no kerning), so a line
    /// is measured word by word.
    fn units(&self, face: Face, s: &str) -> u32 {
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

    fn points(&self, face: Face, size: f32, units: u32) -> f32 {
        let m = match face {
            Face::Regular => &self.regular_metrics,
            Face::Bold => &self.bold_metrics,
        };
        units as f32 * size / m.units_per_em
    }

    /// The largest size up to `max` (in steps of 0.25 pt) at which `s` fits
    /// on one line of `width` points: what must never wrap, such as a report
    /// number, is set smaller instead.
    fn one_line_size(&self, face: Face, max: f32, s: &str, width: f32) -> f32 {
        let at_one = self.width(face, 1.0, s);
        if at_one <= 0.0 || at_one * max <= width {
            return max;
        }
        ((width / at_one) * 4.0).floor() / 4.0
    }

    /// Greedy word wrap of `s` to `width` points; words wider than a line
    /// are broken between characters.
    fn wrap(&self, face: Face, size: f32, s: &str, width: f32) -> Vec<String> {
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
fn is_cjk(c: char) -> bool {
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

// ---------------------------------------------------------------------------
// Page geometry and drawing

const PAGE_W: f32 = 595.276;
const PAGE_H: f32 = 841.89;
const MARGIN_X: f32 = 48.0;
const TOP: f32 = 54.0;
/// Lowest baseline of content; the footer lives below.
const BOTTOM: f32 = PAGE_H - 62.0;
const CONTENT_W: f32 = PAGE_W - 2.0 * MARGIN_X;
const RIGHT: f32 = MARGIN_X + CONTENT_W;

#[derive(Clone, Copy)]
struct Rgb3(f32, f32, f32);

const INK: Rgb3 = Rgb3(0.11, 0.13, 0.16);
const MUTED: Rgb3 = Rgb3(0.40, 0.43, 0.48);
const ACCENT: Rgb3 = Rgb3(0.05, 0.24, 0.43);
const RULE: Rgb3 = Rgb3(0.78, 0.80, 0.83);
const HEAD_FILL: Rgb3 = Rgb3(0.91, 0.94, 0.97);
const ZEBRA: Rgb3 = Rgb3(0.968, 0.973, 0.98);
const PANEL: Rgb3 = Rgb3(0.955, 0.968, 0.985);
const BAR: Rgb3 = Rgb3(0.20, 0.42, 0.64);
const GOOD: Rgb3 = Rgb3(0.08, 0.45, 0.22);
const WARN: Rgb3 = Rgb3(0.70, 0.40, 0.0);
const BAD: Rgb3 = Rgb3(0.72, 0.10, 0.10);

fn color(c: Rgb3) -> Color {
    Color::Rgb(Rgb { r: c.0, g: c.1, b: c.2, icc_profile: None })
}

fn font_handle(face: Face) -> PdfFontHandle {
    PdfFontHandle::External(FontId(match face {
        Face::Regular => REGULAR_ID.to_owned(),
        Face::Bold => BOLD_ID.to_owned(),
    }))
}

/// `v` on the 1/100 pt grid everything is placed on: a shift no eye or
/// printer can see, and numbers the content writer writes without `fmt`.
fn grid(v: f32) -> f32 {
    (v * 100.0).round() / 100.0
}

/// A point from top-left based coordinates (y grows downwards).
fn pt(x: f32, y: f32) -> Point {
    Point { x: Pt(grid(x)), y: Pt(grid(PAGE_H - y)) }
}

/// Right or left alignment of a text run.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Align {
    Left,
    Right,
}

/// Pages being laid out: drawing commands in top-left coordinates.
struct Layout<'f> {
    fonts: &'f Fonts,
    pages: Vec<Vec<Op>>,
    /// The baseline cursor on the current page, from the top.
    y: f32,
}

impl<'f> Layout<'f> {
    fn new(fonts: &'f Fonts) -> Self {
        Layout { fonts, pages: vec![Vec::new()], y: TOP }
    }

    fn ops(&mut self) -> &mut Vec<Op> {
        if self.pages.is_empty() {
            self.pages.push(Vec::new());
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    #[allow(clippy::too_many_arguments, reason = "position, style and text of one run, as printed")]
    fn text(&mut self, x: f32, y: f32, face: Face, size: f32, c: Rgb3, s: &str, align: Align) {
        let s = printable(s);
        if s.is_empty() {
            // Nothing to show; an empty run would only be noise in the page.
            return;
        }
        let x = match align {
            Align::Left => x,
            Align::Right => x - self.fonts.width(face, size, &s),
        };
        let ops = self.ops();
        ops.push(Op::StartTextSection);
        ops.push(Op::SetFont { font: font_handle(face), size: Pt(size) });
        ops.push(Op::SetFillColor { col: color(c) });
        ops.push(Op::SetTextMatrix { matrix: TextMatrix::Translate(Pt(grid(x)), Pt(grid(PAGE_H - y))) });
        ops.push(Op::ShowText { items: vec![TextItem::Text(s.into_owned())] });
        ops.push(Op::EndTextSection);
    }

    fn fill_rect(&mut self, x: f32, y: f32, w: f32, h: f32, c: Rgb3) {
        let ops = self.ops();
        ops.push(Op::SetFillColor { col: color(c) });
        ops.push(Op::DrawPolygon { polygon: rects_polygon(&[(x, y, w, h)]) });
    }

    fn line(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, width: f32, c: Rgb3) {
        let ops = self.ops();
        ops.push(Op::SetOutlineColor { col: color(c) });
        ops.push(Op::SetOutlineThickness { pt: Pt(width) });
        ops.push(Op::DrawLine {
            line: Line {
                points: vec![LinePoint { p: pt(x1, y1), bezier: false }, LinePoint { p: pt(x2, y2), bezier: false }],
                is_closed: false,
            },
        });
    }

    fn stroke_rect(&mut self, x: f32, y: f32, w: f32, h: f32, width: f32, c: Rgb3) {
        let ops = self.ops();
        ops.push(Op::SetOutlineColor { col: color(c) });
        ops.push(Op::SetOutlineThickness { pt: Pt(width) });
        let mut polygon = rects_polygon(&[(x, y, w, h)]);
        polygon.mode = PaintMode::Stroke;
        ops.push(Op::DrawPolygon { polygon });
    }

    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = TOP + 22.0;
    }

    /// Starts a new page unless `needed` points fit below the cursor.
    fn ensure(&mut self, needed: f32) -> bool {
        if self.y + needed > BOTTOM {
            self.new_page();
            true
        } else {
            false
        }
    }

    /// A section heading with a rule beneath; keeps `keep` points of the
    /// section with it.
    fn heading(&mut self, title: &str, keep: f32) {
        self.ensure(40.0 + keep);
        self.y += 22.0;
        let y = self.y;
        self.text(MARGIN_X, y, Face::Bold, 12.5, ACCENT, title, Align::Left);
        self.line(MARGIN_X, y + 5.0, RIGHT, y + 5.0, 0.8, ACCENT);
        self.y += 18.0;
    }

    /// A paragraph wrapped to `width`.
    fn paragraph(&mut self, x: f32, width: f32, face: Face, size: f32, c: Rgb3, s: &str) {
        let lead = size * 1.35;
        for line in self.fonts.wrap(face, size, s, width) {
            self.ensure(lead);
            let y = self.y;
            self.text(x, y, face, size, c, &line, Align::Left);
            self.y += lead;
        }
    }

    /// Label above a value that must stay on one line (a report number):
    /// set smaller when it would not fit `width`.
    fn field_one_line(&mut self, x: f32, y: f32, label: &str, value: &str, width: f32) -> f32 {
        self.text(x, y, Face::Regular, 7.0, MUTED, label, Align::Left);
        let size = self.fonts.one_line_size(Face::Bold, FIELD_SIZE, value, width);
        self.text(x, y + 12.0, Face::Bold, size, INK, value, Align::Left);
        24.0
    }

    /// Label above value, at the cursor's row.
    fn field(&mut self, x: f32, y: f32, label: &str, value: &str, width: f32) -> f32 {
        self.text(x, y, Face::Regular, 7.0, MUTED, label, Align::Left);
        let lines = self.fonts.wrap(Face::Bold, FIELD_SIZE, value, width);
        let mut yy = y + 12.0;
        for l in &lines {
            self.text(x, yy, Face::Bold, FIELD_SIZE, INK, l, Align::Left);
            yy += 12.0;
        }
        yy - y
    }
}

/// Drops state changes that change nothing: text runs that follow each other
/// share one `BT … ET`, and a font, colour or line width already in effect is
/// not set again. Every run still places itself with an absolute `Tm`, so
/// the page looks the same with fewer operators to write and compress.
fn compact(ops: Vec<Op>) -> Vec<Op> {
    let mut out: Vec<Op> = Vec::with_capacity(ops.len());
    let mut font: Option<(FontId, Pt)> = None;
    let mut fill: Option<Color> = None;
    let mut stroke: Option<Color> = None;
    let mut width: Option<Pt> = None;
    for op in ops {
        match &op {
            Op::StartTextSection if matches!(out.last(), Some(Op::EndTextSection)) => {
                out.pop();
                continue;
            }
            Op::SetFont { font: PdfFontHandle::External(id), size } => {
                let key = (id.clone(), *size);
                if font.as_ref() == Some(&key) {
                    continue;
                }
                font = Some(key);
            }
            Op::SetFont { .. } => font = None,
            Op::SetFillColor { col } => {
                if fill.as_ref() == Some(col) {
                    continue;
                }
                fill = Some(col.clone());
            }
            Op::SetOutlineColor { col } => {
                if stroke.as_ref() == Some(col) {
                    continue;
                }
                stroke = Some(col.clone());
            }
            Op::SetOutlineThickness { pt } => {
                if width == Some(*pt) {
                    continue;
                }
                width = Some(*pt);
            }
            Op::StartTextSection
            | Op::EndTextSection
            | Op::SetTextMatrix { .. }
            | Op::ShowText { .. }
            | Op::DrawPolygon { .. }
            | Op::DrawLine { .. } => {}
            // Anything else may change the state: forget what is known.
            _ => {
                font = None;
                fill = None;
                stroke = None;
                width = None;
            }
        }
        out.push(op);
    }
    out
}

/// One polygon of axis-aligned rectangles `(x, y_top, w, h)`, filled with
/// the non-zero rule: one path, one fill operator.
fn rects_polygon(rects: &[(f32, f32, f32, f32)]) -> Polygon {
    let rings = rects
        .iter()
        .map(|&(x, y, w, h)| PolygonRing {
            points: [(x, y), (x + w, y), (x + w, y + h), (x, y + h)]
                .into_iter()
                .map(|(px, py)| LinePoint { p: pt(px, py), bezier: false })
                .collect(),
        })
        .collect();
    Polygon { rings, mode: PaintMode::Fill, winding_order: WindingOrder::NonZero }
}

// ---------------------------------------------------------------------------
// Tables

struct Col {
    title: &'static str,
    width: f32,
    align: Align,
}

/// One cell: its lines (already wrapped) and how they look.
struct Cell {
    lines: Vec<(String, Face, Rgb3)>,
}

impl Cell {
    fn plain(s: impl Into<String>) -> Self {
        Cell { lines: vec![(s.into(), Face::Regular, INK)] }
    }
    fn bold(s: impl Into<String>) -> Self {
        Cell { lines: vec![(s.into(), Face::Bold, INK)] }
    }
    fn colored(s: impl Into<String>, c: Rgb3) -> Self {
        Cell { lines: vec![(s.into(), Face::Regular, c)] }
    }
    /// An amount with its value in the authority's currency beneath.
    fn dual(main: &Amount, other: &Amount, face: Face) -> Self {
        Cell { lines: vec![(main.text.clone(), face, INK), (other.text.clone(), Face::Regular, MUTED)] }
    }
}

const TABLE_SIZE: f32 = 7.6;
/// The size of a field's value (bold).
const FIELD_SIZE: f32 = 9.5;
const TABLE_LEAD: f32 = 10.0;
const CELL_PAD: f32 = 4.0;
/// Right-aligned (numeric) cells keep a wider gap to the next column.
const RIGHT_PAD: f32 = 9.0;

impl Layout<'_> {
    fn table_header(&mut self, cols: &[Col]) {
        let h = TABLE_LEAD + 2.0 * CELL_PAD;
        let y = self.y;
        self.fill_rect(MARGIN_X, y, CONTENT_W, h, HEAD_FILL);
        let mut x = MARGIN_X;
        for col in cols {
            let tx = if col.align == Align::Right { x + col.width - RIGHT_PAD } else { x + CELL_PAD };
            self.text(tx, y + CELL_PAD + TABLE_LEAD - 2.6, Face::Bold, 7.2, ACCENT, col.title, col.align);
            x += col.width;
        }
        self.line(MARGIN_X, y + h, RIGHT, y + h, 0.6, RULE);
        self.y += h;
    }

    /// A table that breaks across pages, repeating its header with
    /// `"{continued} (continued)"` above it.
    fn table(&mut self, continued: &str, cols: &[Col], rows: Vec<Vec<Cell>>, last_bold_rule: bool) {
        let row_count = rows.len();
        self.table_header(cols);
        for (i, row) in rows.into_iter().enumerate() {
            // Wrap every line to its column.
            let wrapped: Vec<Vec<(String, Face, Rgb3)>> = row
                .into_iter()
                .zip(cols)
                .map(|(cell, col)| {
                    cell.lines
                        .into_iter()
                        .flat_map(|(s, face, c)| {
                            // Figures are never broken over lines.
                            if col.align == Align::Right {
                                return vec![(printable(&s).into_owned(), face, c)];
                            }
                            self.fonts
                                .wrap(face, TABLE_SIZE, &s, col.width - 2.0 * CELL_PAD)
                                .into_iter()
                                .map(|l| (l, face, c))
                                .collect()
                        })
                        .collect()
                })
                .collect();
            let n = wrapped.iter().map(Vec::len).max().unwrap_or(1).max(1);
            let h = n as f32 * TABLE_LEAD + 2.0 * CELL_PAD - 2.0;
            if self.y + h > BOTTOM {
                self.new_page();
                let y = self.y;
                self.text(MARGIN_X, y, Face::Bold, 9.0, ACCENT, &format!("{continued} (continued)"), Align::Left);
                self.y += 8.0;
                self.table_header(cols);
            }
            let y = self.y;
            let is_total = last_bold_rule && i + 1 == row_count;
            if is_total {
                self.fill_rect(MARGIN_X, y, CONTENT_W, h, HEAD_FILL);
                self.line(MARGIN_X, y, RIGHT, y, 0.9, INK);
            } else if i % 2 == 1 {
                self.fill_rect(MARGIN_X, y, CONTENT_W, h, ZEBRA);
            }
            let mut x = MARGIN_X;
            for (lines, col) in wrapped.iter().zip(cols) {
                let tx = if col.align == Align::Right { x + col.width - RIGHT_PAD } else { x + CELL_PAD };
                for (k, (l, face, c)) in lines.iter().enumerate() {
                    let by = y + CELL_PAD + TABLE_LEAD * (k as f32 + 1.0) - 2.8;
                    self.text(tx, by, *face, TABLE_SIZE, *c, l, col.align);
                }
                x += col.width;
            }
            self.y += h;
        }
        let y = self.y;
        self.line(MARGIN_X, y, RIGHT, y, 0.6, RULE);
    }
}

// ---------------------------------------------------------------------------
// The report

/// The verification URL without its query (the code is printed separately).
fn url_without_query(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or(url)
}

fn group_thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Renders the unsigned report PDF. Deterministic: the same data gives the
/// same bytes.
pub fn render_pdf(data: &ReportData, fonts: &Fonts) -> Result<Vec<u8>, RenderError> {
    render_with(data, fonts, [&fonts.regular_skeleton, &fonts.bold_skeleton], PageWriter::Ours)
}

/// Who writes the page content streams.
#[derive(Clone, Copy, PartialEq, Eq)]
enum PageWriter {
    /// [`content::encode`]: the same bytes, several times faster.
    Ours,
    /// printpdf itself; the tests compare the two.
    #[cfg(test)]
    Printpdf,
}

/// Renders with `given` as the faces printpdf sees.
fn render_with(
    data: &ReportData,
    fonts: &Fonts,
    given: [&ParsedFont; 2],
    writer: PageWriter,
) -> Result<Vec<u8>, RenderError> {
    let mut l = Layout::new(fonts);
    first_page(&mut l, data)?;
    assets(&mut l, data);
    spending(&mut l, data);
    bills(&mut l, data);
    decorate(&mut l, data);

    let mut doc = PdfDocument::new(&format!("Proof of Financial Standing {}", data.report_number));
    doc.resources.fonts.map.insert(FontId(REGULAR_ID.to_owned()), PdfFont::new(given[0].clone()));
    doc.resources.fonts.map.insert(FontId(BOLD_ID.to_owned()), PdfFont::new(given[1].clone()));
    let pages: Vec<Vec<Op>> = l.pages.into_iter().map(compact).collect();
    let mut glyph_use = GlyphUse::new();
    let contents =
        pages.iter().map(|ops| content::encode(ops, fonts, &mut glyph_use)).collect::<Result<Vec<_>, _>>()?;
    let used = glyph_use.into_map();
    // printpdf makes the document: page tree, resources and the font
    // dictionaries (widths and ToUnicode maps of the glyphs shown). For
    // that it needs only which glyphs each face shows, so unless it writes
    // the pages itself it is given one run of those glyphs on the first
    // page, and every page's content is then replaced by ours.
    let given_pages = match writer {
        PageWriter::Ours => {
            let mut pages: Vec<Vec<Op>> = vec![Vec::new(); contents.len()];
            if let Some(first) = pages.first_mut() {
                *first = glyph_runs(&used);
            }
            pages
        }
        #[cfg(test)]
        PageWriter::Printpdf => pages,
    };
    let given_pages =
        given_pages.into_iter().map(|ops| PdfPage::new(printpdf::Mm(210.0), printpdf::Mm(297.0), ops)).collect();
    let mut warnings = Vec::new();
    // printpdf's own `save` compresses every stream at level 9 and the result
    // then had to be parsed again to be finished; its document is finished in
    // place instead, and compressed once at a fast level. Its subsetter
    // (parse, renumber, parse again) is replaced by one that keeps glyph ids:
    // printpdf embeds the whole font and the program is swapped for the subset.
    let options = PdfSaveOptions { subset_fonts: false, ..PdfSaveOptions::default() };
    let mut doc = doc.with_pages(given_pages).to_lopdf_document(&options, &mut warnings);
    if writer == PageWriter::Ours {
        replace_contents(&mut doc, contents)?;
    }
    embed_subsets(&mut doc, fonts, &used)?;
    finish(doc, data)
}

/// One text run per face showing each used glyph once: all printpdf needs
/// to describe the fonts.
fn glyph_runs(used: &UsedGlyphs) -> Vec<Op> {
    let mut ops = vec![Op::StartTextSection];
    for (id, glyphs) in [(REGULAR_ID, &used[Face::Regular.index()]), (BOLD_ID, &used[Face::Bold.index()])] {
        if glyphs.is_empty() {
            continue;
        }
        ops.push(Op::SetFont { font: PdfFontHandle::External(FontId(id.to_owned())), size: Pt(10.0) });
        ops.push(Op::ShowText { items: vec![TextItem::Text(glyphs.values().collect())] });
    }
    ops.push(Op::EndTextSection);
    ops
}

/// Puts each page's content stream in place, in page order.
fn replace_contents(doc: &mut PDocument, contents: Vec<Vec<u8>>) -> Result<(), RenderError> {
    let pages: Vec<_> = doc.get_pages().into_values().collect();
    if pages.len() != contents.len() {
        return Err(pdf_error("page count changed"));
    }
    for (page, content) in pages.into_iter().zip(contents) {
        let id = doc.get_dictionary(page).and_then(|p| p.get(b"Contents")).and_then(PObject::as_reference);
        let stream = doc.get_object_mut(id.map_err(pdf_error)?).and_then(PObject::as_stream_mut).map_err(pdf_error)?;
        stream.set_content(content);
    }
    Ok(())
}

/// Replaces each embedded font program with its subset and gives the font
/// its subset tag (the first six letters of its resource name).
fn embed_subsets(doc: &mut PDocument, fonts: &Fonts, used: &UsedGlyphs) -> Result<(), RenderError> {
    let page = *doc.get_pages().values().next().ok_or_else(|| pdf_error("no pages"))?;
    let resources = doc.get_dictionary(page).and_then(|p| p.get(b"Resources")).and_then(PObject::as_reference);
    let font_dict = doc.get_dictionary(resources.map_err(pdf_error)?).and_then(|r| r.get(b"Font"));
    let font_dict =
        doc.get_dictionary(font_dict.and_then(PObject::as_reference).map_err(pdf_error)?).map_err(pdf_error)?;
    let faces = [
        (REGULAR_ID, &fonts.regular_program, &used[Face::Regular.index()]),
        (BOLD_ID, &fonts.bold_program, &used[Face::Bold.index()]),
    ];
    let ids: Vec<_> = faces
        .into_iter()
        .filter_map(|(key, program, used)| {
            Some((key, program, used, font_dict.get(key.as_bytes()).ok()?.as_reference().ok()?))
        })
        .collect();
    for (key, program, used, type0_id) in ids {
        let type0 = doc.get_object_mut(type0_id).and_then(PObject::as_dict_mut).map_err(pdf_error)?;
        let name = type0.get(b"BaseFont").and_then(PObject::as_name).map_err(pdf_error)?;
        let tagged = PObject::Name([key.as_bytes(), b"+", name].concat());
        type0.set("BaseFont", tagged.clone());
        let descendant = type0
            .get_mut(b"DescendantFonts")
            .and_then(PObject::as_array_mut)
            .map_err(pdf_error)?
            .first_mut()
            .ok_or_else(|| pdf_error("no descendant font"))?
            .as_dict_mut()
            .map_err(pdf_error)?;
        descendant.set("BaseFont", tagged.clone());
        let descriptor_id = descendant.get(b"FontDescriptor").and_then(PObject::as_reference).map_err(pdf_error)?;
        let descriptor = doc.get_object_mut(descriptor_id).and_then(PObject::as_dict_mut).map_err(pdf_error)?;
        descriptor.set("FontName", tagged);
        let file_id = descriptor.get(b"FontFile2").and_then(PObject::as_reference).map_err(pdf_error)?;
        let stream = doc.get_object_mut(file_id).and_then(PObject::as_stream_mut).map_err(pdf_error)?;
        let program = program.subset(used);
        stream.dict.set("Length1", PObject::Integer(program.len() as i64));
        stream.set_content(program);
    }
    Ok(())
}

fn first_page(l: &mut Layout<'_>, d: &ReportData) -> Result<(), RenderError> {
    // Issuer band and title.
    l.fill_rect(0.0, 0.0, PAGE_W, 6.0, ACCENT);
    l.text(MARGIN_X, 36.0, Face::Bold, 10.0, ACCENT, &d.issuer.name, Align::Left);
    l.text(RIGHT, 36.0, Face::Regular, 8.0, MUTED, &d.issuer.url, Align::Right);
    l.text(MARGIN_X, 66.0, Face::Bold, 21.0, INK, "Proof of Financial Standing", Align::Left);
    let subtitle = format!("Issued for submission to {} ({})", d.authority.name, d.authority.code);
    l.text(MARGIN_X, 82.0, Face::Regular, 9.0, MUTED, &subtitle, Align::Left);

    // Key facts in a panel: the report number never wraps (it is set smaller
    // when its letters are wide), then who issued the report and how to
    // reach them.
    let top = 94.0;
    let (number_w, issued_w) = panel_columns();
    let issuer = issuer_lines(d);
    let issuer_h = 12.0 * (l.fonts.wrap(Face::Regular, 8.0, &issuer, CONTENT_W - 20.0).len() as f32) + 16.0;
    l.fill_rect(MARGIN_X, top, CONTENT_W, 40.0 + issuer_h, PANEL);
    l.field_one_line(MARGIN_X + 10.0, top + 14.0, "REPORT NUMBER", &d.report_number, number_w - 12.0);
    let cols = [
        ("ISSUE DATE", d.issued_at.format("%Y-%m-%d").to_string()),
        ("VALID UNTIL", d.valid_until.to_string()),
        ("AUTHORITY", format!("{} ({})", d.authority.code, d.authority.currency)),
    ];
    for (i, (label, value)) in cols.iter().enumerate() {
        let x = MARGIN_X + 10.0 + number_w + i as f32 * issued_w;
        l.field(x, top + 14.0, label, value, issued_w - 12.0);
    }
    l.line(MARGIN_X + 10.0, top + 40.0, RIGHT - 10.0, top + 40.0, 0.5, RULE);
    l.text(MARGIN_X + 10.0, top + 52.0, Face::Regular, 7.0, MUTED, "ISSUED BY", Align::Left);
    l.y = top + 63.0;
    l.paragraph(MARGIN_X + 10.0, CONTENT_W - 20.0, Face::Regular, 8.0, INK, &issuer);

    // Applicant.
    l.y = top + 40.0 + issuer_h;
    l.heading("Applicant", 60.0);
    let y = l.y;
    let half = CONTENT_W / 2.0;
    let a = &d.applicant;
    let h1 = l.field(MARGIN_X, y, "NAME (AS IN PASSPORT)", &a.full_name, half - 10.0);
    l.field(MARGIN_X + half, y, "DATE OF BIRTH", &a.date_of_birth.to_string(), half - 10.0);
    let y2 = y + h1.max(24.0) + 4.0;
    let passport = format!("{} (issued by {})", a.passport_number, a.passport_country);
    l.field(MARGIN_X, y2, "PASSPORT NUMBER", &passport, half - 10.0);
    l.field(MARGIN_X + half, y2, "NATIONALITY", &a.nationality, half - 10.0);
    let y3 = y2 + 28.0;
    let since = format!("{} (customer since {})", a.account, a.account_opened_on);
    l.field(MARGIN_X, y3, "ACCOUNT", &since, half - 10.0);
    let h3 = l.field(MARGIN_X + half, y3, "DATA AS OF", &data_as_of(d), half - 10.0);
    l.y = y3 + h3.max(22.0);

    // Eligibility.
    l.heading("Eligibility", 40.0);
    let mut statement = d.eligibility.statement.clone();
    if let Some(score) = d.eligibility.score {
        statement.push_str(&format!(" Score at issuance: {score} (scale {}).", d.eligibility.scale));
    }
    let mark = if d.eligibility.threshold_met { "Threshold met" } else { "Threshold not met" };
    let y = l.y;
    l.text(MARGIN_X, y, Face::Bold, 9.5, if d.eligibility.threshold_met { GOOD } else { BAD }, mark, Align::Left);
    l.y += 13.0;
    l.paragraph(MARGIN_X, CONTENT_W, Face::Regular, 9.0, INK, &statement);

    verification(l, d)
}

/// Widths of the key-facts panel's columns: the report number's, then each
/// of the other three. The number's column is the widest: its value never
/// wraps.
fn panel_columns() -> (f32, f32) {
    let number_w = CONTENT_W * 0.31;
    (number_w, (CONTENT_W - number_w) / 3.0)
}

/// The issuer's legal name, address and contact in one paragraph.
fn issuer_lines(d: &ReportData) -> String {
    let i = &d.issuer;
    let mut s = i.legal_name.clone();
    if let Some(address) = &i.address {
        s.push_str(" · ");
        s.push_str(address);
    }
    s.push_str(" · Contact: ");
    s.push_str(&i.contact);
    if i.contact != i.url {
        s.push_str(" · ");
        s.push_str(&i.url);
    }
    s
}

/// The as-of date with how far the data reaches.
fn data_as_of(d: &ReportData) -> String {
    let c = &d.coverage;
    let transactions = match c.transactions_to {
        Some(t) => format!("transactions to {t}"),
        None => "no transactions".to_owned(),
    };
    format!("{} (balances to {}, {transactions})", d.as_of, c.balances_to)
}

/// The mask every verification QR code uses. The qrcode crate tries all
/// eight masks and keeps the one with the lowest penalty score, which took
/// longer than drawing the rest of the page; any mask is valid (ISO/IEC 18004
/// 7.8) and readers handle each one. Horizontal lines is the mask the search
/// picked for the sample report.
const QR_MASK: qrcode::canvas::MaskPattern = qrcode::canvas::MaskPattern::HorizontalLines;

/// The modules of the QR code for `url` (EC level M), row by row.
fn qr_modules(url: &str) -> Result<(usize, Vec<qrcode::Color>), RenderError> {
    let qr_error = |e: qrcode::types::QrError| RenderError::Qr(e.to_string());
    let ec = qrcode::EcLevel::M;
    let bits = qrcode::bits::encode_auto(url.as_bytes(), ec).map_err(qr_error)?;
    let version = bits.version();
    let (data, ecc) = qrcode::ec::construct_codewords(&bits.into_bytes(), version, ec).map_err(qr_error)?;
    let mut canvas = qrcode::canvas::Canvas::new(version, ec);
    canvas.draw_all_functional_patterns();
    canvas.draw_data(&data, &ecc);
    canvas.apply_mask(QR_MASK);
    let width = usize::try_from(version.width()).map_err(|e| RenderError::Qr(e.to_string()))?;
    Ok((width, canvas.into_colors()))
}

/// The width of a field beside the verification QR code.
const VERIFICATION_FIELD_W: f32 = (RIGHT - 10.0 - (MARGIN_X + 8.0 + 96.0 + 14.0)) / 2.0 - 8.0;

fn verification(l: &mut Layout<'_>, d: &ReportData) -> Result<(), RenderError> {
    let (modules, colors) = qr_modules(&d.verification_url)?;
    let qr_size = 96.0;
    let quiet = 2.0;
    let module = qr_size / (modules as f32 + 2.0 * quiet);
    let box_h = qr_size + 16.0;
    l.heading("Verification", box_h);
    let top = l.y - 6.0;
    l.stroke_rect(MARGIN_X, top, CONTENT_W, box_h, 0.8, RULE);
    let qx = MARGIN_X + 8.0;
    let qy = top + 8.0;
    l.fill_rect(qx, qy, qr_size, qr_size, Rgb3(1.0, 1.0, 1.0));
    // One rectangle per horizontal run of dark modules.
    let mut rects = Vec::new();
    for row in 0..modules {
        let mut col = 0;
        while col < modules {
            if colors[row * modules + col] == qrcode::Color::Dark {
                let start = col;
                while col < modules && colors[row * modules + col] == qrcode::Color::Dark {
                    col += 1;
                }
                rects.push((
                    qx + (quiet + start as f32) * module,
                    qy + (quiet + row as f32) * module,
                    (col - start) as f32 * module,
                    module,
                ));
            } else {
                col += 1;
            }
        }
    }
    let ops = l.ops();
    ops.push(Op::SetFillColor { col: color(Rgb3(0.0, 0.0, 0.0)) });
    ops.push(Op::DrawPolygon { polygon: rects_polygon(&rects) });

    let tx = qx + qr_size + 14.0;
    let tw = RIGHT - 10.0 - tx;
    let half = tw / 2.0;
    debug_assert_eq!(half - 8.0, VERIFICATION_FIELD_W);
    let mut y = top + 18.0;
    l.field_one_line(tx, y, "REPORT NUMBER", &d.report_number, half - 8.0);
    l.field(tx + half, y, "VERIFICATION CODE", &d.verification_code, half - 8.0);
    y += 32.0;
    let how = format!("Verify at {} or scan the QR code", url_without_query(&d.verification_url));
    l.y = y;
    l.paragraph(tx, tw, Face::Regular, 8.5, INK, &how);
    let y = l.y + 3.0;
    l.text(tx, y, Face::Regular, 7.0, MUTED, "SIGNING KEY", Align::Left);
    let key = format!("{} ({})", d.signing.key_id, d.signing.algorithm);
    l.y = y + 11.0;
    l.paragraph(tx, tw, Face::Regular, 8.0, INK, &key);
    l.y = top + box_h + 4.0;
    Ok(())
}

fn asset_cells(label: Vec<(String, Face, Rgb3)>, f: &AssetFigures, face: Face) -> Vec<Cell> {
    let mut row = vec![Cell { lines: label }];
    for dual in [&f.current, &f.average_3m, &f.average_6m, &f.average_12m, &f.minimum_6m, &f.maximum_6m] {
        row.push(match dual {
            Some(dual) => Cell::dual(&dual.account, &dual.authority, face),
            None => Cell::colored("no data", MUTED),
        });
    }
    row
}

fn assets(l: &mut Layout<'_>, d: &ReportData) {
    l.heading("Assets", 80.0);
    let a = &d.assets;
    let intro = format!(
        "Balances by holding, in the holding's currency with the value in {} beneath. Averages are of end-of-day \
         balances over {} days of data up to {}; a balance counts for at most {} days after its date, and a \
         holding without a balance in the {} days up to {} has no current balance. \"no data\": no balance in \
         that period.",
        d.authority.currency,
        a.days_of_data,
        d.as_of,
        d.coverage.max_data_age_days,
        d.coverage.max_data_age_days,
        d.as_of
    );
    l.paragraph(MARGIN_X, CONTENT_W, Face::Regular, 8.5, MUTED, &intro);
    l.y += 2.0;
    let amount_w = 70.0;
    let cols = [
        Col { title: "Holding", width: CONTENT_W - 6.0 * amount_w, align: Align::Left },
        Col { title: "Current", width: amount_w, align: Align::Right },
        Col { title: "Avg 3 months", width: amount_w, align: Align::Right },
        Col { title: "Avg 6 months", width: amount_w, align: Align::Right },
        Col { title: "Avg 12 months", width: amount_w, align: Align::Right },
        Col { title: "Min 6 months", width: amount_w, align: Align::Right },
        Col { title: "Max 6 months", width: amount_w, align: Align::Right },
    ];
    let mut rows = Vec::new();
    for h in &a.holdings {
        let when = if h.current {
            (format!("current as of {}", h.balances_to), Face::Regular, MUTED)
        } else {
            (format!("not current: last balance {}", h.balances_to), Face::Regular, WARN)
        };
        let label = vec![
            (h.kind_label.clone(), Face::Regular, INK),
            (h.institution.clone().unwrap_or_else(|| "institution not stated".to_owned()), Face::Regular, INK),
            (format!("{} · {}", h.currency, h.holding), Face::Regular, MUTED),
            when,
        ];
        rows.push(asset_cells(label, &h.figures, Face::Regular));
    }
    let total_label = vec![
        ("Total".to_owned(), Face::Bold, INK),
        (format!("in {} and {}", a.currency, d.authority.currency), Face::Regular, MUTED),
    ];
    rows.push(asset_cells(total_label, &a.total, Face::Regular));
    l.table("Assets", &cols, rows, true);

    l.y += 14.0;
    l.ensure(12.0 * (d.exchange_rates.len() as f32 + 1.0));
    let y = l.y;
    l.text(MARGIN_X, y, Face::Bold, 8.0, INK, "Exchange rates used", Align::Left);
    l.y += 11.0;
    for r in &d.exchange_rates {
        let s = format!("1 {} = {} {} (rate of {}; source: {})", r.base, r.rate, r.quote, r.date, r.source);
        l.paragraph(MARGIN_X + 8.0, CONTENT_W - 8.0, Face::Regular, 8.0, INK, &s);
    }
}

/// A "nice" gridline step (1, 2, 2.5 or 5 × 10^k) for about four lines up to `max`.
fn nice_step(max: u64) -> u64 {
    let raw = (max / 4).max(1);
    let mut pow = 1_u64;
    while pow.saturating_mul(10) <= raw {
        pow *= 10;
    }
    for m in [1, 2, 5, 10] {
        let step = m * pow;
        if step >= raw {
            return step;
        }
    }
    10 * pow
}

fn spending(l: &mut Layout<'_>, d: &ReportData) {
    let s = &d.spending;
    let chart_h = 150.0;
    l.heading("Spending history", chart_h + 40.0);
    let intro = format!(
        "Money spent per calendar month ({} months), in {}. Total {} ({}); monthly average {} ({}).",
        s.months.len(),
        s.currency,
        s.total.account.text,
        s.total.authority.text,
        s.average_monthly.account.text,
        s.average_monthly.authority.text
    );
    l.paragraph(MARGIN_X, CONTENT_W, Face::Regular, 8.5, MUTED, &intro);
    l.y += 6.0;

    // The bar chart.
    let digits = Currency::from_code(&s.currency).map(|c| u32::from(c.minor_digits())).unwrap_or(2);
    let per = 10_u64.pow(digits);
    let max_major = s.months.iter().map(|m| m.total.minor.unsigned_abs()).max().unwrap_or(0).div_ceil(per).max(1);
    let step = nice_step(max_major);
    let lines = max_major.div_ceil(step).max(1);
    let top_value = (step * lines) as f32;
    let axis_w = 48.0;
    let x0 = MARGIN_X + axis_w;
    let plot_w = CONTENT_W - axis_w;
    let y_top = l.y + 8.0;
    let y_base = y_top + chart_h - 22.0;
    let plot_h = y_base - y_top;
    l.text(MARGIN_X, y_top - 4.0, Face::Regular, 6.8, MUTED, &s.currency, Align::Left);
    for i in 0..=lines {
        let v = step * i;
        let y = y_base - plot_h * (v as f32 / top_value);
        l.line(x0, y, RIGHT, y, if i == 0 { 0.8 } else { 0.35 }, if i == 0 { MUTED } else { RULE });
        l.text(x0 - 5.0, y + 2.4, Face::Regular, 6.8, MUTED, &group_thousands(v), Align::Right);
    }
    let n = s.months.len().max(1) as f32;
    let slot = plot_w / n;
    let bar_w = slot * 0.62;
    let mut bars = Vec::new();
    for (i, m) in s.months.iter().enumerate() {
        let v = m.total.minor.unsigned_abs() as f32 / per as f32;
        let h = plot_h * (v / top_value);
        let x = x0 + slot * i as f32 + (slot - bar_w) / 2.0;
        bars.push((x, y_base - h, bar_w, h));
        let cx = x0 + slot * i as f32 + slot / 2.0;
        let label_w = l.fonts.width(Face::Regular, 6.8, &m.month);
        l.text(cx - label_w / 2.0, y_base + 10.0, Face::Regular, 6.8, INK, &m.month, Align::Left);
    }
    let ops = l.ops();
    ops.push(Op::SetFillColor { col: color(BAR) });
    ops.push(Op::DrawPolygon { polygon: rects_polygon(&bars) });
    l.y = y_top + chart_h + 4.0;

    let cols = [
        Col { title: "Month", width: 58.0, align: Align::Left },
        Col { title: "Total spent", width: 92.0, align: Align::Right },
        Col { title: "Transactions", width: 66.0, align: Align::Right },
        Col { title: "Top categories", width: CONTENT_W - 216.0, align: Align::Left },
    ];
    let mut rows: Vec<Vec<Cell>> = s
        .months
        .iter()
        .map(|m| {
            let top = m
                .top_categories
                .iter()
                .map(|c| format!("{} {}", c.category, c.total.text))
                .collect::<Vec<_>>()
                .join(" · ");
            vec![
                Cell::plain(m.month.clone()),
                Cell::plain(m.total.text.clone()),
                Cell::plain(m.transactions.to_string()),
                Cell::plain(top),
            ]
        })
        .collect();
    let tx: u32 = s.months.iter().map(|m| m.transactions).sum();
    rows.push(vec![
        Cell::bold("Total"),
        Cell::dual(&s.total.account, &s.total.authority, Face::Bold),
        Cell::bold(tx.to_string()),
        Cell::plain(format!(
            "monthly average {} ({})",
            s.average_monthly.account.text, s.average_monthly.authority.text
        )),
    ]);
    l.table("Spending history", &cols, rows, true);
}

fn bills(l: &mut Layout<'_>, d: &ReportData) {
    let b = &d.bills;
    l.heading("Bill payment history", 120.0);
    let intro = format!(
        "Bills due from {} to {}. A bill is on time when paid by its due date; open bills are not yet due or \
         still within the grace period and are not judged.",
        b.from, b.to
    );
    l.paragraph(MARGIN_X, CONTENT_W, Face::Regular, 8.5, MUTED, &intro);
    l.y += 4.0;
    let top = l.y;
    l.fill_rect(MARGIN_X, top, CONTENT_W, 36.0, PANEL);
    let facts = [
        ("BILLS", b.count.to_string()),
        ("ON TIME", b.on_time.to_string()),
        ("LATE", b.late.to_string()),
        ("MISSED", b.missed.to_string()),
        ("OPEN", b.open.to_string()),
        ("ON-TIME RATE", b.on_time_rate.clone()),
    ];
    let w = CONTENT_W / facts.len() as f32;
    for (i, (label, value)) in facts.iter().enumerate() {
        l.field(MARGIN_X + 10.0 + i as f32 * w, top + 12.0, label, value, w - 12.0);
    }
    l.y = top + 36.0 + 10.0;

    let cols = [
        Col { title: "Biller", width: 158.0, align: Align::Left },
        Col { title: "Kind", width: 64.0, align: Align::Left },
        Col { title: "Due", width: 58.0, align: Align::Left },
        Col { title: "Amount", width: 84.0, align: Align::Right },
        Col { title: "Paid", width: 62.0, align: Align::Left },
        Col { title: "Status", width: CONTENT_W - 426.0, align: Align::Left },
    ];
    let rows = b
        .list
        .iter()
        .map(|bill| {
            let status_color = match bill.status.as_str() {
                "on time" => GOOD,
                "open" => MUTED,
                s if s.starts_with("late") => WARN,
                _ => BAD,
            };
            vec![
                Cell::plain(bill.biller.clone()),
                Cell::plain(bill.kind.replace('_', " ")),
                Cell::plain(bill.due_on.to_string()),
                Cell::plain(bill.amount.text.clone()),
                Cell::plain(bill.paid_on.map(|p| p.to_string()).unwrap_or_else(|| "—".to_owned())),
                Cell::colored(bill.status.clone(), status_color),
            ]
        })
        .collect();
    l.table("Bill payment history", &cols, rows, false);

    l.y += 16.0;
    let end = format!(
        "End of report {}. The data shown is attached to this PDF as {REPORT_JSON_NAME} and the document carries \
         the digital signature of {} (key {}).",
        d.report_number, d.issuer.name, d.signing.key_id
    );
    l.paragraph(MARGIN_X, CONTENT_W, Face::Regular, 8.0, MUTED, &end);
}

/// Running header on later pages and a footer on every page.
fn decorate(l: &mut Layout<'_>, d: &ReportData) {
    let total = l.pages.len();
    let footer_left = format!(
        "Proof of Financial Standing {} · issued {} by {}",
        d.report_number,
        d.issued_at.format("%Y-%m-%d"),
        d.issuer.name
    );
    for page in 0..total {
        // Draw into page `page`: temporarily move it to the end.
        let ops = std::mem::take(&mut l.pages[page]);
        let mut sub = Layout { fonts: l.fonts, pages: vec![ops], y: 0.0 };
        if page > 0 {
            sub.text(MARGIN_X, 34.0, Face::Bold, 8.5, ACCENT, "Proof of Financial Standing", Align::Left);
            let who = format!("{} · {}", d.applicant.full_name, d.report_number);
            sub.text(RIGHT, 34.0, Face::Regular, 8.0, MUTED, &who, Align::Right);
            sub.line(MARGIN_X, 40.0, RIGHT, 40.0, 0.5, RULE);
        }
        let fy = PAGE_H - 34.0;
        sub.line(MARGIN_X, fy - 11.0, RIGHT, fy - 11.0, 0.5, RULE);
        sub.text(MARGIN_X, fy, Face::Regular, 7.5, MUTED, &footer_left, Align::Left);
        sub.text(RIGHT, fy, Face::Bold, 7.5, INK, &format!("Page {} of {}", page + 1, total), Align::Right);
        l.pages[page] = sub.pages.pop().unwrap_or_default();
    }
}

// ---------------------------------------------------------------------------
// Post-processing: metadata, id, attachment

fn text_string(s: &str) -> PObject {
    if s.is_ascii() {
        PObject::String(s.as_bytes().to_vec(), PStringFormat::Literal)
    } else {
        let mut bytes = vec![0xFE, 0xFF];
        for unit in s.encode_utf16() {
            bytes.extend_from_slice(&unit.to_be_bytes());
        }
        PObject::String(bytes, PStringFormat::Hexadecimal)
    }
}

/// zlib (zlib-rs) at a fast level, `level` 1 or 2: several times faster than
/// printpdf's level 9. Page contents shrink by a third from level 1 to 2 for
/// little time; font programs and `report.json` gain little (about 1 KB for
/// the JSON) and stay at level 1.
///
/// Each thread keeps one encoder per level and resets it between streams
/// (the same bytes as a new one): a new encoder allocates and clears about
/// 300 KB, and a report compresses nine streams. Freshly allocated memory
/// also had to be faulted in again whenever the allocator had handed it
/// back to the system, which made rendering up to a third slower.
fn deflate(bytes: &[u8], level: u32) -> Result<Vec<u8>, RenderError> {
    use flate2::write::ZlibEncoder;
    use std::cell::RefCell;
    use std::io::Write;
    thread_local! {
        static ENCODERS: RefCell<[Option<ZlibEncoder<Vec<u8>>>; 2]> = const { RefCell::new([None, None]) };
    }
    let capacity = bytes.len() / 2;
    let compress = |encoder: &mut ZlibEncoder<Vec<u8>>| -> Result<Vec<u8>, RenderError> {
        *encoder.get_mut() = Vec::with_capacity(capacity);
        encoder.write_all(bytes).map_err(pdf_error)?;
        // Finishes the stream, hands back its bytes and resets the encoder.
        encoder.reset(Vec::new()).map_err(pdf_error)
    };
    // Only the two levels are kept: anything above 1 is 2.
    let (slot, level) = if level >= 2 { (1, 2) } else { (0, 1) };
    ENCODERS.with(|cell| match cell.try_borrow_mut() {
        Ok(mut encoders) => {
            let mut encoder =
                encoders[slot].take().unwrap_or_else(|| ZlibEncoder::new(Vec::new(), flate2::Compression::new(level)));
            let out = compress(&mut encoder)?;
            encoders[slot] = Some(encoder);
            Ok(out)
        }
        // Not reentrant today; a nested call would simply get its own.
        Err(_) => compress(&mut ZlibEncoder::new(Vec::new(), flate2::Compression::new(level))),
    })
}

/// Compresses every stream that has no filter yet (page contents, font
/// programs, ToUnicode maps), as printpdf's `save` would.
fn compress_streams(doc: &mut PDocument) -> Result<(), RenderError> {
    for object in doc.objects.values_mut() {
        if let PObject::Stream(stream) = object
            && stream.allows_compression
            && !stream.dict.has(b"Filter")
        {
            let level = if stream.dict.has(b"Length1") { 1 } else { 2 };
            let compressed = deflate(&stream.content, level)?;
            if compressed.len() + 19 < stream.content.len() {
                stream.dict.set("Filter", PObject::Name(b"FlateDecode".to_vec()));
                stream.set_content(compressed);
            }
        }
    }
    Ok(())
}

fn finish(mut doc: PDocument, data: &ReportData) -> Result<Vec<u8>, RenderError> {
    compress_streams(&mut doc)?;
    let date =
        PObject::String(data.issued_at.format("D:%Y%m%d%H%M%SZ").to_string().into_bytes(), PStringFormat::Literal);
    let title = format!("Proof of Financial Standing {}", data.report_number);

    let mut info = PDictionary::new();
    info.set("Title", text_string(&title));
    info.set("Author", text_string(&data.issuer.name));
    info.set("Subject", text_string(&format!("Proof of financial standing for {}", data.authority.code)));
    info.set("Creator", text_string(&data.issuer.name));
    info.set("Producer", text_string(&data.issuer.name));
    info.set("CreationDate", date.clone());
    info.set("ModDate", date.clone());
    if let Ok(PObject::Reference(old)) = doc.trailer.get(b"Info") {
        let old = *old;
        doc.objects.remove(&old);
    }
    let info_id = doc.add_object(info);
    doc.trailer.set("Info", PObject::Reference(info_id));

    // A fixed id from the report number.
    let digest = Sha256::digest(format!("standing report {}", data.report_number).as_bytes());
    let id = PObject::String(digest[..16].to_vec(), PStringFormat::Hexadecimal);
    doc.trailer.set("ID", PObject::Array(vec![id.clone(), id]));

    // report.json as an embedded file.
    let json = serde_json::to_vec_pretty(data)?;
    let mut params = PDictionary::new();
    params.set("Size", PObject::Integer(json.len() as i64));
    params.set("ModDate", date.clone());
    params.set("CreationDate", date);
    let mut ef_dict = PDictionary::new();
    ef_dict.set("Type", PObject::Name(b"EmbeddedFile".to_vec()));
    ef_dict.set("Subtype", PObject::Name(b"application/json".to_vec()));
    ef_dict.set("Params", PObject::Dictionary(params));
    ef_dict.set("Filter", PObject::Name(b"FlateDecode".to_vec()));
    let stream = PStream::new(ef_dict, deflate(&json, 1)?).with_compression(false);
    let stream_id = doc.add_object(stream);
    let mut ef = PDictionary::new();
    ef.set("F", PObject::Reference(stream_id));
    ef.set("UF", PObject::Reference(stream_id));
    let mut spec = PDictionary::new();
    spec.set("Type", PObject::Name(b"Filespec".to_vec()));
    spec.set("F", text_string(REPORT_JSON_NAME));
    spec.set("UF", text_string(REPORT_JSON_NAME));
    spec.set("Desc", text_string(&format!("The attested report data ({})", data.format)));
    spec.set("AFRelationship", PObject::Name(b"Data".to_vec()));
    spec.set("EF", PObject::Dictionary(ef));
    let spec_id = doc.add_object(spec);

    let root = doc.trailer.get(b"Root").and_then(PObject::as_reference).map_err(pdf_error)?;
    let catalog = doc.get_object_mut(root).and_then(PObject::as_dict_mut).map_err(pdf_error)?;
    let mut embedded = PDictionary::new();
    embedded.set("Names", PObject::Array(vec![text_string(REPORT_JSON_NAME), PObject::Reference(spec_id)]));
    let mut names = PDictionary::new();
    names.set("EmbeddedFiles", PObject::Dictionary(embedded));
    catalog.set("Names", PObject::Dictionary(names));
    catalog.set("AF", PObject::Array(vec![PObject::Reference(spec_id)]));
    catalog.remove(b"PageMode");

    // printpdf says 1.3; the embedded-file name tree needs 1.4, and
    // `/AF` (PDF 2.0, PDF/A-3) is simply ignored by 1.x readers. An Ed25519
    // signature declares 2.0 in the catalog it adds.
    doc.version = "1.7".into();
    let mut out = Vec::with_capacity(96 * 1024);
    doc.save_to(&mut out).map_err(pdf_error)?;
    Ok(out)
}

/// The attached `report.json` of a report PDF, signed or not.
pub fn extract_report_json(pdf: &[u8]) -> Result<Vec<u8>, RenderError> {
    let doc = Document::load_mem(pdf).map_err(pdf_error)?;
    let missing = |_| RenderError::NoReportJson;
    let catalog = doc.catalog().map_err(missing)?;
    let names = resolve(&doc, catalog.get(b"Names").map_err(missing)?)?.as_dict().map_err(missing)?;
    let files = resolve(&doc, names.get(b"EmbeddedFiles").map_err(missing)?)?.as_dict().map_err(missing)?;
    let list = resolve(&doc, files.get(b"Names").map_err(missing)?)?.as_array().map_err(missing)?;
    for pair in list.chunks(2) {
        let [name, spec] = pair else { continue };
        let name = resolve(&doc, name)?.as_str().map_err(missing)?;
        if name != REPORT_JSON_NAME.as_bytes() {
            continue;
        }
        let spec = resolve(&doc, spec)?.as_dict().map_err(missing)?;
        let ef = resolve(&doc, spec.get(b"EF").map_err(missing)?)?.as_dict().map_err(missing)?;
        let stream = resolve(&doc, ef.get(b"F").map_err(missing)?)?.as_stream().map_err(missing)?;
        return if stream.dict.has(b"Filter") {
            stream.decompressed_content().map_err(pdf_error)
        } else {
            Ok(stream.content.clone())
        };
    }
    Err(RenderError::NoReportJson)
}

fn resolve<'a>(doc: &'a Document, obj: &'a Object) -> Result<&'a Object, RenderError> {
    match obj {
        Object::Reference(id) => doc.get_object(*id).map_err(|_| RenderError::NoReportJson),
        other => Ok(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tools::run_on_pdf;

    fn render_sample() -> (ReportData, Vec<u8>) {
        let data = sample_report();
        let pdf = render_pdf(&data, Fonts::embedded().unwrap()).unwrap();
        (data, pdf)
    }

    #[test]
    fn printable_drops_cjk_and_keeps_latin() {
        assert_eq!(printable("国家电网 State Grid Shanghai"), "State Grid Shanghai");
        assert_eq!(printable("招商银行信用卡 CMB Credit Card"), "CMB Credit Card");
        assert_eq!(printable("Zoë Łucja ŌTSUKA-NÚÑEZ"), "Zoë Łucja ŌTSUKA-NÚÑEZ");
        assert_eq!(printable("Shop 上海 Branch"), "Shop Branch");
        assert_eq!(printable("国家电网"), "(see report.json)");
    }

    #[test]
    fn wraps_to_width() {
        let fonts = Fonts::embedded().unwrap();
        let text = "At issuance the applicant's credit score exceeded the eligibility threshold of 750.";
        let lines = fonts.wrap(Face::Regular, 9.0, text, 150.0);
        assert!(lines.len() > 2, "{lines:?}");
        for l in &lines {
            assert!(fonts.width(Face::Regular, 9.0, l) <= 150.0, "{l}");
        }
        assert_eq!(lines.join(" "), text);
        let w = fonts.width(Face::Regular, 10.0, "M");
        assert!((5.0..12.0).contains(&w), "{w}");
    }

    #[test]
    fn qr_code_with_the_fixed_mask_is_the_searched_one_for_the_sample() {
        let data = sample_report();
        let searched =
            qrcode::QrCode::with_error_correction_level(data.verification_url.as_bytes(), qrcode::EcLevel::M).unwrap();
        let (modules, colors) = qr_modules(&data.verification_url).unwrap();
        assert_eq!(modules, searched.width());
        assert!(colors == searched.to_colors(), "same modules as the best-mask search");
    }

    #[test]
    fn printpdf_given_the_skeleton_fonts_writes_what_it_writes_given_the_real_ones() {
        let data = sample_report();
        let fonts = Fonts::embedded().unwrap();
        let real = render_with(&data, fonts, [&fonts.regular, &fonts.bold], PageWriter::Ours).unwrap();
        let skeleton = render_pdf(&data, fonts).unwrap();
        assert!(real == skeleton, "same bytes");
    }

    #[test]
    fn our_page_contents_are_the_bytes_printpdf_writes() {
        let fonts = Fonts::embedded().unwrap();
        let mut long = sample_report();
        long.applicant.full_name = "Zoë Łucja ŌTSUKA-NÚÑEZ de la Cruz y Montenegro-Villavicencio".into();
        long.bills.list.extend(long.bills.list.clone());
        long.bills.list.extend(long.bills.list.clone());
        for data in [sample_report(), long] {
            let given = [&fonts.regular_skeleton, &fonts.bold_skeleton];
            let ours = render_with(&data, fonts, given, PageWriter::Ours).unwrap();
            let printpdf = render_with(&data, fonts, given, PageWriter::Printpdf).unwrap();
            assert!(ours == printpdf, "the same file, whoever writes the pages");
        }
    }

    #[test]
    fn a_report_number_never_wraps_and_stays_legible() {
        use rand::SeedableRng;
        let fonts = Fonts::embedded().unwrap();
        let widths = [panel_columns().0 - 12.0, VERIFICATION_FIELD_W];
        // Widths add up (no kerning), so the widest symbol in every place
        // bounds every number; and 20,000 generated ones besides.
        let widest = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
            .chars()
            .max_by(|a, b| {
                fonts.width(Face::Bold, 1.0, &a.to_string()).total_cmp(&fonts.width(Face::Bold, 1.0, &b.to_string()))
            })
            .unwrap();
        let w4: String = std::iter::repeat_n(widest, 4).collect();
        let mut numbers = vec![format!("SR-{w4}-{w4}-{w4}"), "SR-X2E5-W1AM-RT85".to_owned()];
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(11);
        numbers.extend((0..20_000).map(|_| crate::domain::ReportNumber::generate(&mut rng).to_string()));
        for number in &numbers {
            for width in widths {
                let size = fonts.one_line_size(Face::Bold, FIELD_SIZE, number, width);
                assert!(fonts.width(Face::Bold, size, number) <= width, "{number} at {size} pt");
                assert_eq!(fonts.wrap(Face::Bold, size, number, width).len(), 1, "{number}");
                assert!(size >= 8.0, "{number} would be set at {size} pt");
            }
        }
    }

    #[test]
    fn nice_steps() {
        assert_eq!(nice_step(15_890), 5_000);
        assert_eq!(nice_step(100), 50);
        assert_eq!(nice_step(0), 1);
    }

    #[test]
    fn renders_deterministically_with_classic_xref() {
        let (data, a) = render_sample();
        let b = render_pdf(&data, Fonts::embedded().unwrap()).unwrap();
        assert!(a == b, "two renders of the same data differ");
        assert!(a.starts_with(b"%PDF-1."));
        let text = String::from_utf8_lossy(&a);
        assert!(text.contains("\nxref\n") || text.contains("\rxref"), "classic xref table");
        assert!(!text.contains("/ObjStm") && !text.contains("/XRef"), "no object or xref streams");
        assert!(text.contains("DJVSRG+"), "subset font");
        assert!(a.len() < 200_000, "{} bytes", a.len());
    }

    #[test]
    fn report_json_round_trips_also_when_signed() {
        use crate::keys::{KeyAlgorithm, Signer};
        use crate::report::sign::{DEFAULT_CONTENTS_SIZE, SignOptions, sign_pdf};
        let (data, pdf) = render_sample();
        let json = extract_report_json(&pdf).unwrap();
        assert_eq!(json, serde_json::to_vec_pretty(&data).unwrap());
        let value: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(value["report_number"], "SR-KYYF-9TKJ-6Q8Q");

        let signer = {
            use crate::keys::{KeyPair, root_certificate, signing_certificate};
            use rand::SeedableRng;
            let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(7);
            let root_key = KeyPair::generate(KeyAlgorithm::Ed25519, &mut rng);
            let leaf_key = KeyPair::generate(KeyAlgorithm::Ed25519, &mut rng);
            let start = data.issued_at - chrono::Duration::days(30);
            let root = root_certificate(&root_key, "Example Credit Ltd", 1, start).unwrap();
            let leaf = signing_certificate(&leaf_key, &root_key, &root, "Example Credit Ltd", 2, start).unwrap();
            Signer::new(leaf_key, leaf, vec![root]).unwrap()
        };
        let options = SignOptions {
            name: data.issuer.name.clone(),
            reason: format!("Proof of financial standing {}", data.report_number),
            location: None,
            contact_info: None,
            contents_size: DEFAULT_CONTENTS_SIZE,
        };
        let signed = sign_pdf(&pdf, &signer, data.issued_at, &options).unwrap();
        assert_eq!(extract_report_json(&signed).unwrap(), json);
        assert!(extract_report_json(b"%PDF-1.3 nothing").is_err());
    }

    #[test]
    fn qpdf_and_pdftotext_accept_it() {
        let (data, pdf) = render_sample();
        if let Ok(out) = std::env::var("STANDING_REPORT_OUT") {
            std::fs::write(out, &pdf).unwrap();
        }
        if let Some(out) = run_on_pdf("qpdf", &["--check", "{pdf}"], &pdf) {
            assert!(out.status.success(), "qpdf --check: {}", out.text);
        }
        let Some(out) = run_on_pdf("pdftotext", &["-layout", "{pdf}", "-"], &pdf) else { return };
        assert!(out.status.success());
        let text = out.stdout;
        let pages = text.split('\u{c}').filter(|p| !p.trim().is_empty()).count();
        assert!(pages >= 3, "{pages} pages");
        for needle in [
            "Zoë Łucja ŌTSUKA-NÚÑEZ",
            "SR-KYYF-9TKJ-6Q8Q",
            "Q7RM-K2XP",
            "Page 1 of",
            &format!("Page {pages} of {pages}"),
            "Verify at http://127.0.0.1:8080/verify/SR-KYYF-9TKJ-6Q8Q or scan the QR code",
            &data.assets.total.current.as_ref().unwrap().account.text,
            &data.assets.total.current.as_ref().unwrap().authority.text,
            "Bill payment history (continued)",
            "0.1932",
            "1.3712",
        ] {
            assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
        }
        let last = data.bills.list.last().unwrap();
        assert!(text.contains(printable(&last.biller).as_ref()), "last biller {}", last.biller);
        assert!(!text.contains("国家电网"));
    }
}
