//! Sends one personalised template message per row of a CSV file, up to 1000 rows per call,
//! and, with a send journal, picks up after a crash or a kill without sending any row twice.
//!
//! ```text
//! WEBEX_CONNECT_SERVICE_KEY=... WEBEX_CONNECT_APP_ID=a_... WEBEX_CONNECT_REGION=eu \
//!   cargo run --example personalised_batch -- rows.csv 5139722425 --journal rows.journal
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
//! It prints one line per row on stdout, tab-separated: `line N`, the recipient (masked), the
//! status (`queued`, `not queued` or `OUTCOME UNKNOWN`), the row's correlation id, and the
//! transid or the reason; then a summary. A progress line goes to stderr every second (a bar
//! redrawn in place when stderr is a terminal). The file is read as the calls need it, so a
//! file of any size runs in bounded memory (the journal, when given, keeps about 400 bytes
//! per row). `WEBEX_CONNECT_TPS`, when set, caps each call at the tenant's TPS;
//! `WEBEX_CONNECT_BASE_URL` (https, or http on a loopback address) replaces the region.
//!
//! # Options
//!
//! - `--journal PATH`: record every row in a send journal (a JSON-lines file, created if
//!   missing, synced before each call and after its answer) and resume from it.
//! - `--batch-size N`: at most `N` rows per call (1 to 1000; default 1000, or the TPS). Fewer
//!   rows per call means fewer rows of unknown outcome if the process is killed.
//! - `--reconcile RECEIPTS` (needs `--journal`): first read a file of delivery receipt
//!   webhook bodies, one JSON object per line, and record every row a receipt names as queued.
//! - `--not-seen-after SECS` (needs `--journal`): then mark rows whose outcome is still unknown
//!   `SECS` seconds after their call as "not seen" in receipts.
//! - `--resend-not-seen` (needs `--journal`): send rows marked "not seen" again. A receipt
//!   that was only late or lost means such a row reaches its recipient twice, so this is never
//!   the default.
//!
//! # Running it again
//!
//! Run it again with the same arguments after a crash, a kill or a run with failures. Each
//! row's correlation id is derived from the template id and the row's line (`<12 hex>-<line>`),
//! so the journal knows every row again. A row is then:
//!
//! | journal says | the run |
//! |---|---|
//! | nothing (a new row) | sends it |
//! | queued | skips it, reports `queued` |
//! | not queued, and nothing was processed (a rate limit, a connection that failed) | sends it |
//! | not queued, refused (an invalid parameter) | skips it, reports `not queued`; sends it if its row was corrected since |
//! | in flight (the run stopped during its call), unknown (5xx, timeout), not seen | **never sends it**: reports `OUTCOME UNKNOWN` with its correlation id, until a receipt resolves it (`--reconcile`); a not-seen row is sent only with `--resend-not-seen` |
//!
//! A journal that recorded a different recipient or message for a row that was, or may have
//! been, sent (the file changed since, or the journal is another campaign's), or that holds
//! such rows this file does not have, is refused before anything is sent.
//!
//! # Exit codes
//!
//! | code | meaning |
//! |---|---|
//! | 0 | every row is queued (in this run or an earlier one) |
//! | 1 | every row's outcome is known, and some rows were not queued |
//! | 2 | usage or setup error: bad arguments, an unreadable file, a journal locked by another run; nothing was sent |
//! | 3 | some rows' outcome is unknown: reconcile them before sending them again |
//! | 4 | the journal does not match the file; nothing was sent |

use std::collections::HashSet;
use std::fmt;
use std::fs::File;
use std::io::{BufRead as _, BufReader, IsTerminal as _, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt as _;
use futures_util::stream;
use time::OffsetDateTime;
use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior};
use webex_connect_whatsapp::client::{BatchRow, BulkProgress, BulkResult, ClientBuilder};
use webex_connect_whatsapp::conversation::journal::reconcile::{mark_not_seen, reconcile_receipt};
use webex_connect_whatsapp::conversation::journal::{
    ContentDigest, FileJournal, Journal as _, JournalEntry, SendState,
};
use webex_connect_whatsapp::phone::mask;
use webex_connect_whatsapp::send::Destination;
use webex_connect_whatsapp::webhook::{self, WebhookEvent};
use webex_connect_whatsapp::{CorrelationId, Recipient, TemplateId, TemplateMessage};

