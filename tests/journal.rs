//! The in-memory and file send journals: the shared journal suite (also run against Redis in
//! `tests/redis_journal.rs`), then what only the file journal does: torn and corrupt lines,
//! the writer's lock, later versions' records, a writer killed mid-campaign, and a failed
//! write undone.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod journal_suite;

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

use journal_suite::{Harness, T0, TempDir, id, intent, outcome, queued};
use webex_connect_whatsapp::conversation::journal::{
    FileJournal, InMemoryJournal, Journal, JournalError, SendOutcome, SendState,
};

/// The in-memory journal; "reopening" it is the same journal.
#[derive(Default)]
struct Memory(Arc<InMemoryJournal>);

impl Harness for Memory {
    type J = Arc<InMemoryJournal>;
    async fn open(&mut self) -> Self::J {
        Arc::clone(&self.0)
    }
}

/// A file journal in a directory of its own.
struct Files {
    path: PathBuf,
    _dir: TempDir,
}

impl Files {
    fn new() -> Self {
        let dir = TempDir::new("suite");
        Self {
            path: dir.path().join("journal.jsonl"),
            _dir: dir,
        }
    }
}

impl Harness for Files {
    type J = FileJournal;
    async fn open(&mut self) -> FileJournal {
        let journal = FileJournal::open(&self.path).unwrap();
        assert_eq!(journal.recovered_torn_bytes(), 0);
        journal
    }
}

mod in_memory {
    crate::suite_tests!(Some(super::Memory::default()));
}

mod file {
    crate::suite_tests!(Some(super::Files::new()));
}

// ------------------------------------------------------------------ file journal only

