//! Sends one WhatsApp text message and prints what happened.
//!
//! ```text
//! WEBEX_CONNECT_SERVICE_KEY=... WEBEX_CONNECT_APP_ID=a_... WEBEX_CONNECT_REGION=eu \
//!   cargo run --example send_text -- +447400123456 "Hello from Rust"
//! ```
//! The recipient is a phone number with its country code, or the business-scoped user id
//! (BSUID, e.g. `US.13491208655302741918`) of a user with a username and no phone number.
//! `WEBEX_CONNECT_BASE_URL` (https, or http on a loopback address) replaces the region.

mod cli;

use std::process::ExitCode;

use webex_connect_whatsapp::SessionMessage;
use webex_connect_whatsapp::client::ClientBuilder;

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [recipient, text] = args.as_slice() else {
        eprintln!("usage: send_text {} <text>", cli::RECIPIENT_USAGE);
        return ExitCode::from(2);
    };
    let client = match ClientBuilder::from_env().build() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let to = match cli::recipient_from_arg(recipient) {
        Ok(to) => to,
        Err(e) => {
            eprintln!("error: {e}");
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
            println!("{to}: {receipt}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            cli::print_error(&to.to_string(), &e);
            ExitCode::FAILURE
        }
    }
}
