//! [`RequestOptions`]: the request-level settings every way of sending carries into its
//! requests the same way (callback data, notify URL and its authorization profile, expiry,
//! link options).

use time::OffsetDateTime;
use url::Url;

use super::LinkOptions;
use crate::ids::CallbackData;

/// The request-level options of a send: each is declared, documented and set here, and
/// reaches the wire through the [`SendRequest`](super::SendRequest) that holds it.
///
/// [`SendRequestBuilder`](super::SendRequestBuilder),
/// [`MessageBuilder`](crate::client::MessageBuilder) and
/// [`BulkBuilder`](crate::client::BulkBuilder) each hold one: their `callback_data`,
/// `notify_url`, `notify_url_auth_id`, `expiry` and `link_options` setters set it, and their
/// `options` setter replaces it whole, so one value can serve many sends. The notify URL is
/// checked (https, or http on a loopback address) when the request is built.
///
/// ```
/// use webex_connect_whatsapp::send::{RequestOptions, SendRequest};
/// use webex_connect_whatsapp::{AppId, CallbackData, PhoneNumber, SessionMessage};
///
/// let options = RequestOptions::new()
///     .callback_data(CallbackData::new("order-7")?)
///     .notify_url("https://example.com/dlr".parse()?);
/// let request = SendRequest::builder(AppId::new("a_1")?, SessionMessage::text("Hello")?)
///     .to(&PhoneNumber::parse("+44 7400 123456")?)
///     .options(options)
///     .build()?;
/// assert_eq!(request.notify_url().map(|u| u.as_str()), Some("https://example.com/dlr"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
#[must_use]
pub struct RequestOptions {
    pub(super) callback_data: Option<CallbackData>,
    pub(super) notify_url: Option<Url>,
    pub(super) notify_url_auth_id: Option<String>,
    pub(super) expiry: Option<OffsetDateTime>,
    pub(super) link_options: Option<LinkOptions>,
}

impl RequestOptions {
    /// No options: the platform's defaults (the app's configured notify URL, no expiry...).
    pub fn new() -> Self {
        Self::default()
    }

    crate::setters::setters! {
        /// Sets data echoed in every delivery receipt (`callbackData`).
        fn callback_data(self, data: CallbackData) => self.callback_data = Some(data);

        /// Sets the URL that receives the delivery receipts (`notifyurl`): https, or http on a
        /// loopback address, checked when the request is built.
        fn notify_url(self, url: Url) => self.notify_url = Some(url);

        /// Sets the authorization profile Webex Connect applies when calling the notify URL
        /// (`notifyurlAuthId`).
        fn notify_url_auth_id(self, notify_url_auth_id: impl Into<String>) =>
            self.notify_url_auth_id = Some(notify_url_auth_id.into());

        /// Sets the time after which the message must not be sent (`expiry`).
        fn expiry(self, at: OffsetDateTime) => self.expiry = Some(at);

        /// Sets link shortening and click tracking (`options`); the domain it requires is part
        /// of every [`LinkOptions`].
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
        /// assert_eq!(json["options"], serde_json::json!({"trackClicks": "true", "domain": "go.example.com"}));
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        fn link_options(self, options: LinkOptions) => self.link_options = Some(options);
    }
}
