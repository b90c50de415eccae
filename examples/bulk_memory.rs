//! Measures the peak memory of a 100,000-recipient bulk send against a local server.
//!
//! ```text
//! cargo run --release --example bulk_memory [recipients]
//! ```
//! Prints the process's peak resident set (`VmHWM` from `/proc/self/status`, Linux only).

mod local_server;

use std::process::ExitCode;

use futures_util::StreamExt as _;
use local_server::peak_kib;
use webex_connect_whatsapp::client::{Client, RetryPolicy};
use webex_connect_whatsapp::{AppId, SessionMessage};

#[tokio::main]
async fn main() -> ExitCode {
    let n: u32 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let Ok((addr, _calls)) = local_server::start().await else {
        eprintln!("cannot bind 127.0.0.1");
        return ExitCode::FAILURE;
    };
    let before = peak_kib();
    let client = Client::builder()
        .service_key("local-key")
        .app_id(AppId::new("a_155054536910425280").unwrap_or_else(|_| unreachable!()))
        .base_url(
            format!("http://{addr}")
                .parse()
                .unwrap_or_else(|_| unreachable!()),
        )
        .retry_policy(RetryPolicy::none())
        .build();
    let Ok(client) = client else {
        eprintln!("cannot build the client");
        return ExitCode::FAILURE;
    };
    let Ok(text) = SessionMessage::text("Your order has shipped") else {
        return ExitCode::FAILURE;
    };
    let recipients = (0..n).map(move |i| format!("+447400{:06}", i % 1_000_000));
    let started = std::time::Instant::now();
    let mut stream = client.bulk(text).send(recipients);
    let mut queued = 0_u64;
    while let Some(r) = stream.next().await {
        if r.result.is_ok() {
            queued += 1;
        }
    }
    let elapsed = started.elapsed();
    let p = stream.progress();
    println!(
        "recipients {n}, queued {queued}, failed {}, unknown {}, {:.2} s ({:.0} msg/s)",
        p.failed,
        p.outcome_unknown,
        elapsed.as_secs_f64(),
        f64::from(n) / elapsed.as_secs_f64()
    );
    println!(
        "peak RSS (VmHWM): before {} KiB, after {} KiB",
        before.unwrap_or(0),
        peak_kib().unwrap_or(0)
    );
    if queued == u64::from(n) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
