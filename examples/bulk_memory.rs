//! Measures the peak memory of a 100,000-recipient bulk send against a local server.
//!
//! ```text
//! cargo run --release --example bulk_memory [recipients]
//! ```
//! Prints the process's peak resident set (`VmHWM` from `/proc/self/status`, Linux only).

use std::process::ExitCode;

use futures_util::StreamExt as _;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;
use webex_connect_whatsapp::client::{Client, RetryPolicy};
use webex_connect_whatsapp::{AppId, SessionMessage};

const ANSWER: &str =
    r#"{"response":[{"code":"1001","transid":"3f09295d","description":"Queued"}]}"#;

fn peak_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Answers every request with `1001` after reading its whole body.
async fn serve(listener: TcpListener) {
    while let Ok((mut socket, _)) = listener.accept().await {
        tokio::spawn(async move {
            let mut buf = Vec::new();
            let mut chunk = vec![0_u8; 64 * 1024];
            loop {
                // Headers, then content-length bytes.
                let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
                    match socket.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(chunk.get(..n).unwrap_or_default()),
                    }
                    continue;
                };
                let head = String::from_utf8_lossy(buf.get(..end).unwrap_or_default())
                    .to_ascii_lowercase();
                let len: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(0);
                while buf.len() < end + 4 + len {
                    match socket.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(chunk.get(..n).unwrap_or_default()),
                    }
                }
                buf.drain(..end + 4 + len);
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{ANSWER}",
                    ANSWER.len()
                );
                if socket.write_all(response.as_bytes()).await.is_err() {
                    return;
                }
            }
        });
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let n: u32 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let Ok(listener) = TcpListener::bind("127.0.0.1:0").await else {
        eprintln!("cannot bind 127.0.0.1");
        return ExitCode::FAILURE;
    };
    let Ok(addr) = listener.local_addr() else {
        return ExitCode::FAILURE;
    };
    tokio::spawn(serve(listener));
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
