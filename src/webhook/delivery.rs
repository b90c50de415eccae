//! Delivery receipts (`deliveryInfoNotification`): the status of a message you sent (see the
//! [module docs](crate::webhook#delivery-receipts)).

use std::fmt;

use serde_json::{Map, Value};
use time::OffsetDateTime;

use super::body::{self, HeaderGtrid};
use super::error::WebhookError;
use super::wire::receipt::{
    ADDITIONAL_INFO, CALLBACK_DATA, CHANNEL, CODE, CORRELATIONID, DESCRIPTION, DESTINATION,
    DESTINATION_TYPE, IDENTITY_KEY_HASH, INFO_BSUID, INFO_KEYS, INFO_USER_HANDLE,
    NOTIFICATION_BSUID, NOTIFICATION_KEYS, NOTIFICATION_USER_HANDLE, STATUS, SUBTID, TIMESTAMP,
    TOP_KEYS, TRANSID, WireNotification,
};
use super::wire::slot::{Text, take, take_text, take_transaction_id};
use super::wire::{Wire, read_wire};
use crate::ids::TransactionId;

pub(super) mod builder;

/// Returned by [`DeliveryReceipt::status`] when the receipt has no `deliveryStatus`.
static MISSING_STATUS: DeliveryStatus = DeliveryStatus::Unknown(String::new());
/// Returned by [`DeliveryReceipt::code`] when the receipt has no `code`.
static MISSING_CODE: DeliveryCode = DeliveryCode::Unknown(String::new());

/// A delivery receipt (DLR): Webex Connect reporting what happened to a message you sent.
///
/// Read-only: every field comes from the body, which is kept as received ([`Self::raw`]).
/// The platform sends `""` for fields that are not set; the accessors return `None` for those.
/// Serializing writes the kept body back (unknown fields included); two receipts are equal when
/// their bodies hold the same JSON.
///
/// ```
/// use time::macros::datetime;
/// use webex_connect_whatsapp::webhook::{DeliveryCode, DeliveryReceipt, DeliveryStatus};
///
/// let body = std::fs::read("tests/fixtures/delivery_delivered.json")?;
/// let receipt = DeliveryReceipt::from_slice(&body)?;
/// assert_eq!(receipt.status(), &DeliveryStatus::Delivered);
/// assert_eq!(receipt.code(), &DeliveryCode::Delivered);
/// assert_eq!(receipt.destination(), Some("9199xxxxxxxx"));
/// assert_eq!(receipt.timestamp(), Some(datetime!(2019-03-04 09:49:21.157 UTC)));
/// assert_eq!(receipt.correlation_id(), None); // "" on the wire
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct DeliveryReceipt {
    raw: Box<str>,
    status: Option<DeliveryStatus>,
    code: Option<DeliveryCode>,
    transaction_id: Option<TransactionId>,
    description: Option<Text>,
    additional_info: Option<Text>,
    destination: Option<Text>,
    destination_type: Option<Text>,
    timestamp: Option<Text>,
    sub_transaction_id: Option<Text>,
    correlation_id: Option<Text>,
    callback_data: Option<Text>,
    channel: Option<Text>,
    identity_key_hash: Option<Text>,
    bsuid: Option<Text>,
    user_handle: Option<Text>,
    gtrid: Option<Text>,
    pub(super) header_gtrid: HeaderGtrid,
}

impl DeliveryReceipt {
    /// Parses a receipt body (`{"deliveryInfoNotification": {...}}`).
    ///
    /// Use [`crate::webhook::parse`] when the body may also be an inbound message or another
    /// event: it never refuses a JSON object, where this reader refuses what it cannot type.
    ///
    /// ```
    /// use webex_connect_whatsapp::webhook::DeliveryReceipt;
    /// let r = DeliveryReceipt::from_slice(br#"{"deliveryInfoNotification":{"transid":"t1"}}"#)?;
    /// assert_eq!(r.transaction_id().map(|t| t.as_str()), Some("t1"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`WebhookError::NotJson`] or [`WebhookError::NotAnObject`] as for
    /// [`crate::webhook::parse`]; [`WebhookError::UnexpectedShape`] when a key repeats or a
    /// known field has a shape the reader cannot take (`deliveryInfo` a string, say);
    /// [`WebhookError::MissingField`] when there is no `deliveryInfoNotification` object.
    pub fn from_slice(body: &[u8]) -> Result<Self, WebhookError> {
        let text = body::body_str(body)?;
        let mut wire = Wire::default();
        read_wire(text, &mut wire, true)?;
        let notification = wire
            .notification
            .as_mut()
            .ok_or(WebhookError::MissingField {
                what: "delivery receipt",
                field: "deliveryInfoNotification",
            })?;
        Ok(Self::from_wire(text, notification))
    }

