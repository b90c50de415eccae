//! Template definitions: what you submit for review and what a send is checked against (see
//! the [module docs](crate::template#definitions)).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use url::Url;

use crate::limits::{
    MAX_BUTTON_URL_CHARS, MAX_HEADER_VARIABLES, MAX_TEMPLATE_BUTTONS,
    MAX_TEMPLATE_COPY_CODE_BUTTONS, MAX_TEMPLATE_LANGUAGE_CHARS, MAX_TEMPLATE_PHONE_BUTTONS,
    MAX_TEMPLATE_QUICK_REPLY_BUTTONS, MAX_TEMPLATE_URL_BUTTONS,
};
use crate::media::MediaKind;
use crate::phone::PhoneNumber;
use crate::text::{BodyText, ButtonLabel, FooterText, HeaderText, TextError};
use crate::warning::Warning;

use super::category::TemplateCategory;
use super::name::TemplateName;

/// A part of a template, used to say where a variable or an error is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum TemplatePart {
    /// The header.
    Header,
    /// The body.
    Body,
    /// The footer.
    Footer,
    /// The button at this index (from 0, in definition order).
    Button(usize),
}

impl fmt::Display for TemplatePart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Header => f.write_str("header"),
            Self::Body => f.write_str("body"),
            Self::Footer => f.write_str("footer"),
            Self::Button(index) => write!(f, "button {index}"),
        }
    }
}

/// How a template names its variables; one template uses one style only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PlaceholderStyle {
    /// `{{1}}`, `{{2}}`, ...: numbered from 1 in each part, no gaps.
    Positional,
    /// `{{first_name}}`: lowercase letters, digits and `_`, starting with a letter.
    Named,
}

/// One `{{...}}` found in a template text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Placeholder {
    name: String,
    style: PlaceholderStyle,
    start: usize,
    end: usize,
}

impl Placeholder {
    /// The variable name: `"1"` for `{{1}}`, `"first_name"` for `{{first_name}}`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Positional or named.
    pub fn style(&self) -> PlaceholderStyle {
        self.style
    }

    /// The character position of the opening `{{`, counted from 0.
    pub fn start(&self) -> usize {
        self.start
    }

    /// The character position just after the closing `}}`.
    pub fn end(&self) -> usize {
        self.end
    }

    /// The number of a positional placeholder.
    pub fn number(&self) -> Option<u32> {
        match self.style {
            PlaceholderStyle::Positional => self.name.parse().ok(),
            PlaceholderStyle::Named => None,
        }
    }
}

/// A variable of a definition: its name and the part it is in.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Variable {
    name: String,
    part: TemplatePart,
}

impl Variable {
    /// The name a send uses as its parameter key (`"1"` or `"first_name"`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Where the variable is.
    pub fn part(&self) -> TemplatePart {
        self.part
    }
}

