//! Sends one personalised template message per row of a CSV file, up to 1000 rows per call.
//!
//! ```text
//! WEBEX_CONNECT_SERVICE_KEY=... WEBEX_CONNECT_APP_ID=a_... WEBEX_CONNECT_REGION=eu \
//!   cargo run --example personalised_batch -- rows.csv 5139722425
//! ```
//!
//! The first column, `phone`, holds the recipient: a phone number with its country code, or a
//! business-scoped user id (`US.13491208655302741918`) for a username user. Every other column
//! is a template variable, named as the template names it:
//!
//! ```text
//! phone,name,payment,amount
//! +447400123456,Ada,A-1042,20.00 EUR
//! US.13491208655302741918,Grace,A-1043,35.50 EUR
//! ```
//!
//! It prints one line per row (the recipient and its transid, or why it was not queued), then
//! a summary, and exits with 0 only when every row was queued. The file is read as the calls
//! need it, so a file of any size runs in bounded memory. `WEBEX_CONNECT_TPS`, when set, caps
//! each call at the tenant's TPS; without it every call carries 1000 rows.
//! `WEBEX_CONNECT_BASE_URL` (https, or http on a loopback address) replaces the region.

use std::io::Write;
use std::process::ExitCode;

use futures_util::StreamExt as _;
use webex_connect_whatsapp::client::{BatchRow, BulkRecipient, ClientBuilder};
use webex_connect_whatsapp::{TemplateId, TemplateMessage};

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut out = std::io::stdout().lock();
    match run(&args, ClientBuilder::from_env(), &mut out).await {
        Ok(summary) if summary.all_queued() => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

/// What happened to the rows.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// Rows read from the file.
    pub rows: u64,
    /// Rows queued by Webex Connect.
    pub queued: u64,
    /// Rows certainly not queued (invalid, or refused).
    pub failed: u64,
    /// Rows that may or may not have been queued: look for their correlation ids in receipts.
    pub outcome_unknown: u64,
}

impl Summary {
    /// Whether every row was queued.
    pub fn all_queued(&self) -> bool {
        self.rows > 0 && self.queued == self.rows
    }
}

/// Reads `rows.csv`, sends each row, writes one line per row and the summary to `out`.
///
/// # Errors
///
/// What stops the whole run (bad arguments, an unreadable file, a client that cannot be
/// built, output that cannot be written), as a line for people.
pub async fn run(
    args: &[String],
    client: ClientBuilder,
    out: &mut dyn Write,
) -> Result<Summary, String> {
    let [path, template_id] = args else {
        return Err("usage: personalised_batch <rows.csv> <template-id>".to_owned());
    };
    let template_id = TemplateId::new(template_id.as_str())
        .map_err(|e| format!("template id {template_id:?}: {e}"))?;
    let client = client.build().map_err(|e| e.to_string())?;
    let mut reader = csv::Reader::from_path(path).map_err(|e| format!("{path}: {e}"))?;
    let header = reader
        .headers()
        .map_err(|e| format!("{path}: {e}"))?
        .clone();
    if header.get(0).map(str::trim) != Some("phone") {
        return Err(format!(
            "{path}: the first column must be `phone` (a phone number or a BSUID), then one \
             column per template variable"
        ));
    }
    let names: Vec<String> = header.iter().skip(1).map(|n| n.trim().to_owned()).collect();

    // Rows that cannot become a message are reported at once; the rest stream to the client.
    let (bad_tx, mut bad_rx) = tokio::sync::mpsc::unbounded_channel::<(u64, String)>();
    let rows = reader
        .into_records()
        .enumerate()
        .filter_map(move |(line, record)| {
            let line = u64::try_from(line).unwrap_or(u64::MAX) + 2; // 1-based, after the header
            let row = record
                .map_err(|e| e.to_string())
                .and_then(|record| row(&template_id, &names, &record));
            match row {
                Ok(row) => Some(row),
                Err(e) => {
                    let _ = bad_tx.send((line, e));
                    None
                }
            }
        });
    let mut results = client.batch().send(rows);
    let mut summary = Summary::default();
    while let Some(r) = results.next().await {
        summary.rows += 1;
        let line = match &r.result {
            Ok(receipt) => {
                summary.queued += 1;
                format!("{}\tqueued\t{receipt}", r.recipient)
            }
            Err(e) if e.is_outcome_unknown() => {
                summary.outcome_unknown += 1;
                format!("{}\tOUTCOME UNKNOWN\t{e}", r.recipient)
            }
            Err(e) => {
                summary.failed += 1;
                format!("{}\tnot queued\t{e}", r.recipient)
            }
        };
        writeln!(out, "{line}").map_err(|e| e.to_string())?;
    }
    while let Ok((line, e)) = bad_rx.try_recv() {
        summary.rows += 1;
        summary.failed += 1;
        writeln!(out, "line {line}\tnot queued\t{e}").map_err(|e| e.to_string())?;
    }
    writeln!(
        out,
        "{} rows: {} queued, {} not queued, {} outcome unknown",
        summary.rows, summary.queued, summary.failed, summary.outcome_unknown
    )
    .map_err(|e| e.to_string())?;
    Ok(summary)
}

/// One CSV record as a batch row: the recipient (checked by the client on the way) and the
/// template with this row's variables.
fn row(
    template_id: &TemplateId,
    names: &[String],
    record: &csv::StringRecord,
) -> Result<BatchRow, String> {
    let to = record.get(0).unwrap_or_default().trim().to_owned();
    let values = record.iter().skip(1).map(str::trim);
    let message = TemplateMessage::builder(template_id.clone())
        .texts(names.iter().map(String::as_str).zip(values))
        .build()
        .map_err(|e| format!("{}: {e}", webex_connect_whatsapp::phone::mask(&to)))?;
    Ok(BatchRow::new(BulkRecipient::Raw(to), message))
}
