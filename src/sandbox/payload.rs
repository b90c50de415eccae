//! The JSON bodies the sandbox posts, built with the crate's own webhook models so the
//! sandbox and the parser can never disagree on the FAQ's format.

use serde_json::Value;
use sha2::Digest as _;
use time::OffsetDateTime;

use super::user::SandboxUser;
use crate::webhook::{
    Attachment, DeliveryCode, DeliveryReceipt, DeliveryStatus, InboundMessage, SharedLocation,
    WebhookError,
};

/// One delivery receipt's variable parts.
#[derive(Debug, Clone)]
pub(crate) struct Receipt<'a> {
    pub(crate) transaction_id: &'a str,
    pub(crate) destination: &'a str,
    pub(crate) destination_type: DestinationType,
    pub(crate) correlation_id: &'a str,
    pub(crate) callback_data: &'a str,
    pub(crate) status: &'a ReceiptStatus,
    pub(crate) at: OffsetDateTime,
}

/// What a receipt reports: its status, code, and the texts the platform sends with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReceiptStatus {
    pub(crate) status: DeliveryStatus,
    pub(crate) code: DeliveryCode,
    /// `Description`, when the platform's differs from [`DeliveryCode::description`].
    pub(crate) description: Option<&'static str>,
    pub(crate) additional_info: &'static str,
}

impl ReceiptStatus {
    /// A status the platform sends with its code's own description and no detail.
    const fn plain(status: DeliveryStatus, code: DeliveryCode) -> Self {
        Self {
            status,
            code,
            description: None,
            additional_info: "",
        }
    }

    /// A Failed receipt with the platform's detail text.
    const fn failed(code: DeliveryCode, additional_info: &'static str) -> Self {
        Self {
            status: DeliveryStatus::Failed,
            code,
            description: None,
            additional_info,
        }
    }

    /// The platform's own `Description`, where it differs from the code's.
    const fn with_description(mut self, description: &'static str) -> Self {
        self.description = Some(description);
        self
    }

    /// The wire code, e.g. `7500`.
    pub(crate) fn code(&self) -> &str {
        self.code.as_str()
    }
}

pub(crate) static SUBMITTED: ReceiptStatus =
    ReceiptStatus::plain(DeliveryStatus::Submitted, DeliveryCode::Submitted);

pub(crate) static DELIVERED: ReceiptStatus =
    ReceiptStatus::plain(DeliveryStatus::Delivered, DeliveryCode::Delivered);

pub(crate) static READ: ReceiptStatus =
    ReceiptStatus::plain(DeliveryStatus::Read, DeliveryCode::Read);

/// Texts of the FAQ's 7710 sample.
pub(crate) static REENGAGEMENT: ReceiptStatus = ReceiptStatus::failed(
    DeliveryCode::ReEngagement,
    "Message failed to send because more than 24 hours have passed since the customer last replied to this number",
);

pub(crate) static TOO_LONG: ReceiptStatus = ReceiptStatus::failed(
    DeliveryCode::MessageTooLong,
    "(#100) | Param text['body'] must be at most 4096 characters long",
);

/// The reference's code table spells this description shorter than the crate's.
pub(crate) static PARAM_MISMATCH: ReceiptStatus = ReceiptStatus::failed(
    DeliveryCode::TemplateParamCountMismatch,
    "(#132000) | Number of parameters does not match the expected number of params",
)
.with_description("Template param count mismatch");

/// A `deliveryInfoNotification`, as in the FAQ's samples.
pub(crate) fn receipt(r: &Receipt<'_>) -> DeliveryReceipt {
    let mut builder = DeliveryReceipt::builder(r.transaction_id, r.status.status.clone())
        .code(r.status.code.clone())
        .additional_info(r.status.additional_info)
        .destination(r.destination)
        .destination_type(r.destination_type.as_str())
        .correlation_id(r.correlation_id)
        .callback_data(r.callback_data)
        .timestamp(r.at.to_offset(time::UtcOffset::UTC));
    if let Some(description) = r.status.description {
        builder = builder.description(description);
    }
    builder.build()
}

/// What a customer sends in an inbound (MO) message.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Inbound {
    Text(String),
    Image(Attachment),
    Location(SharedLocation),
}

