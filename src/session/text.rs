//! Text messages: a body of 1 to 4096 characters, with or without a link preview.

use serde::{Deserialize, Deserializer, Serialize};

use super::{Body, SessionMessage, SessionMessageError};
use crate::text::MessageText;

impl SessionMessage {
    /// A text message of 1 to 4096 characters; link previews off.
    ///
    /// ```
    /// use webex_connect_whatsapp::SessionMessage;
    /// let m = SessionMessage::text("Hello")?;
    /// assert_eq!(m.text_body(), Some("Hello"));
    /// assert!(SessionMessage::text("x".repeat(4097)).is_err());
    /// # Ok::<(), webex_connect_whatsapp::session::SessionMessageError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`SessionMessageError::Text`] when the text is empty or longer than 4096 characters.
    pub fn text(body: impl Into<String>) -> Result<Self, SessionMessageError> {
        Ok(Self::from(MessageText::new(body)?))
    }

    /// A text message whose first URL is previewed (`preview_url: true`).
    ///
    /// # Errors
    ///
    /// [`SessionMessageError::Text`] when the text is empty or longer than 4096 characters.
    pub fn text_with_preview(body: impl Into<String>) -> Result<Self, SessionMessageError> {
        Ok(Self(Body::Text {
            text: MessageText::new(body)?,
            preview_url: true,
        }))
    }

    /// The body of a text message.
    pub fn text_body(&self) -> Option<&str> {
        match &self.0 {
            Body::Text { text, .. } => Some(text.as_str()),
            _ => None,
        }
    }

    /// Whether a text message asks for a link preview.
    pub fn preview_url(&self) -> bool {
        matches!(
            self.0,
            Body::Text {
                preview_url: true,
                ..
            }
        )
    }
}

impl From<MessageText> for SessionMessage {
    fn from(text: MessageText) -> Self {
        Self(Body::Text {
            text,
            preview_url: false,
        })
    }
}

#[derive(Serialize, Deserialize)]
pub(super) struct TextWire {
    body: String,
    // An older sample puts the flag inside `text`; it is read there too, never written.
    #[serde(default, skip_serializing, deserialize_with = "lenient_bool")]
    preview_url: bool,
}

impl TextWire {
    /// `preview_url` is the flag beside `text`, where the API documents it.
    pub(super) fn into_message(
        self,
        preview_url: bool,
    ) -> Result<SessionMessage, SessionMessageError> {
        Ok(SessionMessage(Body::Text {
            text: MessageText::new(self.body)?,
            preview_url: preview_url || self.preview_url,
        }))
    }

    pub(super) fn from_message(text: &MessageText) -> Self {
        Self {
            body: text.as_str().to_owned(),
            preview_url: false,
        }
    }
}

/// `true`, `false`, or their string forms (one reference sample sends `"true"`).
pub(super) fn lenient_bool<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    match serde_json::Value::deserialize(deserializer)? {
        serde_json::Value::Bool(b) => Ok(b),
        serde_json::Value::Null => Ok(false),
        serde_json::Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(true),
        serde_json::Value::String(s) if s.eq_ignore_ascii_case("false") || s.is_empty() => {
            Ok(false)
        }
        other => Err(serde::de::Error::custom(format!(
            "preview_url must be true or false, got {other}"
        ))),
    }
}
