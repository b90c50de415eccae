//! The Messaging API v1 send request (`POST /resources/v1/messaging`) and its response.
//!
//! A [`SendRequest`] is built, checked and then serialized to exactly the JSON Webex Connect
//! takes; a [`SendResponse`] reads both shapes the API answers with (`{"response":[...]}` when
//! accepted, `{"response":{...}}` when rejected).
//!
//! ```
//! use webex_connect_whatsapp::send::{SendRequest, SendResponse};
//! use webex_connect_whatsapp::{AppId, PhoneNumber, SessionMessage};
//!
//! let text = SessionMessage::text("Hello")?;
//! let request = SendRequest::builder(AppId::new("a_155054536910425280")?, text)
//!     .to(&PhoneNumber::parse("+91 99000 12345")?)
//!     .build()?;
//! let json = serde_json::to_value(&request)?;
//! assert_eq!(json["deliverychannel"], "whatsapp");
//! assert_eq!(json["destination"][0]["waid"][0], "919900012345");
//!
//! let response = SendResponse::from_slice(br#"{"response":[{"code":"1001","transid":"t-1","description":"Queued"}]}"#)?;
//! assert!(response.is_queued());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod error;
mod options;
mod request_options;
mod response;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};
use time::OffsetDateTime;
use url::Url;

pub use error::SendRequestError;
pub use options::{LinkOptions, LinkOptionsBuilder, LinkOptionsError};
pub use request_options::RequestOptions;
pub use response::{ResponseCode, ResponseEntry, SendResponse};

use crate::ids::{AppId, CallbackData, CorrelationId};
use crate::limits::MAX_DESTINATIONS;
use crate::recipient::Recipient;
use crate::session::SessionMessage;
use crate::template::TemplateMessage;
use crate::url::NotHttps;

/// The `deliverychannel` value for WhatsApp.
pub const DELIVERY_CHANNEL: &str = "whatsapp";

/// What a request sends: a session message or a template message.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Content {
    /// A free-form message, allowed only inside the 24-hour window (`channels.OTT-Messaging.wa`).
    Session(SessionMessage),
    /// A pre-approved template (`message.template` + `parameters`).
    Template(TemplateMessage),
}

crate::conversions::from_variants!(Content {
    SessionMessage => Session,
    TemplateMessage => Template,
});

/// One recipient entry of `destination`: a WhatsApp id (`waid`) or a business-scoped user id
/// (`bsuid`), and an optional correlation id.
///
/// A phone number goes out as `{"waid":["447400123456"]}`, a BSUID as
/// `{"bsuid":["US.13491208655302741918"]}` with no `waid`: the platform reads a BSUID put in
/// `waid` as a normalized WAID, so each id goes in its own field.
///
/// **When a destination carries both** a `waid` and a `bsuid`, Webex Connect uses the `waid`
/// and the `bsuid` is not used to address the message (Cisco's docs, reference §13). This
/// crate builds one id per destination ([`Destination::new`] takes one [`Recipient`]), but a
/// destination read from the wire ([`SendRequest::from_slice`], serde) may carry both; its
/// [`Destination::id`] is then the `waid`, and the sandbox sends to the `waid` alone.
///
/// ```
/// use webex_connect_whatsapp::send::Destination;
/// use webex_connect_whatsapp::{Bsuid, CorrelationId, PhoneNumber};
///
/// let d = Destination::new(&PhoneNumber::parse("+44 7400 123456")?)
///     .with_correlation_id(CorrelationId::new("order-1")?);
/// assert_eq!(d.waids(), ["447400123456"]);
/// let d = Destination::new(Bsuid::new("US.13491208655302741918")?);
/// assert_eq!(serde_json::to_string(&d)?, r#"{"bsuid":["US.13491208655302741918"]}"#);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Destination {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    waid: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    bsuid: Vec<String>,
    #[serde(
        rename = "correlationid",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    correlation_id: Option<CorrelationId>,
}