/// An inbound (MO) event, as in the FAQ's samples: `attachments` and `location` are JSON
/// encoded as strings.
#[cfg(test)]
pub(crate) fn inbound(
    app_id: &str,
    waid: &str,
    tid: &str,
    at: OffsetDateTime,
    content: &Inbound,
) -> Result<InboundMessage, WebhookError> {
    let user = SandboxUser::unchecked_phone(waid);
    inbound_from(app_id, &user, tid, at, content)
}

/// An inbound (MO) event from `user`. A phone user's is the FAQ's sample shape (`userId`
/// holds the BSUID when the user has one); a username user's has `userId` and `username`
/// and no `waid` (reference §12.1; UNVERIFIED beyond "`waid` absent or empty").
pub(crate) fn inbound_from(
    app_id: &str,
    user: &SandboxUser,
    tid: &str,
    at: OffsetDateTime,
    content: &Inbound,
) -> Result<InboundMessage, WebhookError> {
    let at = at.to_offset(time::UtcOffset::UTC);
    let Some(waid) = user.waid() else {
        let ts = crate::webhook::body::format_timestamp(at);
        return username_inbound(app_id, user, tid, &ts, content);
    };
    let mut builder = InboundMessage::builder(app_id, waid).tid(tid).timestamp(at);
    if let Some(bsuid) = user.bsuid() {
        builder = builder.user_id(bsuid.as_str());
    }
    match content {
        Inbound::Text(text) => builder.text(text.clone()),
        Inbound::Image(attachment) => builder.attachment(attachment.clone()),
        Inbound::Location(location) => builder.location(location.clone()),
    }
    .build()
}

/// Written by hand: `InboundMessageBuilder` always writes a `waid`, and a username user has
/// none. Same member order as the builder's, with `username` after `userId` as in §7.1.
fn username_inbound(
    app_id: &str,
    user: &SandboxUser,
    tid: &str,
    ts: &str,
    content: &Inbound,
) -> Result<InboundMessage, WebhookError> {
    let q = |s: &str| Value::from(s).to_string();
    let embedded = |field: &'static str, value: Result<String, serde_json::Error>| {
        value.map_err(|e| WebhookError::InvalidEmbeddedJson {
            field,
            expected: "serializable JSON",
            reason: e.to_string(),
        })
    };
    let (text, attachments, location) = match content {
        Inbound::Text(text) => (text.as_str(), "[]".to_owned(), String::new()),
        Inbound::Image(a) => (
            "",
            embedded("attachments", serde_json::to_string(&[a]))?,
            String::new(),
        ),
        Inbound::Location(l) => (
            "",
            "[]".to_owned(),
            embedded("location", serde_json::to_string(l))?,
        ),
    };
    let members = [
        ("userId", q(user.bsuid().map_or("", |b| b.as_str()))),
        ("username", q(user.username().unwrap_or_default())),
        ("channel", q("WhatsApp")),
        ("appId", q(app_id)),
        ("event", q("MO")),
        ("message", q(text)),
        ("attachments", q(&attachments)),
        ("system", q("")),
        ("location", q(&location)),
        ("ts", q(ts)),
        ("tid", q(tid)),
    ];
    InboundMessage::from_slice(crate::webhook::body::ordered_object(&members).as_bytes())
}

/// An event of kind `kind` from `user`: the envelope every app webhook carries (`userId`,
/// `username` for a username user, `channel`, `appId`, `event`, `waid` for a phone user),
/// then `extra`'s members (which may replace the envelope's), then `ts` and `tid`.
pub(crate) fn event(
    app_id: &str,
    kind: &str,
    user: &SandboxUser,
    tid: &str,
    at: OffsetDateTime,
    extra: &serde_json::Map<String, Value>,
) -> String {
    let q = |s: &str| Value::from(s).to_string();
    let mut members: Vec<(&str, String)> =
        vec![("userId", q(user.bsuid().map_or("", |b| b.as_str())))];
    if let Some(username) = user.username() {
        members.push(("username", q(username)));
    }
    members.push(("channel", q("WhatsApp")));
    members.push(("appId", q(app_id)));
    members.push(("event", q(kind)));
    if let Some(waid) = user.waid() {
        members.push(("waid", q(waid)));
    }
    let ts = crate::webhook::body::format_timestamp(at.to_offset(time::UtcOffset::UTC));
    members.push(("ts", q(&ts)));
    members.push(("tid", q(tid)));
    for (key, value) in extra {
        let value = value.to_string();
        match members.iter_mut().find(|(k, _)| k == key) {
            Some(member) => member.1 = value,
            None => members.push((key.as_str(), value)),
        }
    }
    crate::webhook::body::ordered_object(&members)
}