/// Every row is queued.
pub const EXIT_ALL_QUEUED: u8 = 0;
/// Every row's outcome is known, and some were not queued.
pub const EXIT_NOT_QUEUED: u8 = 1;
/// Bad arguments or setup; nothing was sent.
pub const EXIT_USAGE: u8 = 2;
/// Some rows may or may not have been queued.
pub const EXIT_OUTCOME_UNKNOWN: u8 = 3;
/// The journal does not match the file; nothing was sent.
pub const EXIT_JOURNAL_MISMATCH: u8 = 4;

/// How often the progress line is drawn.
const PROGRESS_EVERY: Duration = Duration::from_secs(1);

const USAGE: &str = "usage: personalised_batch <rows.csv> <template-id> [--journal PATH] \
    [--batch-size N] [--reconcile RECEIPTS] [--not-seen-after SECS] [--resend-not-seen]";

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    ExitCode::from(cli(&args, ClientBuilder::from_env()).await)
}

/// Runs the example on this process's stdout and stderr, and returns its exit code.
pub async fn cli(args: &[String], client: ClientBuilder) -> u8 {
    let stderr = std::io::stderr();
    let style = if stderr.is_terminal() {
        ProgressStyle::Bar
    } else {
        ProgressStyle::Lines
    };
    let mut progress = Progress::new(stderr, style);
    let mut out = std::io::stdout().lock();
    match run(args, client, &mut out, &mut progress).await {
        Ok(summary) => summary.exit_code(),
        Err(failure) => {
            progress.message(&format!("error: {failure}"));
            failure.exit_code()
        }
    }
}

/// Why a run stopped before it could report on its rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// Bad arguments, an unreadable file, a client or a journal that cannot be set up, output
    /// that cannot be written.
    Setup(String),
    /// The journal recorded rows that this file does not hold as they were sent.
    Mismatch(String),
}

impl Failure {
    /// The exit code for it: [`EXIT_USAGE`] or [`EXIT_JOURNAL_MISMATCH`].
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Setup(_) => EXIT_USAGE,
            Self::Mismatch(_) => EXIT_JOURNAL_MISMATCH,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Setup(reason) | Self::Mismatch(reason) => f.write_str(reason),
        }
    }
}

fn setup(reason: impl Into<String>) -> Failure {
    Failure::Setup(reason.into())
}

/// The command line, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The CSV file.
    pub csv: PathBuf,
    /// The template every row fills in.
    pub template_id: TemplateId,
    /// `--journal PATH`.
    pub journal: Option<PathBuf>,
    /// `--batch-size N`.
    pub batch_size: Option<usize>,
    /// `--reconcile RECEIPTS`.
    pub reconcile: Option<PathBuf>,
    /// `--not-seen-after SECS`.
    pub not_seen_after: Option<Duration>,
    /// `--resend-not-seen`.
    pub resend_not_seen: bool,
}

