//! Webhook parsing speed: this crate's typed `webhook::parse` against `serde_json::Value` and
//! against `serde::de::IgnoredAny` (the floor: JSON validation with nothing kept). The
//! `event_*` groups are events the crate does not type (`WebhookEvent::Unknown`), which cost
//! one more linear pass.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use webex_connect_whatsapp::webhook;

const FIXTURES: &[(&str, &str)] = &[
    (
        "delivery_delivered",
        include_str!("../tests/fixtures/delivery_delivered.json"),
    ),
    (
        "delivery_failed_7710",
        include_str!("../tests/fixtures/delivery_failed_7710.json"),
    ),
    (
        "delivery_extra_fields",
        include_str!("../tests/fixtures/delivery_extra_fields.json"),
    ),
    (
        "inbound_text",
        include_str!("../tests/fixtures/inbound_text.json"),
    ),
    (
        "inbound_image",
        include_str!("../tests/fixtures/inbound_image.json"),
    ),
    (
        "inbound_location",
        include_str!("../tests/fixtures/inbound_location.json"),
    ),
    (
        "inbound_document",
        include_str!("../tests/fixtures/inbound_document.json"),
    ),
    (
        "inbound_postback",
        include_str!("../tests/fixtures/inbound_postback.json"),
    ),
    (
        "inbound_username_user",
        include_str!("../tests/fixtures/inbound_username_user.json"),
    ),
    (
        "event_reaction",
        include_str!("../tests/fixtures/event_reaction.json"),
    ),
    (
        "event_user_id_update",
        include_str!("../tests/fixtures/event_user_id_update.json"),
    ),
];

/// An unknown event of about 3 MB (100k members), to show that its cost grows linearly.
fn large_unknown() -> String {
    use std::fmt::Write as _;
    let mut body = String::from(r#"{"event":"future_kind""#);
    for i in 0..100_000 {
        write!(body, r#","k{i}":{{"v":[{i},"{}"]}}"#, "x".repeat(i % 7)).unwrap();
    }
    body.push('}');
    body
}

fn parse(c: &mut Criterion) {
    let large = large_unknown();
    let generated = [("event_large_unknown", large.as_str())];
    for (name, body) in FIXTURES.iter().chain(&generated) {
        let bytes = body.as_bytes();
        assert!(webhook::parse(bytes).is_ok(), "{name} must parse");
        let mut group = c.benchmark_group(*name);
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function("typed", |b| {
            b.iter(|| webhook::parse(black_box(bytes)).unwrap());
        });
        group.bench_function("value", |b| {
            b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(bytes)).unwrap());
        });
        group.bench_function("ignored_any", |b| {
            b.iter(|| serde_json::from_slice::<serde::de::IgnoredAny>(black_box(bytes)).unwrap());
        });
        group.finish();
    }
}

criterion_group!(benches, parse);
criterion_main!(benches);
