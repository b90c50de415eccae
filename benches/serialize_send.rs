//! How long building, serializing and reading the send payloads takes.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use time::OffsetDateTime;
use webex_connect_whatsapp::media::{MediaKind, MediaUrl};
use webex_connect_whatsapp::template::TemplateDefinition;
use webex_connect_whatsapp::template::{TemplateId, TemplateMessage};
use webex_connect_whatsapp::{SessionMessage, TemplateCategory, TemplateName};

fn template_message() -> TemplateMessage {
    TemplateMessage::builder(TemplateId::new("5139722425xxxxx").unwrap())
        .media_header(
            MediaKind::Image,
            MediaUrl::new("https://example.com/x.jpg").unwrap(),
        )
        .text("movie", "joker")
        .date_time(
            "time",
            "Feb 20th, 2023 8:45pm",
            OffsetDateTime::from_unix_timestamp(1_782_231_500).unwrap(),
        )
        .currency("purchase_value", "USD", 150_000, "EUR 300")
        .url_suffix("ctaVariable", "url_extension")
        .quick_reply("Button 1", "BUTTON 1 PAYLOAD")
        .build()
        .unwrap()
}

fn bench(c: &mut Criterion) {
    let message = template_message();
    let message_json = serde_json::to_vec(&message).unwrap();
    let text = SessionMessage::text("Your order has shipped and will arrive on Tuesday.").unwrap();
    let text_json = serde_json::to_vec(&text).unwrap();

    c.bench_function("template_message/build", |b| b.iter(template_message));
    c.bench_function("template_message/serialize", |b| {
        b.iter(|| serde_json::to_vec(black_box(&message)).unwrap());
    });
    c.bench_function("template_message/deserialize", |b| {
        b.iter(|| serde_json::from_slice::<TemplateMessage>(black_box(&message_json)).unwrap());
    });
    c.bench_function("session_text/serialize", |b| {
        b.iter(|| serde_json::to_vec(black_box(&text)).unwrap());
    });
    c.bench_function("session_text/deserialize", |b| {
        b.iter(|| serde_json::from_slice::<SessionMessage>(black_box(&text_json)).unwrap());
    });
    c.bench_function("session_text/4096_chars", |b| {
        let long = "é".repeat(4096);
        b.iter(|| SessionMessage::text(black_box(long.as_str())).unwrap());
    });
    c.bench_function("template_definition/build", |b| {
        b.iter(|| {
            TemplateDefinition::builder(
                TemplateName::new("order_shipped").unwrap(),
                TemplateCategory::Utility,
                "en_US",
                black_box("Hi {{1}}, your order {{2}} has shipped and arrives on {{3}}."),
            )
            .header_text("Order {{1}}")
            .url_button("Track", "https://example.com/t/{{1}}")
            .build()
            .unwrap()
        });
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
