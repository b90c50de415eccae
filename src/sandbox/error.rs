//! [`SandboxError`]: why the sandbox could not start or do what was asked.

/// Why the sandbox could not start or do what was asked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SandboxError {
    /// No port could be bound on 127.0.0.1.
    #[error("could not listen on 127.0.0.1: {0}")]
    Bind(#[source] std::io::Error),
    /// The HTTP client that posts webhooks could not be built.
    #[error("could not build the webhook HTTP client: {0}")]
    HttpClient(#[source] reqwest::Error),
    /// The service secret given to the builder is not base64.
    #[error("the service secret is not valid base64; Webex Connect shows it base64-encoded")]
    InvalidServiceSecret,
    /// A customer's WhatsApp id was empty or held characters other than digits.
    #[error(
        "waid {masked:?} is not a WhatsApp id; use the digits of the number, like \
         919900012345 (a username user has no waid: build it with SandboxUser::by_username and \
         send with inbound_text_from)"
    )]
    InvalidWaid {
        /// The value, masked but for its last four characters.
        masked: String,
    },
    /// An injected inbound message could not be built (a bad MIME type or coordinate).
    #[error("the inbound message is invalid: {reason}")]
    InvalidInbound {
        /// What was wrong and what is allowed.
        reason: String,
    },
    /// The webhook secret given to the builder is empty.
    #[error("the webhook secret is empty; give a non-empty secret or none")]
    EmptyWebhookSecret,
    /// An injected event was not a JSON object (Webex Connect posts only objects).
    #[error("the event to inject is {found}, but it must be a JSON object")]
    InvalidEvent {
        /// What it was instead: `an array`, `a string`, ...
        found: &'static str,
    },
    /// An event was to be posted, but no inbound URL is set; set one with
    /// [`SandboxBuilder::inbound_url`](super::SandboxBuilder::inbound_url) or
    /// [`Sandbox::set_inbound_url`](super::Sandbox::set_inbound_url).
    #[error("no inbound URL is set, so the event has nowhere to go; set one first")]
    NoInboundUrl,
    /// The inbound webhook (a message or an injected event) was not accepted by its receiver,
    /// even after the retries.
    ///
    /// A customer's message still counts: the 24-hour window is open.
    #[error(
        "the inbound webhook was not accepted after {attempts} attempts (last status {status:?})"
    )]
    InboundNotDelivered {
        /// How many times it was posted.
        attempts: u32,
        /// The last HTTP status, `None` if the receiver never answered.
        status: Option<u16>,
    },
}
