//! The behaviour every store must show, written once and run against each implementation
//! (the in-memory defaults in `tests/window.rs`, `tests/optin.rs`, `tests/dedupe.rs`, and Redis in
//! `tests/redis_store.rs`).
#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;
use std::time::Duration as StdDuration;

use time::{Duration, OffsetDateTime};
use webex_connect_whatsapp::conversation::clock::{Clock, ManualClock};
use webex_connect_whatsapp::conversation::dedupe::{ClaimOwner, DedupeKey, Deduplicator};
use webex_connect_whatsapp::conversation::optin::OptInStore;
use webex_connect_whatsapp::conversation::optin::{
    ConsentEvent, ConsentStatus, MAX_CONSENT_EVENTS, OptIn, OptInLedger, OptInSource, OptOut,
    parse_json_lines,
};
use webex_connect_whatsapp::conversation::store::StoreError;
use webex_connect_whatsapp::conversation::store::WindowStore;
use webex_connect_whatsapp::conversation::store::{Claim, DedupeStore};
use webex_connect_whatsapp::conversation::window::{SessionWindows, WindowStatus};
use webex_connect_whatsapp::receiver::{ReceiveError, Received, Receiver};
use webex_connect_whatsapp::webhook::InboundMessage;
use webex_connect_whatsapp::{Bsuid, PhoneNumber, Recipient};

// ---------------------------------------------------------------- session windows

/// A tracker on `store` with a manual clock starting at the real time (so a Redis TTL
/// computed from it is sensible).
pub fn windows<S: WindowStore>(store: S) -> (SessionWindows<S, ManualClock>, ManualClock) {
    let clock = ManualClock::starting_now();
    (SessionWindows::with_clock(store, clock.clone()), clock)
}

pub async fn window_boundaries<S: WindowStore>(store: S) {
    let (windows, clock) = windows(store);
    let waid = "919900000001";
    let t = clock.now();
    assert_eq!(windows.status(waid).await.unwrap(), WindowStatus::Unknown);

    let status = windows.record_inbound(waid, t).await.unwrap();
    let end = t + Duration::hours(24);
    assert_eq!(status, WindowStatus::Open { until: end });

    clock.set(t + Duration::hours(23) + Duration::minutes(59) + Duration::seconds(59));
    assert_eq!(
        windows.status(waid).await.unwrap(),
        WindowStatus::Open { until: end },
        "23:59:59 after the last inbound the window is open"
    );
    clock.set(end - Duration::microseconds(1));
    assert!(windows.status(waid).await.unwrap().is_open());
    clock.set(end);
    assert_eq!(
        windows.status(waid).await.unwrap(),
        WindowStatus::Closed { since: end },
        "exactly 24:00:00 after the last inbound the window is closed"
    );
    // status_at with an explicit `now` agrees with the clock.
    assert_eq!(
        windows
            .status_at(waid, t + Duration::seconds(86_399))
            .await
            .unwrap(),
        WindowStatus::Open { until: end }
    );
    assert_eq!(
        windows.status_at(waid, end).await.unwrap(),
        WindowStatus::Closed { since: end }
    );

    // A new inbound reopens it for another 24 hours.
    clock.advance(std::time::Duration::from_hours(2));
    let t2 = clock.now();
    windows.record_inbound_now(waid).await.unwrap();
    assert_eq!(
        windows.status(waid).await.unwrap(),
        WindowStatus::Open {
            until: t2 + Duration::hours(24)
        }
    );
}

pub async fn window_out_of_order<S: WindowStore>(store: S) {
    let (windows, clock) = windows(store);
    let waid = "919900000002";
    let t = clock.now();
    windows.record_inbound(waid, t).await.unwrap();
    // A late webhook for an older message (retried delivery, out of order).
    let status = windows
        .record_inbound(waid, t - Duration::hours(5))
        .await
        .unwrap();
    assert_eq!(
        status,
        WindowStatus::Open {
            until: t + Duration::hours(24)
        }
    );
    // The same message again changes nothing.
    windows.record_inbound(waid, t).await.unwrap();
    clock.set(t + Duration::hours(20));
    assert_eq!(
        windows.status(waid).await.unwrap(),
        WindowStatus::Open {
            until: t + Duration::hours(24)
        },
        "a late inbound must not move the window backwards"
    );
    // A later one moves it forwards.
    windows
        .record_inbound(waid, t + Duration::hours(1))
        .await
        .unwrap();
    assert_eq!(
        windows.status(waid).await.unwrap(),
        WindowStatus::Open {
            until: t + Duration::hours(25)
        }
    );
}

