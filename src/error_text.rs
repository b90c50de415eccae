//! An error and its causes as one line of text, for serde errors, which carry only text: the
//! session and template messages read back from JSON report a refused value this way.

/// Serde errors carry only text, so the source chain is folded into it; a cause whose text
/// a message already includes (wrappers name their reason) is not repeated.
pub(crate) fn with_sources(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
