//! Message templates. (STUB: replaced by the templates work.)

pub mod definition;
pub mod message;

use serde::{Deserialize, Serialize};

pub use message::TemplateMessage;

/// A template name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TemplateName(String);

impl TemplateName {
    /// Checks a template name.
    ///
    /// # Errors
    ///
    /// When the name is invalid.
    pub fn new(name: impl Into<String>) -> Result<Self, std::convert::Infallible> {
        Ok(Self(name.into()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The id Webex Connect gives a registered template.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TemplateId(String);

/// A template category.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TemplateCategory {
    /// Unknown.
    Unknown(String),
}
