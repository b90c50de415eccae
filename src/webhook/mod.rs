//! Webhook parsing: delivery receipts, inbound messages, any other event, and signature checks.
//!
//! Webex Connect POSTs JSON objects to your webhook: delivery receipts
//! (`deliveryInfoNotification`, see [`DeliveryReceipt`]), inbound messages and button replies
//! (a flat body with `"event": "MO"` or `"postback"`, see [`InboundMessage`]), link clicks
//! (see [`ClickEvent`]), and events this crate does not model (reactions, `user_id_update`,
//! typing, kinds added later, see [`UnknownEvent`]). [`parse`] tells them apart in one pass and never panics, whatever the
//! bytes. It refuses only a body that is not a JSON object: Webex Connect never retries a
//! refused (4xx) call, so refusing an authentic event would lose it for good.
//!
//! ```
//! use webex_connect_whatsapp::webhook::{self, DeliveryStatus, WebhookEvent};
//!
//! let body = br#"{"deliveryInfoNotification":{"deliveryInfo":{"deliveryStatus":"Read",
//!     "code":"7502","destination":"9199xxxxxxxx"},"transid":"5c9f6594"}}"#;
//! match webhook::parse(body)? {
//!     WebhookEvent::DeliveryReceipt(r) => {
//!         assert_eq!(r.status(), &DeliveryStatus::Read);
//!         assert_eq!(r.transaction_id().map(|t| t.as_str()), Some("5c9f6594"));
//!     }
//!     // A username user has no `waid`, only a business-scoped user id.
//!     WebhookEvent::Inbound(m) => println!("message from {:?}", m.reply_to()),
//!     WebhookEvent::Unknown(e) => println!("{:?} event, kept raw", e.event()),
//!     _ => {}
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Delivery receipts
//!
//! A receipt (`deliveryInfoNotification`) reports the status of a message you sent; for a
//! failure, its [`DeliveryCode`] says whether a resend could help and what to fix.
//!
//! ```
//! use webex_connect_whatsapp::webhook::{DeliveryCode, DeliveryReceipt, DeliveryStatus};
//!
//! let body = std::fs::read("tests/fixtures/delivery_failed_7710.json")?;
//! let receipt = DeliveryReceipt::from_slice(&body)?;
//! assert_eq!(receipt.status(), &DeliveryStatus::Failed);
//! assert_eq!(receipt.code(), &DeliveryCode::ReEngagement);
//! assert!(receipt.code().is_permanent());
//! assert_eq!(receipt.code().fix(), Some(DeliveryCode::ReEngagement.fix().unwrap_or_default()));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Inbound messages
//!
//! Messages (`MO`) and button replies (`postback`) from WhatsApp users. The body is flat JSON,
//! and `attachments`, `location` and `contacts` hold JSON encoded inside a string. The sender
//! is a `waid`, a business-scoped user id, or both (see [`InboundMessage::bsuid`]). The
//! embedded values are decoded by their accessors, so a malformed one never fails the parse:
//! the accessor returns [`WebhookError::InvalidEmbeddedJson`] and the text stays reachable.
//!
//! ```
//! use webex_connect_whatsapp::webhook::InboundMessage;
//!
//! let body = std::fs::read("tests/fixtures/inbound_image.json")?;
//! let message = InboundMessage::from_slice(&body)?;
//! assert_eq!(message.waid(), Some("9187xxxxxxxx"));
//! let attachments = message.attachments()?;
//! assert_eq!(attachments[0].mime_type, mime::IMAGE_JPEG);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Link clicks
//!
//! A [`ClickEvent`] is what Webex Connect posts when a recipient opens a tracked link (a
//! message sent with [`LinkOptions`](crate::send::LinkOptions) and `trackClicks`).
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
//! assert_eq!(click.transaction_id().map(|t| t.as_str()), Some("5c9f6594"));
//! assert_eq!(click.destination(), Some("9199xxxxxxxx"));
//! assert_eq!(click.url(), Some("https://sho.rt/a1"));
//! assert_eq!(click.correlation_id(), Some("order-1042"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Design
//!
//! The models keep the body exactly as received ([`DeliveryReceipt::raw`]) and read the known
//! fields straight out of it: a string without escapes is stored as a position in that copy, so
//! parsing costs one copy of the body and almost no further allocation. Fields the crate does
//! not know stay reachable through `extra()` and `pointer()`, and serializing a model writes the
//! body back, unknown fields included. Values that arrive as JSON encoded inside a string
//! (`attachments`, `location`, `contacts`) and timestamps are decoded only when you ask, so a
//! malformed one never fails the whole parse: its accessor returns the error instead, and the
//! raw text stays available. A body that cannot be typed (an unknown `event`, a repeated key,
//! a known field of an unexpected shape, an inbound message naming no sender) is not an error
//! either: it becomes [`WebhookEvent::Unknown`].
//!
//! Bodies in the usual shape (an object whose keys have no escapes, each known key once) are
//! read by a hand-written single pass that validates the JSON as strictly as `serde_json` and
//! costs little more than validating it; the BSUID of an inbound message is also checked only
//! when asked for. Any other body is read by `serde_json`, which decides what it is and
//! words the errors, and an unknown event in an odd shape costs one more linear pass that
//! builds nothing but the `event` name.

