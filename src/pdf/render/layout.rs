//! Page geometry, colours and the [`Layout`] that places text, rules,
//! panels and tables on pages, breaking pages where needed.

use super::fonts::*;
use super::*;

pub(super) const PAGE_W: f32 = 595.276;
pub(super) const PAGE_H: f32 = 841.89;
pub(super) const MARGIN_X: f32 = 48.0;
pub(super) const TOP: f32 = 54.0;
/// Lowest baseline of content; the footer lives below.
pub(super) const BOTTOM: f32 = PAGE_H - 62.0;
pub(super) const CONTENT_W: f32 = PAGE_W - 2.0 * MARGIN_X;
pub(super) const RIGHT: f32 = MARGIN_X + CONTENT_W;

#[derive(Clone, Copy)]
pub(super) struct Rgb3(pub(super) f32, pub(super) f32, pub(super) f32);

pub(super) const INK: Rgb3 = Rgb3(0.11, 0.13, 0.16);
pub(super) const MUTED: Rgb3 = Rgb3(0.40, 0.43, 0.48);
pub(super) const ACCENT: Rgb3 = Rgb3(0.05, 0.24, 0.43);
pub(super) const RULE: Rgb3 = Rgb3(0.78, 0.80, 0.83);
pub(super) const HEAD_FILL: Rgb3 = Rgb3(0.91, 0.94, 0.97);
pub(super) const ZEBRA: Rgb3 = Rgb3(0.968, 0.973, 0.98);
pub(super) const PANEL: Rgb3 = Rgb3(0.955, 0.968, 0.985);
pub(super) const BAR: Rgb3 = Rgb3(0.20, 0.42, 0.64);
pub(super) const GOOD: Rgb3 = Rgb3(0.08, 0.45, 0.22);
pub(super) const WARN: Rgb3 = Rgb3(0.70, 0.40, 0.0);
pub(super) const BAD: Rgb3 = Rgb3(0.72, 0.10, 0.10);

pub(super) fn color(c: Rgb3) -> Color {
    Color::Rgb(Rgb { r: c.0, g: c.1, b: c.2, icc_profile: None })
}

pub(super) fn font_handle(face: Face) -> PdfFontHandle {
    PdfFontHandle::External(FontId(match face {
        Face::Regular => REGULAR_ID.to_owned(),
        Face::Bold => BOLD_ID.to_owned(),
    }))
}

/// `v` on the 1/100 pt grid everything is placed on: a shift no eye or
/// printer can see, and numbers the content writer writes without `fmt`.
pub(super) fn grid(v: f32) -> f32 {
    (v * 100.0).round() / 100.0
}

/// A point from top-left based coordinates (y grows downwards).
pub(super) fn pt(x: f32, y: f32) -> Point {
    Point { x: Pt(grid(x)), y: Pt(grid(PAGE_H - y)) }
}

/// Right or left alignment of a text run.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Align {
    Left,
    Right,
}

/// Pages being laid out: drawing commands in top-left coordinates.
pub(super) struct Layout<'f> {
    pub(super) fonts: &'f Fonts,
    pub(super) pages: Vec<Vec<Op>>,
    /// The baseline cursor on the current page, from the top.
    pub(super) y: f32,
}

impl<'f> Layout<'f> {
    pub(super) fn new(fonts: &'f Fonts) -> Self {
        Layout { fonts, pages: vec![Vec::new()], y: TOP }
    }

