//! [`LinkOptions`]: link shortening and click tracking for a request (the `options` object),
//! with the limits its tags and domain are checked against.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::error::SendRequestError;
use super::take_optional;
use crate::limits::{
    MAX_LINK_DOMAIN_CHARS, MAX_LINK_DOMAIN_LABEL_CHARS, MAX_LINK_TAG_CHARS, MAX_LINK_TAGS,
};
use crate::text::{PlainTextFault, check_plain};

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
/// it. The flags are sent only when set, so the service's own defaults apply otherwise, and
/// as the strings `"true"` and `"false"`, as every published sample of the API writes them
/// (reference §13); reading takes strings and JSON booleans alike. Tags go out as `tag1`,
/// `tag2`, ... in the order given.
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
///     r#"{"trackClicks":"true","shortenLinks":"true","domain":"go.example.com","tag1":"spring-sale","tag2":"sms-2","allowFallbackURL":"false"}"#
/// );
/// // Booleans are read too.
/// let read: LinkOptions = serde_json::from_str(r#"{"domain":"go.example.com","trackClicks":true}"#)?;
/// assert_eq!(read.track_clicks(), Some(true));
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
            check_plain(tag, MAX_LINK_TAG_CHARS).map_err(|fault| match fault {
                PlainTextFault::Empty => LinkOptionsError::EmptyTag { number },
                PlainTextFault::TooLong { actual, max } => LinkOptionsError::TagTooLong {
                    number,
                    actual,
                    max,
                },
                PlainTextFault::ControlCharacter { position } => {
                    LinkOptionsError::TagControlCharacter { number, position }
                }
            })?;
        }
        Ok(())
    }

    /// Reads the wire object; `Err` carries the field and what is wrong.
    pub(super) fn from_wire(mut map: Map<String, Value>) -> Result<Self, SendRequestError> {
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

/// Reads an optional flag: the strings `"true"`/`"false"` of the published samples (reference
/// §13), or JSON booleans, which the parameter table's types suggest (UNVERIFIED which the
/// platform parses; both are taken).
fn take_flag(
    map: &mut Map<String, Value>,
    field: &'static str,
) -> Result<Option<bool>, SendRequestError> {
    take_optional(map, field, |value| match value {
        Value::Bool(b) => Ok(Some(b)),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
        other => Err(SendRequestError::Invalid {
            field: "options",
            reason: format!("{field} must be true or false, got {other}"),
        }),
    })
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

/// Builds [`LinkOptions`]; [`LinkOptionsBuilder::build`] can fail with a [`LinkOptionsError`]
/// (too many tags, a tag or domain that is not allowed).
#[derive(Debug, Clone)]
#[must_use]
pub struct LinkOptionsBuilder {
    options: LinkOptions,
}

impl LinkOptionsBuilder {
    crate::setters::setters! {
        /// Tracks clicks on the shortened links (`trackClicks`).
        fn track_clicks(self, on: bool) => self.options.track_clicks = Some(on);

        /// Shortens the links in the message (`shortenLinks`).
        fn shorten_links(self, on: bool) => self.options.shorten_links = Some(on);

        /// Adds a tag, sent as the next `tagN` (at most [`MAX_LINK_TAGS`], each 1 to
        /// [`MAX_LINK_TAG_CHARS`] characters with no control character).
        fn tag(self, tag: impl Into<String>) => self.options.tags.push(tag.into());

        /// Adds several tags, in order.
        fn tags(self, tags: impl IntoIterator<Item = impl Into<String>>) =>
            self.options.tags.extend(tags.into_iter().map(Into::into));

        /// Lets the platform use the fallback URL (`allowFallbackURL`).
        fn allow_fallback_url(self, on: bool) => self.options.allow_fallback_url = Some(on);
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
            map.serialize_entry("trackClicks", flag(on))?;
        }
        if let Some(on) = self.shorten_links {
            map.serialize_entry("shortenLinks", flag(on))?;
        }
        map.serialize_entry("domain", &self.domain)?;
        for (number, tag) in (1_usize..).zip(&self.tags) {
            map.serialize_entry(&format!("tag{number}"), tag)?;
        }
        if let Some(on) = self.allow_fallback_url {
            map.serialize_entry("allowFallbackURL", flag(on))?;
        }
        for (key, value) in &self.extra {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

/// A flag as the published samples write it: `"true"` or `"false"`, a string.
fn flag(on: bool) -> &'static str {
    if on { "true" } else { "false" }
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
