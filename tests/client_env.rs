//! `ClientBuilder::from_env` with real environment variables.
//!
//! The process environment is shared by every thread, and changing it is `unsafe` (forbidden
//! in this crate), so the test runs itself again as a child process with the variables set:
//! nothing here races another test, and the parent's environment is never touched.
#![cfg(feature = "client")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use base64::Engine as _;
use hmac::{Hmac, Mac as _};
use serde_json::Value;
use sha2::Sha256;
use support::{PATH, mock_answering, phone, queued, text};
use webex_connect_whatsapp::client::{
    APP_ID_VAR, BASE_URL_VAR, ClientBuilder, REGION_VAR, SERVICE_ID_VAR, SERVICE_KEY_VAR,
    SERVICE_SECRET_VAR, TPS_VAR,
};
use wiremock::ResponseTemplate;

/// Set in the child: which scenario to run.
const CHILD_VAR: &str = "CLIENT_ENV_TEST_CHILD";
/// This test's name, for the child's `--exact` filter.
const TEST_NAME: &str = "from_env_reads_jwt_credentials_from_the_process_environment";

const SERVICE_ID: &str = "svc-env-42";
const SECRET_PLAIN: &[u8] = b"my-service-secret-1234567890";
const SECRET_B64: &str = "bXktc2VydmljZS1zZWNyZXQtMTIzNDU2Nzg5MA==";
const KEY: &str = "env-service-key-0123456789";

/// Runs this test binary again as a child with exactly `vars` among the Webex Connect
/// variables; returns its stdout and stderr.
async fn child(scenario: &str, vars: &[(&str, &str)]) -> String {
    let mut command = tokio::process::Command::new(std::env::current_exe().unwrap());
    command
        .args(["--exact", TEST_NAME, "--nocapture", "--test-threads", "1"])
        .env(CHILD_VAR, scenario);
    for name in [
        SERVICE_KEY_VAR,
        SERVICE_ID_VAR,
        SERVICE_SECRET_VAR,
        APP_ID_VAR,
        REGION_VAR,
        BASE_URL_VAR,
        TPS_VAR,
    ] {
        command.env_remove(name);
    }
    for (name, value) in vars {
        command.env(name, value);
    }
    let output = command.output().await.unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "child {scenario} failed:\n{text}");
    text
}

/// What the child does: build from the environment, then send or report the error.
async fn run_child(scenario: &str) {
    match ClientBuilder::from_env().build() {
        Ok(client) => {
            assert_eq!(scenario, "send", "the client should not have been built");
            client.send(&phone(1), text("Hi")).await.unwrap();
            println!("CHILD-SENT");
        }
        Err(error) => {
            assert_ne!(scenario, "send", "{error}");
            println!("CHILD-ERROR display=[{error}] debug=[{error:?}]");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn from_env_reads_jwt_credentials_from_the_process_environment() {
    if let Ok(scenario) = std::env::var(CHILD_VAR) {
        run_child(&scenario).await;
        return;
    }
    let server = mock_answering(ResponseTemplate::new(200).set_body_json(queued("t-env"))).await;
    let base = server.uri();
    let app = support::APP;

    // A key and a JWT pair: the JWT is used, and the key is not sent at all.
    let out = child(
        "send",
        &[
            (SERVICE_KEY_VAR, KEY),
            (SERVICE_ID_VAR, SERVICE_ID),
            (SERVICE_SECRET_VAR, SECRET_B64),
            (APP_ID_VAR, app),
            (BASE_URL_VAR, &base),
        ],
    )
    .await;
    assert!(out.contains("CHILD-SENT"), "{out}");
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.url.path(), PATH);
    assert!(
        request.headers.get("key").is_none(),
        "the key must not be sent"
    );
    let authorization = request.headers["authorization"].to_str().unwrap();
    let token = authorization.strip_prefix("Bearer ").unwrap();
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3);
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let claims: Value = serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap();
    assert_eq!(claims["iss"], SERVICE_ID);
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET_PLAIN).unwrap();
    mac.update(format!("{}.{}", parts[0], parts[1]).as_bytes());
    mac.verify_slice(&b64.decode(parts[2]).unwrap()).unwrap();

    // Half a pair: the missing variable is named.
    let out = child(
        "error",
        &[
            (SERVICE_ID_VAR, SERVICE_ID),
            (APP_ID_VAR, app),
            (BASE_URL_VAR, &base),
        ],
    )
    .await;
    assert!(
        out.contains("environment variable WEBEX_CONNECT_SERVICE_SECRET is not set"),
        "{out}"
    );

    // An invalid secret: the variable is named, its value never shown.
    let bad_secret = "s3cr3t*value*not*base64";
    let out = child(
        "error",
        &[
            (SERVICE_ID_VAR, SERVICE_ID),
            (SERVICE_SECRET_VAR, bad_secret),
            (APP_ID_VAR, app),
            (BASE_URL_VAR, &base),
        ],
    )
    .await;
    assert!(
        out.contains("environment variable WEBEX_CONNECT_SERVICE_SECRET is invalid"),
        "{out}"
    );
    assert!(!out.contains("s3cr3t"), "{out}");
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}
