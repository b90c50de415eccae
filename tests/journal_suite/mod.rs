//! The behaviour every send journal must show, written once and run against each one: the
//! in-memory and file journals in `tests/journal.rs`, Redis in `tests/redis_journal.rs`.
//!
//! A [`Harness`] opens a journal on its storage; opening it again after dropping the first is
//! a restart (for the in-memory journal, the same journal: it has nothing to restart from).
//! [`suite_tests!`] writes one `#[tokio::test]` per function here for a harness.
#![allow(
    dead_code,
    unreachable_pub,
    reason = "each test file uses a different subset of these helpers"
)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use time::OffsetDateTime;
use time::macros::datetime;
use webex_connect_whatsapp::conversation::journal::reconcile::{
    mark_not_seen, reconcile_receipt, unresolved,
};
use webex_connect_whatsapp::conversation::journal::{
    ContentDigest, Journal, JournalEntry, JournalFuture, JournalRecord, SendOutcome, SendState,
};
use webex_connect_whatsapp::webhook::{DeliveryCode, DeliveryReceipt, DeliveryStatus};
use webex_connect_whatsapp::{CorrelationId, TransactionId};

/// Opens a journal on one storage, again and again.
pub trait Harness: Send + 'static {
    /// The journal it opens.
    type J: Journal + 'static;
    /// Opens the journal; the previous one has been dropped.
    fn open(&mut self) -> impl Future<Output = Self::J> + Send;
}

/// One `#[tokio::test]` per suite function, each starting from `$setup` (an expression giving
/// `Option<impl Harness>`; `None` skips, as the Redis tests do without `redis-server`).
#[macro_export]
macro_rules! suite_tests {
    ($setup:expr) => {
        $crate::suite_tests!(@each $setup;
            round_trip_across_reopen,
            intent_without_outcome_comes_back_in_flight,
            queued_never_moves_back_across_reopen,
            every_record_of_one_append_is_kept,
            concurrent_appends_are_all_kept,
            receipt_resolves_an_unknown_send,
            failed_receipt_resolves_an_in_flight_send,
            deadline_marks_unknown_and_in_flight_sends_not_seen,
            queued_and_refused_sends_stay_after_the_deadline,
            receipt_after_not_seen_still_resolves,
            receipts_for_ids_not_journaled_are_ignored,
            receipts_for_queued_sends_append_nothing,
        );
    };
    (@each $setup:expr; $($name:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let Some(harness) = $setup else { return };
                $crate::journal_suite::$name(harness).await;
            }
        )+
    };
}

/// A journal that counts the records appended through it.
pub struct Counting<J> {
    pub inner: J,
    pub appended: AtomicUsize,
}

impl<J> Counting<J> {
    pub fn new(inner: J) -> Self {
        Self {
            inner,
            appended: AtomicUsize::new(0),
        }
    }

    pub fn appended(&self) -> usize {
        self.appended.load(Ordering::SeqCst)
    }
}

impl<J: Journal> Journal for Counting<J> {
    fn append<'a>(&'a self, records: &'a [JournalRecord]) -> JournalFuture<'a, ()> {
        self.appended.fetch_add(records.len(), Ordering::SeqCst);
        self.inner.append(records)
    }

    fn lookup<'a>(
        &'a self,
        correlation_id: &'a CorrelationId,
    ) -> JournalFuture<'a, Option<JournalEntry>> {
        self.inner.lookup(correlation_id)
    }

    fn entries(&self) -> JournalFuture<'_, Vec<JournalEntry>> {
        self.inner.entries()
    }
}

/// A directory of its own under the system's temporary directory, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(name: &str) -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "wcwa-journal-{}-{}-{name}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// When the suite's sends were made: with nanoseconds, which every journal keeps.
pub const T0: OffsetDateTime = datetime!(2026-12-01 09:00:00.123456789 UTC);

pub fn id(s: &str) -> CorrelationId {
    CorrelationId::new(s).unwrap()
}

pub fn digest(s: &str) -> ContentDigest {
    ContentDigest::of_bytes(s.as_bytes())
}

