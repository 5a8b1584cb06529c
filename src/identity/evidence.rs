//! The identity photos for a manual review: a selfie and the passport's
//! data page. Each must be a JPEG or PNG of at most [`MAX_IMAGE_BYTES`],
//! which is decoded in full (so a file that only starts like an image is
//! refused) within pixel and memory limits (so a small file that would
//! decompress to gigabytes is refused too), then re-encoded as JPEG: what we
//! keep carries no metadata (EXIF, GPS position, camera serial numbers).

use std::io::Cursor;

use image::{DynamicImage, ImageFormat, ImageReader, Limits};

/// The largest file accepted, per image.
pub const MAX_IMAGE_BYTES: usize = 8 * 1024 * 1024;
/// The largest picture decoded: 40 megapixels (a 2025 phone's main camera
/// takes 12 to 50; larger ones are scaled down by the phone's share sheet).
const MAX_PIXELS: u64 = 40_000_000;
/// Pictures smaller than this cannot show a face or a passport page legibly.
const MIN_SIDE: u32 = 200;
/// What we keep: at most this many pixels on the longer side, which keeps a
/// passport page legible and each stored image to a few hundred kilobytes.
const KEEP_SIDE: u32 = 2000;
const JPEG_QUALITY: u8 = 88;

/// Which photo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvidenceKind {
    Selfie,
    PassportPage,
}

impl EvidenceKind {
    pub const ALL: [EvidenceKind; 2] = [EvidenceKind::Selfie, EvidenceKind::PassportPage];

