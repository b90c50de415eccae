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

use std::fmt;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};
use time::OffsetDateTime;
use url::Url;

use crate::ids::{AppId, CallbackData, CorrelationId, IdError, TransactionId};
use crate::recipient::Recipient;
use crate::session::SessionMessage;
use crate::template::TemplateMessage;

/// The most destinations one request may carry (error 7009 above it).
pub const MAX_DESTINATIONS: usize = 1000;

/// The `deliverychannel` value for WhatsApp.
pub const DELIVERY_CHANNEL: &str = "whatsapp";

/// The most `tagN` labels one request's [`LinkOptions`] may carry.
///
/// UNVERIFIED: the platform documents `tag1..n` with no limit; ten keeps reports readable
/// and is raised easily if the platform documents more.
pub const MAX_LINK_TAGS: usize = 10;

/// The longest link tag, in characters. UNVERIFIED: the platform documents no limit.
pub const MAX_LINK_TAG_CHARS: usize = 255;

/// The longest link-shortening domain, in characters (the DNS limit).
pub const MAX_LINK_DOMAIN_CHARS: usize = 253;

/// The longest label of a link-shortening domain, in characters (the DNS limit).
pub const MAX_LINK_DOMAIN_LABEL_CHARS: usize = 63;

/// Why [`LinkOptions`] were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LinkOptionsError {
    /// The domain was not a bare host name.
    #[error(
        "link domain {domain:?} is invalid: {reason}; give a host name alone, such as \"go.example.com\": dot-separated labels of letters, digits and hyphens, with no scheme, port or path"
    )]
    InvalidDomain {
        /// The domain given.
        domain: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// A tag was empty.
    #[error("link tag{number} is empty; a tag holds 1 to {max} characters", max = MAX_LINK_TAG_CHARS)]
    EmptyTag {
        /// The tag's number on the wire (`tag1` is 1).
        number: usize,
    },
    /// A tag was longer than [`MAX_LINK_TAG_CHARS`].
    #[error("link tag{number} is {actual} characters long, but the max is {max}")]
    TagTooLong {
        /// The tag's number on the wire (`tag1` is 1).
        number: usize,
        /// Its length in characters.
        actual: usize,
        /// The limit, [`MAX_LINK_TAG_CHARS`].
        max: usize,
    },
    /// A tag held a control character (newline, tab...).
    #[error(
        "link tag{number} contains a control character at character {position}, which is not allowed"
    )]
    TagControlCharacter {
        /// The tag's number on the wire (`tag1` is 1).
        number: usize,
        /// The character's position, counted from 0.
        position: usize,
    },
    /// More tags than [`MAX_LINK_TAGS`].
    #[error("link options have {actual} tags, but the max is {max}")]
    TooManyTags {
        /// How many were given.
        actual: usize,
        /// The limit, [`MAX_LINK_TAGS`].
        max: usize,
    },
}

/// Link shortening and click tracking for a request: the `options` object.
///
/// Webex Connect requires `domain` whenever `options` is present, so every constructor takes
/// it. The flags are sent only when set, so the service's own defaults apply otherwise; tags
/// go out as `tag1`, `tag2`, ... in the order given.
///
/// ```
/// use webex_connect_whatsapp::send::LinkOptions;
///
/// let options = LinkOptions::builder("go.example.com")
///     .track_clicks(true)
///     .shorten_links(true)
///     .tag("spring-sale")
///     .tag("sms-2")
///     .allow_fallback_url(false)
///     .build()?;
/// assert_eq!(
///     serde_json::to_string(&options)?,
///     r#"{"trackClicks":true,"shortenLinks":true,"domain":"go.example.com","tag1":"spring-sale","tag2":"sms-2","allowFallbackURL":false}"#
/// );
/// assert!(LinkOptions::new("https://go.example.com/x").is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkOptions {
    domain: String,
    track_clicks: Option<bool>,
    shorten_links: Option<bool>,
    tags: Vec<String>,
    allow_fallback_url: Option<bool>,
    /// Keys read from the wire that this crate does not model, kept so a request reads back
    /// exactly.
    extra: Map<String, Value>,
}

