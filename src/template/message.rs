//! Template messages. (STUB: replaced by the templates work.)

use serde::{Deserialize, Serialize};

use super::TemplateId;

/// A template message: the `message` object of a send request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemplateMessage {
    template: TemplateId,
    parameters: serde_json::Map<String, serde_json::Value>,
}

impl TemplateMessage {
    /// The template id.
    pub fn template_id(&self) -> &TemplateId {
        &self.template
    }
}
