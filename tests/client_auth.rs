//! JWT credentials: the minted token is checked with an independent HMAC-SHA256.
#![cfg(feature = "client")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use std::time::{Duration, UNIX_EPOCH};

use base64::Engine as _;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use support::{APP, PATH, phone, queued, text};
use webex_connect_whatsapp::AppId;
use webex_connect_whatsapp::client::{Client, JWT_REFRESH_MARGIN, JwtCredentials};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SECRET_B64: &str = "bXktc2VydmljZS1zZWNyZXQtMTIzNDU2Nzg5MA=="; // "my-service-secret-1234567890"

/// RFC 2104 HMAC over SHA-256, written out here so the test does not share code with the crate.
fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut block = [0_u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let ipad: Vec<u8> = block.iter().map(|b| b ^ 0x36).collect();
    let opad: Vec<u8> = block.iter().map(|b| b ^ 0x5c).collect();
    let inner = Sha256::new()
        .chain_update(&ipad)
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(&opad)
        .chain_update(inner)
        .finalize()
        .to_vec()
}

/// Checks the signature independently and returns the claims.
fn verify(token: &str) -> Value {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "{token}");
    let header: Value = serde_json::from_slice(&b64.decode(parts[0]).unwrap()).unwrap();
    assert_eq!(header, json!({"alg": "HS256", "typ": "JWT"}));
    let key = base64::engine::general_purpose::STANDARD
        .decode(SECRET_B64)
        .unwrap();
    assert_eq!(key, b"my-service-secret-1234567890");
    let expected = hmac_sha256(&key, format!("{}.{}", parts[0], parts[1]).as_bytes());
    assert_eq!(
        b64.decode(parts[2]).unwrap(),
        expected,
        "signature mismatch"
    );
    serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap()
}

#[test]
fn minted_tokens_verify_with_an_independent_hmac() {
    let jwt = JwtCredentials::new("svc-42", SECRET_B64).unwrap();
    let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let claims = verify(&jwt.token_at(now));
    assert_eq!(
        claims,
        json!({"iss": "svc-42", "iat": 1_700_000_000_u64, "exp": 1_700_003_600_u64})
    );
}

#[test]
fn tokens_are_cached_then_refreshed_before_expiry() {
    let jwt = JwtCredentials::new("svc-42", SECRET_B64).unwrap();
    let t0 = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let first = jwt.token_at(t0);
    // Still valid with more than the margin left: the same token.
    let before_refresh = t0 + Duration::from_hours(1) - JWT_REFRESH_MARGIN - Duration::from_secs(1);
    assert_eq!(jwt.token_at(before_refresh), first);
    // Within the margin: a new token, minted at that time, before the old one expired.
    let at_refresh = t0 + Duration::from_hours(1) - JWT_REFRESH_MARGIN;
    let second = jwt.token_at(at_refresh);
    assert_ne!(second, first);
    let claims = verify(&second);
    assert_eq!(claims["iat"], 1_700_003_300_u64);
    assert_eq!(claims["exp"], 1_700_006_900_u64);
}

#[test]
fn secrets_are_checked_and_hidden() {
    assert!(JwtCredentials::new("", SECRET_B64).is_err());
    assert!(JwtCredentials::new("svc", "").is_err());
    let e = JwtCredentials::new("svc", "%%%").unwrap_err();
    assert!(!e.to_string().contains("%%%"), "{e}");
    // Padding is optional.
    assert!(JwtCredentials::new("svc", SECRET_B64.trim_end_matches('=')).is_ok());
    let debug = format!("{:?}", JwtCredentials::new("svc", SECRET_B64).unwrap());
    assert!(!debug.contains(SECRET_B64), "{debug}");
}

/// A client of `server` that authenticates with a JWT for the service `svc-42`.
fn jwt_client(server: &MockServer) -> Client {
    Client::builder()
        .jwt("svc-42", SECRET_B64)
        .app_id(AppId::new(APP).unwrap())
        .base_url(server.uri().parse().unwrap())
        .build()
        .unwrap()
}

#[tokio::test]
async fn jwt_goes_in_the_authorization_header_and_no_key_is_sent() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(queued("t-1")))
        .expect(1)
        .mount(&server)
        .await;
    let client = jwt_client(&server);
    client.send(&phone(1), text("Hi")).await.unwrap();
    let requests = server.received_requests().await.unwrap();
    let request = &requests[0];
    assert!(request.headers.get("key").is_none());
    let auth = request
        .headers
        .get("authorization")
        .unwrap()
        .to_str()
        .unwrap();
    let token = auth.strip_prefix("Bearer ").unwrap();
    let claims = verify(token);
    assert_eq!(claims["iss"], "svc-42");
    let iat = claims["iat"].as_u64().unwrap();
    assert_eq!(claims["exp"].as_u64().unwrap(), iat + 3600);
}

#[tokio::test]
async fn a_refused_token_is_not_sent_again() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(PATH))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(support::rejected("7001", "Authentication failed.")),
        )
        .mount(&server)
        .await;
    let client = jwt_client(&server);
    let first = client.send(&phone(1), text("Hi")).await.unwrap_err();
    assert!(matches!(
        first,
        webex_connect_whatsapp::client::Error::Authentication { .. }
    ));
    // Tokens carry whole seconds: wait into the next one, so a new token differs from the old.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let _ = client.send(&phone(1), text("Hi")).await.unwrap_err();
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 2, "an authentication failure is not resent");
    let token = |i: usize| requests[i].headers.get("authorization").unwrap().clone();
    assert_ne!(
        token(0),
        token(1),
        "the token refused with 7001 was dropped and a new one minted"
    );
}
