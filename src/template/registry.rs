//! The template registry: your approved templates, by Webex Connect template id (see the
//! [module docs](crate::template#the-registry)).

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::limits::{
    MAX_CONSECUTIVE_SPACES, MAX_OTP_CHARS, MAX_QUICK_REPLIES, MAX_TEMPLATE_HEADER_VALUE_CHARS,
    MAX_TEMPLATE_TEXT_VALUE_CHARS, MAX_URL_SUFFIX_CHARS,
};
use crate::media::MediaKind;
use crate::warning::Warning;

use super::definition::{TemplateButton, TemplateDefinition, TemplatePart};
use super::message::{QUICK_REPLY_KEY, TemplateMessage, TemplateParameter};
use super::name::TemplateId;

/// The key under which the code of a copy-code (OTP) button is sent, as in the FAQ's sample.
pub const OTP_KEY: &str = "otp";

/// Why a template (or a template send) was refused by the registry.
///
/// Every variant that concerns a template names it as `name (id)` in its `template` field.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// The message's template id is not registered.
    #[error(
        "template id {id} is not in the registry; register the template (with its definition) before sending it"
    )]
    UnknownTemplate {
        /// The id the message carries.
        id: TemplateId,
    },
    /// A variable of the template has no value in the message (the send would fail with 7804).
    #[error("template {template} needs a value for {slot} {key:?}, but the message has none")]
    MissingParameter {
        /// The template, as `name (id)`.
        template: String,
        /// The parameter key expected.
        key: String,
        /// What the key is for: `body variable`, `header variable`, `URL button variable`,
        /// `quick replies`, `OTP code`, `image header`...
        slot: String,
    },
    /// The message has a parameter the template does not take (the send would fail with 7804).
    #[error(
        "template {template} has no variable {key:?}, but the message sends a value for it; its parameter keys are {expected:?}"
    )]
    ExtraParameter {
        /// The template, as `name (id)`.
        template: String,
        /// The key that is not expected.
        key: String,
        /// The keys the template takes.
        expected: Vec<String>,
    },
    /// A value has a type the variable does not take (e.g. a currency for a URL suffix).
    #[error(
        "template {template}: parameter {key:?} is a {actual} value, but its {slot} takes {expected}"
    )]
    WrongType {
        /// The template, as `name (id)`.
        template: String,
        /// The parameter key.
        key: String,
        /// What the key is for.
        slot: String,
        /// The types allowed.
        expected: &'static str,
        /// The type given ([`TemplateParameter::type_name`]).
        actual: &'static str,
    },
    /// A value is longer than its place allows.
    #[error(
        "template {template}: parameter {key:?} is {actual} characters long, but the max for its {slot} is {max}"
    )]
    TooLong {
        /// The template, as `name (id)`.
        template: String,
        /// The parameter key.
        key: String,
        /// What the key is for.
        slot: String,
        /// Its length in characters.
        actual: usize,
        /// The limit.
        max: usize,
    },
    /// A text value is empty.
    #[error("template {template}: parameter {key:?} is empty, but values must not be")]
    EmptyValue {
        /// The template, as `name (id)`.
        template: String,
        /// The parameter key.
        key: String,
    },
    /// A value holds a character WhatsApp refuses in template values (newline, tab; any
    /// whitespace in an OTP code or URL suffix).
    #[error(
        "template {template}: parameter {key:?} contains {found:?} at character {position}, but template values must not hold newlines or tabs (nor any whitespace in a code or URL suffix)"
    )]
    InvalidCharacter {
        /// The template, as `name (id)`.
        template: String,
        /// The parameter key.
        key: String,
        /// The character.
        found: char,
        /// Its position, counted from 0.
        position: usize,
    },
    /// A text value holds more than four consecutive spaces.
    #[error(
        "template {template}: parameter {key:?} has more than {max} consecutive spaces at character {position}"
    )]
    TooManySpaces {
        /// The template, as `name (id)`.
        template: String,
        /// The parameter key.
        key: String,
        /// Where the run of spaces starts.
        position: usize,
        /// The limit.
        max: usize,
    },
    /// The media header of the message does not match the definition's header.
    #[error(
        "template {template} has {}, but the message sends a {actual} header",
        match .expected { Some(kind) => format!("a {kind} header"), None => "no media header".to_owned() }
    )]
    WrongMedia {
        /// The template, as `name (id)`.
        template: String,
        /// The definition's media header kind, if it has one.
        expected: Option<MediaKind>,
        /// The kind the message sends.
        actual: MediaKind,
    },
    /// More quick replies than the template has quick-reply buttons (or than a send takes).
    #[error("template {template}: the message has {actual} quick replies, but the max is {max}")]
    TooManyQuickReplies {
        /// The template, as `name (id)`.
        template: String,
        /// How many the message has.
        actual: usize,
        /// The limit: the template's quick-reply buttons, at most 3.
        max: usize,
    },
    /// Two variables of a definition map to one key with types that cannot share it.
    #[error(
        "template {template}: {first} and {second} both use parameter key {key:?}; give one of them its own key"
    )]
    KeyConflict {
        /// The template, as `name (id)`.
        template: String,
        /// The shared key.
        key: String,
        /// The first variable.
        first: String,
        /// The second variable.
        second: String,
    },
    /// A key mapping names a variable the definition does not have, or is misspelled.
    #[error(
        "template {template}: key mapping {variable:?} names no variable of the template; write header.<name>, body.<name> or button.<index>.<name>"
    )]
    UnknownVariable {
        /// The template, as `name (id)`.
        template: String,
        /// The mapping's left side as given.
        variable: String,
    },
    /// A registry file lists the same template id twice.
    #[error("template id {id} is listed twice in the registry file")]
    DuplicateId {
        /// The repeated id.
        id: TemplateId,
    },
    /// A registry file could not be read.
    #[error("cannot read the template registry file {path:?}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A registry file is not valid JSON of the expected shape (or holds an invalid definition).
    #[error("the template registry JSON is invalid: {source}")]
    Json {
        /// The parse error, with line and column.
        #[source]
        source: serde_json::Error,
    },
    /// A registry file is not valid TOML of the expected shape (or holds an invalid definition).
    #[cfg(feature = "toml")]
    #[cfg_attr(docsrs, doc(cfg(feature = "toml")))]
    #[error("the template registry TOML is invalid: {source}")]
    Toml {
        /// The parse error, with its position.
        #[source]
        source: toml::de::Error,
    },
}