    pub(crate) fn from_wire(body: &str, n: &mut WireNotification) -> Self {
        let info = &mut n.info;
        let fields = &mut n.fields;
        let top = &mut n.top;
        // UNVERIFIED where a receipt carries these: the 6.17 release notes say only that
        // webhooks gained `bsuid` and `userHandle`. `deliveryInfo` (beside `destination`) is
        // read first, then the notification, then the top level.
        let bsuid = take_text(info, INFO_BSUID)
            .or_else(|| take_text(fields, NOTIFICATION_BSUID))
            .or_else(|| take_text(top, 0));
        let user_handle = take_text(info, INFO_USER_HANDLE)
            .or_else(|| take_text(fields, NOTIFICATION_USER_HANDLE))
            .or_else(|| take_text(top, 1));
        Self {
            bsuid,
            user_handle,
            gtrid: take_text(top, 2),
            header_gtrid: HeaderGtrid::default(),
            raw: body.into(),
            status: take(info, STATUS).map(|t| DeliveryStatus::from_wire(t.get(body))),
            code: take(info, CODE).map(|t| DeliveryCode::from_code(t.get(body))),
            transaction_id: take_transaction_id(fields, TRANSID, body),
            description: take_text(info, DESCRIPTION),
            additional_info: take_text(info, ADDITIONAL_INFO),
            destination: take_text(info, DESTINATION),
            destination_type: take_text(info, DESTINATION_TYPE),
            timestamp: take_text(info, TIMESTAMP),
            channel: take_text(info, CHANNEL),
            identity_key_hash: take_text(info, IDENTITY_KEY_HASH),
            sub_transaction_id: take_text(fields, SUBTID),
            correlation_id: take_text(fields, CORRELATIONID),
            callback_data: take_text(fields, CALLBACK_DATA),
        }
    }