/// Writes accessors for string fields of a model that keeps its body: `fn name => field`
/// reads `field` (a [`Text`] position) out of `raw`. Each keeps its own doc comment.
macro_rules! text_getters {
    ($( $(#[$attr:meta])* fn $name:ident => $field:ident; )*) => {
        $(
            $(#[$attr])*
            pub fn $name(&self) -> Option<&str> {
                $crate::webhook::body::text(&self.raw, self.$field.as_ref())
            }
        )*
    };
}

/// For a wire enum with `as_str` and an infallible reader (`from_wire`, `from_code`): `FromStr`
/// (never fails), `Display` and serde as the wire string. Three enums share these four impls.
macro_rules! wire_string_impls {
    ($ty:ident, $read:ident) => {
        impl std::str::FromStr for $ty {
            type Err = std::convert::Infallible;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Ok(Self::$read(s))
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let value = <std::borrow::Cow<'de, str> as serde::Deserialize<'de>>::deserialize(
                    deserializer,
                )?;
                Ok(Self::$read(&value))
            }
        }
    };
}

/// For a model that keeps its body (`raw`) and reads it with `from_slice`: equal when the
/// bodies hold the same JSON, serialized as the body, deserialized through the typed reader.
macro_rules! kept_body_impls {
    ($ty:ident) => {
        impl PartialEq for $ty {
            fn eq(&self, other: &Self) -> bool {
                $crate::webhook::body::same_json(&self.raw, &other.raw)
            }
        }

        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                $crate::webhook::body::serialize_raw(&self.raw, serializer)
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let value =
                    <serde_json::Value as serde::Deserialize<'de>>::deserialize(deserializer)?;
                Self::from_slice(value.to_string().as_bytes()).map_err(serde::de::Error::custom)
            }
        }
    };
}

pub(crate) mod body;
mod click;
mod delivery;
mod error;
mod inbound;
pub mod signature;
mod unknown;
mod wire;

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use click::ClickEvent;
pub use delivery::builder::DeliveryReceiptBuilder;
pub use delivery::{DeliveryCode, DeliveryReceipt, DeliveryStatus, Retryability};
pub use error::WebhookError;
pub use inbound::builder::InboundMessageBuilder;
pub use inbound::{Attachment, InboundEvent, InboundMessage, SharedLocation};
pub use unknown::UnknownEvent;

use body::{HeaderGtrid, body_str};
use unknown::JSON_WHITESPACE;
use wire::{Wire, read_wire, top};

/// One parsed webhook call.
///
/// Marked `#[non_exhaustive]`: new kinds of events may be added, so keep a `_` arm.
///
/// Serializing writes the body back in its wire shape (see [`DeliveryReceipt`] and
/// [`InboundMessage`]); deserializing runs the same classification as [`parse`].
///
/// ```
/// use webex_connect_whatsapp::webhook::{self, WebhookEvent};
///
/// let event = webhook::parse(br#"{"event":"MO","waid":"9199xxxxxxxx","message":"Hello"}"#)?;
/// let WebhookEvent::Inbound(message) = event else { unreachable!() };
/// assert_eq!(message.text(), Some("Hello"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum WebhookEvent {
    /// A delivery receipt (`deliveryInfoNotification`) for a message you sent.
    DeliveryReceipt(DeliveryReceipt),
    /// A message (`MO`) or button reply (`postback`) from a WhatsApp user.
    Inbound(InboundMessage),
    /// A recipient opened a tracked link (see [`ClickEvent`]; its shape is UNVERIFIED).
    Click(ClickEvent),
    /// An authentic event this crate does not model (a reaction, `user_id_update`, typing,
    /// or a kind added later), kept raw so it is never lost.
    Unknown(UnknownEvent),
}

