//! [`WebhookError`]: why a webhook body, or a value inside it, could not be read.

/// Why a webhook body (or a value inside it) could not be read.
///
/// [`parse`](super::parse) returns only [`WebhookError::NotJson`] and
/// [`WebhookError::NotAnObject`]: any JSON object is an event, typed or
/// [`WebhookEvent::Unknown`](super::WebhookEvent::Unknown). The other variants come from the
/// typed readers ([`DeliveryReceipt::from_slice`](super::DeliveryReceipt::from_slice),
/// [`InboundMessage::from_slice`](super::InboundMessage::from_slice)), the accessors that
/// decode embedded JSON, and the builders.
///
/// ```
/// use webex_connect_whatsapp::webhook::{self, WebhookError};
///
/// assert!(matches!(webhook::parse(b"not json"), Err(WebhookError::NotJson { .. })));
/// assert!(matches!(webhook::parse(b"[1]"), Err(WebhookError::NotAnObject { .. })));
/// assert!(webhook::parse(br#"{"event":"reaction"}"#).is_ok());
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// The body is not JSON (or not UTF-8, which JSON requires).
    #[error("webhook body is not valid JSON: {reason}")]
    NotJson {
        /// What the JSON parser reported, with line and column.
        reason: String,
    },
    /// The body is JSON, but not an object.
    #[error("webhook body is a JSON {found}, but a JSON object is expected")]
    NotAnObject {
        /// The JSON type found: "array", "string", "number", "boolean" or "null".
        found: &'static str,
    },
    /// A known field holds a value of a shape the crate cannot read (for example,
    /// `deliveryInfo` is a string, or a key appears twice). Returned by the typed readers;
    /// [`parse`](super::parse) hands such a body over as
    /// [`WebhookEvent::Unknown`](super::WebhookEvent::Unknown) instead.
    #[error("webhook body has an unexpected shape: {reason}")]
    UnexpectedShape {
        /// What the JSON parser reported, with line and column.
        reason: String,
    },
    /// An inbound message names no sender: `waid`, `userId` and `bsuid` are all absent or
    /// empty. Returned by [`InboundMessage::from_slice`](super::InboundMessage::from_slice);
    /// [`parse`](super::parse) hands such a body over as
    /// [`WebhookEvent::Unknown`](super::WebhookEvent::Unknown) instead.
    #[error(
        "inbound message names no sender: `waid`, `userId` and `bsuid` are all absent or empty; \
         expected a WhatsApp id in `waid` or a business-scoped user id in `userId`"
    )]
    NoSender,
    /// A field the model cannot do without is absent or empty.
    #[error("{what} has no `{field}` field (or it is empty)")]
    MissingField {
        /// The kind of payload, e.g. "inbound message".
        what: &'static str,
        /// The wire name of the field.
        field: &'static str,
    },
    /// A value encoded as JSON inside a string (`attachments`, `location`, `contacts`) could not
    /// be decoded.
    #[error("`{field}` does not hold valid {expected}: {reason}")]
    InvalidEmbeddedJson {
        /// The wire name of the field.
        field: &'static str,
        /// What the field should hold.
        expected: &'static str,
        /// What was wrong.
        reason: String,
    },
    /// A location value was out of range when building one.
    #[error("{field} is {value}, but it must be a finite number from {min} to {max}")]
    InvalidCoordinate {
        /// "latitude" or "longitude".
        field: &'static str,
        /// The value given.
        value: f64,
        /// The lowest allowed value.
        min: f64,
        /// The highest allowed value.
        max: f64,
    },
}
