//! The opt-in ledger on the in-memory store: the shared behaviour suite (also run against
//! Redis in `tests/redis_store.rs`) plus the models.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod store_suite;

use std::sync::Arc;

use time::macros::datetime;
use webex_connect_whatsapp::conversation::optin::InMemoryOptInStore;
use webex_connect_whatsapp::conversation::optin::{
    ConsentEvent, OptIn, OptInError, OptInSource, OptOut, is_stop_keyword, parse_json_lines,
};
use webex_connect_whatsapp::conversation::store::StoreError;

fn store() -> Arc<InMemoryOptInStore> {
    Arc::new(InMemoryOptInStore::default())
}

#[tokio::test]
async fn no_opt_in_refuses_then_stop_refuses_again_then_opt_in_again() {
    store_suite::optin_lifecycle(store()).await;
}

#[tokio::test]
async fn the_latest_event_wins_whatever_the_recording_order() {
    store_suite::optin_latest_time_wins(store()).await;
}

#[tokio::test]
async fn vague_wording_warns_and_erase_forgets() {
    store_suite::optin_warns_and_erases(store()).await;
}

#[tokio::test]
async fn ledger_export_round_trips() {
    store_suite::optin_export_round_trips(store()).await;
}

#[tokio::test]
async fn a_username_user_opts_in_and_out_by_bsuid() {
    store_suite::optin_by_bsuid(store()).await;
}

#[tokio::test]
async fn the_history_is_capped_and_the_latest_event_kept() {
    store_suite::optin_history_is_capped_and_keeps_the_latest(store()).await;
}

#[tokio::test]
async fn whole_suite_on_one_shared_store() {
    store_suite::optin_all(store()).await;
}

#[test]
fn stop_keywords() {
    for yes in [
        "STOP",
        "stop",
        " Stop ",
        "STOP ALL",
        "stop  all",
        "StopAll",
        "UNSUBSCRIBE",
        "unsubscribe",
        "Cancel",
        "END",
        "quit",
        "opt out",
        "OPT-OUT",
        "optout",
        "stop!",
        "Stop.",
        "\tSTOP\n",
    ] {
        assert!(is_stop_keyword(yes), "{yes:?}");
    }
    for no in [
        "",
        "stopp",
        "please stop",
        "don't stop",
        "STOP IT NOW",
        "start",
        "unsubscribe me",
    ] {
        assert!(!is_stop_keyword(no), "{no:?}");
    }
}

#[test]
fn opt_in_needs_wording_and_a_valid_waid() {
    let t = datetime!(2026-01-01 09:00 UTC);
    assert!(matches!(
        OptIn::new("447400123456", OptInSource::App, t, "  \n"),
        Err(OptInError::EmptyWording)
    ));
    let long = "x".repeat(4097);
    let err = OptIn::new("447400123456", OptInSource::App, t, long).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the opt-in wording is 4097 characters long, but the max is 4096"
    );
    assert!(matches!(
        OptIn::new(
            "447400123456",
            OptInSource::Other(" ".into()),
            t,
            "WhatsApp"
        ),
        Err(OptInError::EmptySource)
    ));
    assert!(matches!(
        OptIn::new("", OptInSource::App, t, "WhatsApp"),
        Err(OptInError::Recipient(StoreError::InvalidRecipient { .. }))
    ));
    let err = OptOut::new("447400123456", t, "r".repeat(1025)).unwrap_err();
    assert!(matches!(
        err,
        OptInError::ReasonTooLong {
            chars: 1025,
            max: 1024
        }
    ));
}

#[test]
fn wording_that_names_whatsapp_has_no_warning() {
    let t = datetime!(2026-01-01 09:00 UTC);
    let ok = OptIn::new("447400123456", OptInSource::Store, t, "… on WHATSAPP …").unwrap();
    assert!(ok.warnings().is_empty());
    let vague = OptIn::new("447400123456", OptInSource::Store, t, "texts from Acme").unwrap();
    assert_eq!(vague.warnings().len(), 1);
}

#[test]
fn events_serialize_with_an_event_tag_and_validate_when_read() {
    let t = datetime!(2026-01-01 09:00:00.5 UTC);
    let event = ConsentEvent::OptIn(
        OptIn::new(
            "447400123456",
            OptInSource::Email,
            t,
            "Receive news on WhatsApp",
        )
        .unwrap(),
    );
    let json = serde_json::to_value(&event).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "event": "opt_in",
            "waid": "447400123456",
            "source": "email",
            "at": "2026-01-01T09:00:00.5Z",
            "wording": "Receive news on WhatsApp"
        })
    );
    // Reading back runs the same checks as construction.
    let mut bad = json.clone();
    bad["wording"] = "".into();
    assert!(serde_json::from_value::<ConsentEvent>(bad).is_err());
    let mut unknown_field = json;
    unknown_field["extra"] = 1.into();
    assert_eq!(
        serde_json::from_value::<ConsentEvent>(unknown_field).unwrap(),
        event
    );
}

#[test]
fn exports_of_earlier_versions_still_parse() {
    // Lines as 0.x wrote them before recipients could be BSUIDs.
    let old = concat!(
        r#"{"event":"opt_in","waid":"447400123456","source":"web_form","at":"2026-01-01T09:00:00Z","wording":"Updates on WhatsApp"}"#,
        "\n",
        r#"{"event":"opt_out","waid":"447400123456","at":"2026-01-02T09:00:00Z","reason":"inbound stop keyword"}"#,
        "\n",
    );
    let events = parse_json_lines(old).unwrap();
    assert_eq!(events.len(), 2);
    assert!(events.iter().all(|e| e.recipient() == "447400123456"));
    // And they are written back the same way, so older readers keep working.
    let rewritten: String = events
        .iter()
        .map(|e| serde_json::to_string(e).unwrap() + "\n")
        .collect();
    assert_eq!(rewritten, old);
    // The Rust name is accepted too.
    let by_name =
        r#"{"event":"opt_out","recipient":"US.13491208655302741918","at":"2026-01-02T09:00:00Z"}"#;
    let event: ConsentEvent = serde_json::from_str(by_name).unwrap();
    assert_eq!(event.recipient(), "US.13491208655302741918");
}