impl LinkOptions {
    /// Options with only the domain set: shortening and tracking as the service configures.
    ///
    /// # Errors
    ///
    /// [`LinkOptionsError::InvalidDomain`] when `domain` is not a bare host name.
    pub fn new(domain: impl Into<String>) -> Result<Self, LinkOptionsError> {
        Self::builder(domain).build()
    }

    /// Starts options for this link-shortening domain; the checks run in
    /// [`LinkOptionsBuilder::build`].
    pub fn builder(domain: impl Into<String>) -> LinkOptionsBuilder {
        LinkOptionsBuilder {
            options: Self {
                domain: domain.into(),
                track_clicks: None,
                shorten_links: None,
                tags: Vec::new(),
                allow_fallback_url: None,
                extra: Map::new(),
            },
        }
    }

    /// The link-shortening domain (`domain`).
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// Whether clicks are tracked (`trackClicks`), when set.
    pub fn track_clicks(&self) -> Option<bool> {
        self.track_clicks
    }

    /// Whether links are shortened (`shortenLinks`), when set.
    pub fn shorten_links(&self) -> Option<bool> {
        self.shorten_links
    }

    /// The tags, in order: the first is sent as `tag1`.
    pub fn tags(&self) -> &[String] {
        &self.tags
    }

    /// Whether the fallback URL may be used (`allowFallbackURL`), when set.
    pub fn allow_fallback_url(&self) -> Option<bool> {
        self.allow_fallback_url
    }

    fn check(&self) -> Result<(), LinkOptionsError> {
        check_link_domain(&self.domain).map_err(|reason| LinkOptionsError::InvalidDomain {
            domain: self.domain.clone(),
            reason,
        })?;
        if self.tags.len() > MAX_LINK_TAGS {
            return Err(LinkOptionsError::TooManyTags {
                actual: self.tags.len(),
                max: MAX_LINK_TAGS,
            });
        }
        for (index, tag) in self.tags.iter().enumerate() {
            let number = index + 1;
            if tag.is_empty() {
                return Err(LinkOptionsError::EmptyTag { number });
            }
            let actual = tag.chars().count();
            if actual > MAX_LINK_TAG_CHARS {
                return Err(LinkOptionsError::TagTooLong {
                    number,
                    actual,
                    max: MAX_LINK_TAG_CHARS,
                });
            }
            if let Some(position) = tag.chars().position(char::is_control) {
                return Err(LinkOptionsError::TagControlCharacter { number, position });
            }
        }
        Ok(())
    }

    /// Reads the wire object; `Err` carries the field and what is wrong.
    fn from_wire(mut map: Map<String, Value>) -> Result<Self, SendRequestError> {
        const FIELD: &str = "options";
        let domain = match map.remove("domain") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.is_empty() => None,
            Some(Value::String(s)) => Some(s),
            Some(other) => {
                return Err(SendRequestError::invalid(
                    "options.domain",
                    format!("expected a host name string, got {other}"),
                ));
            }
        };
        let Some(domain) = domain else {
            return Err(SendRequestError::Missing {
                field: "options.domain",
            });
        };
        let mut builder = Self::builder(domain);
        builder.options.track_clicks = take_flag(&mut map, "trackClicks")?;
        builder.options.shorten_links = take_flag(&mut map, "shortenLinks")?;
        builder.options.allow_fallback_url = take_flag(&mut map, "allowFallbackURL")?;
        let mut numbered: Vec<(usize, String)> = Vec::new();
        let keys: Vec<String> = map
            .keys()
            .filter(|k| tag_number(k).is_some())
            .cloned()
            .collect();
        for key in keys {
            let number = tag_number(&key).unwrap_or_default();
            match map.remove(&key) {
                Some(Value::String(tag)) => numbered.push((number, tag)),
                Some(other) => {
                    return Err(SendRequestError::invalid(
                        FIELD,
                        format!("{key} must be a string, got {other}"),
                    ));
                }
                None => {}
            }
        }
        numbered.sort_by_key(|(n, _)| *n);
        for (expected, (number, _)) in (1..).zip(&numbered) {
            if *number != expected {
                return Err(SendRequestError::invalid(
                    FIELD,
                    format!(
                        "tag{number} is given without tag{expected}; tags are numbered from tag1 with no gaps"
                    ),
                ));
            }
        }
        builder.options.tags = numbered.into_iter().map(|(_, t)| t).collect();
        builder.options.extra = map;
        builder
            .build()
            .map_err(|e| SendRequestError::invalid(FIELD, e))
    }
}