impl Destination {
    /// A destination for one recipient: a phone number's `waid` digits or a BSUID.
    pub fn new(to: impl Into<Recipient>) -> Self {
        let (waid, bsuid) = match to.into() {
            Recipient::Phone(p) => (vec![p.waid().to_owned()], Vec::new()),
            Recipient::Bsuid(b) => (Vec::new(), vec![b.into_string()]),
        };
        Self {
            waid,
            bsuid,
            correlation_id: None,
        }
    }

    crate::setters::setters! {
        /// Sets the correlation id of this destination; it overrides the request's.
        #[must_use]
        fn with_correlation_id(self, id: CorrelationId) => self.correlation_id = Some(id);
    }

    /// The WhatsApp ids of this destination (`waid`), as sent.
    pub fn waids(&self) -> &[String] {
        &self.waid
    }

    /// The business-scoped user ids of this destination (`bsuid`), as sent.
    pub fn bsuids(&self) -> &[String] {
        &self.bsuid
    }

    /// The id the platform addresses: the first `waid`, else the first `bsuid` (a `waid` wins
    /// when both are given). Receipts name this id.
    ///
    /// ```
    /// use webex_connect_whatsapp::send::Destination;
    ///
    /// let both: Destination = serde_json::from_str(r#"{"waid":["919900012345"],"bsuid":["IN.2149372115"]}"#)?;
    /// assert_eq!(both.id(), Some("919900012345"));
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn id(&self) -> Option<&str> {
        self.waid
            .first()
            .or_else(|| self.bsuid.first())
            .map(String::as_str)
    }

    /// Every id of this destination, `waid`s then `bsuid`s.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.waid.iter().chain(&self.bsuid).map(String::as_str)
    }

    /// The destination's own correlation id.
    pub fn correlation_id(&self) -> Option<&CorrelationId> {
        self.correlation_id.as_ref()
    }
}

/// A complete, checked Messaging API v1 request for WhatsApp.
///
/// Build it with [`SendRequest::builder`]; serialize it with serde to get the wire JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct SendRequest {
    app_id: AppId,
    destinations: Vec<Destination>,
    content: Content,
    identity_key_hash: Option<Value>,
    correlation_id: Option<CorrelationId>,
    options: RequestOptions,
}

impl SendRequest {
    /// Starts a request from the app id and the content; add recipients with
    /// [`SendRequestBuilder::to`].
    pub fn builder(app_id: AppId, content: impl Into<Content>) -> SendRequestBuilder {
        SendRequestBuilder {
            request: Self {
                app_id,
                destinations: Vec::new(),
                content: content.into(),
                identity_key_hash: None,
                correlation_id: None,
                options: RequestOptions::new(),
            },
        }
    }

    /// Reads a request from wire JSON, as Webex Connect (or the sandbox) receives it.
    ///
    /// # Errors
    ///
    /// [`SendRequestError`], whose variant maps to the code Webex Connect would answer.
    pub fn from_slice(body: &[u8]) -> Result<Self, SendRequestError> {
        let value: Value =
            serde_json::from_slice(body).map_err(|e| SendRequestError::NotJson(e.to_string()))?;
        Self::from_value(value)
    }

