//! The behaviour every [`FallbackStore`] must have, written once and run on each store: the
//! in-memory one in `tests/fallback.rs`, the Redis one in `tests/redis_guard.rs`.
#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;
use time::macros::datetime;
use webex_connect_whatsapp::conversation::fallback::{
    FallbackStore, PendingFallback, Registration, Take, UnfinishedFallback,
};
use webex_connect_whatsapp::{
    Bsuid, CorrelationId, PhoneNumber, Recipient, TemplateId, TemplateMessage, TransactionId,
};

pub const NOW: OffsetDateTime = datetime!(2026-03-01 09:00 UTC);
pub const KEEP: Duration = Duration::from_hours(1);

pub fn template() -> TemplateMessage {
    TemplateMessage::builder(TemplateId::new("5139722425xxxxx").unwrap())
        .text("1", "Ana")
        .text("2", "A-1042")
        .build()
        .unwrap()
}

pub fn fallback(to: impl Into<Recipient>, correlation_id: &str) -> PendingFallback {
    PendingFallback::new(to, template(), CorrelationId::new(correlation_id).unwrap())
}

pub fn phone() -> PhoneNumber {
    PhoneNumber::parse("+447400123456").unwrap()
}

/// Register, take once, report until finished, then never again.
pub async fn lifecycle(store: impl FallbackStore) {
    let t = TransactionId::from("t-life");
    let f = fallback(phone(), "c-life");
    assert_eq!(store.pending(NOW).await.unwrap(), 0);
    assert_eq!(
        store.register(&t, &f, NOW, KEEP).await.unwrap(),
        Registration::Pending
    );
    assert_eq!(store.pending(NOW).await.unwrap(), 1);
    assert_eq!(store.peek(&t, NOW).await.unwrap(), Some(f.clone()));
    // Registering again changes nothing.
    let other = fallback(phone(), "c-other");
    assert_eq!(
        store.register(&t, &other, NOW, KEEP).await.unwrap(),
        Registration::Known
    );
    assert_eq!(store.peek(&t, NOW).await.unwrap(), Some(f.clone()));

    let later = NOW + time::Duration::seconds(5);
    assert_eq!(
        store.take(&t, later, KEEP).await.unwrap(),
        Take::Taken(f.clone())
    );
    assert_eq!(store.pending(later).await.unwrap(), 0);
    assert_eq!(store.peek(&t, later).await.unwrap(), None);
    assert_eq!(
        store.take(&t, later, KEEP).await.unwrap(),
        Take::AlreadyTaken
    );
    assert_eq!(
        store.unfinished(later).await.unwrap(),
        [UnfinishedFallback::new(
            t.clone(),
            CorrelationId::new("c-life").unwrap(),
            later
        )]
    );
    // A taken fallback is not discarded by a late receipt of another kind.
    assert!(!store.discard(&t, later).await.unwrap());

    assert!(store.finish(&t, later, KEEP).await.unwrap());
    assert!(!store.finish(&t, later, KEEP).await.unwrap());
    assert!(store.unfinished(later).await.unwrap().is_empty());
    assert_eq!(
        store.take(&t, later, KEEP).await.unwrap(),
        Take::AlreadyTaken
    );
    assert_eq!(
        store.register(&t, &f, later, KEEP).await.unwrap(),
        Registration::Known
    );
}

/// A 7710 that overtakes the send's answer: remembered, and the registration is due.
pub async fn early_failure(store: impl FallbackStore) {
    let t = TransactionId::from("t-early");
    assert_eq!(store.take(&t, NOW, KEEP).await.unwrap(), Take::NotPending);
    assert_eq!(store.take(&t, NOW, KEEP).await.unwrap(), Take::NotPending);
    let f = fallback(phone(), "c-early");
    assert_eq!(
        store.register(&t, &f, NOW, KEEP).await.unwrap(),
        Registration::Due
    );
    assert_eq!(store.pending(NOW).await.unwrap(), 0);
    assert_eq!(store.take(&t, NOW, KEEP).await.unwrap(), Take::AlreadyTaken);
    let unfinished = store.unfinished(NOW).await.unwrap();
    assert_eq!(unfinished.len(), 1);
    assert_eq!(unfinished[0].original, t);
    assert_eq!(unfinished[0].correlation_id.as_str(), "c-early");
}

/// Other final receipts discard a pending fallback; forget drops any record.
pub async fn discard_and_forget(store: impl FallbackStore) {
    let t = TransactionId::from("t-read");
    store
        .register(&t, &fallback(phone(), "c-read"), NOW, KEEP)
        .await
        .unwrap();
    assert!(store.discard(&t, NOW).await.unwrap());
    assert!(!store.discard(&t, NOW).await.unwrap());
    assert_eq!(store.pending(NOW).await.unwrap(), 0);

    let u = TransactionId::from("t-forget");
    store
        .register(&u, &fallback(phone(), "c-forget"), NOW, KEEP)
        .await
        .unwrap();
    store.take(&u, NOW, KEEP).await.unwrap();
    assert_eq!(store.unfinished(NOW).await.unwrap().len(), 1);
    assert!(store.forget(&u).await.unwrap());
    assert!(!store.forget(&u).await.unwrap());
    assert!(store.unfinished(NOW).await.unwrap().is_empty());
}

/// A fallback to a business-scoped user id, and one under a transaction id too long to be
/// a key as it is, come back as they went in.
pub async fn bsuid_and_long_ids(store: impl FallbackStore) {
    let t = TransactionId::from("x".repeat(500));
    let f = fallback(Bsuid::new("US.13491208655302741918").unwrap(), "c-bsuid");
    store.register(&t, &f, NOW, KEEP).await.unwrap();
    assert_eq!(store.take(&t, NOW, KEEP).await.unwrap(), Take::Taken(f));
    let unfinished = store.unfinished(NOW).await.unwrap();
    assert_eq!(unfinished.len(), 1);
    assert_eq!(
        unfinished[0].original, t,
        "the report names the original id"
    );
    assert!(store.forget(&t).await.unwrap());
}

/// Many tasks, on one or several stores sharing their state, take one fallback: exactly one
/// gets it.
pub async fn racing_takes<S: FallbackStore + 'static>(stores: Vec<Arc<S>>, id: &str) {
    let t = TransactionId::from(id);
    stores[0]
        .register(&t, &fallback(phone(), "c-race"), NOW, KEEP)
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for n in 0..24 {
        let store = Arc::clone(&stores[n % stores.len()]);
        let t = t.clone();
        tasks.push(tokio::spawn(async move {
            store.take(&t, NOW, KEEP).await.unwrap()
        }));
    }
    let mut taken = 0;
    for task in tasks {
        match task.await.unwrap() {
            Take::Taken(_) => taken += 1,
            Take::AlreadyTaken => {}
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(taken, 1);
}

/// A zero retention is refused, not turned into "keep forever".
pub async fn zero_retention_is_refused(store: impl FallbackStore) {
    let t = TransactionId::from("t-zero");
    let f = fallback(phone(), "c-zero");
    assert!(store.register(&t, &f, NOW, Duration::ZERO).await.is_err());
    assert!(store.take(&t, NOW, Duration::ZERO).await.is_err());
    assert_eq!(store.pending(NOW).await.unwrap(), 0);
}
