//! What the client logs: numbers masked, the service key never.
//!
//! Alone in its own test binary because it installs a thread-local `tracing` subscriber:
//! tracing caches each callsite's interest globally, so tests running in parallel on other
//! threads without a subscriber can leave a callsite disabled and make the check flaky.
#![cfg(feature = "client")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use support::{APP, KEY, client, mock_answering, phone, rejected, text};
use wiremock::ResponseTemplate;

#[tokio::test(flavor = "current_thread")]
async fn logs_mask_numbers_and_never_show_the_key() {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);
    impl Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    let sink = Sink::default();
    let writer = sink.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server =
        mock_answering(ResponseTemplate::new(200).set_body_json(rejected("7004", "Invalid"))).await;
    let _ = client(&server.uri())
        .send(&phone(123_456), text("Hi"))
        .await
        .unwrap_err();
    let logs = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("webex_connect.send"), "{logs}");
    assert!(logs.contains("4474****3456"), "{logs}");
    assert!(logs.contains(APP), "{logs}");
    assert!(!logs.contains("447400123456"), "{logs}");
    assert!(!logs.contains(KEY), "{logs}");
}
