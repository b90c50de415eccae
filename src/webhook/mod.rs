//! Webhook parsing. (STUB: replaced by the webhook work.)
