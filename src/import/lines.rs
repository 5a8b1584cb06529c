//! Reading an import file line by line in bounded memory.
//!
//! A record is well under 1 KiB, so a line longer than [`MAX_LINE_BYTES`] is
//! a broken export, not data. Such a line is refused by number without ever
//! being held whole: the reader keeps at most the limit (plus the few bytes
//! of a line ending and a byte order mark), counts and skips the rest of the
//! line, and goes on with the next, so every bad line of a file is still
//! listed. (Reading lines with `BufRead::read_line` instead grows the buffer
//! to the longest line: a 200 MB line took 425 MB before it was refused.)
//!
//! What the reader accepts and how it reports the rest:
//! - Lines end with `\n`; a `\r` before it (Windows' CRLF) is not part of
//!   the line, nor is a `\r` at the end of the last line. The last line may
//!   lack its `\n`.
//! - A UTF-8 byte order mark (`EF BB BF`) at the very start of a file is
//!   skipped, as RFC 8259 §8.1 allows: Windows tools write one.
//! - A line that is not UTF-8 is refused with the byte offset of the first
//!   bad byte within the line, counted from 0 at the line's first byte in
//!   the file, and up to four bytes from there.

use std::io::{self, BufRead};

/// The longest line accepted, in bytes, not counting its line ending or a
/// byte order mark. 64 KiB: a record is well under 1 KiB.
pub const MAX_LINE_BYTES: usize = 64 * 1024;

const BOM: &[u8; 3] = b"\xEF\xBB\xBF";

/// Beyond the limit, room for a byte order mark and a `\r` before `\n`.
const SLACK: usize = BOM.len() + 1;

/// One line as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line<'a> {
    /// The line's text, without its ending (and, on line 1, without a byte
    /// order mark).
    Text(&'a str),
    /// Longer than the limit: the line's whole length in bytes, without its
    /// ending. Its contents were not kept.
    TooLong { bytes: u64 },
    /// Not UTF-8: the offset within the line of the first byte that is not
    /// (counted from 0 at the line's first byte in the file), and the line's
    /// bytes from there (1 to 4), which often tell the encoding.
    NotUtf8 { offset: usize, bad: &'a [u8] },
}

/// A line with its place in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadLine<'a> {
    /// The line number, from 1.
    pub number: u64,
    /// The bytes this line takes in the file, its ending included (for
    /// progress).
    pub file_bytes: u64,
    pub line: Line<'a>,
}

impl Line<'_> {
    /// Why the line is refused before it is parsed, if it is; `number` is
    /// its line number (line 1 gets a hint about UTF-16 files).
    pub fn refusal(&self, number: u64) -> Option<String> {
        match self {
            Line::Text(_) => None,
            Line::TooLong { bytes } => Some(format!(
                "line is {bytes} bytes long; the limit is {MAX_LINE_BYTES} bytes (64 KiB) per line (one record per line)"
            )),
            Line::NotUtf8 { offset, bad } => {
                let hex: Vec<String> = bad.iter().map(|b| format!("0x{b:02X}")).collect();
                let utf16 = number == 1 && *offset == 0 && matches!(bad, [0xFF, 0xFE, ..] | [0xFE, 0xFF, ..]);
                let hint = if utf16 {
                    "the file looks like UTF-16: save it as UTF-8"
                } else {
                    "import files must be UTF-8: was this one exported in another encoding, such as GBK or Latin-1?"
                };
                Some(format!(
                    "not valid UTF-8 at byte offset {offset} of the line (bytes there: {}); {hint}",
                    hex.join(" ")
                ))
            }
        }
    }
}

/// Reads lines from `input` keeping at most the limit in memory.
pub struct LineReader<R> {
    input: R,
    /// The current line, up to the limit plus [`SLACK`]; never grown past
    /// its first capacity.
    buf: Vec<u8>,
    max: usize,
    number: u64,
}

impl<R: BufRead> LineReader<R> {
    /// A reader with the documented limit, [`MAX_LINE_BYTES`].
    pub fn new(input: R) -> Self {
        Self::with_limit(input, MAX_LINE_BYTES)
    }

