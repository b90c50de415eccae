//! Interactive messages: a list (a button that opens sections of rows) and reply buttons,
//! with the header, body and footer both share.

use serde::{Deserialize, Serialize};

use super::{Body, SessionMessage, SessionMessageError, check_count, non_empty, read_media_url};
use crate::limits::{MAX_LIST_ROWS, MAX_LIST_SECTIONS, MAX_REPLY_BUTTONS};
use crate::media::MediaUrl;
use crate::text::{
    BodyText, FooterText, HeaderText, ListButtonText, ReplyButtonId, ReplyButtonTitle,
    RowDescription, RowId, RowTitle, SectionTitle,
};

/// A row of an interactive list: an id (sent back when picked), a title and an optional
/// description.
///
/// ```
/// use webex_connect_whatsapp::session::ListRow;
/// let row = ListRow::new("slot-0900", "9:00 to 10:00")?.with_description("With Dr Rao")?;
/// assert_eq!(row.id().as_str(), "slot-0900");
/// assert!(ListRow::new("id", "x".repeat(25)).is_err());
/// # Ok::<(), webex_connect_whatsapp::session::SessionMessageError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListRow {
    id: RowId,
    title: RowTitle,
    description: Option<RowDescription>,
}

impl ListRow {
    /// A row with an id of 1 to 200 characters and a title of 1 to 24.
    ///
    /// # Errors
    ///
    /// [`SessionMessageError::Text`] when the id or title is empty or too long.
    pub fn new(
        id: impl Into<String>,
        title: impl Into<String>,
    ) -> Result<Self, SessionMessageError> {
        Ok(Self {
            id: RowId::new(id)?,
            title: RowTitle::new(title)?,
            description: None,
        })
    }

    /// Adds a description of 1 to 72 characters.
    ///
    /// # Errors
    ///
    /// [`SessionMessageError::Text`] when the description is empty or too long.
    pub fn with_description(
        mut self,
        description: impl Into<String>,
    ) -> Result<Self, SessionMessageError> {
        self.description = Some(RowDescription::new(description)?);
        Ok(self)
    }

    /// The id sent back when the row is picked.
    pub fn id(&self) -> &RowId {
        &self.id
    }

    /// The title.
    pub fn title(&self) -> &RowTitle {
        &self.title
    }

    /// The description.
    pub fn description(&self) -> Option<&RowDescription> {
        self.description.as_ref()
    }
}

/// A section of an interactive list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListSection {
    title: Option<SectionTitle>,
    rows: Vec<ListRow>,
}

impl ListSection {
    /// The title (required when the list has more than one section).
    pub fn title(&self) -> Option<&SectionTitle> {
        self.title.as_ref()
    }

    /// The rows.
    pub fn rows(&self) -> &[ListRow] {
        &self.rows
    }
}

/// An interactive list message: a button that opens a list of sections and rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListMessage {
    header: Option<HeaderText>,
    body: BodyText,
    footer: Option<FooterText>,
    button: ListButtonText,
    sections: Vec<ListSection>,
}

impl ListMessage {
    /// The text header.
    pub fn header(&self) -> Option<&HeaderText> {
        self.header.as_ref()
    }

    /// The body.
    pub fn body(&self) -> &BodyText {
        &self.body
    }

    /// The footer.
    pub fn footer(&self) -> Option<&FooterText> {
        self.footer.as_ref()
    }

    /// The label of the button that opens the list.
    pub fn button(&self) -> &ListButtonText {
        &self.button
    }

    /// The sections.
    pub fn sections(&self) -> &[ListSection] {
        &self.sections
    }
}

/// The header of a reply-buttons message: a text, or an image, video or document by URL.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReplyHeader {
    /// A text of 1 to 60 characters.
    Text(HeaderText),
    /// An image.
    Image(MediaUrl),
    /// A video.
    Video(MediaUrl),
    /// A document, with the file name shown for it.
    Document {
        /// Where Webex Connect fetches the document.
        url: MediaUrl,
        /// The file name shown.
        filename: Option<String>,
    },
}

impl ReplyHeader {
    /// The text of a text header.
    pub fn as_text(&self) -> Option<&HeaderText> {
        match self {
            Self::Text(t) => Some(t),
            _ => None,
        }
    }
}

/// One interactive reply button.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyButton {
    id: ReplyButtonId,
    title: ReplyButtonTitle,
}

