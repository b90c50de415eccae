//! Webhook parsing speed: this crate's typed `webhook::parse` against `serde::de::IgnoredAny`
//! (the floor: JSON validation with nothing kept) and `serde_json::Value`.
//!
//! `cargo bench --bench webhook_parse` first prints the **ratio report**: for each payload,
//! batches of typed parses and of floor parses alternate in this one process (which goes first
//! alternates too), so load from other processes hits both alike; the table gives the median
//! nanoseconds per parse of each, and the median of the per-round typed/floor ratios. The
//! family lines (receipts, inbound, unknown events) are the geometric mean of their payloads'
//! ratios. The criterion groups follow, for detail (`event_*` are events the crate does not
//! type, `WebhookEvent::Unknown`, which cost one more linear pass).
//!
//! - `WEBHOOK_PARSE_RATIO_ONLY=1`: print the ratio report and stop.
//! - `WEBHOOK_PARSE_PROFILE=<payload>` (e.g. `inbound_image`): run that payload's typed parse
//!   in `profile_typed` and its floor in `profile_floor`, `WEBHOOK_PARSE_PROFILE_ITERS` times
//!   each (default 10000), and stop: for instruction counts that do not depend on the load,
//!   `valgrind --tool=callgrind --toggle-collect='*profile_*' <bench binary> --bench`, then
//!   the inclusive count of each function divided by the iterations.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark: its fixtures parse, or the run is void"
)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use serde::de::IgnoredAny;
use webex_connect_whatsapp::webhook;

/// A family of payloads, named as in the ratio report.
type Family = (&'static str, &'static [(&'static str, &'static str)]);

const RECEIPTS: &[(&str, &str)] = &[
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
];

const INBOUND: &[(&str, &str)] = &[
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
];

const EVENTS: &[(&str, &str)] = &[
    (
        "event_reaction",
        include_str!("../tests/fixtures/event_reaction.json"),
    ),
    (
        "event_user_id_update",
        include_str!("../tests/fixtures/event_user_id_update.json"),
    ),
];

const FAMILIES: &[Family] = &[
    ("receipts", RECEIPTS),
    ("inbound", INBOUND),
    ("unknown events", EVENTS),
];

/// One typed parse, the value dropped inside (as a handler would).
#[inline]
fn typed(bytes: &[u8]) {
    black_box(webhook::parse(black_box(bytes)).unwrap());
}

/// One floor parse: the JSON validated, nothing kept.
#[inline]
fn floor(bytes: &[u8]) {
    black_box(serde_json::from_slice::<IgnoredAny>(black_box(bytes)).unwrap());
}

/// Nanoseconds per call of `f` over a batch of `n` calls.
fn batch(n: u32, bytes: &[u8], f: fn(&[u8])) -> f64 {
    let start = Instant::now();
    for _ in 0..n {
        f(bytes);
    }
    start.elapsed().as_secs_f64() * 1e9 / f64::from(n)
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    *values.get(values.len() / 2).expect("at least one round")
}

/// Rounds per payload; each round times one typed batch and one floor batch.
const ROUNDS: usize = 501;
/// About how long one batch runs: long enough for the timer, short enough that a burst of
/// load from elsewhere spoils few rounds.
const BATCH_TIME: Duration = Duration::from_micros(300);

/// Typed and floor nanoseconds per parse (medians) and the median typed/floor ratio.
fn interleaved(bytes: &[u8]) -> (f64, f64, f64) {
    // Warm up, then size the batch on the faster (floor) parse.
    const PROBE: u32 = 2_000;
    batch(PROBE, bytes, typed);
    let start = Instant::now();
    for _ in 0..PROBE {
        floor(bytes);
    }
    let probe = start.elapsed().as_nanos().max(1);
    let n = u32::try_from(BATCH_TIME.as_nanos() * u128::from(PROBE) / probe)
        .unwrap_or(u32::MAX)
        .max(1);
    let (mut t, mut f, mut r) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let (typed_ns, floor_ns) = if round % 2 == 0 {
            let t = batch(n, bytes, typed);
            (t, batch(n, bytes, floor))
        } else {
            let f = batch(n, bytes, floor);
            (batch(n, bytes, typed), f)
        };
        t.push(typed_ns);
        f.push(floor_ns);
        r.push(typed_ns / floor_ns);
    }
    (median(&mut t), median(&mut f), median(&mut r))
}

