//! # webex-connect-whatsapp
//!
//! Typed models, validators and webhook parsing for WhatsApp Business messaging through
//! [Cisco Webex Connect](https://developers.webexconnect.io/reference/whatsapp-apis), plus an
//! async send client that never sends a message twice and an in-process sandbox.
//!
//! ```
//! use webex_connect_whatsapp::{PhoneNumber, TemplateName};
//!
//! let to = PhoneNumber::parse("+44 7400 123456")?;
//! assert_eq!(to.e164(), "+447400123456");
//! assert_eq!(to.waid(), "447400123456");
//! let name = TemplateName::new("order_update")?;
//! assert_eq!(name.as_str(), "order_update");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Optional features
//!
//! - `client` (default): the async send client, on reqwest and tokio.
//! - `rustls` (default): TLS through rustls. `native-tls`: the platform's TLS instead.
//! - `sandbox`: a local imitation of Webex Connect for offline examples and tests.
//! - `axum`: a webhook receiver for axum.
//! - `redis`: Redis-backed stores for multi-instance deployments.
//!
//! With `default-features = false` only the models, validators and webhook parsing are built.
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "client")]
pub mod client;
pub mod dedupe;
pub mod ids;
pub mod media;
pub mod optin;
pub mod phone;
pub mod profile;
pub mod receiver;
#[cfg(feature = "sandbox")]
#[cfg_attr(docsrs, doc(cfg(feature = "sandbox")))]
pub mod sandbox;
pub mod send;
pub mod session;
pub mod store;
pub mod template;
pub mod text;
pub mod warning;
pub mod webhook;
pub mod window;

pub use ids::{AppId, CallbackData, CorrelationId, TransactionId};
pub use phone::{PhoneNumber, PhoneNumberError};
pub use send::{SendRequest, SendResponse};
pub use session::SessionMessage;
pub use template::{TemplateCategory, TemplateId, TemplateMessage, TemplateName};
pub use text::MessageText;
pub use window::{SessionWindows, WindowStatus};

/// The README's examples, compiled and run as doctests.
#[cfg(all(doctest, feature = "sandbox"))]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
