//! TrueType subsetting that keeps glyph ids ("retain gids").
//!
//! printpdf's own subsetter (allsorts) parses the whole font, renumbers the
//! glyphs and then printpdf parses the subset again: about a millisecond per
//! report for the two DejaVu faces. The content stream of a `CIDFontType2`
//! with `/CIDToGIDMap /Identity` can just as well address the original glyph
//! ids, so the subset here keeps every glyph slot up to the last one used
//! (later slots are cut, and `maxp` and `hhea` say so) and drops the outlines
//! of the glyphs not used: `glyf` holds only the used glyphs (and the
//! components of used composites), `loca` points every other slot at an
//! empty glyph and their `hmtx` entries are zero. The tables are located once
//! per process; a subset is then a few copies, about ten microseconds.
//!
//! Kept: `cvt `, `fpgm`, `prep` (hinting), `head`, `hhea`, `maxp`, `OS/2`,
//! `name` (it carries the font's copyright and licence), `gasp`; `post` is
//! cut to format 3 (no glyph names) and `cmap` is rebuilt for the used
//! characters only. The layout tables (`GSUB`, `GPOS`, `GDEF`, `kern`) are
//! dropped: a PDF places every glyph itself.

use std::collections::BTreeMap;
use std::ops::Range;

/// A parsed table directory of one TrueType font.
pub(crate) struct FontProgram {
    bytes: &'static [u8],
    /// Tables copied as they are, sorted by tag.
    tables: Vec<([u8; 4], Range<usize>)>,
    /// Glyph `g` is `glyf[loca[g]..loca[g + 1]]`.
    loca: Vec<u32>,
    glyf: Range<usize>,
    head: Range<usize>,
    hhea: Range<usize>,
    maxp: Range<usize>,
    post: Range<usize>,
    hmtx: Range<usize>,
    cmap: Option<Range<usize>>,
    num_hmetrics: usize,
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// The OpenType table checksum: the sum of big-endian `u32`s, zero padded.
fn checksum(data: &[u8]) -> u32 {
    let mut chunks = data.chunks_exact(4);
    let mut sum = chunks.by_ref().fold(0_u32, |s, c| s.wrapping_add(u32::from_be_bytes([c[0], c[1], c[2], c[3]])));
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut last = [0_u8; 4];
        last[..rest.len()].copy_from_slice(rest);
        sum = sum.wrapping_add(u32::from_be_bytes(last));
    }
    sum
}

/// Tables copied as they are; `head`, `hhea` and `maxp` are copied with
/// their glyph counts and formats changed.
const KEPT: [&[u8; 4]; 6] = [b"OS/2", b"cvt ", b"fpgm", b"gasp", b"name", b"prep"];

impl FontProgram {
    /// Reads the table directory of a single-face TrueType (`glyf`) font.
    pub(crate) fn parse(bytes: &'static [u8]) -> Option<FontProgram> {
        if u32_at(bytes, 0)? != 0x0001_0000 {
            return None;
        }
        let count = usize::from(u16_at(bytes, 4)?);
        let mut found: BTreeMap<[u8; 4], Range<usize>> = BTreeMap::new();
        for i in 0..count {
            let rec = 12 + 16 * i;
            let tag: [u8; 4] = bytes.get(rec..rec + 4)?.try_into().ok()?;
            let offset = u32_at(bytes, rec + 8)? as usize;
            let length = u32_at(bytes, rec + 12)? as usize;
            bytes.get(offset..offset + length)?;
            found.insert(tag, offset..offset + length);
        }
        let head = found.get(b"head")?.clone();
        let long_loca = u16_at(bytes, head.start + 50)? == 1;
        let maxp = found.get(b"maxp")?.clone();
        let hhea = found.get(b"hhea")?.clone();
        if head.len() < 54 || maxp.len() < 6 || hhea.len() < 36 {
            return None;
        }
        let num_glyphs = usize::from(u16_at(bytes, maxp.start + 4)?);
        let num_hmetrics = usize::from(u16_at(bytes, hhea.start + 34)?);
        let glyf = found.get(b"glyf")?.clone();
        let loca_range = found.get(b"loca")?.clone();
        let loca = (0..=num_glyphs)
            .map(|g| {
                if long_loca {
                    u32_at(bytes, loca_range.start + 4 * g)
                } else {
                    u16_at(bytes, loca_range.start + 2 * g).map(|o| 2 * u32::from(o))
                }
            })
            .collect::<Option<Vec<u32>>>()?;
        if loca.windows(2).any(|w| w[0] > w[1]) || *loca.last()? as usize > glyf.len() {
            return None;
        }
        let hmtx = found.get(b"hmtx")?.clone();
        if num_hmetrics == 0
            || num_hmetrics > num_glyphs
            || hmtx.len() < 4 * num_hmetrics + 2 * (num_glyphs - num_hmetrics)
        {
            return None;
        }
        let post = found.get(b"post")?.clone();
        if post.len() < 32 {
            return None;
        }
        let tables = KEPT.iter().filter_map(|tag| Some((**tag, found.get(*tag)?.clone()))).collect();
        let cmap = found.get(b"cmap").cloned();
        Some(FontProgram { bytes, tables, loca, glyf, head, hhea, maxp, post, hmtx, cmap, num_hmetrics })
    }