impl Options {
    /// Reads the arguments (without the program name).
    ///
    /// # Errors
    ///
    /// [`Failure::Setup`] with what is wrong and the usage line.
    pub fn parse(args: &[String]) -> Result<Self, Failure> {
        let bad = |what: String| setup(format!("{what}\n{USAGE}"));
        let mut positional = Vec::new();
        let mut journal = None;
        let mut batch_size = None;
        let mut reconcile = None;
        let mut not_seen_after = None;
        let mut resend_not_seen = false;
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let mut value = || {
                args.next()
                    .cloned()
                    .ok_or_else(|| bad(format!("{arg} needs a value")))
            };
            match arg.as_str() {
                "--journal" => journal = Some(PathBuf::from(value()?)),
                "--reconcile" => reconcile = Some(PathBuf::from(value()?)),
                "--batch-size" => {
                    let n = value()?;
                    batch_size = Some(
                        n.parse::<usize>()
                            .ok()
                            .filter(|n| (1..=1000).contains(n))
                            .ok_or_else(|| bad(format!("--batch-size is {n:?}; give 1 to 1000")))?,
                    );
                }
                "--not-seen-after" => {
                    let secs = value()?;
                    not_seen_after = Some(Duration::from_secs(secs.parse().map_err(|_| {
                        bad(format!("--not-seen-after is {secs:?}; give whole seconds"))
                    })?));
                }
                "--resend-not-seen" => resend_not_seen = true,
                flag if flag.starts_with("--") => {
                    return Err(bad(format!("unknown option {flag}")));
                }
                _ => positional.push(arg.clone()),
            }
        }
        let [csv, template_id] = positional.as_slice() else {
            return Err(bad(
                "give the CSV file and the template id, once each".to_owned()
            ));
        };
        let template_id = TemplateId::new(template_id.as_str())
            .map_err(|e| bad(format!("template id {template_id:?}: {e}")))?;
        if journal.is_none() && (reconcile.is_some() || not_seen_after.is_some() || resend_not_seen)
        {
            return Err(bad(
                "--reconcile, --not-seen-after and --resend-not-seen work on a journal; add \
                 --journal PATH"
                    .to_owned(),
            ));
        }
        Ok(Self {
            csv: PathBuf::from(csv),
            template_id,
            journal,
            batch_size,
            reconcile,
            not_seen_after,
            resend_not_seen,
        })
    }
}

/// What became of the rows.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// Rows read from the file.
    pub rows: u64,
    /// Rows queued by Webex Connect, in this run or an earlier one.
    pub queued: u64,
    /// Rows certainly not queued (invalid, or refused).
    pub failed: u64,
    /// Rows that may or may not have been queued: look for their correlation ids in receipts.
    pub outcome_unknown: u64,
    /// Rows sent in this run.
    pub sent: u64,
    /// Rows whose status comes from an earlier run's journal (not sent in this run).
    pub earlier: u64,
}

impl Summary {
    /// Whether every row was queued.
    pub fn all_queued(&self) -> bool {
        self.rows > 0 && self.queued == self.rows
    }

    /// The exit code: [`EXIT_ALL_QUEUED`], [`EXIT_OUTCOME_UNKNOWN`] when any row may have
    /// been queued, else [`EXIT_NOT_QUEUED`].
    pub fn exit_code(&self) -> u8 {
        if self.all_queued() {
            EXIT_ALL_QUEUED
        } else if self.outcome_unknown > 0 {
            EXIT_OUTCOME_UNKNOWN
        } else {
            EXIT_NOT_QUEUED
        }
    }

    fn count(&mut self, report: &Report) {
        self.rows += 1;
        match report.status {
            Status::Queued => self.queued += 1,
            Status::NotQueued => self.failed += 1,
            Status::OutcomeUnknown => self.outcome_unknown += 1,
        }
        if report.earlier {
            self.earlier += 1;
        }
    }
}

/// Where a row stands, as its output line says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Queued.
    Queued,
    /// Certainly not queued.
    NotQueued,
    /// It may or may not have been queued; never resent blindly.
    OutcomeUnknown,
}

impl Status {
    /// The status as printed.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::NotQueued => "not queued",
            Self::OutcomeUnknown => "OUTCOME UNKNOWN",
        }
    }
}

/// One row's output line.
#[derive(Debug, Clone)]
struct Report {
    line: u64,
    /// The recipient, masked.
    recipient: String,
    status: Status,
    correlation_id: Option<CorrelationId>,
    detail: String,
    /// Settled by an earlier run: not sent in this one.
    earlier: bool,
}