    /// The delivery status (`deliveryStatus`): Submitted, Delivered, Read or Failed.
    ///
    /// A receipt without one reads as `DeliveryStatus::Unknown("")`.
    ///
    /// ```
    /// # use webex_connect_whatsapp::webhook::{DeliveryReceipt, DeliveryStatus};
    /// let r = DeliveryReceipt::from_slice(br#"{"deliveryInfoNotification":{"deliveryInfo":{"deliveryStatus":"Read"}}}"#)?;
    /// assert_eq!(r.status(), &DeliveryStatus::Read);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn status(&self) -> &DeliveryStatus {
        self.status.as_ref().unwrap_or(&MISSING_STATUS)
    }

    /// The WhatsApp status code (`code`), e.g. 7500 delivered, 7710 re-engagement.
    ///
    /// A receipt without one reads as `DeliveryCode::Unknown("")`.
    ///
    /// ```
    /// # use webex_connect_whatsapp::webhook::{DeliveryCode, DeliveryReceipt};
    /// let r = DeliveryReceipt::from_slice(br#"{"deliveryInfoNotification":{"deliveryInfo":{"code":"7714"}}}"#)?;
    /// assert_eq!(r.code(), &DeliveryCode::MessageTooLong);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn code(&self) -> &DeliveryCode {
        self.code.as_ref().unwrap_or(&MISSING_CODE)
    }

    text_getters! {
        /// The platform's description (`Description`, capital D), as sent (typos included).
        fn description => description;

        /// More detail on a failure (`additionalInfo`), often `"(#<Meta code>) | <details>"`.
        fn additional_info => additional_info;
    }

    /// The Meta (WhatsApp Cloud API) error code from an `additionalInfo` of the form
    /// `"(#131049) | ..."`, if there is one.
    ///
    /// ```
    /// # use webex_connect_whatsapp::webhook::DeliveryReceipt;
    /// let r = DeliveryReceipt::from_slice(br#"{"deliveryInfoNotification":{"deliveryInfo":{"additionalInfo":"(#131049) | x"}}}"#)?;
    /// assert_eq!(r.meta_error_code(), Some(131_049));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn meta_error_code(&self) -> Option<u32> {
        let info = self.additional_info()?.trim_start();
        let rest = info.strip_prefix("(#")?;
        let (digits, _) = rest.split_once(')')?;
        let digits = digits.trim();
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok()
    }

    text_getters! {
        /// The recipient (`destination`), as sent (the platform may mask it: `9199xxxxxxxx`).
        fn destination => destination;

        /// What kind of address [`Self::destination`] is (`destinationType`), e.g. `waid`.
        fn destination_type => destination_type;
    }

    /// When the status changed (`timeStamp`, RFC 3339; the tenant's time zone may give it an
    /// offset such as `+05:30`).
    ///
    /// `None` when absent or not RFC 3339; the text is still in [`Self::timestamp_raw`].
    ///
    /// ```
    /// # use webex_connect_whatsapp::webhook::DeliveryReceipt;
    /// use time::macros::datetime;
    /// let r = DeliveryReceipt::from_slice(br#"{"deliveryInfoNotification":{"deliveryInfo":{"timeStamp":"2019-03-04T15:19:21.157+05:30"}}}"#)?;
    /// assert_eq!(r.timestamp(), Some(datetime!(2019-03-04 09:49:21.157 UTC)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn timestamp(&self) -> Option<OffsetDateTime> {
        self.timestamp_raw().and_then(body::parse_timestamp)
    }

    text_getters! {
        /// The `timeStamp` text as received.
        ///
        /// ```
        /// # use webex_connect_whatsapp::webhook::DeliveryReceipt;
        /// let r = DeliveryReceipt::from_slice(br#"{"deliveryInfoNotification":{"deliveryInfo":{"timeStamp":"yesterday"}}}"#)?;
        /// assert_eq!((r.timestamp(), r.timestamp_raw()), (None, Some("yesterday")));
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        fn timestamp_raw => timestamp;
    }

    /// The platform's id of the message (`transid`), as returned when you sent it.
    pub fn transaction_id(&self) -> Option<&TransactionId> {
        self.transaction_id.as_ref()
    }

    text_getters! {
        /// The sub-transaction id (`subtid`); usually empty.
        fn sub_transaction_id => sub_transaction_id;

        /// Your `correlationid` from the send request, echoed back.
        fn correlation_id => correlation_id;

        /// Your `callbackData` from the send request, echoed back.
        fn callback_data => callback_data;

        /// The channel (`deliveryChannel`), `whatsapp` for this crate.
        fn channel => channel;

        /// The recipient's identity key hash (`identityKeyHash`), when identity checks are on.
        fn identity_key_hash => identity_key_hash;

        /// The recipient's business-scoped user id (`bsuid`), exactly as received (not
        /// checked; the JSON text when it is not a string).
        ///
        /// Cisco's 6.17 release notes say webhooks gained `bsuid`, but not where a receipt
        /// carries it (UNVERIFIED): it is read from `deliveryInfo`, else from
        /// `deliveryInfoNotification`, else from the top level.
        ///
        /// ```
        /// # use webex_connect_whatsapp::webhook::DeliveryReceipt;
        /// let r = DeliveryReceipt::from_slice(br#"{"deliveryInfoNotification":{"deliveryInfo":{"destination":"919900012345","bsuid":"IN.746868"}}}"#)?;
        /// assert_eq!(r.bsuid(), Some("IN.746868"));
        /// let r = DeliveryReceipt::from_slice(br#"{"bsuid":"IN.746868","deliveryInfoNotification":{}}"#)?;
        /// assert_eq!(r.bsuid(), Some("IN.746868"));
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        fn bsuid => bsuid;

        /// The recipient's username handle (`userHandle`), exactly as received; read from the
        /// same places as [`Self::bsuid`] (UNVERIFIED which one).
        ///
        /// ```
        /// # use webex_connect_whatsapp::webhook::DeliveryReceipt;
        /// let r = DeliveryReceipt::from_slice(br#"{"deliveryInfoNotification":{"userHandle":"*_ait_12"}}"#)?;
        /// assert_eq!(r.user_handle(), Some("*_ait_12"));
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        fn user_handle => user_handle;
    }

    /// The global transaction id: the top-level `x-wx-gtrid` beside the notification, as
    /// received, else the `x-wx-gtrid` HTTP header that came with the receipt (kept by
    /// [`Receiver::check`](crate::receiver::Receiver::check); the body wins, see
    /// [`WebhookEvent::gtrid`](super::WebhookEvent::gtrid)).
    ///
    /// ```
    /// # use webex_connect_whatsapp::webhook::DeliveryReceipt;
    /// let r = DeliveryReceipt::from_slice(br#"{"x-wx-gtrid":"g1","deliveryInfoNotification":{}}"#)?;
    /// assert_eq!(r.gtrid(), Some("g1"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn gtrid(&self) -> Option<&str> {
        body::text(&self.raw, self.gtrid.as_ref()).or_else(|| self.header_gtrid.get())
    }

    /// The body exactly as received (or as built).
    ///
    /// ```
    /// # use webex_connect_whatsapp::webhook::DeliveryReceipt;
    /// let body = r#"{"deliveryInfoNotification":{}}"#;
    /// assert_eq!(DeliveryReceipt::from_slice(body.as_bytes())?.raw(), body);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn raw(&self) -> &str {
        &self.raw
    }

    /// Fields this crate does not read, at any level of the body, keyed by JSON Pointer
    /// (`/serviceProvider`, `/deliveryInfoNotification/deliveryInfo/conversationCategory`).
    ///
    /// Parses the kept body again, so call it only when you need it.
    ///
    /// ```
    /// # use webex_connect_whatsapp::webhook::DeliveryReceipt;
    /// let r = DeliveryReceipt::from_slice(br#"{"serviceProvider":"s1","deliveryInfoNotification":{"carrier":"c"}}"#)?;
    /// let extra = r.extra();
    /// assert_eq!(extra["/serviceProvider"], "s1");
    /// assert_eq!(extra["/deliveryInfoNotification/carrier"], "c");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn extra(&self) -> Map<String, Value> {
        body::extra_fields(
            &self.raw,
            &[
                ("", TOP_KEYS),
                ("/deliveryInfoNotification", NOTIFICATION_KEYS),
                ("/deliveryInfoNotification/deliveryInfo", INFO_KEYS),
            ],
        )
    }

    /// Any value of the body by JSON Pointer (RFC 6901), e.g. `/dataIntegration/context`.
    ///
    /// ```
    /// # use webex_connect_whatsapp::webhook::DeliveryReceipt;
    /// let r = DeliveryReceipt::from_slice(br#"{"deliveryInfoNotification":{},"dataIntegration":{"context":{"serviceId":"1"}}}"#)?;
    /// assert_eq!(r.pointer("/dataIntegration/context/serviceId"), Some("1".into()));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn pointer(&self, pointer: &str) -> Option<Value> {
        body::raw_value(&self.raw).pointer(pointer).cloned()
    }
}

