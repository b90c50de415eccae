//! Length-checked text. (STUB: replaced by the messages work.)

use serde::{Deserialize, Serialize};

/// The body of a text message: 1 to 4096 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MessageText(String);
