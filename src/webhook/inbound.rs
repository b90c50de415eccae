//! Inbound messages (`MO`) and button replies (`postback`) from WhatsApp users (see the
//! [module docs](crate::webhook#inbound-messages)).

use std::borrow::Cow;
use std::fmt;
use std::sync::OnceLock;

use mime::Mime;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;
use url::Url;

use super::body::{self, HeaderGtrid};
use super::error::WebhookError;
use super::wire::slot::{Text, take_text, take_transaction_id, unescape};
use super::wire::top::{
    APP_ID, ATTACHMENTS, BSUID, BUTTON_PAYLOAD, BUTTON_TEXT, CHANNEL, CLIENT_UUID, CONTACTS,
    DATETIME, ERRORS, EVENT, GTRID, IDENTITY_KEY_HASH, INBOUND_KEYS, LOCATION, MESSAGE, SYSTEM,
    TID, TRANSID, TS, USER_HANDLE, USER_ID, USERNAME, WAID,
};
use super::wire::{Wire, read_wire};
use crate::ids::TransactionId;
use crate::phone::PhoneNumber;
use crate::recipient::{Bsuid, Recipient};

pub(super) mod builder;

/// A message or button reply from a WhatsApp user, as posted to your inbound webhook.
///
/// The sender is named by a WhatsApp id ([`Self::waid`]: digits, masked digits, or a
/// normalized WAID such as `IN.2149372115xxxxxx`), a business-scoped user id
/// ([`Self::bsuid`]), or both; a username user ([`Self::username`], [`Self::user_handle`])
/// may have no `waid` at all.
/// Both ids are kept when both arrive ([`Self::sender_ids`]), and [`Self::reply_to`] picks the
/// one to answer. `Debug` masks every id.
///
/// Read-only: every field comes from the body, which is kept as received ([`Self::raw`]).
/// The platform sends `""` for fields that are not set; the accessors return `None` for those.
/// Serializing writes the kept body back (unknown fields included); two messages are equal
/// when their bodies hold the same JSON.
///
/// ```
/// use webex_connect_whatsapp::webhook::{InboundEvent, InboundMessage};
///
/// let body = std::fs::read("tests/fixtures/inbound_text.json")?;
/// let message = InboundMessage::from_slice(&body)?;
/// assert_eq!(message.event(), &InboundEvent::Mo);
/// assert_eq!(message.text(), Some("Hello"));
/// assert_eq!(message.app_id(), Some("a_155054536910425280"));
/// assert!(message.attachments()?.is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct InboundMessage {
    raw: Box<str>,
    event: InboundEvent,
    waid: Option<Text>,
    /// `bsuid`, else `userId`, read as a business-scoped user id, when it has that form;
    /// filled on first use (see [`sender_bsuid`]).
    bsuid: OnceLock<Option<Bsuid>>,
    /// The `bsuid` field as received.
    bsuid_field: Option<Text>,
    user_id: Option<Text>,
    username: Option<Text>,
    user_handle: Option<Text>,
    gtrid: Option<Text>,
    pub(super) header_gtrid: HeaderGtrid,
    channel: Option<Text>,
    app_id: Option<Text>,
    message: Option<Text>,
    attachments: Option<Text>,
    contacts: Option<Text>,
    location: Option<Text>,
    system: Option<Text>,
    ts: Option<Text>,
    datetime: Option<Text>,
    tid: Option<Text>,
    transaction_id: Option<TransactionId>,
    identity_key_hash: Option<Text>,
    errors: Option<Text>,
    button_text: Option<Text>,
    button_payload: Option<Text>,
    client_uuid: Option<Text>,
}

impl InboundMessage {
    /// Parses an inbound body, whatever its `event` (unknown events read as
    /// [`InboundEvent::Unknown`], where [`crate::webhook::parse`] hands them over as
    /// [`crate::webhook::WebhookEvent::Unknown`]).
    ///
    /// ```
    /// use webex_connect_whatsapp::webhook::{InboundEvent, InboundMessage};
    /// let m = InboundMessage::from_slice(br#"{"event":"reaction","waid":"9199"}"#)?;
    /// assert_eq!(m.event(), &InboundEvent::Unknown("reaction".into()));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`WebhookError::NotJson`] or [`WebhookError::NotAnObject`] as for
    /// [`crate::webhook::parse`]; [`WebhookError::UnexpectedShape`] when a key repeats or a
    /// known field has a shape the reader cannot take; [`WebhookError::NoSender`] when `waid`,
    /// `userId` and `bsuid` are all absent or empty.
    pub fn from_slice(body: &[u8]) -> Result<Self, WebhookError> {
        let text = body::body_str(body)?;
        let mut wire = Wire::default();
        read_wire(text, &mut wire, false)?;
        let event = wire
            .top
            .get(EVENT)
            .and_then(Option::as_ref)
            .map_or(InboundEvent::Unknown(String::new()), |e| {
                InboundEvent::from_wire(e.get(text))
            });
        Self::from_wire(text, event, &mut wire.top)
    }

