//! Just enough PDF reading to verify a report, without parsing the whole
//! document: the signature dictionary (found by its `/ByteRange`), the
//! cross-reference tables, and the objects on the path from the catalog to
//! the attached `report.json`.
//!
//! Everything here takes untrusted bytes: no indexing that can panic,
//! nesting and `/Prev` chains bounded, decompression capped.

use std::collections::HashMap;
use std::io::Read;
use std::ops::Range;

use memchr::memmem;

/// Deepest nesting of arrays and dictionaries we follow.
const MAX_DEPTH: usize = 32;
/// Longest `/Prev` chain of cross-reference sections we follow.
const MAX_SECTIONS: usize = 64;
/// Largest decompressed attachment we accept.
pub const MAX_ATTACHMENT: u64 = 16 * 1024 * 1024;

/// A parsed PDF object. Strings keep where they were in the file.
#[derive(Debug, Clone, PartialEq)]
pub enum Obj {
    Null,
    Bool(bool),
    Int(i64),
    Real,
    Name(Vec<u8>),
    Str { bytes: Vec<u8>, span: Range<usize> },
    Array(Vec<Obj>),
    Dict(Vec<(Vec<u8>, Obj)>),
    Ref(u32, u16),
}

impl Obj {
    pub fn get(&self, key: &[u8]) -> Option<&Obj> {
        match self {
            Obj::Dict(entries) => entries.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_name(&self) -> Option<&[u8]> {
        match self {
            Obj::Name(n) => Some(n),
            _ => None,
        }
    }

    pub fn as_int(&self) -> Option<i64> {
        match self {
            Obj::Int(n) => Some(*n),
            _ => None,
        }
    }
}

fn is_white(b: u8) -> bool {
    matches!(b, b'\0' | b'\t' | b'\n' | b'\x0c' | b'\r' | b' ')
}

fn is_delim(b: u8) -> bool {
    matches!(b, b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%')
}

/// A cursor over the file.
pub struct Lexer<'a> {
    pub data: &'a [u8],
    pub pos: usize,
}

impl<'a> Lexer<'a> {
    pub fn new(data: &'a [u8], pos: usize) -> Self {
        Lexer { data, pos }
    }

    fn peek(&self) -> Option<u8> {
        self.data.get(self.pos).copied()
    }

    fn rest(&self) -> &'a [u8] {
        self.data.get(self.pos..).unwrap_or_default()
    }

    pub fn skip_white(&mut self) {
        while let Some(b) = self.peek() {
            if is_white(b) {
                self.pos += 1;
            } else if b == b'%' {
                while self.peek().is_some_and(|b| b != b'\n' && b != b'\r') {
                    self.pos += 1;
                }
            } else {
                break;
            }
        }
    }

    /// A run of regular characters (a number or a keyword).
    fn word(&mut self) -> &'a [u8] {
        let start = self.pos;
        while self.peek().is_some_and(|b| !is_white(b) && !is_delim(b)) {
            self.pos += 1;
        }
        self.data.get(start..self.pos).unwrap_or_default()
    }

    pub fn keyword(&mut self, expected: &[u8]) -> Option<()> {
        self.skip_white();
        (self.word() == expected).then_some(())
    }

    pub fn unsigned(&mut self) -> Option<u64> {
        self.skip_white();
        let w = self.word();
        if w.is_empty() || !w.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(w).ok()?.parse().ok()
    }