impl ReplyButton {
    /// The id sent back when the button is tapped.
    pub fn id(&self) -> &ReplyButtonId {
        &self.id
    }

    /// The title shown on the button.
    pub fn title(&self) -> &ReplyButtonTitle {
        &self.title
    }
}

/// An interactive reply-buttons message: a body with 1 to 3 buttons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyButtonsMessage {
    header: Option<ReplyHeader>,
    body: BodyText,
    footer: Option<FooterText>,
    buttons: Vec<ReplyButton>,
}

impl ReplyButtonsMessage {
    /// The header: text or media.
    pub fn header(&self) -> Option<&ReplyHeader> {
        self.header.as_ref()
    }

    /// The body.
    pub fn body(&self) -> &BodyText {
        &self.body
    }

    /// The footer.
    pub fn footer(&self) -> Option<&FooterText> {
        self.footer.as_ref()
    }

    /// The buttons, in order.
    pub fn buttons(&self) -> &[ReplyButton] {
        &self.buttons
    }
}

impl SessionMessage {
    /// Starts an interactive list message: a body of 1 to 1024 characters and the label of
    /// the button that opens the list (1 to 20 characters). Add 1 to 10 sections with 10 rows
    /// in all.
    ///
    /// ```
    /// use webex_connect_whatsapp::SessionMessage;
    /// use webex_connect_whatsapp::session::{ListRow, SessionKind};
    /// let m = SessionMessage::list("Pick a time for your visit", "Choose a slot")
    ///     .header("Appointments")
    ///     .footer("Reply STOP to opt out")
    ///     .section("Morning", [ListRow::new("slot-0900", "9:00")?.with_description("With Dr Rao")?])
    ///     .section("Afternoon", [ListRow::new("slot-1400", "14:00")?])
    ///     .build()?;
    /// assert_eq!(m.kind(), SessionKind::List);
    /// assert_eq!(m.as_list().unwrap().sections().len(), 2);
    /// # Ok::<(), webex_connect_whatsapp::session::SessionMessageError>(())
    /// ```
    pub fn list(body: impl Into<String>, button_label: impl Into<String>) -> ListMessageBuilder {
        ListMessageBuilder {
            header: None,
            body: body.into(),
            footer: None,
            button: button_label.into(),
            sections: Vec::new(),
        }
    }

    /// Starts an interactive reply-buttons message: a body of 1 to 1024 characters and 1 to 3
    /// buttons.
    ///
    /// ```
    /// use webex_connect_whatsapp::SessionMessage;
    /// use webex_connect_whatsapp::session::SessionKind;
    /// let m = SessionMessage::reply_buttons("Confirm your visit on Monday at 9:00?")
    ///     .button("yes", "Confirm")
    ///     .button("no", "Reschedule")
    ///     .build()?;
    /// assert_eq!(m.kind(), SessionKind::ReplyButtons);
    /// assert_eq!(m.as_reply_buttons().unwrap().buttons()[1].id().as_str(), "no");
    /// # Ok::<(), webex_connect_whatsapp::session::SessionMessageError>(())
    /// ```
    pub fn reply_buttons(body: impl Into<String>) -> ReplyButtonsBuilder {
        ReplyButtonsBuilder {
            header: None,
            media_header: None,
            body: body.into(),
            footer: None,
            buttons: Vec::new(),
        }
    }

    /// The list of an interactive list message.
    pub fn as_list(&self) -> Option<&ListMessage> {
        match &self.0 {
            Body::List(l) => Some(l),
            _ => None,
        }
    }

    /// The buttons message of an interactive reply-buttons message.
    pub fn as_reply_buttons(&self) -> Option<&ReplyButtonsMessage> {
        match &self.0 {
            Body::ReplyButtons(r) => Some(r),
            _ => None,
        }
    }
}

/// Builds an interactive list [`SessionMessage`]; [`build`](Self::build) can fail with a
/// [`SessionMessageError`] (a text too long, too many sections or rows, a repeated row id).
#[derive(Debug, Clone)]
#[must_use]
pub struct ListMessageBuilder {
    header: Option<String>,
    body: String,
    footer: Option<String>,
    button: String,
    sections: Vec<(Option<String>, Vec<ListRow>)>,
}