impl WebhookEvent {
    /// The body exactly as received (or as built).
    ///
    /// ```
    /// use webex_connect_whatsapp::webhook;
    /// let body = r#"{"event":"MO","waid":"1"}"#;
    /// assert_eq!(webhook::parse(body.as_bytes())?.raw(), body);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn raw(&self) -> &str {
        match self {
            Self::DeliveryReceipt(r) => r.raw(),
            Self::Inbound(m) => m.raw(),
            Self::Click(c) => c.raw(),
            Self::Unknown(u) => u.raw(),
        }
    }

    /// The global transaction id (`x-wx-gtrid`) of any kind of event: the body's top-level
    /// `x-wx-gtrid`, else the `x-wx-gtrid` HTTP header that came with it.
    ///
    /// Cisco's docs say the id arrives as an HTTP header on webhooks, not only in the body.
    /// [`Receiver::check`](crate::receiver::Receiver::check) (and so `receive` and the axum
    /// router) keeps the header's value with the event it returns; a body parsed on its own
    /// has only the body's. When both are present **the body wins**: the body is covered by
    /// the `x-hub-signature`, a header is not (a proxy may add or rewrite one). Whether the
    /// platform ever sends two different values is UNVERIFIED.
    ///
    /// The header's value is not part of the event's body: it takes no part in equality and
    /// is not written when the event is serialized.
    ///
    /// ```
    /// use webex_connect_whatsapp::receiver::Receiver;
    /// use webex_connect_whatsapp::webhook;
    /// # tokio::runtime::Runtime::new()?.block_on(async {
    /// let body = br#"{"event":"MO","waid":"919900012345","message":"hi","tid":"x_0"}"#;
    /// assert_eq!(webhook::parse(body)?.gtrid(), None);
    ///
    /// let receiver = Receiver::builder().allow_unsigned().build()?;
    /// let received = receiver.receive([("X-WX-GTRID", "6f1c0b2a")], body).await?;
    /// assert_eq!(received.event().gtrid(), Some("6f1c0b2a"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn gtrid(&self) -> Option<&str> {
        match self {
            Self::DeliveryReceipt(r) => r.gtrid(),
            Self::Inbound(m) => m.gtrid(),
            Self::Click(c) => c.gtrid(),
            Self::Unknown(u) => u.gtrid(),
        }
    }

    /// Keeps the `x-wx-gtrid` header's value (already checked by the receiver) with the
    /// event.
    pub(crate) fn set_header_gtrid(&mut self, gtrid: Box<str>) {
        let slot = match self {
            Self::DeliveryReceipt(r) => &mut r.header_gtrid,
            Self::Inbound(m) => &mut m.header_gtrid,
            Self::Click(c) => &mut c.header_gtrid,
            Self::Unknown(u) => &mut u.header_gtrid,
        };
        *slot = HeaderGtrid(Some(gtrid));
    }
}

impl Serialize for WebhookEvent {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::DeliveryReceipt(r) => r.serialize(serializer),
            Self::Inbound(m) => m.serialize(serializer),
            Self::Click(c) => c.serialize(serializer),
            Self::Unknown(u) => u.serialize(serializer),
        }
    }
}

/// Runs [`parse`] on the value: any JSON object deserializes, an unknown one as
/// [`WebhookEvent::Unknown`].
impl<'de> Deserialize<'de> for WebhookEvent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        parse(value.to_string().as_bytes()).map_err(de::Error::custom)
    }
}