impl fmt::Debug for DeliveryReceipt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeliveryReceipt")
            .field("status", self.status())
            .field("code", self.code())
            .field("transaction_id", &self.transaction_id)
            .field("description", &self.description())
            .field("additional_info", &self.additional_info())
            .field("destination", &self.destination().map(crate::phone::mask))
            .field("bsuid", &self.bsuid().map(crate::phone::mask))
            .field("user_handle", &self.user_handle().map(|_| "…"))
            .field("gtrid", &self.gtrid())
            .field("timestamp", &self.timestamp_raw())
            .field("correlation_id", &self.correlation_id())
            .finish_non_exhaustive()
    }
}

kept_body_impls!(DeliveryReceipt);

/// The delivery status of a message (`deliveryStatus`), as one receipt states it.
///
/// A receipt's status is what the platform said once; where a message stands after all its
/// receipts, in order or not, is a
/// [`DeliveryState`](crate::conversation::delivery::DeliveryState).
///
/// Unknown values are kept in [`DeliveryStatus::Unknown`]; known ones match in any letter case.
///
/// ```
/// use webex_connect_whatsapp::webhook::DeliveryStatus;
/// assert_eq!("Delivered".parse::<DeliveryStatus>()?, DeliveryStatus::Delivered);
/// assert_eq!(DeliveryStatus::Read.as_str(), "Read");
/// assert_eq!("Clicked".parse::<DeliveryStatus>()?, DeliveryStatus::Unknown("Clicked".into()));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DeliveryStatus {
    /// Handed to WhatsApp.
    Submitted,
    /// Delivered to the recipient's phone.
    Delivered,
    /// Read by the recipient.
    Read,
    /// Not delivered; see [`DeliveryReceipt::code`].
    Failed,
    /// A status this crate does not know, as received.
    Unknown(String),
}