    /// Reads a request from an already decoded JSON value.
    ///
    /// # Errors
    ///
    /// [`SendRequestError`] naming the first missing or invalid field.
    pub fn from_value(value: Value) -> Result<Self, SendRequestError> {
        let Value::Object(mut map) = value else {
            return Err(SendRequestError::NotJson(
                "the body is not a JSON object".to_owned(),
            ));
        };
        let channel = take_str(&mut map, "deliverychannel")?;
        if !channel.eq_ignore_ascii_case(DELIVERY_CHANNEL) {
            return Err(SendRequestError::invalid(
                "deliverychannel",
                format!("{channel:?} is not \"whatsapp\""),
            ));
        }
        let app_id = AppId::new(take_str(&mut map, "appid")?)
            .map_err(|e| SendRequestError::invalid("appid", e))?;
        let destinations: Vec<Destination> = match map.remove("destination") {
            None | Some(Value::Null) => {
                return Err(SendRequestError::Missing {
                    field: "destination",
                });
            }
            Some(v) => serde_json::from_value(v)
                .map_err(|e| SendRequestError::invalid("destination", e))?,
        };
        let mut wa = match map.remove("channels") {
            Some(Value::Object(mut channels)) => match channels.remove("OTT-Messaging") {
                Some(Value::Object(mut ott)) => match ott.remove("wa") {
                    Some(Value::Object(wa)) => Some(wa),
                    _ => None,
                },
                _ => None,
            },
            _ => None,
        };
        let identity_key_hash = wa.as_mut().and_then(|wa| wa.remove("identity_key_hash"));
        let template = match map.remove("message") {
            None | Some(Value::Null) => None,
            Some(v) => Some(
                serde_json::from_value::<TemplateMessage>(v)
                    .map_err(|e| SendRequestError::invalid("message", e))?,
            ),
        };
        let content = match (template, wa) {
            (Some(t), _) => Content::Template(t),
            (None, Some(wa)) if wa.contains_key("type") => Content::Session(read_session(wa)?),
            (None, _) => {
                return Err(SendRequestError::Missing {
                    field: "channels.OTT-Messaging.wa",
                });
            }
        };
        let mut builder = Self::builder(app_id, content).destinations(destinations);
        builder.request.identity_key_hash = identity_key_hash;
        if let Some(v) = take_opt_str(&mut map, "correlationid")? {
            builder = builder.correlation_id(
                CorrelationId::new(v).map_err(|e| SendRequestError::invalid("correlationid", e))?,
            );
        }
        let mut options = RequestOptions::new();
        if let Some(v) = take_opt_str(&mut map, "callbackData")? {
            options = options.callback_data(
                CallbackData::new(v).map_err(|e| SendRequestError::invalid("callbackData", e))?,
            );
        }
        if let Some(v) = take_opt_str(&mut map, "notifyurl")? {
            options = options
                .notify_url(Url::parse(&v).map_err(|e| SendRequestError::invalid("notifyurl", e))?);
        }
        if let Some(v) = take_opt_str(&mut map, "notifyurlAuthId")? {
            options = options.notify_url_auth_id(v);
        }
        if let Some(v) = take_opt_str(&mut map, "expiry")? {
            let at = OffsetDateTime::parse(&v, &time::format_description::well_known::Rfc3339)
                .map_err(|e| SendRequestError::invalid("expiry", e))?;
            options = options.expiry(at);
        }
        match map.remove("options") {
            None | Some(Value::Null) => {}
            Some(Value::Object(link)) => {
                options = options.link_options(LinkOptions::from_wire(link)?);
            }
            Some(other) => {
                return Err(SendRequestError::invalid(
                    "options",
                    format!("expected an object, got {other}"),
                ));
            }
        }
        builder.options(options).build()
    }

    /// The WhatsApp app id (`appid`).
    pub fn app_id(&self) -> &AppId {
        &self.app_id
    }

    /// The recipients (`destination`).
    pub fn destinations(&self) -> &[Destination] {
        &self.destinations
    }

    /// What is sent.
    pub fn content(&self) -> &Content {
        &self.content
    }

    /// The request-level correlation id (`correlationid`).
    pub fn correlation_id(&self) -> Option<&CorrelationId> {
        self.correlation_id.as_ref()
    }

    /// The data echoed in delivery receipts (`callbackData`).
    pub fn callback_data(&self) -> Option<&CallbackData> {
        self.options.callback_data.as_ref()
    }

    /// Where delivery receipts for this request go (`notifyurl`).
    pub fn notify_url(&self) -> Option<&Url> {
        self.options.notify_url.as_ref()
    }