/// The number of a `tagN` key: `N` of 1 or more, written without a leading zero.
fn tag_number(key: &str) -> Option<usize> {
    let digits = key.strip_prefix("tag")?;
    if digits.is_empty() || digits.starts_with('0') || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Reads an optional flag. UNVERIFIED: the platform documents booleans; `"true"`/`"false"`
/// strings are accepted too, as some samples of this API send flags as strings.
fn take_flag(
    map: &mut Map<String, Value>,
    field: &'static str,
) -> Result<Option<bool>, SendRequestError> {
    match map.remove(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(b)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some(other) => Err(SendRequestError::Invalid {
            field: "options",
            reason: format!("{field} must be true or false, got {other}"),
        }),
    }
}

/// A bare DNS host name: what a link-shortening domain is.
fn check_link_domain(domain: &str) -> Result<(), &'static str> {
    if domain.is_empty() {
        return Err("it is empty");
    }
    if domain.contains("://") {
        return Err("it has a scheme");
    }
    if domain.contains(['/', '?', '#']) {
        return Err("it has a path, query or fragment");
    }
    if domain.contains('@') {
        return Err("it has user info");
    }
    if domain.contains([':', '[', ']']) {
        return Err("it has a port or is an IPv6 address");
    }
    if !domain.is_ascii() {
        return Err(
            "it has a non-ASCII character; write an internationalized name in its xn-- form",
        );
    }
    if domain.len() > MAX_LINK_DOMAIN_CHARS {
        return Err("it is longer than 253 characters");
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.iter().any(|l| l.is_empty()) {
        return Err("it has an empty label (a leading, trailing or doubled dot)");
    }
    if labels.len() < 2 {
        return Err("it has a single label; a public host name has at least two, like example.com");
    }
    for label in &labels {
        if label.len() > MAX_LINK_DOMAIN_LABEL_CHARS {
            return Err("a label is longer than 63 characters");
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err("it has a character other than letters, digits, hyphens and dots");
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err("a label starts or ends with a hyphen");
        }
    }
    if labels
        .last()
        .is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err("it is an IP address, not a host name");
    }
    Ok(())
}

/// Builds [`LinkOptions`]; checks run in [`LinkOptionsBuilder::build`].
#[derive(Debug, Clone)]
#[must_use]
pub struct LinkOptionsBuilder {
    options: LinkOptions,
}

impl LinkOptionsBuilder {
    /// Tracks clicks on the shortened links (`trackClicks`).
    pub fn track_clicks(mut self, on: bool) -> Self {
        self.options.track_clicks = Some(on);
        self
    }

    /// Shortens the links in the message (`shortenLinks`).
    pub fn shorten_links(mut self, on: bool) -> Self {
        self.options.shorten_links = Some(on);
        self
    }

    /// Adds a tag, sent as the next `tagN` (at most [`MAX_LINK_TAGS`], each 1 to
    /// [`MAX_LINK_TAG_CHARS`] characters with no control character).
    pub fn tag(mut self, tag: impl Into<String>) -> Self {
        self.options.tags.push(tag.into());
        self
    }

    /// Adds several tags, in order.
    pub fn tags<T: Into<String>>(mut self, tags: impl IntoIterator<Item = T>) -> Self {
        self.options.tags.extend(tags.into_iter().map(Into::into));
        self
    }

    /// Lets the platform use the fallback URL (`allowFallbackURL`).
    pub fn allow_fallback_url(mut self, on: bool) -> Self {
        self.options.allow_fallback_url = Some(on);
        self
    }

    /// Checks the options: the domain is a bare host name, the tags are within limits.
    ///
    /// # Errors
    ///
    /// [`LinkOptionsError`] naming the domain or the tag (by its wire number) and the rule.
    pub fn build(self) -> Result<LinkOptions, LinkOptionsError> {
        self.options.check()?;
        Ok(self.options)
    }
}