pub fn intent(s: &str, recipient: &str, at: OffsetDateTime) -> JournalRecord {
    JournalRecord::intent(id(s), recipient, digest(s), at)
}

pub fn outcome(s: &str, outcome: SendOutcome, at: OffsetDateTime) -> JournalRecord {
    JournalRecord::outcome(id(s), outcome, at)
}

pub fn queued(transid: &str) -> SendOutcome {
    SendOutcome::Queued {
        transaction_id: Some(TransactionId::from(transid)),
    }
}

pub fn unknown(reason: &str) -> SendOutcome {
    SendOutcome::Unknown {
        reason: reason.into(),
    }
}

pub fn receipt(correlation_id: &str, transid: &str, status: DeliveryStatus) -> DeliveryReceipt {
    DeliveryReceipt::builder(transid, status)
        .correlation_id(correlation_id)
        .destination("9199xxxxxxxx")
        .build()
}

pub async fn state_of(journal: &impl Journal, s: &str) -> Option<SendState> {
    journal.lookup(&id(s)).await.unwrap().map(|e| *e.state())
}

pub async fn states(journal: &impl Journal) -> Vec<(String, SendState)> {
    journal
        .entries()
        .await
        .unwrap()
        .iter()
        .map(|e| (e.correlation_id().as_str().to_owned(), *e.state()))
        .collect()
}

fn named(list: &[(&str, SendState)]) -> Vec<(String, SendState)> {
    list.iter().map(|(s, st)| ((*s).to_owned(), *st)).collect()
}

// ------------------------------------------------------------------ records and the fold

pub async fn round_trip_across_reopen<H: Harness>(mut h: H) {
    let journal = h.open().await;
    let bsuid = "US.13491208655302741918";
    journal
        .append(&[
            intent("a", "447400123456", T0),
            intent("b", "447400123457", T0),
            intent("c", "447400123458", T0),
        ])
        .await
        .unwrap();
    let later = T0 + time::Duration::seconds(2);
    journal
        .append(&[
            outcome("a", queued("t-a"), later),
            outcome(
                "b",
                SendOutcome::NotQueued {
                    code: Some("7001".into()),
                    reason: "Authentication failed.".into(),
                    retryable: false,
                },
                later,
            ),
            outcome("c", unknown("HTTP 502"), later),
        ])
        .await
        .unwrap();
    journal.append(&[intent("d", bsuid, later)]).await.unwrap();
    let before = journal.entries().await.unwrap();
    drop(journal);

    let journal = h.open().await;
    let after = journal.entries().await.unwrap();
    assert_eq!(after, before, "a restart reads back what was appended");
    assert_eq!(
        states(&journal).await,
        named(&[
            ("a", SendState::Queued),
            ("b", SendState::NotQueued { retryable: false }),
            ("c", SendState::Unknown),
            ("d", SendState::InFlight),
        ])
    );
    let send_a = journal.lookup(&id("a")).await.unwrap().unwrap();
    assert_eq!(send_a.transaction_id(), Some(&TransactionId::from("t-a")));
    assert_eq!(send_a.recipient(), Some("447400123456"));
    assert_eq!(send_a.digest(), Some(&digest("a")));
    assert_eq!(send_a.intended_at(), Some(T0));
    assert_eq!(send_a.updated_at(), later);
    let send_b = journal.lookup(&id("b")).await.unwrap().unwrap();
    assert_eq!(send_b.detail(), Some("7001: Authentication failed."));
    let send_c = journal.lookup(&id("c")).await.unwrap().unwrap();
    assert_eq!(send_c.detail(), Some("HTTP 502"));
    let send_d = journal.lookup(&id("d")).await.unwrap().unwrap();
    assert_eq!(send_d.recipient(), Some(bsuid), "a BSUID is kept as sent");
    assert_eq!(journal.lookup(&id("nobody")).await.unwrap(), None);
}