impl Report {
    fn write(&self, out: &mut dyn Write) -> Result<(), Failure> {
        writeln!(
            out,
            "line {}\t{}\t{}\t{}\t{}",
            self.line,
            self.recipient,
            self.status.as_str(),
            self.correlation_id
                .as_ref()
                .map_or("(none)", CorrelationId::as_str),
            self.detail
        )
        .map_err(|e| setup(format!("could not write the report: {e}")))
    }

    /// The line for a row sent in this run.
    fn of(result: BulkResult) -> Self {
        let (status, correlation_id, detail) = match result.result {
            Ok(receipt) => (
                Status::Queued,
                receipt.correlation_id,
                format!(
                    "transid {}",
                    receipt
                        .transaction_id
                        .as_ref()
                        .map_or("(none)", |t| t.as_str())
                ),
            ),
            Err(e) => {
                let status = if e.is_outcome_unknown() {
                    Status::OutcomeUnknown
                } else {
                    Status::NotQueued
                };
                (status, e.correlation_id().cloned(), e.to_string())
            }
        };
        Self {
            // Every row carries the id `<prefix>-<line>`, which the client echoes in each
            // result; the index in this run's stream only stands in if one ever did not.
            line: correlation_id
                .as_ref()
                .and_then(line_of)
                .unwrap_or(result.index),
            recipient: mask(&result.recipient),
            status,
            correlation_id,
            detail,
            earlier: false,
        }
    }
}

/// The line a correlation id `<prefix>-<line>` names.
fn line_of(id: &CorrelationId) -> Option<u64> {
    id.as_str().rsplit_once('-')?.1.parse().ok()
}

/// How the progress line is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressStyle {
    /// A bar redrawn in place with `\r`, for a terminal.
    Bar,
    /// One plain line each time, for a file or a pipe.
    Lines,
}

/// The progress line on stderr, drawn on a timer whether or not results arrive.
#[derive(Debug)]
pub struct Progress<W> {
    out: W,
    style: ProgressStyle,
    started: Instant,
    /// The length of the bar on screen, to blank it out when redrawn or ended.
    drawn: usize,
}

impl<W: Write> Progress<W> {
    /// Progress drawn on `out`.
    pub fn new(out: W, style: ProgressStyle) -> Self {
        Self {
            out,
            style,
            started: Instant::now(),
            drawn: 0,
        }
    }

    /// What was written, for tests.
    pub fn into_inner(self) -> W {
        self.out
    }

    fn draw(&mut self, summary: &Summary, total: u64, client: BulkProgress) {
        let in_flight = client.total.saturating_sub(summary.sent);
        let counts = format!(
            "{}/{total} rows done ({} queued, {} not queued, {} outcome unknown), {in_flight} \
             being sent, {} s",
            summary.rows,
            summary.queued,
            summary.failed,
            summary.outcome_unknown,
            self.started.elapsed().as_secs()
        );
        // Progress is for people watching; failing to show it never stops the sends.
        let _ = match self.style {
            ProgressStyle::Lines => writeln!(self.out, "progress: {counts}"),
            ProgressStyle::Bar => {
                const WIDTH: u64 = 30;
                let filled = summary
                    .rows
                    .saturating_mul(WIDTH)
                    .checked_div(total)
                    .unwrap_or(0);
                let bar = format!(
                    "[{}{}] {counts}",
                    "#".repeat(usize::try_from(filled.min(WIDTH)).unwrap_or(0)),
                    "-".repeat(usize::try_from(WIDTH.saturating_sub(filled)).unwrap_or(0)),
                );
                let blank = self.drawn.saturating_sub(bar.chars().count());
                self.drawn = bar.chars().count();
                write!(self.out, "\r{bar}{}", " ".repeat(blank))
            }
        };
        let _ = self.out.flush();
    }

    /// Blanks a bar on screen, so that lines written to stdout start on a clean line; the
    /// next tick draws it again.
    fn clear(&mut self) {
        if self.drawn > 0 {
            let _ = write!(self.out, "\r{}\r", " ".repeat(self.drawn));
            let _ = self.out.flush();
            self.drawn = 0;
        }
    }

