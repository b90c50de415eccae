//! Session messages. (STUB: replaced by the messages work.)

use serde::{Deserialize, Serialize};

/// A message sent inside the 24-hour customer service window (`channels.OTT-Messaging.wa`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
#[non_exhaustive]
pub enum SessionMessage {
    /// A text message.
    Text {
        /// The text.
        text: serde_json::Value,
    },
}
