//! Resuming a personalised campaign (`examples/personalised_batch.rs --journal`) after a kill:
//! the example runs in a child process against an in-process sandbox, is killed with SIGKILL
//! at a chosen point, and is run again on the same journal. Nothing may be queued twice, and
//! every row the kill left in flight must be reported as outcome-unknown until a receipt
//! resolves it.
//!
//! The child is this test binary run again (`current_exe`) on the ignored test
//! [`child_campaign`], which runs the example's `cli` with the arguments and the
//! `WEBEX_CONNECT_*` variables the parent gives it.
#![cfg(feature = "sandbox")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

#[path = "../examples/personalised_batch.rs"]
#[allow(dead_code, unreachable_pub, reason = "main is not run by the test")]
mod personalised_batch;

use std::collections::{BTreeMap, BTreeSet};
use std::io::BufRead as _;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use personalised_batch::{
    EXIT_ALL_QUEUED, EXIT_JOURNAL_MISMATCH, EXIT_NOT_QUEUED, EXIT_OUTCOME_UNKNOWN, EXIT_USAGE,
    Failure, Progress, ProgressStyle, Summary,
};
use tokio::io::AsyncReadExt as _;
use webex_connect_whatsapp::client::{
    APP_ID_VAR, BASE_URL_VAR, ClientBuilder, REGION_VAR, SERVICE_ID_VAR, SERVICE_KEY_VAR,
    SERVICE_SECRET_VAR, TPS_VAR,
};
use webex_connect_whatsapp::conversation::journal::{FileJournal, Journal as _};
use webex_connect_whatsapp::sandbox::{Fault, RandomFaults, Sandbox, WebhookKind};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

const TEMPLATE: &str = "5139722425";
/// The environment variable that carries the child's arguments, one per line; without it
/// the child test does nothing.
const CHILD_ARGS: &str = "PERSONALISED_BATCH_CHILD_ARGS";
/// How long a test waits for a child to reach a point before it gives up (a hang guard, not
/// a timing assertion).
const PATIENCE: Duration = Duration::from_mins(1);

/// Not a test of its own: the example's process, for the kill tests. Run alone (without
/// [`CHILD_ARGS`]) it does nothing.
#[tokio::test]
#[ignore = "the child process of the kill tests; does nothing on its own"]
async fn child_campaign() {
    let Ok(args) = std::env::var(CHILD_ARGS) else {
        return;
    };
    let args: Vec<String> = args.lines().map(str::to_owned).collect();
    let code = personalised_batch::cli(&args, ClientBuilder::from_env()).await;
    std::process::exit(i32::from(code));
}

/// Held shared while this process has a journal file open, and exclusively while it starts a
/// child. A child inherits the process's open files from the fork until its exec closes
/// them, and with a journal's file the journal's lock: a run of another test that reopened
/// its journal in that moment would find it locked.
static JOURNALS: tokio::sync::RwLock<()> = tokio::sync::RwLock::const_new(());

/// A campaign's files: its CSV of `rows` rows and its journal, in a directory of its own.
struct Campaign {
    dir: PathBuf,
    csv: PathBuf,
    journal: PathBuf,
    rows: usize,
}