    fn num_glyphs(&self) -> usize {
        self.loca.len() - 1
    }

    fn glyph(&self, gid: usize) -> &[u8] {
        let start = self.glyf.start + self.loca[gid] as usize;
        let end = self.glyf.start + self.loca[gid + 1] as usize;
        &self.bytes[start..end]
    }

    /// The glyph ids a composite glyph is made of.
    fn components(&self, gid: usize, out: &mut Vec<usize>) {
        let g = self.glyph(gid);
        if g.len() < 10 || i16::from_be_bytes([g[0], g[1]]) >= 0 {
            return;
        }
        let mut at = 10;
        while let (Some(flags), Some(component)) = (u16_at(g, at), u16_at(g, at + 2)) {
            out.push(usize::from(component));
            at += 4;
            at += if flags & 0x0001 != 0 { 4 } else { 2 };
            if flags & 0x0008 != 0 {
                at += 2;
            } else if flags & 0x0040 != 0 {
                at += 4;
            } else if flags & 0x0080 != 0 {
                at += 8;
            }
            if flags & 0x0020 == 0 {
                break;
            }
        }
    }

    /// A font program with the outlines of `used` (character, glyph id)
    /// pairs and every glyph id where it was.
    pub(crate) fn subset(&self, used: &BTreeMap<u16, char>) -> Vec<u8> {
        let n = self.num_glyphs();
        // The glyphs kept: .notdef, the used ones and their components.
        let mut keep = vec![false; n];
        let mut stack: Vec<usize> = std::iter::once(0).chain(used.keys().map(|&g| usize::from(g))).collect();
        while let Some(g) = stack.pop() {
            if g < n && !keep[g] {
                keep[g] = true;
                self.components(g, &mut stack);
            }
        }
        self.build(&keep, &cmap(used), false)
    }

    /// The font without outlines: every glyph empty, but the whole `cmap`
    /// and `hmtx`. printpdf needs a parsed font to map characters, measure
    /// glyphs and describe the font; given this one instead of the real font
    /// it writes the same font objects and copies a few dozen kilobytes of
    /// font program instead of 750, which [`FontProgram::subset`] replaces.
    pub(crate) fn skeleton(&self) -> Option<Vec<u8>> {
        let keep = vec![false; self.num_glyphs()];
        Some(self.build(&keep, &self.bytes[self.cmap.clone()?], true))
    }