/// A journal file holding `a` queued and `b` in flight, and its path.
async fn two_sends(dir: &TempDir) -> PathBuf {
    let path = dir.path().join("journal.jsonl");
    let journal = FileJournal::open(&path).unwrap();
    journal
        .append(&[
            intent("a", "447400123456", T0),
            outcome("a", queued("t-a"), T0),
        ])
        .await
        .unwrap();
    journal
        .append(&[intent("b", "447400123457", T0)])
        .await
        .unwrap();
    path
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn append_raw(path: &Path, bytes: &[u8]) {
    std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .unwrap()
        .write_all(bytes)
        .unwrap();
}

async fn states(journal: &impl Journal) -> Vec<(String, SendState)> {
    journal_suite::states(journal).await
}

#[tokio::test]
async fn file_holds_one_json_record_per_line() {
    let dir = TempDir::new("lines");
    let path = two_sends(&dir).await;
    let lines = lines(&path);
    assert_eq!(lines.len(), 3);
    assert!(lines[0].starts_with(
        r#"{"record":"intent","correlation_id":"a","recipient":"447400123456","digest":""#
    ));
    assert!(lines[1].starts_with(r#"{"record":"outcome","correlation_id":"a","outcome":"queued","transaction_id":"t-a","at":"2026-12-01T09:00:00.123456789Z"}"#));
    assert!(std::fs::read(&path).unwrap().ends_with(b"}\n"));
}

#[tokio::test]
async fn torn_last_line_is_cut_off_and_reported() {
    let dir = TempDir::new("torn");
    let path = two_sends(&dir).await;
    let complete = std::fs::metadata(&path).unwrap().len();
    let torn = br#"{"record":"outcome","correlation_id":"b","outcome":"que"#;
    append_raw(&path, torn);

    let journal = FileJournal::open(&path).unwrap();
    assert_eq!(journal.recovered_torn_bytes(), torn.len() as u64);
    assert_eq!(std::fs::metadata(&path).unwrap().len(), complete);
    assert_eq!(
        states(&journal).await,
        [
            ("a".to_owned(), SendState::Queued),
            ("b".to_owned(), SendState::InFlight)
        ]
    );
    // The next append starts on a line of its own, and the file reads back whole.
    journal
        .append(&[outcome("b", queued("t-b"), T0)])
        .await
        .unwrap();
    drop(journal);
    let journal = FileJournal::open(&path).unwrap();
    assert_eq!(journal.recovered_torn_bytes(), 0);
    assert_eq!(
        journal.lookup(&id("b")).await.unwrap().map(|e| *e.state()),
        Some(SendState::Queued)
    );
}

#[tokio::test]
async fn a_whole_record_without_its_newline_was_never_acknowledged() {
    let dir = TempDir::new("no-newline");
    let path = two_sends(&dir).await;
    let line = serde_json::to_string(&outcome("b", queued("t-b"), T0)).unwrap();
    append_raw(&path, line.as_bytes());

    let journal = FileJournal::open(&path).unwrap();
    assert_eq!(journal.recovered_torn_bytes(), line.len() as u64);
    assert_eq!(
        journal.lookup(&id("b")).await.unwrap().map(|e| *e.state()),
        Some(SendState::InFlight)
    );
}

#[tokio::test]
async fn corrupt_middle_line_is_an_error_naming_the_line_not_its_content() {
    let dir = TempDir::new("corrupt");
    let path = two_sends(&dir).await;
    let mut lines = lines(&path);
    // Line 2 cut short, with the lines after it intact: not a torn last line.
    lines[1] = r#"{"record":"outcome","correlation_id":"a","outco"#.to_owned();
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();

    let err = FileJournal::open(&path).unwrap_err();
    let JournalError::Corrupt { location, detail } = &err else {
        panic!("expected Corrupt, got {err:?}");
    };
    assert!(location.starts_with("line 2 of "), "{location}");
    assert!(location.ends_with("journal.jsonl"), "{location}");
    assert!(detail.starts_with("not JSON"), "{detail}");
    // The file is left as it was, for a person to look at.
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        lines.join("\n") + "\n"
    );
}

#[tokio::test]
async fn a_record_of_the_wrong_shape_is_corrupt_without_quoting_the_recipient() {
    let dir = TempDir::new("shape");
    let path = two_sends(&dir).await;
    // A recipient where a digest belongs, and no time: serde's own message would quote it.
    append_raw(
        &path,
        br#"{"record":"intent","correlation_id":"c","recipient":"447400999999","digest":447400999999}"#,
    );
    append_raw(&path, b"\n");
    let err = FileJournal::open(&path).unwrap_err();
    let message = format!("{err} {err:?}");
    assert!(matches!(err, JournalError::Corrupt { .. }), "{message}");
    assert!(message.contains("line 4 of "), "{message}");
    assert!(message.contains("not a journal record"), "{message}");
    assert!(!message.contains("447400999999"), "{message}");
}

#[tokio::test]
async fn second_open_is_refused_while_the_first_holds_the_file() {
    let dir = TempDir::new("lock");
    let path = dir.path().join("journal.jsonl");
    let first = FileJournal::open(&path).unwrap();
    let err = FileJournal::open(&path).unwrap_err();
    assert!(matches!(err, JournalError::Locked { .. }), "{err:?}");
    assert!(err.to_string().contains("journal.jsonl"), "{err}");
    assert!(
        err.to_string().contains("locked by another writer"),
        "{err}"
    );
    // The refused open changed nothing; the holder keeps writing.
    first
        .append(&[intent("a", "447400123456", T0)])
        .await
        .unwrap();
    drop(first);
    let second = FileJournal::open(&path).unwrap();
    assert_eq!(second.entries().await.unwrap().len(), 1);
}

#[tokio::test]
async fn later_record_and_outcome_kinds_are_kept_and_change_nothing() {
    let dir = TempDir::new("later");
    let path = two_sends(&dir).await;
    let later = [
        r#"{"record":"checkpoint","rows":2,"at":"2026-12-01T10:00:00Z"}"#,
        r#"{"record":"outcome","correlation_id":"b","outcome":"archived","at":"2026-12-01T10:00:00Z"}"#,
    ];
    for line in later {
        append_raw(&path, format!("{line}\n").as_bytes());
    }
    let journal = FileJournal::open(&path).unwrap();
    let b = journal.lookup(&id("b")).await.unwrap().unwrap();
    assert_eq!(b.state(), &SendState::InFlight);
    assert_eq!(journal.entries().await.unwrap().len(), 2);
    journal
        .append(&[outcome("b", queued("t-b"), T0)])
        .await
        .unwrap();
    drop(journal);
    // Append-only: the later version's lines are still there, in place.
    let lines = lines(&path);
    assert_eq!(&lines[3..5], &later);
    assert_eq!(lines.len(), 6);
}

#[tokio::test]
async fn blank_lines_are_skipped_and_empty_appends_write_nothing() {
    let dir = TempDir::new("blank");
    let path = two_sends(&dir).await;
    append_raw(&path, b"\n  \n");
    let journal = FileJournal::open(&path).unwrap();
    assert_eq!(journal.entries().await.unwrap().len(), 2);
    let len = std::fs::metadata(&path).unwrap().len();
    journal.append(&[]).await.unwrap();
    assert_eq!(std::fs::metadata(&path).unwrap().len(), len);
}

#[test]
fn appends_work_without_a_runtime() {
    // Any executor can drive the futures: with no tokio runtime the write runs inline.
    let dir = TempDir::new("no-runtime");
    let path = dir.path().join("journal.jsonl");
    let journal = FileJournal::open(&path).unwrap();
    let record = intent("a", "447400123456", T0);
    futures_executor_block_on(journal.append(std::slice::from_ref(&record))).unwrap();
    drop(journal);
    assert_eq!(lines(&path).len(), 1);
}

/// Polls a future to completion on this thread, for futures that never wait.
fn futures_executor_block_on<F: std::future::Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
    }
}

