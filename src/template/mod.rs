//! Message templates: names, categories, ids, definitions and the template message you send.
//!
//! - [`TemplateName`]: the name you register (`order_update`), with WhatsApp's naming rules.
//! - [`TemplateCategory`], [`TemplateStatus`]: open enums read from and written to the platform.
//! - [`TemplateId`]: the id Webex Connect gives an approved template; sends carry it.
//! - [`definition::TemplateDefinition`]: header, body, footer and buttons, with their limits and
//!   the placeholder rules, for checking before you submit and for checking sends against.
//! - [`message::TemplateMessage`]: the `message` object of a send request.
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

pub mod definition;
pub mod message;
pub mod registry;

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::ids::{IdError, IdRule};
use crate::text::checked_text;
use crate::warning::Warning;

pub use definition::{TemplateDefinition, TemplateDefinitionError};
pub use message::{TemplateMessage, TemplateMessageError, TemplateParameter};
pub use registry::{RegisteredTemplate, RegistryError, TemplateRegistry};

checked_text! {
    /// A template name as registered with WhatsApp: lowercase ASCII letters, digits and `_`,
    /// 1 to 512 characters.
    ///
    /// ```
    /// use webex_connect_whatsapp::ids::IdError;
    /// use webex_connect_whatsapp::TemplateName;
    ///
    /// let name = TemplateName::new("order_update")?;
    /// assert_eq!(name.as_str(), "order_update");
    /// let err = TemplateName::new("Order-Update").unwrap_err();
    /// assert!(matches!(err, IdError::InvalidCharacter { position: 0, found: 'O', .. }));
    /// # Ok::<(), IdError>(())
    /// ```
    #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
    pub struct TemplateName("template name"): IdError;

    /// The longest name WhatsApp accepts, in characters.
    pub const MAX_CHARS: usize = 512;

    /// Checks and wraps a template name; an invalid character is reported with its position,
    /// counted from 0.
    rules = [
        IdRule::Chars("lowercase ASCII letters, digits and '_'", |c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'
        }),
        IdRule::MaxChars(Self::MAX_CHARS),
    ];
}

/// Words that say nothing about what a template is for.
const GENERIC_NAME_WORDS: &[&str] = &[
    "message",
    "msg",
    "template",
    "tmpl",
    "tpl",
    "test",
    "testing",
    "temp",
    "tmp",
    "hsm",
    "new",
    "untitled",
    "sample",
    "demo",
    "example",
    "notification",
    "text",
];

impl TemplateName {
    /// Advice that does not block the name: WhatsApp asks for descriptive names and reviewers
    /// reject random ones like `message_124a` (rule `template_name.descriptive`).
    ///
    /// A name counts as descriptive when one of its `_`-separated words has at least three
    /// letters, no digits, and is not a generic word such as `message`, `template` or `test`.
    ///
    /// ```
    /// use webex_connect_whatsapp::TemplateName;
    /// assert!(TemplateName::new("shipping_confirmation_v2")?.warnings().is_empty());
    /// let w = TemplateName::new("message_124a")?.warnings();
    /// assert_eq!(w[0].rule(), "template_name.descriptive");
    /// # Ok::<(), webex_connect_whatsapp::ids::IdError>(())
    /// ```
    pub fn warnings(&self) -> Vec<Warning> {
        let descriptive = self.0.split('_').any(|word| {
            word.len() >= 3
                && word.bytes().all(|b| b.is_ascii_lowercase())
                && !GENERIC_NAME_WORDS.contains(&word)
        });
        if descriptive {
            Vec::new()
        } else {
            vec![Warning::new(
                "template_name.descriptive",
                format!(
                    "template name `{}` is not descriptive; WhatsApp reviewers prefer names that say what the template is for, such as `order_shipped`",
                    self.0
                ),
            )]
        }
    }
}

checked_text! {
    /// The id Webex Connect gives a registered template (Tools → Templates), e.g. `5139722425xxxxx`.
    ///
    /// Sends carry this id, not the template's name; an unknown id fails with 7108.
    #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
    example = "5139722425xxxxx", refused = "513 972";
    pub struct TemplateId("template id"): IdError;

    /// The longest id accepted. Real ids are about 15 characters; the cap only stops garbage.
    pub const MAX_CHARS: usize = 256;

    /// Checks and wraps a template id: 1 to [`TemplateId::MAX_CHARS`] characters, no
    /// whitespace or control characters.
    rules = [
        IdRule::Chars("printable characters other than whitespace", |c| {
            !(c.is_whitespace() || c.is_control())
        }),
        IdRule::MaxChars(Self::MAX_CHARS),
    ];
}

