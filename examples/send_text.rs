//! Sends one WhatsApp text message and prints what happened.
//!
//! ```text
//! WEBEX_CONNECT_SERVICE_KEY=... WEBEX_CONNECT_APP_ID=a_... WEBEX_CONNECT_REGION=eu \
//!   cargo run --example send_text -- +447400123456 "Hello from Rust"
//! ```
//! `WEBEX_CONNECT_BASE_URL` (https, or http on a loopback address) replaces the region.

use std::process::ExitCode;

use webex_connect_whatsapp::client::ClientBuilder;
use webex_connect_whatsapp::{PhoneNumber, SessionMessage};

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [phone, text] = args.as_slice() else {
        eprintln!("usage: send_text <phone, e.g. +447400123456> <text>");
        return ExitCode::from(2);
    };
    let client = match ClientBuilder::from_env().build() {
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
