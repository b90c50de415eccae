//! [`InboundMessageBuilder`]: inbound messages in the FAQ's wire shape, for the sandbox and for
//! testing your own handlers.

use time::OffsetDateTime;

use super::{Attachment, InboundMessage, SharedLocation};
use crate::recipient::{Bsuid, Recipient};
use crate::webhook::body::{format_timestamp, json_string, ordered_object};
use crate::webhook::error::WebhookError;

impl InboundMessage {
    /// Starts an inbound message (an `MO` text by default), for the sandbox and for testing
    /// your own handlers. The result has the FAQ's wire shape, all values strings.
    ///
    /// `waid` is written as given. For a username user, who has no phone number, give `""`
    /// and set the BSUID with [`InboundMessageBuilder::bsuid`], or use [`Self::builder_from`].
    ///
    /// ```
    /// use webex_connect_whatsapp::webhook::InboundMessage;
    /// let m = InboundMessage::builder("a_155054536910425280", "9199xxxxxxxx").text("Hello").build()?;
    /// assert_eq!(m.text(), Some("Hello"));
    /// assert!(m.raw().contains(r#""attachments":"[]""#));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn builder(app_id: impl Into<String>, waid: impl Into<String>) -> InboundMessageBuilder {
        InboundMessageBuilder {
            app_id: app_id.into(),
            waid: waid.into(),
            user_id: String::new(),
            username: String::new(),
            text: String::new(),
            attachments: Vec::new(),
            location: None,
            postback: None,
            transaction_id: None,
            tid: String::new(),
            timestamp: None,
        }
    }

    /// Starts an inbound message from `from`: a phone number becomes the `waid` (its digits),
    /// a BSUID the `userId` of a username user, with `"waid":""` (see
    /// [`InboundMessageBuilder::bsuid`]).
    ///
    /// ```
    /// use webex_connect_whatsapp::{Bsuid, PhoneNumber};
    /// use webex_connect_whatsapp::webhook::InboundMessage;
    ///
    /// let phone = PhoneNumber::parse("+44 7400 123456")?;
    /// let m = InboundMessage::builder_from("a_1", &phone).text("Hi").build()?;
    /// assert_eq!(m.waid(), Some("447400123456"));
    ///
    /// let id = Bsuid::new("US.13491208655302741918")?;
    /// let m = InboundMessage::builder_from("a_1", &id).username("asha").text("Hi").build()?;
    /// assert_eq!((m.waid(), m.bsuid(), m.username()), (None, Some(&id), Some("asha")));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn builder_from(
        app_id: impl Into<String>,
        from: impl Into<Recipient>,
    ) -> InboundMessageBuilder {
        match from.into() {
            Recipient::Phone(phone) => Self::builder(app_id, phone.waid()),
            Recipient::Bsuid(id) => Self::builder(app_id, "").bsuid(id),
        }
    }
}

/// Builds an [`InboundMessage`] in the FAQ's wire shape (see [`InboundMessage::builder`]).
///
/// ```
/// use webex_connect_whatsapp::webhook::{Attachment, InboundMessage};
/// let image = Attachment::new(mime::IMAGE_JPEG, "https://example.com/a.jpg".parse()?);
/// let m = InboundMessage::builder("a_1", "9199xxxxxxxx").attachment(image.clone()).build()?;
/// assert_eq!(m.attachments()?, vec![image]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
#[must_use = "call .build() to get the message"]
pub struct InboundMessageBuilder {
    app_id: String,
    waid: String,
    user_id: String,
    username: String,
    text: String,
    attachments: Vec<Attachment>,
    location: Option<SharedLocation>,
    postback: Option<(String, String)>,
    transaction_id: Option<String>,
    tid: String,
    timestamp: Option<OffsetDateTime>,
}