impl DeliveryStatus {
    fn from_wire(value: &str) -> Self {
        if value.eq_ignore_ascii_case("Submitted") {
            Self::Submitted
        } else if value.eq_ignore_ascii_case("Delivered") {
            Self::Delivered
        } else if value.eq_ignore_ascii_case("Read") {
            Self::Read
        } else if value.eq_ignore_ascii_case("Failed") {
            Self::Failed
        } else {
            Self::Unknown(value.to_owned())
        }
    }

    /// The wire form (`Submitted`, `Delivered`, `Read`, `Failed`, or the unknown value).
    ///
    /// ```
    /// # use webex_connect_whatsapp::webhook::DeliveryStatus;
    /// assert_eq!(DeliveryStatus::Failed.as_str(), "Failed");
    /// ```
    pub fn as_str(&self) -> &str {
        match self {
            Self::Submitted => "Submitted",
            Self::Delivered => "Delivered",
            Self::Read => "Read",
            Self::Failed => "Failed",
            Self::Unknown(s) => s,
        }
    }

    /// Whether no further status will follow (Read or Failed).
    ///
    /// ```
    /// # use webex_connect_whatsapp::webhook::DeliveryStatus;
    /// assert!(DeliveryStatus::Failed.is_final());
    /// assert!(!DeliveryStatus::Delivered.is_final());
    /// ```
    pub fn is_final(&self) -> bool {
        matches!(self, Self::Read | Self::Failed)
    }
}

wire_string_impls!(DeliveryStatus, from_wire);

/// Whether resending a failed message could succeed, inferred from the code's description.
///
/// ```
/// use webex_connect_whatsapp::webhook::{DeliveryCode, Retryability};
/// assert_eq!(DeliveryCode::RateLimitHit.retryability(), Retryability::Transient);
/// assert_eq!(DeliveryCode::ReEngagement.retryability(), Retryability::Permanent);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Retryability {
    /// Not a failure (7500, 7501, 7502).
    NotAnError,
    /// Temporary (rate limits, overload): the same message may succeed later.
    Transient,
    /// Resending the same message will fail again; change it (or its recipient) first.
    Permanent,
    /// No hint for this code.
    Unknown,
}