    pub(crate) fn from_wire(
        body: &str,
        event: InboundEvent,
        top: &mut [Option<Text>],
    ) -> Result<Self, WebhookError> {
        let transaction_id = take_transaction_id(top, TRANSID, body);
        let mut t = |slot| take_text(top, slot);
        let waid = t(WAID);
        let user_id = t(USER_ID);
        let bsuid_field = t(BSUID);
        // A username user has no phone number: the BSUID is then the only id, and it must be
        // valid for the message to name its sender. Otherwise it is checked when first asked
        // for (see `sender_bsuid`), which many handlers never do.
        let mut bsuid = OnceLock::new();
        if waid.is_none() && user_id.is_none() {
            let only_id = sender_bsuid(body, bsuid_field.as_ref(), None);
            if only_id.is_none() {
                return Err(WebhookError::NoSender);
            }
            bsuid = OnceLock::from(only_id);
        }
        Ok(Self {
            event,
            waid,
            bsuid,
            bsuid_field,
            user_id,
            username: t(USERNAME),
            user_handle: t(USER_HANDLE),
            gtrid: t(GTRID),
            header_gtrid: HeaderGtrid::default(),
            channel: t(CHANNEL),
            app_id: t(APP_ID),
            message: t(MESSAGE),
            attachments: t(ATTACHMENTS),
            contacts: t(CONTACTS),
            location: t(LOCATION),
            system: t(SYSTEM),
            ts: t(TS),
            datetime: t(DATETIME),
            tid: t(TID),
            transaction_id,
            identity_key_hash: t(IDENTITY_KEY_HASH),
            errors: t(ERRORS),
            button_text: t(BUTTON_TEXT),
            button_payload: t(BUTTON_PAYLOAD),
            client_uuid: t(CLIENT_UUID),
            raw: body.into(),
        })
    }

    /// The undecoded JSON text of a field kept with `Kind::Literal`.
    fn literal<'s>(&'s self, field: Option<&'s Text>) -> Option<&'s str> {
        body::text(&self.raw, field)
    }

    /// Decodes a field that holds JSON inside a string; `None` when the field is absent or
    /// empty, so each accessor picks its own "nothing" (an empty list, no location).
    fn embedded<T: serde::de::DeserializeOwned>(
        &self,
        field: Option<&Text>,
        name: &'static str,
        expected: &'static str,
    ) -> Result<Option<T>, WebhookError> {
        self.literal(field)
            .map(|text| {
                body::decode_embedded(text).map_err(|e| WebhookError::InvalidEmbeddedJson {
                    field: name,
                    expected,
                    reason: e.to_string(),
                })
            })
            .transpose()
    }

    text_getters! {
        /// The sender's WhatsApp id (`waid`), exactly as received: digits (it may be masked:
        /// `9199xxxxxxxx`) or a normalized WAID such as `IN.2149372115xxxxxx`. `None` for a
        /// username user, who reaches the business with no phone number.
        ///
        /// ```
        /// # use webex_connect_whatsapp::webhook::InboundMessage;
        /// let m = InboundMessage::from_slice(br#"{"event":"MO","waid":"9199xxxxxxxx"}"#)?;
        /// assert_eq!(m.waid(), Some("9199xxxxxxxx"));
        /// let m = InboundMessage::from_slice(br#"{"event":"MO","waid":"","userId":"US.1349"}"#)?;
        /// assert_eq!(m.waid(), None);
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        fn waid => waid;
    }