/// What a parameter key is for, and so which values it takes.
#[derive(Debug, Clone, PartialEq, Eq)]
enum SlotKind {
    /// A header text variable (also used by a body variable of the same name).
    HeaderText,
    /// A body variable: text, date-time or currency.
    BodyText,
    /// The dynamic suffix of a URL button; `fixed_chars` is the URL's length before it.
    UrlSuffix { fixed_chars: usize },
    /// The media header.
    Media(MediaKind),
    /// Quick-reply payloads, at most `max`.
    QuickReplies { max: usize },
    /// The code of a copy-code button.
    Otp,
}

impl SlotKind {
    fn describe(&self) -> String {
        match self {
            Self::HeaderText => "header variable".to_owned(),
            Self::BodyText => "body variable".to_owned(),
            Self::UrlSuffix { .. } => "URL button variable".to_owned(),
            Self::Media(kind) => format!("{kind} header"),
            Self::QuickReplies { .. } => "quick replies".to_owned(),
            Self::Otp => "OTP code".to_owned(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Slot {
    key: String,
    kind: SlotKind,
    /// The variable it came from, for error messages (`body.1`).
    origin: String,
}

/// One registered template: its Webex Connect id, its definition and the parameter key of
/// each variable.
///
/// ```
/// use webex_connect_whatsapp::template::{TemplateDefinition, TemplatePart};
/// use webex_connect_whatsapp::template::RegisteredTemplate;
/// use webex_connect_whatsapp::{TemplateCategory, TemplateId, TemplateName};
///
/// let definition = TemplateDefinition::builder(
///     TemplateName::new("order_shipped")?,
///     TemplateCategory::Utility,
///     "en_US",
///     "Hi there, your order has shipped.",
/// )
/// .url_button("Track", "https://example.com/track/{{1}}")
/// .build()?;
/// let template = RegisteredTemplate::new(TemplateId::new("5139722425xxxxx")?, definition)?
///     .with_key(TemplatePart::Button(0), "1", "ctaVariable")?;
/// assert_eq!(template.parameter_keys(), ["ctaVariable"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisteredTemplate {
    id: TemplateId,
    definition: TemplateDefinition,
    renames: Vec<(TemplatePart, String, String)>,
    slots: Vec<Slot>,
}

fn part_prefix(part: TemplatePart) -> String {
    match part {
        TemplatePart::Header => "header".to_owned(),
        TemplatePart::Button(index) => format!("button.{index}"),
        // Footers take no variables; anything else is the body.
        _ => "body".to_owned(),
    }
}

impl RegisteredTemplate {
    /// Registers `definition` under its Webex Connect `id`, with the default keys (each
    /// variable's name).
    ///
    /// # Errors
    ///
    /// [`RegistryError::KeyConflict`] when a URL-button variable has the name of a header or
    /// body variable (give it its own key with [`with_key`](Self::with_key)).
    pub fn new(id: TemplateId, definition: TemplateDefinition) -> Result<Self, RegistryError> {
        Self::with_keys::<String>(id, definition, [])
    }

    /// Registers `definition` under `id`, sending each listed variable `(part, name)` under
    /// the key given instead of its name. Use this when a URL-button variable shares its name
    /// with a body variable (`{{1}}` in both), which [`new`](Self::new) refuses.
    ///
    /// # Errors
    ///
    /// [`RegistryError::UnknownVariable`] when a listed part has no such variable;
    /// [`RegistryError::KeyConflict`] when two variables of different kinds end up on one key.
    ///
    /// ```
    /// use webex_connect_whatsapp::template::{TemplateDefinition, TemplatePart};
    /// use webex_connect_whatsapp::template::RegisteredTemplate;
    /// use webex_connect_whatsapp::{TemplateCategory, TemplateId, TemplateName};
    ///
    /// let definition = TemplateDefinition::builder(
    ///     TemplateName::new("order_shipped")?,
    ///     TemplateCategory::Utility,
    ///     "en_US",
    ///     "Hi {{1}}, your order has shipped.",
    /// )
    /// .url_button("Track", "https://example.com/track/{{1}}")
    /// .build()?;
    /// let id = TemplateId::new("5139722425xxxxx")?;
    /// assert!(RegisteredTemplate::new(id.clone(), definition.clone()).is_err());
    /// let template = RegisteredTemplate::with_keys(
    ///     id,
    ///     definition,
    ///     [(TemplatePart::Button(0), "1", "ctaVariable")],
    /// )?;
    /// assert_eq!(template.parameter_keys(), ["1", "ctaVariable"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_keys<'a, K: Into<String>>(
        id: TemplateId,
        definition: TemplateDefinition,
        keys: impl IntoIterator<Item = (TemplatePart, &'a str, K)>,
    ) -> Result<Self, RegistryError> {
        let mut template = Self {
            id,
            definition,
            renames: Vec::new(),
            slots: Vec::new(),
        };
        for (part, name, key) in keys {
            template.rename(part, name, key.into())?;
        }
        template.slots = template.compute_slots()?;
        Ok(template)
    }

    fn rename(&mut self, part: TemplatePart, name: &str, key: String) -> Result<(), RegistryError> {
        if !self.definition.variables_in(part).any(|v| v.name() == name) {
            return Err(RegistryError::UnknownVariable {
                template: self.to_string(),
                variable: format!("{}.{name}", part_prefix(part)),
            });
        }
        self.renames.retain(|(p, n, _)| !(*p == part && n == name));
        self.renames.push((part, name.to_owned(), key));
        Ok(())
    }

    /// Sends the variable `name` of `part` under `key` instead of its name (e.g. the FAQ's
    /// `headerText` or `ctaVariable`).
    ///
    /// # Errors
    ///
    /// [`RegistryError::UnknownVariable`] when the part has no such variable;
    /// [`RegistryError::KeyConflict`] when the new key clashes with another variable's.
    pub fn with_key(
        mut self,
        part: TemplatePart,
        name: &str,
        key: impl Into<String>,
    ) -> Result<Self, RegistryError> {
        self.rename(part, name, key.into())?;
        self.slots = self.compute_slots()?;
        Ok(self)
    }

    fn key_of(&self, part: TemplatePart, name: &str) -> String {
        self.renames
            .iter()
            .find(|(p, n, _)| *p == part && n == name)
            .map_or_else(|| name.to_owned(), |(_, _, key)| key.clone())
    }

    fn compute_slots(&self) -> Result<Vec<Slot>, RegistryError> {
        let def = &self.definition;
        let mut slots: Vec<Slot> = Vec::new();
        if let Some(kind) = def.media_header() {
            slots.push(Slot {
                key: kind.as_str().to_owned(),
                kind: SlotKind::Media(kind),
                origin: "header".to_owned(),
            });
        }
        for variable in def.variables() {
            let part = variable.part();
            let origin = format!("{}.{}", part_prefix(part), variable.name());
            let kind = match part {
                TemplatePart::Header => SlotKind::HeaderText,
                TemplatePart::Button(index) => {
                    let fixed_chars = match def.buttons().get(index) {
                        Some(TemplateButton::Url { url, .. }) => url
                            .chars()
                            .count()
                            .saturating_sub(variable.name().len() + 4),
                        _ => 0,
                    };
                    SlotKind::UrlSuffix { fixed_chars }
                }
                _ => SlotKind::BodyText,
            };
            let key = self.key_of(part, variable.name());
            if let Some(existing) = slots.iter_mut().find(|s| s.key == key) {
                // A header and a body variable of one name share the key; the header's
                // stricter rules then apply to the one value.
                match (&existing.kind, &kind) {
                    (SlotKind::HeaderText | SlotKind::BodyText, SlotKind::HeaderText) => {
                        existing.kind = SlotKind::HeaderText;
                    }
                    (SlotKind::HeaderText | SlotKind::BodyText, SlotKind::BodyText) => {}
                    _ => {
                        return Err(RegistryError::KeyConflict {
                            template: self.to_string(),
                            key,
                            first: existing.origin.clone(),
                            second: origin,
                        });
                    }
                }
                continue;
            }
            slots.push(Slot { key, kind, origin });
        }
        let quick_replies = def
            .buttons()
            .iter()
            .filter(|b| matches!(b, TemplateButton::QuickReply { .. }))
            .count();
        let copy_code = def
            .buttons()
            .iter()
            .any(|b| matches!(b, TemplateButton::CopyCode { .. }));
        let fixed = [
            (quick_replies > 0).then(|| Slot {
                key: QUICK_REPLY_KEY.to_owned(),
                kind: SlotKind::QuickReplies {
                    max: quick_replies.min(MAX_QUICK_REPLIES),
                },
                origin: "quick-reply buttons".to_owned(),
            }),
            copy_code.then(|| Slot {
                key: OTP_KEY.to_owned(),
                kind: SlotKind::Otp,
                origin: "copy-code button".to_owned(),
            }),
        ];
        for slot in fixed.into_iter().flatten() {
            if let Some(existing) = slots.iter().find(|s| s.key == slot.key) {
                return Err(RegistryError::KeyConflict {
                    template: self.to_string(),
                    key: slot.key,
                    first: existing.origin.clone(),
                    second: slot.origin,
                });
            }
            slots.push(slot);
        }
        Ok(slots)
    }

    /// The Webex Connect template id.
    pub fn id(&self) -> &TemplateId {
        &self.id
    }

    /// The definition.
    pub fn definition(&self) -> &TemplateDefinition {
        &self.definition
    }

    /// Every parameter key a send of this template must carry, media header first, then
    /// header, body and button variables, then `quickReply` and `otp`. Handy for
    /// registering the template with the sandbox.
    pub fn parameter_keys(&self) -> Vec<&str> {
        self.slots.iter().map(|s| s.key.as_str()).collect()
    }

    /// Review advice for the definition: a non-descriptive name, a legacy category...
    /// (see [`TemplateDefinition::warnings`]).
    pub fn warnings(&self) -> Vec<Warning> {
        self.definition.warnings()
    }

    /// Checks a message for this template: every key present, no extra key, each value of
    /// the right type and length, the media header of the right kind.
    ///
    /// # Errors
    ///
    /// The first [`RegistryError`] found, naming the template, the key and the rule.
    pub fn check(&self, message: &TemplateMessage) -> Result<(), RegistryError> {
        // Media first: a `video` sent for an `image` header is one clear mistake, not a
        // missing `image` plus an extra `video`.
        for (key, value) in message.parameters() {
            if let TemplateParameter::Media { kind, .. } = value {
                let expected = self.definition.media_header();
                if expected != Some(*kind) {
                    return Err(RegistryError::WrongMedia {
                        template: self.to_string(),
                        expected,
                        actual: *kind,
                    });
                }
                if !self.slots.iter().any(|s| s.key == *key) {
                    return Err(self.extra(key));
                }
            }
        }
        for (key, _) in message.parameters() {
            if !self.slots.iter().any(|s| s.key == *key) {
                return Err(self.extra(key));
            }
        }
        for slot in &self.slots {
            let Some(value) = message.parameter(&slot.key) else {
                return Err(RegistryError::MissingParameter {
                    template: self.to_string(),
                    key: slot.key.clone(),
                    slot: slot.kind.describe(),
                });
            };
            self.check_value(slot, value)?;
        }
        Ok(())
    }

    fn extra(&self, key: &str) -> RegistryError {
        RegistryError::ExtraParameter {
            template: self.to_string(),
            key: key.to_owned(),
            expected: self.slots.iter().map(|s| s.key.clone()).collect(),
        }
    }

    fn check_value(&self, slot: &Slot, value: &TemplateParameter) -> Result<(), RegistryError> {
        let wrong_type = |expected: &'static str| RegistryError::WrongType {
            template: self.to_string(),
            key: slot.key.clone(),
            slot: slot.kind.describe(),
            expected,
            actual: value.type_name(),
        };
        match (&slot.kind, value) {
            (SlotKind::HeaderText, TemplateParameter::Text(text)) => {
                self.check_text(slot, text, MAX_TEMPLATE_HEADER_VALUE_CHARS)
            }
            (SlotKind::HeaderText, _) => Err(wrong_type("text")),
            (SlotKind::BodyText, TemplateParameter::Text(text)) => {
                self.check_text(slot, text, MAX_TEMPLATE_TEXT_VALUE_CHARS)
            }
            (
                SlotKind::BodyText,
                TemplateParameter::DateTime { fallback_value, .. }
                | TemplateParameter::Currency { fallback_value, .. },
            ) => self.check_text(slot, fallback_value, MAX_TEMPLATE_TEXT_VALUE_CHARS),
            (SlotKind::BodyText, _) => Err(wrong_type("text, date_time or currency")),
            (SlotKind::UrlSuffix { fixed_chars }, TemplateParameter::Url { payload }) => {
                let max = MAX_URL_SUFFIX_CHARS.saturating_sub(*fixed_chars);
                self.check_token(slot, payload, max)
            }
            (SlotKind::UrlSuffix { .. }, _) => Err(wrong_type("url")),
            (SlotKind::Media(_), TemplateParameter::Media { .. }) => Ok(()),
            (SlotKind::Media(kind), _) => Err(wrong_type(match kind {
                MediaKind::Video => "video",
                MediaKind::Document => "document",
                _ => "image",
            })),
            (SlotKind::QuickReplies { max }, TemplateParameter::QuickReplies(replies)) => {
                if replies.len() > *max {
                    return Err(RegistryError::TooManyQuickReplies {
                        template: self.to_string(),
                        actual: replies.len(),
                        max: *max,
                    });
                }
                Ok(())
            }
            (SlotKind::QuickReplies { .. }, _) => Err(wrong_type("quick_reply")),
            (SlotKind::Otp, TemplateParameter::Otp { value }) => {
                self.check_token(slot, value, MAX_OTP_CHARS)
            }
            (SlotKind::Otp, _) => Err(wrong_type("otp")),
        }
    }

    fn too_long(&self, slot: &Slot, actual: usize, max: usize) -> RegistryError {
        RegistryError::TooLong {
            template: self.to_string(),
            key: slot.key.clone(),
            slot: slot.kind.describe(),
            actual,
            max,
        }
    }

    fn invalid_char(&self, slot: &Slot, found: char, position: usize) -> RegistryError {
        RegistryError::InvalidCharacter {
            template: self.to_string(),
            key: slot.key.clone(),
            found,
            position,
        }
    }

    fn check_length(&self, slot: &Slot, value: &str, max: usize) -> Result<(), RegistryError> {
        if value.is_empty() {
            return Err(RegistryError::EmptyValue {
                template: self.to_string(),
                key: slot.key.clone(),
            });
        }
        let actual = value.chars().count();
        if actual > max {
            return Err(self.too_long(slot, actual, max));
        }
        Ok(())
    }

    /// The text rules again: a message read from JSON or built for another template may
    /// break the limit of this template's slot (a header takes 60, not 1024).
    fn check_text(&self, slot: &Slot, value: &str, max: usize) -> Result<(), RegistryError> {
        let mut run = 0;
        for (position, c) in value.chars().enumerate() {
            if matches!(c, '\n' | '\r' | '\t') {
                return Err(self.invalid_char(slot, c, position));
            }
            run = if c == ' ' { run + 1 } else { 0 };
            if run > MAX_CONSECUTIVE_SPACES {
                return Err(RegistryError::TooManySpaces {
                    template: self.to_string(),
                    key: slot.key.clone(),
                    position: position - MAX_CONSECUTIVE_SPACES,
                    max: MAX_CONSECUTIVE_SPACES,
                });
            }
        }
        self.check_length(slot, value, max)
    }

    fn check_token(&self, slot: &Slot, value: &str, max: usize) -> Result<(), RegistryError> {
        if let Some((position, found)) = value
            .chars()
            .enumerate()
            .find(|(_, c)| c.is_whitespace() || c.is_control())
        {
            return Err(self.invalid_char(slot, found, position));
        }
        self.check_length(slot, value, max)
    }
}

/// Your templates by Webex Connect id; checks template sends against their definitions.
///
/// See the [module docs](crate::template#the-registry) for an example and the file format.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TemplateRegistry {
    templates: BTreeMap<TemplateId, RegisteredTemplate>,
}

/// The file shape: `{"templates": [{"id", "definition", "keys"?}]}`.
#[derive(Serialize, Deserialize)]
struct FileWire {
    templates: Vec<EntryWire>,
}

#[derive(Serialize, Deserialize)]
struct EntryWire {
    id: TemplateId,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    keys: BTreeMap<String, String>,
    definition: TemplateDefinition,
}

/// Reads `header.<name>`, `body.<name>` or `button.<index>.<name>`.
fn parse_variable_ref(spec: &str) -> Option<(TemplatePart, &str)> {
    let (head, rest) = spec.split_once('.')?;
    match head {
        "header" => Some((TemplatePart::Header, rest)),
        "body" => Some((TemplatePart::Body, rest)),
        "button" => {
            let (index, name) = rest.split_once('.')?;
            Some((TemplatePart::Button(index.parse().ok()?), name))
        }
        _ => None,
    }
}

impl TemplateRegistry {
    /// An empty registry.
    ///
    /// ```
    /// use webex_connect_whatsapp::template::TemplateRegistry;
    /// assert!(TemplateRegistry::new().is_empty());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) a template under its id. Its review warnings are in
    /// [`Self::warnings`] with those of every other template.
    ///
    /// # Errors
    ///
    /// [`RegistryError::KeyConflict`], see [`RegisteredTemplate::new`].
    pub fn register(
        &mut self,
        id: TemplateId,
        definition: TemplateDefinition,
    ) -> Result<(), RegistryError> {
        self.insert(RegisteredTemplate::new(id, definition)?);
        Ok(())
    }