    /// Ends a bar on screen with a newline, leaving it in place.
    fn end(&mut self) {
        if self.drawn > 0 {
            let _ = writeln!(self.out);
            self.drawn = 0;
        }
    }

    /// Ends a bar on screen, then writes `line`.
    fn message(&mut self, line: &str) {
        self.end();
        let _ = writeln!(self.out, "{line}");
    }
}

/// Reads `rows.csv`, sends each row not settled by an earlier run, writes one line per row
/// and the summary to `out`, and draws the progress on `progress`.
///
/// # Errors
///
/// [`Failure`]: what stops the whole run (bad arguments, an unreadable file, a client or a
/// journal that cannot be set up, a journal that does not match the file, output that cannot
/// be written), as a line for people.
pub async fn run<W: Write>(
    args: &[String],
    client: ClientBuilder,
    out: &mut dyn Write,
    progress: &mut Progress<W>,
) -> Result<Summary, Failure> {
    let options = Options::parse(args)?;
    let campaign = Arc::new(Campaign::open(&options)?);
    let journal = match &options.journal {
        Some(path) => {
            Some(Arc::new(FileJournal::open(path).map_err(|e| {
                setup(format!("journal {}: {e}", path.display()))
            })?))
        }
        None => None,
    };
    let client = match &journal {
        Some(journal) => client.journal(Arc::clone(journal)),
        None => client,
    }
    .build()
    .map_err(|e| setup(e.to_string()))?;
    let total = campaign.check(journal.as_deref()).await?;
    if let Some(journal) = &journal {
        reconcile(&options, journal, out).await?;
    }

    // Rows settled by the journal (or invalid) are reported at once; the rest stream to the
    // client.
    let (settled_tx, mut settled) = mpsc::unbounded_channel::<Report>();
    let resend_not_seen = options.resend_not_seen;
    let rows = stream::iter(campaign.reader()?.into_records().enumerate()).filter_map(
        move |(index, record)| {
            let row = campaign.row(index, record);
            let journal = journal.clone();
            let settled_tx = settled_tx.clone();
            async move {
                match decide(row, journal.as_deref(), resend_not_seen).await {
                    Ok(row) => Some(row),
                    Err(report) => {
                        let _ = settled_tx.send(report);
                        None
                    }
                }
            }
        },
    );
    let mut batch = client.batch();
    if let Some(size) = options.batch_size {
        batch = batch.call_size(size);
    }
    let mut results = batch.send_stream(rows);
    let handle = results.handle();

    let mut summary = Summary::default();
    let mut tick = tokio::time::interval_at(Instant::now() + PROGRESS_EVERY, PROGRESS_EVERY);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            result = results.next() => {
                let Some(result) = result else { break };
                summary.sent += 1;
                let report = Report::of(result);
                summary.count(&report);
                progress.clear();
                report.write(out)?;
            }
            Some(report) = settled.recv() => {
                summary.count(&report);
                progress.clear();
                report.write(out)?;
            }
            _ = tick.tick() => progress.draw(&summary, total, handle.progress()),
        }
    }
    // The input has ended, so every row it settled is in the queue.
    while let Ok(report) = settled.try_recv() {
        summary.count(&report);
        report.write(out)?;
    }
    progress.draw(&summary, total, handle.progress());
    progress.end();
    let written = writeln!(
        out,
        "{} rows: {} queued, {} not queued, {} outcome unknown ({} sent in this run)",
        summary.rows, summary.queued, summary.failed, summary.outcome_unknown, summary.sent
    )
    .and_then(|()| {
        if summary.outcome_unknown == 0 {
            return Ok(());
        }
        writeln!(
            out,
            "rows whose outcome is unknown may have been queued and are never sent again \
             blindly: record their delivery receipts with --reconcile RECEIPTS, or mark them \
             with --not-seen-after SECS and choose --resend-not-seen"
        )
    });
    written.map_err(|e| setup(format!("could not write the report: {e}")))?;
    Ok(summary)
}

