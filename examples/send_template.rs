//! Sends one WhatsApp template message and prints what happened.
//!
//! ```text
//! WEBEX_CONNECT_SERVICE_KEY=... WEBEX_CONNECT_APP_ID=a_... WEBEX_CONNECT_REGION=eu \
//!   cargo run --example send_template -- +447400123456 5139722425 name=Jane order=1234
//! ```
//! Each `name=value` fills the template variable `name` with a text value.
//! `WEBEX_CONNECT_BASE_URL` (https, or http on a loopback address) replaces the region.

use std::process::ExitCode;

use webex_connect_whatsapp::client::ClientBuilder;
use webex_connect_whatsapp::{PhoneNumber, TemplateId, TemplateMessage};

/// Reads `name=value` pairs into the template's text variables.
fn template_from_args(id: &str, params: &[String]) -> Result<TemplateMessage, String> {
    let id = TemplateId::new(id).map_err(|e| format!("template id {id:?}: {e}"))?;
    let pairs = params
        .iter()
        .map(|p| {
            p.split_once('=')
                .ok_or(format!("parameter {p:?} is not name=value"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    TemplateMessage::builder(id)
        .texts(pairs)
        .build()
        .map_err(|e| format!("invalid template message: {e}"))
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [phone, template_id, params @ ..] = args.as_slice() else {
        eprintln!("usage: send_template <phone> <template-id> [name=value ...]");
        return ExitCode::from(2);
    };
    let prepared = ClientBuilder::from_env()
        .build()
        .map_err(|e| e.to_string())
        .and_then(|client| {
            let to = PhoneNumber::parse(phone).map_err(|e| format!("{phone:?}: {e}"))?;
            let message = template_from_args(template_id, params)?;
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
            let verdict = if e.is_outcome_unknown() {
                "OUTCOME UNKNOWN"
            } else {
                "not queued"
            };
            eprintln!("{}: {verdict}: {e}", to.e164());
            if let Some(source) = std::error::Error::source(&e) {
                eprintln!("  caused by: {source}");
            }
            ExitCode::FAILURE
        }
    }
}
