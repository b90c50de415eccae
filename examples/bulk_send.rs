//! Sends one template to every recipient of a file (one per line: a phone number with its
//! country code, or a business-scoped user id such as `US.13491208655302741918`) and prints
//! each outcome.
//!
//! ```text
//! WEBEX_CONNECT_SERVICE_KEY=... WEBEX_CONNECT_APP_ID=a_... WEBEX_CONNECT_REGION=eu \
//!   cargo run --example bulk_send -- numbers.txt 5139722425 name=Customer
//! ```
//! Set `WEBEX_CONNECT_TPS` to the tenant's transactions per second to pace the send.
//! `WEBEX_CONNECT_BASE_URL` (https, or http on a loopback address) replaces the region.

mod cli;

use std::io::BufRead as _;
use std::process::ExitCode;

use futures_util::StreamExt as _;
use webex_connect_whatsapp::client::ClientBuilder;

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [file, template_id, params @ ..] = args.as_slice() else {
        eprintln!(
            "usage: bulk_send <file with one phone number or BSUID per line> <template-id> \
             [name=value ...]"
        );
        return ExitCode::from(2);
    };
    let prepared = ClientBuilder::from_env()
        .build()
        .map_err(|e| e.to_string())
        .and_then(|client| {
            let message = cli::template_from_args(template_id, params)?;
            let reader = std::fs::File::open(file)
                .map(std::io::BufReader::new)
                .map_err(|e| format!("cannot open {file}: {e}"))?;
            Ok((client, message, reader))
        });
    let (client, message, reader) = match prepared {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    // Lines are read lazily, as batches are needed; blank lines are skipped.
    let lines = reader
        .lines()
        .map_while(Result::ok)
        .filter(|l| !l.trim().is_empty());
    let mut results = client.bulk(message).send(lines);
    while let Some(r) = results.next().await {
        match &r.result {
            Ok(receipt) => println!("line {}: {}: {receipt}", r.index + 1, r.recipient),
            Err(e) => println!(
                "line {}: {}: {}: {e}",
                r.index + 1,
                r.recipient,
                cli::verdict(e)
            ),
        }
    }
    let p = results.progress();
    println!(
        "total {}, queued {}, failed {}, outcome unknown {}",
        p.total, p.queued, p.failed, p.outcome_unknown
    );
    if p.failed == 0 && p.outcome_unknown == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