pub async fn window_sub_microsecond_is_dropped<S: WindowStore>(store: S) {
    let (windows, clock) = windows(store);
    let waid = "919900000003";
    // In the past: a time in the future would count as now.
    let t = clock.now() - Duration::milliseconds(1) + Duration::nanoseconds(1_999);
    let status = windows.record_inbound(waid, t).await.unwrap();
    let expected =
        clock.now() - Duration::milliseconds(1) + Duration::microseconds(1) + Duration::hours(24);
    assert_eq!(status, WindowStatus::Open { until: expected });
}

pub async fn window_retention_and_forget<S: WindowStore>(store: S) {
    let (windows, clock) = windows(store);
    let windows = windows.with_retention(std::time::Duration::from_hours(1));
    let waid = "919900000004";
    let t = clock.now();
    windows.record_inbound(waid, t).await.unwrap();
    clock.set(t + Duration::hours(24) + Duration::minutes(59));
    assert!(windows.status(waid).await.unwrap().is_closed());
    clock.set(t + Duration::hours(25));
    assert_eq!(
        windows.status(waid).await.unwrap(),
        WindowStatus::Unknown,
        "dropped once the retention after the window's end has passed"
    );

    // A webhook so late that its retention is over is not stored.
    let stale = windows
        .record_inbound(waid, t - Duration::hours(30))
        .await
        .unwrap();
    assert!(stale.is_closed());
    assert_eq!(windows.status(waid).await.unwrap(), WindowStatus::Unknown);

    let other = "919900000005";
    windows.record_inbound_now(other).await.unwrap();
    assert!(windows.forget(other).await.unwrap());
    assert!(!windows.forget(other).await.unwrap());
    assert_eq!(windows.status(other).await.unwrap(), WindowStatus::Unknown);
}

pub async fn window_keys<S: WindowStore>(store: S) {
    let (windows, _clock) = windows(store);
    // A PhoneNumber and its waid name the same recipient.
    let phone = PhoneNumber::parse("+447400123456").unwrap();
    windows.record_inbound_now(&phone).await.unwrap();
    assert!(windows.status("447400123456").await.unwrap().is_open());
    // Business-scoped ids are kept as received.
    windows
        .record_inbound_now("IN.2149372115xxxxxx")
        .await
        .unwrap();
    assert!(
        windows
            .status("IN.2149372115xxxxxx")
            .await
            .unwrap()
            .is_open()
    );
    // A business-scoped user id, as a Bsuid, a Recipient or text, names one recipient; the
    // longest one the platform issues (`XX.ENT.` and 128 characters) fits.
    let bsuid = Bsuid::new("US.13491208655302741918").unwrap();
    windows.record_inbound_now(&bsuid).await.unwrap();
    assert!(
        windows
            .status("US.13491208655302741918")
            .await
            .unwrap()
            .is_open()
    );
    assert!(
        windows
            .status(&Recipient::from(&bsuid))
            .await
            .unwrap()
            .is_open()
    );
    assert!(windows.status(&phone).await.unwrap().is_open());
    let longest = Bsuid::new(format!("US.ENT.{}", "7".repeat(128))).unwrap();
    windows.record_inbound_now(&longest).await.unwrap();
    assert!(windows.status(&longest).await.unwrap().is_open());
    assert!(windows.forget(&Recipient::from(longest)).await.unwrap());
    // Malformed ids are refused when recording and unknown when asked.
    for bad in ["", "91 99", "91\n99", &"9".repeat(161)] {
        let err = windows.record_inbound_now(bad).await.unwrap_err();
        assert!(matches!(err, StoreError::InvalidRecipient { .. }), "{err}");
        assert!(!err.to_string().contains("91"), "no personal data: {err}");
        assert_eq!(windows.status(bad).await.unwrap(), WindowStatus::Unknown);
    }
}