    /// Adds (or replaces) a registered template. Its review warnings (legacy category,
    /// non-descriptive name...) are in [`RegisteredTemplate::warnings`] and [`Self::warnings`].
    pub fn insert(&mut self, template: RegisteredTemplate) {
        self.templates.insert(template.id.clone(), template);
    }

    /// The template registered under `id`.
    pub fn get(&self, id: &TemplateId) -> Option<&RegisteredTemplate> {
        self.templates.get(id)
    }

    /// Every registered template, by id.
    pub fn iter(&self) -> impl Iterator<Item = &RegisteredTemplate> {
        self.templates.values()
    }

    /// How many templates are registered.
    pub fn len(&self) -> usize {
        self.templates.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.templates.is_empty()
    }

    /// The review warnings of every template.
    pub fn warnings(&self) -> Vec<Warning> {
        self.templates
            .values()
            .flat_map(RegisteredTemplate::warnings)
            .collect()
    }

    /// Checks a template message against its registered definition.
    ///
    /// # Errors
    ///
    /// [`RegistryError::UnknownTemplate`] for an unregistered id (the send would fail with
    /// 7108); otherwise see [`RegisteredTemplate::check`].
    pub fn check(&self, message: &TemplateMessage) -> Result<(), RegistryError> {
        let id = message.template_id();
        self.templates
            .get(id)
            .ok_or_else(|| RegistryError::UnknownTemplate { id: id.clone() })?
            .check(message)
    }

