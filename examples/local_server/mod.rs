//! A minimal local HTTP server that answers every send with `1001`, for the memory and speed
//! examples: it keeps nothing, so the process's peak memory is the client's.
#![allow(dead_code, reason = "each example uses the part it needs")]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;

/// Starts the server on 127.0.0.1; returns its address and a counter of the calls answered.
pub(crate) async fn start() -> std::io::Result<(SocketAddr, Arc<AtomicU64>)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let calls = Arc::new(AtomicU64::new(0));
    tokio::spawn(serve(listener, Arc::clone(&calls)));
    Ok((addr, calls))
}

/// The answer to a body: one entry per element of a personalised batch (transids `t`,
/// `t_1`, ...), or one entry for a single request.
fn answer(body: &[u8]) -> String {
    let elements = if body.first() == Some(&b'[') {
        body.windows(17)
            .filter(|w| *w == b"\"deliverychannel\"")
            .count()
            .max(1)
    } else {
        1
    };
    let entries: Vec<String> = (0..elements)
        .map(|i| {
            let transid = if i == 0 {
                "t".to_owned()
            } else {
                format!("t_{i}")
            };
            format!(r#"{{"code":"1001","transid":"{transid}","description":"Queued"}}"#)
        })
        .collect();
    format!(r#"{{"response":[{}]}}"#, entries.join(","))
}

/// Answers every request after reading its whole body.
async fn serve(listener: TcpListener, calls: Arc<AtomicU64>) {
    while let Ok((mut socket, _)) = listener.accept().await {
        let calls = Arc::clone(&calls);
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
                let body = answer(buf.get(end + 4..end + 4 + len).unwrap_or_default());
                buf.drain(..end + 4 + len);
                calls.fetch_add(1, Ordering::Relaxed);
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                    body.len()
                );
                if socket.write_all(response.as_bytes()).await.is_err() {
                    return;
                }
            }
        });
    }
}

/// The process's peak resident set in KiB (`VmHWM`, Linux only).
pub(crate) fn peak_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