impl ListMessageBuilder {
    crate::setters::setters! {
        /// Sets a text header of 1 to 60 characters.
        fn header(self, header: impl Into<String>) => self.header = Some(header.into());

        /// Sets a footer of 1 to 60 characters.
        fn footer(self, footer: impl Into<String>) => self.footer = Some(footer.into());

        /// Adds a section with a title of 1 to 24 characters.
        fn section(self, title: impl Into<String>, rows: impl IntoIterator<Item = ListRow>) =>
            self.sections.push((Some(title.into()), rows.into_iter().collect()));

        /// Adds a section without a title; allowed only when the list has one section.
        fn untitled_section(self, rows: impl IntoIterator<Item = ListRow>) =>
            self.sections.push((None, rows.into_iter().collect()));
    }

    /// Checks the list: the texts' lengths, 1 to 10 sections, each with rows and, when there
    /// are several, a title, 10 rows in all, and unique row ids.
    ///
    /// # Errors
    ///
    /// [`SessionMessageError`] naming the first rule broken.
    pub fn build(self) -> Result<SessionMessage, SessionMessageError> {
        let (header, body, footer) = check_frame(self.header, self.body, self.footer)?;
        let button = ListButtonText::new(self.button)?;
        let count = self.sections.len();
        check_count(count, MAX_LIST_SECTIONS, |actual, max| {
            SessionMessageError::SectionCount { actual, max }
        })?;
        let total: usize = self.sections.iter().map(|(_, rows)| rows.len()).sum();
        if total > MAX_LIST_ROWS {
            return Err(SessionMessageError::RowCount {
                actual: total,
                max: MAX_LIST_ROWS,
            });
        }
        let mut ids = std::collections::HashSet::new();
        let mut sections = Vec::with_capacity(count);
        for (index, (title, rows)) in self.sections.into_iter().enumerate() {
            let title = title.map(SectionTitle::new).transpose()?;
            if title.is_none() && count > 1 {
                return Err(SessionMessageError::SectionTitleRequired { index });
            }
            if rows.is_empty() {
                return Err(SessionMessageError::EmptySection { index });
            }
            for row in &rows {
                if !ids.insert(row.id.as_str().to_owned()) {
                    return Err(SessionMessageError::Duplicate {
                        what: RowId::WHAT,
                        value: row.id.as_str().to_owned(),
                    });
                }
            }
            sections.push(ListSection { title, rows });
        }
        Ok(SessionMessage(Body::List(ListMessage {
            header,
            body,
            footer,
            button,
            sections,
        })))
    }
}

/// Builds an interactive reply-buttons [`SessionMessage`]; [`build`](Self::build) can fail
/// with a [`SessionMessageError`] (a text too long, no buttons or more than 3, a repeated id or title).
#[derive(Debug, Clone)]
#[must_use]
pub struct ReplyButtonsBuilder {
    header: Option<String>,
    media_header: Option<ReplyHeader>,
    body: String,
    footer: Option<String>,
    buttons: Vec<(String, String)>,
}

impl ReplyButtonsBuilder {
    crate::setters::setters! {
        /// Sets a text header of 1 to 60 characters (replacing a media header).
        fn header(self, header: impl Into<String>) => {
            self.header = Some(header.into());
            self.media_header = None;
        };

        /// Sets an image header (replacing a text header).
        fn image_header(self, url: MediaUrl) => {
            self.header = None;
            self.media_header = Some(ReplyHeader::Image(url));
        };

        /// Sets a video header (replacing a text header).
        fn video_header(self, url: MediaUrl) => {
            self.header = None;
            self.media_header = Some(ReplyHeader::Video(url));
        };

        /// Sets a document header with an optional file name (replacing a text header).
        fn document_header(self, url: MediaUrl, filename: Option<String>) => {
            self.header = None;
            self.media_header = Some(ReplyHeader::Document { url, filename });
        };

        /// Sets a footer of 1 to 60 characters.
        fn footer(self, footer: impl Into<String>) => self.footer = Some(footer.into());

        /// Adds a button: an id of 1 to 256 characters (sent back when tapped) and a title of 1
        /// to 20.
        fn button(self, id: impl Into<String>, title: impl Into<String>) =>
            self.buttons.push((id.into(), title.into()));
    }