    /// The sender's business-scoped user id (`US.13491208655302741918`), kept exactly as
    /// received. Present for username users, who have no `waid`, and possibly beside a `waid`.
    ///
    /// Cisco's 6.17 release notes name a `bsuid` webhook field; older pages put the BSUID in
    /// `userId` (UNVERIFIED which one a tenant sends). It is read from `bsuid` (a string, or
    /// the first valid entry of an array) when there is one, else from `userId` when that has
    /// the BSUID form. Any other `userId` stays a plain [`Self::user_id`], and this is `None`;
    /// a `bsuid` field that is not a valid BSUID is still in [`Self::bsuid_raw`].
    ///
    /// ```
    /// # use webex_connect_whatsapp::webhook::InboundMessage;
    /// let m = InboundMessage::from_slice(br#"{"event":"MO","userId":"US.13491208655302741918","username":"asha"}"#)?;
    /// assert_eq!(m.bsuid().map(|b| b.as_str()), Some("US.13491208655302741918"));
    /// assert_eq!(m.waid(), None);
    /// let m = InboundMessage::from_slice(br#"{"event":"MO","waid":"9199xxxxxxxx","bsuid":"BR.1502576394655843"}"#)?;
    /// assert_eq!(m.bsuid().map(|b| b.as_str()), Some("BR.1502576394655843"));
    /// let m = InboundMessage::from_slice(br#"{"event":"MO","waid":"9199xxxxxxxx","userId":"u-77"}"#)?;
    /// assert_eq!((m.bsuid(), m.user_id()), (None, Some("u-77")));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn bsuid(&self) -> Option<&Bsuid> {
        self.bsuid
            .get_or_init(|| {
                sender_bsuid(&self.raw, self.bsuid_field.as_ref(), self.user_id.as_ref())
            })
            .as_ref()
    }

    /// The `bsuid` field exactly as received, valid or not (the JSON text when it is not a
    /// string, e.g. an array). `None` when absent or empty; [`Self::bsuid`] is the checked id,
    /// from this field or from `userId`.
    ///
    /// ```
    /// # use webex_connect_whatsapp::webhook::InboundMessage;
    /// let m = InboundMessage::from_slice(br#"{"event":"MO","waid":"9199xxxxxxxx","bsuid":"IN.746868"}"#)?;
    /// assert_eq!(m.bsuid_raw(), Some("IN.746868"));
    /// let m = InboundMessage::from_slice(br#"{"event":"MO","waid":"9199xxxxxxxx","bsuid":"746868"}"#)?;
    /// assert_eq!((m.bsuid(), m.bsuid_raw()), (None, Some("746868")));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn bsuid_raw(&self) -> Option<&str> {
        body::text(&self.raw, self.bsuid_field.as_ref())
    }

    /// Every id the sender can be reached or looked up by, `waid` first, then the BSUID:
    /// state (windows, opt-ins) is kept under each of them.
    ///
    /// ```
    /// # use webex_connect_whatsapp::webhook::InboundMessage;
    /// let m = InboundMessage::from_slice(br#"{"waid":"9199xxxxxxxx","userId":"IN.77"}"#)?;
    /// assert_eq!(m.sender_ids().collect::<Vec<_>>(), ["9199xxxxxxxx", "IN.77"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn sender_ids(&self) -> impl Iterator<Item = &str> {
        self.waid()
            .into_iter()
            .chain(self.bsuid().map(Bsuid::as_str))
    }

    /// Who to answer: the phone number when `waid` is one, else the BSUID. `None` when the
    /// sender has neither: a masked `waid` (as in documentation samples) or a normalized WAID
    /// (`IN.2149372115xxxxxx`, not a phone number, and not a BSUID even though it looks like
    /// one), with no BSUID beside it.
    ///
    /// Use it rather than reading [`Self::waid`] as a phone number: a username user has no
    /// `waid`, and [`PhoneNumber::from_waid`] refuses an empty, masked or normalized one with
    /// an error that points here. When both ids arrive, the phone number is picked, as Webex
    /// Connect itself uses the `waid` of a destination that carries both.
    ///
    /// ```
    /// # use webex_connect_whatsapp::webhook::InboundMessage;
    /// let m = InboundMessage::from_slice(br#"{"waid":"447400123456"}"#)?;
    /// assert_eq!(m.reply_to().map(|r| r.to_string()).as_deref(), Some("+447400123456"));
    /// let m = InboundMessage::from_slice(br#"{"userId":"US.1349"}"#)?;
    /// assert_eq!(m.reply_to().map(|r| r.to_string()).as_deref(), Some("US.1349"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn reply_to(&self) -> Option<Recipient> {
        self.waid()
            .filter(|w| w.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|w| PhoneNumber::parse(&format!("+{w}")).ok())
            .map(Recipient::from)
            .or_else(|| self.bsuid().cloned().map(Recipient::from))
    }

    /// What happened (`event`): a message (`MO`) or a button reply (`postback`).
    ///
    /// ```
    /// # use webex_connect_whatsapp::webhook::{InboundEvent, InboundMessage};
    /// let m = InboundMessage::from_slice(br#"{"event":"postback","waid":"1"}"#)?;
    /// assert_eq!(m.event(), &InboundEvent::Postback);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn event(&self) -> &InboundEvent {
        &self.event
    }

    text_getters! {
        /// The WhatsApp app (asset) that received it (`appId`), e.g. `a_155054536910425280`.
        fn app_id => app_id;

        /// The user id (`userId`) exactly as received: a business-scoped user id for username
        /// users (see [`Self::bsuid`]); empty in older samples.
        ///
        /// ```
        /// # use webex_connect_whatsapp::webhook::InboundMessage;
        /// let m = InboundMessage::from_slice(br#"{"waid":"1","userId":""}"#)?;
        /// assert_eq!(m.user_id(), None);
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        fn user_id => user_id;

        /// The sender's WhatsApp username or profile name (`username`), when the platform sends
        /// one. Newer webhooks may carry the handle in [`Self::user_handle`] instead.
        fn username => username;

        /// The sender's WhatsApp username handle (`userHandle`, e.g. `*_ait_12`), exactly as
        /// received. Cisco's 6.17 release notes name this field beside `bsuid`; older bodies
        /// carry `username` ([`Self::username`]) instead. UNVERIFIED which one a tenant
        /// sends, so both are read and neither stands in for the other.
        ///
        /// ```
        /// # use webex_connect_whatsapp::webhook::InboundMessage;
        /// let m = InboundMessage::from_slice(br#"{"event":"MO","bsuid":"IN.746868","userHandle":"*_ait_12"}"#)?;
        /// assert_eq!(m.user_handle(), Some("*_ait_12"));
        /// assert_eq!(m.username(), None);
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        fn user_handle => user_handle;

        /// The channel (`channel`), `WhatsApp` for this crate.
        fn channel => channel;

        /// The message text (`message`); `None` when empty (media, location, button replies).
        fn text => message;

        /// The platform's id of this message (`tid`), e.g. `0cab6280-..._0`.
        fn tid => tid;
    }

    /// The global transaction id: the body's `x-wx-gtrid`, as received, else the
    /// `x-wx-gtrid` HTTP header that came with the message (kept by
    /// [`Receiver::check`](crate::receiver::Receiver::check); the body wins, see
    /// [`WebhookEvent::gtrid`](super::WebhookEvent::gtrid)).
    ///
    /// ```
    /// # use webex_connect_whatsapp::webhook::InboundMessage;
    /// let m = InboundMessage::from_slice(br#"{"event":"postback","waid":"1","x-wx-gtrid":"6f1c0b2a"}"#)?;
    /// assert_eq!(m.gtrid(), Some("6f1c0b2a"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn gtrid(&self) -> Option<&str> {
        body::text(&self.raw, self.gtrid.as_ref()).or_else(|| self.header_gtrid.get())
    }

    /// For a button reply, the `transid` of the message whose button was pressed.
    pub fn transaction_id(&self) -> Option<&TransactionId> {
        self.transaction_id.as_ref()
    }

    /// When the user sent it (`ts`, RFC 3339, possibly with an offset such as `+05:30`).
    ///
    /// `None` when absent or not RFC 3339; the text is still in [`Self::timestamp_raw`].
    ///
    /// ```
    /// # use webex_connect_whatsapp::webhook::InboundMessage;
    /// use time::macros::datetime;
    /// let m = InboundMessage::from_slice(br#"{"waid":"1","ts":"2019-03-03T07:40:51.297Z"}"#)?;
    /// assert_eq!(m.timestamp(), Some(datetime!(2019-03-03 07:40:51.297 UTC)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn timestamp(&self) -> Option<OffsetDateTime> {
        self.timestamp_raw().and_then(body::parse_timestamp)
    }

    text_getters! {
        /// The `ts` text as received.
        ///
        /// ```
        /// # use webex_connect_whatsapp::webhook::InboundMessage;
        /// let m = InboundMessage::from_slice(br#"{"waid":"1","ts":"soon"}"#)?;
        /// assert_eq!((m.timestamp(), m.timestamp_raw()), (None, Some("soon")));
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        fn timestamp_raw => ts;

        /// The `datetime` field as received (its format is not documented).
        ///
        /// ```
        /// # use webex_connect_whatsapp::webhook::InboundMessage;
        /// let m = InboundMessage::from_slice(br#"{"waid":"1","datetime":"2022-01-11 15:52:12"}"#)?;
        /// assert_eq!(m.datetime_raw(), Some("2022-01-11 15:52:12"));
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        fn datetime_raw => datetime;
    }

    /// The media the user sent, decoded from the `attachments` JSON string (empty when none).
    ///
    /// ```
    /// # use webex_connect_whatsapp::webhook::InboundMessage;
    /// let body = std::fs::read("tests/fixtures/inbound_document.json")?;
    /// let m = InboundMessage::from_slice(&body)?;
    /// let doc = &m.attachments()?[0];
    /// assert_eq!(doc.mime_type.essence_str(), "application/msword");
    /// assert_eq!(doc.caption.as_deref(), Some("This is PPT-1"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`WebhookError::InvalidEmbeddedJson`] when the text is not a JSON array of attachments
    /// (each with a valid `mime_type` and `url`); [`Self::attachments_raw`] still has it.
    pub fn attachments(&self) -> Result<Vec<Attachment>, WebhookError> {
        self.embedded(
            self.attachments.as_ref(),
            "attachments",
            "a JSON array of attachments",
        )
        .map(Option::unwrap_or_default)
    }

    /// The `attachments` JSON text, taken out of its string (or as sent, if it was not one).
    ///
    /// ```
    /// # use webex_connect_whatsapp::webhook::InboundMessage;
    /// let m = InboundMessage::from_slice(br#"{"waid":"1","attachments":"[]"}"#)?;
    /// assert_eq!(m.attachments_raw().as_deref(), Some("[]"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn attachments_raw(&self) -> Option<Cow<'_, str>> {
        self.literal(self.attachments.as_ref()).map(unescape)
    }

    /// The location the user shared, decoded from the `location` JSON string.
    ///
    /// ```
    /// # use webex_connect_whatsapp::webhook::InboundMessage;
    /// let body = std::fs::read("tests/fixtures/inbound_location.json")?;
    /// let location = InboundMessage::from_slice(&body)?.location()?.expect("a location");
    /// assert_eq!(location.latitude(), Some(17.434901060022));
    /// assert_eq!(location.name(), Some("Imimobile"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`WebhookError::InvalidEmbeddedJson`] when the text is not a JSON object;
    /// [`Self::location_raw`] still has it.
    pub fn location(&self) -> Result<Option<SharedLocation>, WebhookError> {
        self.embedded(self.location.as_ref(), "location", "a JSON location object")
    }

    /// The `location` JSON text, taken out of its string (or as sent, if it was not one).
    ///
    /// ```
    /// # use webex_connect_whatsapp::webhook::InboundMessage;
    /// let m = InboundMessage::from_slice(br#"{"waid":"1","location":""}"#)?;
    /// assert_eq!(m.location_raw(), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn location_raw(&self) -> Option<Cow<'_, str>> {
        self.literal(self.location.as_ref()).map(unescape)
    }

    /// Contact cards the user shared, decoded from the `contacts` JSON string.
    ///
    /// Their inbound shape is not documented, so each is a [`serde_json::Value`].
    ///
    /// ```
    /// # use webex_connect_whatsapp::webhook::InboundMessage;
    /// let m = InboundMessage::from_slice(br#"{"waid":"1","contacts":"[{\"name\":{\"formatted_name\":\"Asha\"}}]"}"#)?;
    /// assert_eq!(m.contacts()?[0]["name"]["formatted_name"], "Asha");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`WebhookError::InvalidEmbeddedJson`] when the text is not a JSON array;
    /// [`Self::contacts_raw`] still has it.
    pub fn contacts(&self) -> Result<Vec<Value>, WebhookError> {
        self.embedded(
            self.contacts.as_ref(),
            "contacts",
            "a JSON array of contacts",
        )
        .map(Option::unwrap_or_default)
    }

    /// The `contacts` JSON text, taken out of its string (or as sent, if it was not one).
    ///
    /// ```
    /// # use webex_connect_whatsapp::webhook::InboundMessage;
    /// let m = InboundMessage::from_slice(br#"{"waid":"1","contacts":"[]"}"#)?;
    /// assert_eq!(m.contacts_raw().as_deref(), Some("[]"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn contacts_raw(&self) -> Option<Cow<'_, str>> {
        self.literal(self.contacts.as_ref()).map(unescape)
    }

    text_getters! {
        /// The `system` field as received (undocumented; usually empty).
        ///
        /// ```
        /// # use webex_connect_whatsapp::webhook::InboundMessage;
        /// let m = InboundMessage::from_slice(br#"{"waid":"1","system":""}"#)?;
        /// assert_eq!(m.system(), None);
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        fn system => system;

        /// The `errors` field as received (usually empty).
        ///
        /// ```
        /// # use webex_connect_whatsapp::webhook::InboundMessage;
        /// let m = InboundMessage::from_slice(br#"{"waid":"1","errors":"bad media"}"#)?;
        /// assert_eq!(m.errors(), Some("bad media"));
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        fn errors => errors;

        /// The sender's identity key hash (`identityKeyHash`), when identity checks are on.
        ///
        /// ```
        /// # use webex_connect_whatsapp::webhook::InboundMessage;
        /// let m = InboundMessage::from_slice(br#"{"waid":"1","identityKeyHash":"z2X="}"#)?;
        /// assert_eq!(m.identity_key_hash(), Some("z2X="));
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        fn identity_key_hash => identity_key_hash;

        /// For a button reply, the button's label (`buttonText`).
        fn button_text => button_text;

        /// For a button reply, the payload you gave the quick-reply button (`buttonPayload`).
        fn button_payload => button_payload;

        /// The `clientUUID` of a button reply, as received.
        fn client_uuid => client_uuid;
    }

    /// The body exactly as received (or as built).
    ///
    /// ```
    /// # use webex_connect_whatsapp::webhook::InboundMessage;
    /// let body = r#"{"waid":"1"}"#;
    /// assert_eq!(InboundMessage::from_slice(body.as_bytes())?.raw(), body);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn raw(&self) -> &str {
        &self.raw
    }

    /// Fields this crate does not read, keyed by JSON Pointer (`/carrier`,
    /// `/dataIntegration`).
    ///
    /// Parses the kept body again, so call it only when you need it.
    ///
    /// ```
    /// # use webex_connect_whatsapp::webhook::InboundMessage;
    /// let m = InboundMessage::from_slice(br#"{"waid":"1","carrier":"c1"}"#)?;
    /// assert_eq!(m.extra()["/carrier"], "c1");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn extra(&self) -> Map<String, Value> {
        body::extra_fields(&self.raw, &[("", INBOUND_KEYS)])
    }

    /// Any value of the body by JSON Pointer (RFC 6901), e.g. `/dataIntegration/context`.
    ///
    /// ```
    /// # use webex_connect_whatsapp::webhook::InboundMessage;
    /// let m = InboundMessage::from_slice(br#"{"waid":"1","dataIntegration":{"context":{"serviceId":"7"}}}"#)?;
    /// assert_eq!(m.pointer("/dataIntegration/context/serviceId"), Some("7".into()));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn pointer(&self, pointer: &str) -> Option<Value> {
        body::raw_value(&self.raw).pointer(pointer).cloned()
    }
}

