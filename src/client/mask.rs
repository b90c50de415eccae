//! Masking of phone numbers for logs and error messages.

/// Keeps the first and last four characters and hides the middle: `4474****3456`.
///
/// Shorter inputs (they are not valid numbers anyway) keep at most their last two characters.
pub(crate) fn mask_phone(value: &str) -> String {
    let chars: Vec<char> = value.chars().filter(|c| !c.is_whitespace()).collect();
    let n = chars.len();
    if n >= 9 {
        let head: String = chars.iter().take(4).collect();
        let tail: String = chars.iter().skip(n - 4).collect();
        format!("{head}****{tail}")
    } else {
        let tail: String = chars.iter().skip(n.saturating_sub(2)).collect();
        format!("****{tail}")
    }
}

#[cfg(test)]
mod tests {
    use super::mask_phone;

    #[test]
    fn masks_the_middle() {
        assert_eq!(mask_phone("447400123456"), "4474****3456");
        assert_eq!(mask_phone("+447400123456"), "+447****3456");
        assert_eq!(mask_phone("12345"), "****45");
        assert_eq!(mask_phone(""), "****");
    }
}