/// The file and what every row shares.
struct Campaign {
    path: PathBuf,
    journal: Option<PathBuf>,
    template_id: TemplateId,
    names: Vec<String>,
    /// The first 12 hex digits of the template id's digest: rows of one template in one file
    /// keep their correlation ids from run to run.
    prefix: String,
}

/// One CSV record, read.
struct Row {
    line: u64,
    id: Option<CorrelationId>,
    message: Result<Message, String>,
}

/// A row that can be sent.
struct Message {
    to: Recipient,
    /// The destination as sent and journaled: the `waid` digits or the BSUID.
    sent_as: String,
    digest: ContentDigest,
    template: TemplateMessage,
}

impl Row {
    /// Whether the journal recorded this row as it is now: same recipient, same message.
    fn matches(&self, entry: &JournalEntry) -> bool {
        self.message.as_ref().is_ok_and(|m| {
            entry.recipient() == Some(m.sent_as.as_str()) && entry.digest() == Some(&m.digest)
        })
    }

    fn masked(&self) -> String {
        match &self.message {
            Ok(m) => mask(&m.to.to_string()),
            Err(_) => "(invalid row)".to_owned(),
        }
    }
}

impl Campaign {
    fn open(options: &Options) -> Result<Self, Failure> {
        let path = options.csv.clone();
        let mut reader =
            csv::Reader::from_path(&path).map_err(|e| setup(format!("{}: {e}", path.display())))?;
        let header = reader
            .headers()
            .map_err(|e| setup(format!("{}: {e}", path.display())))?;
        if header.get(0).map(str::trim) != Some("phone") {
            return Err(setup(format!(
                "{}: the first column must be `phone` (a phone number or a BSUID), then one \
                 column per template variable",
                path.display()
            )));
        }
        let names = header.iter().skip(1).map(|n| n.trim().to_owned()).collect();
        let digest = ContentDigest::of_bytes(options.template_id.as_str().as_bytes());
        Ok(Self {
            path,
            journal: options.journal.clone(),
            template_id: options.template_id.clone(),
            names,
            prefix: digest.as_str().chars().take(12).collect(),
        })
    }

    fn reader(&self) -> Result<csv::Reader<File>, Failure> {
        csv::Reader::from_path(&self.path)
            .map_err(|e| setup(format!("{}: {e}", self.path.display())))
    }

    /// The `index`th record (from 0) as a row: its line, correlation id and message.
    fn row(&self, index: usize, record: Result<csv::StringRecord, csv::Error>) -> Row {
        // The line the record starts on, as an editor shows it; after the header, 1-based.
        let fallback = u64::try_from(index).unwrap_or(u64::MAX).saturating_add(2);
        let line = match &record {
            Ok(record) => record.position().map(csv::Position::line),
            Err(e) => e.position().map(csv::Position::line),
        }
        .unwrap_or(fallback);
        Row {
            line,
            // At most 12 + 1 + 20 bytes: always a valid correlation id.
            id: CorrelationId::new(format!("{}-{line}", self.prefix)).ok(),
            message: record
                .map_err(|e| e.to_string())
                .and_then(|record| self.message(&record)),
        }
    }

    fn message(&self, record: &csv::StringRecord) -> Result<Message, String> {
        let raw = record.get(0).unwrap_or_default().trim();
        let to = Recipient::parse(raw).map_err(|e| format!("recipient {}: {e}", mask(raw)))?;
        let template = TemplateMessage::builder(self.template_id.clone())
            .texts(
                self.names
                    .iter()
                    .map(String::as_str)
                    .zip(record.iter().skip(1).map(str::trim)),
            )
            .build()
            .map_err(|e| format!("{}: {e}", mask(raw)))?;
        Ok(Message {
            sent_as: Destination::new(&to).id().unwrap_or_default().to_owned(),
            digest: ContentDigest::of(&template),
            to,
            template,
        })
    }