/// Parses a webhook body into a delivery receipt, an inbound message, or an unknown event.
///
/// - A body with a `deliveryInfoNotification` object is a [`WebhookEvent::DeliveryReceipt`].
/// - A body whose `event` is `MO` or `postback` (any letter case) and that names its sender
///   (a `waid`, a `userId`, or a `bsuid`) is a [`WebhookEvent::Inbound`].
/// - A link click, a receipt whose `deliveryStatus` or a body whose `event` names a click, is
///   a [`WebhookEvent::Click`] (UNVERIFIED shape; see [`ClickEvent`]).
/// - Any other JSON object is a [`WebhookEvent::Unknown`], kept byte for byte: a reaction,
///   `user_id_update`, typing, a kind added later, a body with no `event`, and
///   bodies of a known kind that the typed readers refuse (a repeated key, a
///   `deliveryInfoNotification` that is not an object, an `MO` with no sender). An authentic
///   event is never refused for being new or odd.
///
/// Unknown fields are accepted and kept. A body costs one pass over it, and one more for an
/// object the typed reader refuses (a repeated key, say), which builds nothing but the
/// `event` name: the time grows linearly with the body's size.
///
/// ```
/// use webex_connect_whatsapp::webhook::{self, WebhookEvent};
///
/// let body = std::fs::read("tests/fixtures/delivery_failed_7710.json")?;
/// let WebhookEvent::DeliveryReceipt(receipt) = webhook::parse(&body)? else { unreachable!() };
/// assert_eq!(receipt.code().as_str(), "7710");
/// assert_eq!(receipt.correlation_id(), Some("123456789"));
///
/// let body = br#"{"event":"user_id_update","waid":"9199xxxxxxxx"}"#;
/// let WebhookEvent::Unknown(event) = webhook::parse(body)? else { unreachable!() };
/// assert_eq!(event.event(), Some("user_id_update"));
/// assert_eq!(event.raw().as_bytes(), body);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// Only for a body that is not a JSON object (a receiver answers 400 to those):
/// - [`WebhookError::NotJson`]: the bytes are not UTF-8 JSON (or hold more than one value).
/// - [`WebhookError::NotAnObject`]: the JSON is an array, a string, a number, a boolean or
///   `null`.
pub fn parse(body: &[u8]) -> Result<WebhookEvent, WebhookError> {
    let text = body_str(body)?;
    // The typed reader also takes array-shaped bodies (as serde's derive does); `parse` wants
    // an object, so anything else goes to the scan, which says what it is.
    if text.trim_start_matches(JSON_WHITESPACE).starts_with('{') {
        let mut wire = Wire::default();
        if read_wire(text, &mut wire, false).is_ok() {
            return Ok(classify(text, &mut wire));
        }
    }
    // Not an object, or one the typed reader refuses (a repeated key, say): one more pass
    // checks it is JSON and finds its `event`.
    let unknown = UnknownEvent::scan(text)?;
    Ok(unknown_or_click(text, unknown))
}

/// What a JSON object read by the typed reader is: a receipt, an inbound message naming its
/// sender, a click, or an unknown event. The reader has checked the body is one JSON object,
/// so an unknown event is kept without reading the body again.
fn classify(text: &str, wire: &mut Wire) -> WebhookEvent {
    if let Some(notification) = wire.notification.as_mut() {
        let receipt = DeliveryReceipt::from_wire(text, notification);
        if let DeliveryStatus::Unknown(status) = receipt.status()
            && click::names_a_click(status)
        {
            return WebhookEvent::Click(ClickEvent::from_raw(text));
        }
        return WebhookEvent::DeliveryReceipt(receipt);
    }
    if let Some(event) = wire.top.get(top::EVENT).and_then(Option::as_ref)
        && let Some(event) = InboundEvent::known(event.get(text))
        && let Ok(message) = InboundMessage::from_wire(text, event, &mut wire.top)
    {
        return WebhookEvent::Inbound(message);
    }
    // The `event` and `x-wx-gtrid` as `scan_object` reads them: non-empty JSON strings (a key
    // cannot repeat here). The inbound reader leaves both slots in place when it finds no
    // sender, before it takes any.
    let string = |slot: usize| {
        wire.top
            .get(slot)
            .and_then(Option::as_ref)
            .and_then(|e| e.json_string(text))
            .filter(|e| !e.is_empty())
            .map(str::to_owned)
    };
    let unknown = UnknownEvent::new(text, string(top::EVENT), string(top::GTRID));
    unknown_or_click(text, unknown)
}