    /// Reads a registry from JSON (see the [module docs](crate::template#file-format) for the
    /// shape). Every definition is checked as it is read.
    ///
    /// # Errors
    ///
    /// [`RegistryError::Json`] for malformed JSON or an invalid definition;
    /// [`RegistryError::DuplicateId`], [`RegistryError::UnknownVariable`],
    /// [`RegistryError::KeyConflict`].
    ///
    /// ```
    /// use webex_connect_whatsapp::template::TemplateRegistry;
    /// let registry = TemplateRegistry::from_json_str(r#"{"templates": [{
    ///     "id": "5139722425xxxxx",
    ///     "definition": {"name": "welcome", "category": "UTILITY", "language": "en",
    ///                    "body": "Welcome, {{1}}!"}
    /// }]}"#)?;
    /// assert_eq!(registry.len(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_json_str(json: &str) -> Result<Self, RegistryError> {
        let file: FileWire =
            serde_json::from_str(json).map_err(|source| RegistryError::Json { source })?;
        Self::from_wire(file)
    }

    /// Reads a registry from a JSON file kept beside your app.
    ///
    /// # Errors
    ///
    /// [`RegistryError::Io`] when the file cannot be read; otherwise as
    /// [`from_json_str`](Self::from_json_str).
    pub fn from_json_file(path: impl AsRef<Path>) -> Result<Self, RegistryError> {
        let path = path.as_ref();
        let text = read_text(path)?;
        Self::from_json_str(&text)
    }