/// The sender's BSUID: from the `bsuid` field, else from `userId` when it has the BSUID form.
///
/// Cisco's 6.17 release notes say webhooks gained a `bsuid` field (reference §13); the 2026
/// pages say username users arrive with `userId` set (§12.1). UNVERIFIED which one a given
/// tenant sends, and whether `bsuid` is a string or, like the send API's, an array: so
/// `bsuid` is read first, as a string or an array of strings, then `userId` when it has the
/// BSUID form; anything else in `userId` stays a plain user id.
fn sender_bsuid(body: &str, bsuid_field: Option<&Text>, user_id: Option<&Text>) -> Option<Bsuid> {
    bsuid_field
        .and_then(|b| bsuid_in_field(b.get(body)))
        .or_else(|| {
            // `looks_like` first: most user ids are not BSUIDs, and refusing one costs a copy
            // and an error.
            user_id
                .map(|id| id.get(body))
                .filter(|id| Bsuid::looks_like(id))
                .and_then(|id| Bsuid::new(id).ok())
        })
}

/// A BSUID from a `bsuid` field: the string itself, or the first valid entry when it holds an
/// array (the send API's shape).
fn bsuid_in_field(text: &str) -> Option<Bsuid> {
    if text.starts_with('[') {
        serde_json::from_str::<Vec<Value>>(text)
            .ok()?
            .iter()
            .find_map(|v| v.as_str().and_then(|s| Bsuid::new(s).ok()))
    } else {
        Bsuid::new(text).ok()
    }
}