    /// One object; `N G R` references are recognised after an integer.
    pub fn object(&mut self, depth: usize) -> Option<Obj> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.skip_white();
        let start = self.pos;
        match self.peek()? {
            b'<' if self.rest().starts_with(b"<<") => {
                self.pos += 2;
                let mut entries = Vec::new();
                loop {
                    self.skip_white();
                    if self.rest().starts_with(b">>") {
                        self.pos += 2;
                        return Some(Obj::Dict(entries));
                    }
                    let Obj::Name(key) = self.object(depth + 1)? else { return None };
                    let value = self.object(depth + 1)?;
                    entries.push((key, value));
                }
            }
            b'<' => {
                self.pos += 1;
                let end = self.pos + memchr::memchr(b'>', self.rest())?;
                let digits: Vec<u8> = self.data.get(self.pos..end)?.iter().copied().filter(|b| !is_white(*b)).collect();
                self.pos = end + 1;
                let mut padded = digits;
                if padded.len() % 2 == 1 {
                    padded.push(b'0');
                }
                let bytes = hex::decode(&padded).ok()?;
                Some(Obj::Str { bytes, span: start..self.pos })
            }
            b'(' => {
                let bytes = self.literal()?;
                Some(Obj::Str { bytes, span: start..self.pos })
            }
            b'/' => {
                self.pos += 1;
                let raw = self.word();
                Some(Obj::Name(decode_name(raw)))
            }
            b'[' => {
                self.pos += 1;
                let mut items = Vec::new();
                loop {
                    self.skip_white();
                    if self.peek()? == b']' {
                        self.pos += 1;
                        return Some(Obj::Array(items));
                    }
                    items.push(self.object(depth + 1)?);
                }
            }
            _ => {
                let w = self.word();
                match w {
                    b"true" => Some(Obj::Bool(true)),
                    b"false" => Some(Obj::Bool(false)),
                    b"null" => Some(Obj::Null),
                    _ if !w.is_empty() && w.iter().all(u8::is_ascii_digit) => {
                        let n: i64 = std::str::from_utf8(w).ok()?.parse().ok()?;
                        // Look ahead for `G R`.
                        let save = self.pos;
                        if let Some(generation) = self.unsigned()
                            && self.keyword(b"R").is_some()
                            && let (Ok(id), Ok(generation)) = (u32::try_from(n), u16::try_from(generation))
                        {
                            return Some(Obj::Ref(id, generation));
                        }
                        self.pos = save;
                        Some(Obj::Int(n))
                    }
                    _ if !w.is_empty() && w.iter().all(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.')) => {
                        if w.contains(&b'.') {
                            Some(Obj::Real)
                        } else {
                            std::str::from_utf8(w).ok()?.parse().ok().map(Obj::Int)
                        }
                    }
                    _ => None,
                }
            }
        }
    }

    /// A literal string `( ... )` with nesting and escapes (ISO 32000-2 7.3.4.2).
    fn literal(&mut self) -> Option<Vec<u8>> {
        self.pos += 1;
        let mut out = Vec::new();
        let mut nesting = 0usize;
        loop {
            let b = self.peek()?;
            self.pos += 1;
            match b {
                b'(' => {
                    nesting += 1;
                    out.push(b);
                }
                b')' if nesting == 0 => return Some(out),
                b')' => {
                    nesting -= 1;
                    out.push(b);
                }
                b'\\' => {
                    let e = self.peek()?;
                    self.pos += 1;
                    match e {
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'\r' => {
                            if self.peek() == Some(b'\n') {
                                self.pos += 1;
                            }
                        }
                        b'\n' => {}
                        b'0'..=b'7' => {
                            let mut value = u32::from(e - b'0');
                            for _ in 0..2 {
                                match self.peek() {
                                    Some(d @ b'0'..=b'7') => {
                                        value = value * 8 + u32::from(d - b'0');
                                        self.pos += 1;
                                    }
                                    _ => break,
                                }
                            }
                            out.push((value & 0xff) as u8);
                        }
                        other => out.push(other),
                    }
                }
                _ => out.push(b),
            }
        }
    }
}

fn decode_name(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while let Some(&b) = raw.get(i) {
        if b == b'#'
            && let Some(v) = raw.get(i + 1..i + 3).and_then(|h| hex::decode(h).ok())
        {
            out.extend_from_slice(&v);
            i += 3;
            continue;
        }
        out.push(b);
        i += 1;
    }
    out
}