#[cfg(unix)]
#[tokio::test]
async fn a_new_file_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = TempDir::new("mode");
    let path = dir.path().join("journal.jsonl");
    let _journal = FileJournal::open(&path).unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[tokio::test]
async fn unopenable_path_is_an_io_error_naming_the_file() {
    let dir = TempDir::new("missing");
    let path = dir.path().join("no-such-dir").join("journal.jsonl");
    let err = FileJournal::open(&path).unwrap_err();
    assert!(matches!(err, JournalError::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("no-such-dir"), "{err}");
}

// ------------------------------------------------------------------ other processes

/// The variable that turns [`child_process`] from a no-op into a journal writer.
const CHILD_MODE: &str = "WCWA_JOURNAL_CHILD";
const CHILD_PATH: &str = "WCWA_JOURNAL_PATH";

/// Run by the tests below as a separate process (this test binary, filtered to this test);
/// in a normal run it does nothing.
#[test]
fn child_process() {
    let (Ok(mode), Ok(path)) = (std::env::var(CHILD_MODE), std::env::var(CHILD_PATH)) else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    runtime.block_on(async move {
        match mode.as_str() {
            "writer" => child_writer(Path::new(&path)).await,
            "full-disk" => child_full_disk(Path::new(&path)).await,
            other => panic!("unknown child mode {other}"),
        }
    });
}

/// The marker before each line a child says (libtest prints its own words on the first).
const SAYS: &str = "child says: ";

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    out.write_all(format!("{SAYS}{line}\n").as_bytes()).unwrap();
    out.flush().unwrap();
}

/// What a child said on `line`, if it said anything.
fn said(line: &str) -> Option<&str> {
    line.split_once(SAYS).map(|(_, said)| said.trim_end())
}

/// Appends one send (intent and queued outcome) at a time, saying after each which it was,
/// until killed.
async fn child_writer(path: &Path) {
    let journal = FileJournal::open(path).unwrap();
    say("open");
    for i in 0..1_000_000 {
        let row = format!("row-{i}");
        journal
            .append(&[
                intent(&row, "447400123456", T0),
                outcome(&row, queued(&row), T0),
            ])
            .await
            .unwrap();
        say(&format!("acked {i}"));
    }
}

/// Under a file-size limit: appends until one fails, then checks the file holds exactly the
/// acknowledged appends, and that a later append fails the same way, not as unwritable.
async fn child_full_disk(path: &Path) {
    let journal = FileJournal::open(path).unwrap();
    let mut acked_len = 0;
    let mut acked = 0;
    let err = loop {
        match journal
            .append(&[intent(&format!("row-{acked}"), "447400123456", T0)])
            .await
        {
            Ok(()) => {
                acked += 1;
                acked_len = std::fs::metadata(path).unwrap().len();
            }
            Err(err) => break err,
        }
    };
    say(&format!("acked {acked}"));
    say(&format!("first error {err}"));
    let len = std::fs::metadata(path).unwrap().len();
    say(&format!("length {len} acknowledged {acked_len}"));
    let again = journal
        .append(&[intent("again", "447400123456", T0)])
        .await
        .unwrap_err();
    say(&format!("second error {again}"));
}