impl fmt::Debug for InboundMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InboundMessage")
            .field("event", &self.event)
            .field("waid", &self.waid().map(crate::phone::mask))
            .field("bsuid", &self.bsuid())
            .field("username", &self.username().map(|_| "…"))
            .field("user_handle", &self.user_handle().map(|_| "…"))
            .field("app_id", &self.app_id())
            .field("text", &self.text())
            .field("attachments", &self.attachments_raw())
            .field("location", &self.location_raw())
            .field("button_payload", &self.button_payload())
            .field("tid", &self.tid())
            .field("timestamp", &self.timestamp_raw())
            .finish_non_exhaustive()
    }
}

kept_body_impls!(InboundMessage);

/// What an inbound webhook reports (`event`).
///
/// ```
/// use webex_connect_whatsapp::webhook::InboundEvent;
/// assert_eq!("MO".parse::<InboundEvent>()?, InboundEvent::Mo);
/// assert_eq!(InboundEvent::Postback.as_str(), "postback");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum InboundEvent {
    /// A message from the user (mobile originated).
    Mo,
    /// A reply-button press.
    Postback,
    /// An event this crate does not know, as received (`""` when absent).
    Unknown(String),
}

impl InboundEvent {
    pub(crate) fn from_wire(value: &str) -> Self {
        Self::known(value).unwrap_or_else(|| Self::Unknown(value.to_owned()))
    }

