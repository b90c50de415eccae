//! Measures a personalised campaign: 100,000 template messages, each with its own parameters.
//!
//! ```text
//! cargo run --release --example batch_bench [rows]
//! ```
//!
//! 1. Peak memory: the rows go as personalised batches to a local server that keeps nothing,
//!    so the process's peak resident set (`VmHWM`, Linux only) is the client's.
//! 2. Calls and time: the same rows go to the sandbox as personalised batches (1000 rows per
//!    call), then one message per call, and the sandbox's own request log counts the calls.

mod local_server;

use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use webex_connect_whatsapp::client::{BatchRow, Client};
use webex_connect_whatsapp::sandbox::Sandbox;
use webex_connect_whatsapp::{AppId, PhoneNumber, TemplateId, TemplateMessage};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

const TEMPLATE: &str = "5139722425";

/// Row `i`: a recipient and a payment notification with its own name, id and amount.
fn row(template: &TemplateId, i: u64) -> Result<BatchRow, BoxError> {
    let to = PhoneNumber::parse(&format!("+447400{:06}", i % 1_000_000))?;
    let message = TemplateMessage::builder(template.clone())
        .text("name", format!("Customer {i}"))
        .text("payment", format!("A-{i}"))
        .text("amount", format!("{}.{:02} EUR", i % 500, i % 100))
        .build()?;
    Ok(BatchRow::new(to, message))
}

/// Sends `n` rows as personalised batches; returns how many were queued and how long it took.
async fn batches(client: &Client, n: u64) -> Result<(u64, Duration), BoxError> {
    let template = TemplateId::new(TEMPLATE)?;
    let rows = (0..n).filter_map(move |i| row(&template, i).ok());
    let started = Instant::now();
    let mut results = client.batch().send(rows);
    let mut queued = 0;
    while let Some(r) = results.next().await {
        queued += u64::from(r.result.is_ok());
    }
    Ok((queued, started.elapsed()))
}

/// Sends `n` rows one message per call (8 in flight), the way a loop of `send` would.
async fn one_per_call(client: &Client, n: u64) -> Result<(u64, Duration), BoxError> {
    let template = TemplateId::new(TEMPLATE)?;
    let started = Instant::now();
    let sends = (0..n).map(|i| {
        let template = template.clone();
        async move {
            let to = PhoneNumber::parse(&format!("+447400{:06}", i % 1_000_000)).ok()?;
            let message = TemplateMessage::builder(template)
                .text("name", format!("Customer {i}"))
                .text("payment", format!("A-{i}"))
                .text("amount", format!("{}.{:02} EUR", i % 500, i % 100))
                .build()
                .ok()?;
            client.send(&to, message).await.ok()
        }
    });
    let queued = futures_util::stream::iter(sends)
        .buffer_unordered(8)
        .filter(|r| std::future::ready(r.is_some()))
        .count()
        .await;
    Ok((u64::try_from(queued)?, started.elapsed()))
}

async fn run(n: u64) -> Result<(), BoxError> {
    // 1. Peak memory against a server that keeps nothing.
    let (addr, calls) = local_server::start().await?;
    let local = Client::builder()
        .service_key("local-key")
        .app_id(AppId::new("a_155054536910425280")?)
        .base_url(format!("http://{addr}").parse()?)
        .build()?;
    let before = local_server::peak_kib().unwrap_or(0);
    let (queued, took) = batches(&local, n).await?;
    let peak = local_server::peak_kib().unwrap_or(0);
    println!(
        "local server: {n} rows, {queued} queued in {} calls, {:.2} s; peak RSS {:.1} MiB \
         (before sending {:.1} MiB)",
        calls.load(Ordering::Relaxed),
        took.as_secs_f64(),
        kib_to_mib(peak),
        kib_to_mib(before),
    );

    // 2. Calls and wall time against the sandbox (which keeps a log of everything, so its
    //    memory is not the client's).
    let sandbox = Sandbox::builder()
        .template(TEMPLATE, ["name", "payment", "amount"])
        .start()
        .await?;
    let batched = sandbox_client(&sandbox)?;
    let (queued, took_batched) = batches(&batched, n).await?;
    let batch_calls = sandbox.requests().len();
    println!(
        "sandbox, personalised batches: {queued} queued in {batch_calls} calls, {:.2} s",
        took_batched.as_secs_f64()
    );
    let single = Sandbox::builder()
        .template(TEMPLATE, ["name", "payment", "amount"])
        .start()
        .await?;
    let (queued, took_single) = one_per_call(&sandbox_client(&single)?, n).await?;
    println!(
        "sandbox, one message per call: {queued} queued in {} calls, {:.2} s ({:.1}x the batched time)",
        single.requests().len(),
        took_single.as_secs_f64(),
        took_single.as_secs_f64() / took_batched.as_secs_f64().max(f64::EPSILON),
    );
    Ok(())
}

#[allow(clippy::cast_precision_loss, reason = "a figure for people")]
fn kib_to_mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// A client of the sandbox.
fn sandbox_client(sandbox: &Sandbox) -> Result<Client, BoxError> {
    Ok(sandbox.client_builder().build()?)
}

#[tokio::main]
async fn main() -> ExitCode {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    match run(n).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("batch_bench failed: {e}");
            ExitCode::FAILURE
        }
    }
}
