//! `x-hub-signature` checks against RFC 4231 HMAC vectors.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use reqwest::header::{HeaderMap, HeaderValue};
#[cfg(feature = "legacy-sha1")]
use webex_connect_whatsapp::webhook::signature::VerifyOptions;
use webex_connect_whatsapp::webhook::signature::{
    self, HEADER, SignatureAlgorithm, SignatureError, WebhookSecret,
};

/// RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
const KEY: &str = "Jefe";
const DATA: &[u8] = b"what do ya want for nothing?";
const SHA256: &str = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
const SHA512: &str = "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554\
9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737";

fn secret() -> WebhookSecret {
    WebhookSecret::new(KEY).unwrap()
}

#[test]
fn sign_matches_rfc_4231() {
    assert_eq!(
        signature::sign(SignatureAlgorithm::Sha256, &secret(), DATA),
        SHA256
    );
    assert_eq!(
        signature::sign(SignatureAlgorithm::Sha512, &secret(), DATA),
        SHA512
    );
}

/// RFC 4231 test case 1: a 20-byte key of 0x0b over "Hi There".
#[test]
fn sign_matches_rfc_4231_binary_key() {
    let key = WebhookSecret::from_bytes(vec![0x0b; 20]).unwrap();
    assert_eq!(
        signature::sign(SignatureAlgorithm::Sha256, &key, b"Hi There"),
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
    );
}

#[test]
fn verify_value_accepts_every_documented_form() {
    let s = secret();
    assert_eq!(
        signature::verify_value(SHA256, DATA, &s),
        Ok(SignatureAlgorithm::Sha256)
    );
    assert_eq!(
        signature::verify_value(SHA512, DATA, &s),
        Ok(SignatureAlgorithm::Sha512)
    );
    let prefixed = format!("sha256={SHA256}");
    assert_eq!(
        signature::verify_value(&prefixed, DATA, &s),
        Ok(SignatureAlgorithm::Sha256)
    );
    let prefixed = format!("SHA512={}", SHA512.to_uppercase());
    assert_eq!(
        signature::verify_value(&prefixed, DATA, &s),
        Ok(SignatureAlgorithm::Sha512)
    );
    let spaced = format!("  {SHA256}\t");
    assert_eq!(
        signature::verify_value(spaced.as_bytes(), DATA, &s),
        Ok(SignatureAlgorithm::Sha256)
    );
}

#[test]
fn verify_finds_the_header_in_any_case() {
    let s = secret();
    assert_eq!(
        signature::verify([("X-Hub-Signature", SHA256)], DATA, &s),
        Ok(SignatureAlgorithm::Sha256)
    );
    let headers = vec![
        ("content-type".to_owned(), b"application/json".to_vec()),
        (HEADER.to_uppercase(), SHA512.as_bytes().to_vec()),
    ];
    assert_eq!(
        signature::verify(headers, DATA, &s),
        Ok(SignatureAlgorithm::Sha512)
    );
}

#[test]
fn verify_works_with_an_http_header_map() {
    let mut headers = HeaderMap::new();
    headers.insert("x-hub-signature", HeaderValue::from_static(SHA256));
    assert_eq!(
        signature::verify(&headers, DATA, &secret()),
        Ok(SignatureAlgorithm::Sha256)
    );
    assert_eq!(
        signature::verify(&HeaderMap::new(), DATA, &secret()),
        Err(SignatureError::Missing)
    );
}

#[test]
fn mismatches() {
    let s = secret();
    assert_eq!(
        signature::verify_value(SHA256, b"what do ya want for nothing!", &s),
        Err(SignatureError::Mismatch)
    );
    let other = WebhookSecret::new("jefe").unwrap();
    assert_eq!(
        signature::verify_value(SHA256, DATA, &other),
        Err(SignatureError::Mismatch)
    );
    let mut flipped = SHA256.to_owned();
    flipped.replace_range(0..1, "6");
    assert_eq!(
        signature::verify_value(&flipped, DATA, &s),
        Err(SignatureError::Mismatch)
    );
}

#[test]
fn malformed_values() {
    let s = secret();
    for bad in [
        "",
        "abc",
        &SHA256[..63],
        &format!("{SHA256}0"),
        &format!("sha512={SHA256}"),
        &format!("sha1={SHA256}"),
        &SHA256.replace('5', "g"),
    ] {
        let err = signature::verify_value(bad, DATA, &s).unwrap_err();
        assert!(
            matches!(err, SignatureError::Malformed { .. }),
            "{bad:?}: {err:?}"
        );
    }
    let err = signature::verify_value("abc", DATA, &s).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the x-hub-signature header is malformed: the signature is 3 characters long, but it must be 64 (SHA-256) or 128 (SHA-512) hex digits"
    );
    assert!(matches!(
        signature::verify_value([0xff, 0xfe], DATA, &s),
        Err(SignatureError::Malformed { .. })
    ));
}