    /// The font with the outlines of the `keep` glyphs. A subset ends at its
    /// last kept glyph (`maxp` and `hhea` say so), its `loca` is in the short
    /// format when `glyf` allows: half the program of the full glyph count.
    /// A `skeleton` keeps every slot and all the original metrics.
    fn build(&self, keep: &[bool], cmap: &[u8], skeleton: bool) -> Vec<u8> {
        let n = if skeleton { self.num_glyphs() } else { keep.iter().rposition(|k| *k).map_or(1, |g| g + 1) };
        let keep = &keep[..n.min(keep.len())];

        let mut glyf = Vec::new();
        let mut offsets = Vec::with_capacity(n + 1);
        for (g, kept) in keep.iter().enumerate() {
            offsets.push(glyf.len());
            if *kept {
                glyf.extend_from_slice(self.glyph(g));
                glyf.resize(glyf.len().next_multiple_of(4), 0);
            }
        }
        offsets.push(glyf.len());
        // Short offsets count 16-bit words; glyphs start at multiples of 4.
        let short_loca = glyf.len() / 2 <= usize::from(u16::MAX);
        let mut loca = Vec::with_capacity(if short_loca { 2 } else { 4 } * (n + 1));
        for o in offsets {
            if short_loca {
                loca.extend_from_slice(&((o / 2) as u16).to_be_bytes());
            } else {
                loca.extend_from_slice(&(o as u32).to_be_bytes());
            }
        }

        // Entry `g` sits at the same place as in the original for every
        // `g < n`: the long metrics are cut to `n` at most.
        let num_hmetrics = self.num_hmetrics.min(n);
        let src_hmtx = &self.bytes[self.hmtx.clone()];
        let mut hmtx = vec![0_u8; 4 * num_hmetrics + 2 * (n - num_hmetrics)];
        if skeleton {
            let len = hmtx.len();
            hmtx.copy_from_slice(&src_hmtx[..len]);
        } else {
            for (g, _) in keep.iter().enumerate().filter(|(_, kept)| **kept) {
                let r = if g < num_hmetrics {
                    4 * g..4 * g + 4
                } else {
                    let at = 4 * num_hmetrics + 2 * (g - num_hmetrics);
                    at..at + 2
                };
                hmtx[r.clone()].copy_from_slice(&src_hmtx[r]);
            }
        }

        let mut post = self.bytes[self.post.start..self.post.start + 32].to_vec();
        post[..4].copy_from_slice(&0x0003_0000_u32.to_be_bytes());

        let mut head = self.bytes[self.head.clone()].to_vec();
        head[8..12].fill(0); // checksumAdjustment, set below
        head[50..52].copy_from_slice(&u16::from(!short_loca).to_be_bytes()); // indexToLocFormat

        let mut maxp = self.bytes[self.maxp.clone()].to_vec();
        maxp[4..6].copy_from_slice(&(n as u16).to_be_bytes());
        let mut hhea = self.bytes[self.hhea.clone()].to_vec();
        hhea[34..36].copy_from_slice(&(num_hmetrics as u16).to_be_bytes());

        let mut tables: Vec<([u8; 4], &[u8])> = self.tables.iter().map(|(t, r)| (*t, &self.bytes[r.clone()])).collect();
        tables.extend([
            (*b"cmap", cmap),
            (*b"glyf", &glyf[..]),
            (*b"head", &head[..]),
            (*b"hhea", &hhea[..]),
            (*b"hmtx", &hmtx[..]),
            (*b"loca", &loca[..]),
            (*b"maxp", &maxp[..]),
            (*b"post", &post[..]),
        ]);
        tables.sort_by_key(|(t, _)| *t);
        write_sfnt(&tables)
    }
}

/// A `cmap` with one format 4 subtable (Windows, Unicode BMP) mapping the
/// used characters.
fn cmap(used: &BTreeMap<u16, char>) -> Vec<u8> {
    let mut pairs: Vec<(u16, u16)> =
        used.iter().filter_map(|(&g, &c)| Some((u16::try_from(u32::from(c)).ok()?, g))).collect();
    pairs.sort_unstable();
    pairs.dedup_by_key(|(c, _)| *c);
    pairs.retain(|(c, _)| *c != 0xFFFF);
    // One segment per character, then the required final 0xFFFF segment.
    let segs = pairs.len() + 1;
    let mut search_range = 2;
    let mut selector = 0_u16;
    while search_range * 2 <= 2 * segs {
        search_range *= 2;
        selector += 1;
    }
    let length = 16 + 8 * segs;
    let mut t = Vec::with_capacity(12 + length);
    for v in [0_u16, 1, 3, 1] {
        t.extend_from_slice(&v.to_be_bytes());
    }
    t.extend_from_slice(&12_u32.to_be_bytes());
    let words =
        [4, length as u16, 0, (2 * segs) as u16, search_range as u16, selector, (2 * segs - search_range) as u16];
    for v in words {
        t.extend_from_slice(&v.to_be_bytes());
    }
    for (c, _) in &pairs {
        t.extend_from_slice(&c.to_be_bytes()); // end codes
    }
    t.extend_from_slice(&0xFFFF_u16.to_be_bytes());
    t.extend_from_slice(&0_u16.to_be_bytes()); // reserved pad
    for (c, _) in &pairs {
        t.extend_from_slice(&c.to_be_bytes()); // start codes
    }
    t.extend_from_slice(&0xFFFF_u16.to_be_bytes());
    for (c, g) in &pairs {
        t.extend_from_slice(&g.wrapping_sub(*c).to_be_bytes()); // deltas
    }
    t.extend_from_slice(&1_u16.to_be_bytes());
    for _ in 0..segs {
        t.extend_from_slice(&0_u16.to_be_bytes()); // range offsets
    }
    t
}

