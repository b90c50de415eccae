//! How much memory the file journal's index takes: 100,000 sends opened in a fresh process
//! (this test binary again), measured as the growth of its resident set. Linux only (it reads
//! `/proc/self/status`). The figure is printed (about 400 bytes per send when measured); the
//! bound catches an index that keeps every record as well (about 820 bytes per send).
#![cfg(target_os = "linux")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod journal_suite;

use std::io::Write as _;
use std::process::Command;

use journal_suite::{T0, TempDir, intent, outcome, queued};
use webex_connect_whatsapp::conversation::journal::{FileJournal, Journal};

const SENDS: usize = 100_000;
const CHILD_PATH: &str = "WCWA_JOURNAL_MEMORY_PATH";
const SAYS: &str = "child says: ";

fn resident_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// Run by the test below in a process of its own, so that memory freed while the file was
/// written does not hide the index's growth; a no-op otherwise.
#[test]
fn child_opens_the_journal() {
    let Ok(path) = std::env::var(CHILD_PATH) else {
        return;
    };
    let before = resident_kib();
    let journal = FileJournal::open(&path).unwrap();
    let after = resident_kib();
    let sends = futures_len(&journal);
    let mut out = std::io::stdout().lock();
    writeln!(out, "{SAYS}{sends} {before} {after}").unwrap();
    drop(journal);
}

fn futures_len(journal: &FileJournal) -> usize {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(journal.entries())
        .unwrap()
        .len()
}

#[tokio::test]
async fn an_index_of_100_000_sends_holds_one_small_entry_per_send() {
    let dir = TempDir::new("memory");
    let path = dir.path().join("journal.jsonl");
    {
        let journal = FileJournal::open(&path).unwrap();
        let mut records = Vec::with_capacity(2 * SENDS);
        for i in 0..SENDS {
            let row = format!("row-{i:08}");
            records.push(intent(&row, "447400123456", T0));
            records.push(outcome(
                &row,
                queued(&format!("{i:08x}-a371-4e78-8561-b695f9647472")),
                T0,
            ));
        }
        journal.append(&records).await.unwrap();
    }
    let file_bytes = std::fs::metadata(&path).unwrap().len();
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "child_opens_the_journal",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_PATH, &path)
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(output.status.success(), "{stdout}");
    let said = stdout
        .lines()
        .find_map(|l| l.split_once(SAYS).map(|(_, s)| s.to_owned()))
        .unwrap_or_else(|| panic!("the child said nothing: {stdout}"));
    let numbers: Vec<u64> = said.split(' ').map(|n| n.parse().unwrap()).collect();
    let (sends, before, after) = (numbers[0], numbers[1], numbers[2]);
    assert_eq!(sends, SENDS as u64);
    let per_send = (after.saturating_sub(before)) * 1024 / sends;
    let _ = std::io::stderr().write_all(
        format!(
            "journal index: {sends} sends ({file_bytes} bytes of file) grew the resident set by {} KiB, {per_send} bytes per send\n",
            after.saturating_sub(before)
        )
        .as_bytes(),
    );
    assert!(per_send < 640, "{per_send} bytes per send");
}