pub async fn intent_without_outcome_comes_back_in_flight<H: Harness>(mut h: H) {
    let journal = h.open().await;
    journal
        .append(&[intent("row-1", "447400123456", T0)])
        .await
        .unwrap();
    // The process stops before the answer.
    drop(journal);

    let journal = h.open().await;
    let entry = journal.lookup(&id("row-1")).await.unwrap().unwrap();
    assert_eq!(entry.state(), &SendState::InFlight);
    assert!(entry.state().may_have_been_sent());
    assert!(!entry.state().is_safe_to_send());
    let open = unresolved(&journal).await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].correlation_id(), &id("row-1"));

    journal
        .append(&[outcome("row-1", queued("t1"), T0)])
        .await
        .unwrap();
    drop(journal);
    let journal = h.open().await;
    assert_eq!(state_of(&journal, "row-1").await, Some(SendState::Queued));
    assert!(unresolved(&journal).await.unwrap().is_empty());
}

pub async fn queued_never_moves_back_across_reopen<H: Harness>(mut h: H) {
    let journal = h.open().await;
    journal
        .append(&[
            intent("q", "447400123456", T0),
            outcome("q", queued("t-q"), T0),
        ])
        .await
        .unwrap();
    drop(journal);
    let journal = h.open().await;
    journal
        .append(&[
            outcome("q", unknown("late timeout"), T0),
            outcome("q", SendOutcome::NotSeen, T0),
            intent("q", "447400123456", T0),
        ])
        .await
        .unwrap();
    drop(journal);
    let journal = h.open().await;
    let entry = journal.lookup(&id("q")).await.unwrap().unwrap();
    assert_eq!(entry.state(), &SendState::Queued);
    assert_eq!(entry.transaction_id(), Some(&TransactionId::from("t-q")));
}

pub async fn every_record_of_one_append_is_kept<H: Harness>(mut h: H) {
    let journal = h.open().await;
    let mut records = Vec::new();
    for i in 0..500 {
        records.push(intent(&format!("row-{i}"), "447400123456", T0));
    }
    for i in 0..500 {
        records.push(outcome(&format!("row-{i}"), queued(&format!("t{i}")), T0));
    }
    journal.append(&records).await.unwrap();
    drop(journal);

    let journal = h.open().await;
    let entries = journal.entries().await.unwrap();
    assert_eq!(entries.len(), 500);
    for (i, entry) in entries.iter().enumerate() {
        assert_eq!(entry.correlation_id().as_str(), format!("row-{i}"));
        assert_eq!(entry.state(), &SendState::Queued);
    }
}