/// An inbound message from a sender with the given ids (no `ts`: recorded at the clock's now).
fn inbound(waid: Option<&str>, user_id: Option<&str>) -> InboundMessage {
    let mut body = serde_json::json!({"event": "MO", "channel": "WhatsApp", "message": "hi"});
    if let Some(waid) = waid {
        body["waid"] = waid.into();
    }
    if let Some(user_id) = user_id {
        body["userId"] = user_id.into();
        body["username"] = "asha".into();
    }
    InboundMessage::from_slice(body.to_string().as_bytes()).unwrap()
}

pub async fn window_message_opens_every_sender_id<S: WindowStore>(store: S) {
    let (windows, clock) = windows(store);
    let t = clock.now();
    let end = WindowStatus::Open {
        until: t + Duration::hours(24),
    };
    // Both ids: a send to either finds the window open.
    let phone = PhoneNumber::parse("+447400123499").unwrap();
    let bsuid = Bsuid::new("US.13491208655302741918").unwrap();
    let both = inbound(Some("447400123499"), Some(bsuid.as_str()));
    assert_eq!(windows.record_message(&both).await.unwrap(), end);
    assert_eq!(windows.status(&phone).await.unwrap(), end);
    assert_eq!(windows.status(&bsuid).await.unwrap(), end);
    assert_eq!(windows.status(&Recipient::from(&phone)).await.unwrap(), end);
    assert_eq!(windows.status(&Recipient::from(&bsuid)).await.unwrap(), end);

    // A username user: only a BSUID, no phone number at all.
    let username = Bsuid::new("BR.1502576394655843").unwrap();
    let only_id = inbound(None, Some(username.as_str()));
    assert_eq!(windows.record_message(&only_id).await.unwrap(), end);
    assert_eq!(windows.status(&username).await.unwrap(), end);

    // Ids as received are kept as they are: a masked waid, a normalized WAID.
    for waid in ["9199xxxxxxxx", "IN.2149372115xxxxxx"] {
        windows
            .record_message(&inbound(Some(waid), None))
            .await
            .unwrap();
        assert_eq!(windows.status(waid).await.unwrap(), end, "{waid}");
    }

    // An id the store refuses is skipped, the other still counts; with none left the
    // window is Unknown rather than an error that would refuse the webhook.
    let long_waid = "9".repeat(200);
    let mixed = inbound(Some(&long_waid), Some("US.77"));
    assert_eq!(windows.record_message(&mixed).await.unwrap(), end);
    assert_eq!(windows.status("US.77").await.unwrap(), end);
    assert_eq!(
        windows
            .record_message(&inbound(Some(&long_waid), None))
            .await
            .unwrap(),
        WindowStatus::Unknown
    );

    // A later message by phone only moves the phone's window, not the BSUID's: the ids are
    // linked only by messages that carry both.
    clock.advance(std::time::Duration::from_hours(1));
    windows
        .record_message(&inbound(Some("447400123499"), None))
        .await
        .unwrap();
    assert_eq!(
        windows.status(&phone).await.unwrap(),
        WindowStatus::Open {
            until: t + Duration::hours(25)
        }
    );
    assert_eq!(windows.status(&bsuid).await.unwrap(), end);
}

