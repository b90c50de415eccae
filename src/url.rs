//! The one rule for the URLs this crate hands to the network: https, or http on this machine.
//!
//! The notify URL of a request, a media URL and the client's base URL all follow it: webhooks,
//! media and the service key carry personal data or secrets, so only TLS is allowed, except on
//! a loopback address (the sandbox and tests). Each caller words its own error from
//! [`NotHttps`], so the messages users see stay the ones they know.

use url::{Host, Url};

/// Why a URL broke the https-or-loopback rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NotHttps {
    /// `http` to a host other than this machine.
    PlainHttp,
    /// A scheme other than `https` and `http`; the URL's own scheme names it.
    OtherScheme,
}

/// Whether `url` may be used: `https`, or `http` on a loopback address.
pub(crate) fn https_or_loopback(url: &Url) -> Result<(), NotHttps> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(url) => Ok(()),
        "http" => Err(NotHttps::PlainHttp),
        _ => Err(NotHttps::OtherScheme),
    }
}

/// Whether a URL points at this machine (`127.0.0.0/8`, `::1` or `localhost`).
pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(url: &str) -> Result<(), NotHttps> {
        https_or_loopback(&Url::parse(url).unwrap())
    }

    #[test]
    fn https_anywhere_and_http_only_on_this_machine() {
        assert_eq!(check("https://example.com/x"), Ok(()));
        assert_eq!(check("http://127.0.0.1:9000/x"), Ok(()));
        assert_eq!(check("http://127.8.9.10/x"), Ok(()));
        assert_eq!(check("http://[::1]:8080/x"), Ok(()));
        assert_eq!(check("http://LocalHost/x"), Ok(()));
        assert_eq!(check("http://example.com/x"), Err(NotHttps::PlainHttp));
        assert_eq!(
            check("http://localhost.example.com/x"),
            Err(NotHttps::PlainHttp)
        );
        assert_eq!(check("ftp://127.0.0.1/x"), Err(NotHttps::OtherScheme));
        assert_eq!(check("file:///etc/passwd"), Err(NotHttps::OtherScheme));
    }
}
