//! Sends one WhatsApp template message and prints what happened.
//!
//! ```text
//! WEBEX_CONNECT_SERVICE_KEY=... WEBEX_CONNECT_APP_ID=a_... WEBEX_CONNECT_REGION=eu \
//!   cargo run --example send_template -- +447400123456 5139722425 name=Jane order=1234
//! ```
//! Each `name=value` fills the template variable `name` with a text value.
//! `WEBEX_CONNECT_BASE_URL` (https, or http on a loopback address) replaces the region.

use std::process::ExitCode;

use webex_connect_whatsapp::client::{Client, Region};
use webex_connect_whatsapp::{AppId, PhoneNumber, TemplateId, TemplateMessage};

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

/// Reads `name=value` pairs into the template's text variables.
fn template_from_args(id: &str, params: &[String]) -> Result<TemplateMessage, String> {
    let id = TemplateId::new(id).map_err(|e| format!("template id {id:?}: {e}"))?;
    let mut builder = TemplateMessage::builder(id);
    for p in params {
        let Some((name, value)) = p.split_once('=') else {
            return Err(format!("parameter {p:?} is not name=value"));
        };
        builder = builder.text(name, value);
    }
    builder
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
    let prepared = client_from_env().and_then(|client| {
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