/// A time in the future (a sender's clock ahead, a forged `ts`) counts as now: no window
/// ends later than 24 hours after it was recorded.
pub async fn window_future_times_count_as_now<S: WindowStore>(store: S) {
    let (windows, clock) = windows(store);
    let now = clock.now();
    let tomorrow = now + Duration::days(1);
    let until_now = WindowStatus::Open {
        until: now + Duration::hours(24),
    };
    assert_eq!(
        windows
            .record_inbound("919900000006", tomorrow)
            .await
            .unwrap(),
        until_now
    );
    let ts = tomorrow
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let body =
        serde_json::json!({"event": "MO", "waid": "919900000007", "message": "hi", "ts": ts});
    let dated_tomorrow = InboundMessage::from_slice(body.to_string().as_bytes()).unwrap();
    assert_eq!(dated_tomorrow.timestamp(), Some(tomorrow));
    assert_eq!(windows.received_at(&dated_tomorrow), now);
    assert_eq!(
        windows.record_message(&dated_tomorrow).await.unwrap(),
        until_now
    );
    assert_eq!(windows.status("919900000007").await.unwrap(), until_now);
    // The window closes 24 hours after the recording, not after the forged time.
    clock.set(now + Duration::hours(24));
    assert!(windows.status("919900000006").await.unwrap().is_closed());
    assert!(windows.status("919900000007").await.unwrap().is_closed());
}

pub async fn window_all<S: WindowStore + Clone>(store: S) {
    window_boundaries(store.clone()).await;
    window_future_times_count_as_now(store.clone()).await;
    window_out_of_order(store.clone()).await;
    window_sub_microsecond_is_dropped(store.clone()).await;
    window_retention_and_forget(store.clone()).await;
    window_message_opens_every_sender_id(store.clone()).await;
    window_keys(store).await;
}

// ---------------------------------------------------------------- opt-in ledger

fn opt_in(waid: &str, at: OffsetDateTime) -> OptIn {
    OptIn::new(
        waid,
        OptInSource::WebForm,
        at,
        "Receive order updates from Acme on WhatsApp at +44 7400 123456",
    )
    .unwrap()
}

pub async fn optin_lifecycle<S: OptInStore>(store: S) {
    let ledger = OptInLedger::new(store);
    let waid = "447400000001";
    let t = OffsetDateTime::now_utc();
    assert_eq!(
        ledger.status(waid).await.unwrap(),
        ConsentStatus::Never,
        "no opt-in: refuse"
    );

    let first = opt_in(waid, t);
    assert!(first.warnings().is_empty());
    ledger.record_opt_in(first).await.unwrap();
    assert_eq!(
        ledger.status(waid).await.unwrap(),
        ConsentStatus::OptedIn(opt_in(waid, t))
    );

    let stop = OptOut::stop_keyword(waid, t + Duration::days(1)).unwrap();
    ledger.record_opt_out(stop.clone()).await.unwrap();
    assert_eq!(
        ledger.status(waid).await.unwrap(),
        ConsentStatus::OptedOut(stop),
        "opt-in then STOP refuses again"
    );

    let again = opt_in(waid, t + Duration::days(2));
    ledger.record_opt_in(again.clone()).await.unwrap();
    assert_eq!(
        ledger.status(waid).await.unwrap(),
        ConsentStatus::OptedIn(again)
    );
    assert_eq!(ledger.store().events(waid).await.unwrap().len(), 3);
}

pub async fn optin_latest_time_wins<S: OptInStore>(store: S) {
    let ledger = OptInLedger::new(store);
    let waid = "447400000002";
    let t = OffsetDateTime::now_utc();
    // Recorded out of order: the opt-out happened after the opt-in.
    let stop = OptOut::new(waid, t + Duration::hours(1), "asked by phone").unwrap();
    ledger.record_opt_out(stop.clone()).await.unwrap();
    ledger.record_opt_in(opt_in(waid, t)).await.unwrap();
    assert_eq!(
        ledger.status(waid).await.unwrap(),
        ConsentStatus::OptedOut(stop)
    );
    // At the same instant, the one recorded last wins.
    let same = opt_in(waid, t + Duration::hours(1));
    ledger.record_opt_in(same.clone()).await.unwrap();
    assert_eq!(
        ledger.status(waid).await.unwrap(),
        ConsentStatus::OptedIn(same)
    );
}

