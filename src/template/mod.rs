//! Message templates: names, categories, ids, definitions and the template message you send.
//!
//! - [`TemplateName`]: the name you register (`order_update`), with WhatsApp's naming rules.
//! - [`TemplateCategory`], [`TemplateStatus`]: open enums read from and written to the platform.
//! - [`TemplateId`]: the id Webex Connect gives an approved template; sends carry it.
//! - [`TemplateDefinition`]: header, body, footer and buttons, with their limits and the
//!   placeholder rules, for checking before you submit and for checking sends against.
//! - [`TemplateMessage`]: the `message` object of a send request.
//! - [`TemplateRegistry`]: the approved templates you send, checked against their definitions.
//!
//! ```
//! use webex_connect_whatsapp::template::{TemplateCategory, TemplateId, TemplateName};
//!
//! let name = TemplateName::new("order_update")?;
//! assert!(name.warnings().is_empty());
//! assert_eq!(TemplateName::new("message_124a")?.warnings().len(), 1);
//!
//! let category: TemplateCategory = "account update".parse()?;
//! assert_eq!(category, TemplateCategory::AccountUpdate);
//! assert!(category.is_legacy());
//!
//! let id = TemplateId::new("5139722425xxxxx")?;
//! assert_eq!(id.as_str(), "5139722425xxxxx");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Definitions
//!
//! Template definitions: what you submit for review (header, body, footer, buttons) and what a
//! send is checked against.
//!
//! A [`TemplateDefinition`] can only exist if it satisfies the limits WhatsApp enforces (see
//! the table on [`TemplateDefinitionBuilder::build`]) and its placeholders are well formed.
//! Advice that WhatsApp applies only at human review comes from
//! [`TemplateDefinition::warnings`].
//!
//! ```
//! use webex_connect_whatsapp::template::{TemplateDefinition, TemplatePart};
//! use webex_connect_whatsapp::{TemplateCategory, TemplateName};
//!
//! let def = TemplateDefinition::builder(
//!     TemplateName::new("order_shipped")?,
//!     TemplateCategory::Utility,
//!     "en_US",
//!     "Hi {{1}}, your order {{2}} has shipped.",
//! )
//! .header_text("Order {{1}}")
//! .footer("Reply STOP to opt out")
//! .url_button("Track", "https://example.com/track/{{1}}")
//! .quick_reply("Thanks")
//! .build()?;
//!
//! let names: Vec<(&str, TemplatePart)> =
//!     def.variables().iter().map(|v| (v.name(), v.part())).collect();
//! assert_eq!(
//!     names,
//!     [
//!         ("1", TemplatePart::Header),
//!         ("1", TemplatePart::Body),
//!         ("2", TemplatePart::Body),
//!         ("1", TemplatePart::Button(0)),
//!     ]
//! );
//! assert!(def.warnings().is_empty());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ### Serde shape
//!
//! Definitions serialize to a flat, hand-writable shape (JSON or TOML); reading one runs every
//! check again, so a file cannot smuggle in an invalid definition:
//!
//! ```json
//! {
//!   "name": "order_shipped",
//!   "category": "UTILITY",
//!   "language": "en_US",
//!   "header": {"type": "text", "text": "Order {{1}}"},
//!   "body": "Hi {{1}}, your order {{2}} has shipped.",
//!   "footer": "Reply STOP to opt out",
//!   "buttons": [
//!     {"type": "url", "text": "Track", "url": "https://example.com/track/{{1}}"},
//!     {"type": "quick_reply", "text": "Thanks"},
//!     {"type": "phone_number", "text": "Call us", "phone_number": "+447400123456"},
//!     {"type": "copy_code", "text": "Copy code"}
//!   ]
//! }
//! ```
//!
//! A media header is `{"type": "image"}`, `{"type": "video"}` or `{"type": "document"}`;
//! `header`, `footer` and `buttons` may be left out.
//!
//! ## Template messages
//!
//! The template message you send: the `message` object of a send request,
//! `{"template": "<template id>", "parameters": {...}}`.
//!
//! Parameter keys are the variable names given when the template was created, so they are
//! strings; values are typed (text, date-time, currency, URL suffix, media header, quick
//! replies, OTP) and checked when the message is built.
//!
//! ```
//! use webex_connect_whatsapp::template::TemplateMessage;
//! use webex_connect_whatsapp::TemplateId;
//!
//! let message = TemplateMessage::builder(TemplateId::new("5139722425xxxxx")?)
//!     .text("movie", "joker")
//!     .currency("purchase_value", "USD", 150_000, "EUR 300")
//!     .quick_reply("Button 1", "BUTTON 1 PAYLOAD")
//!     .build()?;
//! assert_eq!(
//!     serde_json::to_string(&message)?,
//!     r#"{"template":"5139722425xxxxx","parameters":{"movie":"joker","purchase_value":{"type":"currency","currency_code":"USD","amount_1000":"150000","fallback_value":"EUR 300"},"quickReply":[{"button_text":"Button 1","payload":"BUTTON 1 PAYLOAD"}]}}"#
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Reading a message back (as the sandbox does with incoming requests) runs the same checks on
//! the parameter types it knows; a value of another shape is kept as raw JSON in
//! [`TemplateParameter::Unknown`].
//!
//! ## The registry
//!
//! The template registry: your approved templates, by Webex Connect template id, so every
//! template send is checked against its definition before any request is made.
//!
//! A send whose parameters do not match the template fails minutes later with a `7804`
//! receipt ("template param count mismatch") or one of its siblings (7808, 7816...).
//! [`TemplateRegistry::check`] catches those mistakes first: the template id is known, every
//! variable has a value, no extra value is sent, each value has the right type and length, and
//! the media header kind matches. Errors name the template, the parameter and the rule.
//!
//! ```
//! use webex_connect_whatsapp::template::TemplateDefinition;
//! use webex_connect_whatsapp::template::{RegistryError, TemplateRegistry};
//! use webex_connect_whatsapp::{TemplateCategory, TemplateId, TemplateMessage, TemplateName};
//!
//! let mut registry = TemplateRegistry::new();
//! let definition = TemplateDefinition::builder(
//!     TemplateName::new("order_shipped")?,
//!     TemplateCategory::Utility,
//!     "en_US",
//!     "Hi {{1}}, your order {{2}} has shipped.",
//! )
//! .build()?;
//! registry.register(TemplateId::new("5139722425xxxxx")?, definition)?;
//! assert!(registry.warnings().is_empty());
//!
//! let ok = TemplateMessage::builder(TemplateId::new("5139722425xxxxx")?)
//!     .text("1", "Ana")
//!     .text("2", "A-1042")
//!     .build()?;
//! registry.check(&ok)?;
//!
//! let missing = TemplateMessage::builder(TemplateId::new("5139722425xxxxx")?)
//!     .text("1", "Ana")
//!     .build()?;
//! let err = registry.check(&missing).unwrap_err();
//! assert!(matches!(err, RegistryError::MissingParameter { ref key, .. } if key == "2"));
//! assert_eq!(
//!     err.to_string(),
//!     "template order_shipped (5139722425xxxxx) needs a value for body variable \"2\", but the message has none"
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ### Parameter keys
//!
//! Webex Connect names each parameter by the variable's name given at template creation, so by
//! default a variable `{{1}}` is sent under key `"1"` and `{{first_name}}` under
//! `"first_name"`. A header and a body variable with the same name share one key (its value
//! must then fit the header's 60 characters). The other keys are fixed: `image`, `video` or
//! `document` for a media header, [`QUICK_REPLY_KEY`] (`quickReply`) for quick-reply payloads
//! and [`OTP_KEY`] (`otp`) for the code of a copy-code button. When your template was created
//! with other names (the FAQ's `headerText`, `ctaVariable`), map them with
//! [`RegisteredTemplate::with_key`] or the file's `keys` table.
//!
//! ### File format
//!
//! [`TemplateRegistry::from_json_str`] and [`TemplateRegistry::from_json_file`] read a file
//! kept beside your app; each `definition` has the shape described in
//! [definitions](#definitions), and `keys` is optional:
//!
//! ```json
//! {
//!   "templates": [
//!     {
//!       "id": "5139722425xxxxx",
//!       "keys": {"header.1": "headerText", "button.0.1": "ctaVariable"},
//!       "definition": {
//!         "name": "order_shipped",
//!         "category": "UTILITY",
//!         "language": "en_US",
//!         "header": {"type": "text", "text": "Order {{1}}"},
//!         "body": "Hi {{1}}, your order {{2}} has shipped.",
//!         "buttons": [{"type": "url", "text": "Track", "url": "https://example.com/t/{{1}}"}]
//!       }
//!     }
//!   ]
//! }
//! ```
//!
//! A key's left side names the variable: `header.<name>`, `body.<name>` or
//! `button.<index>.<name>` (buttons counted from 0 in definition order).

mod category;
mod definition;
mod message;
mod name;
mod registry;

pub use category::{TemplateCategory, TemplateStatus};
pub use definition::{
    Placeholder, PlaceholderStyle, TemplateButton, TemplateDefinition, TemplateDefinitionBuilder,
    TemplateDefinitionError, TemplateHeader, TemplatePart, Variable, parse_placeholders,
};
pub use message::{
    QUICK_REPLY_KEY, QuickReply, TemplateMessage, TemplateMessageBuilder, TemplateMessageError,
    TemplateParameter,
};
pub use name::{TemplateId, TemplateName};
pub use registry::{OTP_KEY, RegisteredTemplate, RegistryError, TemplateRegistry};