/// Why a template definition was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TemplateDefinitionError {
    /// A text was empty or too long.
    #[error(transparent)]
    Text(#[from] TextError),
    /// A placeholder was formatted incorrectly (WhatsApp's "formatted incorrectly" rejection).
    #[error("{part} has a malformed placeholder {found:?} at character {position}: {reason}")]
    MalformedPlaceholder {
        /// Where it is.
        part: TemplatePart,
        /// Its character position in that part, counted from 0.
        position: usize,
        /// The text found there.
        found: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Positional and named placeholders were mixed in one template.
    #[error(
        "template mixes positional and named placeholders ({positional:?} and {named:?}); use one style"
    )]
    MixedPlaceholders {
        /// The first positional placeholder's name.
        positional: String,
        /// The first named placeholder's name.
        named: String,
    },
    /// Positional placeholders skipped a number.
    #[error(
        "{part} placeholders must be numbered 1 to {highest} with no gaps, but {missing} is missing"
    )]
    PlaceholderGap {
        /// Where.
        part: TemplatePart,
        /// The first missing number.
        missing: u32,
        /// The highest number used.
        highest: u32,
    },
    /// A part held more variables than allowed (the header holds at most one).
    #[error("{part} has {actual} variables, but the max is {max}")]
    TooManyVariables {
        /// Where.
        part: TemplatePart,
        /// How many were found.
        actual: usize,
        /// The limit.
        max: usize,
    },
    /// The footer held a variable; footers are fixed text.
    #[error(
        "footer has the variable {found:?} at character {position}, but footers take no variables"
    )]
    FooterVariable {
        /// The placeholder found.
        found: String,
        /// Its character position.
        position: usize,
    },
    /// The media header was not an image, video or document.
    #[error("header media is {kind:?}, but only image, video and document are allowed")]
    InvalidHeaderMedia {
        /// The kind given.
        kind: MediaKind,
    },
    /// Too many buttons, in all or of one kind.
    #[error("template has {actual} {what}, but the max is {max}")]
    TooManyButtons {
        /// Which buttons: `buttons`, `quick reply buttons`, `URL buttons`, ...
        what: &'static str,
        /// How many were given.
        actual: usize,
        /// The limit.
        max: usize,
    },
    /// A URL button's URL was invalid.
    #[error("button {index} has an invalid URL {url:?}: {reason}")]
    InvalidButtonUrl {
        /// The button's index.
        index: usize,
        /// The URL given.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// A phone-number button's number was invalid.
    #[error("button {index} has an invalid phone number: {reason}")]
    InvalidButtonPhone {
        /// The button's index.
        index: usize,
        /// What is wrong.
        reason: String,
    },
    /// The language code was not of the form `en` or `en_US`.
    #[error(
        "language code {value:?} is not valid; use a code such as \"en\" or \"en_US\" (letters, '_' or '-', at most 15 characters)"
    )]
    InvalidLanguage {
        /// The value given.
        value: String,
    },
}

fn malformed(
    part: TemplatePart,
    position: usize,
    found: String,
    reason: &'static str,
) -> TemplateDefinitionError {
    TemplateDefinitionError::MalformedPlaceholder {
        part,
        position,
        found,
        reason,
    }
}

/// Finds the placeholders in one template text, in order, and refuses malformed ones.
///
/// Accepted: `{{1}}` (no leading zero, from 1) and `{{name}}` (lowercase letters, digits and
/// `_`, starting with a letter). Refused with the character position: an unclosed `{{`, a
/// stray `}}`, empty or spaced `{{ }}`, `{{1a}}`, `{{Name}}`, triple braces, and single braces
/// around a word (`{name}`). Other single braces are ordinary text.
///
/// ```
/// use webex_connect_whatsapp::template::{parse_placeholders, TemplatePart};
/// let found = parse_placeholders(TemplatePart::Body, "Hi {{1}}, order {{2}}")?;
/// assert_eq!(found.len(), 2);
/// assert_eq!((found[1].name(), found[1].start()), ("2", 16));
/// let err = parse_placeholders(TemplatePart::Body, "Hi {{first name}}").unwrap_err();
/// assert!(err.to_string().starts_with("body has a malformed placeholder \"{{first name}}\" at character 3"));
/// # Ok::<(), webex_connect_whatsapp::template::TemplateDefinitionError>(())
/// ```
///
/// # Errors
///
/// [`TemplateDefinitionError::MalformedPlaceholder`] for the first malformed placeholder.
pub fn parse_placeholders(
    part: TemplatePart,
    text: &str,
) -> Result<Vec<Placeholder>, TemplateDefinitionError> {
    let chars: Vec<char> = text.chars().collect();
    let at = |i: usize| chars.get(i).copied();
    let mut found = Vec::new();
    let mut i = 0;
    while let Some(c) = at(i) {
        match (c, at(i + 1)) {
            ('{', Some('{')) => {
                let close =
                    (i + 2..chars.len()).find(|&j| at(j) == Some('}') && at(j + 1) == Some('}'));
                let Some(close) = close else {
                    let snippet: String = chars.iter().skip(i).take(20).collect();
                    return Err(malformed(part, i, snippet, "it has no closing \"}}\""));
                };
                let inner: String = chars.get(i + 2..close).unwrap_or_default().iter().collect();
                let text = format!("{{{{{inner}}}}}");
                let style =
                    classify(&inner).map_err(|reason| malformed(part, i, text.clone(), reason))?;
                if at(close + 2) == Some('}') {
                    return Err(malformed(
                        part,
                        i,
                        format!("{text}}}"),
                        "it has three closing braces",
                    ));
                }
                found.push(Placeholder {
                    name: inner,
                    style,
                    start: i,
                    end: close + 2,
                });
                i = close + 2;
            }
            ('{', _) => {
                let word_end = (i + 1..=chars.len())
                    .find(|&j| !at(j).is_some_and(|c| c.is_alphanumeric() || c == '_'))
                    .unwrap_or(chars.len());
                if word_end > i + 1 && at(word_end) == Some('}') {
                    let snippet: String =
                        chars.get(i..=word_end).unwrap_or_default().iter().collect();
                    return Err(malformed(
                        part,
                        i,
                        snippet,
                        "placeholders take double braces, as in \"{{1}}\"",
                    ));
                }
                i += 1;
            }
            ('}', Some('}')) => {
                return Err(malformed(
                    part,
                    i,
                    "}}".to_owned(),
                    "it closes a placeholder that was never opened",
                ));
            }
            _ => i += 1,
        }
    }
    Ok(found)
}

