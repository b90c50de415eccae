//! [`DeliveryReceiptBuilder`]: receipts in the FAQ's exact wire shape, for the sandbox and for
//! testing your own handlers.

use time::OffsetDateTime;

use super::{DeliveryCode, DeliveryReceipt, DeliveryStatus};
use crate::ids::TransactionId;
use crate::webhook::body::{HeaderGtrid, format_timestamp, json_string, ordered_object};
use crate::webhook::wire::slot::Text;

impl DeliveryReceipt {
    /// Starts a receipt for a message, for the sandbox and for testing your own handlers.
    ///
    /// The built receipt has the FAQ's exact wire shape (every field present, `""` when unset).
    ///
    /// ```
    /// use time::macros::datetime;
    /// use webex_connect_whatsapp::webhook::{DeliveryCode, DeliveryReceipt, DeliveryStatus};
    ///
    /// let receipt = DeliveryReceipt::builder("5c9f6594-a371-4e78-8561-b695f9647472", DeliveryStatus::Failed)
    ///     .code(DeliveryCode::MessageTooLong)
    ///     .destination("447400123456")
    ///     .timestamp(datetime!(2024-01-02 03:04:05.678 UTC))
    ///     .build();
    /// assert_eq!(receipt.description(), Some("Message too long"));
    /// assert!(receipt.raw().contains(r#""timeStamp":"2024-01-02T03:04:05.678Z""#));
    /// ```
    pub fn builder(
        transaction_id: impl Into<TransactionId>,
        status: DeliveryStatus,
    ) -> DeliveryReceiptBuilder {
        DeliveryReceiptBuilder {
            transaction_id: transaction_id.into(),
            status,
            code: None,
            description: None,
            additional_info: String::new(),
            destination: String::new(),
            destination_type: "waid".to_owned(),
            channel: "whatsapp".to_owned(),
            timestamp: None,
            sub_transaction_id: String::new(),
            correlation_id: String::new(),
            callback_data: String::new(),
            identity_key_hash: None,
        }
    }
}

/// Builds a [`DeliveryReceipt`] in the FAQ's exact wire shape (see
/// [`DeliveryReceipt::builder`]); `build()` cannot fail, as every field has a default.
///
/// Defaults: the code follows the status (Submitted 7501, Delivered 7500, Read 7502, Failed
/// 7011), the description is the code's, the channel `whatsapp`, the destination type `waid`,
/// the time now; other fields are `""`.
///
/// ```
/// use webex_connect_whatsapp::webhook::{DeliveryReceipt, DeliveryStatus};
/// let r = DeliveryReceipt::builder("t1", DeliveryStatus::Read).correlation_id("order-1").build();
/// assert_eq!(r.code().as_str(), "7502");
/// assert_eq!(r.correlation_id(), Some("order-1"));
/// ```
#[derive(Debug, Clone)]
#[must_use = "call .build() to get the receipt"]
pub struct DeliveryReceiptBuilder {
    transaction_id: TransactionId,
    status: DeliveryStatus,
    code: Option<DeliveryCode>,
    description: Option<String>,
    additional_info: String,
    destination: String,
    destination_type: String,
    channel: String,
    timestamp: Option<OffsetDateTime>,
    sub_transaction_id: String,
    correlation_id: String,
    callback_data: String,
    identity_key_hash: Option<String>,
}

