//! Sends one WhatsApp template message and prints what happened.
//!
//! ```text
//! WEBEX_CONNECT_SERVICE_KEY=... WEBEX_CONNECT_APP_ID=a_... WEBEX_CONNECT_REGION=eu \
//!   cargo run --example send_template -- +447400123456 5139722425 name=Jane order=1234
//! ```
//! The recipient is a phone number with its country code, or the business-scoped user id
//! (BSUID, e.g. `US.13491208655302741918`) of a user with a username and no phone number.
//! Each `name=value` fills the template variable `name` with a text value.
//! `WEBEX_CONNECT_BASE_URL` (https, or http on a loopback address) replaces the region.

mod cli;

use std::process::ExitCode;

use webex_connect_whatsapp::client::ClientBuilder;

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [recipient, template_id, params @ ..] = args.as_slice() else {
        eprintln!(
            "usage: send_template {} <template-id> [name=value ...]",
            cli::RECIPIENT_USAGE
        );
        return ExitCode::from(2);
    };
    let prepared = ClientBuilder::from_env()
        .build()
        .map_err(|e| e.to_string())
        .and_then(|client| {
            let to = cli::recipient_from_arg(recipient)?;
            let message = cli::template_from_args(template_id, params)?;
            Ok((client, to, message))
        });
    let (client, to, message) = match prepared {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
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
