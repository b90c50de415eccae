//! Shared helpers for the client tests: a configured client, text messages, and raw
//! TCP servers that misbehave in ways wiremock cannot.
#![allow(
    dead_code,
    unreachable_pub,
    reason = "each test file uses a different subset of these helpers"
)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;
use webex_connect_whatsapp::client::{Client, ClientBuilder, RetryPolicy};
use webex_connect_whatsapp::{AppId, PhoneNumber, SessionMessage};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The service key every test client sends.
pub const KEY: &str = "test-service-key-0123456789";
/// The app id every test client sends.
pub const APP: &str = "a_155054536910425280";
/// The path of the send endpoint.
pub const PATH: &str = "/resources/v1/messaging";

/// A builder for a client of `base` with the test key and app id, and fast retries.
pub fn builder(base: &str) -> ClientBuilder {
    Client::builder()
        .service_key(KEY)
        .app_id(AppId::new(APP).unwrap())
        .base_url(base.parse().unwrap())
        .request_timeout(Duration::from_secs(5))
        .retry_policy(fast_retries())
}

/// A client of `base` (a wiremock `uri()` or `http://127.0.0.1:port`).
pub fn client(base: &str) -> Client {
    builder(base).build().unwrap()
}

/// A wiremock server that answers every POST with `response`.
pub async fn mock_answering(response: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(response)
        .mount(&server)
        .await;
    server
}

/// [`mock_answering`], which also fails the test (when the server drops) unless exactly
/// `requests` requests came.
pub async fn mock_answering_times(response: ResponseTemplate, requests: u64) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(response)
        .expect(requests)
        .mount(&server)
        .await;
    server
}

/// A wiremock server that answers the first POST with `first` and the next with `then`; it
/// fails the test (when the server drops) unless each answer was given exactly once.
pub async fn mock_first_then(first: ResponseTemplate, then: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(first)
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(then)
        .expect(1)
        .mount(&server)
        .await;
    server
}

/// The JSON bodies of the requests `server` received, in order.
pub async fn request_bodies(server: &MockServer) -> Vec<Value> {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.body_json().unwrap())
        .collect()
}

/// Retries with millisecond delays, so tests stay fast.
pub fn fast_retries() -> RetryPolicy {
    RetryPolicy::default()
        .max_attempts(3)
        .base_delay(Duration::from_millis(5))
        .max_delay(Duration::from_millis(20))
}

/// A text session message.
pub fn text(body: &str) -> SessionMessage {
    SessionMessage::text(body).unwrap()
}

/// A valid UK mobile number, `+447400` followed by six digits of `n`.
pub fn phone(n: u32) -> PhoneNumber {
    PhoneNumber::parse(&format!("+447400{:06}", n % 1_000_000)).unwrap()
}

/// The accepted response for one transid.
pub fn queued(transid: &str) -> Value {
    json!({"response": [{"code": "1001", "transid": transid, "description": "Queued"}]})
}

/// The rejected response shape.
pub fn rejected(code: &str, description: &str) -> Value {
    json!({"response": {"code": code, "description": description, "transid": "rej-1"}})
}

/// A server that reads each request completely (headers and body), then closes the connection
/// without answering. Returns its address and the number of requests it read.
pub async fn swallowing_server() -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&seen);
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let counter = Arc::clone(&counter);
            tokio::spawn(async move {
                if read_request(&mut socket).await.is_some() {
                    counter.fetch_add(1, Ordering::SeqCst);
                }
                drop(socket);
            });
        }
    });
    (addr, seen)
}

/// A server answering every request with `body` (HTTP 200, keep-alive).
pub async fn answering_server(body: &'static str) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                while read_request(&mut socket).await.is_some() {
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
    });
    addr
}

/// Reads one HTTP/1.1 request (headers, then `content-length` bytes of body); returns the body.
pub async fn read_request(socket: &mut tokio::net::TcpStream) -> Option<Vec<u8>> {
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0_u8; 8192];
    let header_end = loop {
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..header_end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .map_or(0, |v| v.trim().parse().unwrap_or(0));
    while buf.len() < header_end + length {
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Some(buf[header_end..header_end + length].to_vec())
}

/// A port on 127.0.0.1 with nothing listening (bound, then released).
pub async fn closed_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    addr
}