impl Serialize for LinkOptions {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        let mut map = serializer.serialize_map(None)?;
        if let Some(on) = self.track_clicks {
            map.serialize_entry("trackClicks", &on)?;
        }
        if let Some(on) = self.shorten_links {
            map.serialize_entry("shortenLinks", &on)?;
        }
        map.serialize_entry("domain", &self.domain)?;
        for (number, tag) in (1_usize..).zip(&self.tags) {
            map.serialize_entry(&format!("tag{number}"), tag)?;
        }
        if let Some(on) = self.allow_fallback_url {
            map.serialize_entry("allowFallbackURL", &on)?;
        }
        for (key, value) in &self.extra {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for LinkOptions {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::Object(map) => Self::from_wire(map).map_err(D::Error::custom),
            other => Err(D::Error::custom(format!(
                "link options must be an object, got {other}"
            ))),
        }
    }
}

/// What a request sends: a session message or a template message.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Content {
    /// A free-form message, allowed only inside the 24-hour window (`channels.OTT-Messaging.wa`).
    Session(SessionMessage),
    /// A pre-approved template (`message.template` + `parameters`).
    Template(TemplateMessage),
}

impl From<SessionMessage> for Content {
    fn from(value: SessionMessage) -> Self {
        Self::Session(value)
    }
}

impl From<TemplateMessage> for Content {
    fn from(value: TemplateMessage) -> Self {
        Self::Template(value)
    }
}

/// One recipient entry of `destination`: a WhatsApp id (`waid`) or a business-scoped user id
/// (`bsuid`), and an optional correlation id.
///
/// A phone number goes out as `{"waid":["447400123456"]}`, a BSUID as
/// `{"bsuid":["US.13491208655302741918"]}` with no `waid`: the platform reads a BSUID put in
/// `waid` as a normalized WAID, so each id goes in its own field.
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

    /// Sets the correlation id of this destination; it overrides the request's.
    #[must_use]
    pub fn with_correlation_id(mut self, id: CorrelationId) -> Self {
        self.correlation_id = Some(id);
        self
    }

    /// The WhatsApp ids of this destination (`waid`), as sent.
    pub fn waids(&self) -> &[String] {
        &self.waid
    }

    /// The business-scoped user ids of this destination (`bsuid`), as sent.
    pub fn bsuids(&self) -> &[String] {
        &self.bsuid
    }

    /// The first id of this destination, `waid` before `bsuid`: the one receipts name.
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

/// Why a send request could not be built or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SendRequestError {
    /// The body was not JSON (Webex Connect answers 7000).
    #[error("request body is not valid JSON: {0}")]
    NotJson(String),
    /// A mandatory field was missing (Webex Connect answers 7003).
    #[error("mandatory field `{field}` is missing")]
    Missing {
        /// The wire name of the field.
        field: &'static str,
    },
    /// A field had a value the platform does not accept (Webex Connect answers 7004).
    #[error("field `{field}` is invalid: {reason}")]
    Invalid {
        /// The wire name of the field.
        field: &'static str,
        /// What is wrong and what is allowed.
        reason: String,
    },
    /// More destinations than one request may carry (Webex Connect answers 7009).
    #[error("request has {actual} destinations, but the max is {max}")]
    TooManyDestinations {
        /// How many were given.
        actual: usize,
        /// The limit, [`MAX_DESTINATIONS`].
        max: usize,
    },
}

impl SendRequestError {
    fn invalid(field: &'static str, reason: impl fmt::Display) -> Self {
        Self::Invalid {
            field,
            reason: reason.to_string(),
        }
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
    callback_data: Option<CallbackData>,
    notify_url: Option<Url>,
    notify_url_auth_id: Option<String>,
    expiry: Option<OffsetDateTime>,
    link_options: Option<LinkOptions>,
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
                callback_data: None,
                notify_url: None,
                notify_url_auth_id: None,
                expiry: None,
                link_options: None,
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
        if let Some(v) = take_opt_str(&mut map, "callbackData")? {
            builder = builder.callback_data(
                CallbackData::new(v).map_err(|e| SendRequestError::invalid("callbackData", e))?,
            );
        }
        if let Some(v) = take_opt_str(&mut map, "notifyurl")? {
            builder = builder
                .notify_url(Url::parse(&v).map_err(|e| SendRequestError::invalid("notifyurl", e))?);
        }
        if let Some(v) = take_opt_str(&mut map, "notifyurlAuthId")? {
            builder = builder.notify_url_auth_id(v);
        }
        if let Some(v) = take_opt_str(&mut map, "expiry")? {
            let at = OffsetDateTime::parse(&v, &time::format_description::well_known::Rfc3339)
                .map_err(|e| SendRequestError::invalid("expiry", e))?;
            builder = builder.expiry(at);
        }
        match map.remove("options") {
            None | Some(Value::Null) => {}
            Some(Value::Object(options)) => {
                builder = builder.link_options(LinkOptions::from_wire(options)?);
            }
            Some(other) => {
                return Err(SendRequestError::invalid(
                    "options",
                    format!("expected an object, got {other}"),
                ));
            }
        }
        builder.build()
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
        self.callback_data.as_ref()
    }

