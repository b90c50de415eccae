//! How Meta classifies and reviews a template: [`TemplateCategory`] and [`TemplateStatus`],
//! open enums read from and written to the platform, an unknown value kept as received.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

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
}