    /// The authorization profile applied when calling the notify URL (`notifyurlAuthId`).
    pub fn notify_url_auth_id(&self) -> Option<&str> {
        self.options.notify_url_auth_id.as_deref()
    }

    /// The time after which the message is not sent (`expiry`).
    pub fn expiry(&self) -> Option<OffsetDateTime> {
        self.options.expiry
    }

    /// Link shortening and click tracking (`options`).
    pub fn link_options(&self) -> Option<&LinkOptions> {
        self.options.link_options.as_ref()
    }

    /// A copy of this request for other recipients: the same content and options.
    ///
    /// # Errors
    ///
    /// [`SendRequestError::Missing`] for no destinations, [`SendRequestError::TooManyDestinations`]
    /// above [`MAX_DESTINATIONS`].
    pub fn with_destinations(
        &self,
        destinations: Vec<Destination>,
    ) -> Result<Self, SendRequestError> {
        let request = Self {
            destinations,
            ..self.clone()
        };
        SendRequestBuilder { request }.build()
    }
}

/// Reads `channels.OTT-Messaging.wa` so that a request reads back exactly as it was sent: a
/// modelled `type` is checked as the typed message and kept raw only when the typed form would
/// drop a field; any other `type` is kept raw.
fn read_session(wa: Map<String, Value>) -> Result<SessionMessage, SendRequestError> {
    const FIELD: &str = "channels.OTT-Messaging.wa";
    let original = Value::Object(wa);
    let message: SessionMessage = serde_json::from_value(original.clone())
        .map_err(|e| SendRequestError::invalid(FIELD, e))?;
    if message.as_raw().is_some() {
        return Ok(message);
    }
    let typed = serde_json::to_value(&message).map_err(|e| SendRequestError::invalid(FIELD, e))?;
    if crate::lossless::drops_fields(&original, &typed)
        && let Value::Object(object) = original
    {
        return SessionMessage::raw(object).map_err(|e| SendRequestError::invalid(FIELD, e));
    }
    Ok(message)
}

fn take_str(map: &mut Map<String, Value>, field: &'static str) -> Result<String, SendRequestError> {
    take_opt_str(map, field)?.ok_or(SendRequestError::Missing { field })
}

/// Reads an optional string field; an empty string counts as absent, as on the platform.
fn take_opt_str(
    map: &mut Map<String, Value>,
    field: &'static str,
) -> Result<Option<String>, SendRequestError> {
    take_optional(map, field, |value| match value {
        Value::String(s) if s.is_empty() => Ok(None),
        Value::String(s) => Ok(Some(s)),
        other => Err(SendRequestError::invalid(
            field,
            format!("expected a string, got {other}"),
        )),
    })
}

/// Removes an optional field of a request object: absent and `null` both count as absent;
/// anything else goes to `read`, which may also find it empty.
fn take_optional<T>(
    map: &mut Map<String, Value>,
    field: &str,
    read: impl FnOnce(Value) -> Result<Option<T>, SendRequestError>,
) -> Result<Option<T>, SendRequestError> {
    match map.remove(field) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => read(value),
    }
}

/// Builds a [`SendRequest`]; [`SendRequestBuilder::build`] can fail with a
/// [`SendRequestError`] (a missing or invalid field, more destinations than one request takes).
#[derive(Debug, Clone)]
#[must_use]
pub struct SendRequestBuilder {
    request: SendRequest,
}