    /// Counts the rows and, with a journal, checks that every row it holds as queued or
    /// possibly sent is a row of this file as it was sent. Nothing is sent before this.
    ///
    /// A row the journal holds as certainly not queued may have changed (corrected after a
    /// refusal): it was never processed, so its new content can go out.
    async fn check(&self, journal: Option<&FileJournal>) -> Result<u64, Failure> {
        let mut rows = 0_u64;
        let mut known: HashSet<CorrelationId> = HashSet::new();
        for (index, record) in self.reader()?.into_records().enumerate() {
            rows += 1;
            let Some(journal) = journal else { continue };
            let row = self.row(index, record);
            let Some(id) = &row.id else { continue };
            let entry = journal
                .lookup(id)
                .await
                .map_err(|e| setup(format!("the journal could not be read: {e}")))?;
            let Some(entry) = entry.filter(|e| may_have_gone(*e.state())) else {
                continue;
            };
            if !row.matches(&entry) {
                return Err(Failure::Mismatch(format!(
                    "the journal {} does not match {}: line {} ({}) was recorded as {} with \
                     another recipient or message than the file holds now. The file changed \
                     since that run, or the journal belongs to another campaign; nothing was \
                     sent. Run with the file the journal was written for, or give a new \
                     campaign a new journal",
                    self.journal_name(),
                    self.path.display(),
                    row.line,
                    row.masked(),
                    entry.state(),
                )));
            }
            known.insert(id.clone());
        }
        let Some(journal) = journal else {
            return Ok(rows);
        };
        let entries = journal
            .entries()
            .await
            .map_err(|e| setup(format!("the journal could not be read: {e}")))?;
        let mut stray = entries
            .iter()
            .filter(|e| may_have_gone(*e.state()) && !known.contains(e.correlation_id()));
        if let Some(first) = stray.next() {
            return Err(Failure::Mismatch(format!(
                "the journal {} holds {} sends that are not rows of {} (the first: correlation \
                 id {}, {}): the file lost rows since that run, or the journal belongs to \
                 another campaign (another file or template); nothing was sent. Run with the \
                 file and template the journal was written for, or give a new campaign a new \
                 journal",
                self.journal_name(),
                1 + stray.count(),
                self.path.display(),
                first.correlation_id(),
                first.state(),
            )));
        }
        Ok(rows)
    }

    fn journal_name(&self) -> String {
        self.journal
            .as_deref()
            .map_or_else(String::new, |p| p.display().to_string())
    }
}

/// Whether the journal's record of a row counts: it was queued, or may have been. A row
/// certainly not queued was never processed, whatever it held.
fn may_have_gone(state: SendState) -> bool {
    !matches!(state, SendState::NotQueued { .. })
}