impl Campaign {
    fn new(name: &str, rows: usize) -> Self {
        let dir = std::env::temp_dir().join(format!("wcwa-resume-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let campaign = Self {
            csv: dir.join("rows.csv"),
            journal: dir.join("rows.journal"),
            dir,
            rows,
        };
        campaign.write_rows(|i| format!("+4474{i:08},Customer {i},A-{i}"));
        campaign
    }

    /// Writes the CSV again, row `i` made by `row`.
    fn write_rows(&self, row: impl Fn(usize) -> String) {
        let mut text = String::from("phone,name,payment\n");
        for i in 0..self.rows {
            text.push_str(&row(i));
            text.push('\n');
        }
        std::fs::write(&self.csv, text).unwrap();
    }

    fn args(&self, extra: &[&str]) -> Vec<String> {
        let mut args = vec![
            self.csv.display().to_string(),
            TEMPLATE.to_owned(),
            "--journal".to_owned(),
            self.journal.display().to_string(),
        ];
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        args
    }

    /// The correlation ids the journal holds in each state, read after a kill.
    async fn journal_states(&self) -> BTreeMap<String, BTreeSet<String>> {
        let _open = JOURNALS.read().await;
        let journal = FileJournal::open(&self.journal).unwrap();
        let mut states: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for entry in journal.entries().await.unwrap() {
            states
                .entry(entry.state().to_string())
                .or_default()
                .insert(entry.correlation_id().to_string());
        }
        states
    }

    /// The number of intent lines in the journal file, read without opening the journal
    /// (the child holds its lock).
    fn intents(&self) -> usize {
        std::fs::read_to_string(&self.journal)
            .unwrap_or_default()
            .matches(r#""record":"intent""#)
            .count()
    }
}

impl Drop for Campaign {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// One row's line of the example's output.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RowLine {
    line: u64,
    status: String,
    correlation_id: String,
    detail: String,
}

fn lines(out: &str) -> Vec<RowLine> {
    out.lines()
        .filter(|l| l.starts_with("line "))
        .map(|l| {
            let fields: Vec<&str> = l.split('\t').collect();
            assert_eq!(fields.len(), 5, "{l}");
            RowLine {
                line: fields[0]["line ".len()..].parse().unwrap(),
                status: fields[2].to_owned(),
                correlation_id: fields[3].to_owned(),
                detail: fields[4].to_owned(),
            }
        })
        .collect()
}

/// The correlation ids of the lines with `status`.
fn ids_with(lines: &[RowLine], status: &str) -> BTreeSet<String> {
    lines
        .iter()
        .filter(|l| l.status == status)
        .map(|l| l.correlation_id.clone())
        .collect()
}

async fn sandbox() -> Sandbox {
    Sandbox::builder()
        .template(TEMPLATE, ["name", "payment"])
        .start()
        .await
        .unwrap()
}

/// How many times the sandbox queued a message for each correlation id.
fn queued_per_id(sandbox: &Sandbox) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for m in sandbox.messages() {
        *counts
            .entry(m.correlation_id.clone().unwrap_or_default())
            .or_default() += 1;
    }
    counts
}

/// Starts the example in a child process on `args`, pointed at `sandbox`.
async fn spawn(sandbox: &Sandbox, args: &[String]) -> Child {
    spawn_at(sandbox, sandbox.base_url().as_ref(), args).await
}

/// Starts the example in a child process on `args`, with `sandbox`'s credentials but
/// sending to `base_url`.
async fn spawn_at(sandbox: &Sandbox, base_url: &str, args: &[String]) -> Child {
    let _no_journal_open = JOURNALS.write().await;
    Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_campaign",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
            "--quiet",
        ])
        .env(CHILD_ARGS, args.join("\n"))
        .env(SERVICE_KEY_VAR, sandbox.service_key())
        .env(APP_ID_VAR, sandbox.app_id().as_str())
        .env(BASE_URL_VAR, base_url)
        .env_remove(SERVICE_ID_VAR)
        .env_remove(SERVICE_SECRET_VAR)
        .env_remove(REGION_VAR)
        .env_remove(TPS_VAR)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// A server that takes connections and reads requests but never answers nor passes them on:
/// a platform that has not processed anything yet. Returns its base URL and how many
/// connections it took.
async fn black_hole() -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let taken = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&taken);
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut sink = [0_u8; 4096];
                while matches!(socket.read(&mut sink).await, Ok(n) if n > 0) {}
            });
        }
    });
    (url, taken)
}

