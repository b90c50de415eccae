//! Sends one WhatsApp text message and prints what happened.
//!
//! ```text
//! WEBEX_CONNECT_SERVICE_KEY=... WEBEX_CONNECT_APP_ID=a_... WEBEX_CONNECT_REGION=eu \
//!   cargo run --example send_text -- +447400123456 "Hello from Rust"
//! ```
//! `WEBEX_CONNECT_BASE_URL` (https, or http on a loopback address) replaces the region.

use std::process::ExitCode;

use webex_connect_whatsapp::client::{Client, Region};
use webex_connect_whatsapp::{AppId, PhoneNumber, SessionMessage};

fn env(name: &str) -> Result<String, String> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| format!("environment variable {name} is not set"))
}

/// Builds the client from `WEBEX_CONNECT_*` variables, naming the one that is missing.
fn client_from_env() -> Result<Client, String> {
    let key = env("WEBEX_CONNECT_SERVICE_KEY")?;
    let app = AppId::new(env("WEBEX_CONNECT_APP_ID")?)
        .map_err(|e| format!("WEBEX_CONNECT_APP_ID: {e}"))?;
    let builder = Client::builder().service_key(key).app_id(app);
    let builder = match (env("WEBEX_CONNECT_BASE_URL"), env("WEBEX_CONNECT_REGION")) {
        (Ok(url), _) => builder.base_url(
            url.parse()
                .map_err(|e| format!("WEBEX_CONNECT_BASE_URL {url:?}: {e}"))?,
        ),
        (Err(_), Ok(region)) => builder.region(
            region
                .parse::<Region>()
                .map_err(|e| format!("WEBEX_CONNECT_REGION: {e}"))?,
        ),
        (Err(_), Err(_)) => {
            return Err(
                "set WEBEX_CONNECT_REGION (us, us1, eu, uk, ca, au, in) or WEBEX_CONNECT_BASE_URL"
                    .to_owned(),
            );
        }
    };
    builder.build().map_err(|e| e.to_string())
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [phone, text] = args.as_slice() else {
        eprintln!("usage: send_text <phone, e.g. +447400123456> <text>");
        return ExitCode::from(2);
    };
    let client = match client_from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let to = match PhoneNumber::parse(phone) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {phone:?}: {e}");
            return ExitCode::from(2);
        }
    };
    let message = match SessionMessage::text(text.as_str()) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("error: invalid text: {e}");
            return ExitCode::from(2);
        }
    };
    match client.send(&to, message).await {
        Ok(receipt) => {
            println!(
                "{}: queued, transid {}, correlation id {}",
                to.e164(),
                receipt.transid.as_ref().map_or("(none)", |t| t.as_str()),
                receipt
                    .correlation_id
                    .as_ref()
                    .map_or("(none)", |c| c.as_str()),
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            print_error(to.e164(), &e);
            ExitCode::FAILURE
        }
    }
}

fn print_error(to: &str, e: &webex_connect_whatsapp::client::Error) {
    let verdict = if e.is_outcome_unknown() {
        "OUTCOME UNKNOWN"
    } else {
        "not queued"
    };
    eprintln!("{to}: {verdict}: {e}");
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        eprintln!("  caused by: {s}");
        source = s.source();
    }
}