pub async fn optin_warns_and_erases<S: OptInStore>(store: S) {
    let ledger = OptInLedger::new(store);
    let waid = "447400000003";
    let vague = OptIn::new(
        waid,
        OptInSource::Other("call centre".into()),
        OffsetDateTime::now_utc(),
        "I agree to receive offers",
    )
    .unwrap();
    let warnings = vague.warnings();
    ledger.record_opt_in(vague).await.unwrap();
    assert_eq!(warnings.len(), 1);
    assert_eq!(warnings[0].rule(), "opt_in.mentions_whatsapp");
    assert!(
        ledger.status(waid).await.unwrap().is_opted_in(),
        "recorded anyway"
    );

    assert_eq!(ledger.erase(waid).await.unwrap(), 1);
    assert_eq!(ledger.erase(waid).await.unwrap(), 0);
    assert_eq!(ledger.status(waid).await.unwrap(), ConsentStatus::Never);
    assert!(
        ledger
            .export()
            .await
            .unwrap()
            .iter()
            .all(|e| e.recipient() != waid)
    );
    // Malformed ids are simply never opted in.
    assert_eq!(ledger.status("").await.unwrap(), ConsentStatus::Never);
}

pub async fn optin_export_round_trips<S: OptInStore>(store: S) {
    let ledger = OptInLedger::new(store);
    let t = OffsetDateTime::now_utc()
        .replace_nanosecond(123_456_789)
        .unwrap();
    let sources = [
        OptInSource::WebForm,
        OptInSource::Sms,
        OptInSource::App,
        OptInSource::Store,
        OptInSource::Email,
        OptInSource::Other("kiosk \"B\" — Zürich".into()),
    ];
    for (i, source) in sources.into_iter().enumerate() {
        let waid = format!("4474000001{i:02}");
        let wording = format!("Receive receipts from Acme on WhatsApp at {waid}\nline two");
        ledger
            .record_opt_in(OptIn::new(&waid, source, t, wording).unwrap())
            .await
            .unwrap();
        if i % 2 == 0 {
            ledger
                .record_opt_out(OptOut::stop_keyword(&waid, t + Duration::minutes(5)).unwrap())
                .await
                .unwrap();
        }
    }
    let exported = ledger.export().await.unwrap();
    assert_eq!(exported.len(), 9);

    // As a serde Vec.
    let json = serde_json::to_string(&exported).unwrap();
    let back: Vec<ConsentEvent> = serde_json::from_str(&json).unwrap();
    assert_eq!(back, exported);

    // As JSON lines.
    let lines = ledger.export_json_lines().await.unwrap();
    assert_eq!(lines.lines().count(), 9);
    assert_eq!(parse_json_lines(&lines).unwrap(), exported);

    // Per recipient, events stay in recorded order and sub-second times survive.
    let first: Vec<_> = exported
        .iter()
        .filter(|e| e.recipient() == "447400000100")
        .collect();
    assert!(matches!(first[0], ConsentEvent::OptIn(o) if o.at() == t));
    assert!(matches!(first[1], ConsentEvent::OptOut(_)));

    // A line that is not a valid event is named.
    let err =
        parse_json_lines(&format!("{lines}{{\"event\":\"opt_in\",\"waid\":\"\"}}\n")).unwrap_err();
    assert_eq!(err.line(), 10);
}