    pub(super) fn ops(&mut self) -> &mut Vec<Op> {
        if self.pages.is_empty() {
            self.pages.push(Vec::new());
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    #[allow(clippy::too_many_arguments, reason = "position, style and text of one run, as printed")]
    pub(super) fn text(&mut self, x: f32, y: f32, face: Face, size: f32, c: Rgb3, s: &str, align: Align) {
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

    pub(super) fn fill_rect(&mut self, x: f32, y: f32, w: f32, h: f32, c: Rgb3) {
        let ops = self.ops();
        ops.push(Op::SetFillColor { col: color(c) });
        ops.push(Op::DrawPolygon { polygon: rects_polygon(&[(x, y, w, h)]) });
    }

    pub(super) fn line(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, width: f32, c: Rgb3) {
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

    pub(super) fn stroke_rect(&mut self, x: f32, y: f32, w: f32, h: f32, width: f32, c: Rgb3) {
        let ops = self.ops();
        ops.push(Op::SetOutlineColor { col: color(c) });
        ops.push(Op::SetOutlineThickness { pt: Pt(width) });
        let mut polygon = rects_polygon(&[(x, y, w, h)]);
        polygon.mode = PaintMode::Stroke;
        ops.push(Op::DrawPolygon { polygon });
    }

    pub(super) fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = TOP + 22.0;
    }

    /// Starts a new page unless `needed` points fit below the cursor.
    pub(super) fn ensure(&mut self, needed: f32) -> bool {
        if self.y + needed > BOTTOM {
            self.new_page();
            true
        } else {
            false
        }
    }

    /// A section heading with a rule beneath; keeps `keep` points of the
    /// section with it.
    pub(super) fn heading(&mut self, title: &str, keep: f32) {
        self.ensure(40.0 + keep);
        self.y += 22.0;
        let y = self.y;
        self.text(MARGIN_X, y, Face::Bold, 12.5, ACCENT, title, Align::Left);
        self.line(MARGIN_X, y + 5.0, RIGHT, y + 5.0, 0.8, ACCENT);
        self.y += 18.0;
    }

    /// A paragraph wrapped to `width`.
    pub(super) fn paragraph(&mut self, x: f32, width: f32, face: Face, size: f32, c: Rgb3, s: &str) {
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
    pub(super) fn field_one_line(&mut self, x: f32, y: f32, label: &str, value: &str, width: f32) -> f32 {
        self.text(x, y, Face::Regular, 7.0, MUTED, label, Align::Left);
        let size = self.fonts.one_line_size(Face::Bold, FIELD_SIZE, value, width);
        self.text(x, y + 12.0, Face::Bold, size, INK, value, Align::Left);
        24.0
    }

    /// Label above value, at the cursor's row.
    pub(super) fn field(&mut self, x: f32, y: f32, label: &str, value: &str, width: f32) -> f32 {
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
pub(super) fn compact(ops: Vec<Op>) -> Vec<Op> {
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
pub(super) fn rects_polygon(rects: &[(f32, f32, f32, f32)]) -> Polygon {
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

pub(super) struct Col {
    pub(super) title: &'static str,
    pub(super) width: f32,
    pub(super) align: Align,
}

/// One cell: its lines (already wrapped) and how they look.
pub(super) struct Cell {
    pub(super) lines: Vec<(String, Face, Rgb3)>,
}

impl Cell {
    pub(super) fn plain(s: impl Into<String>) -> Self {
        Cell { lines: vec![(s.into(), Face::Regular, INK)] }
    }
    pub(super) fn bold(s: impl Into<String>) -> Self {
        Cell { lines: vec![(s.into(), Face::Bold, INK)] }
    }
    pub(super) fn colored(s: impl Into<String>, c: Rgb3) -> Self {
        Cell { lines: vec![(s.into(), Face::Regular, c)] }
    }
    /// An amount with its value in the authority's currency beneath.
    pub(super) fn dual(main: &Amount, other: &Amount, face: Face) -> Self {
        Cell { lines: vec![(main.text.clone(), face, INK), (other.text.clone(), Face::Regular, MUTED)] }
    }
}

pub(super) const TABLE_SIZE: f32 = 7.6;
/// The size of a field's value (bold).
pub(super) const FIELD_SIZE: f32 = 9.5;
pub(super) const TABLE_LEAD: f32 = 10.0;
pub(super) const CELL_PAD: f32 = 4.0;
/// Right-aligned (numeric) cells keep a wider gap to the next column.
pub(super) const RIGHT_PAD: f32 = 9.0;

impl Layout<'_> {
    pub(super) fn table_header(&mut self, cols: &[Col]) {
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
    pub(super) fn table(&mut self, continued: &str, cols: &[Col], rows: Vec<Vec<Cell>>, last_bold_rule: bool) {
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