    /// Where delivery receipts for this request go (`notifyurl`).
    pub fn notify_url(&self) -> Option<&Url> {
        self.notify_url.as_ref()
    }

    /// The authorization profile applied when calling the notify URL (`notifyurlAuthId`).
    pub fn notify_url_auth_id(&self) -> Option<&str> {
        self.notify_url_auth_id.as_deref()
    }

    /// The time after which the message is not sent (`expiry`).
    pub fn expiry(&self) -> Option<OffsetDateTime> {
        self.expiry
    }

    /// Link shortening and click tracking (`options`).
    pub fn link_options(&self) -> Option<&LinkOptions> {
        self.link_options.as_ref()
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
    if drops_fields(&original, &typed)
        && let Value::Object(object) = original
    {
        return SessionMessage::raw(object).map_err(|e| SendRequestError::invalid(FIELD, e));
    }
    Ok(message)
}

/// Whether reading `original` as a typed value and writing it back (`typed`) loses a field.
///
/// Only keys count, not their values: lenient forms (`"150000"` for `150000`) are rewritten,
/// not lost. A key whose value means "not given" (`null`, `false`, `""`, `"false"`) may be
/// dropped without loss, as the typed form writes nothing for it.
pub(crate) fn drops_fields(original: &Value, typed: &Value) -> bool {
    match (original, typed) {
        (Value::Object(o), Value::Object(t)) => o.iter().any(|(key, value)| match t.get(key) {
            Some(typed_value) => drops_fields(value, typed_value),
            None => !means_absent(value),
        }),
        (Value::Object(o), _) => o.values().any(|v| !means_absent(v)),
        (Value::Array(o), Value::Array(t)) => {
            o.len() != t.len() || o.iter().zip(t).any(|(a, b)| drops_fields(a, b))
        }
        (Value::Array(o), _) => !o.is_empty(),
        _ => false,
    }
}

fn means_absent(value: &Value) -> bool {
    match value {
        Value::Null | Value::Bool(false) => true,
        Value::String(s) => s.is_empty() || s.eq_ignore_ascii_case("false"),
        _ => false,
    }
}

fn take_str(map: &mut Map<String, Value>, field: &'static str) -> Result<String, SendRequestError> {
    take_opt_str(map, field)?.ok_or(SendRequestError::Missing { field })
}

/// Reads an optional string field; an empty string counts as absent, as on the platform.
fn take_opt_str(
    map: &mut Map<String, Value>,
    field: &'static str,
) -> Result<Option<String>, SendRequestError> {
    match map.remove(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(SendRequestError::invalid(
            field,
            format!("expected a string, got {other}"),
        )),
    }
}

/// Builds a [`SendRequest`]; checks run in [`SendRequestBuilder::build`].
#[derive(Debug, Clone)]
#[must_use]
pub struct SendRequestBuilder {
    request: SendRequest,
}

impl SendRequestBuilder {
    /// Adds a recipient: a phone number (`&PhoneNumber` works) or a BSUID.
    pub fn to(mut self, to: impl Into<Recipient>) -> Self {
        self.request.destinations.push(Destination::new(to));
        self
    }

    /// Adds a prepared destination (with its own correlation id).
    pub fn destination(mut self, destination: Destination) -> Self {
        self.request.destinations.push(destination);
        self
    }

    /// Adds many destinations.
    pub fn destinations(mut self, destinations: impl IntoIterator<Item = Destination>) -> Self {
        self.request.destinations.extend(destinations);
        self
    }