/// An sfnt from tables sorted by tag; fills in `head.checksumAdjustment`.
fn write_sfnt(tables: &[([u8; 4], &[u8])]) -> Vec<u8> {
    let count = tables.len();
    let mut entry_selector = 0_u16;
    while (2_usize << entry_selector) <= count {
        entry_selector += 1;
    }
    let search_range = 16_usize << entry_selector;
    let body: usize = tables.iter().map(|(_, d)| d.len().next_multiple_of(4)).sum();
    let mut out = Vec::with_capacity(12 + 16 * count + body);
    out.extend_from_slice(&0x0001_0000_u32.to_be_bytes());
    for v in [count as u16, search_range as u16, entry_selector, (16 * count - search_range) as u16] {
        out.extend_from_slice(&v.to_be_bytes());
    }
    let mut offset = 12 + 16 * count;
    let mut head_at = None;
    for (tag, data) in tables {
        if tag == b"head" {
            head_at = Some(offset);
        }
        out.extend_from_slice(tag);
        out.extend_from_slice(&checksum(data).to_be_bytes());
        out.extend_from_slice(&(offset as u32).to_be_bytes());
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        offset += data.len().next_multiple_of(4);
    }
    for (_, data) in tables {
        out.extend_from_slice(data);
        out.resize(out.len().next_multiple_of(4), 0);
    }
    if let Some(at) = head_at {
        let adjustment = 0xB1B0_AFBA_u32.wrapping_sub(checksum(&out));
        out[at + 8..at + 12].copy_from_slice(&adjustment.to_be_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const REGULAR: &[u8] = include_bytes!("../../templates/report/fonts/DejaVuSans.ttf");

    #[test]
    fn keeps_glyph_ids_and_outlines_of_used_glyphs() {
        let font = FontProgram::parse(REGULAR).unwrap();
        let n = font.num_glyphs();
        // 'A' (a simple glyph) and 'Ë' (a composite in DejaVu).
        let face = ttf_lookup(REGULAR);
        let used: BTreeMap<u16, char> = ['A', 'Ë', ' '].into_iter().map(|c| (face(c), c)).collect();
        let sub = FontProgram::parse(Box::leak(font.subset(&used).into_boxed_slice())).unwrap();
        let last = used.keys().copied().max().unwrap();
        assert!(sub.num_glyphs() > usize::from(last) && sub.num_glyphs() < n, "{} of {n} slots", sub.num_glyphs());
        for &g in used.keys() {
            assert_eq!(sub.glyph(usize::from(g)).len(), font.glyph(usize::from(g)).len().next_multiple_of(4));
        }
        let mut parts = Vec::new();
        font.components(usize::from(face('Ë')), &mut parts);
        assert!(!parts.is_empty(), "Ë is a composite");
        for p in parts {
            assert!(!sub.glyph(p).is_empty(), "component {p} kept");
        }
        assert!(sub.glyph(usize::from(face('B'))).is_empty());
        assert!(!sub.glyph(0).is_empty(), ".notdef kept");
        // The whole file sums to the magic number.
        let bytes = font.subset(&used);
        assert_eq!(checksum(&bytes), 0xB1B0_AFBA);
        assert!(bytes.len() < 120_000, "{}", bytes.len());
    }

    /// Character → glyph id through the font's own format 4 cmap.
    fn ttf_lookup(bytes: &'static [u8]) -> impl Fn(char) -> u16 {
        let font = printpdf::ParsedFont::from_bytes(bytes, 0, &mut Vec::new()).unwrap();
        move |c| font.lookup_glyph_index(u32::from(c)).unwrap()
    }
}
