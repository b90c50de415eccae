//! Every limit the validators enforce, in one place, each with its source.
//!
//! A source is one of: the Webex Connect FAQ or API pages (the platform), Meta (WhatsApp's own
//! rules, where the platform defers to them), a standard (E.164, the DNS and mail RFCs), or
//! UNVERIFIED where no source gives a number and this crate picked one to stop garbage.
//!
//! Lengths are counted in characters (Unicode scalar values) unless a name says otherwise;
//! sizes are in bytes.
//!
//! ```
//! use webex_connect_whatsapp::limits::{MAX_ABOUT_CHARS, MAX_DESTINATIONS, MAX_PHONE_DIGITS};
//!
//! let about = "Fresh bread every morning";
//! assert!(about.chars().count() <= MAX_ABOUT_CHARS);
//! assert_eq!(MAX_PHONE_DIGITS, 15);
//! // A bulk send splits its recipients into calls of at most this many destinations.
//! let recipients: usize = 2_500;
//! assert_eq!(recipients.div_ceil(MAX_DESTINATIONS), 3);
//! ```

// Phone numbers.

/// The most digits an E.164 number has, country code included (ITU-T E.164).
pub const MAX_PHONE_DIGITS: usize = 15;

/// Numbers of at most this many digits after the country code that are not valid numbers
/// are reported as short codes ([`PhoneNumberError::ShortCode`]). WhatsApp refuses short codes.
///
/// [`PhoneNumberError::ShortCode`]: crate::phone::PhoneNumberError::ShortCode
pub const SHORT_CODE_MAX_DIGITS: usize = 6;

// Destinations per call.

/// The most destinations one request may carry (the platform's limits table; error 7009
/// above it).
pub const MAX_DESTINATIONS: usize = 1000;

// Session messages: contacts, interactive.

/// The most contacts one message may carry. UNVERIFIED: the platform documents no limit.
pub const MAX_CONTACTS: usize = 5;

/// The most reply buttons one message may carry (the platform's limits table).
pub const MAX_REPLY_BUTTONS: usize = 3;

/// The most sections one list message may carry (the platform's limits table).
pub const MAX_LIST_SECTIONS: usize = 10;

/// The most rows one list message may carry, counted over all its sections (the platform's
/// limits table).
pub const MAX_LIST_ROWS: usize = 10;

// Media sizes.

/// The Webex Connect FAQ's cap on any media file: 64 MiB (64 × 2^20 = 67,108,864 bytes).
///
/// Per-kind limits ([`MediaKind::max_bytes`]) are counted in 10^6-byte megabytes; the smaller
/// of the two applies.
///
/// [`MediaKind::max_bytes`]: crate::media::MediaKind::max_bytes
pub const MAX_MEDIA_BYTES: u64 = 64 * 1024 * 1024;

/// One megabyte as the per-kind limits count it: 10^6 bytes.
pub const MEGABYTE: u64 = 1_000_000;

/// One kilobyte as the sticker limits count it: 10^3 bytes.
pub const KILOBYTE: u64 = 1_000;

/// Images: 5 MB (WhatsApp).
pub const MAX_IMAGE_BYTES: u64 = 5 * MEGABYTE;

/// Audio: 16 MB (WhatsApp).
pub const MAX_AUDIO_BYTES: u64 = 16 * MEGABYTE;

/// Video: 16 MB (WhatsApp).
pub const MAX_VIDEO_BYTES: u64 = 16 * MEGABYTE;

/// Documents: WhatsApp's 100 MB. [`MAX_MEDIA_BYTES`] is smaller, so 64 MiB applies.
pub const MAX_DOCUMENT_BYTES: u64 = 100 * MEGABYTE;

/// Static stickers: 100 KB (WhatsApp).
pub const MAX_STICKER_BYTES: u64 = 100 * KILOBYTE;

/// Animated stickers: 500 KB (WhatsApp).
pub const MAX_ANIMATED_STICKER_BYTES: u64 = 500 * KILOBYTE;

// Templates: definition.

/// The most buttons a template may have, all kinds together (Meta).
pub const MAX_TEMPLATE_BUTTONS: usize = 10;
/// The most quick-reply buttons a template may have (Meta).
pub const MAX_TEMPLATE_QUICK_REPLY_BUTTONS: usize = 10;
/// The most URL buttons a template may have (Meta).
pub const MAX_TEMPLATE_URL_BUTTONS: usize = 2;
/// The most phone-number buttons a template may have (Meta).
pub const MAX_TEMPLATE_PHONE_BUTTONS: usize = 1;
/// The most copy-code (OTP) buttons a template may have (Meta).
pub const MAX_TEMPLATE_COPY_CODE_BUTTONS: usize = 1;
/// The longest URL of a template's URL button, in characters, placeholder included (Meta).
pub const MAX_BUTTON_URL_CHARS: usize = 2000;
/// The most variables a template's text header may hold (Meta).
pub const MAX_HEADER_VARIABLES: usize = 1;
/// The longest template language code accepted (`en_US`, `pt_BR`, `zh_HK` are 5).
/// UNVERIFIED: the platform documents no limit.
pub const MAX_TEMPLATE_LANGUAGE_CHARS: usize = 15;