    /// Sets the request-level correlation id, echoed in delivery receipts.
    pub fn correlation_id(mut self, id: CorrelationId) -> Self {
        self.request.correlation_id = Some(id);
        self
    }

    /// Sets data echoed in delivery receipts.
    pub fn callback_data(mut self, data: CallbackData) -> Self {
        self.request.callback_data = Some(data);
        self
    }

    /// Sets the URL that receives this request's delivery receipts.
    pub fn notify_url(mut self, url: Url) -> Self {
        self.request.notify_url = Some(url);
        self
    }

    /// Sets the authorization profile used when calling the notify URL.
    pub fn notify_url_auth_id(mut self, id: impl Into<String>) -> Self {
        self.request.notify_url_auth_id = Some(id.into());
        self
    }

    /// Sets the time after which the message must not be sent.
    pub fn expiry(mut self, at: OffsetDateTime) -> Self {
        self.request.expiry = Some(at);
        self
    }

    /// Sets link shortening and click tracking (`options`); the domain it requires is part of
    /// every [`LinkOptions`].
    ///
    /// ```
    /// use webex_connect_whatsapp::send::{LinkOptions, SendRequest};
    /// use webex_connect_whatsapp::{AppId, PhoneNumber, SessionMessage};
    ///
    /// let request = SendRequest::builder(AppId::new("a_1")?, SessionMessage::text("See https://example.com/a")?)
    ///     .to(&PhoneNumber::parse("+44 7400 123456")?)
    ///     .link_options(LinkOptions::builder("go.example.com").track_clicks(true).build()?)
    ///     .build()?;
    /// let json = serde_json::to_value(&request)?;
    /// assert_eq!(json["options"], serde_json::json!({"trackClicks": true, "domain": "go.example.com"}));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn link_options(mut self, options: LinkOptions) -> Self {
        self.request.link_options = Some(options);
        self
    }

    /// Sets `channels.OTT-Messaging.wa.identity_key_hash` (WhatsApp's identity-change check).
    pub fn identity_key_hash(mut self, hash: impl Into<String>) -> Self {
        self.request.identity_key_hash = Some(Value::String(hash.into()));
        self
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
        if let Some(url) = &request.notify_url {
            check_notify_url(url)
                .map_err(|reason| SendRequestError::invalid("notifyurl", reason))?;
        }
        Ok(request)
    }
}

/// Webhooks carry personal data, so only TLS is allowed, except on this machine (sandbox, tests).
fn check_notify_url(url: &Url) -> Result<(), String> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(url) => Ok(()),
        "http" => Err(format!(
            "{url} uses http; only https is allowed, except on a loopback address"
        )),
        other => Err(format!("scheme {other:?} is not allowed; use https")),
    }
}

/// Whether a URL points at this machine (`127.0.0.0/8`, `::1` or `localhost`).
pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
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
        let expiry = match self.expiry {
            Some(at) => Some(format_expiry(at).map_err(serde::ser::Error::custom)?),
            None => None,
        };
        Wire {
            deliverychannel: DELIVERY_CHANNEL,
            appid: &self.app_id,
            destination: &self.destinations,
            channels,
            message: template,
            correlationid: self.correlation_id.as_ref(),
            callback_data: self.callback_data.as_ref(),
            notifyurl: self.notify_url.as_ref().map(Url::as_str),
            notify_url_auth_id: self.notify_url_auth_id.as_deref(),
            expiry,
            options: self.link_options.as_ref(),
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

/// A response code of the send API, read from its string form (`"1001"`).
///
/// Unknown codes are kept in [`ResponseCode::Unknown`].
///
/// ```
/// use webex_connect_whatsapp::send::ResponseCode;
/// assert_eq!(ResponseCode::from_code("7020"), ResponseCode::RateLimited);
/// assert_eq!(ResponseCode::from_code("9999"), ResponseCode::Unknown("9999".into()));
/// assert_eq!(ResponseCode::Queued.as_str(), "1001");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ResponseCode {
    /// 1001: accepted and queued.
    Queued,
    /// 7000: the body was not valid JSON.
    InvalidJson,
    /// 7001: the service key or JWT was refused.
    AuthenticationFailed,
    /// 7002: no service key was sent.
    ServiceKeyMissing,
    /// 7003: a mandatory parameter was missing.
    MandatoryParametersMissing,
    /// 7004: a parameter had an invalid value.
    InvalidParameters,
    /// 7005: the request expired.
    RequestExpired,
    /// 7006: an internal error occurred. This does not prove the message was not processed,
    /// so the client treats it as an unknown outcome and does not resend it.
    InternalError,
    /// 7007: the service is inactive.
    ServiceInactive,
    /// 7009: more than 1000 destinations.
    TooManyDestinations,
    /// 7020: the tenant's transaction limit was reached; the message was not processed.
    RateLimited,
    /// 7104: the app id is invalid.
    InvalidAppId,
    /// 7108: the template id is invalid.
    InvalidTemplateId,
    /// 7200: unknown status.
    UnknownStatus,
    /// A code this crate does not know yet, kept as received.
    Unknown(String),
}