/// An indirect object `N G obj <object>` starting at `at`, with the offset
/// just past the object.
fn indirect_at(pdf: &[u8], at: usize) -> Option<(u32, Obj, usize)> {
    let mut lx = Lexer::new(pdf, at);
    let id = u32::try_from(lx.unsigned()?).ok()?;
    lx.unsigned()?;
    lx.keyword(b"obj")?;
    let obj = lx.object(0)?;
    Some((id, obj, lx.pos))
}

/// A signature dictionary found in the file.
#[derive(Debug, Clone)]
pub struct SigDict {
    pub dict: Obj,
    /// Where `/Contents`'s hex string is in the file, `<` to just past `>`.
    pub contents_span: Option<Range<usize>>,
}

impl SigDict {
    /// `/ByteRange` as four non-negative integers.
    pub fn byte_range(&self) -> Option<[usize; 4]> {
        let Some(Obj::Array(items)) = self.dict.get(b"ByteRange") else { return None };
        let numbers: Vec<usize> =
            items.iter().map(|o| o.as_int().and_then(|n| usize::try_from(n).ok())).collect::<Option<_>>()?;
        numbers.try_into().ok()
    }

    pub fn string(&self, key: &[u8]) -> Option<&[u8]> {
        match self.dict.get(key) {
            Some(Obj::Str { bytes, .. }) => Some(bytes),
            _ => None,
        }
    }
}

/// How many `/ByteRange` keys are looked at, and how far back from each the
/// object that holds it may start.
const MAX_BYTE_RANGE_KEYS: usize = 16;
const MAX_LOOK_BACK: usize = 64 * 1024;
/// Entries of the embedded-files name array looked at (ours has one).
const MAX_EMBEDDED_NAMES: usize = 64;

/// Every `/Type /Sig` dictionary that holds a `/ByteRange`, in file order.
/// Each is found from its `/ByteRange` key back to the `N G obj` that opens
/// its object.
pub fn signature_dictionaries(pdf: &[u8]) -> Vec<SigDict> {
    let mut found = Vec::new();
    let mut after = 0;
    // Bounded work whatever the upload: a file stuffed with `/ByteRange`
    // keys, or with none of the `obj` keywords they look back for, would
    // otherwise cost time quadratic in its size. A signature hidden behind
    // more decoys than this is simply not found, and the file is rejected.
    for hit in memmem::find_iter(pdf, b"/ByteRange").take(MAX_BYTE_RANGE_KEYS) {
        if hit < after {
            continue;
        }
        let Some(head) = pdf.get(hit.saturating_sub(MAX_LOOK_BACK)..hit) else { continue };
        let base = hit.saturating_sub(MAX_LOOK_BACK);
        // The nearest few `obj` keywords before the key; the first that opens
        // a dictionary spanning the key is its object.
        for obj_kw in memmem::rfind_iter(head, b"obj").take(4) {
            let Some(start) = object_start(pdf, base + obj_kw) else { continue };
            let Some((_, dict, end)) = indirect_at(pdf, start) else { continue };
            if end <= hit || !matches!(dict, Obj::Dict(_)) {
                continue;
            }
            if dict.get(b"Type").and_then(Obj::as_name) == Some(b"Sig") && dict.get(b"ByteRange").is_some() {
                let contents_span = match dict.get(b"Contents") {
                    Some(Obj::Str { span, .. }) => Some(span.clone()),
                    _ => None,
                };
                found.push(SigDict { dict, contents_span });
            }
            after = end;
            break;
        }
    }
    found
}

/// Where the `N G` before the `obj` keyword at `obj_kw` begins.
fn object_start(pdf: &[u8], obj_kw: usize) -> Option<usize> {
    let mut i = obj_kw;
    let mut numbers = 0;
    while numbers < 2 {
        while i > 0 && pdf.get(i - 1).is_some_and(|b| is_white(*b)) {
            i -= 1;
        }
        let end = i;
        while i > 0 && pdf.get(i - 1).is_some_and(u8::is_ascii_digit) {
            i -= 1;
        }
        if i == end {
            return None;
        }
        numbers += 1;
    }
    Some(i)
}

