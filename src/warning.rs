//! Advice that is not an error: where the sources disagree, or where WhatsApp rejects only at
//! human review (a non-descriptive template name, a legacy category, an About text longer than
//! WhatsApp shows). Validators return these beside an `Ok` value; you decide what to do.

use std::fmt;

/// One piece of advice from a validator.
///
/// ```
/// use webex_connect_whatsapp::warning::Warning;
/// let w = Warning::new("template_name.descriptive", "name `message_124a` is not descriptive");
/// assert_eq!(w.rule(), "template_name.descriptive");
/// assert_eq!(w.to_string(), "name `message_124a` is not descriptive");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Warning {
    rule: &'static str,
    message: String,
}

impl Warning {
    /// A warning for `rule` (a stable, dotted identifier) with a human-readable message.
    pub fn new(rule: &'static str, message: impl Into<String>) -> Self {
        Self {
            rule,
            message: message.into(),
        }
    }

    /// The stable identifier of the rule, e.g. `template_category.legacy`.
    pub fn rule(&self) -> &'static str {
        self.rule
    }

    /// What was found and what WhatsApp prefers.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}