/// Sends the row (`Ok`), or reports it without sending (`Err`): invalid, or settled by an
/// earlier run, or possibly sent by one.
async fn decide(
    row: Row,
    journal: Option<&FileJournal>,
    resend_not_seen: bool,
) -> Result<BatchRow, Report> {
    let report = |row: &Row, status, detail: String, earlier| Report {
        line: row.line,
        recipient: row.masked(),
        status,
        correlation_id: row.id.clone(),
        detail,
        earlier,
    };
    let (Some(id), Ok(message)) = (&row.id, &row.message) else {
        let detail = match &row.message {
            Err(e) => e.clone(),
            Ok(_) => "the row has no correlation id".to_owned(),
        };
        return Err(report(&row, Status::NotQueued, detail, false));
    };
    let entry = match journal {
        None => None,
        Some(journal) => journal.lookup(id).await.map_err(|e| {
            let detail = format!("not sent: the journal could not be read ({e})");
            report(&row, Status::OutcomeUnknown, detail, true)
        })?,
    };
    let send = |message: &Message| {
        BatchRow::new(message.to.clone(), message.template.clone()).correlation_id(id.clone())
    };
    let Some(entry) = entry else {
        return Ok(send(message));
    };
    let unknown = |why: &str, then: &str| {
        let detail = format!(
            "an earlier run: {why}{}; it may have been queued, so it is not sent again{then}",
            entry
                .detail()
                .map_or_else(String::new, |d| format!(" ({d})"))
        );
        report(&row, Status::OutcomeUnknown, detail, true)
    };
    match entry.state() {
        SendState::Queued => {
            let transid = entry.transaction_id().map_or("(none)", |t| t.as_str());
            let detail = format!("transid {transid} (an earlier run)");
            Err(report(&row, Status::Queued, detail, true))
        }
        // Nothing was processed (a rate limit, a connection that failed): safe to send.
        state if state.is_safe_to_send() => Ok(send(message)),
        SendState::NotQueued { .. } if !row.matches(&entry) => Ok(send(message)),
        SendState::NotQueued { .. } => {
            let detail = format!(
                "{} (an earlier run; correct the row to send it again)",
                entry.detail().unwrap_or("refused")
            );
            Err(report(&row, Status::NotQueued, detail, true))
        }
        SendState::NotSeen if resend_not_seen => Ok(send(message)),
        SendState::NotSeen => Err(unknown(
            "no receipt named it by the --not-seen-after deadline (not seen)",
            " unless --resend-not-seen",
        )),
        SendState::InFlight => Err(unknown("its call was out when the run stopped", "")),
        _ => Err(unknown("its answer did not say whether it was queued", "")),
    }
}

/// Records what the receipts in `--reconcile` prove, then marks rows `--not-seen-after`.
async fn reconcile(
    options: &Options,
    journal: &FileJournal,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let now = OffsetDateTime::now_utc();
    let write = |out: &mut dyn Write, line: String| {
        writeln!(out, "{line}").map_err(|e| setup(format!("could not write the report: {e}")))
    };
    if let Some(path) = &options.reconcile {
        let (receipts, named) = read_receipts(path, journal, now, out).await?;
        write(
            out,
            format!(
                "{}: {receipts} delivery receipts, {named} of them for rows of this journal \
                 (now queued)",
                path.display()
            ),
        )?;
    }
    if let Some(after) = options.not_seen_after {
        let marked = mark_not_seen(journal, after, now)
            .await
            .map_err(|e| setup(format!("the journal could not be updated: {e}")))?;
        write(
            out,
            format!(
                "{} rows with no outcome and no receipt {} s after their call are now marked \
                 not seen",
                marked.len(),
                after.as_secs()
            ),
        )?;
    }
    Ok(())
}

/// Feeds every delivery receipt of a JSON-lines file to the journal; returns how many
/// receipts there were, and how many named a journaled row.
async fn read_receipts(
    path: &Path,
    journal: &FileJournal,
    now: OffsetDateTime,
    out: &mut dyn Write,
) -> Result<(u64, u64), Failure> {
    let file = File::open(path).map_err(|e| setup(format!("{}: {e}", path.display())))?;
    let (mut receipts, mut named) = (0, 0);
    for (number, line) in BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| setup(format!("{}: {e}", path.display())))?;
        if line.trim().is_empty() {
            continue;
        }
        match webhook::parse(line.as_bytes()) {
            Ok(WebhookEvent::DeliveryReceipt(receipt)) => {
                receipts += 1;
                let entry = reconcile_receipt(journal, &receipt, now)
                    .await
                    .map_err(|e| setup(format!("the journal could not be updated: {e}")))?;
                named += u64::from(entry.is_some());
            }
            // Inbound messages and other events in the same log prove nothing about sends.
            Ok(_) => {}
            // A line that is not a webhook body only loses its own proof: the row stays
            // unknown, which errs towards not sending.
            Err(e) => writeln!(
                out,
                "{}: line {} is not a webhook body ({e}); skipped",
                path.display(),
                number + 1
            )
            .map_err(|e| setup(format!("could not write the report: {e}")))?,
        }
    }
    Ok((receipts, named))
}