/// Kills `child` with SIGKILL once `reached` holds; returns what it printed on stdout.
async fn kill_when(mut child: Child, point: &str, mut reached: impl FnMut() -> bool) -> String {
    let give_up = std::time::Instant::now() + PATIENCE;
    while !reached() {
        if let Some(status) = child.try_wait().unwrap() {
            let output = child.wait_with_output().unwrap();
            panic!(
                "the child ended ({status}) before {point}:\n{}\n{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        assert!(
            std::time::Instant::now() < give_up,
            "the child never reached {point}"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    child.kill().unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(!output.status.success(), "killed, not finished");
    String::from_utf8(output.stdout).unwrap()
}

/// Runs the example in this process; returns its result, its stdout and its progress output.
async fn run(sandbox: &Sandbox, args: &[String]) -> (Result<Summary, Failure>, String, String) {
    let _open = JOURNALS.read().await;
    let mut out = Vec::new();
    let mut progress = Progress::new(Vec::new(), ProgressStyle::Lines);
    let result =
        personalised_batch::run(args, sandbox.client_builder(), &mut out, &mut progress).await;
    (
        result,
        String::from_utf8(out).unwrap(),
        String::from_utf8(progress.into_inner()).unwrap(),
    )
}

/// Runs the example in this process and expects it to report on every row.
async fn run_ok(sandbox: &Sandbox, campaign: &Campaign, extra: &[&str]) -> (Summary, Vec<RowLine>) {
    let (summary, out, _) = run(sandbox, &campaign.args(extra)).await;
    let summary = summary.unwrap_or_else(|e| panic!("{e}\n{out}"));
    let lines = lines(&out);
    assert_eq!(lines.len(), campaign.rows, "{out}");
    assert_eq!(summary.rows, campaign.rows as u64);
    (summary, lines)
}

/// What every resume must show after a kill: the rows reported unknown are exactly those the
/// journal held in flight, nothing was queued twice, and every other row was queued once.
fn check_resume(
    sandbox: &Sandbox,
    in_flight: &BTreeSet<String>,
    summary: &Summary,
    lines: &[RowLine],
) {
    assert!(
        sandbox.queued_twice().is_empty(),
        "{:?}",
        sandbox.queued_twice()
    );
    let unknown = ids_with(lines, "OUTCOME UNKNOWN");
    assert_eq!(&unknown, in_flight, "unknown rows are the rows in flight");
    let queued = queued_per_id(sandbox);
    for line in lines {
        let times = queued.get(&line.correlation_id).copied().unwrap_or(0);
        match line.status.as_str() {
            "queued" => assert_eq!(times, 1, "{line:?}"),
            "OUTCOME UNKNOWN" => {
                assert!(times <= 1, "{line:?}");
                assert!(line.detail.contains("not sent again"), "{line:?}");
            }
            other => panic!("row {line:?} is {other}"),
        }
        assert!(line.correlation_id.ends_with(&format!("-{}", line.line)));
    }
    assert_eq!(summary.outcome_unknown, in_flight.len() as u64);
    let code = if in_flight.is_empty() {
        EXIT_ALL_QUEUED
    } else {
        EXIT_OUTCOME_UNKNOWN
    };
    assert_eq!(summary.exit_code(), code);
}

/// Every delivery receipt the sandbox posted, as JSON lines, in a file of the campaign's.
async fn receipts_file(sandbox: &Sandbox, campaign: &Campaign) -> PathBuf {
    sandbox.settled().await;
    let mut text = String::new();
    for webhook in sandbox.webhooks() {
        if matches!(webhook.kind, WebhookKind::Receipt { .. }) {
            text.push_str(&webhook.body.replace('\n', " "));
            text.push('\n');
        }
    }
    assert!(!text.is_empty(), "the sandbox posted receipts");
    let path = campaign.dir.join("receipts.jsonl");
    std::fs::write(&path, text).unwrap();
    path
}

/// A sandbox that posts its receipts to a server answering 200, and that server.
async fn sandbox_with_receipts() -> (Sandbox, MockServer) {
    let hook = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&hook)
        .await;
    let sandbox = Sandbox::builder()
        .template(TEMPLATE, ["name", "payment"])
        .delivery_url(hook.uri().parse().unwrap())
        .start()
        .await
        .unwrap();
    (sandbox, hook)
}

#[tokio::test]
async fn a_kill_mid_run_resumes_without_sending_any_row_twice() {
    let (sandbox, _hook) = sandbox_with_receipts().await;
    let campaign = Campaign::new("mid-run", 24);
    // Two rows per call, four calls at a time, each answered 300 ms after it is queued: the
    // kill lands in the second wave, with the first wave journaled as queued and the second
    // queued by the platform but not yet answered.
    sandbox.set_random_faults(Some(
        RandomFaults::new(7, 1.0, [Fault::Latency(Duration::from_millis(300))]).unwrap(),
    ));
    let child = spawn(&sandbox, &campaign.args(&["--batch-size", "2"])).await;
    kill_when(child, "ten rows queued", || sandbox.messages().len() >= 10).await;
    sandbox.clear_faults();
    let states = campaign.journal_states().await;
    let in_flight = states.get("in flight").cloned().unwrap_or_default();
    assert!(!in_flight.is_empty(), "{states:?}");
    assert!(
        states.get("queued").is_some_and(|q| !q.is_empty()),
        "{states:?}"
    );
    assert!(sandbox.messages().len() < campaign.rows);

    let (summary, lines) = run_ok(&sandbox, &campaign, &[]).await;
    check_resume(&sandbox, &in_flight, &summary, &lines);
    assert!(summary.sent > 0 && summary.earlier > 0, "{summary:?}");

    // A third run sends nothing new and says the same.
    let queued = sandbox.messages().len();
    let (again, again_lines) = run_ok(&sandbox, &campaign, &[]).await;
    assert_eq!(again.sent, 0);
    assert_eq!(sandbox.messages().len(), queued);
    assert_eq!(ids_with(&again_lines, "OUTCOME UNKNOWN"), in_flight);

    // The whole loop: receipts resolve the rows that reached the platform; the rest, never
    // seen in a receipt, are sent again only when asked to. Every row ends queued once.
    let receipts = receipts_file(&sandbox, &campaign).await;
    let receipts = receipts.display().to_string();
    let flags = [
        "--reconcile",
        receipts.as_str(),
        "--not-seen-after",
        "0",
        "--resend-not-seen",
    ];
    let (done, done_lines) = run_ok(&sandbox, &campaign, &flags).await;
    assert!(done.all_queued(), "{done_lines:?}");
    assert!(sandbox.queued_twice().is_empty());
    assert!(queued_per_id(&sandbox).values().all(|n| *n == 1));
    assert_eq!(sandbox.messages().len(), campaign.rows);
}

#[tokio::test]
async fn a_kill_before_any_row_is_queued_leaves_the_calls_out_unknown() {
    let sandbox = sandbox().await;
    let campaign = Campaign::new("first-calls", 12);
    // The first run's calls go into a server that never answers: the intents are journaled,
    // the calls are out, and nothing can be queued when the kill lands.
    let (unanswered, calls) = black_hole().await;
    let child = spawn_at(
        &sandbox,
        &unanswered,
        &campaign.args(&["--batch-size", "2"]),
    )
    .await;
    kill_when(child, "the first calls", || {
        campaign.intents() > 0 && calls.load(Ordering::SeqCst) > 0
    })
    .await;
    let states = campaign.journal_states().await;
    let in_flight = states.get("in flight").cloned().unwrap_or_default();
    assert!(!in_flight.is_empty(), "{states:?}");
    assert_eq!(states.len(), 1, "only rows in flight: {states:?}");

    let (summary, lines) = run_ok(&sandbox, &campaign, &[]).await;
    check_resume(&sandbox, &in_flight, &summary, &lines);
    assert_eq!(
        summary.sent,
        (campaign.rows - in_flight.len()) as u64,
        "every row not in flight was sent"
    );

    let queued = sandbox.messages().len();
    let (again, _) = run_ok(&sandbox, &campaign, &[]).await;
    assert_eq!((again.sent, sandbox.messages().len()), (0, queued));

    // No receipt will ever name those rows: once marked not seen they are still not sent...
    let (marked, lines) = run_ok(&sandbox, &campaign, &["--not-seen-after", "0"]).await;
    assert_eq!(
        (marked.sent, marked.outcome_unknown),
        (0, in_flight.len() as u64)
    );
    assert!(
        lines
            .iter()
            .filter(|l| l.status == "OUTCOME UNKNOWN")
            .all(|l| l.detail.contains("(not seen)") && l.detail.contains("--resend-not-seen")),
        "{lines:?}"
    );
    // ...until the operator chooses to: then each goes out once.
    let (resent, _) = run_ok(&sandbox, &campaign, &["--resend-not-seen"]).await;
    assert_eq!(resent.sent, in_flight.len() as u64);
    assert!(resent.all_queued());
    assert!(sandbox.queued_twice().is_empty());
    assert!(queued_per_id(&sandbox).values().all(|n| *n == 1));
}

#[tokio::test]
async fn a_kill_after_every_call_went_out_resends_nothing_and_receipts_settle_it() {
    let (sandbox, _hook) = sandbox_with_receipts().await;
    let campaign = Campaign::new("all-out", 12);
    // Three calls of four rows, all out at once; the answers are held back long after the
    // platform queued every row, so the kill lands before any outcome is journaled.
    sandbox.set_random_faults(Some(
        RandomFaults::new(3, 1.0, [Fault::Latency(Duration::from_secs(30))]).unwrap(),
    ));
    let child = spawn(&sandbox, &campaign.args(&["--batch-size", "4"])).await;
    kill_when(child, "every row queued", || {
        sandbox.messages().len() == campaign.rows
    })
    .await;
    sandbox.clear_faults();
    let states = campaign.journal_states().await;
    let in_flight = states.get("in flight").cloned().unwrap_or_default();
    assert_eq!(in_flight.len(), campaign.rows, "{states:?}");

    let (summary, lines) = run_ok(&sandbox, &campaign, &[]).await;
    check_resume(&sandbox, &in_flight, &summary, &lines);
    assert_eq!(summary.sent, 0);
    assert_eq!(sandbox.messages().len(), campaign.rows);

    // The receipts name every row: all queued, nothing sent, exit 0.
    let receipts = receipts_file(&sandbox, &campaign).await;
    let receipts = receipts.display().to_string();
    let (done, done_lines) = run_ok(&sandbox, &campaign, &["--reconcile", &receipts]).await;
    assert!(done.all_queued(), "{done_lines:?}");
    assert_eq!(done.sent, 0);
    assert_eq!(done.exit_code(), EXIT_ALL_QUEUED);
    assert!(done_lines.iter().all(|l| l.detail.contains("earlier run")));
    assert_eq!(sandbox.messages().len(), campaign.rows);
    assert!(sandbox.queued_twice().is_empty());
}

#[tokio::test]
async fn a_run_after_a_completed_run_sends_nothing() {
    let sandbox = sandbox().await;
    let campaign = Campaign::new("completed", 5);
    let (first, _) = run_ok(&sandbox, &campaign, &[]).await;
    assert_eq!((first.sent, first.exit_code()), (5, EXIT_ALL_QUEUED));
    let (again, lines) = run_ok(&sandbox, &campaign, &[]).await;
    assert_eq!((again.sent, again.earlier), (0, 5));
    assert_eq!(again.exit_code(), EXIT_ALL_QUEUED);
    assert!(
        lines
            .iter()
            .all(|l| l.status == "queued" && l.detail.ends_with("(an earlier run)")),
        "{lines:?}"
    );
    assert_eq!(sandbox.messages().len(), 5);
    // The correlation ids are stable and within the platform's 50 bytes.
    let ids: BTreeSet<String> = sandbox
        .messages()
        .into_iter()
        .filter_map(|m| m.correlation_id)
        .collect();
    assert_eq!(ids, ids_with(&lines, "queued"));
    assert!(ids.iter().all(|id| id.len() <= 50));
}

#[tokio::test]
async fn rows_rate_limited_to_the_end_are_sent_on_resume() {
    let sandbox = sandbox().await;
    let campaign = Campaign::new("rate-limited", 3);
    // One call, rate-limited on each of the client's four attempts: nothing was processed.
    for _ in 0..4 {
        sandbox.push_fault(Fault::RateLimited);
    }
    let (first, lines) = run_ok(&sandbox, &campaign, &[]).await;
    assert_eq!(
        (first.failed, first.exit_code()),
        (3, EXIT_NOT_QUEUED),
        "{lines:?}"
    );
    assert!(sandbox.messages().is_empty());
    let (again, lines) = run_ok(&sandbox, &campaign, &[]).await;
    assert_eq!((again.sent, again.queued), (3, 3), "{lines:?}");
    assert_eq!(again.exit_code(), EXIT_ALL_QUEUED);
    assert!(sandbox.queued_twice().is_empty());
}

#[tokio::test]
async fn refused_rows_are_skipped_until_corrected() {
    let sandbox = sandbox().await;
    let campaign = Campaign::new("refused", 3);
    // A redirect is never followed: certainly not queued, and not worth sending again as is.
    sandbox.push_fault(Fault::Redirect);
    let (first, _) = run_ok(&sandbox, &campaign, &[]).await;
    assert_eq!(first.exit_code(), EXIT_NOT_QUEUED);
    let (again, lines) = run_ok(&sandbox, &campaign, &[]).await;
    assert_eq!((again.sent, again.failed), (0, 3), "{lines:?}");
    assert!(lines.iter().all(|l| l.detail.contains("earlier run")));
    assert!(sandbox.messages().is_empty());

    // One row corrected: it goes out, the others stay as they were.
    campaign.write_rows(|i| {
        let name = if i == 1 { "Corrected" } else { "Customer" };
        format!("+4474{i:08},{name} {i},A-{i}")
    });
    let (fixed, lines) = run_ok(&sandbox, &campaign, &[]).await;
    assert_eq!(
        (fixed.sent, fixed.queued, fixed.failed),
        (1, 1, 2),
        "{lines:?}"
    );
    assert_eq!(sandbox.messages().len(), 1);
}

#[tokio::test]
async fn a_journal_that_does_not_match_the_file_is_refused() {
    let sandbox = sandbox().await;
    let campaign = Campaign::new("mismatch", 4);
    run_ok(&sandbox, &campaign, &[]).await;
    let sent = sandbox.requests().len();

    // A queued row now holds another message: the file changed since.
    campaign.write_rows(|i| {
        let payment = if i == 2 { 999 } else { i };
        format!("+4474{i:08},Customer {i},A-{payment}")
    });
    let (result, out, _) = run(&sandbox, &campaign.args(&[])).await;
    let e = result.unwrap_err();
    assert!(matches!(e, Failure::Mismatch(_)), "{e}");
    assert_eq!(e.exit_code(), EXIT_JOURNAL_MISMATCH);
    assert!(e.to_string().contains("line 4"), "{e}");
    assert!(!e.to_string().contains("+447400000002"), "masked: {e}");
    assert!(out.is_empty(), "{out}");

    // Another campaign's journal (another template): its rows are not rows of this run.
    campaign.write_rows(|i| format!("+4474{i:08},Customer {i},A-{i}"));
    let mut args = campaign.args(&[]);
    args[1] = "9999999999".to_owned();
    let e = run(&sandbox, &args).await.0.unwrap_err();
    assert_eq!(e.exit_code(), EXIT_JOURNAL_MISMATCH, "{e}");
    assert!(e.to_string().contains("4 sends that are not rows"), "{e}");
    assert_eq!(sandbox.requests().len(), sent, "nothing was sent");

    // The process exits with the documented code.
    let mut args = campaign.args(&[]);
    args[1] = "9999999999".to_owned();
    let output = spawn(&sandbox, &args).await.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(i32::from(EXIT_JOURNAL_MISMATCH)));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("error: the journal"), "{stderr}");
}