    /// The event `value` names when this crate knows it (`MO`, `postback`, in any letter case).
    pub(crate) fn known(value: &str) -> Option<Self> {
        if value.eq_ignore_ascii_case("MO") {
            Some(Self::Mo)
        } else if value.eq_ignore_ascii_case("postback") {
            Some(Self::Postback)
        } else {
            None
        }
    }

    /// The wire form: `MO`, `postback`, or the unknown value.
    ///
    /// ```
    /// # use webex_connect_whatsapp::webhook::InboundEvent;
    /// assert_eq!(InboundEvent::Mo.as_str(), "MO");
    /// ```
    pub fn as_str(&self) -> &str {
        match self {
            Self::Mo => "MO",
            Self::Postback => "postback",
            Self::Unknown(s) => s,
        }
    }
}

wire_string_impls!(InboundEvent, from_wire);

/// A media file the user sent (one entry of the `attachments` JSON string).
///
/// ```
/// use webex_connect_whatsapp::webhook::Attachment;
/// let a: Attachment = serde_json::from_str(
///     r#"{"mime_type":"audio/mpeg","url":"https://example.com/ef484891"}"#)?;
/// assert_eq!(a.mime_type.type_(), mime::AUDIO);
/// assert_eq!(a.caption, None);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Attachment {
    /// The media type (`mime_type`), e.g. `image/jpeg`.
    #[serde(with = "mime_serde")]
    pub mime_type: Mime,
    /// The caption the user typed (image, video and document only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
    /// Where to download the file. Audio URLs may have no file extension.
    pub url: Url,
    /// Fields this crate does not know, as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Attachment {
    /// An attachment with no caption.
    ///
    /// ```
    /// use webex_connect_whatsapp::webhook::Attachment;
    /// let a = Attachment::new(mime::IMAGE_JPEG, "https://example.com/a.jpg".parse()?);
    /// assert_eq!(a.url.as_str(), "https://example.com/a.jpg");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(mime_type: Mime, url: Url) -> Self {
        Self {
            mime_type,
            caption: None,
            url,
            extra: Map::new(),
        }
    }

    crate::setters::setters! {
        /// Sets the caption.
        ///
        /// ```
        /// use webex_connect_whatsapp::webhook::Attachment;
        /// let a = Attachment::new(mime::IMAGE_JPEG, "https://example.com/a.jpg".parse()?).with_caption("Hi");
        /// assert_eq!(a.caption.as_deref(), Some("Hi"));
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        #[must_use]
        fn with_caption(self, caption: impl Into<String>) => self.caption = Some(caption.into());
    }
}