    /// The form's and the API's part name, and the stored kind.
    pub fn as_str(self) -> &'static str {
        match self {
            EvidenceKind::Selfie => "selfie",
            EvidenceKind::PassportPage => "passport_page",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            EvidenceKind::Selfie => "selfie",
            EvidenceKind::PassportPage => "photo of your passport's data page",
        }
    }

    pub fn parse(s: &str) -> Option<EvidenceKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Why a photo is refused, in words for the applicant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvidenceError {
    #[error("the {0} is missing")]
    Missing(&'static str),
    #[error("the {what} is larger than {max_mb} MB; take it again at a lower resolution")]
    TooLarge { what: &'static str, max_mb: usize },
    #[error("the {0} is not a JPEG or PNG picture")]
    NotAnImage(&'static str),
    #[error("the {0} cannot be read: the file is damaged or incomplete")]
    Damaged(&'static str),
    #[error("the {what} is too small ({width}×{height} pixels); it must be at least {MIN_SIDE} pixels on each side")]
    TooSmall { what: &'static str, width: u32, height: u32 },
    #[error("the {0} has too many pixels; take it again at a lower resolution")]
    TooManyPixels(&'static str),
}

/// A checked photo, re-encoded.
#[derive(Clone, PartialEq, Eq)]
pub struct CleanImage {
    pub kind: EvidenceKind,
    /// Always `image/jpeg`.
    pub media_type: &'static str,
    pub width: u32,
    pub height: u32,
    pub jpeg: Vec<u8>,
}

impl std::fmt::Debug for CleanImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CleanImage")
            .field("kind", &self.kind)
            .field("width", &self.width)
            .field("height", &self.height)
            .field("bytes", &self.jpeg.len())
            .finish()
    }
}

/// Checks and re-encodes one uploaded photo.
pub fn clean(kind: EvidenceKind, bytes: &[u8]) -> Result<CleanImage, EvidenceError> {
    let what = kind.label();
    if bytes.is_empty() {
        return Err(EvidenceError::Missing(what));
    }
    if bytes.len() > MAX_IMAGE_BYTES {
        return Err(EvidenceError::TooLarge { what, max_mb: MAX_IMAGE_BYTES / (1024 * 1024) });
    }
    // The format by its content, never by the name or the declared type.
    let format = image::guess_format(bytes).map_err(|_| EvidenceError::NotAnImage(what))?;
    if !matches!(format, ImageFormat::Jpeg | ImageFormat::Png) {
        return Err(EvidenceError::NotAnImage(what));
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_alloc = Some(MAX_PIXELS * 4 + 64 * 1024 * 1024);
    let side = u32::try_from(MAX_PIXELS).unwrap_or(u32::MAX);
    limits.max_image_width = Some(side);
    limits.max_image_height = Some(side);
    reader.limits(limits);
    let (width, height) = reader.into_dimensions().map_err(|_| EvidenceError::Damaged(what))?;
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(EvidenceError::TooManyPixels(what));
    }
    if width < MIN_SIDE || height < MIN_SIDE {
        return Err(EvidenceError::TooSmall { what, width, height });
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_alloc = Some(MAX_PIXELS * 4 + 64 * 1024 * 1024);
    reader.limits(limits);
    let decoded = reader.decode().map_err(|e| match e {
        image::ImageError::Limits(_) => EvidenceError::TooManyPixels(what),
        _ => EvidenceError::Damaged(what),
    })?;
    let decoded = if decoded.width().max(decoded.height()) > KEEP_SIDE {
        decoded.resize(KEEP_SIDE, KEEP_SIDE, image::imageops::FilterType::Triangle)
    } else {
        decoded
    };
    // JPEG has no alpha: flatten onto RGB.
    let rgb = DynamicImage::ImageRgb8(decoded.to_rgb8());
    let mut jpeg = Vec::new();
    let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, JPEG_QUALITY);
    rgb.write_with_encoder(encoder).map_err(|_| EvidenceError::Damaged(what))?;
    Ok(CleanImage { kind, media_type: "image/jpeg", width: rgb.width(), height: rgb.height(), jpeg })
}

/// A plain test picture (a gradient), PNG or JPEG: for the tests, the
/// benchmark and the browser walk-through.
#[doc(hidden)]
pub fn sample_picture(width: u32, height: u32, format: ImageFormat) -> Vec<u8> {
    let picture = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x * 255 / width.max(1)) as u8, (y * 255 / height.max(1)) as u8, 128])
    });
    let mut out = Cursor::new(Vec::new());
    // Writing an in-memory RGB picture as PNG or JPEG cannot fail.
    let _ = DynamicImage::ImageRgb8(picture).write_to(&mut out, format);
    out.into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_and_jpeg_are_re_encoded_as_jpeg() {
        for format in [ImageFormat::Png, ImageFormat::Jpeg] {
            let clean = clean(EvidenceKind::Selfie, &sample_picture(640, 480, format)).unwrap();
            assert_eq!((clean.width, clean.height), (640, 480));
            assert_eq!(image::guess_format(&clean.jpeg).unwrap(), ImageFormat::Jpeg);
        }
    }

    #[test]
    fn metadata_is_dropped() {
        // A JPEG with an APP1 (EXIF) segment right after SOI.
        let jpeg = sample_picture(300, 300, ImageFormat::Jpeg);
        let marker = b"Exif\0\0GPS-SECRET-POSITION";
        let mut with_exif = jpeg[..2].to_vec();
        with_exif.extend_from_slice(&[0xFF, 0xE1]);
        with_exif.extend_from_slice(&u16::try_from(marker.len() + 2).unwrap().to_be_bytes());
        with_exif.extend_from_slice(marker);
        with_exif.extend_from_slice(&jpeg[2..]);
        let clean = clean(EvidenceKind::PassportPage, &with_exif).unwrap();
        assert!(!clean.jpeg.windows(10).any(|w| w == b"GPS-SECRET"));
    }

    #[test]
    fn refusals() {
        assert_eq!(clean(EvidenceKind::Selfie, b""), Err(EvidenceError::Missing("selfie")));
        assert_eq!(clean(EvidenceKind::Selfie, b"%PDF-1.7 not a picture"), Err(EvidenceError::NotAnImage("selfie")));
        let gif = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;";
        assert_eq!(clean(EvidenceKind::Selfie, gif), Err(EvidenceError::NotAnImage("selfie")));
        let png = sample_picture(400, 400, ImageFormat::Png);
        assert_eq!(clean(EvidenceKind::Selfie, &png[..png.len() / 2]), Err(EvidenceError::Damaged("selfie")));
        let small = sample_picture(100, 400, ImageFormat::Png);
        assert!(matches!(clean(EvidenceKind::Selfie, &small), Err(EvidenceError::TooSmall { .. })));
        let big = vec![0u8; MAX_IMAGE_BYTES + 1];
        assert!(matches!(clean(EvidenceKind::Selfie, &big), Err(EvidenceError::TooLarge { .. })));
    }

    #[test]
    fn a_decompression_bomb_is_refused_before_decoding() {
        // A PNG header claiming 60000×60000 pixels, nothing behind it.
        let mut png = sample_picture(200, 200, ImageFormat::Png);
        png[16..20].copy_from_slice(&60_000u32.to_be_bytes());
        png[20..24].copy_from_slice(&60_000u32.to_be_bytes());
        let outcome = clean(EvidenceKind::Selfie, &png);
        assert!(
            matches!(outcome, Err(EvidenceError::TooManyPixels(_)) | Err(EvidenceError::Damaged(_))),
            "{outcome:?}"
        );
    }

    #[test]
    fn large_pictures_are_scaled_down() {
        let clean = clean(EvidenceKind::PassportPage, &sample_picture(3000, 1500, ImageFormat::Png)).unwrap();
        assert_eq!((clean.width, clean.height), (2000, 1000));
    }
}