#[tokio::test]
async fn progress_lines_are_printed_while_a_call_is_out() {
    let sandbox = sandbox().await;
    let campaign = Campaign::new("progress", 2);
    // The only call is answered half a minute after it is queued: any progress line before
    // then comes from the timer, not from a result.
    sandbox.push_fault(Fault::Latency(Duration::from_secs(30)));
    let mut child = spawn(&sandbox, &campaign.args(&[])).await;
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    let out = kill_when(child, "a progress line", || {
        seen.extend(rx.try_iter());
        seen.iter()
            .any(|l| l.starts_with("progress: 0/2 rows done"))
    })
    .await;
    let line = seen.iter().find(|l| l.starts_with("progress: ")).unwrap();
    // Stderr is a pipe here: plain lines, no bar and no carriage return.
    assert!(!line.contains('\r') && !line.contains('['), "{line}");
    assert!(line.contains("2 being sent"), "{line}");
    assert!(!out.contains("\tqueued\t"), "no result had come: {out}");
}

#[test]
fn options_that_need_a_journal_are_refused_without_one() {
    let args = |extra: &[&str]| -> Vec<String> {
        ["rows.csv", TEMPLATE]
            .iter()
            .chain(extra)
            .map(|s| (*s).to_owned())
            .collect()
    };
    for extra in [
        &["--resend-not-seen"][..],
        &["--reconcile", "r.jsonl"],
        &["--not-seen-after", "60"],
    ] {
        let e = personalised_batch::Options::parse(&args(extra)).unwrap_err();
        assert_eq!(e.exit_code(), EXIT_USAGE, "{e}");
        assert!(e.to_string().contains("--journal"), "{e}");
    }
    for bad in [
        &["--batch-size", "0"][..],
        &["--batch-size", "1001"],
        &["--journal"],
        &["--frobnicate"],
    ] {
        assert!(
            personalised_batch::Options::parse(&args(bad)).is_err(),
            "{bad:?}"
        );
    }
    let ok = personalised_batch::Options::parse(&args(&[
        "--journal",
        "j",
        "--batch-size",
        "10",
        "--not-seen-after",
        "3600",
    ]))
    .unwrap();
    assert_eq!(ok.batch_size, Some(10));
    assert_eq!(ok.not_seen_after, Some(Duration::from_hours(1)));
    assert!(!ok.resend_not_seen);
}

#[tokio::test]
async fn a_terminal_gets_a_bar_redrawn_in_place() {
    let sandbox = sandbox().await;
    let campaign = Campaign::new("bar", 3);
    let _open = JOURNALS.read().await;
    let mut out = Vec::new();
    let mut progress = Progress::new(Vec::new(), ProgressStyle::Bar);
    let summary = personalised_batch::run(
        &campaign.args(&[]),
        sandbox.client_builder(),
        &mut out,
        &mut progress,
    )
    .await
    .unwrap();
    assert!(summary.all_queued());
    let bar = String::from_utf8(progress.into_inner()).unwrap();
    // The last drawing: a full bar, redrawn over the line with `\r`, then left in place.
    let last = bar.rsplit('\r').next().unwrap();
    assert!(
        last.starts_with(&format!("[{}] 3/3 rows done (3 queued", "#".repeat(30))),
        "{bar:?}"
    );
    assert!(bar.ends_with('\n') && !bar.contains("progress:"), "{bar:?}");
}