mod mime_serde {
    use std::borrow::Cow;

    use mime::Mime;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(value: &Mime, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(value.as_ref())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Mime, D::Error> {
        let value = Cow::<'de, str>::deserialize(deserializer)?;
        value
            .parse()
            .map_err(|e| serde::de::Error::custom(format_args!("invalid MIME type {value:?}: {e}")))
    }
}

/// A coordinate as the platform sends it: a string (`"17.434901060022"`); numbers are accepted.
fn coordinate<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Text(String),
        Number(serde_json::Number),
    }
    Ok(
        Option::<Raw>::deserialize(deserializer)?.map(|raw| match raw {
            Raw::Text(s) => s,
            Raw::Number(n) => n.to_string(),
        }),
    )
}

/// A location the user shared (the `location` JSON string).
///
/// Latitude and longitude arrive as strings; [`SharedLocation::latitude`] parses them and
/// [`SharedLocation::latitude_raw`] keeps the text.
///
/// ```
/// use webex_connect_whatsapp::webhook::SharedLocation;
/// let l: SharedLocation = serde_json::from_str(r#"{"latitude":"17.4349","longitude":"78.3984","name":"Office"}"#)?;
/// assert_eq!(l.latitude(), Some(17.4349));
/// assert_eq!(l.longitude_raw(), Some("78.3984"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SharedLocation {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    address: Option<String>,
    #[serde(
        default,
        deserialize_with = "coordinate",
        skip_serializing_if = "Option::is_none"
    )]
    latitude: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    url: Option<String>,
    #[serde(
        default,
        deserialize_with = "coordinate",
        skip_serializing_if = "Option::is_none"
    )]
    longitude: Option<String>,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