macro_rules! delivery_codes {
    ($( $variant:ident = $code:literal, $desc:literal, $retry:ident, $fix:expr; )*) => {
        /// A WhatsApp status code from a delivery receipt (`code`), as listed in the Webex
        /// Connect channel-specific status codes.
        ///
        /// Codes this crate does not know are kept in [`DeliveryCode::Unknown`]. Where the
        /// platform gives two codes the same meaning, the second variant carries its number.
        ///
        /// ```
        /// use webex_connect_whatsapp::webhook::DeliveryCode;
        /// let code: DeliveryCode = "7804".parse()?;
        /// assert_eq!(code, DeliveryCode::TemplateParamCountMismatch);
        /// assert_eq!(code.number(), Some(7804));
        /// assert!(code.is_permanent());
        /// assert!(code.fix().is_some_and(|f| f.contains("check parameters")));
        /// assert_eq!("1234".parse::<DeliveryCode>()?, DeliveryCode::Unknown("1234".into()));
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum DeliveryCode {
            $(
                #[doc = concat!("`", $code, "`: ", $desc, ".")]
                $variant,
            )*
            /// A code this crate does not know, as received.
            Unknown(String),
        }

        impl DeliveryCode {
            /// Reads a wire code; unknown codes are kept in [`DeliveryCode::Unknown`].
            ///
            /// ```
            /// # use webex_connect_whatsapp::webhook::DeliveryCode;
            /// assert_eq!(DeliveryCode::from_code("7710"), DeliveryCode::ReEngagement);
            /// ```
            pub fn from_code(code: &str) -> Self {
                match code {
                    $( $code => Self::$variant, )*
                    other => Self::Unknown(other.to_owned()),
                }
            }

            /// The wire form, e.g. `"7500"`.
            ///
            /// ```
            /// # use webex_connect_whatsapp::webhook::DeliveryCode;
            /// assert_eq!(DeliveryCode::Delivered.as_str(), "7500");
            /// ```
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $code, )*
                    Self::Unknown(s) => s,
                }
            }

            /// What the code means, per the platform's table (`None` for unknown codes).
            ///
            /// ```
            /// # use webex_connect_whatsapp::webhook::DeliveryCode;
            /// assert_eq!(DeliveryCode::MessageTooLong.description(), Some("Message too long"));
            /// ```
            pub fn description(&self) -> Option<&'static str> {
                match self {
                    $( Self::$variant => Some($desc), )*
                    Self::Unknown(_) => None,
                }
            }

            /// Whether resending could help (see [`Retryability`]).
            ///
            /// ```
            /// # use webex_connect_whatsapp::webhook::{DeliveryCode, Retryability};
            /// assert_eq!(DeliveryCode::Read.retryability(), Retryability::NotAnError);
            /// ```
            pub fn retryability(&self) -> Retryability {
                match self {
                    $( Self::$variant => Retryability::$retry, )*
                    Self::Unknown(_) => Retryability::Unknown,
                }
            }

            /// What to do about the failure, when there is clear advice.
            ///
            /// ```
            /// # use webex_connect_whatsapp::webhook::DeliveryCode;
            /// assert!(DeliveryCode::MessageTooLong.fix().is_some_and(|f| f.starts_with("shorten")));
            /// ```
            pub fn fix(&self) -> Option<&'static str> {
                match self {
                    $( Self::$variant => $fix, )*
                    Self::Unknown(_) => None,
                }
            }
        }
    };
}

const RETRY_LATER: Option<&str> = Some("retry later, with backoff");
const CHECK_RECIPIENT: Option<&str> =
    Some("check the destination is a WhatsApp number with its country code, and do not resend");
const CHECK_TOKEN: Option<&str> =
    Some("check the WhatsApp app's access token and permissions in Webex Connect");
const CONTACT_POLICY: Option<&str> = Some(
    "the contact policy blocked the message: check the contact's consent and the policy settings",
);
const READ_INFO: Option<&str> = Some("read additionalInfo for the provider's error");
const TEMPLATE_FORMAT: Option<&str> =
    Some("remove newlines, tabs and runs of more than 4 spaces from the template parameters");