    /// A reader with another limit (tests use small ones).
    pub fn with_limit(input: R, max: usize) -> Self {
        LineReader { input, buf: Vec::with_capacity(max.saturating_add(SLACK)), max, number: 0 }
    }

    /// The memory the reader holds for a line: it stays at the limit plus a
    /// few bytes whatever the input (tests check this).
    pub fn buffer_capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// The next line, or `None` at the end of the input.
    pub fn next_line(&mut self) -> io::Result<Option<ReadLine<'_>>> {
        self.buf.clear();
        let first = self.number == 0;
        // What may be kept: the limit, a `\r`, and on line 1 a byte order
        // mark. Anything longer is too long whatever follows.
        let keep = self.max.saturating_add(1).saturating_add(if first { BOM.len() } else { 0 });
        let mut length: u64 = 0; // bytes before the `\n`
        let mut consumed: u64 = 0;
        let mut last = None; // the last byte before the `\n`
        loop {
            let available = match self.input.fill_buf() {
                Ok(bytes) => bytes,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if available.is_empty() {
                break;
            }
            let (part, used, ended) = match memchr::memchr(b'\n', available) {
                Some(i) => (&available[..i], i + 1, true),
                None => (available, available.len(), false),
            };
            if let Some(&b) = part.last() {
                last = Some(b);
            }
            length += part.len() as u64;
            let room = keep.saturating_sub(self.buf.len());
            self.buf.extend_from_slice(&part[..part.len().min(room)]);
            self.input.consume(used);
            consumed += used as u64;
            if ended {
                break;
            }
        }
        if consumed == 0 {
            return Ok(None);
        }
        self.number += 1;
        let bom = if first && self.buf.starts_with(BOM) { BOM.len() } else { 0 };
        // A `\r` cannot be the mark's last byte (0xBF): the subtraction
        // below never underflows.
        let cr = usize::from(last == Some(b'\r'));
        let text_length = length - bom as u64 - cr as u64;
        let line = match usize::try_from(text_length) {
            Ok(n) if n <= self.max => {
                // Whole: n + bom + cr <= keep bytes were kept.
                let text = &self.buf[bom..bom + n];
                match std::str::from_utf8(text) {
                    Ok(s) => Line::Text(s),
                    Err(e) => {
                        let at = e.valid_up_to();
                        Line::NotUtf8 { offset: bom + at, bad: &text[at..text.len().min(at + 4)] }
                    }
                }
            }
            _ => Line::TooLong { bytes: text_length },
        };
        Ok(Some(ReadLine { number: self.number, file_bytes: consumed, line }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::io::{BufReader, Read};

    /// What the reader gives, owned, for comparisons.
    #[derive(Debug, Clone, PartialEq, Eq)]
    enum Got {
        Text(String),
        TooLong(u64),
        NotUtf8(usize, Vec<u8>),
    }

    fn collect<R: BufRead>(reader: &mut LineReader<R>) -> (Vec<(u64, u64, Got)>, usize) {
        let before = reader.buffer_capacity();
        let mut out = Vec::new();
        while let Some(read) = reader.next_line().unwrap() {
            let got = match read.line {
                Line::Text(s) => Got::Text(s.to_owned()),
                Line::TooLong { bytes } => Got::TooLong(bytes),
                Line::NotUtf8 { offset, bad } => Got::NotUtf8(offset, bad.to_vec()),
            };
            out.push((read.number, read.file_bytes, got));
        }
        assert_eq!(reader.buffer_capacity(), before, "the line buffer never grows");
        (out, before)
    }

    fn read_all(bytes: &[u8], max: usize) -> Vec<Got> {
        collect(&mut LineReader::with_limit(bytes, max)).0.into_iter().map(|(_, _, g)| g).collect()
    }

    /// A reader that hands out `sizes` bytes per call in turn: the split
    /// points of the input fall wherever a test wants.
    struct Chunked<'a> {
        data: &'a [u8],
        sizes: Vec<usize>,
        next: usize,
    }

    impl Read for Chunked<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let size = self.sizes[self.next % self.sizes.len()].max(1);
            self.next += 1;
            let n = size.min(out.len()).min(self.data.len());
            out[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    /// A reader that produces `len` bytes of `x` without holding them.
    struct Repeat {
        left: u64,
    }

    impl Read for Repeat {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = usize::try_from(self.left).unwrap_or(usize::MAX).min(out.len());
            out[..n].fill(b'x');
            self.left -= n as u64;
            Ok(n)
        }
    }

    /// The reference: what each line should give, computed on the whole
    /// input at once.
    fn model(bytes: &[u8], max: usize) -> Vec<Got> {
        if bytes.is_empty() {
            return Vec::new();
        }
        let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
        body.split(|&b| b == b'\n')
            .enumerate()
            .map(|(i, line)| {
                let bom = if i == 0 && line.starts_with(BOM) { 3 } else { 0 };
                let line = &line[bom..];
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                if line.len() > max {
                    return Got::TooLong(line.len() as u64);
                }
                match std::str::from_utf8(line) {
                    Ok(s) => Got::Text(s.to_owned()),
                    Err(e) => {
                        let at = e.valid_up_to();
                        Got::NotUtf8(bom + at, line[at..line.len().min(at + 4)].to_vec())
                    }
                }
            })
            .collect()
    }

    fn text(lines: &[&str]) -> Vec<Got> {
        lines.iter().map(|l| Got::Text((*l).to_owned())).collect()
    }

    #[test]
    fn lines_end_with_lf_or_crlf_and_the_last_may_lack_one() {
        assert_eq!(read_all(b"a\nb\r\nc", 10), text(&["a", "b", "c"]));
        assert_eq!(read_all(b"a\r\n\r\nb\r\n", 10), text(&["a", "", "b"]));
        assert_eq!(read_all(b"", 10), text(&[]));
        assert_eq!(read_all(b"\n", 10), text(&[""]));
        // Only one `\r` belongs to the ending; one inside a line stays.
        assert_eq!(read_all(b"a\r\r\nb\rc\n", 10), text(&["a\r", "b\rc"]));
    }

    #[test]
    fn a_byte_order_mark_is_skipped_at_the_start_of_a_file_only() {
        assert_eq!(read_all(b"\xEF\xBB\xBF{}\n{}\n", 10), text(&["{}", "{}"]));
        assert_eq!(read_all(b"\xEF\xBB\xBF\r\n", 10), text(&[""]));
        // Later in the file it is text (U+FEFF), refused by the import.
        assert_eq!(read_all(b"{}\n\xEF\xBB\xBF{}\n", 10), text(&["{}", "\u{feff}{}"]));
        // A partial mark is not one.
        assert_eq!(read_all(b"\xEF\xBB{}", 10), vec![Got::NotUtf8(0, b"\xEF\xBB{}".to_vec())]);
    }

    #[test]
    fn the_limit_counts_the_text_only() {
        assert_eq!(read_all(b"12345\n123456\n", 5), vec![Got::Text("12345".into()), Got::TooLong(6)]);
        assert_eq!(read_all(b"\xEF\xBB\xBF12345\r\n12345\r\n", 5), text(&["12345", "12345"]));
        assert_eq!(read_all(b"12345\r", 5), text(&["12345"]));
        assert_eq!(read_all(b"123456\r\nok", 5), vec![Got::TooLong(6), Got::Text("ok".into())]);
    }

    #[test]
    fn invalid_utf8_names_its_offset_and_bytes() {
        let got = read_all(b"ok\n{\"name\":\"\xD5\xC5\"}\n\xEF\xBB\xBFok\n", 100);
        let there = b"\xD5\xC5\"}".to_vec();
        assert_eq!(got, vec![Got::Text("ok".into()), Got::NotUtf8(9, there), Got::Text("\u{feff}ok".into())]);
        // With a byte order mark on line 1 the offset still counts from the
        // line's first byte in the file.
        assert_eq!(read_all(b"\xEF\xBB\xBFab\xFF\n", 100), vec![Got::NotUtf8(5, vec![0xFF])]);
        // A sequence cut short at the end of the line.
        assert_eq!(read_all(b"ab\xE4\xB8\n", 100), vec![Got::NotUtf8(2, vec![0xE4, 0xB8])]);
        let mut reader = LineReader::with_limit(&b"\xFF\xFE{\x00}\x00"[..], 100);
        let utf16 = reader.next_line().unwrap().unwrap();
        assert!(utf16.line.refusal(1).unwrap().contains("UTF-16"), "{:?}", utf16.line.refusal(1));
    }

    #[test]
    fn a_line_far_over_the_limit_is_skipped_in_bounded_memory() {
        // 50 MB of one line, generated as it is read, then two more lines.
        let huge: u64 = 50 * 1024 * 1024;
        let input = Repeat { left: huge }.chain(&b"\nnext\r\nlast"[..]);
        let mut reader = LineReader::new(BufReader::with_capacity(1 << 16, input));
        let (lines, capacity) = collect(&mut reader);
        assert!(capacity <= MAX_LINE_BYTES + SLACK + 64, "capacity {capacity}");
        let got: Vec<_> = lines.into_iter().map(|(n, _, g)| (n, g)).collect();
        assert_eq!(got, vec![(1, Got::TooLong(huge)), (2, Got::Text("next".into())), (3, Got::Text("last".into()))]);
    }

    #[test]
    fn refusals_say_what_to_do() {
        let long = Line::TooLong { bytes: 70_000 }.refusal(3).unwrap();
        assert!(long.contains("70000 bytes") && long.contains("65536"), "{long}");
        let bad = Line::NotUtf8 { offset: 9, bad: &[0xD5] }.refusal(2).unwrap();
        assert!(bad.contains("UTF-8 at byte offset 9 of the line (bytes there: 0xD5)"), "{bad}");
        assert_eq!(Line::Text("{}").refusal(1), None);
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_give_the_reference_result_at_any_split(
            bytes in proptest::collection::vec(
                prop_oneof![Just(b'\n'), Just(b'\r'), Just(0xEF), Just(0xBB), Just(0xBF), any::<u8>(), 0x20u8..0x7f],
                0..300,
            ),
            max in 0usize..40,
            sizes in proptest::collection::vec(1usize..17, 1..8),
            capacity in 1usize..33,
        ) {
            let expected = model(&bytes, max);
            let whole = collect(&mut LineReader::with_limit(&bytes[..], max)).0;
            let split = collect(&mut LineReader::with_limit(
                BufReader::with_capacity(capacity, Chunked { data: &bytes, sizes, next: 0 }),
                max,
            ))
            .0;
            prop_assert_eq!(&whole, &split);
            let got: Vec<Got> = whole.iter().map(|(_, _, g)| g.clone()).collect();
            prop_assert_eq!(got, expected);
            let numbers: Vec<u64> = whole.iter().map(|(n, _, _)| *n).collect();
            prop_assert_eq!(numbers, (1..=whole.len() as u64).collect::<Vec<_>>());
            prop_assert_eq!(whole.iter().map(|(_, b, _)| *b).sum::<u64>(), bytes.len() as u64);
        }

        #[test]
        fn valid_lines_round_trip(
            lines in proptest::collection::vec("[^\n]{0,30}".prop_filter("no CR ending", |l: &String| !l.ends_with('\r')), 0..20),
            crlf in any::<bool>(),
            bom in any::<bool>(),
            final_newline in any::<bool>(),
        ) {
            // A byte order mark inside line 1 would be taken for one.
            prop_assume!(!lines.first().is_some_and(|l| l.starts_with('\u{feff}')));
            let ending = if crlf { "\r\n" } else { "\n" };
            let mut input = if bom { "\u{feff}".to_owned() } else { String::new() };
            for (i, line) in lines.iter().enumerate() {
                input.push_str(line);
                let last = i + 1 == lines.len();
                if !last || final_newline || line.is_empty() {
                    input.push_str(ending);
                }
            }
            // 30 characters of up to 4 bytes each: always within the limit.
            let got = read_all(input.as_bytes(), 120);
            let expected: Vec<Got> = lines.iter().map(|l| Got::Text(l.clone())).collect();
            if bom && lines.is_empty() {
                // A file holding only the mark reads as one empty line.
                prop_assert_eq!(got, vec![Got::Text(String::new())]);
            } else {
                prop_assert_eq!(got, expected);
            }
        }
    }
}