    /// Checks the message: the texts' lengths, a non-empty document file name when given,
    /// 1 to 3 buttons, unique ids and unique titles.
    ///
    /// # Errors
    ///
    /// [`SessionMessageError`] naming the first rule broken.
    pub fn build(self) -> Result<SessionMessage, SessionMessageError> {
        let (text_header, body, footer) = check_frame(self.header, self.body, self.footer)?;
        if let Some(ReplyHeader::Document {
            filename: Some(f), ..
        }) = &self.media_header
            && f.trim().is_empty()
        {
            return Err(SessionMessageError::EmptyField { field: "filename" });
        }
        let header = text_header.map(ReplyHeader::Text).or(self.media_header);
        let count = self.buttons.len();
        check_count(count, MAX_REPLY_BUTTONS, |actual, max| {
            SessionMessageError::ReplyButtonCount { actual, max }
        })?;
        let mut buttons: Vec<ReplyButton> = Vec::with_capacity(count);
        for (id, title) in self.buttons {
            let button = ReplyButton {
                id: ReplyButtonId::new(id)?,
                title: ReplyButtonTitle::new(title)?,
            };
            if buttons.iter().any(|b| b.id == button.id) {
                return Err(SessionMessageError::Duplicate {
                    what: ReplyButtonId::WHAT,
                    value: button.id.into_string(),
                });
            }
            if buttons.iter().any(|b| b.title == button.title) {
                return Err(SessionMessageError::Duplicate {
                    what: ReplyButtonTitle::WHAT,
                    value: button.title.into_string(),
                });
            }
            buttons.push(button);
        }
        Ok(SessionMessage(Body::ReplyButtons(ReplyButtonsMessage {
            header,
            body,
            footer,
            buttons,
        })))
    }
}

type Frame = (Option<HeaderText>, BodyText, Option<FooterText>);