fn child(mode: &str, path: &Path) -> Command {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([
            "child_process",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_MODE, mode)
        .env(CHILD_PATH, path)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    command
}

#[tokio::test]
async fn a_killed_writer_loses_no_acknowledged_record_and_frees_the_file() {
    let dir = TempDir::new("kill");
    let path = dir.path().join("journal.jsonl");
    let mut writer = child("writer", &path).spawn().unwrap();
    let mut out = BufReader::new(writer.stdout.take().unwrap());
    let mut line = String::new();
    let mut last_acked: u64 = loop {
        line.clear();
        assert!(out.read_line(&mut line).unwrap() > 0, "the writer stopped");
        let Some(line) = said(&line) else { continue };
        if line == "open" {
            // Another process holds the file: this one may not open it.
            let err = FileJournal::open(&path).unwrap_err();
            assert!(matches!(err, JournalError::Locked { .. }), "{err:?}");
        } else if let Some(n) = line.strip_prefix("acked ") {
            let n: u64 = n.parse().unwrap();
            if n == 200 {
                break n;
            }
        }
    };
    // Killed mid-campaign (SIGKILL on Unix): no destructor, no flush.
    writer.kill().unwrap();
    writer.wait().unwrap();
    // Acknowledgements already in the pipe count too.
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
    for line in rest.lines().filter_map(said) {
        if let Some(n) = line.strip_prefix("acked ") {
            last_acked = n.parse().unwrap();
        }
    }

    let journal = FileJournal::open(&path).unwrap();
    let entries = journal.entries().await.unwrap();
    assert!(
        entries.len() as u64 > last_acked,
        "{} sends journaled, but send {last_acked} was acknowledged",
        entries.len()
    );
    for (i, entry) in entries.iter().enumerate() {
        assert_eq!(entry.correlation_id().as_str(), format!("row-{i}"));
        if i as u64 <= last_acked {
            assert_eq!(entry.state(), &SendState::Queued, "row-{i}");
        }
    }
}

#[cfg(unix)]
#[tokio::test]
async fn a_failed_append_is_undone_so_the_file_holds_only_acknowledged_records() {
    let dir = TempDir::new("full");
    let path = dir.path().join("journal.jsonl");
    if !Path::new("/bin/sh").exists() {
        let _ = std::io::stderr().write_all(b"SKIPPED a_failed_append_is_undone: no /bin/sh\n");
        return;
    }
    // A file-size limit of 8 blocks (4 KiB with dash, 8 KiB with bash) makes a write past it
    // fail with EFBIG, part-way through an append; SIGXFSZ is ignored so the child lives.
    let exe = std::env::current_exe().unwrap();
    let output = Command::new("/bin/sh")
        .arg("-c")
        .arg(r#"ulimit -f 8 && trap '' XFSZ && exec "$0" child_process --exact --nocapture --test-threads=1"#)
        .arg(exe)
        .env(CHILD_MODE, "full-disk")
        .env(CHILD_PATH, &path)
        .stderr(Stdio::inherit())
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(output.status.success(), "{stdout}");
    let said = |prefix: &str| {
        stdout
            .lines()
            .filter_map(said)
            .find_map(|l| l.strip_prefix(prefix))
            .unwrap_or_else(|| panic!("no {prefix:?} in {stdout}"))
            .to_owned()
    };
    let acked: usize = said("acked ").parse().unwrap();
    assert!(acked > 5, "{stdout}");
    assert!(
        said("first error ").contains("could not be written"),
        "{stdout}"
    );
    // Cut back to the acknowledged appends, so the next append is not glued to a partial line.
    let lengths = said("length ");
    let (len, acknowledged) = lengths.split_once(" acknowledged ").unwrap();
    assert_eq!(len, acknowledged, "{stdout}");
    assert!(
        said("second error ").contains("could not be written"),
        "{stdout}"
    );

    let journal = FileJournal::open(&path).unwrap();
    assert_eq!(journal.recovered_torn_bytes(), 0);
    let entries = journal.entries().await.unwrap();
    assert_eq!(entries.len(), acked);
    assert!(journal.lookup(&id("again")).await.unwrap().is_none());
}

#[tokio::test]
async fn not_seen_and_unknown_outcomes_round_trip_through_the_file() {
    let dir = TempDir::new("outcomes");
    let path = dir.path().join("journal.jsonl");
    let journal = FileJournal::open(&path).unwrap();
    let receipt = SendOutcome::SeenInReceipt {
        transaction_id: Some("t-r".into()),
        code: "7500".into(),
    };
    journal
        .append(&[
            intent("n", "447400123456", T0),
            outcome("n", SendOutcome::NotSeen, T0),
            intent("r", "447400123457", T0),
            outcome("r", receipt, T0),
        ])
        .await
        .unwrap();
    drop(journal);
    let journal = FileJournal::open(&path).unwrap();
    assert_eq!(
        states(&journal).await,
        [
            ("n".to_owned(), SendState::NotSeen),
            ("r".to_owned(), SendState::Queued)
        ]
    );
}
