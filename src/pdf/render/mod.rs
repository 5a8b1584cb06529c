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

use super::subset::FontProgram;
use crate::domain::Currency;
use crate::report::data::{Amount, AssetFigures, ReportData};

mod content;
mod finish;
mod fonts;
mod layout;
mod page_one;
mod sections;
#[cfg(test)]
mod tests;

use content::{GlyphUse, UsedGlyphs};
pub use finish::extract_report_json;
use finish::*;
use fonts::*;
pub use fonts::{Fonts, printable};
use layout::*;
use page_one::*;
use sections::*;

pub use crate::report::sample::sample_report;

/// The name of the attached report data.
pub const REPORT_JSON_NAME: &str = "report.json";

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("cannot load the font {0}")]
    Font(&'static str),
    #[error("cannot make the QR code: {0}")]
    Qr(String),
    #[error("cannot write the PDF: {0}")]
    Pdf(super::PdfError),
    #[error("the PDF has no attached {REPORT_JSON_NAME}")]
    NoReportJson,
    #[error("cannot encode the report data: {0}")]
    Json(#[from] serde_json::Error),
}

fn pdf_error(e: impl std::fmt::Display) -> RenderError {
    RenderError::Pdf(super::pdf_error(e))
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
