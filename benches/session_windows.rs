//! `SessionWindows` on the in-memory store with 1,000,000 tracked recipients: lookups and
//! updates per second, and the memory the million entries take (RSS growth, from
//! `/proc/self/status` on Linux).
//!
//! Run: `cargo bench --bench session_windows -- --warm-up-time 1 --measurement-time 3`
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use time::{Duration, OffsetDateTime};
use webex_connect_whatsapp::conversation::store::InMemoryWindowStore;
use webex_connect_whatsapp::conversation::window::SessionWindows;

const RECIPIENTS: usize = 1_000_000;

/// The in-memory store answers without waiting, so polling once is enough; this keeps a
/// runtime's overhead out of the figures.
fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn waid(i: usize) -> String {
    format!("9199{i:08}")
}

fn bench(crit: &mut Criterion) {
    let waids: Vec<String> = (0..RECIPIENTS).map(waid).collect();
    let t0 = OffsetDateTime::now_utc();

    let before = rss_kib();
    let windows = SessionWindows::new(InMemoryWindowStore::new(RECIPIENTS));
    for (i, w) in waids.iter().enumerate() {
        let at = t0 - Duration::milliseconds(i64::try_from(RECIPIENTS - i).unwrap());
        block_on(windows.record_inbound(w.as_str(), at)).unwrap();
    }
    let after = rss_kib();
    assert_eq!(windows.store().len(), RECIPIENTS);
    match (before, after) {
        (Some(b), Some(a)) => {
            let grown_kib = a.saturating_sub(b);
            let per_recipient = grown_kib * 1024 / RECIPIENTS as u64;
            println!(
                "memory: RSS grew by {} MiB for {RECIPIENTS} tracked recipients \
                 ({per_recipient} bytes per recipient; VmRSS {b} kB -> {a} kB)",
                grown_kib / 1024,
            );
        }
        _ => println!("memory: /proc/self/status not readable on this platform"),
    }

    let mut group = crit.benchmark_group("session_windows_1m");
    group.throughput(Throughput::Elements(1));

    let mut hit = 0usize;
    group.bench_function("status (hit)", |b| {
        b.iter(|| {
            hit = (hit + 7919) % RECIPIENTS;
            black_box(block_on(windows.status(waids[hit].as_str())).unwrap())
        });
    });

    group.bench_function("status (miss)", |b| {
        b.iter(|| black_box(block_on(windows.status("447400000000")).unwrap()));
    });

    let mut upd = 0usize;
    let mut tick = 0i64;
    group.bench_function("record_inbound (update a tracked recipient)", |b| {
        b.iter(|| {
            upd = (upd + 7919) % RECIPIENTS;
            tick += 1;
            let at = t0 + Duration::microseconds(tick);
            black_box(block_on(windows.record_inbound(waids[upd].as_str(), at)).unwrap())
        });
    });

    let mut new = 0usize;
    group.bench_function("record_inbound (new recipient, evicts the oldest)", |b| {
        b.iter(|| {
            new += 1;
            let w = format!("4474{new:08}");
            let at =
                t0 + Duration::seconds(1) + Duration::microseconds(i64::try_from(new).unwrap());
            black_box(block_on(windows.record_inbound(w.as_str(), at)).unwrap())
        });
    });
    group.finish();
    assert_eq!(windows.store().len(), RECIPIENTS);
}

criterion_group!(benches, bench);
criterion_main!(benches);
