//! What the command-line examples share: recipient and template arguments, and printing a
//! failed send.
#![allow(dead_code, reason = "each example uses the part it needs")]

use webex_connect_whatsapp::client::Error;
use webex_connect_whatsapp::{Recipient, TemplateId, TemplateMessage};

/// How usage lines name the recipient argument.
pub(crate) const RECIPIENT_USAGE: &str =
    "<phone, e.g. +447400123456, or BSUID, e.g. US.13491208655302741918>";

/// Reads a recipient argument: a BSUID (`US.…`, for users with a username and no phone
/// number) or a phone number with its country code.
pub(crate) fn recipient_from_arg(arg: &str) -> Result<Recipient, String> {
    Recipient::parse(arg).map_err(|e| {
        let cause = std::error::Error::source(&e).map(ToString::to_string);
        match cause {
            Some(cause) => format!("{arg:?} is {e}: {cause}"),
            None => format!("{arg:?} is {e}"),
        }
    })
}

/// Reads `name=value` pairs into the template's text variables.
pub(crate) fn template_from_args(id: &str, params: &[String]) -> Result<TemplateMessage, String> {
    let id = TemplateId::new(id).map_err(|e| format!("template id {id:?}: {e}"))?;
    let pairs = params
        .iter()
        .map(|p| {
            p.split_once('=')
                .ok_or(format!("parameter {p:?} is not name=value"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    TemplateMessage::builder(id)
        .texts(pairs)
        .build()
        .map_err(|e| format!("invalid template message: {e}"))
}

/// Whether a retry could duplicate the message: the one thing a caller must know.
pub(crate) fn verdict(e: &Error) -> &'static str {
    if e.is_outcome_unknown() {
        "OUTCOME UNKNOWN"
    } else {
        "not queued"
    }
}

/// Prints a failed send with its chain of causes.
pub(crate) fn print_error(to: &str, e: &Error) {
    eprintln!("{to}: {}: {e}", verdict(e));
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        eprintln!("  caused by: {s}");
        source = s.source();
    }
}