/// An unknown event, or a click when its `event` names one.
fn unknown_or_click(text: &str, unknown: UnknownEvent) -> WebhookEvent {
    if unknown.event().is_some_and(click::names_a_click) {
        return WebhookEvent::Click(ClickEvent::from_raw(text));
    }
    WebhookEvent::Unknown(unknown)
}

#[cfg(test)]
mod tests {
    //! Every slot the reader fills reaches its model's accessor.
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::ids::TransactionId;
    use wire::receipt;
    use wire::top::INBOUND_KEYS;

    /// `"key":"v-key"` for each key, comma-separated.
    fn members(keys: &[&str]) -> String {
        keys.iter()
            .map(|k| format!("\"{k}\":\"v-{k}\""))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Checks that each key's accessor, listed in the order of `keys`, read `v-key`; one
    /// accessor per key, so a slot added to a reader's table without one fails here.
    fn check(keys: &[&str], read: &[Option<&str>]) {
        assert_eq!(keys.len(), read.len(), "one accessor per key of {keys:?}");
        for (key, value) in keys.iter().zip(read) {
            assert_eq!(value.map(str::to_owned), Some(format!("v-{key}")), "{key}");
        }
    }

    #[test]
    fn every_inbound_slot_reaches_its_accessor() {
        let body = format!("{{{}}}", members(INBOUND_KEYS));
        let m = InboundMessage::from_slice(body.as_bytes()).unwrap();
        let embedded = (m.attachments_raw(), m.contacts_raw(), m.location_raw());
        check(
            INBOUND_KEYS,
            &[
                m.user_id(),
                m.username(),
                m.channel(),
                m.app_id(),
                Some(m.event().as_str()),
                m.waid(),
                m.text(),
                embedded.0.as_deref(),
                embedded.1.as_deref(),
                embedded.2.as_deref(),
                m.system(),
                m.timestamp_raw(),
                m.datetime_raw(),
                m.tid(),
                m.transaction_id().map(TransactionId::as_str),
                m.identity_key_hash(),
                m.errors(),
                m.button_text(),
                m.button_payload(),
                m.client_uuid(),
                m.bsuid_raw(),
                m.user_handle(),
                m.gtrid(),
            ],
        );
    }

    #[test]
    fn every_receipt_slot_reaches_its_accessor() {
        let read = |info: &[&str], notification: &[&str], top: &[&str]| {
            let comma = |keys: &[&str]| if keys.is_empty() { "" } else { "," };
            let body = format!(
                "{{{}{}\"deliveryInfoNotification\":{{{}{}\"deliveryInfo\":{{{}}}}}}}",
                members(top),
                comma(top),
                members(notification),
                comma(notification),
                members(info),
            );
            DeliveryReceipt::from_slice(body.as_bytes()).unwrap()
        };
        let ids = ["bsuid", "userHandle"];
        // Every key the reader's tables list, each level's keys in their table's order.
        let notification: Vec<&str> = receipt::NOTIFICATION_KEYS
            .iter()
            .copied()
            .filter(|k| *k != "deliveryInfo")
            .collect();
        let top: Vec<&str> = receipt::TOP_KEYS
            .iter()
            .copied()
            .filter(|k| *k != "deliveryInfoNotification")
            .collect();
        let r = read(receipt::INFO_KEYS, &notification, &top);
        check(
            receipt::INFO_KEYS,
            &[
                r.channel(),
                r.description(),
                r.destination_type(),
                r.timestamp_raw(),
                Some(r.code().as_str()),
                r.additional_info(),
                Some(r.status().as_str()),
                r.destination(),
                r.identity_key_hash(),
                r.bsuid(),
                r.user_handle(),
            ],
        );
        check(
            &notification,
            &[
                r.sub_transaction_id(),
                r.transaction_id().map(TransactionId::as_str),
                r.callback_data(),
                r.correlation_id(),
                r.bsuid(),
                r.user_handle(),
            ],
        );
        check(&top, &[r.bsuid(), r.user_handle(), r.gtrid()]);
        // `bsuid` and `userHandle` beside `deliveryInfo`, then at the top level.
        for r in [read(&[], &ids, &ids), read(&[], &[], &ids)] {
            check(&ids, &[r.bsuid(), r.user_handle()]);
        }
    }
}
