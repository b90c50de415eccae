//! Template messages. (in progress)

use serde::{Deserialize, Serialize};

use super::TemplateId;

/// A template message: the `message` object of a send request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemplateMessage {
    template: TemplateId,
    parameters: serde_json::Map<String, serde_json::Value>,
}

/// x
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("x")]
pub struct TemplateMessageError;
/// x
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateParameter;

impl TemplateMessage {
    /// The template id.
    pub fn template_id(&self) -> &TemplateId {
        &self.template
    }
}