delivery_codes! {
    Delivered = "7500", "Delivered", NotAnError, None;
    Submitted = "7501", "Submitted", NotAnError, None;
    Read = "7502", "Read", NotAnError, None;
    UnknownStatus = "7200", "Unknown status (see additionalInfo)", Unknown, READ_INFO;
    ServiceProviderException = "7010", "Service provider exception (see additionalInfo)", Unknown, READ_INFO;
    UnknownException = "7011", "Unknown exception", Unknown, None;
    MediaDownloadError = "7701", "Media download error", Unknown,
        Some("make the media URL public, reachable from US servers and ending in the extension of its MIME type");
    BusinessEligibilityPayment = "7703", "Business eligibility: payment issue", Unknown,
        Some("fix the WhatsApp Business account's payment method in Meta Business Manager");
    MessageNotValid = "7704", "Message not valid (pending too long)", Unknown, None;
    MessageExpired = "7705", "Message expired (TTL)", Unknown, None;
    RateLimitHit = "7706", "Rate limit hit", Transient, RETRY_LATER;
    UnsignedCertificate = "7707", "Unsigned certificate", Unknown, None;
    ReEngagement = "7710", "Re-engagement message", Permanent,
        Some("send a template: more than 24 hours have passed since the customer's last message, so session messages are refused");
    SpamRateLimitHit = "7711", "Spam rate limit hit", Unknown, None;
    UserInExperiment = "7712", "User's number is part of an experiment", Unknown, None;
    UserInExperiment7872 = "7872", "User's number is part of an experiment", Unknown, None;
    GenericError = "7713", "Generic error", Unknown, None;
    GenericError7736 = "7736", "Generic error", Unknown, None;
    MessageTooLong = "7714", "Message too long", Permanent,
        Some("shorten the text to at most 4096 characters");
    InvalidRecipientType = "7715", "Invalid recipient type", Unknown, None;
    ResourceAlreadyExists = "7717", "Resource already exists (media UUID)", Unknown, None;
    RequiredParameterMissing = "7721", "Required parameter missing", Unknown,
        Some("add the missing parameter to the request");
    ParameterValueNotValid = "7722", "Parameter value not valid (namespace does not match the WABA)", Unknown, None;
    ParameterNotRequired = "7723", "Parameter not required", Unknown,
        Some("remove the parameter the message does not take");
    UserNotValid = "7726", "User is not valid", Unknown, CHECK_RECIPIENT;
    InternalError = "7727", "Internal error or bad media", Unknown, None;
    SystemOverloaded = "7729", "System overloaded", Transient, RETRY_LATER;
    NotPrimaryMaster = "7730", "Not primary master", Transient, RETRY_LATER;
    NotPrimaryCoreapp = "7731", "Not primary coreapp", Transient, RETRY_LATER;
    BadUser = "7733", "Bad user (sender is the recipient)", Unknown,
        Some("do not send to the business's own number");
    InvalidDestination = "7737", "Invalid WhatsApp destination", Unknown, CHECK_RECIPIENT;
    UserIdentityChanged = "7802", "User identity changed; needs acknowledgement", Unknown,
        Some("confirm the customer's new identity, then resend with the new identity_key_hash");
    AccountLocked = "7803", "Account locked", Unknown, None;
    AccountLocked7860 = "7860", "Account locked", Unknown, None;
    TemplateParamCountMismatch = "7804", "Template parameter count mismatch", Permanent,
        Some("check parameters: send exactly one value for each variable of the template");
    TemplateMissing = "7805", "Template missing", Permanent,
        Some("check the template id and that the template is approved");
    TemplateMissingForLanguage = "7849", "Template does not exist for the language", Permanent,
        Some("check the template is approved in the language you send");
    TemplateParamTooLong = "7808", "Template parameter too long", Permanent,
        Some("shorten the template parameter values");
    HydratedTextTooLong = "7809", "Hydrated text too long", Permanent,
        Some("shorten the template parameters so the final text fits");
    FormatCharacterPolicy = "7811", "Format character policy violated", Permanent, TEMPLATE_FORMAT;
    FormatCharacterPolicy7821 = "7821", "Format character policy violated", Permanent, TEMPLATE_FORMAT;
    RequiredComponentMissing = "7812", "Required component missing", Permanent,
        Some("add the header, body or button parameters the template requires");
    InvalidHydratedUrl = "7813", "Invalid hydrated URL", Permanent,
        Some("check the URL built from the template's dynamic URL button");
    TemplateMediaFormatUnsupported = "7814", "Template media format unsupported", Permanent,
        Some("use a media type the template's header accepts");
    TemplateInvalidPhoneNumber = "7815", "Template invalid phone number", Permanent,
        Some("check the phone number in the template");
    ParameterFormatMismatch = "7816", "Parameter format mismatch", Permanent,
        Some("match each parameter's type to the template (text, currency, date_time)");
    InvalidListSections = "7819", "Invalid number of list sections", Unknown,
        Some("send 1 to 10 list sections");
    InvalidListRows = "7820", "Invalid number of rows", Unknown,
        Some("send at most 10 rows across all sections");
    InvalidHeaderStructure = "7830", "Invalid header structure", Unknown, None;
    AuthException = "7832", "Auth exception (app token)", Unknown, CHECK_TOKEN;
    ApiUnknown = "7833", "API unknown", Unknown, None;
    ApiService = "7834", "API service", Transient, RETRY_LATER;
    ApiMethod = "7835", "API method", Unknown, None;
    ApiTooManyCalls = "7836", "API too many calls", Transient, RETRY_LATER;
    ApiPermissionDenied = "7837", "API permission denied", Unknown, CHECK_TOKEN;
    InvalidParameter = "7838", "Invalid parameter", Unknown, None;
    AccessTokenExpired = "7839", "Access token expired", Unknown, CHECK_TOKEN;
    ApiPermission = "7840", "API permission", Unknown, CHECK_TOKEN;
    TemporarilyBlocked = "7842", "Temporarily blocked for policy violations", Unknown, None;
    ThroughputReached = "7845", "Cloud API throughput reached", Transient, RETRY_LATER;
    ServiceOverloaded = "7846", "Service overloaded", Transient, RETRY_LATER;
    ServiceUnavailable = "7854", "Service temporarily unavailable", Transient, RETRY_LATER;
    UnsupportedMimeType = "7861", "Unsupported MIME type", Unknown,
        Some("send a MIME type WhatsApp supports for that kind of media");
    IdentityHashMismatch = "7862", "Identity hash mismatch", Unknown,
        Some("confirm the customer's new identity, then resend with the new identity_key_hash");
    GenericUserError = "7863", "Generic user error", Unknown, None;
    PhoneNumberNotRegistered = "7865", "Phone number not registered", Permanent, CHECK_RECIPIENT;
    TemplateDisabled = "7868", "Template disabled", Permanent,
        Some("use another template, or fix this one and have it approved again");
    TemplatePaused = "7869", "Template paused", Permanent,
        Some("use another template, or wait until this one is unpaused");
    WabaMaintenance = "7870", "WhatsApp Business account in maintenance", Unknown, RETRY_LATER;
    MessageUndeliverable = "7871", "Message undeliverable", Permanent,
        Some("do not resend: the number is not on WhatsApp or cannot receive this message");
    PairRateLimit = "7874", "Pair rate limit hit", Transient,
        Some("send fewer messages to this recipient, then retry later");
    ContactPolicy9000 = "9000", "Blocked by contact policy", Unknown, CONTACT_POLICY;
    ContactPolicy9001 = "9001", "Blocked by contact policy", Unknown, CONTACT_POLICY;
    ContactPolicy9002 = "9002", "Blocked by contact policy", Unknown, CONTACT_POLICY;
    ContactPolicy9003 = "9003", "Blocked by contact policy", Unknown, CONTACT_POLICY;
    ContactPolicy9004 = "9004", "Blocked by contact policy", Unknown, CONTACT_POLICY;
    ContactPolicy9005 = "9005", "Blocked by contact policy", Unknown, CONTACT_POLICY;
    ContactPolicy9006 = "9006", "Blocked by contact policy", Unknown, CONTACT_POLICY;
    ContactPolicy9007 = "9007", "Blocked by contact policy", Unknown, CONTACT_POLICY;
    ContactPolicy9008 = "9008", "Blocked by contact policy", Unknown, CONTACT_POLICY;
    ContactPolicy9009 = "9009", "Blocked by contact policy", Unknown, CONTACT_POLICY;
    ContactPolicy9010 = "9010", "Blocked by contact policy", Unknown, CONTACT_POLICY;
}