impl DeliveryReceiptBuilder {
    crate::setters::setters! {
        /// Sets the status code (default: from the status).
        ///
        /// ```
        /// # use webex_connect_whatsapp::webhook::{DeliveryCode, DeliveryReceipt, DeliveryStatus};
        /// let r = DeliveryReceipt::builder("t", DeliveryStatus::Failed).code(DeliveryCode::ReEngagement).build();
        /// assert_eq!(r.description(), Some("Re-engagement message"));
        /// ```
        fn code(self, code: DeliveryCode) => self.code = Some(code);

        /// Sets `timeStamp` (default: now). Written with milliseconds, `Z` for UTC, else the
        /// offset (`+05:30`), as the platform does.
        ///
        /// ```
        /// # use webex_connect_whatsapp::webhook::{DeliveryReceipt, DeliveryStatus};
        /// use time::macros::datetime;
        /// let r = DeliveryReceipt::builder("t", DeliveryStatus::Read)
        ///     .timestamp(datetime!(2019-03-04 15:19:21.157 +05:30)).build();
        /// assert_eq!(r.timestamp_raw(), Some("2019-03-04T15:19:21.157+05:30"));
        /// ```
        fn timestamp(self, at: OffsetDateTime) => self.timestamp = Some(at);

        /// Sets `Description` (default: [`DeliveryCode::description`]).
        ///
        /// ```
        /// # use webex_connect_whatsapp::webhook::{DeliveryReceipt, DeliveryStatus};
        /// let r = DeliveryReceipt::builder("t", DeliveryStatus::Failed).description("Oops").build();
        /// assert_eq!(r.description(), Some("Oops"));
        /// ```
        fn description(self, description: impl Into<String>) =>
            self.description = Some(description.into());

        /// Sets `additionalInfo`.
        ///
        /// ```
        /// # use webex_connect_whatsapp::webhook::{DeliveryReceipt, DeliveryStatus};
        /// let r = DeliveryReceipt::builder("t", DeliveryStatus::Failed).additional_info("(#131049) | x").build();
        /// assert_eq!(r.meta_error_code(), Some(131_049));
        /// ```
        fn additional_info(self, additional_info: impl Into<String>) =>
            self.additional_info = additional_info.into();

        /// Sets `destination` (a WhatsApp id: digits with country code, no `+`).
        fn destination(self, destination: impl Into<String>) =>
            self.destination = destination.into();

        /// Sets `destinationType` (default `waid`).
        ///
        /// ```
        /// # use webex_connect_whatsapp::webhook::{DeliveryReceipt, DeliveryStatus};
        /// let r = DeliveryReceipt::builder("t", DeliveryStatus::Read).destination_type("bsuid").build();
        /// assert_eq!(r.destination_type(), Some("bsuid"));
        /// ```
        fn destination_type(self, destination_type: impl Into<String>) =>
            self.destination_type = destination_type.into();

        /// Sets `subtid`.
        fn sub_transaction_id(self, sub_transaction_id: impl Into<String>) =>
            self.sub_transaction_id = sub_transaction_id.into();

        /// Sets `correlationid` (echo of the send request's).
        fn correlation_id(self, correlation_id: impl Into<String>) =>
            self.correlation_id = correlation_id.into();

        /// Sets `callbackData` (echo of the send request's).
        fn callback_data(self, callback_data: impl Into<String>) =>
            self.callback_data = callback_data.into();

        /// Adds `identityKeyHash` to `deliveryInfo` (absent by default, as in the FAQ samples).
        fn identity_key_hash(self, identity_key_hash: impl Into<String>) =>
            self.identity_key_hash = Some(identity_key_hash.into());
    }

    /// Finishes the receipt.
    ///
    /// ```
    /// # use webex_connect_whatsapp::webhook::{DeliveryReceipt, DeliveryStatus};
    /// let r = DeliveryReceipt::builder("t", DeliveryStatus::Submitted).build();
    /// assert_eq!(r.description(), Some("Submitted"));
    /// ```
    pub fn build(self) -> DeliveryReceipt {
        let code = self.code.unwrap_or(match self.status {
            DeliveryStatus::Submitted => DeliveryCode::Submitted,
            DeliveryStatus::Delivered => DeliveryCode::Delivered,
            DeliveryStatus::Read => DeliveryCode::Read,
            DeliveryStatus::Failed | DeliveryStatus::Unknown(_) => DeliveryCode::UnknownException,
        });
        let description = self
            .description
            .unwrap_or_else(|| code.description().unwrap_or_default().to_owned());
        let timestamp = format_timestamp(self.timestamp.unwrap_or_else(OffsetDateTime::now_utc));
        let q = |s: &str| json_string(s);
        let mut info = vec![
            ("deliveryChannel", q(&self.channel)),
            ("Description", q(&description)),
            ("destinationType", q(&self.destination_type)),
            ("timeStamp", q(&timestamp)),
            ("code", q(code.as_str())),
            ("additionalInfo", q(&self.additional_info)),
            ("deliveryStatus", q(self.status.as_str())),
            ("destination", q(&self.destination)),
        ];
        if let Some(hash) = &self.identity_key_hash {
            info.push(("identityKeyHash", q(hash)));
        }
        let notification = ordered_object(&[
            ("subtid", q(&self.sub_transaction_id)),
            ("deliveryInfo", ordered_object(&info)),
            ("correlationid", q(&self.correlation_id)),
            ("callbackData", q(&self.callback_data)),
            ("transid", q(self.transaction_id.as_str())),
        ]);
        let raw = ordered_object(&[("deliveryInfoNotification", notification)]);
        let owned = |s: &str| (!s.is_empty()).then(|| Text::Owned(s.into()));
        DeliveryReceipt {
            description: owned(&description),
            additional_info: owned(&self.additional_info),
            destination: owned(&self.destination),
            destination_type: owned(&self.destination_type),
            timestamp: owned(&timestamp),
            sub_transaction_id: owned(&self.sub_transaction_id),
            correlation_id: owned(&self.correlation_id),
            callback_data: owned(&self.callback_data),
            channel: owned(&self.channel),
            identity_key_hash: self.identity_key_hash.as_deref().and_then(owned),
            transaction_id: (!self.transaction_id.as_str().is_empty())
                .then_some(self.transaction_id),
            status: Some(self.status),
            code: Some(code),
            bsuid: None,
            user_handle: None,
            gtrid: None,
            header_gtrid: HeaderGtrid::default(),
            raw: raw.into(),
        }
    }
}
