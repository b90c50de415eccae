//! Sends one WhatsApp text message and prints what happened.
//!
//! ```text
//! WEBEX_CONNECT_SERVICE_KEY=... WEBEX_CONNECT_APP_ID=a_... WEBEX_CONNECT_REGION=eu \
//!   cargo run --example send_text -- +447400123456 "Hello from Rust"
//! ```
//! `WEBEX_CONNECT_BASE_URL` (https, or http on a loopback address) replaces the region.

mod cli;

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
            println!("{}: {receipt}", to.e164());
            ExitCode::SUCCESS
        }
        Err(e) => {
            cli::print_error(to.e164(), &e);
            ExitCode::FAILURE
        }
    }
}
