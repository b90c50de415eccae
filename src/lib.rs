//! # webex-connect-whatsapp
//!
//! Typed models, validators and webhook parsing for WhatsApp Business messaging through
//! [Cisco Webex Connect](https://developers.webexconnect.io/reference/whatsapp-apis), plus an
//! async send client that never sends a message twice and an in-process sandbox.
//!
//! Every value is checked when it is built, so a message that exists can be sent: a bad
//! number, an over-long text or a GIF sent as an image is an error before any request.
//!
//! ## A short tour
//!
//! Validate the recipient's number; Webex Connect addresses WhatsApp users by their number
//! without the `+` (the WhatsApp id):
//!
//! ```
//! use webex_connect_whatsapp::PhoneNumber;
//!
//! let to = PhoneNumber::parse("+44 7400 123456")?;
//! assert_eq!(to.e164(), "+447400123456");
//! assert_eq!(to.waid(), "447400123456");
//! assert!(PhoneNumber::parse("+44 123").is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Build a session message, which may be sent inside the 24-hour customer service window:
//!
//! ```
//! use webex_connect_whatsapp::{MediaUrl, SessionMessage};
//!
//! let text = SessionMessage::text("Your order has shipped")?;
//! let receipt = SessionMessage::image(MediaUrl::new("https://cdn.example.com/r.png")?, "image/png")
//!     .caption("Your receipt")
//!     .build()?;
//! assert_eq!(
//!     serde_json::to_string(&receipt)?,
//!     r#"{"type":"image","image":{"url":"https://cdn.example.com/r.png","mimeType":"image/png","caption":"Your receipt"}}"#
//! );
//! // Only JPEG and PNG images are taken.
//! let gif = MediaUrl::new("https://cdn.example.com/r.gif")?;
//! assert!(SessionMessage::image(gif, "image/gif").build().is_err());
//! # let _ = text;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Outside the window, send an approved template, filling in its variables:
//!
//! ```
//! use webex_connect_whatsapp::{TemplateId, TemplateMessage};
//!
//! let message = TemplateMessage::builder(TemplateId::new("5139722425xxxxx")?)
//!     .text("order", "A-1042")
//!     .quick_reply("Track", "TRACK_A1042")
//!     .build()?;
//! assert_eq!(
//!     serde_json::to_string(&message)?,
//!     r#"{"template":"5139722425xxxxx","parameters":{"order":"A-1042","quickReply":[{"button_text":"Track","payload":"TRACK_A1042"}]}}"#
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Address either kind of message in a [`SendRequest`], the exact JSON of
//! `POST /resources/v1/messaging`:
//!
//! ```
//! use webex_connect_whatsapp::{AppId, CorrelationId, PhoneNumber, SendRequest, SessionMessage};
//!
//! let request = SendRequest::builder(
//!     AppId::new("a_155054536910425280")?,
//!     SessionMessage::text("Your order has shipped")?,
//! )
//! .to(&PhoneNumber::parse("+91 99000 12345")?)
//! .correlation_id(CorrelationId::new("order-1042")?)
//! .build()?;
//! let json = serde_json::to_value(&request)?;
//! assert_eq!(json["deliverychannel"], "whatsapp");
//! assert_eq!(json["destination"][0]["waid"][0], "919900012345");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! With the `client` feature, `client::Client` builds such a request and sends it
//! (`client.send(&to, message).await`), retrying only what was certainly not queued; with
//! `sandbox`, `sandbox::Sandbox` answers like Webex Connect on a local port.
//!
//! ## Where things live
//!
//! Each concept has one home, and the modules depend on each other in one direction only:
//! values, then messages, then webhooks, then conversation state, then the client and the
//! receiver, then the guard and the sandbox. Nothing in [`conversation`] sends anything.
//!
//! | module | what it holds |
//! |---|---|
//! | [`phone`], [`recipient`] | who a message goes to: a phone number or a business-scoped user id |
//! | [`ids`], [`text`], [`media`] | the platform's ids, texts and captions counted in characters, media kinds, MIME types and URLs |
//! | [`limits`] | every limit the validators enforce (phone digits, destinations, buttons, media sizes, profile fields), each with its source |
//! | [`profile`] | the business profile, its image, display name and email |
//! | [`session`] | session messages, one file per kind: text, media, location, contact, interactive |
//! | [`template`] | template names, definitions, template messages and the template registry |
//! | [`send`] | the send request (`POST /resources/v1/messaging`), its options and its response |
//! | [`webhook`] | what Webex Connect posts to you: delivery receipts, inbound messages, link clicks, signatures |
//! | [`conversation`] | state, no HTTP: the clock, session windows, opt-ins, dedupe, delivery tracking and follow-up, and their stores (memory or Redis) |
//! | [`warning`] | advice that does not stop a send; a value that may carry some has `warnings()` |
//! | `client` (feature `client`) | the async send client: transport, retries, rate limits, bulk sends and personalised batches |
//! | [`receiver`] | a webhook receiver: signature check, parsing, dedupe, and an axum router (feature `axum`) |
//! | `guard` (feature `client`) | a client that checks windows, opt-ins and templates before it sends |
//! | `sandbox` (feature `sandbox`) | an in-process imitation of Webex Connect |
//!
//! **What the crate root holds.** The root re-exports the values and messages a program builds
//! to send a message: numbers, user ids, platform ids, texts, media kinds and URLs, the
//! business profile, session messages, templates (names, ids, categories, definitions and
//! messages), the send request and its response, and the `Client`.
//! Everything else (errors, options, limits, webhook events, state and stores) is not at the
//! root: reach it through the module that owns it.
//!
//! **Builders.** A type that needs several settings has a `…Builder`; its `build()` returns a
//! `Result` only when a setting can be refused, and each builder's documentation says which.
//! [`session::LocationBuilder`], [`session::MediaMessageBuilder`],
//! [`template::TemplateMessageBuilder`], [`send::SendRequestBuilder`],
//! [`receiver::ReceiverBuilder`] and `ClientBuilder` can fail; [`webhook::DeliveryReceiptBuilder`]
//! and the guard's builder cannot.
//!
//! ## Guides
//!
//! The [`guide`] module holds the longer documents: [going to production](guide::production),
//! [webhooks behind a proxy or load balancer](guide::webhooks_behind_a_proxy),
//! [observability](guide::observability), [reconciling unknown outcomes](guide::reconciliation)
//! and [several instances on Redis](guide::redis).
//!
//! ## Optional features
//!
//! - `client` (default): the async send client, bulk sends, personalised batches and the
//!   guard, on reqwest and tokio.
//! - `rustls` (default): TLS through rustls. `native-tls`: the platform's TLS instead (turn
//!   the defaults off: `default-features = false, features = ["client", "native-tls"]`).
//! - `sandbox`: a local imitation of Webex Connect for offline examples and tests (brings
//!   `client` and `axum`).
//! - `axum`: the webhook receiver as an axum router.
//! - `redis`: Redis-backed stores for session windows, opt-ins and duplicate suppression,
//!   and a rate limit shared across processes.
//! - `toml`: template registry files in TOML as well as JSON.
//! - `legacy-sha1`: accept legacy HMAC-SHA1 webhook signatures when asked to
//!   (`allow_legacy_sha1`); without it a SHA-1 signature is always refused.
//!
//! With `default-features = false` only the models, validators, webhook parsing and
//! signature checks are built.
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "client")]
pub mod client;
pub mod conversation;
mod conversions;
mod error_text;
#[cfg(feature = "client")]
#[cfg_attr(docsrs, doc(cfg(feature = "client")))]
pub mod guard;
pub mod guide;
pub mod ids;
pub mod limits;
mod lossless;
pub mod media;
pub mod phone;
pub mod profile;
pub mod receiver;
pub mod recipient;
#[cfg(feature = "sandbox")]
#[cfg_attr(docsrs, doc(cfg(feature = "sandbox")))]
pub mod sandbox;
pub mod send;
pub mod session;
mod setters;
pub mod template;
pub mod text;
mod url;
pub mod warning;
pub mod webhook;

#[cfg(feature = "client")]
#[cfg_attr(docsrs, doc(cfg(feature = "client")))]
pub use client::Client;
pub use ids::{AppId, CallbackData, CorrelationId, TransactionId};
pub use media::{MediaKind, MediaUrl};
pub use phone::PhoneNumber;
pub use profile::{BusinessProfile, DisplayName};
pub use recipient::{Bsuid, Recipient};
pub use send::{SendRequest, SendResponse};
pub use session::SessionMessage;
pub use template::{
    TemplateCategory, TemplateDefinition, TemplateId, TemplateMessage, TemplateName,
};
pub use text::{Caption, MessageText};

/// The README's examples, compiled and run as doctests.
#[cfg(all(doctest, feature = "sandbox"))]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