impl DeliveryCode {
    /// The code as a number, when it is one.
    ///
    /// ```
    /// # use webex_connect_whatsapp::webhook::DeliveryCode;
    /// assert_eq!(DeliveryCode::ReEngagement.number(), Some(7710));
    /// assert_eq!(DeliveryCode::Unknown("x".into()).number(), None);
    /// ```
    pub fn number(&self) -> Option<u32> {
        self.as_str().parse().ok()
    }

    /// Whether the platform may accept the same message later (see [`Retryability`]).
    ///
    /// ```
    /// # use webex_connect_whatsapp::webhook::DeliveryCode;
    /// assert!(DeliveryCode::PairRateLimit.is_retryable());
    /// ```
    pub fn is_retryable(&self) -> bool {
        self.retryability() == Retryability::Transient
    }

    /// Whether resending the same message will fail again (see [`Retryability`]).
    ///
    /// ```
    /// # use webex_connect_whatsapp::webhook::DeliveryCode;
    /// assert!(DeliveryCode::MessageTooLong.is_permanent());
    /// ```
    pub fn is_permanent(&self) -> bool {
        self.retryability() == Retryability::Permanent
    }

    /// Whether the code reports a failure (anything but 7500, 7501 and 7502).
    ///
    /// ```
    /// # use webex_connect_whatsapp::webhook::DeliveryCode;
    /// assert!(!DeliveryCode::Delivered.is_error());
    /// assert!(DeliveryCode::GenericError.is_error());
    /// ```
    pub fn is_error(&self) -> bool {
        self.retryability() != Retryability::NotAnError
    }
}

wire_string_impls!(DeliveryCode, from_code);