/// Normalizes a wire or human spelling: `"account update"` and `"Account-Update"` become
/// `ACCOUNT_UPDATE`.
fn normalize_wire(value: &str) -> String {
    value
        .trim()
        .chars()
        .map(|c| match c {
            ' ' | '-' => '_',
            c => c.to_ascii_uppercase(),
        })
        .collect()
}

/// Declares an open wire enum: known values by name, anything else kept in `Unknown`.
macro_rules! open_wire_enum {
    (
        $(#[$meta:meta])*
        $name:ident { $( $(#[$vmeta:meta])* $variant:ident = $wire:literal, )+ }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this crate does not know, kept exactly as received.
            Unknown(String),
        }

        impl $name {
            /// Every known value, in declaration order.
            pub const KNOWN: &'static [Self] = &[$(Self::$variant),+];

            /// Reads a value; the wire form (`ACCOUNT_UPDATE`) and the spaced, any-case form
            /// (`account update`) are both accepted. Never fails: anything else is kept in
            /// `Unknown` as given.
            pub fn parse(value: &str) -> Self {
                match normalize_wire(value).as_str() {
                    $( $wire => Self::$variant, )+
                    _ => Self::Unknown(value.to_owned()),
                }
            }

            /// The wire form, e.g. `ACCOUNT_UPDATE`.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $wire, )+
                    Self::Unknown(raw) => raw,
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::convert::Infallible;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Ok(Self::parse(s))
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self::parse(value)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(deserializer)?;
                Ok(Self::parse(&raw))
            }
        }
    };
}

open_wire_enum! {
    /// A template category. Meta's current three are [`Marketing`](Self::Marketing),
    /// [`Utility`](Self::Utility) and [`Authentication`](Self::Authentication); the others are
    /// legacy (the FAQ's nine, plus `TRANSPORTATION_UPDATE` and `AUTO_REPLY`), which Meta still
    /// reports as a template's previous category.
    ///
    /// ```
    /// use webex_connect_whatsapp::TemplateCategory;
    /// assert_eq!(TemplateCategory::parse("UTILITY"), TemplateCategory::Utility);
    /// assert_eq!(TemplateCategory::parse("shipping update").as_str(), "SHIPPING_UPDATE");
    /// assert_eq!(TemplateCategory::parse("NEW_ONE"), TemplateCategory::Unknown("NEW_ONE".into()));
    /// assert!(!TemplateCategory::Marketing.is_legacy());
    /// ```
    TemplateCategory {
        /// `MARKETING`: promotions, offers, announcements.
        Marketing = "MARKETING",
        /// `UTILITY`: updates about a transaction or account the customer started.
        Utility = "UTILITY",
        /// `AUTHENTICATION`: one-time passcodes.
        Authentication = "AUTHENTICATION",
        /// Legacy `ACCOUNT_UPDATE`.
        AccountUpdate = "ACCOUNT_UPDATE",
        /// Legacy `ALERT_UPDATE`.
        AlertUpdate = "ALERT_UPDATE",
        /// Legacy `APPOINTMENT_UPDATE`.
        AppointmentUpdate = "APPOINTMENT_UPDATE",
        /// Legacy `ISSUE_RESOLUTION`.
        IssueResolution = "ISSUE_RESOLUTION",
        /// Legacy `PAYMENT_UPDATE`.
        PaymentUpdate = "PAYMENT_UPDATE",
        /// Legacy `PERSONAL_FINANCE_UPDATE`.
        PersonalFinanceUpdate = "PERSONAL_FINANCE_UPDATE",
        /// Legacy `RESERVATION_UPDATE`.
        ReservationUpdate = "RESERVATION_UPDATE",
        /// Legacy `SHIPPING_UPDATE`.
        ShippingUpdate = "SHIPPING_UPDATE",
        /// Legacy `TICKET_UPDATE`.
        TicketUpdate = "TICKET_UPDATE",
        /// Legacy `TRANSPORTATION_UPDATE`.
        TransportationUpdate = "TRANSPORTATION_UPDATE",
        /// Legacy `AUTO_REPLY`.
        AutoReply = "AUTO_REPLY",
    }
}

impl TemplateCategory {
    /// Whether this is one of the legacy categories Meta replaced with marketing, utility and
    /// authentication. Unknown values are not legacy.
    pub fn is_legacy(&self) -> bool {
        !matches!(
            self,
            Self::Marketing | Self::Utility | Self::Authentication | Self::Unknown(_)
        )
    }
}

open_wire_enum! {
    /// The review status of a template, as Meta reports it.
    ///
    /// ```
    /// use webex_connect_whatsapp::template::TemplateStatus;
    /// assert_eq!(TemplateStatus::parse("APPROVED"), TemplateStatus::Approved);
    /// assert!(TemplateStatus::parse("in appeal") == TemplateStatus::InAppeal);
    /// assert_eq!(TemplateStatus::parse("SOMETHING").as_str(), "SOMETHING");
    /// ```
    TemplateStatus {
        /// `APPROVED`: can be sent.
        Approved = "APPROVED",
        /// `PENDING`: in review.
        Pending = "PENDING",
        /// `REJECTED`: refused at review.
        Rejected = "REJECTED",
        /// `PAUSED`: paused for low quality.
        Paused = "PAUSED",
        /// `DISABLED`: disabled for low quality.
        Disabled = "DISABLED",
        /// `IN_APPEAL`: a rejection is being appealed.
        InAppeal = "IN_APPEAL",
        /// `PENDING_DELETION`: being deleted.
        PendingDeletion = "PENDING_DELETION",
        /// `DELETED`.
        Deleted = "DELETED",
        /// `FLAGGED`: quality is low; it may be paused.
        Flagged = "FLAGGED",
        /// `REINSTATED`: back after a pause.
        Reinstated = "REINSTATED",
        /// `LIMIT_EXCEEDED`: the account has too many templates.
        LimitExceeded = "LIMIT_EXCEEDED",
        /// `ARCHIVED`.
        Archived = "ARCHIVED",
        /// `LOCKED`: cannot be edited.
        Locked = "LOCKED",
    }
}

impl TemplateStatus {
    /// Whether a template in this status can be sent.
    pub fn is_sendable(&self) -> bool {
        matches!(self, Self::Approved | Self::Reinstated | Self::Flagged)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::IdError;

    #[test]
    fn name_rules() {
        assert!(TemplateName::new("a").is_ok());
        assert!(TemplateName::new("a".repeat(512)).is_ok());
        assert!(matches!(
            TemplateName::new("a".repeat(513)),
            Err(IdError::TooLong { actual: 513, .. })
        ));
        assert!(matches!(
            TemplateName::new("order update"),
            Err(IdError::InvalidCharacter {
                position: 5,
                found: ' ',
                ..
            })
        ));
        assert!(matches!(
            TemplateName::new("ordér"),
            Err(IdError::InvalidCharacter {
                position: 3,
                found: 'é',
                ..
            })
        ));
        assert!(matches!(TemplateName::new(""), Err(IdError::Empty { .. })));
    }

    #[test]
    fn descriptive_names() {
        for bad in [
            "message_124a",
            "a1",
            "tmp_2",
            "test",
            "x_y_z",
            "template_01",
        ] {
            assert_eq!(TemplateName::new(bad).unwrap().warnings().len(), 1, "{bad}");
        }
        for good in ["order_update", "otp_code", "welcome", "refund_issued_v2"] {
            assert!(
                TemplateName::new(good).unwrap().warnings().is_empty(),
                "{good}"
            );
        }
    }

    #[test]
    fn categories_parse_every_spelling() {
        for faq in [
            "account update",
            "alert update",
            "appointment update",
            "issue resolution",
            "payment update",
            "personal finance update",
            "reservation update",
            "shipping update",
            "ticket update",
        ] {
            let c = TemplateCategory::parse(faq);
            assert!(c.is_legacy(), "{faq}");
            assert_eq!(c.as_str(), faq.to_uppercase().replace(' ', "_"));
        }
        assert_eq!(
            serde_json::to_string(&TemplateCategory::PersonalFinanceUpdate).unwrap(),
            "\"PERSONAL_FINANCE_UPDATE\""
        );
        let c: TemplateCategory = serde_json::from_str("\"marketing\"").unwrap();
        assert_eq!(c, TemplateCategory::Marketing);
        let u: TemplateCategory = serde_json::from_str("\"Brand New\"").unwrap();
        assert_eq!(u, TemplateCategory::Unknown("Brand New".into()));
        assert_eq!(serde_json::to_string(&u).unwrap(), "\"Brand New\"");
        assert_eq!(TemplateCategory::KNOWN.len(), 14);
    }

    #[test]
    fn template_id_rules() {
        assert!(TemplateId::new("5139722425xxxxx").is_ok());
        assert!(matches!(TemplateId::new(""), Err(IdError::Empty { .. })));
        assert!(matches!(
            TemplateId::new("ab\tc"),
            Err(IdError::InvalidCharacter { position: 2, .. })
        ));
        assert!(serde_json::from_str::<TemplateId>("\" x\"").is_err());
    }
}
