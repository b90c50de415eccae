//! Media kinds, MIME types and size limits. (STUB: replaced by the validators work.)

use serde::{Deserialize, Serialize};

/// The kinds of media WhatsApp carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum MediaKind {
    /// A JPEG or PNG picture.
    Image,
    /// A voice note or audio file.
    Audio,
    /// A video.
    Video,
    /// A document (PDF, Office, text).
    Document,
    /// A WEBP sticker.
    Sticker,
}