impl SendRequestBuilder {
    crate::setters::setters! {
        /// Adds a recipient: a phone number (`&PhoneNumber` works) or a BSUID.
        fn to(self, to: impl Into<Recipient>) =>
            self.request.destinations.push(Destination::new(to));

        /// Adds a prepared destination (with its own correlation id).
        fn destination(self, destination: Destination) =>
            self.request.destinations.push(destination);

        /// Adds many destinations.
        fn destinations(self, destinations: impl IntoIterator<Item = Destination>) =>
            self.request.destinations.extend(destinations);

        /// Sets the request-level correlation id, echoed in delivery receipts.
        fn correlation_id(self, id: CorrelationId) => self.request.correlation_id = Some(id);

        /// Sets the request-level options whole, replacing any set before.
        fn options(self, options: RequestOptions) => self.request.options = options;

        /// Sets [`RequestOptions::callback_data`].
        fn callback_data(self, data: CallbackData) =>
            self.request.options = self.request.options.callback_data(data);

        /// Sets [`RequestOptions::notify_url`].
        fn notify_url(self, url: Url) =>
            self.request.options = self.request.options.notify_url(url);

        /// Sets [`RequestOptions::notify_url_auth_id`].
        fn notify_url_auth_id(self, notify_url_auth_id: impl Into<String>) =>
            self.request.options = self.request.options.notify_url_auth_id(notify_url_auth_id);

        /// Sets [`RequestOptions::expiry`].
        fn expiry(self, at: OffsetDateTime) =>
            self.request.options = self.request.options.expiry(at);

        /// Sets [`RequestOptions::link_options`].
        fn link_options(self, options: LinkOptions) =>
            self.request.options = self.request.options.link_options(options);

        /// Sets `channels.OTT-Messaging.wa.identity_key_hash` (WhatsApp's identity-change check).
        fn identity_key_hash(self, hash: impl Into<String>) =>
            self.request.identity_key_hash = Some(Value::String(hash.into()));
    }

    /// Checks the request: 1 to [`MAX_DESTINATIONS`] destinations, each with a `waid` or a
    /// `bsuid`;
    /// a notify URL that is https (or http on a loopback address).
    ///
    /// # Errors
    ///
    /// [`SendRequestError`] naming the field and the rule.
    pub fn build(self) -> Result<SendRequest, SendRequestError> {
        let request = self.request;
        if request.destinations.is_empty() {
            return Err(SendRequestError::Missing {
                field: "destination",
            });
        }
        if request.destinations.len() > MAX_DESTINATIONS {
            return Err(SendRequestError::TooManyDestinations {
                actual: request.destinations.len(),
                max: MAX_DESTINATIONS,
            });
        }
        if let Some(index) = request
            .destinations
            .iter()
            .position(|d| d.waid.is_empty() && d.bsuid.is_empty())
        {
            return Err(SendRequestError::invalid(
                "destination",
                format!("entry {index} has neither a waid nor a bsuid; give at least one"),
            ));
        }
        if let Some(url) = &request.options.notify_url {
            check_notify_url(url)
                .map_err(|reason| SendRequestError::invalid("notifyurl", reason))?;
        }
        Ok(request)
    }
}

/// Webhooks carry personal data: see [`crate::url`] for the rule.
fn check_notify_url(url: &Url) -> Result<(), String> {
    crate::url::https_or_loopback(url).map_err(|refused| match refused {
        NotHttps::PlainHttp => {
            format!("{url} uses http; only https is allowed, except on a loopback address")
        }
        NotHttps::OtherScheme => format!("scheme {:?} is not allowed; use https", url.scheme()),
    })
}