/// Decides what the text between `{{` and `}}` is.
fn classify(inner: &str) -> Result<PlaceholderStyle, &'static str> {
    if inner.trim().is_empty() {
        return Err("it is empty");
    }
    if inner.contains('{') {
        return Err("it has an extra \"{\"");
    }
    if inner.bytes().all(|b| b.is_ascii_digit()) {
        if inner.starts_with('0') {
            return Err("numbers start at 1 and have no leading zeros");
        }
        if inner.parse::<u32>().is_err() {
            return Err("the number is too large");
        }
        return Ok(PlaceholderStyle::Positional);
    }
    let mut bytes = inner.bytes();
    let starts_with_letter = bytes.next().is_some_and(|b| b.is_ascii_lowercase());
    if starts_with_letter
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return Ok(PlaceholderStyle::Named);
    }
    Err(
        "a variable is a number from 1, or a name of lowercase letters, digits and '_' that starts with a letter",
    )
}

/// The header of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TemplateHeader {
    /// Text, at most 60 characters and one variable.
    Text(HeaderText),
    /// An image, video or document, whose link is given at send time.
    Media(MediaKind),
}

/// A button of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TemplateButton {
    /// A quick-reply button; the reply payload is given at send time.
    QuickReply {
        /// The label.
        text: ButtonLabel,
    },
    /// A call-to-action button opening a URL, which may end in one variable.
    Url {
        /// The label.
        text: ButtonLabel,
        /// The URL, e.g. `https://example.com/track/{{1}}`.
        url: String,
    },
    /// A call-to-action button calling a phone number.
    PhoneNumber {
        /// The label.
        text: ButtonLabel,
        /// The number called.
        phone_number: PhoneNumber,
    },
    /// A copy-code button of an authentication template; the code is the send's `otp`
    /// parameter (at most 15 characters).
    CopyCode {
        /// The label.
        text: ButtonLabel,
    },
}

impl TemplateButton {
    /// The button's label.
    pub fn text(&self) -> &ButtonLabel {
        match self {
            Self::QuickReply { text }
            | Self::Url { text, .. }
            | Self::PhoneNumber { text, .. }
            | Self::CopyCode { text } => text,
        }
    }
}

/// A checked template definition; build it with [`TemplateDefinition::builder`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateDefinition {
    name: TemplateName,
    category: TemplateCategory,
    language: String,
    header: Option<TemplateHeader>,
    body: BodyText,
    footer: Option<FooterText>,
    buttons: Vec<TemplateButton>,
    style: Option<PlaceholderStyle>,
    variables: Vec<Variable>,
}

impl TemplateDefinition {
    /// Starts a definition from what every template has: name, category, language code
    /// (`en`, `en_US`) and body text.
    pub fn builder(
        name: TemplateName,
        category: TemplateCategory,
        language: impl Into<String>,
        body: impl Into<String>,
    ) -> TemplateDefinitionBuilder {
        TemplateDefinitionBuilder {
            wire: Wire {
                name,
                category,
                language: language.into(),
                header: None,
                body: body.into(),
                footer: None,
                buttons: Vec::new(),
            },
            error: None,
        }
    }