/// A digest of a request's content (`channels` or `message`), to tell a message sent twice
/// from two messages.
pub(crate) fn content_digest(raw: &Value) -> String {
    let content = raw
        .get("message")
        .filter(|m| !m.is_null())
        .or_else(|| raw.get("channels"))
        .map(Value::to_string)
        .unwrap_or_default();
    let digest = sha2::Sha256::digest(content.as_bytes());
    hex::encode(digest.get(..12).unwrap_or_default())
}

/// A random version-4 UUID in its usual text form, the shape of real `transid`s.
pub(crate) fn uuid(rng: &mut fastrand::Rng) -> String {
    let a = rng.u128(..);
    let mut bytes = a.to_be_bytes();
    if let Some(b) = bytes.get_mut(6) {
        *b = (*b & 0x0f) | 0x40;
    }
    if let Some(b) = bytes.get_mut(8) {
        *b = (*b & 0x3f) | 0x80;
    }
    let hex = hex::encode(bytes);
    format!(
        "{}-{}-{}-{}-{}",
        hex.get(0..8).unwrap_or_default(),
        hex.get(8..12).unwrap_or_default(),
        hex.get(12..16).unwrap_or_default(),
        hex.get(16..20).unwrap_or_default(),
        hex.get(20..32).unwrap_or_default(),
    )
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    fn json(text: &str) -> Value {
        serde_json::from_str(text).unwrap_or_default()
    }

    #[test]
    fn receipt_matches_the_faq_sample() {
        let sample = r#"{"deliveryInfoNotification":{"subtid":"","deliveryInfo":{"deliveryChannel":"whatsapp","Description":"Submitted","destinationType":"waid","timeStamp":"2019-03-04T09:49:20.429Z","code":"7501","additionalInfo":"","deliveryStatus":"Submitted","destination":"9199xxxxxxxx"},"correlationid":"","callbackData":"","transid":"5c9f6594-a371-4e78-8561-b695f9647472"}}"#;
        let built = receipt(&Receipt {
            transaction_id: "5c9f6594-a371-4e78-8561-b695f9647472",
            destination: "9199xxxxxxxx",
            destination_type: DestinationType::Waid,
            correlation_id: "",
            callback_data: "",
            status: &SUBMITTED,
            at: time::macros::datetime!(2019-03-04 09:49:20.429 UTC),
        });
        // Byte for byte, key order included.
        assert_eq!(built.raw(), sample);
    }

    /// A receipt to waid `1` at the FAQ sample's time, with nothing echoed.
    fn sample_time(status: &'static ReceiptStatus) -> Receipt<'static> {
        Receipt {
            transaction_id: "t",
            destination: "1",
            destination_type: DestinationType::Waid,
            correlation_id: "",
            callback_data: "",
            status,
            at: time::macros::datetime!(2019-03-04 09:49:20.429 UTC),
        }
    }

    #[test]
    fn failure_receipts_keep_the_platform_texts() {
        let built = receipt(&Receipt {
            correlation_id: "c",
            callback_data: "d",
            ..sample_time(&PARAM_MISMATCH)
        });
        assert_eq!(built.description(), Some("Template param count mismatch"));
        assert_eq!(built.code().as_str(), "7804");
        assert_eq!(built.status(), &DeliveryStatus::Failed);
        assert_eq!(built.meta_error_code(), Some(132_000));
    }

    #[test]
    fn inbound_text_matches_the_faq_sample() {
        let sample = r#"{"userId":"","channel":"WhatsApp","appId":"a_155054536910425280","event":"MO","waid":"9199xxxxxxxx","message":"Hello","attachments":"[]","system":"","location":"","ts":"2019-03-03T07:40:51.297Z","tid":"0cab6280-9d98-0041-4877-0bde6515b15a_0"}"#;
        let built = inbound(
            "a_155054536910425280",
            "9199xxxxxxxx",
            "0cab6280-9d98-0041-4877-0bde6515b15a_0",
            time::macros::datetime!(2019-03-03 07:40:51.297 UTC),
            &Inbound::Text("Hello".to_owned()),
        );
        let built = built.map(|m| m.raw().to_owned()).unwrap_or_default();
        assert_eq!(built, sample);
        assert_eq!(json(&built), json(sample));
    }

    #[test]
    fn inbound_location_is_json_in_a_string() {
        let location = SharedLocation::new(17.434_901, 78.398_4)
            .map(|l| l.with_name("Office").with_address("1 Main St"));
        let Ok(location) = location else {
            return assert!(location.is_ok());
        };
        let built = inbound(
            "a_1",
            "919900012345",
            "t_0",
            time::macros::datetime!(2019-03-03 07:40:51.297 UTC),
            &Inbound::Location(location),
        );
        let read = built.ok().and_then(|m| m.location().ok().flatten());
        assert_eq!(
            read.as_ref().and_then(SharedLocation::latitude),
            Some(17.434_901)
        );
        assert_eq!(read.as_ref().and_then(SharedLocation::name), Some("Office"));
    }

    #[test]
    fn bsuid_receipts_name_their_type() {
        let built = receipt(&Receipt {
            destination: "US.13491208655302741918",
            destination_type: DestinationType::Bsuid,
            ..sample_time(&READ)
        });
        assert_eq!(built.destination(), Some("US.13491208655302741918"));
        assert_eq!(built.destination_type(), Some("bsuid"));
    }

    #[test]
    fn a_username_user_writes_without_a_waid() {
        let bsuid = crate::Bsuid::new("US.13491208655302741918");
        let Ok(bsuid) = bsuid else {
            return assert!(bsuid.is_ok());
        };
        let user = SandboxUser::by_username(bsuid, "asha");
        let built = inbound_from(
            "a_1",
            &user,
            "t_0",
            time::macros::datetime!(2019-03-03 07:40:51.297 UTC),
            &Inbound::Text("hi".to_owned()),
        );
        let raw = built.map(|m| m.raw().to_owned()).unwrap_or_default();
        assert_eq!(
            raw,
            r#"{"userId":"US.13491208655302741918","username":"asha","channel":"WhatsApp","appId":"a_1","event":"MO","message":"hi","attachments":"[]","system":"","location":"","ts":"2019-03-03T07:40:51.297Z","tid":"t_0"}"#
        );
    }

    #[test]
    fn events_let_extra_members_replace_the_envelope() {
        let user = SandboxUser::unchecked_phone("919900012345");
        let mut extra = serde_json::Map::new();
        extra.insert("channel".to_owned(), Value::from("WA"));
        extra.insert("reaction".to_owned(), serde_json::json!({"emoji": "👍"}));
        let raw = event(
            "a_1",
            "reaction",
            &user,
            "t_0",
            time::macros::datetime!(2019-03-03 07:40:51.297 UTC),
            &extra,
        );
        assert_eq!(
            json(&raw),
            serde_json::json!({"userId": "", "channel": "WA", "appId": "a_1", "event": "reaction",
                "waid": "919900012345", "ts": "2019-03-03T07:40:51.297Z", "tid": "t_0",
                "reaction": {"emoji": "👍"}})
        );
    }

    #[test]
    fn equal_contents_have_equal_digests() {
        let a = serde_json::json!({"channels": {"OTT-Messaging": {"wa": {"type": "text"}}}});
        let b = serde_json::json!({"message": {"template": "1"}});
        assert_eq!(content_digest(&a), content_digest(&a.clone()));
        assert_ne!(content_digest(&a), content_digest(&b));
    }

    #[test]
    fn uuids_have_the_v4_shape() {
        let id = uuid(&mut fastrand::Rng::with_seed(1));
        assert_eq!(id.len(), 36);
        assert_eq!(id.get(14..15), Some("4"));
    }
}

/// What kind of id a destination is, as receipts name it in `destinationType`.
///
/// ```
/// use webex_connect_whatsapp::sandbox::DestinationType;
/// assert_eq!(DestinationType::Waid.as_str(), "waid");
/// assert_eq!(DestinationType::Bsuid.as_str(), "bsuid");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum DestinationType {
    /// A WhatsApp id or phone number (`destination[].waid`).
    Waid,
    /// A business-scoped user id (`destination[].bsuid`).
    ///
    /// UNVERIFIED: the docs show receipts only for `waid`; the sandbox writes `bsuid`.
    Bsuid,
}

impl DestinationType {
    /// The `destinationType` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Waid => "waid",
            Self::Bsuid => "bsuid",
        }
    }
}