/// The objects of the file by number, from its classic cross-reference
/// tables (the newest section wins), and the newest trailer.
pub struct Xref {
    offsets: HashMap<u32, usize>,
    pub trailer: Obj,
}

impl Xref {
    /// Reads the tables from the last `startxref` back along `/Prev`.
    /// `None` for cross-reference streams or damaged tables.
    pub fn read(pdf: &[u8]) -> Option<Xref> {
        let tail_from = pdf.len().saturating_sub(1024);
        let at = tail_from + memmem::rfind(pdf.get(tail_from..)?, b"startxref")?;
        let mut lx = Lexer::new(pdf, at + b"startxref".len());
        let mut next = Some(usize::try_from(lx.unsigned()?).ok()?);
        let mut offsets = HashMap::new();
        let mut newest_trailer = None;
        let mut seen = Vec::new();
        while let Some(section) = next {
            if seen.contains(&section) || seen.len() >= MAX_SECTIONS {
                return None;
            }
            seen.push(section);
            let mut lx = Lexer::new(pdf, section);
            lx.keyword(b"xref")?;
            loop {
                lx.skip_white();
                if lx.rest().starts_with(b"trailer") {
                    lx.pos += b"trailer".len();
                    break;
                }
                let first = u32::try_from(lx.unsigned()?).ok()?;
                let count = u32::try_from(lx.unsigned()?).ok()?;
                for i in 0..count {
                    let offset = usize::try_from(lx.unsigned()?).ok()?;
                    lx.unsigned()?;
                    lx.skip_white();
                    let kind = lx.word();
                    if kind == b"n" {
                        offsets.entry(first.checked_add(i)?).or_insert(offset);
                    } else if kind != b"f" {
                        return None;
                    }
                }
            }
            let trailer = lx.object(0)?;
            next = match trailer.get(b"Prev") {
                Some(prev) => Some(usize::try_from(prev.as_int()?).ok()?),
                None => None,
            };
            newest_trailer.get_or_insert(trailer);
        }
        Some(Xref { offsets, trailer: newest_trailer? })
    }

    /// Object `id` and the offset just past it.
    fn object(&self, pdf: &[u8], id: u32) -> Option<(Obj, usize)> {
        let at = *self.offsets.get(&id)?;
        let (found, obj, end) = indirect_at(pdf, at)?;
        (found == id).then_some((obj, end))
    }