// Templates: message parameters.

/// The longest text value for a template's body variable, in characters (Meta). UNVERIFIED:
/// the platform documents no length, only error 7808 "Template param too long".
pub const MAX_TEMPLATE_TEXT_VALUE_CHARS: usize = 1024;
/// The longest text value for a template's header variable, in characters (Meta).
pub const MAX_TEMPLATE_HEADER_VALUE_CHARS: usize = 60;
/// The most consecutive spaces a template's text value may hold (Meta).
pub const MAX_CONSECUTIVE_SPACES: usize = 4;
/// The most quick replies one send may carry on Webex Connect (the platform's limits table).
pub const MAX_QUICK_REPLIES: usize = 3;
/// The longest quick-reply button text, in characters (the button label limit).
pub const MAX_QUICK_REPLY_TEXT_CHARS: usize = 25;
/// The longest OTP value, in characters (the platform's limits table).
pub const MAX_OTP_CHARS: usize = 15;
/// The longest URL-button suffix, in characters (the URL limit).
pub const MAX_URL_SUFFIX_CHARS: usize = 2000;
/// The longest template parameter name, in characters. UNVERIFIED: the platform documents no
/// limit.
pub const MAX_PARAMETER_NAME_CHARS: usize = 512;

// Link options.

/// The most `tagN` labels one request's [`LinkOptions`] may carry.
///
/// UNVERIFIED: the platform documents `tag1..n` with no limit; ten keeps reports readable
/// and is raised easily if the platform documents more.
///
/// [`LinkOptions`]: crate::send::LinkOptions
pub const MAX_LINK_TAGS: usize = 10;

/// The longest link tag, in characters. UNVERIFIED: the platform documents no limit.
pub const MAX_LINK_TAG_CHARS: usize = 255;

/// The longest link-shortening domain, in characters (the DNS limit).
pub const MAX_LINK_DOMAIN_CHARS: usize = 253;

/// The longest label of a link-shortening domain, in characters (the DNS limit).
pub const MAX_LINK_DOMAIN_LABEL_CHARS: usize = 63;

// Business profile: fields.

/// The longest About text the FAQ allows, in characters.
pub const MAX_ABOUT_CHARS: usize = 256;
/// How much of the About text WhatsApp shows today (Meta), in characters. Longer texts get a
/// warning.
pub const META_ABOUT_VISIBLE_CHARS: usize = 139;
/// The longest business profile address the FAQ allows, in characters.
pub const MAX_PROFILE_ADDRESS_CHARS: usize = 256;
/// The longest business profile description the FAQ allows, in characters.
pub const MAX_PROFILE_DESCRIPTION_CHARS: usize = 256;
/// The longest business profile description Meta allows, in characters (the FAQ's limit is
/// stricter).
pub const META_MAX_PROFILE_DESCRIPTION_CHARS: usize = 512;
/// The most websites Meta shows on a profile. More get a warning.
pub const META_MAX_WEBSITES: usize = 2;
/// The longest website URL Meta accepts, in characters. Longer ones get a warning.
pub const META_MAX_WEBSITE_CHARS: usize = 256;

// Business profile: display name.

/// The longest display name accepted. The sources set no limit; this only stops garbage.
pub const MAX_DISPLAY_NAME_CHARS: usize = 512;

/// Display names shorter than this get a warning.
pub const MIN_DISPLAY_NAME_CHARS: usize = 3;

/// All-caps display names with at most this many letters count as acronyms (`IBM`, `BMW AG`)
/// and get no all-caps warning.
pub const MAX_ACRONYM_LETTERS: usize = 5;

// Business profile: email.

/// The longest business profile contact email the FAQ allows, in characters.
pub const MAX_PROFILE_EMAIL_CHARS: usize = 128;
/// The longest local part (before `@`) of a contact email, in characters (RFC 5321).
pub const MAX_EMAIL_LOCAL_CHARS: usize = 64;
/// The longest domain label of a contact email, in characters (RFC 1035).
pub const MAX_EMAIL_LABEL_CHARS: usize = 63;

// Business profile: image.

/// The smallest width and height of a profile image, in pixels (FAQ; Meta's own minimum is
/// 192×192).
pub const MIN_PROFILE_IMAGE_PIXELS: u32 = 1024;

/// How far from square a profile image may be: the long side divided by the short side is at
/// most 1.1 (the FAQ asks for "1:1 or a squarish aspect ratio"), written as 11/10.
pub const MAX_PROFILE_IMAGE_ASPECT: (u32, u32) = (11, 10);