pub async fn optin_by_bsuid<S: OptInStore>(store: S) {
    let ledger = OptInLedger::new(store);
    let bsuid = Bsuid::new("US.13491208655302741918").unwrap();
    let to = Recipient::from(&bsuid);
    let t = OffsetDateTime::now_utc();
    assert_eq!(ledger.status(&to).await.unwrap(), ConsentStatus::Never);
    let opt_in = OptIn::new(&to, OptInSource::App, t, "Updates from Acme on WhatsApp").unwrap();
    assert_eq!(opt_in.recipient(), "US.13491208655302741918");
    ledger.record_opt_in(opt_in).await.unwrap();
    assert!(ledger.status(&bsuid).await.unwrap().is_opted_in());
    assert!(
        ledger
            .status("US.13491208655302741918")
            .await
            .unwrap()
            .is_opted_in()
    );
    // An opt-out by BSUID blocks the BSUID.
    let stop = OptOut::stop_keyword(&bsuid, t + Duration::minutes(1)).unwrap();
    ledger.record_opt_out(stop.clone()).await.unwrap();
    assert_eq!(
        ledger.status(&to).await.unwrap(),
        ConsentStatus::OptedOut(stop)
    );
    // The export keeps the id exactly as given and reads back.
    let lines = ledger.export_json_lines().await.unwrap();
    assert!(
        lines.contains(r#""waid":"US.13491208655302741918""#),
        "{lines}"
    );
    let back = parse_json_lines(&lines).unwrap();
    assert!(back.iter().any(|e| e.recipient() == bsuid.as_str()));
    assert_eq!(ledger.erase(&to).await.unwrap(), 2);
    assert_eq!(ledger.status(&bsuid).await.unwrap(), ConsentStatus::Never);
}

/// A recipient's history is capped at `MAX_CONSENT_EVENTS`: the oldest by time go, the
/// latest (which decides the status) never does, even when it was recorded first.
pub async fn optin_history_is_capped_and_keeps_the_latest<S: OptInStore>(store: S) {
    let ledger = OptInLedger::new(store);
    let waid = "447400000009";
    let t = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
    let stop = OptOut::stop_keyword(waid, t + Duration::days(1)).unwrap();
    ledger.record_opt_out(stop.clone()).await.unwrap();
    // Older evidence recorded after it (an import, say), more than the cap.
    let extra = 20;
    let count = i64::try_from(MAX_CONSENT_EVENTS).unwrap() + extra;
    for i in 0..count {
        ledger
            .record_opt_in(opt_in(waid, t + Duration::seconds(i)))
            .await
            .unwrap();
    }
    let events = ledger.store().events(waid).await.unwrap();
    assert_eq!(events.len(), MAX_CONSENT_EVENTS);
    assert_eq!(
        ledger.status(waid).await.unwrap(),
        ConsentStatus::OptedOut(stop.clone()),
        "the latest event is never dropped"
    );
    // The oldest by time went; the rest stay in the order recorded.
    assert_eq!(events[0], ConsentEvent::OptOut(stop));
    assert_eq!(events[1].at(), t + Duration::seconds(extra + 1));
    assert_eq!(
        events.last().unwrap().at(),
        t + Duration::seconds(count - 1)
    );
    // A later opt-in wins, and the cap holds.
    let again = opt_in(waid, t + Duration::days(2));
    ledger.record_opt_in(again.clone()).await.unwrap();
    assert_eq!(
        ledger.status(waid).await.unwrap(),
        ConsentStatus::OptedIn(again)
    );
    assert_eq!(
        ledger.store().events(waid).await.unwrap().len(),
        MAX_CONSENT_EVENTS
    );
}

pub async fn optin_all<S: OptInStore + Clone>(store: S) {
    optin_lifecycle(store.clone()).await;
    optin_by_bsuid(store.clone()).await;
    optin_latest_time_wins(store.clone()).await;
    optin_warns_and_erases(store).await;
}

// ---------------------------------------------------------------- duplicate suppression

const LEASE: StdDuration = StdDuration::from_secs(20);

pub async fn dedupe_duplicates<S: DedupeStore>(store: S) {
    let dedupe = Deduplicator::new(store).with_ttl(StdDuration::from_mins(10));
    let delivered = DedupeKey::receipt(
        "108dd36b-9bca-48e5-ae8b-5f59c64b40a3",
        "447400123456",
        "7500",
    )
    .unwrap();
    let read = DedupeKey::receipt(
        "108dd36b-9bca-48e5-ae8b-5f59c64b40a3",
        "447400123456",
        "7502",
    )
    .unwrap();
    let inbound = DedupeKey::inbound("1615219932466").unwrap();
    let claim = async |key: &DedupeKey| dedupe.claim(key, &ClaimOwner::new()).await.unwrap();

    assert_eq!(claim(&delivered).await, Claim::Claimed);
    assert_eq!(
        claim(&delivered).await,
        Claim::Pending,
        "a second delivery while the first is being handled is not a duplicate yet"
    );
    dedupe.complete(&delivered).await.unwrap();
    assert_eq!(
        claim(&delivered).await,
        Claim::Done,
        "a delivery of a handled receipt is a duplicate"
    );
    assert_eq!(
        claim(&read).await,
        Claim::Claimed,
        "another code of the same transid is not a duplicate"
    );
    dedupe.complete(&read).await.unwrap();
    assert_eq!(claim(&inbound).await, Claim::Claimed);
    dedupe.complete(&inbound).await.unwrap();
    assert_eq!(claim(&inbound).await, Claim::Done);
    assert_eq!(claim(&delivered).await, Claim::Done);

    let stats = dedupe.stats();
    assert_eq!(
        (
            stats.first,
            stats.duplicates,
            stats.in_progress,
            stats.completed
        ),
        (3, 3, 1, 3)
    );

    // A transid containing the separator cannot collide with another (transid, code).
    let a = DedupeKey::receipt("x:1", "", "2").unwrap();
    let b = DedupeKey::receipt("x", "", "1:2").unwrap();
    assert_ne!(a, b);
    assert_eq!(claim(&a).await, Claim::Claimed);
    assert_eq!(claim(&b).await, Claim::Claimed);
}

pub async fn dedupe_zero_ttl_is_refused<S: DedupeStore>(store: S) {
    let err = store
        .claim("c:zero", "owner", StdDuration::ZERO)
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::InvalidTtl { millis: 0, .. }),
        "{err}"
    );
    let err = store
        .complete("c:zero", StdDuration::ZERO)
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::InvalidTtl { millis: 0, .. }),
        "{err}"
    );
    // Nothing was claimed by the refused call.
    assert_eq!(
        store.claim("c:zero", "owner", LEASE).await.unwrap(),
        Claim::Claimed
    );
}