    /// `obj`, or the object it refers to (one level).
    pub fn resolve<'o>(&self, pdf: &[u8], obj: &'o Obj) -> Option<std::borrow::Cow<'o, Obj>> {
        match obj {
            Obj::Ref(id, _) => self.object(pdf, *id).map(|(o, _)| std::borrow::Cow::Owned(o)),
            other => Some(std::borrow::Cow::Borrowed(other)),
        }
    }

    /// The decoded data of stream object `id` (unfiltered or FlateDecode).
    fn stream(&self, pdf: &[u8], id: u32) -> Option<Vec<u8>> {
        let (dict, end) = self.object(pdf, id)?;
        let mut lx = Lexer::new(pdf, end);
        lx.keyword(b"stream")?;
        let start = match pdf.get(lx.pos..lx.pos + 2)? {
            [b'\r', b'\n'] => lx.pos + 2,
            [b'\n', _] => lx.pos + 1,
            _ => return None,
        };
        let length = usize::try_from(self.resolve(pdf, dict.get(b"Length")?)?.as_int()?).ok()?;
        let raw = pdf.get(start..start.checked_add(length)?)?;
        match dict.get(b"Filter") {
            None => Some(raw.to_vec()),
            Some(filter) => {
                let name = match filter {
                    Obj::Array(items) if items.len() == 1 => items.first()?.as_name()?,
                    other => other.as_name()?,
                };
                if name != b"FlateDecode" {
                    return None;
                }
                let mut out = Vec::new();
                flate2::read::ZlibDecoder::new(raw).take(MAX_ATTACHMENT + 1).read_to_end(&mut out).ok()?;
                (out.len() as u64 <= MAX_ATTACHMENT).then_some(out)
            }
        }
    }

    /// The bytes of the embedded file named `name`: catalog → `/Names` →
    /// `/EmbeddedFiles` → `/Names` → file specification → `/EF` → `/F`.
    pub fn embedded_file(&self, pdf: &[u8], name: &[u8]) -> Option<Vec<u8>> {
        let catalog = self.resolve(pdf, self.trailer.get(b"Root")?)?;
        let names = self.resolve(pdf, catalog.get(b"Names")?)?;
        let files = self.resolve(pdf, names.get(b"EmbeddedFiles")?)?;
        let list = self.resolve(pdf, files.get(b"Names")?)?;
        let Obj::Array(items) = list.as_ref() else { return None };
        for pair in items.chunks(2).take(MAX_EMBEDDED_NAMES) {
            let [key, spec] = pair else { continue };
            let key = self.resolve(pdf, key)?;
            let Obj::Str { bytes, .. } = key.as_ref() else { continue };
            if bytes != name {
                continue;
            }
            let spec = self.resolve(pdf, spec)?;
            let ef = self.resolve(pdf, spec.get(b"EF")?)?;
            let Obj::Ref(id, _) = ef.get(b"F")? else { return None };
            return self.stream(pdf, *id);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_full_of_decoy_keys_costs_bounded_work() {
        // Without the bounds this took time quadratic in the size (hours);
        // with them it is a few look-backs of 64 KiB.
        let mut pdf = b"%PDF-1.7\n".to_vec();
        pdf.extend(b"/ByteRange ".repeat(800_000));
        assert!(signature_dictionaries(&pdf).is_empty());
    }

    #[test]
    fn objects_strings_names_and_references() {
        let text = br"<</Type/Sig/M(D:2026\051)/N#20x 1 0 R/A[1 -2 3.5 true null<4142 43>]/S(a(b)c\\)>>";
        let obj = Lexer::new(text, 0).object(0).unwrap();
        assert_eq!(obj.get(b"Type").and_then(Obj::as_name), Some(&b"Sig"[..]));
        assert!(matches!(obj.get(b"M"), Some(Obj::Str { bytes, .. }) if bytes == b"D:2026)"));
        assert_eq!(obj.get(b"N x"), Some(&Obj::Ref(1, 0)));
        let Some(Obj::Array(a)) = obj.get(b"A") else { panic!() };
        assert_eq!(a[0], Obj::Int(1));
        assert_eq!(a[1], Obj::Int(-2));
        assert_eq!(a[2], Obj::Real);
        assert!(matches!(&a[5], Obj::Str { bytes, span } if bytes == b"ABC" && text[span.clone()] == b"<4142 43>"[..]));
        assert!(matches!(obj.get(b"S"), Some(Obj::Str { bytes, .. }) if bytes == b"a(b)c\\"));
    }

    #[test]
    fn hostile_input_is_refused_not_panicked_on() {
        let deep = "[".repeat(10_000);
        assert!(Lexer::new(deep.as_bytes(), 0).object(0).is_none());
        for text in [&b"<<"[..], b"(unterminated", b"<abc", b"/", b"", b"1 0", b"<</K>>", b"99999999999999999999999"] {
            let _ = Lexer::new(text, 0).object(0);
        }
        assert!(signature_dictionaries(b"obj /ByteRange").is_empty());
        assert!(Xref::read(b"startxref 999999").is_none());
        assert!(Xref::read(b"xref\n0 1\n0000000000 65535 f \ntrailer<</Prev 0>>startxref 0").is_none(), "a loop");
    }
}