pub async fn concurrent_appends_are_all_kept<H: Harness>(mut h: H) {
    let journal = Arc::new(h.open().await);
    let mut tasks = Vec::new();
    for task in 0..8 {
        let journal = Arc::clone(&journal);
        tasks.push(tokio::spawn(async move {
            for n in 0..16 {
                let row = format!("task{task}-row{n}");
                journal
                    .append(&[intent(&row, "447400123456", T0)])
                    .await
                    .unwrap();
                journal
                    .append(&[outcome(&row, queued(&row), T0)])
                    .await
                    .unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let live = journal.entries().await.unwrap();
    drop(journal);
    let journal = h.open().await;
    let entries = journal.entries().await.unwrap();
    assert_eq!(entries, live);
    assert_eq!(entries.len(), 8 * 16);
    assert!(entries.iter().all(|e| e.state() == &SendState::Queued));
    // Each task's rows in the order it appended them.
    for task in 0..8 {
        let rows: Vec<&str> = entries
            .iter()
            .map(|e| e.correlation_id().as_str())
            .filter(|r| r.starts_with(&format!("task{task}-")))
            .collect();
        let expected: Vec<String> = (0..16).map(|n| format!("task{task}-row{n}")).collect();
        assert_eq!(rows, expected);
    }
}

// ------------------------------------------------------------------ reconciliation

pub async fn receipt_resolves_an_unknown_send<H: Harness>(mut h: H) {
    let journal = h.open().await;
    journal
        .append(&[
            intent("u", "447400123456", T0),
            outcome("u", unknown("HTTP 504"), T0),
        ])
        .await
        .unwrap();
    let at = T0 + time::Duration::seconds(3);
    let entry = reconcile_receipt(
        &journal,
        &receipt("u", "5c9f6594", DeliveryStatus::Submitted),
        at,
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(entry.state(), &SendState::Queued);
    assert_eq!(
        entry.transaction_id(),
        Some(&TransactionId::from("5c9f6594"))
    );
    assert_eq!(entry.updated_at(), at);
    drop(journal);

    let journal = h.open().await;
    assert_eq!(journal.lookup(&id("u")).await.unwrap(), Some(entry));
    assert!(unresolved(&journal).await.unwrap().is_empty());
}

pub async fn failed_receipt_resolves_an_in_flight_send<H: Harness>(mut h: H) {
    let journal = h.open().await;
    journal
        .append(&[intent("123456789", "9199xxxxxxxx", T0)])
        .await
        .unwrap();
    drop(journal);
    let journal = h.open().await;
    // The FAQ's 7710 sample: the platform took the request, then it failed.
    let body = br#"{"deliveryInfoNotification":{"deliveryInfo":{"timeStamp":"2020-02-27T17:12:07.567Z","Description":"Re-engagement message","code":"7710","deliveryChannel":"whatsapp","additionalInfo":"Message failed to send because more than 24 hours have passed since the customer last replied to this number","destination":"9199XXXXXXXX","destinationType":"waid","deliveryStatus":"Failed"},"subtid":"","transid":"108dd36b-9bca-48e5-ae8b-5f59c64b40a3","callbackData":"","correlationid":"123456789"}}"#;
    let failed = DeliveryReceipt::from_slice(body).unwrap();
    assert_eq!(failed.code(), &DeliveryCode::from_code("7710"));
    let entry = reconcile_receipt(&journal, &failed, T0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(entry.state(), &SendState::Queued);
    assert_eq!(
        state_of(&journal, "123456789").await,
        Some(SendState::Queued)
    );
}

pub async fn deadline_marks_unknown_and_in_flight_sends_not_seen<H: Harness>(mut h: H) {
    let journal = h.open().await;
    journal
        .append(&[
            intent("unknown", "447400123456", T0),
            outcome("unknown", unknown("timed out"), T0),
            intent("in-flight", "US.13491208655302741918", T0),
            intent("recent", "447400123457", T0 + time::Duration::minutes(30)),
        ])
        .await
        .unwrap();
    let deadline = Duration::from_hours(1);
    let just_before = T0 + time::Duration::hours(1) - time::Duration::microseconds(1);
    assert!(
        mark_not_seen(&journal, deadline, just_before)
            .await
            .unwrap()
            .is_empty()
    );
    let at = T0 + time::Duration::hours(1);
    let marked = mark_not_seen(&journal, deadline, at).await.unwrap();
    let marked: Vec<(&str, SendState)> = marked
        .iter()
        .map(|e| (e.correlation_id().as_str(), *e.state()))
        .collect();
    assert_eq!(
        marked,
        [
            ("unknown", SendState::NotSeen),
            ("in-flight", SendState::NotSeen)
        ]
    );
    drop(journal);

    let journal = h.open().await;
    assert_eq!(
        states(&journal).await,
        named(&[
            ("unknown", SendState::NotSeen),
            ("in-flight", SendState::NotSeen),
            ("recent", SendState::InFlight),
        ])
    );
    // Not seen is not proof: all three still may have been sent.
    assert_eq!(unresolved(&journal).await.unwrap().len(), 3);
    // Marking again changes nothing already marked.
    let again = mark_not_seen(&journal, deadline, at).await.unwrap();
    assert!(again.is_empty());
}

pub async fn queued_and_refused_sends_stay_after_the_deadline<H: Harness>(mut h: H) {
    let journal = h.open().await;
    journal
        .append(&[
            intent("queued", "447400123456", T0),
            outcome("queued", queued("t1"), T0),
            intent("refused", "447400123457", T0),
            outcome(
                "refused",
                SendOutcome::NotQueued {
                    code: Some("7020".into()),
                    reason: "rate limited".into(),
                    retryable: true,
                },
                T0,
            ),
            intent("seen", "447400123458", T0),
        ])
        .await
        .unwrap();
    reconcile_receipt(
        &journal,
        &receipt("seen", "t3", DeliveryStatus::Delivered),
        T0,
    )
    .await
    .unwrap()
    .unwrap();
    let marked = mark_not_seen(
        &journal,
        Duration::from_hours(1),
        T0 + time::Duration::days(2),
    )
    .await
    .unwrap();
    assert!(marked.is_empty(), "{marked:?}");
    drop(journal);
    let journal = h.open().await;
    assert_eq!(
        states(&journal).await,
        named(&[
            ("queued", SendState::Queued),
            ("refused", SendState::NotQueued { retryable: true }),
            ("seen", SendState::Queued),
        ])
    );
}

pub async fn receipt_after_not_seen_still_resolves<H: Harness>(mut h: H) {
    let journal = h.open().await;
    journal
        .append(&[intent("late", "447400123456", T0)])
        .await
        .unwrap();
    let at = T0 + time::Duration::hours(2);
    mark_not_seen(&journal, Duration::from_hours(1), at)
        .await
        .unwrap();
    assert_eq!(state_of(&journal, "late").await, Some(SendState::NotSeen));
    let entry = reconcile_receipt(&journal, &receipt("late", "t9", DeliveryStatus::Read), at)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(entry.state(), &SendState::Queued);
    drop(journal);
    let journal = h.open().await;
    assert_eq!(state_of(&journal, "late").await, Some(SendState::Queued));
    assert!(
        mark_not_seen(
            &journal,
            Duration::from_hours(1),
            at + time::Duration::days(1)
        )
        .await
        .unwrap()
        .is_empty()
    );
}

pub async fn receipts_for_ids_not_journaled_are_ignored<H: Harness>(mut h: H) {
    let journal = Counting::new(h.open().await);
    journal
        .append(&[intent("mine", "447400123456", T0)])
        .await
        .unwrap();
    let before = journal.inner.entries().await.unwrap();

    let ghost = receipt("ghost", "t-ghost", DeliveryStatus::Delivered);
    let none = DeliveryReceipt::builder("t-none", DeliveryStatus::Delivered).build();
    let too_long = receipt(&"x".repeat(51), "t-long", DeliveryStatus::Delivered);
    for r in [&ghost, &none, &too_long] {
        assert_eq!(reconcile_receipt(&journal, r, T0).await.unwrap(), None);
    }
    assert_eq!(journal.appended(), 1, "only the intent was appended");
    assert_eq!(journal.inner.lookup(&id("ghost")).await.unwrap(), None);
    let journal = journal.inner;
    drop(journal);
    let journal = h.open().await;
    assert_eq!(journal.entries().await.unwrap(), before);
    assert_eq!(state_of(&journal, "mine").await, Some(SendState::InFlight));
}

pub async fn receipts_for_queued_sends_append_nothing<H: Harness>(mut h: H) {
    let journal = Counting::new(h.open().await);
    journal
        .append(&[
            intent("q", "447400123456", T0),
            outcome("q", queued("t-q"), T0),
            intent("no-transid", "447400123457", T0),
            outcome(
                "no-transid",
                SendOutcome::Queued {
                    transaction_id: None,
                },
                T0,
            ),
        ])
        .await
        .unwrap();
    // Submitted, delivered, read: three receipts for one message.
    for status in [
        DeliveryStatus::Submitted,
        DeliveryStatus::Delivered,
        DeliveryStatus::Read,
    ] {
        let entry = reconcile_receipt(&journal, &receipt("q", "t-q", status), T0)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(entry.state(), &SendState::Queued);
    }
    assert_eq!(journal.appended(), 4);
    // A queued send whose transid was not known learns it from the receipt.
    let entry = reconcile_receipt(
        &journal,
        &receipt("no-transid", "t-late", DeliveryStatus::Submitted),
        T0,
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(entry.transaction_id(), Some(&TransactionId::from("t-late")));
    assert_eq!(journal.appended(), 5);
    let journal = journal.inner;
    drop(journal);
    let journal = h.open().await;
    let entry = journal.lookup(&id("no-transid")).await.unwrap().unwrap();
    assert_eq!(entry.transaction_id(), Some(&TransactionId::from("t-late")));
}