impl Serialize for SendRequest {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Wire<'a> {
            deliverychannel: &'static str,
            appid: &'a AppId,
            destination: &'a [Destination],
            #[serde(skip_serializing_if = "Option::is_none")]
            channels: Option<Channels<'a>>,
            #[serde(skip_serializing_if = "Option::is_none")]
            message: Option<&'a TemplateMessage>,
            #[serde(skip_serializing_if = "Option::is_none")]
            correlationid: Option<&'a CorrelationId>,
            #[serde(rename = "callbackData", skip_serializing_if = "Option::is_none")]
            callback_data: Option<&'a CallbackData>,
            #[serde(skip_serializing_if = "Option::is_none")]
            notifyurl: Option<&'a str>,
            #[serde(rename = "notifyurlAuthId", skip_serializing_if = "Option::is_none")]
            notify_url_auth_id: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            expiry: Option<String>,
            #[serde(skip_serializing_if = "Option::is_none")]
            options: Option<&'a LinkOptions>,
        }
        #[derive(Serialize)]
        struct Channels<'a> {
            #[serde(rename = "OTT-Messaging")]
            ott: Ott<'a>,
        }
        #[derive(Serialize)]
        struct Ott<'a> {
            wa: Wa<'a>,
        }
        #[derive(Serialize)]
        struct Wa<'a> {
            #[serde(flatten, skip_serializing_if = "Option::is_none")]
            message: Option<&'a SessionMessage>,
            #[serde(skip_serializing_if = "Option::is_none")]
            identity_key_hash: Option<&'a Value>,
        }

        let (session, template) = match &self.content {
            Content::Session(s) => (Some(s), None),
            Content::Template(t) => (None, Some(t)),
        };
        let channels =
            (session.is_some() || self.identity_key_hash.is_some()).then_some(Channels {
                ott: Ott {
                    wa: Wa {
                        message: session,
                        identity_key_hash: self.identity_key_hash.as_ref(),
                    },
                },
            });
        let expiry = match self.options.expiry {
            Some(at) => Some(format_expiry(at).map_err(serde::ser::Error::custom)?),
            None => None,
        };
        Wire {
            deliverychannel: DELIVERY_CHANNEL,
            appid: &self.app_id,
            destination: &self.destinations,
            channels,
            message: template,
            // Every published WhatsApp sample sets `correlationid` at the top level; the
            // per-destination one is documented only in the Send Message v1 table
            // (UNVERIFIED for WhatsApp). With one destination the id goes in both places, so
            // receipts echo it whichever the platform reads.
            correlationid: self
                .correlation_id
                .as_ref()
                .or(match self.destinations.as_slice() {
                    [only] => only.correlation_id(),
                    _ => None,
                }),
            callback_data: self.options.callback_data.as_ref(),
            notifyurl: self.options.notify_url.as_ref().map(Url::as_str),
            notify_url_auth_id: self.options.notify_url_auth_id.as_deref(),
            expiry,
            options: self.options.link_options.as_ref(),
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for SendRequest {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Self::from_value(Value::deserialize(deserializer)?).map_err(D::Error::custom)
    }
}

