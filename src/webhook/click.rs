//! Link clicks: what Webex Connect posts when a recipient opens a tracked link (see the
//! [module docs](crate::webhook#link-clicks)).

use std::fmt;

use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;

use super::body::{self, HeaderGtrid};
use crate::ids::TransactionId;

/// A recipient opened a tracked link.
///
/// Read-only, and lenient: each accessor returns `None` when the field is absent from every
/// shape it knows. `Debug` masks the recipient and leaves out the body.
#[derive(Clone, PartialEq)]
pub struct ClickEvent {
    raw: Box<str>,
    value: Value,
    // Read once at construction, so the accessors hand back borrows as on the other events.
    transaction_id: Option<TransactionId>,
    destination: Option<String>,
    url: Option<String>,
    correlation_id: Option<String>,
    callback_data: Option<String>,
    gtrid: Option<String>,
    pub(super) header_gtrid: HeaderGtrid,
}

/// Whether a `deliveryStatus` or `event` value names a link click.
pub(crate) fn names_a_click(value: &str) -> bool {
    // Asked of every unknown event and status, so without a lowercased copy.
    value
        .as_bytes()
        .windows(5)
        .any(|w| w.eq_ignore_ascii_case(b"click"))
}

/// The first string found at any of `pointers`.
fn first(value: &Value, pointers: &[&str]) -> Option<String> {
    pointers.iter().find_map(|p| match value.pointer(p) {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

impl ClickEvent {
    /// Wraps a body already known to be a click (a JSON object).
    pub(crate) fn from_raw(raw: &str) -> Self {
        let value = body::raw_value(raw);
        let read = |pointers: &[&str]| first(&value, pointers);
        Self {
            transaction_id: read(&["/deliveryInfoNotification/transid", "/transid", "/transId"])
                .map(TransactionId::from),
            destination: read(&[
                "/deliveryInfoNotification/deliveryInfo/destination",
                "/destination",
                "/waid",
                "/bsuid",
                "/userId",
            ]),
            url: read(&[
                "/deliveryInfoNotification/deliveryInfo/url",
                "/deliveryInfoNotification/deliveryInfo/clickedUrl",
                "/deliveryInfoNotification/deliveryInfo/link",
                "/url",
                "/clickedUrl",
                "/link",
            ]),
            correlation_id: read(&["/deliveryInfoNotification/correlationid", "/correlationid"]),
            callback_data: read(&["/deliveryInfoNotification/callbackData", "/callbackData"]),
            gtrid: read(&["/x-wx-gtrid"]),
            header_gtrid: HeaderGtrid::default(),
            raw: raw.into(),
            value,
        }
    }

    /// The transaction id of the message whose link was opened.
    pub fn transaction_id(&self) -> Option<&TransactionId> {
        self.transaction_id.as_ref()
    }

    /// Who opened it: the destination the message went to (`waid` digits or a BSUID).
    pub fn destination(&self) -> Option<&str> {
        self.destination.as_deref()
    }

    /// The link that was opened, when the body names it.
    pub fn url(&self) -> Option<&str> {
        self.url.as_deref()
    }

    /// The correlation id of the message, when echoed.
    pub fn correlation_id(&self) -> Option<&str> {
        self.correlation_id.as_deref()
    }

    /// The callback data of the message, when echoed.
    pub fn callback_data(&self) -> Option<&str> {
        self.callback_data.as_deref()
    }

    /// The global transaction id: the body's top-level `x-wx-gtrid`, else the `x-wx-gtrid`
    /// HTTP header that came with the event (kept by
    /// [`Receiver::check`](crate::receiver::Receiver::check); the body wins, see
    /// [`WebhookEvent::gtrid`](super::WebhookEvent::gtrid)).
    pub fn gtrid(&self) -> Option<&str> {
        self.gtrid.as_deref().or_else(|| self.header_gtrid.get())
    }

    /// When the link was opened, read as RFC 3339 (with an offset).
    pub fn timestamp(&self) -> Option<OffsetDateTime> {
        first(
            &self.value,
            &[
                "/deliveryInfoNotification/deliveryInfo/timeStamp",
                "/timeStamp",
                "/ts",
            ],
        )
        .and_then(|t| body::parse_timestamp(&t))
    }

    /// The body exactly as received.
    pub fn raw(&self) -> &str {
        &self.raw
    }

    /// The value at a JSON Pointer (RFC 6901), for fields this crate does not read.
    pub fn pointer(&self, pointer: &str) -> Option<&Value> {
        self.value.pointer(pointer)
    }
}

impl fmt::Debug for ClickEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClickEvent")
            .field("transaction_id", &self.transaction_id())
            .field("destination", &self.destination().map(crate::phone::mask))
            .finish_non_exhaustive()
    }
}

impl Serialize for ClickEvent {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        body::serialize_raw(&self.raw, serializer)
    }
}