    /// Reads a registry from TOML: the same shape as the JSON file, as `[[templates]]` tables.
    /// Every definition is checked as it is read.
    ///
    /// # Errors
    ///
    /// [`RegistryError::Toml`] for malformed TOML or an invalid definition; otherwise as
    /// [`from_json_str`](Self::from_json_str).
    ///
    /// ```
    /// use webex_connect_whatsapp::template::TemplateRegistry;
    /// let registry = TemplateRegistry::from_toml_str(r#"
    ///     [[templates]]
    ///     id = "5139722425xxxxx"
    ///     [templates.definition]
    ///     name = "welcome"
    ///     category = "UTILITY"
    ///     language = "en"
    ///     body = "Welcome, {{1}}!"
    /// "#)?;
    /// assert_eq!(registry.len(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "toml")]
    #[cfg_attr(docsrs, doc(cfg(feature = "toml")))]
    pub fn from_toml_str(text: &str) -> Result<Self, RegistryError> {
        let file: FileWire =
            toml::from_str(text).map_err(|source| RegistryError::Toml { source })?;
        Self::from_wire(file)
    }

    /// Reads a registry from a file kept beside your app: TOML when the name ends in `.toml`,
    /// JSON otherwise.
    ///
    /// # Errors
    ///
    /// [`RegistryError::Io`] when the file cannot be read; otherwise as
    /// [`from_toml_str`](Self::from_toml_str) or [`from_json_str`](Self::from_json_str).
    #[cfg(feature = "toml")]
    #[cfg_attr(docsrs, doc(cfg(feature = "toml")))]
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, RegistryError> {
        let path = path.as_ref();
        let text = read_text(path)?;
        if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("toml"))
        {
            Self::from_toml_str(&text)
        } else {
            Self::from_json_str(&text)
        }
    }

    /// Writes the registry in the file format, pretty-printed.
    ///
    /// # Errors
    ///
    /// [`RegistryError::Json`] if serialization fails (it does not for valid definitions).
    pub fn to_json_string(&self) -> Result<String, RegistryError> {
        let file = FileWire {
            templates: self
                .templates
                .values()
                .map(|t| EntryWire {
                    id: t.id.clone(),
                    keys: t
                        .renames
                        .iter()
                        .map(|(part, name, key)| {
                            (format!("{}.{name}", part_prefix(*part)), key.clone())
                        })
                        .collect(),
                    definition: t.definition.clone(),
                })
                .collect(),
        };
        serde_json::to_string_pretty(&file).map_err(|source| RegistryError::Json { source })
    }

    fn from_wire(file: FileWire) -> Result<Self, RegistryError> {
        let mut registry = Self::new();
        for entry in file.templates {
            if registry.templates.contains_key(&entry.id) {
                return Err(RegistryError::DuplicateId { id: entry.id });
            }
            let mut keys = Vec::with_capacity(entry.keys.len());
            for (spec, key) in &entry.keys {
                let Some((part, variable)) = parse_variable_ref(spec) else {
                    return Err(RegistryError::UnknownVariable {
                        template: format!("{} ({})", entry.definition.name(), entry.id),
                        variable: spec.clone(),
                    });
                };
                keys.push((part, variable, key.clone()));
            }
            let template = RegisteredTemplate::with_keys(entry.id, entry.definition, keys)?;
            registry.insert(template);
        }
        Ok(registry)
    }
}