/// The expiry as the docs show it: UTC, milliseconds, `Z` (`2015-04-12T13:00:19.456Z`).
fn format_expiry(at: OffsetDateTime) -> Result<String, time::error::Format> {
    at.to_offset(time::UtcOffset::UTC)
        .format(time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
        ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::phone::PhoneNumber;
    use serde_json::json;

    fn text() -> SessionMessage {
        SessionMessage::text("Hello").unwrap()
    }

    fn app() -> AppId {
        AppId::new("a_155054536910425280").unwrap()
    }

    #[test]
    fn session_request_serializes_to_the_reference_envelope() {
        let to = PhoneNumber::parse("+91 99000 12345").unwrap();
        let request = SendRequest::builder(app(), text())
            .destination(
                Destination::new(&to).with_correlation_id(CorrelationId::new("c-1").unwrap()),
            )
            .correlation_id(CorrelationId::new("req-1").unwrap())
            .callback_data(CallbackData::new("cb").unwrap())
            .notify_url(Url::parse("https://example.com/dlr").unwrap())
            .notify_url_auth_id("auth-1")
            .expiry(time::macros::datetime!(2015-04-12 13:00:19.456 UTC))
            .build()
            .unwrap();
        assert_eq!(
            serde_json::to_value(&request).unwrap(),
            json!({
                "deliverychannel": "whatsapp",
                "appid": "a_155054536910425280",
                "destination": [{"waid": ["919900012345"], "correlationid": "c-1"}],
                "channels": {"OTT-Messaging": {"wa": {"type": "text", "text": {"body": "Hello"}}}},
                "correlationid": "req-1",
                "callbackData": "cb",
                "notifyurl": "https://example.com/dlr",
                "notifyurlAuthId": "auth-1",
                "expiry": "2015-04-12T13:00:19.456Z"
            })
        );
        let back = SendRequest::from_slice(&serde_json::to_vec(&request).unwrap()).unwrap();
        assert_eq!(back, request);
    }

    #[test]
    fn options_whole_and_one_by_one_build_the_same_request() {
        let to = PhoneNumber::parse("+44 7400 123456").unwrap();
        let at = time::macros::datetime!(2015-04-12 13:00:19.456 UTC);
        let url = Url::parse("https://example.com/dlr").unwrap();
        let one_by_one = SendRequest::builder(app(), text())
            .to(&to)
            .callback_data(CallbackData::new("cb").unwrap())
            .notify_url(url.clone())
            .notify_url_auth_id("auth-1")
            .expiry(at)
            .build()
            .unwrap();
        let whole = SendRequest::builder(app(), text())
            .to(&to)
            .options(
                RequestOptions::new()
                    .callback_data(CallbackData::new("cb").unwrap())
                    .notify_url(url.clone())
                    .notify_url_auth_id("auth-1")
                    .expiry(at),
            )
            .build()
            .unwrap();
        assert_eq!(whole, one_by_one);
        // The notify URL is checked however it was set.
        let plain = SendRequest::builder(app(), text())
            .to(&to)
            .options(RequestOptions::new().notify_url(Url::parse("http://example.com/x").unwrap()))
            .build();
        assert!(matches!(
            plain,
            Err(SendRequestError::Invalid {
                field: "notifyurl",
                ..
            })
        ));
    }

    #[test]
    fn destinations_are_bounded() {
        let to = PhoneNumber::parse("+44 7400 123456").unwrap();
        let none = SendRequest::builder(app(), text()).build();
        assert_eq!(
            none,
            Err(SendRequestError::Missing {
                field: "destination"
            })
        );
        let many = SendRequest::builder(app(), text())
            .destinations((0..1001).map(|_| Destination::new(&to)))
            .build();
        assert_eq!(
            many,
            Err(SendRequestError::TooManyDestinations {
                actual: 1001,
                max: 1000
            })
        );
        let exact = SendRequest::builder(app(), text())
            .destinations((0..1000).map(|_| Destination::new(&to)))
            .build();
        assert!(exact.is_ok());
    }

    #[test]
    fn notify_url_must_be_https_unless_loopback() {
        let to = PhoneNumber::parse("+44 7400 123456").unwrap();
        let build = |u: &str| {
            SendRequest::builder(app(), text())
                .to(&to)
                .notify_url(Url::parse(u).unwrap())
                .build()
        };
        assert!(build("https://example.com/x").is_ok());
        assert!(build("http://127.0.0.1:9000/x").is_ok());
        assert!(build("http://localhost/x").is_ok());
        assert!(matches!(
            build("http://example.com/x"),
            Err(SendRequestError::Invalid {
                field: "notifyurl",
                ..
            })
        ));
    }

    #[test]
    fn reading_requests_maps_faults_to_codes() {
        assert!(matches!(
            SendRequest::from_slice(b"{"),
            Err(SendRequestError::NotJson(_))
        ));
        assert_eq!(
            SendRequest::from_slice(
                br#"{"deliverychannel":"whatsapp","destination":[{"waid":["1"]}]}"#
            ),
            Err(SendRequestError::Missing { field: "appid" })
        );
        assert_eq!(
            SendRequest::from_slice(
                br#"{"deliverychannel":"whatsapp","appid":"a_1","destination":[{"waid":["1"]}]}"#
            ),
            Err(SendRequestError::Missing {
                field: "channels.OTT-Messaging.wa"
            })
        );
    }
}