impl ResponseCode {
    /// Maps a wire code to its variant; never fails.
    pub fn from_code(code: &str) -> Self {
        match code {
            "1001" => Self::Queued,
            "7000" => Self::InvalidJson,
            "7001" => Self::AuthenticationFailed,
            "7002" => Self::ServiceKeyMissing,
            "7003" => Self::MandatoryParametersMissing,
            "7004" => Self::InvalidParameters,
            "7005" => Self::RequestExpired,
            "7006" => Self::InternalError,
            "7007" => Self::ServiceInactive,
            "7009" => Self::TooManyDestinations,
            "7020" => Self::RateLimited,
            "7104" => Self::InvalidAppId,
            "7108" => Self::InvalidTemplateId,
            "7200" => Self::UnknownStatus,
            other => Self::Unknown(other.to_owned()),
        }
    }

    /// The wire form of the code.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Queued => "1001",
            Self::InvalidJson => "7000",
            Self::AuthenticationFailed => "7001",
            Self::ServiceKeyMissing => "7002",
            Self::MandatoryParametersMissing => "7003",
            Self::InvalidParameters => "7004",
            Self::RequestExpired => "7005",
            Self::InternalError => "7006",
            Self::ServiceInactive => "7007",
            Self::TooManyDestinations => "7009",
            Self::RateLimited => "7020",
            Self::InvalidAppId => "7104",
            Self::InvalidTemplateId => "7108",
            Self::UnknownStatus => "7200",
            Self::Unknown(code) => code,
        }
    }

    /// Whether the message was accepted (1001).
    pub fn is_queued(&self) -> bool {
        matches!(self, Self::Queued)
    }

    /// The documented meaning of the code, or `None` for an unknown one.
    pub fn meaning(&self) -> Option<&'static str> {
        Some(match self {
            Self::Queued => "queued",
            Self::InvalidJson => "invalid JSON",
            Self::AuthenticationFailed => "authentication failed",
            Self::ServiceKeyMissing => "service key missing",
            Self::MandatoryParametersMissing => "mandatory parameters missing",
            Self::InvalidParameters => "invalid parameters or values",
            Self::RequestExpired => "request expired",
            Self::InternalError => "internal error occurred",
            Self::ServiceInactive => "service inactive",
            Self::TooManyDestinations => "max number of destination addresses limited to 1000",
            Self::RateLimited => "maximum transaction limit reached",
            Self::InvalidAppId => "invalid app id",
            Self::InvalidTemplateId => "invalid template id",
            Self::UnknownStatus => "unknown status",
            Self::Unknown(_) => return None,
        })
    }
}

impl fmt::Display for ResponseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ResponseCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ResponseCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Codes are documented as strings; a number is accepted too rather than failing a reply.
        match Value::deserialize(deserializer)? {
            Value::String(s) => Ok(Self::from_code(&s)),
            Value::Number(n) => Ok(Self::from_code(&n.to_string())),
            other => Err(D::Error::custom(format!(
                "expected a code string, got {other}"
            ))),
        }
    }
}