/// The header, body and footer every interactive message shares.
fn check_frame(
    header: Option<String>,
    body: String,
    footer: Option<String>,
) -> Result<Frame, SessionMessageError> {
    Ok((
        header.map(HeaderText::new).transpose()?,
        BodyText::new(body)?,
        footer.map(FooterText::new).transpose()?,
    ))
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
enum HeaderWire {
    Text { text: String },
    Image { image: MediaHeaderWire },
    Video { video: MediaHeaderWire },
    Document { document: MediaHeaderWire },
}

#[derive(Serialize, Deserialize)]
struct MediaHeaderWire {
    url: String,
    // `provider: {name}` is read and dropped; the SDK never sends one.
    #[serde(default, skip_serializing)]
    #[allow(dead_code)]
    provider: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    filename: Option<String>,
}

impl MediaHeaderWire {
    fn new(url: &MediaUrl, filename: Option<&String>) -> Self {
        Self {
            url: url.as_str().to_owned(),
            provider: None,
            filename: filename.cloned(),
        }
    }
}

impl HeaderWire {
    fn text(text: &HeaderText) -> Self {
        Self::Text {
            text: text.as_str().to_owned(),
        }
    }

    /// Lists take only a text header.
    fn into_text(self) -> Result<String, SessionMessageError> {
        match self {
            Self::Text { text } => Ok(text),
            _ => Err(SessionMessageError::MediaHeaderNotAllowed),
        }
    }
}

#[derive(Serialize, Deserialize)]
struct TextOnlyWire {
    text: String,
}

/// The header, body and footer a list and a reply-buttons message share on the wire, around
/// the action that tells them apart.
#[derive(Serialize, Deserialize)]
pub(super) struct InteractiveWire<A> {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    header: Option<HeaderWire>,
    body: TextOnlyWire,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    footer: Option<TextOnlyWire>,
    action: A,
}

pub(super) type ListWire = InteractiveWire<ListActionWire>;
pub(super) type ReplyWire = InteractiveWire<ReplyActionWire>;

impl<A> InteractiveWire<A> {
    fn new(
        header: Option<HeaderWire>,
        body: &BodyText,
        footer: Option<&FooterText>,
        action: A,
    ) -> Self {
        Self {
            header,
            body: TextOnlyWire {
                text: body.as_str().to_owned(),
            },
            footer: footer.map(|f| TextOnlyWire {
                text: f.as_str().to_owned(),
            }),
            action,
        }
    }
}

#[derive(Serialize, Deserialize)]
pub(super) struct ListActionWire {
    button: String,
    sections: Vec<SectionWire>,
}

#[derive(Serialize, Deserialize)]
struct SectionWire {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    title: Option<String>,
    rows: Vec<RowWire>,
}

#[derive(Serialize, Deserialize)]
struct RowWire {
    id: String,
    title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    description: Option<String>,
}

#[derive(Serialize, Deserialize)]
pub(super) struct ReplyActionWire {
    buttons: Vec<ButtonWire>,
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
enum ButtonWire {
    Reply { reply: ButtonReplyWire },
}

#[derive(Serialize, Deserialize)]
struct ButtonReplyWire {
    id: String,
    title: String,
}

fn reply_header_wire(header: Option<&ReplyHeader>) -> Option<HeaderWire> {
    header.map(|h| match h {
        ReplyHeader::Text(t) => HeaderWire::text(t),
        ReplyHeader::Image(url) => HeaderWire::Image {
            image: MediaHeaderWire::new(url, None),
        },
        ReplyHeader::Video(url) => HeaderWire::Video {
            video: MediaHeaderWire::new(url, None),
        },
        ReplyHeader::Document { url, filename } => HeaderWire::Document {
            document: MediaHeaderWire::new(url, filename.as_ref()),
        },
    })
}

impl InteractiveWire<ListActionWire> {
    pub(super) fn into_message(self) -> Result<SessionMessage, SessionMessageError> {
        let mut builder = SessionMessage::list(self.body.text, self.action.button);
        builder.header = self.header.map(HeaderWire::into_text).transpose()?;
        builder.footer = self.footer.map(|f| f.text);
        for section in self.action.sections {
            let rows = section
                .rows
                .into_iter()
                .map(|r| {
                    let row = ListRow::new(r.id, r.title)?;
                    match non_empty(r.description) {
                        Some(d) => row.with_description(d),
                        None => Ok(row),
                    }
                })
                .collect::<Result<Vec<_>, _>>()?;
            builder.sections.push((non_empty(section.title), rows));
        }
        builder.build()
    }

    pub(super) fn from_message(l: &ListMessage) -> Self {
        let header = l.header.as_ref().map(HeaderWire::text);
        let action = ListActionWire {
            button: l.button.as_str().to_owned(),
            sections: l
                .sections
                .iter()
                .map(|s| SectionWire {
                    title: s.title.as_ref().map(|t| t.as_str().to_owned()),
                    rows: s
                        .rows
                        .iter()
                        .map(|r| RowWire {
                            id: r.id.as_str().to_owned(),
                            title: r.title.as_str().to_owned(),
                            description: r.description.as_ref().map(|d| d.as_str().to_owned()),
                        })
                        .collect(),
                })
                .collect(),
        };
        Self::new(header, &l.body, l.footer.as_ref(), action)
    }
}

impl InteractiveWire<ReplyActionWire> {
    pub(super) fn into_message(self) -> Result<SessionMessage, SessionMessageError> {
        let mut builder = SessionMessage::reply_buttons(self.body.text);
        match self.header {
            None => {}
            Some(HeaderWire::Text { text }) => builder.header = Some(text),
            Some(HeaderWire::Image { image }) => {
                builder.media_header = Some(ReplyHeader::Image(read_media_url(image.url)?));
            }
            Some(HeaderWire::Video { video }) => {
                builder.media_header = Some(ReplyHeader::Video(read_media_url(video.url)?));
            }
            Some(HeaderWire::Document { document }) => {
                builder.media_header = Some(ReplyHeader::Document {
                    url: read_media_url(document.url)?,
                    filename: non_empty(document.filename),
                });
            }
        }
        builder.footer = self.footer.map(|f| f.text);
        builder.buttons = self
            .action
            .buttons
            .into_iter()
            .map(|ButtonWire::Reply { reply }| (reply.id, reply.title))
            .collect();
        builder.build()
    }

    pub(super) fn from_message(r: &ReplyButtonsMessage) -> Self {
        let action = ReplyActionWire {
            buttons: r
                .buttons
                .iter()
                .map(|b| ButtonWire::Reply {
                    reply: ButtonReplyWire {
                        id: b.id.as_str().to_owned(),
                        title: b.title.as_str().to_owned(),
                    },
                })
                .collect(),
        };
        Self::new(
            reply_header_wire(r.header.as_ref()),
            &r.body,
            r.footer.as_ref(),
            action,
        )
    }
}
