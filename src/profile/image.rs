//! The profile image: a JPEG whose header gives a large enough, near-square size.

use crate::limits::{MAX_PROFILE_IMAGE_ASPECT, MIN_PROFILE_IMAGE_PIXELS};

/// A profile image whose JPEG header says it is at least [`MIN_PROFILE_IMAGE_PIXELS`] square
/// pixels and near-square ([`MAX_PROFILE_IMAGE_ASPECT`]).
///
/// Only the header is read (the SOI marker, then segment by segment up to the frame header);
/// the image data is not decoded, so a file that is corrupt after its header still passes.
///
/// ```
/// use webex_connect_whatsapp::profile::ProfileImage;
///
/// // SOI, then a baseline frame header (SOF0) for 1080x1080, 3 components.
/// let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x11, 0x08, 0x04, 0x38, 0x04, 0x38, 0x03];
/// jpeg.extend_from_slice(&[0; 9]);
/// let image = ProfileImage::from_jpeg_bytes(&jpeg)?;
/// assert_eq!((image.width(), image.height()), (1080, 1080));
/// # Ok::<(), webex_connect_whatsapp::profile::ProfileImageError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProfileImage {
    width: u32,
    height: u32,
}

/// Why a profile image was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProfileImageError {
    /// No bytes at all.
    #[error("profile image is empty; expected a JPEG file")]
    Empty,
    /// Another image format, or not an image.
    #[error("profile image is {format}, but only JPEG is allowed")]
    NotJpeg {
        /// What the file looks like: `a PNG file`, `a GIF file`, `not an image file`, ...
        format: &'static str,
    },
    /// The JPEG header is cut short or broken.
    #[error("profile image is not a well-formed JPEG: {reason} at byte {offset}")]
    Malformed {
        /// What was wrong.
        reason: &'static str,
        /// Where, counted in bytes from the start of the file.
        offset: usize,
    },
    /// Smaller than [`MIN_PROFILE_IMAGE_PIXELS`] on a side.
    #[error("profile image is {width}x{height} pixels, but the minimum is {min}x{min}")]
    TooSmall {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
        /// The minimum per side.
        min: u32,
    },
    /// Too far from square.
    #[error(
        "profile image is {width}x{height} pixels, but it must be square or nearly so (long side \
         at most 1.1 times the short side)"
    )]
    NotSquare {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
    },
}

impl ProfileImage {
    /// Reads the width and height from a JPEG's frame header and checks them.
    ///
    /// ```
    /// use webex_connect_whatsapp::profile::{ProfileImage, ProfileImageError};
    ///
    /// let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
    /// assert_eq!(
    ///     ProfileImage::from_jpeg_bytes(png),
    ///     Err(ProfileImageError::NotJpeg { format: "a PNG file" })
    /// );
    /// ```
    ///
    /// # Errors
    ///
    /// [`ProfileImageError::Empty`], [`ProfileImageError::NotJpeg`] for other formats,
    /// [`ProfileImageError::Malformed`] for a truncated or broken header,
    /// [`ProfileImageError::TooSmall`] and [`ProfileImageError::NotSquare`].
    pub fn from_jpeg_bytes(bytes: &[u8]) -> Result<Self, ProfileImageError> {
        let (width, height) = jpeg_dimensions(bytes)?;
        let min = MIN_PROFILE_IMAGE_PIXELS;
        if width < min || height < min {
            return Err(ProfileImageError::TooSmall { width, height, min });
        }
        let (long, short) = (width.max(height), width.min(height));
        let (num, den) = MAX_PROFILE_IMAGE_ASPECT;
        if u64::from(long) * u64::from(den) > u64::from(short) * u64::from(num) {
            return Err(ProfileImageError::NotSquare { width, height });
        }
        Ok(Self { width, height })
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }
}

fn sniff_format(bytes: &[u8]) -> &'static str {
    let starts = |magic: &[u8]| bytes.starts_with(magic);
    if starts(b"\x89PNG") {
        "a PNG file"
    } else if starts(b"GIF8") {
        "a GIF file"
    } else if starts(b"RIFF") && bytes.get(8..12) == Some(b"WEBP".as_slice()) {
        "a WEBP file"
    } else if starts(b"BM") {
        "a BMP file"
    } else if starts(b"II*\0") || starts(b"MM\0*") {
        "a TIFF file"
    } else if bytes.get(4..8) == Some(b"ftyp".as_slice()) {
        "a HEIC/AVIF or MP4 file"
    } else if starts(b"%PDF") {
        "a PDF file"
    } else if starts(b"<") {
        "an SVG, HTML or XML file"
    } else {
        "not an image file"
    }
}

/// Walks the JPEG segments from SOI to the first frame header (`SOFn`) and reads its size.
fn jpeg_dimensions(bytes: &[u8]) -> Result<(u32, u32), ProfileImageError> {
    let malformed = |reason, offset| ProfileImageError::Malformed { reason, offset };
    if bytes.is_empty() {
        return Err(ProfileImageError::Empty);
    }
    if !bytes.starts_with(&[0xFF, 0xD8]) {
        return Err(ProfileImageError::NotJpeg {
            format: sniff_format(bytes),
        });
    }
    let mut pos = 2;
    loop {
        match bytes.get(pos) {
            Some(0xFF) => {}
            Some(_) => return Err(malformed("expected a segment marker", pos)),
            None => return Err(malformed("file ends before the frame header", pos)),
        }
        // A marker may be preceded by any number of 0xFF fill bytes.
        while bytes.get(pos) == Some(&0xFF) {
            pos += 1;
        }
        let Some(&marker) = bytes.get(pos) else {
            return Err(malformed("file ends inside a marker", pos));
        };
        pos += 1;
        match marker {
            // TEM and RSTn stand alone, without a length.
            0x01 | 0xD0..=0xD7 => continue,
            0xD8 => return Err(malformed("second start-of-image marker", pos - 2)),
            0xD9 => return Err(malformed("end of image before the frame header", pos - 2)),
            0xDA => return Err(malformed("scan data before the frame header", pos - 2)),
            _ => {}
        }
        let length = match bytes.get(pos..pos + 2) {
            Some(&[hi, lo]) => usize::from(u16::from_be_bytes([hi, lo])),
            _ => return Err(malformed("file ends inside a segment length", pos)),
        };
        if length < 2 {
            return Err(malformed("segment length below 2", pos));
        }
        // SOF0-SOF15, except DHT (C4), JPG (C8) and DAC (CC), which share the range.
        if matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC) {
            if length < 8 {
                return Err(malformed("frame header shorter than 8 bytes", pos));
            }
            let Some(&[_precision, h1, h0, w1, w0]) = bytes.get(pos + 2..pos + 7) else {
                return Err(malformed("file ends inside the frame header", pos));
            };
            let height = u32::from(u16::from_be_bytes([h1, h0]));
            let width = u32::from(u16::from_be_bytes([w1, w0]));
            if width == 0 || height == 0 {
                return Err(malformed("frame header gives a zero width or height", pos));
            }
            return Ok((width, height));
        }
        pos += length;
    }
}