/// `advance` lets time pass: a manual clock for the in-memory store, a real sleep for Redis
/// (which expires keys by its own clock). A done mark lasts its TTL.
pub async fn dedupe_ttl_expiry<S: DedupeStore>(store: S, advance: impl AsyncFn(StdDuration)) {
    let ttl = StdDuration::from_millis(100);
    assert_eq!(
        store.claim("i:ttl-1", "a", LEASE).await.unwrap(),
        Claim::Claimed
    );
    store.complete("i:ttl-1", ttl).await.unwrap();
    assert_eq!(
        store.claim("i:ttl-1", "b", LEASE).await.unwrap(),
        Claim::Done
    );
    advance(StdDuration::from_millis(300)).await;
    assert_eq!(
        store.claim("i:ttl-1", "c", LEASE).await.unwrap(),
        Claim::Claimed,
        "after the TTL the event counts as new again"
    );
}

/// A claim that is never completed nor released (its process died) turns other deliveries
/// away only until its lease ends; then the retry claims the event. The late claim does not
/// extend the first one.
pub async fn dedupe_lease_expiry<S: DedupeStore>(store: S, advance: impl AsyncFn(StdDuration)) {
    let lease = StdDuration::from_millis(100);
    assert_eq!(
        store.claim("i:crash", "crashed", lease).await.unwrap(),
        Claim::Claimed
    );
    assert_eq!(
        store.claim("i:crash", "retry-1", lease).await.unwrap(),
        Claim::Pending,
        "while the claim lasts, a retry is turned away (503)"
    );
    advance(StdDuration::from_millis(300)).await;
    assert_eq!(
        store.claim("i:crash", "retry-2", lease).await.unwrap(),
        Claim::Claimed,
        "once the crashed claim's lease ended, the retry is handled"
    );
    // The crashed owner's late release cannot undo the retry's claim.
    assert!(!store.release("i:crash", "crashed").await.unwrap());
    assert_eq!(
        store.claim("i:crash", "retry-3", lease).await.unwrap(),
        Claim::Pending
    );
}