impl SharedLocation {
    /// A location at the given point.
    ///
    /// ```
    /// use webex_connect_whatsapp::webhook::SharedLocation;
    /// let l = SharedLocation::new(51.5, -0.12)?.with_name("Office").with_address("1 Main St");
    /// assert_eq!(l.latitude_raw(), Some("51.5"));
    /// assert!(SharedLocation::new(91.0, 0.0).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`WebhookError::InvalidCoordinate`] when the latitude is outside -90..=90, the
    /// longitude outside -180..=180, or either is not finite.
    pub fn new(latitude: f64, longitude: f64) -> Result<Self, WebhookError> {
        for (field, value, limit) in [
            ("latitude", latitude, 90.0),
            ("longitude", longitude, 180.0),
        ] {
            if !value.is_finite() || value.abs() > limit {
                return Err(WebhookError::InvalidCoordinate {
                    field,
                    value,
                    min: -limit,
                    max: limit,
                });
            }
        }
        Ok(Self {
            address: None,
            latitude: Some(latitude.to_string()),
            name: None,
            url: None,
            longitude: Some(longitude.to_string()),
            extra: Map::new(),
        })
    }

    crate::setters::setters! {
        /// Sets the place's name.
        #[must_use]
        fn with_name(self, name: impl Into<String>) => self.name = Some(name.into());

        /// Sets the address.
        #[must_use]
        fn with_address(self, address: impl Into<String>) => self.address = Some(address.into());

        /// Sets the place's URL.
        #[must_use]
        fn with_url(self, url: impl Into<String>) => self.url = Some(url.into());
    }

    /// The latitude in degrees; `None` when absent or not a number (see
    /// [`Self::latitude_raw`]).
    pub fn latitude(&self) -> Option<f64> {
        parse_degrees(self.latitude.as_deref())
    }

    /// The latitude text as received.
    pub fn latitude_raw(&self) -> Option<&str> {
        self.latitude.as_deref()
    }

    /// The longitude in degrees; `None` when absent or not a number (see
    /// [`Self::longitude_raw`]).
    pub fn longitude(&self) -> Option<f64> {
        parse_degrees(self.longitude.as_deref())
    }

    /// The longitude text as received.
    pub fn longitude_raw(&self) -> Option<&str> {
        self.longitude.as_deref()
    }

    /// The place's name, if given.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref().filter(|s| !s.is_empty())
    }

    /// The address, if given.
    pub fn address(&self) -> Option<&str> {
        self.address.as_deref().filter(|s| !s.is_empty())
    }

    /// The place's URL as received (not checked: the platform sends page links).
    pub fn url(&self) -> Option<&str> {
        self.url.as_deref().filter(|s| !s.is_empty())
    }

    /// Fields this crate does not know, as received.
    ///
    /// ```
    /// # use webex_connect_whatsapp::webhook::SharedLocation;
    /// let l: SharedLocation = serde_json::from_str(r#"{"latitude":"1","longitude":"2","floor":"3"}"#)?;
    /// assert_eq!(l.extra()["floor"], "3");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn extra(&self) -> &Map<String, Value> {
        &self.extra
    }
}

fn parse_degrees(text: Option<&str>) -> Option<f64> {
    text?.trim().parse::<f64>().ok().filter(|v| v.is_finite())
}