    /// The template name.
    pub fn name(&self) -> &TemplateName {
        &self.name
    }

    /// The category.
    pub fn category(&self) -> &TemplateCategory {
        &self.category
    }

    /// The language code, e.g. `en_US`.
    pub fn language(&self) -> &str {
        &self.language
    }

    /// The header, if any.
    pub fn header(&self) -> Option<&TemplateHeader> {
        self.header.as_ref()
    }

    /// The media header kind, if the header is media; the send then needs a parameter with
    /// this kind's name (`image`, `video`, `document`).
    pub fn media_header(&self) -> Option<MediaKind> {
        match self.header {
            Some(TemplateHeader::Media(kind)) => Some(kind),
            _ => None,
        }
    }

    /// The body text, placeholders included.
    pub fn body(&self) -> &BodyText {
        &self.body
    }

    /// The footer, if any.
    pub fn footer(&self) -> Option<&FooterText> {
        self.footer.as_ref()
    }

    /// The buttons, in order.
    pub fn buttons(&self) -> &[TemplateButton] {
        &self.buttons
    }

    /// The placeholder style, or `None` when the template has no variables.
    pub fn placeholder_style(&self) -> Option<PlaceholderStyle> {
        self.style
    }

    /// Every variable: header first, then body, then buttons; within a part in order of
    /// first appearance, each name once.
    pub fn variables(&self) -> &[Variable] {
        &self.variables
    }

    /// The variables of one part, in order.
    pub fn variables_in(&self, part: TemplatePart) -> impl Iterator<Item = &Variable> {
        self.variables.iter().filter(move |v| v.part == part)
    }

    /// Advice for review: a non-descriptive name, a legacy category, a variable at the very
    /// start or end of the body, adjacent variables with no text between.
    ///
    /// ```
    /// use webex_connect_whatsapp::template::TemplateDefinition;
    /// use webex_connect_whatsapp::{TemplateCategory, TemplateName};
    /// let def = TemplateDefinition::builder(
    ///     TemplateName::new("message_124a")?,
    ///     TemplateCategory::AccountUpdate,
    ///     "en",
    ///     "{{1}} {{2}} is ready",
    /// )
    /// .build()?;
    /// let rules: Vec<_> = def.warnings().iter().map(|w| w.rule()).collect();
    /// assert_eq!(rules, [
    ///     "template_name.descriptive",
    ///     "template_category.legacy",
    ///     "template_body.variable_at_start",
    ///     "template_body.adjacent_variables",
    /// ]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn warnings(&self) -> Vec<Warning> {
        let mut warnings = self.name.warnings();
        if self.category.is_legacy() {
            warnings.push(Warning::new(
                "template_category.legacy",
                format!(
                    "category {} is a legacy category; new templates use MARKETING, UTILITY or AUTHENTICATION",
                    self.category
                ),
            ));
        }
        let body = self.body.as_str();
        let placeholders = parse_placeholders(TemplatePart::Body, body).unwrap_or_default();
        let chars: Vec<char> = body.chars().collect();
        let first_text = chars.iter().position(|c| !c.is_whitespace());
        let last_text = chars
            .iter()
            .rposition(|c| !c.is_whitespace())
            .map(|p| p + 1);
        if let (Some(first), Some(p)) = (first_text, placeholders.first())
            && p.start == first
        {
            warnings.push(Warning::new(
                    "template_body.variable_at_start",
                    format!("body starts with the variable {{{{{}}}}}; WhatsApp rejects templates whose body starts or ends with a variable", p.name),
                ));
        }
        if let (Some(last), Some(p)) = (last_text, placeholders.last())
            && p.end == last
        {
            warnings.push(Warning::new(
                    "template_body.variable_at_end",
                    format!("body ends with the variable {{{{{}}}}}; WhatsApp rejects templates whose body starts or ends with a variable", p.name),
                ));
        }
        for pair in placeholders.windows(2) {
            if let [a, b] = pair {
                let between = chars.get(a.end..b.start).unwrap_or_default();
                if between.iter().all(|c| c.is_whitespace()) {
                    warnings.push(Warning::new(
                        "template_body.adjacent_variables",
                        format!(
                            "body has the variables {{{{{}}}}} and {{{{{}}}}} with no text between; WhatsApp may reject it at review",
                            a.name, b.name
                        ),
                    ));
                }
            }
        }
        warnings
    }

    fn to_wire(&self) -> Wire {
        Wire {
            name: self.name.clone(),
            category: self.category.clone(),
            language: self.language.clone(),
            header: self.header.as_ref().map(|h| match h {
                TemplateHeader::Text(text) => HeaderWire::Text {
                    text: text.as_str().to_owned(),
                },
                TemplateHeader::Media(MediaKind::Video) => HeaderWire::Video,
                TemplateHeader::Media(MediaKind::Document) => HeaderWire::Document,
                // Only image, video and document pass `build`.
                TemplateHeader::Media(_) => HeaderWire::Image,
            }),
            body: self.body.as_str().to_owned(),
            footer: self.footer.as_ref().map(|f| f.as_str().to_owned()),
            buttons: self
                .buttons
                .iter()
                .map(|b| match b {
                    TemplateButton::QuickReply { text } => ButtonWire::QuickReply {
                        text: text.as_str().to_owned(),
                    },
                    TemplateButton::Url { text, url } => ButtonWire::Url {
                        text: text.as_str().to_owned(),
                        url: url.clone(),
                    },
                    TemplateButton::PhoneNumber { text, phone_number } => ButtonWire::PhoneNumber {
                        text: text.as_str().to_owned(),
                        phone_number: phone_number.e164().to_owned(),
                    },
                    TemplateButton::CopyCode { text } => ButtonWire::CopyCode {
                        text: text.as_str().to_owned(),
                    },
                })
                .collect(),
        }
    }
}