fn ratio_report() {
    println!("typed webhook::parse vs the IgnoredAny floor, interleaved in one process");
    println!(
        "{:<24} {:>9} {:>9} {:>6}",
        "payload", "typed ns", "floor ns", "ratio"
    );
    let mut families = Vec::new();
    for (family, payloads) in FAMILIES {
        let mut log_sum = 0.0;
        for (name, body) in *payloads {
            let (t, f, r) = interleaved(body.as_bytes());
            println!("{name:<24} {t:>9.0} {f:>9.0} {r:>6.2}");
            log_sum += r.ln();
        }
        let count = f64::from(u32::try_from(payloads.len()).unwrap());
        families.push((family, (log_sum / count).exp()));
    }
    for (family, ratio) in families {
        println!("family {family:<17} {ratio:>26.2}");
    }
    println!();
}

#[inline(never)]
fn profile_typed(bytes: &[u8], iters: u32) {
    for _ in 0..iters {
        typed(bytes);
    }
}

#[inline(never)]
fn profile_floor(bytes: &[u8], iters: u32) {
    for _ in 0..iters {
        floor(bytes);
    }
}

/// Runs one payload's typed and floor parses for an instruction-counting profiler.
fn profile(name: &str) {
    let iters = std::env::var("WEBHOOK_PARSE_PROFILE_ITERS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000);
    let Some((_, body)) = FAMILIES
        .iter()
        .flat_map(|(_, payloads)| payloads.iter())
        .find(|(n, _)| *n == name)
    else {
        eprintln!("WEBHOOK_PARSE_PROFILE: no payload named {name}");
        std::process::exit(2);
    };
    profile_typed(body.as_bytes(), iters);
    profile_floor(body.as_bytes(), iters);
    println!("{name}: {iters} typed and {iters} floor parses");
}

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

fn criterion_groups(c: &mut Criterion) {
    let large = large_unknown();
    let generated = [("event_large_unknown", large.as_str())];
    let fixtures = FAMILIES.iter().flat_map(|(_, payloads)| payloads.iter());
    for (name, body) in fixtures.chain(&generated) {
        let bytes = body.as_bytes();
        assert!(webhook::parse(bytes).is_ok(), "{name} must parse");
        let mut group = c.benchmark_group(*name);
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        if bytes.len() > 100_000 {
            // Milliseconds per parse: ten samples keep the group to a few seconds.
            group.sample_size(10);
        }
        group.bench_function("typed", |b| b.iter(|| typed(bytes)));
        group.bench_function("value", |b| {
            b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(bytes)).unwrap());
        });
        group.bench_function("ignored_any", |b| b.iter(|| floor(bytes)));
        group.finish();
    }
}

fn main() {
    if let Ok(name) = std::env::var("WEBHOOK_PARSE_PROFILE") {
        profile(&name);
        return;
    }
    // As criterion does: `cargo bench` passes `--bench`; `cargo test --benches` does not,
    // and then only the criterion groups run, once each, as a test.
    let args: Vec<String> = std::env::args().collect();
    let benchmarking = args.iter().any(|a| a == "--bench")
        && !args
            .iter()
            .any(|a| a == "--test" || a == "--list" || a.starts_with("--profile-time"));
    if benchmarking {
        ratio_report();
        if std::env::var_os("WEBHOOK_PARSE_RATIO_ONLY").is_some() {
            return;
        }
    }
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_millis(700))
        // Fewer resamples and no plots keep a full run to about a minute.
        .nresamples(20_000)
        .without_plots()
        .configure_from_args();
    criterion_groups(&mut c);
    c.final_summary();
}
