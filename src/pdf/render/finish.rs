//! Finishing the document printpdf makes: our page contents and font
//! subsets in, fixed id and dates, the document information, the attached
//! `report.json`, compressed streams; and reading `report.json` back.

use super::fonts::*;
use super::*;

/// One text run per face showing each used glyph once: all printpdf needs
/// to describe the fonts.
pub(super) fn glyph_runs(used: &UsedGlyphs) -> Vec<Op> {
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
pub(super) fn replace_contents(doc: &mut PDocument, contents: Vec<Vec<u8>>) -> Result<(), RenderError> {
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
pub(super) fn embed_subsets(doc: &mut PDocument, fonts: &Fonts, used: &UsedGlyphs) -> Result<(), RenderError> {
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

/// [`crate::pdf::text_string`] as printpdf's lopdf writes it.
pub(super) fn text_string(s: &str) -> PObject {
    let t = crate::pdf::text_string(s);
    PObject::String(t.bytes, if t.literal { PStringFormat::Literal } else { PStringFormat::Hexadecimal })
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
pub(super) fn deflate(bytes: &[u8], level: u32) -> Result<Vec<u8>, RenderError> {
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
pub(super) fn compress_streams(doc: &mut PDocument) -> Result<(), RenderError> {
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

pub(super) fn finish(mut doc: PDocument, data: &ReportData) -> Result<Vec<u8>, RenderError> {
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

pub(super) fn resolve<'a>(doc: &'a Document, obj: &'a Object) -> Result<&'a Object, RenderError> {
    match obj {
        Object::Reference(id) => doc.get_object(*id).map_err(|_| RenderError::NoReportJson),
        other => Ok(other),
    }
}
