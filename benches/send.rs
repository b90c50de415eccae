//! Send throughput against a local HTTP/1.1 server on 127.0.0.1 that answers `1001`.
//!
//! - `single_send`: one message per request through this client vs. raw reqwest posting a
//!   hand-built JSON body (the overhead of validation, envelope, tracing and error decoding).
//! - `bulk_1000`: 1000 recipients in one batched request vs. one request per recipient.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use futures_util::StreamExt as _;
use webex_connect_whatsapp::client::{Client, RetryPolicy};

const ANSWER: &str = r#"{"response":[{"code":"1001","transid":"3f09295d-0000-4000-8000-000000000000","description":"Queued"}]}"#;

fn setup(rt: &tokio::runtime::Runtime) -> (Client, reqwest::Client, String) {
    let addr = rt.block_on(support::answering_server(ANSWER));
    let base = format!("http://{addr}");
    let client = support::builder(&base)
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let raw = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .tcp_nodelay(true)
        .build()
        .unwrap();
    (client, raw, format!("{base}/resources/v1/messaging"))
}

fn single_send(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (client, raw, url) = setup(&rt);
    let to = support::phone(123_456);
    let text = support::text("Your order 1234 has shipped");
    let mut group = c.benchmark_group("single_send");
    group.throughput(Throughput::Elements(1));
    group.bench_function("this_client", |b| {
        b.to_async(&rt).iter(|| async {
            let receipt = client.send(&to, text.clone()).await.unwrap();
            black_box(receipt);
        });
    });
    group.bench_function("raw_reqwest", |b| {
        b.to_async(&rt).iter(|| async {
            let body = format!(
                r#"{{"deliverychannel":"whatsapp","appid":"{}","destination":[{{"waid":["{}"],"correlationid":"{:016x}"}}],"channels":{{"OTT-Messaging":{{"wa":{{"type":"text","text":{{"body":"Your order 1234 has shipped"}}}}}}}}}}"#,
                support::APP,
                to.waid(),
                fastrand::u64(..)
            );
            let response = raw
                .post(&url)
                .header("key", support::KEY)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            let bytes = response.bytes().await.unwrap();
            black_box(bytes);
        });
    });
    group.finish();
}

fn bulk(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (client, _, _) = setup(&rt);
    let text = support::text("Your order has shipped");
    let mut group = c.benchmark_group("bulk_1000");
    group.throughput(Throughput::Elements(1000));
    group.sample_size(20);
    group.bench_function("batched", |b| {
        b.to_async(&rt).iter(|| async {
            let recipients = (0..1000).map(support::phone);
            let n = client.bulk(text.clone()).send(recipients).count().await;
            assert_eq!(n, 1000);
        });
    });
    group.bench_function("one_request_per_recipient", |b| {
        b.to_async(&rt).iter(|| async {
            let n = futures_util::stream::iter(0..1000)
                .map(|i| {
                    let client = client.clone();
                    let text = text.clone();
                    async move { client.send(&support::phone(i), text).await }
                })
                .buffer_unordered(4)
                .count()
                .await;
            assert_eq!(n, 1000);
        });
    });
    group.finish();
}

criterion_group!(benches, single_send, bulk);
criterion_main!(benches);
