//! Contacts messages: 1 to 5 contact cards in the Meta Cloud API shape.

use serde::{Deserialize, Serialize};

use super::{Body, SessionMessage, SessionMessageError, check_count};
use crate::limits::MAX_CONTACTS;

/// A contact card, in the Meta Cloud API shape. `name.formatted_name` plus one other name
/// part is required; the rest is optional.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Contact {
    /// Postal addresses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<ContactAddress>,
    /// Birthday, `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birthday: Option<String>,
    /// Email addresses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub emails: Vec<ContactEmail>,
    /// The name.
    pub name: ContactName,
    /// Organization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<ContactOrg>,
    /// Phone numbers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phones: Vec<ContactPhone>,
    /// Web sites.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub urls: Vec<ContactUrl>,
}

impl Contact {
    /// A contact with only a name.
    pub fn new(name: ContactName) -> Self {
        Self {
            addresses: Vec::new(),
            birthday: None,
            emails: Vec::new(),
            name,
            org: None,
            phones: Vec::new(),
            urls: Vec::new(),
        }
    }

    crate::setters::setters! {
        /// Adds a phone number.
        #[must_use]
        fn phone(self, phone: ContactPhone) => self.phones.push(phone);

        /// Adds an email address.
        #[must_use]
        fn email(self, email: ContactEmail) => self.emails.push(email);

        /// Adds a web site.
        #[must_use]
        fn url(self, url: ContactUrl) => self.urls.push(url);

        /// Adds a postal address.
        #[must_use]
        fn address(self, address: ContactAddress) => self.addresses.push(address);

        /// Sets the organization.
        #[must_use]
        fn org(self, org: ContactOrg) => self.org = Some(org);

        /// Sets the birthday (`YYYY-MM-DD`).
        #[must_use]
        fn birthday(self, birthday: impl Into<String>) => self.birthday = Some(birthday.into());
    }

    fn check(&self, index: usize) -> Result<(), SessionMessageError> {
        let invalid = |reason| SessionMessageError::InvalidContact { index, reason };
        let n = &self.name;
        if n.formatted_name.trim().is_empty() {
            return Err(invalid("name.formatted_name is required"));
        }
        let has_part = [
            &n.first_name,
            &n.last_name,
            &n.middle_name,
            &n.suffix,
            &n.prefix,
        ]
        .iter()
        .any(|p| p.as_deref().is_some_and(|s| !s.trim().is_empty()));
        if !has_part {
            return Err(invalid(
                "the name needs first_name, last_name, middle_name, suffix or prefix besides formatted_name",
            ));
        }
        Ok(())
    }
}

/// A contact's name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ContactName {
    /// The full name as shown (required).
    pub formatted_name: String,
    /// First name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    /// Last name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// Middle name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub middle_name: Option<String>,
    /// Name suffix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suffix: Option<String>,
    /// Name prefix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
}

impl ContactName {
    /// A name with its formatted form; add at least one other part.
    pub fn new(formatted_name: impl Into<String>) -> Self {
        Self {
            formatted_name: formatted_name.into(),
            first_name: None,
            last_name: None,
            middle_name: None,
            suffix: None,
            prefix: None,
        }
    }

    crate::setters::setters! {
        /// Sets the first name.
        #[must_use]
        fn first_name(self, first_name: impl Into<String>) =>
            self.first_name = Some(first_name.into());

        /// Sets the last name.
        #[must_use]
        fn last_name(self, last_name: impl Into<String>) => self.last_name = Some(last_name.into());

        /// Sets the middle name.
        #[must_use]
        fn middle_name(self, middle_name: impl Into<String>) =>
            self.middle_name = Some(middle_name.into());

        /// Sets the suffix.
        #[must_use]
        fn suffix(self, suffix: impl Into<String>) => self.suffix = Some(suffix.into());

        /// Sets the prefix.
        #[must_use]
        fn prefix(self, prefix: impl Into<String>) => self.prefix = Some(prefix.into());
    }
}

/// A contact's phone number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ContactPhone {
    /// The number as shown.
    pub phone: String,
    /// `CELL`, `MAIN`, `IPHONE`, `HOME` or `WORK`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The WhatsApp id, which adds a "Message" button.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wa_id: Option<String>,
}

impl ContactPhone {
    /// A phone number with no type.
    pub fn new(phone: impl Into<String>) -> Self {
        Self {
            phone: phone.into(),
            kind: None,
            wa_id: None,
        }
    }
}

/// A contact's email address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ContactEmail {
    /// The address.
    pub email: String,
    /// `HOME` or `WORK`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

impl ContactEmail {
    /// An email address with no type.
    pub fn new(email: impl Into<String>) -> Self {
        Self {
            email: email.into(),
            kind: None,
        }
    }
}

/// A contact's web site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ContactUrl {
    /// The URL.
    pub url: String,
    /// `HOME` or `WORK`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

impl ContactUrl {
    /// A URL with no type.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            kind: None,
        }
    }
}

/// A contact's postal address; every field is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ContactAddress {
    /// Street and number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street: Option<String>,
    /// City.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// State or province.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Postal code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zip: Option<String>,
    /// Country name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Two-letter country code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country_code: Option<String>,
    /// `HOME` or `WORK`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

/// A contact's organization; every field is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ContactOrg {
    /// Company.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    /// Department.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// Job title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

impl SessionMessage {
    /// A contacts message with 1 to 5 contact cards.
    ///
    /// ```
    /// use webex_connect_whatsapp::SessionMessage;
    /// use webex_connect_whatsapp::session::{Contact, ContactName};
    /// let m = SessionMessage::contacts(vec![Contact::new(
    ///     ContactName::new("Ada Lovelace").first_name("Ada"),
    /// )])?;
    /// assert_eq!(m.as_contacts().len(), 1);
    /// assert!(SessionMessage::contacts(vec![Contact::new(ContactName::new("Ada"))]).is_err());
    /// # Ok::<(), webex_connect_whatsapp::session::SessionMessageError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`SessionMessageError::ContactCount`] for none or more than five,
    /// [`SessionMessageError::InvalidContact`] for a name without `formatted_name` and another
    /// part.
    pub fn contacts(contacts: Vec<Contact>) -> Result<Self, SessionMessageError> {
        check_count(contacts.len(), MAX_CONTACTS, |actual, max| {
            SessionMessageError::ContactCount { actual, max }
        })?;
        for (index, contact) in contacts.iter().enumerate() {
            contact.check(index)?;
        }
        Ok(Self(Body::Contacts(contacts)))
    }

    /// The contact cards of a contacts message (empty for other kinds).
    pub fn as_contacts(&self) -> &[Contact] {
        match &self.0 {
            Body::Contacts(c) => c,
            _ => &[],
        }
    }
}
