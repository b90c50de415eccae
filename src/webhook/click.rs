//! Link clicks: what Webex Connect posts when a recipient opens a tracked link (a message sent
//! with [`LinkOptions`](crate::send::LinkOptions) and `trackClicks`).
//!
//! UNVERIFIED: the platform notes say clicked events "use the same page's format" as delivery
//! receipts, and show no sample. Every plausible shape is read: a `deliveryInfoNotification`
//! whose `deliveryStatus` names a click, and a flat body whose `event` names one (`clicked`,
//! `click`, `linkClicked`, ...). The accessors look for each field where either shape would
//! put it, and the body is kept exactly as received, so nothing is lost if the shape differs.
//!
//! ```
//! use webex_connect_whatsapp::webhook::{self, WebhookEvent};
//!
//! let body = br#"{"deliveryInfoNotification":{"deliveryInfo":{"deliveryStatus":"Clicked",
//!     "destination":"9199xxxxxxxx","url":"https://sho.rt/a1","timeStamp":"2026-05-04T09:49:21.157Z"},
//!     "transid":"5c9f6594","correlationid":"order-1042"}}"#;
//! let WebhookEvent::Click(click) = webhook::parse(body)? else { unreachable!() };
//! assert_eq!(click.transaction_id().map(String::from).as_deref(), Some("5c9f6594"));
//! assert_eq!(click.destination().as_deref(), Some("9199xxxxxxxx"));
//! assert_eq!(click.url().as_deref(), Some("https://sho.rt/a1"));
//! assert_eq!(click.correlation_id().as_deref(), Some("order-1042"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;

use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;

use crate::ids::TransactionId;

/// A recipient opened a tracked link.
///
/// Read-only, and lenient: each accessor returns `None` when the field is absent from every
/// shape it knows. `Debug` masks the recipient and leaves out the body.
#[derive(Clone, PartialEq)]
pub struct ClickEvent {
    raw: Box<str>,
    value: Value,
}

/// Whether a `deliveryStatus` or `event` value names a link click.
pub(crate) fn names_a_click(value: &str) -> bool {
    value.to_ascii_lowercase().contains("click")
}

impl ClickEvent {
    /// Wraps a body already known to be a click (a JSON object).
    pub(crate) fn from_raw(raw: &str) -> Self {
        Self {
            raw: raw.into(),
            value: super::raw_value(raw),
        }
    }

    /// The first string found at any of `pointers`.
    fn first(&self, pointers: &[&str]) -> Option<String> {
        pointers.iter().find_map(|p| match self.value.pointer(p) {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        })
    }

    /// The transaction id of the message whose link was opened.
    pub fn transaction_id(&self) -> Option<TransactionId> {
        self.first(&["/deliveryInfoNotification/transid", "/transid", "/transId"])
            .map(TransactionId::from)
    }

    /// Who opened it: the destination the message went to (`waid` digits or a BSUID).
    pub fn destination(&self) -> Option<String> {
        self.first(&[
            "/deliveryInfoNotification/deliveryInfo/destination",
            "/destination",
            "/waid",
            "/bsuid",
            "/userId",
        ])
    }

    /// The link that was opened, when the body names it.
    pub fn url(&self) -> Option<String> {
        self.first(&[
            "/deliveryInfoNotification/deliveryInfo/url",
            "/deliveryInfoNotification/deliveryInfo/clickedUrl",
            "/deliveryInfoNotification/deliveryInfo/link",
            "/url",
            "/clickedUrl",
            "/link",
        ])
    }

    /// The correlation id of the message, when echoed.
    pub fn correlation_id(&self) -> Option<String> {
        self.first(&["/deliveryInfoNotification/correlationid", "/correlationid"])
    }

    /// The callback data of the message, when echoed.
    pub fn callback_data(&self) -> Option<String> {
        self.first(&["/deliveryInfoNotification/callbackData", "/callbackData"])
    }

    /// When the link was opened, read as RFC 3339 (with an offset).
    pub fn timestamp(&self) -> Option<OffsetDateTime> {
        self.first(&[
            "/deliveryInfoNotification/deliveryInfo/timeStamp",
            "/timeStamp",
            "/ts",
        ])
        .and_then(|t| super::parse_timestamp(&t))
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
            .field(
                "destination",
                &self.destination().map(|d| crate::phone::mask(&d)),
            )
            .finish_non_exhaustive()
    }
}

impl Serialize for ClickEvent {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        super::serialize_raw(&self.raw, serializer)
    }
}