/// One entry of a send response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ResponseEntry {
    /// The outcome code (`1001` = queued).
    pub code: ResponseCode,
    /// The transaction id; delivery receipts carry the same one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transid: Option<TransactionId>,
    /// The human-readable outcome, e.g. `Queued` or `Authentication failed.`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The correlation id, when the platform echoes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlationid: Option<String>,
    /// Fields this crate does not model yet, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ResponseEntry {
    /// An entry with a code and nothing else.
    pub fn new(code: ResponseCode) -> Self {
        Self {
            code,
            transid: None,
            description: None,
            correlationid: None,
            extra: Map::new(),
        }
    }

    /// Sets the transaction id.
    #[must_use]
    pub fn with_transid(mut self, transid: impl Into<TransactionId>) -> Self {
        self.transid = Some(transid.into());
        self
    }

    /// Sets the description.
    #[must_use]
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Sets the echoed correlation id.
    #[must_use]
    pub fn with_correlationid(mut self, id: impl Into<String>) -> Self {
        self.correlationid = Some(id.into());
        self
    }
}

/// The body Webex Connect answers a send with: `{"response": [...]}` or `{"response": {...}}`.
///
/// ```
/// use webex_connect_whatsapp::send::{ResponseCode, SendResponse};
/// let r = SendResponse::from_slice(br#"{"response":{"code":"7001","description":"Authentication failed.","transid":"7670c9a8"}}"#)?;
/// assert!(!r.is_queued());
/// assert_eq!(r.entries()[0].code, ResponseCode::AuthenticationFailed);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum SendResponse {
    /// `response` was an array: the accepted shape.
    Array(Vec<ResponseEntry>),
    /// `response` was an object: the rejected shape.
    Object(ResponseEntry),
}

impl SendResponse {
    /// Reads a response body.
    ///
    /// # Errors
    ///
    /// A [`serde_json::Error`] when the body is not JSON or has no usable `response`.
    pub fn from_slice(body: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(body)
    }

    /// Every entry, whichever shape arrived.
    pub fn entries(&self) -> &[ResponseEntry] {
        match self {
            Self::Array(entries) => entries,
            Self::Object(entry) => std::slice::from_ref(entry),
        }
    }

    /// Whether the message was queued: at least one entry, and every entry `1001`.
    pub fn is_queued(&self) -> bool {
        !self.entries().is_empty() && self.entries().iter().all(|e| e.code.is_queued())
    }

    /// The first entry that is not `1001`, if any.
    pub fn rejection(&self) -> Option<&ResponseEntry> {
        self.entries().iter().find(|e| !e.code.is_queued())
    }
}

#[derive(Serialize, Deserialize)]
struct ResponseWire<T> {
    response: T,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ResponseShape {
    Array(Vec<ResponseEntry>),
    Object(ResponseEntry),
}

impl Serialize for SendResponse {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Array(entries) => ResponseWire { response: entries }.serialize(serializer),
            Self::Object(entry) => ResponseWire { response: entry }.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for SendResponse {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wire = ResponseWire::<ResponseShape>::deserialize(deserializer)?;
        Ok(match wire.response {
            ResponseShape::Array(entries) => Self::Array(entries),
            ResponseShape::Object(entry) => Self::Object(entry),
        })
    }
}

impl From<IdError> for SendRequestError {
    fn from(value: IdError) -> Self {
        Self::invalid("id", value)
    }
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

    #[test]
    fn both_response_shapes_parse_and_round_trip() {
        let ok = br#"{"response":[{"code":"1001","transid":"3f09295d","description":"Queued","extra":1}]}"#;
        let r = SendResponse::from_slice(ok).unwrap();
        assert!(r.is_queued());
        assert_eq!(
            r.entries()[0].transid.as_ref().unwrap().as_str(),
            "3f09295d"
        );
        assert_eq!(r.entries()[0].extra["extra"], 1);
        assert_eq!(
            serde_json::from_slice::<Value>(ok).unwrap(),
            serde_json::to_value(&r).unwrap()
        );

        let bad = br#"{"response":{"code":7001,"description":"Authentication failed."}}"#;
        let r = SendResponse::from_slice(bad).unwrap();
        assert_eq!(
            r.rejection().unwrap().code,
            ResponseCode::AuthenticationFailed
        );
        assert!(SendResponse::from_slice(b"{\"response\":[]}").is_ok_and(|r| !r.is_queued()));
        assert!(SendResponse::from_slice(b"<html>").is_err());
    }
}
