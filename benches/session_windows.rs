//! `SessionWindows` on the in-memory store with 1,000,000 tracked recipients: nanoseconds per
//! status lookup and per update, and the memory the million entries take (RSS growth, from
//! `/proc/self/status` on Linux).
//!
//! `cargo bench --bench session_windows` first prints the **lookup report**: the median over
//! rounds of the nanoseconds per `SessionWindows::status` call, for tracked recipients taken
//! all over the table (so the table is not in the cache) and for unknown ones. The recipient
//! ids are written into a stack buffer just before each call, as a handler has the id of the
//! message in hand: the figure is the store's, not the cost of fetching the id from a second
//! million-entry table. The criterion groups follow, for detail.
//!
//! - `SESSION_WINDOWS_REPORT_ONLY=1`: print the report and stop.
//! - `SESSION_WINDOWS_PROFILE=status` (or `miss`, `update`): run that operation
//!   `SESSION_WINDOWS_PROFILE_ITERS` times (default 100000) in `profile_op`, and stop: for
//!   instruction counts, `valgrind --tool=callgrind --toggle-collect='*profile_op*' <bench
//!   binary> --bench`.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "a benchmark: its setup succeeds, or the run is void"
)]

use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration as StdDuration, Instant};

use criterion::{Criterion, Throughput};
use time::{Duration, OffsetDateTime};
use webex_connect_whatsapp::conversation::store::InMemoryWindowStore;
use webex_connect_whatsapp::conversation::window::SessionWindows;

const RECIPIENTS: usize = 1_000_000;
/// A step through the recipients that is prime to their count, so consecutive lookups land
/// far apart in the table.
const STRIDE: usize = 7919;

type Windows = SessionWindows<InMemoryWindowStore>;

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

/// The id of recipient `i` (`9199` and eight digits), written into `buf`.
fn waid(i: usize, buf: &mut [u8; 12]) -> &str {
    buf[..4].copy_from_slice(b"9199");
    let mut n = i;
    for digit in buf[4..].iter_mut().rev() {
        *digit = b'0' + u8::try_from(n % 10).unwrap();
        n /= 10;
    }
    std::str::from_utf8(buf).unwrap()
}

/// A million recipients, the oldest first; `t0` is just after the newest.
fn setup() -> (Windows, OffsetDateTime) {
    let t0 = OffsetDateTime::now_utc();
    let before = rss_kib();
    let windows = SessionWindows::new(InMemoryWindowStore::new(RECIPIENTS));
    let mut buf = [0; 12];
    for i in 0..RECIPIENTS {
        let at = t0 - Duration::milliseconds(i64::try_from(RECIPIENTS - i).unwrap());
        block_on(windows.record_inbound(waid(i, &mut buf), at)).unwrap();
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
    (windows, t0)
}

/// One status lookup of a tracked recipient, the next one `STRIDE` further on.
#[inline]
fn status_hit(windows: &Windows, next: &mut usize) {
    *next = (*next + STRIDE) % RECIPIENTS;
    let mut buf = [0; 12];
    let status = block_on(windows.status(waid(*next, &mut buf))).unwrap();
    assert!(status.is_open());
}

/// One status lookup of a recipient nobody tracks.
#[inline]
fn status_miss(windows: &Windows, _: &mut usize) {
    black_box(block_on(windows.status(black_box("447400000000"))).unwrap());
}

/// One update of a tracked recipient, a microsecond later than the last.
#[inline]
fn update(windows: &Windows, next: &mut usize) {
    *next = (*next + STRIDE) % RECIPIENTS;
    let mut buf = [0; 12];
    let at = OffsetDateTime::now_utc();
    black_box(block_on(windows.record_inbound(waid(*next, &mut buf), at)).unwrap());
}

type Op = fn(&Windows, &mut usize);

/// The median over rounds of the nanoseconds per call of `op`.
fn per_call(windows: &Windows, op: Op) -> f64 {
    const ROUNDS: usize = 51;
    const BATCH: u32 = 20_000;
    let mut next = 0;
    let mut rounds: Vec<f64> = (0..ROUNDS)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..BATCH {
                op(windows, &mut next);
            }
            start.elapsed().as_secs_f64() * 1e9 / f64::from(BATCH)
        })
        .collect();
    rounds.sort_by(f64::total_cmp);
    rounds[ROUNDS / 2]
}

fn report(windows: &Windows) {
    println!("SessionWindows on the in-memory store, {RECIPIENTS} recipients (median of rounds)");
    for (name, op) in [
        ("status, tracked recipient", status_hit as Op),
        ("status, unknown recipient", status_miss),
        ("record_inbound, tracked recipient", update),
    ] {
        println!("{name:<36} {:>7.0} ns per call", per_call(windows, op));
    }
    println!();
}

#[inline(never)]
fn profile_op(windows: &Windows, op: Op, iters: u32) {
    let mut next = 0;
    for _ in 0..iters {
        op(windows, &mut next);
    }
}

fn criterion_groups(c: &mut Criterion, windows: &Windows, t0: OffsetDateTime) {
    let mut group = c.benchmark_group("session_windows_1m");
    group.throughput(Throughput::Elements(1));
    let mut next = 0;
    group.bench_function("status (hit)", |b| {
        b.iter(|| status_hit(windows, &mut next));
    });
    group.bench_function("status (miss)", |b| {
        b.iter(|| status_miss(windows, &mut next));
    });
    group.bench_function("record_inbound (update a tracked recipient)", |b| {
        b.iter(|| update(windows, &mut next));
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

fn main() {
    let profile = std::env::var("SESSION_WINDOWS_PROFILE").ok();
    let args: Vec<String> = std::env::args().collect();
    // As criterion does: `cargo bench` passes `--bench`; `cargo test --benches` does not,
    // and then only the criterion groups run, once each, as a test.
    let benchmarking = args.iter().any(|a| a == "--bench")
        && !args
            .iter()
            .any(|a| a == "--test" || a == "--list" || a.starts_with("--profile-time"));
    let (windows, t0) = setup();
    if let Some(name) = profile {
        let op: Op = match name.as_str() {
            "status" => status_hit,
            "miss" => status_miss,
            "update" => update,
            other => {
                eprintln!("SESSION_WINDOWS_PROFILE: {other:?} is not status, miss or update");
                std::process::exit(2);
            }
        };
        let iters = std::env::var("SESSION_WINDOWS_PROFILE_ITERS")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(100_000);
        profile_op(&windows, op, iters);
        println!("{name}: {iters} calls");
        return;
    }
    if benchmarking {
        report(&windows);
        if std::env::var_os("SESSION_WINDOWS_REPORT_ONLY").is_some() {
            return;
        }
    }
    let mut c = Criterion::default()
        .warm_up_time(StdDuration::from_millis(300))
        .measurement_time(StdDuration::from_millis(700))
        // Fewer resamples and no plots keep a full run to about a minute.
        .nresamples(20_000)
        .without_plots()
        .configure_from_args();
    criterion_groups(&mut c, &windows, t0);
    c.final_summary();
}
