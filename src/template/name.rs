//! What a template is called: the name you register with WhatsApp ([`TemplateName`], with its
//! naming rules) and the id Webex Connect gives the approved template ([`TemplateId`]), which
//! sends carry.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ids::{IdError, IdRule};
use crate::text::checked_text;
use crate::warning::Warning;

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
    ///
    /// ```
    /// use webex_connect_whatsapp::template::TemplateId;
    /// let id = TemplateId::new("5139722425xxxxx")?;
    /// assert_eq!(id.as_str(), "5139722425xxxxx");
    /// assert!(TemplateId::new("513 972").is_err());
    /// # Ok::<(), webex_connect_whatsapp::ids::IdError>(())
    /// ```
    #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
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
