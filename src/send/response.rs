//! [`SendResponse`]: what Webex Connect answers a send with, its entries and their codes.

use std::fmt;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::ids::TransactionId;

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

    /// What to do about the code: the one table of hints, which the client's errors end their
    /// message with (`client::Error::hint`). `None` for codes with nothing to add (1001,
    /// 7200, unknown codes).
    ///
    /// ```
    /// use webex_connect_whatsapp::send::ResponseCode;
    ///
    /// assert_eq!(
    ///     ResponseCode::InvalidTemplateId.hint(),
    ///     Some("use the template's id (digits) from the Webex Connect template page, not its name")
    /// );
    /// assert!(ResponseCode::AuthenticationFailed.hint().is_some_and(|h| h.contains("app id")));
    /// assert_eq!(ResponseCode::Queued.hint(), None);
    /// ```
    pub fn hint(&self) -> Option<&'static str> {
        Some(match self {
            Self::InvalidJson => {
                "the body was not valid JSON; this crate always sends valid JSON, so look for a \
                 proxy or hook that rewrites requests"
            }
            Self::AuthenticationFailed => {
                "the service key (or JWT), the region (API host) and the app id do not belong \
                 together: use the key of the service that owns the app, and the API host of \
                 your tenant's region (a tenant at tenant.eu.webexconnect.io uses \
                 api.eu.webexconnect.io)"
            }
            Self::ServiceKeyMissing => {
                "no service key reached Webex Connect: set one with ClientBuilder::service_key \
                 (from the service's API tab), or use a JWT"
            }
            Self::MandatoryParametersMissing => {
                "a mandatory field is missing; the description names it"
            }
            Self::InvalidParameters => {
                "a field holds a value Webex Connect does not accept; the description names it"
            }
            Self::RequestExpired => {
                "the request's expiry passed before Webex Connect processed it; set a later \
                 expiry, or none"
            }
            Self::InternalError => {
                "the message may have been queued: look for its correlation id in delivery \
                 receipts before sending it again"
            }
            Self::ServiceInactive => {
                "the service is inactive: activate it in Webex Connect, or use the key of an \
                 active service"
            }
            Self::TooManyDestinations => {
                "send at most 1000 destinations per request, and no more than the tenant's \
                 transactions per second"
            }
            Self::RateLimited => {
                "the tenant's transactions-per-second limit was reached: resend after a pause, \
                 or lower the client's rate limit (ClientBuilder::rate_limit)"
            }
            Self::InvalidAppId => {
                "use the id of the WhatsApp app (a_ and digits) as Webex Connect shows it for \
                 the app, and check that the app belongs to the service whose key is used"
            }
            Self::InvalidTemplateId => {
                "use the template's id (digits) from the Webex Connect template page, not its name"
            }
            Self::Queued | Self::UnknownStatus | Self::Unknown(_) => return None,
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
    #[serde(rename = "transid", default, skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<TransactionId>,
    /// The human-readable outcome, e.g. `Queued` or `Authentication failed.`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The correlation id, when the platform echoes it.
    #[serde(
        rename = "correlationid",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub correlation_id: Option<String>,
    /// Fields this crate does not model yet, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ResponseEntry {
    /// An entry with a code and nothing else.
    pub fn new(code: ResponseCode) -> Self {
        Self {
            code,
            transaction_id: None,
            description: None,
            correlation_id: None,
            extra: Map::new(),
        }
    }

    crate::setters::setters! {
        /// Sets the transaction id.
        #[must_use]
        fn with_transaction_id(self, transaction_id: impl Into<TransactionId>) =>
            self.transaction_id = Some(transaction_id.into());

        /// Sets the description.
        #[must_use]
        fn with_description(self, description: impl Into<String>) =>
            self.description = Some(description.into());

        /// Sets the echoed correlation id.
        #[must_use]
        fn with_correlation_id(self, correlation_id: impl Into<String>) =>
            self.correlation_id = Some(correlation_id.into());
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_response_shapes_parse_and_round_trip() {
        let ok = br#"{"response":[{"code":"1001","transid":"3f09295d","description":"Queued","extra":1}]}"#;
        let r = SendResponse::from_slice(ok).unwrap();
        assert!(r.is_queued());
        assert_eq!(
            r.entries()[0].transaction_id.as_ref().unwrap().as_str(),
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