impl fmt::Display for RegisteredTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.definition.name(), self.id)
    }
}

/// Reads a registry file, naming the path when it cannot be read.
fn read_text(path: &Path) -> Result<String, RegistryError> {
    std::fs::read_to_string(path).map_err(|source| RegistryError::Io {
        path: path.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{TemplateCategory, TemplateName};

    fn def(body: &str) -> TemplateDefinition {
        TemplateDefinition::builder(
            TemplateName::new("order_update").unwrap(),
            TemplateCategory::Utility,
            "en",
            body,
        )
        .url_button("Track", "https://example.com/t/{{1}}")
        .build()
        .unwrap()
    }

    #[test]
    fn button_variable_clashing_with_body_needs_a_key() {
        let id = TemplateId::new("1").unwrap();
        let err = RegisteredTemplate::new(id.clone(), def("Hi {{1}} there")).unwrap_err();
        assert!(matches!(err, RegistryError::KeyConflict { ref key, .. } if key == "1"));
        let t = RegisteredTemplate::new(id, def("Hi there"))
            .unwrap()
            .with_key(TemplatePart::Button(0), "1", "cta")
            .unwrap();
        assert_eq!(t.parameter_keys(), ["cta"]);
    }

    #[test]
    fn variable_refs() {
        assert_eq!(
            parse_variable_ref("button.0.1"),
            Some((TemplatePart::Button(0), "1"))
        );
        assert_eq!(
            parse_variable_ref("header.name"),
            Some((TemplatePart::Header, "name"))
        );
        assert_eq!(parse_variable_ref("footer.1"), None);
        assert_eq!(parse_variable_ref("button.x.1"), None);
    }
}