impl InboundMessageBuilder {
    crate::setters::setters! {
        /// Adds an attachment (encoded into the `attachments` JSON string).
        ///
        /// ```
        /// # use webex_connect_whatsapp::webhook::{Attachment, InboundMessage};
        /// let a = Attachment::new(mime::IMAGE_PNG, "https://example.com/a.png".parse()?).with_caption("A");
        /// let m = InboundMessage::builder("a_1", "1").attachment(a).build()?;
        /// assert_eq!(m.attachments()?[0].caption.as_deref(), Some("A"));
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        fn attachment(self, attachment: Attachment) => self.attachments.push(attachment);

        /// Sets the shared location (encoded into the `location` JSON string).
        ///
        /// ```
        /// # use webex_connect_whatsapp::webhook::{InboundMessage, SharedLocation};
        /// let m = InboundMessage::builder("a_1", "1").location(SharedLocation::new(17.4, 78.3)?).build()?;
        /// assert_eq!(m.location()?.and_then(|l| l.longitude()), Some(78.3));
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        fn location(self, location: SharedLocation) => self.location = Some(location);

        /// Makes it a button reply (`event: "postback"`) with `buttonText` and `buttonPayload`.
        ///
        /// ```
        /// # use webex_connect_whatsapp::webhook::{InboundEvent, InboundMessage};
        /// let m = InboundMessage::builder("a_1", "1").postback("Yes", "YES_1").build()?;
        /// assert_eq!(m.event(), &InboundEvent::Postback);
        /// assert_eq!(m.button_payload(), Some("YES_1"));
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        fn postback(self, button_text: impl Into<String>, payload: impl Into<String>) =>
            self.postback = Some((button_text.into(), payload.into()));

        /// Sets the sender's business-scoped user id, written to `userId`.
        ///
        /// With an empty `waid` this simulates a username user, who reaches the business with no
        /// phone number; with a `waid` it simulates a user who sends both ids.
        ///
        /// UNVERIFIED: where the platform puts the BSUID inbound is not documented; `userId` is
        /// the field inbound bodies already carry (the parser also reads a `bsuid` field). A
        /// missing phone number is written as `"waid":""` rather than left out, because the
        /// documented sample sends every field and uses `""` for "not set" (`userId`,
        /// `username`, `location`); the parser reads an absent `waid` the same way.
        ///
        /// ```
        /// use webex_connect_whatsapp::Bsuid;
        /// use webex_connect_whatsapp::webhook::InboundMessage;
        ///
        /// let id = Bsuid::new("US.13491208655302741918")?;
        /// let m = InboundMessage::builder("a_1", "").bsuid(id.clone()).username("asha").text("Hi").build()?;
        /// assert_eq!(m.waid(), None);
        /// assert_eq!(m.bsuid(), Some(&id));
        /// assert_eq!(m.reply_to(), Some(id.into()));
        /// assert!(m.raw().contains(r#""userId":"US.13491208655302741918""#));
        /// assert!(m.raw().contains(r#""waid":"""#));
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        fn bsuid(self, bsuid: Bsuid) => self.user_id = bsuid.into_string();

        /// Sets `ts` (default: now), written with milliseconds and `Z` or the offset.
        ///
        /// ```
        /// # use webex_connect_whatsapp::webhook::InboundMessage;
        /// use time::macros::datetime;
        /// let m = InboundMessage::builder("a_1", "1").timestamp(datetime!(2019-03-03 07:40:51.297 UTC)).build()?;
        /// assert_eq!(m.timestamp_raw(), Some("2019-03-03T07:40:51.297Z"));
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        fn timestamp(self, at: OffsetDateTime) => self.timestamp = Some(at);

        /// Sets the message text (`message`).
        fn text(self, text: impl Into<String>) => self.text = text.into();

        /// Sets `transid` (for a button reply: the message whose button was pressed).
        fn transaction_id(self, transaction_id: impl Into<String>) =>
            self.transaction_id = Some(transaction_id.into());

        /// Sets `userId` as given (see [`Self::bsuid`] for a business-scoped user id).
        fn user_id(self, user_id: impl Into<String>) => self.user_id = user_id.into();

        /// Sets `username`, the WhatsApp username (or profile name) the platform passes on.
        fn username(self, username: impl Into<String>) => self.username = username.into();

        /// Sets `tid`, the platform's id of the inbound message.
        fn tid(self, tid: impl Into<String>) => self.tid = tid.into();
    }

    /// Finishes the message.
    ///
    /// ```
    /// # use webex_connect_whatsapp::webhook::InboundMessage;
    /// assert!(InboundMessage::builder("a_1", "").build().is_err());
    /// assert!(InboundMessage::builder("a_1", "").user_id("u1").build().is_ok());
    /// ```
    ///
    /// # Errors
    ///
    /// [`WebhookError::NoSender`] when both the WhatsApp id and the user id are empty.
    pub fn build(self) -> Result<InboundMessage, WebhookError> {
        if self.waid.is_empty() && self.user_id.is_empty() {
            return Err(WebhookError::NoSender);
        }
        let q = |s: &str| json_string(s);
        let embedded = |field: &'static str, value: Result<String, serde_json::Error>| {
            value.map_err(|e| WebhookError::InvalidEmbeddedJson {
                field,
                expected: "serializable JSON",
                reason: e.to_string(),
            })
        };
        let ts = format_timestamp(self.timestamp.unwrap_or_else(OffsetDateTime::now_utc));
        let event = if self.postback.is_some() {
            "postback"
        } else {
            "MO"
        };
        let mut members = vec![("userId", q(&self.user_id))];
        // Only when set, so messages built without one keep the FAQ samples' exact shape.
        if !self.username.is_empty() {
            members.push(("username", q(&self.username)));
        }
        members.extend([
            ("channel", q("WhatsApp")),
            ("appId", q(&self.app_id)),
            ("event", q(event)),
            ("waid", q(&self.waid)),
        ]);
        if let Some((text, payload)) = &self.postback {
            members.push(("buttonText", q(text)));
            members.push(("buttonPayload", q(payload)));
        } else {
            let attachments = embedded("attachments", serde_json::to_string(&self.attachments))?;
            let location = match &self.location {
                Some(l) => embedded("location", serde_json::to_string(l))?,
                None => String::new(),
            };
            members.push(("message", q(&self.text)));
            members.push(("attachments", q(&attachments)));
            members.push(("system", q("")));
            members.push(("location", q(&location)));
        }
        if let Some(transid) = &self.transaction_id {
            members.push(("transid", q(transid)));
        }
        members.push(("ts", q(&ts)));
        members.push(("tid", q(&self.tid)));
        let raw = ordered_object(&members);
        InboundMessage::from_slice(raw.as_bytes())
    }
}