/// A release undoes only its owner's pending claim: never another owner's, never a done mark.
pub async fn dedupe_release_rules<S: DedupeStore>(store: S) {
    let ttl = StdDuration::from_mins(10);
    assert!(
        !store.release("i:never", "a").await.unwrap(),
        "nothing to release yet"
    );
    assert_eq!(
        store.claim("i:r1", "a", LEASE).await.unwrap(),
        Claim::Claimed
    );
    assert!(!store.release("i:r1", "b").await.unwrap(), "not b's claim");
    assert_eq!(
        store.claim("i:r1", "c", LEASE).await.unwrap(),
        Claim::Pending,
        "a's claim survived b's release"
    );
    assert!(store.release("i:r1", "a").await.unwrap());
    assert!(!store.release("i:r1", "a").await.unwrap(), "released once");
    assert_eq!(
        store.claim("i:r1", "d", LEASE).await.unwrap(),
        Claim::Claimed,
        "after the release the retry counts as new"
    );
    store.complete("i:r1", ttl).await.unwrap();
    for owner in ["a", "d", "p:d", "d:"] {
        assert!(
            !store.release("i:r1", owner).await.unwrap(),
            "{owner} released a done mark"
        );
    }
    assert_eq!(
        store.claim("i:r1", "e", LEASE).await.unwrap(),
        Claim::Done,
        "no release removes a done mark"
    );
    // Completing without a claim (its lease ended before the handler succeeded) marks it
    // done all the same.
    store.complete("i:r2", ttl).await.unwrap();
    assert_eq!(store.claim("i:r2", "f", LEASE).await.unwrap(), Claim::Done);
}

/// Many tasks race on one key, each with its own owner: exactly one claims it.
pub async fn dedupe_race<S: DedupeStore + 'static>(stores: Vec<Arc<S>>, key: &str) {
    let mut tasks = Vec::new();
    for i in 0..64 {
        let store = Arc::clone(&stores[i % stores.len()]);
        let key = key.to_owned();
        tasks.push(tokio::spawn(async move {
            store
                .claim(&key, &format!("owner-{i}"), StdDuration::from_mins(1))
                .await
                .unwrap()
        }));
    }
    let mut claimed = 0;
    for task in tasks {
        match task.await.unwrap() {
            Claim::Claimed => claimed += 1,
            other => assert_eq!(other, Claim::Pending),
        }
    }
    assert_eq!(
        claimed, 1,
        "exactly one of 64 racing deliveries claims the event"
    );
}

/// A receiver that claimed an event and then "crashed" (never completed nor released it,
/// and is dropped) blocks the platform's retries at another receiver on the same store only
/// until the claim's lease ends; then the retry is handled, and once completed, later
/// retries are duplicates. `advance` lets `lease` pass.
pub async fn receiver_claim_outlives_a_crash_only_for_its_lease<S: DedupeStore + Clone>(
    store: S,
    lease: StdDuration,
    advance: impl AsyncFn(StdDuration),
) {
    let build = || {
        Receiver::builder()
            .allow_unsigned()
            .dedupe_store(store.clone())
            .claim_lease(lease)
            .build()
            .unwrap()
    };
    let none: [(&str, &str); 0] = [];
    let body = br#"{"event":"MO","waid":"447400123456","message":"hi","tid":"crash_0"}"#;
    let crashed = build();
    assert!(crashed.receive(none, body).await.unwrap().is_new());
    drop(crashed); // killed mid-handler: no complete, no release

    let survivor = build();
    let refused = survivor.receive(none, body).await.unwrap_err();
    assert!(matches!(refused, ReceiveError::InProgress), "{refused:?}");
    assert_eq!(refused.status(), 503, "the platform will retry");
    assert_eq!(survivor.stats().in_progress, 1);

    advance(lease * 3).await;
    let retry = survivor.receive(none, body).await.unwrap();
    assert!(retry.is_new(), "the retry after the lease is handled");
    survivor.complete(retry.event()).await.unwrap();
    assert!(matches!(
        survivor.receive(none, body).await.unwrap(),
        Received::Duplicate(_)
    ));
}

pub async fn dedupe_all<S: DedupeStore + Clone + 'static>(store: S) {
    dedupe_duplicates(store.clone()).await;
    dedupe_zero_ttl_is_refused(store.clone()).await;
    dedupe_release_rules(store.clone()).await;
    dedupe_race(vec![Arc::new(store)], "i:race").await;
}