/// The serde shape, also the builder's raw state: every check runs in [`Wire::validate`].
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Wire {
    name: TemplateName,
    category: TemplateCategory,
    language: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    header: Option<HeaderWire>,
    body: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    footer: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    buttons: Vec<ButtonWire>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum HeaderWire {
    Text { text: String },
    Image,
    Video,
    Document,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ButtonWire {
    QuickReply { text: String },
    Url { text: String, url: String },
    PhoneNumber { text: String, phone_number: String },
    CopyCode { text: String },
}

fn check_language(value: &str) -> Result<(), TemplateDefinitionError> {
    let mut chars = value.chars();
    let ok = value.chars().count() <= MAX_TEMPLATE_LANGUAGE_CHARS
        && chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(TemplateDefinitionError::InvalidLanguage {
            value: value.to_owned(),
        })
    }
}

/// Names in order of first appearance, each once.
fn unique_variables(part: TemplatePart, placeholders: &[Placeholder]) -> Vec<Variable> {
    let mut out: Vec<Variable> = Vec::new();
    for p in placeholders {
        if !out.iter().any(|v| v.name == p.name) {
            out.push(Variable {
                name: p.name.clone(),
                part,
            });
        }
    }
    out
}

fn check_positional_gaps(
    part: TemplatePart,
    placeholders: &[Placeholder],
) -> Result<(), TemplateDefinitionError> {
    let mut numbers: Vec<u32> = placeholders
        .iter()
        .filter_map(Placeholder::number)
        .collect();
    numbers.sort_unstable();
    numbers.dedup();
    let Some(&highest) = numbers.last() else {
        return Ok(());
    };
    if let Some(missing) = (1..=highest).find(|n| numbers.binary_search(n).is_err()) {
        return Err(TemplateDefinitionError::PlaceholderGap {
            part,
            missing,
            highest,
        });
    }
    Ok(())
}

fn check_url_button(index: usize, url: &str) -> Result<Vec<Placeholder>, TemplateDefinitionError> {
    let invalid = |reason: String| TemplateDefinitionError::InvalidButtonUrl {
        index,
        url: url.to_owned(),
        reason,
    };
    let len = url.chars().count();
    if len > MAX_BUTTON_URL_CHARS {
        return Err(invalid(format!(
            "it is {len} characters long, but the max is {MAX_BUTTON_URL_CHARS}"
        )));
    }
    let part = TemplatePart::Button(index);
    let placeholders = parse_placeholders(part, url)?;
    if placeholders.len() > 1 {
        return Err(invalid(format!(
            "it has {} variables, but a URL takes at most one, at its end",
            placeholders.len()
        )));
    }
    let mut fixed = url.to_owned();
    if let Some(p) = placeholders.first() {
        if p.end != len {
            return Err(invalid(format!(
                "the variable at character {} is not at the end of the URL",
                p.start
            )));
        }
        fixed = url.chars().take(p.start).collect::<String>() + "x";
    }
    let parsed = Url::parse(&fixed).map_err(|e| invalid(e.to_string()))?;
    if !matches!(parsed.scheme(), "https" | "http") {
        return Err(invalid(format!(
            "scheme {:?} is not allowed; use https",
            parsed.scheme()
        )));
    }
    Ok(placeholders)
}

fn count_check(
    what: &'static str,
    actual: usize,
    max: usize,
) -> Result<(), TemplateDefinitionError> {
    if actual > max {
        return Err(TemplateDefinitionError::TooManyButtons { what, actual, max });
    }
    Ok(())
}

/// The kinds of button with a limit of their own, in the order they are checked (after the
/// total): how errors name them and how many a template may have.
const BUTTON_KINDS: [(&str, usize); 4] = [
    ("quick reply buttons", MAX_TEMPLATE_QUICK_REPLY_BUTTONS),
    ("URL buttons", MAX_TEMPLATE_URL_BUTTONS),
    ("phone number buttons", MAX_TEMPLATE_PHONE_BUTTONS),
    ("copy code buttons", MAX_TEMPLATE_COPY_CODE_BUTTONS),
];

impl ButtonWire {
    /// This button's row in [`BUTTON_KINDS`].
    fn kind(&self) -> usize {
        match self {
            Self::QuickReply { .. } => 0,
            Self::Url { .. } => 1,
            Self::PhoneNumber { .. } => 2,
            Self::CopyCode { .. } => 3,
        }
    }
}

fn validate_buttons(
    raw: Vec<ButtonWire>,
    all: &mut Vec<(TemplatePart, Vec<Placeholder>)>,
) -> Result<Vec<TemplateButton>, TemplateDefinitionError> {
    count_check("buttons", raw.len(), MAX_TEMPLATE_BUTTONS)?;
    for (kind, (what, max)) in BUTTON_KINDS.into_iter().enumerate() {
        count_check(what, raw.iter().filter(|b| b.kind() == kind).count(), max)?;
    }
    let mut buttons = Vec::with_capacity(raw.len());
    for (index, button) in raw.into_iter().enumerate() {
        buttons.push(match button {
            ButtonWire::QuickReply { text } => TemplateButton::QuickReply {
                text: ButtonLabel::new(text)?,
            },
            ButtonWire::Url { text, url } => {
                let text = ButtonLabel::new(text)?;
                let found = check_url_button(index, &url)?;
                all.push((TemplatePart::Button(index), found));
                TemplateButton::Url { text, url }
            }
            ButtonWire::PhoneNumber { text, phone_number } => TemplateButton::PhoneNumber {
                text: ButtonLabel::new(text)?,
                phone_number: PhoneNumber::parse(&phone_number).map_err(|e| {
                    TemplateDefinitionError::InvalidButtonPhone {
                        index,
                        reason: e.to_string(),
                    }
                })?,
            },
            ButtonWire::CopyCode { text } => TemplateButton::CopyCode {
                text: ButtonLabel::new(text)?,
            },
        });
    }

    Ok(buttons)
}

impl Wire {
    fn validate(self) -> Result<TemplateDefinition, TemplateDefinitionError> {
        check_language(&self.language)?;
        let mut all: Vec<(TemplatePart, Vec<Placeholder>)> = Vec::new();

        let header = match self.header {
            None => None,
            Some(HeaderWire::Text { text }) => {
                let text = HeaderText::new(text)?;
                let found = parse_placeholders(TemplatePart::Header, text.as_str())?;
                if found.len() > MAX_HEADER_VARIABLES {
                    return Err(TemplateDefinitionError::TooManyVariables {
                        part: TemplatePart::Header,
                        actual: found.len(),
                        max: MAX_HEADER_VARIABLES,
                    });
                }
                all.push((TemplatePart::Header, found));
                Some(TemplateHeader::Text(text))
            }
            Some(HeaderWire::Image) => Some(TemplateHeader::Media(MediaKind::Image)),
            Some(HeaderWire::Video) => Some(TemplateHeader::Media(MediaKind::Video)),
            Some(HeaderWire::Document) => Some(TemplateHeader::Media(MediaKind::Document)),
        };

        let body = BodyText::new(self.body)?;
        all.push((
            TemplatePart::Body,
            parse_placeholders(TemplatePart::Body, body.as_str())?,
        ));

        let footer = match self.footer {
            None => None,
            Some(text) => {
                let text = FooterText::new(text)?;
                let found = parse_placeholders(TemplatePart::Footer, text.as_str())?;
                if let Some(p) = found.first() {
                    return Err(TemplateDefinitionError::FooterVariable {
                        found: format!("{{{{{}}}}}", p.name),
                        position: p.start,
                    });
                }
                Some(text)
            }
        };

        let buttons = validate_buttons(self.buttons, &mut all)?;

        let first_of = |style: PlaceholderStyle| {
            all.iter()
                .flat_map(|(_, found)| found.iter())
                .find(|p| p.style == style)
        };
        let style = match (
            first_of(PlaceholderStyle::Positional),
            first_of(PlaceholderStyle::Named),
        ) {
            (Some(p), Some(n)) => {
                return Err(TemplateDefinitionError::MixedPlaceholders {
                    positional: p.name.clone(),
                    named: n.name.clone(),
                });
            }
            (Some(_), None) => Some(PlaceholderStyle::Positional),
            (None, Some(_)) => Some(PlaceholderStyle::Named),
            (None, None) => None,
        };
        let mut variables = Vec::new();
        for (part, found) in &all {
            check_positional_gaps(*part, found)?;
            variables.extend(unique_variables(*part, found));
        }

        Ok(TemplateDefinition {
            name: self.name,
            category: self.category,
            language: self.language,
            header,
            body,
            footer,
            buttons,
            style,
            variables,
        })
    }
}

impl Serialize for TemplateDefinition {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_wire().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for TemplateDefinition {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Wire::deserialize(deserializer)?
            .validate()
            .map_err(serde::de::Error::custom)
    }
}

/// Builds a [`TemplateDefinition`]; [`build`](Self::build) can fail with a
/// [`TemplateDefinitionError`], which names the first rule the definition breaks.
#[derive(Debug, Clone)]
#[must_use]
pub struct TemplateDefinitionBuilder {
    wire: Wire,
    error: Option<TemplateDefinitionError>,
}

impl TemplateDefinitionBuilder {
    crate::setters::setters! {
        /// Sets a text header: at most 60 characters and one variable.
        fn header_text(self, text: impl Into<String>) =>
            self.wire.header = Some(HeaderWire::Text { text: text.into() });

        /// Sets a media header: image, video or document (others fail in `build`). The media
        /// itself is given at send time.
        fn header_media(self, kind: MediaKind) => self.wire.header = match kind {
            MediaKind::Image => Some(HeaderWire::Image),
            MediaKind::Video => Some(HeaderWire::Video),
            MediaKind::Document => Some(HeaderWire::Document),
            other => {
                self.error
                    .get_or_insert(TemplateDefinitionError::InvalidHeaderMedia { kind: other });
                None
            }
        };

        /// Sets the footer: fixed text, at most 60 characters, no variables.
        fn footer(self, text: impl Into<String>) => self.wire.footer = Some(text.into());

        /// Adds a quick-reply button.
        fn quick_reply(self, label: impl Into<String>) =>
            self.wire.buttons.push(ButtonWire::QuickReply { text: label.into() });

        /// Adds a URL button; the URL may end in one variable (`https://x.com/o/{{1}}`).
        fn url_button(self, label: impl Into<String>, url: impl Into<String>) =>
            self.wire.buttons.push(ButtonWire::Url { text: label.into(), url: url.into() });

        /// Adds a phone-number button.
        fn phone_button(self, label: impl Into<String>, phone_number: &PhoneNumber) =>
            self.wire.buttons.push(ButtonWire::PhoneNumber {
                text: label.into(),
                phone_number: phone_number.e164().to_owned(),
            });

        /// Adds a copy-code (OTP) button.
        fn copy_code_button(self, label: impl Into<String>) =>
            self.wire.buttons.push(ButtonWire::CopyCode { text: label.into() });
    }

    /// Checks everything and returns the definition.
    ///
    /// | part | rule |
    /// |---|---|
    /// | language | `en`, `en_US`: two lowercase letters, then letters, digits, `_`, `-`; ≤15 |
    /// | header | text ≤60 characters with ≤1 variable, or image / video / document |
    /// | body | 1 to 1024 characters |
    /// | footer | ≤60 characters, no variables |
    /// | buttons | ≤10 in all; quick reply ≤10, URL ≤2, phone ≤1, copy code ≤1; labels ≤25 |
    /// | URL button | http(s), ≤2000 characters, at most one variable, at its end |
    /// | placeholders | well formed; positional or named, never both; positional numbered 1..n per part |
    ///
    /// # Errors
    ///
    /// [`TemplateDefinitionError`] for the first rule broken, with the part and character
    /// position where it applies.
    pub fn build(self) -> Result<TemplateDefinition, TemplateDefinitionError> {
        if let Some(error) = self.error {
            return Err(error);
        }
        self.wire.validate()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(text: &str) -> Result<TemplateDefinition, TemplateDefinitionError> {
        TemplateDefinition::builder(
            TemplateName::new("order_update").unwrap(),
            TemplateCategory::Utility,
            "en_US",
            text,
        )
        .build()
    }

    fn malformed_at(text: &str) -> (usize, String) {
        match body(text) {
            Err(TemplateDefinitionError::MalformedPlaceholder {
                position, found, ..
            }) => (position, found),
            other => panic!("{text:?}: {other:?}"),
        }
    }

    #[test]
    fn malformed_placeholders_report_positions() {
        // (text, where the malformed placeholder starts, what it is)
        let cases = [
            ("Hi {{", 3, "{{"),
            ("Hi {{1}", 3, "{{1}"),
            ("Hi {{ }} x", 3, "{{ }}"),
            ("Hi {{1a}} x", 3, "{{1a}}"),
            ("Hi {name} x", 3, "{name}"),
            ("Hi {{Name}} x", 3, "{{Name}}"),
            ("Hi {{0}} x", 3, "{{0}}"),
            ("Hi {{01}} x", 3, "{{01}}"),
            ("Hi {{{1}}} x", 3, "{{{1}}"),
            ("Hi {{1}}} x", 3, "{{1}}}"),
            ("Hi }} x", 3, "}}"),
            ("é {{ x", 2, "{{ x"),
        ];
        for (text, position, found) in cases {
            assert_eq!(malformed_at(text), (position, found.to_owned()), "{text:?}");
        }
        assert!(body("Hi {{1}}, price {5 or {a b}}").is_err());
        assert!(body("a { b } c {").is_ok());
    }

    #[test]
    fn gaps_and_mixing() {
        assert!(matches!(
            body("a {{1}} b {{3}} c"),
            Err(TemplateDefinitionError::PlaceholderGap {
                missing: 2,
                highest: 3,
                ..
            })
        ));
        assert!(matches!(
            body("a {{1}} b {{name}} c"),
            Err(TemplateDefinitionError::MixedPlaceholders { .. })
        ));
        let def = body("a {{2}} b {{1}} c {{2}} d").unwrap();
        let names: Vec<_> = def.variables().iter().map(Variable::name).collect();
        assert_eq!(names, ["2", "1"]);
        assert_eq!(def.placeholder_style(), Some(PlaceholderStyle::Positional));
    }
}