#[test]
fn the_secret_never_prints() {
    let s = WebhookSecret::new("super-secret-value").unwrap();
    assert_eq!(format!("{s:?}"), "WebhookSecret(***)");
    assert_eq!(s.to_string(), "***");
    let errors = [
        signature::verify_value("zz", DATA, &s).unwrap_err(),
        signature::verify_value(SHA256, DATA, &s).unwrap_err(),
        signature::verify([("a", "b")], DATA, &s).unwrap_err(),
    ];
    for err in errors {
        assert!(!format!("{err} {err:?}").contains("super-secret-value"));
    }
    assert_eq!(WebhookSecret::new(""), Err(SignatureError::EmptySecret));
}

#[test]
fn signing_a_fixture_round_trips() {
    let body = std::fs::read(format!(
        "{}/tests/fixtures/delivery_delivered.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let s = WebhookSecret::new("webhook-secret").unwrap();
    for algorithm in [SignatureAlgorithm::Sha256, SignatureAlgorithm::Sha512] {
        let sig = signature::sign(algorithm, &s, &body);
        assert_eq!(sig.len(), algorithm.hex_len());
        assert!(
            sig.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        );
        let header = format!("{}{sig}", algorithm.prefix());
        assert_eq!(
            signature::verify([(HEADER, header)], &body, &s),
            Ok(algorithm)
        );
    }
}

/// RFC 2202 test case 2: HMAC-SHA1 with key "Jefe" over "what do ya want for nothing?".
#[cfg(feature = "legacy-sha1")]
const SHA1: &str = "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79";

#[cfg(feature = "legacy-sha1")]
#[test]
fn sha1_is_refused_by_default_and_says_how_to_allow_it() {
    let s = secret();
    assert_eq!(signature::sign(SignatureAlgorithm::Sha1, &s, DATA), SHA1);
    for value in [SHA1.to_owned(), format!("sha1={SHA1}"), SHA1.to_uppercase()] {
        let err = signature::verify_value(&value, DATA, &s).unwrap_err();
        assert_eq!(err, SignatureError::LegacySha1NotAllowed, "{value}");
        let text = err.to_string();
        assert!(text.contains("SHA-1"), "{text}");
        assert!(text.contains("allow_legacy_sha1"), "{text}");
        assert!(text.contains("SHA-256"), "{text}");
    }
    // Refused before any comparison: a wrong SHA-1 gives the same answer, not a mismatch.
    let wrong = "0".repeat(40);
    assert_eq!(
        signature::verify_value(&wrong, DATA, &s),
        Err(SignatureError::LegacySha1NotAllowed)
    );
    let headers = [(HEADER, SHA1)];
    assert_eq!(
        signature::verify(headers, DATA, &s),
        Err(SignatureError::LegacySha1NotAllowed)
    );
}

#[cfg(feature = "legacy-sha1")]
#[test]
fn sha1_is_accepted_when_explicitly_allowed() {
    let s = secret();
    let legacy = VerifyOptions::default().allow_legacy_sha1();
    assert_eq!(
        signature::verify_value_with(SHA1, DATA, &s, legacy),
        Ok(SignatureAlgorithm::Sha1)
    );
    assert_eq!(
        signature::verify_value_with(format!("SHA1={SHA1}"), DATA, &s, legacy),
        Ok(SignatureAlgorithm::Sha1)
    );
    assert_eq!(
        signature::verify_with([(HEADER, SHA1)], DATA, &s, legacy),
        Ok(SignatureAlgorithm::Sha1)
    );
    assert_eq!(
        signature::verify_value_with("0".repeat(40), DATA, &s, legacy),
        Err(SignatureError::Mismatch)
    );
    // The modern algorithms still work with the option.
    assert_eq!(
        signature::verify_value_with(SHA256, DATA, &s, legacy),
        Ok(SignatureAlgorithm::Sha256)
    );
}

#[test]
fn a_secret_with_surrounding_whitespace_is_trimmed() {
    // A secret read from a file or an environment variable often ends with a newline.
    let padded = WebhookSecret::new("  Jefe\n").unwrap();
    assert_eq!(padded, secret());
    assert_eq!(
        signature::sign(SignatureAlgorithm::Sha256, &padded, DATA),
        SHA256
    );
    assert_eq!(
        signature::verify_value(SHA256, DATA, &padded),
        Ok(SignatureAlgorithm::Sha256)
    );
    assert_eq!(
        WebhookSecret::new(" \t\n").unwrap_err(),
        SignatureError::EmptySecret
    );
    // Bytes are kept exactly: a binary key may end with any byte.
    assert_ne!(
        WebhookSecret::from_bytes(b"Jefe\n".to_vec()).unwrap(),
        secret()
    );
}
