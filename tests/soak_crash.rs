//! Soak, with crashes: a personalised campaign of 2,000 rows through the client (a
//! [`FileJournal`]) and the sandbox (a fifth of the calls faulted), its receipts through the
//! axum router on a [`RedisStore`] dedupe store, and in the middle of it:
//!
//! 1. **a kill** of the client and the receiver: each runs on a tokio runtime of its own, and
//!    both are shut down with [`Runtime::shutdown_background`], which drops every task at
//!    whatever await point it is, as SIGKILL drops a process's memory. The journal file keeps
//!    what was synced and Redis keeps the dead receiver's pending claims. New runtimes then
//!    reopen the journal, build a new client and resume the campaign (rows with a known
//!    outcome skipped, rows in flight or of unknown outcome never resent, the others sent
//!    once), and a new receiver on the same port and the same Redis handles the platform's
//!    retries once the dead receiver's claims have ended with their lease;
//! 2. **a Redis restart** while the resumed campaign runs: the receiver answers 503 while
//!    Redis is down, the platform retries, and nothing is lost once it is back.
//!
//! Then every receipt the handler saw is fed to [`reconcile_receipt`], and a deadline marks
//! the rest [not seen](mark_not_seen). What must hold: nothing is queued twice, every row ends
//! in exactly one state that agrees with the sandbox's log, and every receipt the sandbox
//! posted reached a handler that succeeded. A receipt may be handled twice only across a
//! kill (handled, then killed before it was marked done) or across the Redis restart (whose
//! server keeps nothing): never twice by one receiver on one Redis. The test prints a report
//! (run with `--nocapture` to see it).
//!
//! Time: the sandbox's clock is manual and its webhook retries wait 60 s of it (as the
//! platform does), so a retry happens only when the test's pump moves the clock. The pump is
//! stopped while the receiver is dead or Redis is down, and started again only when the
//! platform's 60 s would have been enough in real life: once the dead receiver's claims have
//! ended (their 2 s lease is real time, kept by Redis), and once Redis answers again. The
//! whole test takes under 10 s in a debug build.
//!
//! Without `redis-server` it behaves as `tests/redis_server/mod.rs` says (it skips when the
//! server is missing and skipping is allowed).
#![cfg(all(feature = "sandbox", feature = "redis"))]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod redis_server;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::response::Response;
use futures_util::StreamExt as _;
use redis_server::RedisServer;
use serde_json::{Value, json};
use time::OffsetDateTime;
use tokio::runtime::Runtime;
use webex_connect_whatsapp::client::{
    BatchRow, BulkHandle, BulkProgress, ClientBuilder, RetryPolicy,
};
use webex_connect_whatsapp::conversation::journal::reconcile::{
    mark_not_seen, reconcile_receipt, unresolved,
};
use webex_connect_whatsapp::conversation::journal::{
    ContentDigest, FileJournal, Journal, JournalEntry, JournalError, SendState,
};
use webex_connect_whatsapp::conversation::redis::RedisStore;
use webex_connect_whatsapp::conversation::store::DedupeStore as _;
use webex_connect_whatsapp::receiver::Receiver;
use webex_connect_whatsapp::receiver::axum::{RouterConfig, router_with};
use webex_connect_whatsapp::sandbox::{Fault, MESSAGING_PATH, RandomFaults, Sandbox, SandboxClock};
use webex_connect_whatsapp::webhook::signature::WebhookSecret;
use webex_connect_whatsapp::webhook::{DeliveryReceipt, WebhookEvent};
use webex_connect_whatsapp::{CorrelationId, PhoneNumber, TemplateMessage};

/// Rows in the campaign.
const ROWS: usize = 2_000;
/// Rows per call, and calls in flight at once.
const PER_CALL: usize = 10;
const CONCURRENCY: usize = 8;
/// The first run is killed once this many rows have their answer.
const KILL_AT: u64 = 800;
const SECRET: &str = "soak-crash-hub-secret";
const TEMPLATE: &str = "5139722425";
/// The receiver's Redis keys start with this.
const PREFIX: &str = "soak-crash:";
/// The claim lease: short, so that the dead receiver's claims end within the test, and still
/// far above what a handler takes here (a few milliseconds).
const LEASE: Duration = Duration::from_secs(2);
/// Webex Connect's wait before a webhook retry, in sandbox time.
const RETRY_DELAY: Duration = Duration::from_mins(1);
/// The handler's database write, and one that waits on a lock, every so many calls.
const WRITE: Duration = Duration::from_millis(2);
const SLOW_WRITE: Duration = Duration::from_millis(200);
const SLOW_EVERY: u64 = 25;
/// How long after its last intent a send with no receipt is taken for not seen.
const NOT_SEEN_AFTER: Duration = Duration::from_hours(1);
/// How many 503s the receiver answers while Redis is down before it comes back.
const ANSWERS_WHILE_DOWN: u64 = 20;
/// The longest any wait in this test may take before it fails the test.
const PATIENCE: Duration = Duration::from_mins(1);

/// A receipt's identity: transid, destination and code.
type ReceiptKey = (String, String, String);

fn row_id(i: usize) -> String {
    format!("soak-{i:05}")
}

fn phone(i: usize) -> PhoneNumber {
    PhoneNumber::parse(&format!("+4476{i:08}")).unwrap()
}

fn template(i: usize) -> TemplateMessage {
    serde_json::from_value(json!({
        "template": TEMPLATE,
        "parameters": { "name": format!("Ada {i}"), "order": format!("#{i}") }
    }))
    .unwrap()
}

fn row(i: usize) -> BatchRow {
    BatchRow::new(phone(i), template(i)).correlation_id(CorrelationId::new(row_id(i)).unwrap())
}

/// One successful handling of a receipt: by which receiver (1 before the kill, 2 after), and
/// when, on the test's own sequence (see [`World::seq`]).
#[derive(Debug, Clone, Copy)]
struct Handling {
    receiver: u32,
    seq: u64,
}

/// The handler's database, which outlives every kill.
#[derive(Default)]
struct Db {
    handled: HashMap<ReceiptKey, Vec<Handling>>,
    failed: HashMap<ReceiptKey, u32>,
    /// Every receipt handled successfully, for reconciliation.
    receipts: Vec<DeliveryReceipt>,
    rng: u64,
}

impl Db {
    /// Fails 10% of calls (a fixed-seed generator), but each receipt once at most: the
    /// platform posts an event four times, and a receipt may also meet the kill or the Redis
    /// outage; the point is that a failure lets the retry through, not to exhaust retries.
    fn should_fail(&mut self, key: &ReceiptKey) -> bool {
        // xorshift64*: deterministic, no extra dependency.
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        let roll = self.rng.wrapping_mul(0x2545_f491_4f6c_dd1d) % 10;
        roll == 0 && !self.failed.contains_key(key)
    }
}

/// The HTTP answers the receivers gave.
#[derive(Default)]
struct Answers {
    ok: AtomicU64,
    unavailable: AtomicU64,
    client_error: AtomicU64,
    other: AtomicU64,
    /// Set while Redis is down.
    redis_down: AtomicBool,
    unavailable_while_down: AtomicU64,
}

impl Answers {
    fn record(&self, status: u16) {
        let counter = match status {
            200 => &self.ok,
            503 => {
                if self.redis_down.load(Ordering::SeqCst) {
                    self.unavailable_while_down.fetch_add(1, Ordering::SeqCst);
                }
                &self.unavailable
            }
            400..=499 => &self.client_error,
            _ => &self.other,
        };
        counter.fetch_add(1, Ordering::SeqCst);
    }
}

/// What the test keeps outside the processes it kills.
#[derive(Default)]
struct World {
    db: Mutex<Db>,
    answers: Answers,
    /// Orders the handlings and the Redis outage.
    seq: AtomicU64,
    /// Handler calls so far.
    calls: AtomicU64,
    /// Handlers in the middle of their write.
    writing: AtomicU64,
}

/// Counts a handler as writing until it is done or dropped.
struct Writing<'a>(&'a AtomicU64);

impl<'a> Writing<'a> {
    fn start(counter: &'a AtomicU64) -> Self {
        counter.fetch_add(1, Ordering::SeqCst);
        Self(counter)
    }
}

impl Drop for Writing<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn count_answer(State(world): State<Arc<World>>, response: Response) -> Response {
    world.answers.record(response.status().as_u16());
    response
}

/// A runtime standing for one process.
fn process(name: &str) -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(name)
        .enable_all()
        .build()
        .unwrap()
}

/// Waits until `done` holds, checking every `every`; fails the test after [`PATIENCE`].
async fn wait_until(what: &str, every: Duration, mut done: impl AsyncFnMut() -> bool) {
    let started = Instant::now();
    while !done().await {
        assert!(
            started.elapsed() < PATIENCE,
            "gave up waiting until {what} after {PATIENCE:?}"
        );
        tokio::time::sleep(every).await;
    }
}

/// A receiver process: the axum router on a [`RedisStore`], on a runtime of its own.
struct ReceiverProcess {
    runtime: Runtime,
    addr: SocketAddr,
    receiver: Arc<Receiver<RedisStore>>,
    store: RedisStore,
}

impl ReceiverProcess {
    /// Starts receiver number `generation` on `addr` (port 0: any free port), waiting for
    /// the port to be free again if a killed receiver held it.
    async fn start(generation: u32, addr: SocketAddr, redis_url: &str, world: &Arc<World>) -> Self {
        let runtime = process(&format!("receiver-{generation}"));
        let url = redis_url.to_owned();
        let store = runtime
            .spawn(async move { RedisStore::connect(&url).await })
            .await
            .unwrap()
            .unwrap()
            .with_prefix(PREFIX);
        let receiver = Arc::new(
            Receiver::builder()
                .secret(WebhookSecret::new(SECRET).unwrap())
                .dedupe_store(store.clone())
                .claim_lease(LEASE)
                .build()
                .unwrap(),
        );
        let sink = Arc::clone(world);
        let handler = move |event: WebhookEvent| {
            let world = Arc::clone(&sink);
            async move {
                let WebhookEvent::DeliveryReceipt(r) = event else {
                    return Ok(());
                };
                let writing = Writing::start(&world.writing);
                let call = world.calls.fetch_add(1, Ordering::SeqCst);
                // Now and then a write waits on a lock, so that the kill finds handlers
                // in the middle of their work.
                let slow = call.is_multiple_of(SLOW_EVERY);
                tokio::time::sleep(if slow { SLOW_WRITE } else { WRITE }).await;
                drop(writing);
                let key = (
                    r.transaction_id().unwrap().to_string(),
                    r.destination().unwrap_or_default().to_owned(),
                    r.code().as_str().to_owned(),
                );
                let mut db = world.db.lock().unwrap();
                if db.should_fail(&key) {
                    *db.failed.entry(key).or_default() += 1;
                    return Err("the handler's database is briefly unavailable");
                }
                let seq = world.seq.fetch_add(1, Ordering::SeqCst);
                db.handled.entry(key).or_default().push(Handling {
                    receiver: generation,
                    seq,
                });
                db.receipts.push(r);
                Ok(())
            }
        };
        // Retries come in bursts here (the manual clock releases every waiting retry at
        // once), so the queue is deeper than the default.
        let config = RouterConfig::default().max_queued(4096);
        let app = router_with(Arc::clone(&receiver), config, handler).layer(
            axum::middleware::map_response_with_state(Arc::clone(world), count_answer),
        );
        let (bound_tx, bound_rx) = tokio::sync::oneshot::channel();
        runtime.spawn(async move {
            let listener = bind(addr).await;
            bound_tx.send(listener.local_addr().unwrap()).unwrap();
            axum::serve(listener, app).await
        });
        let addr = bound_rx.await.unwrap();
        Self {
            runtime,
            addr,
            receiver,
            store,
        }
    }

    /// Waits until the receiver's own Redis connection answers again (the first commands
    /// after a restart may fail on the connection that died, and start the reconnection);
    /// returns how many probes failed first.
    async fn until_redis_answers(&self) -> u32 {
        let store = self.store.clone();
        self.runtime
            .spawn(async move {
                let started = Instant::now();
                let mut failures = 0;
                loop {
                    let probe = store
                        .claim("probe", "soak-probe", Duration::from_millis(1))
                        .await;
                    if probe.is_ok() {
                        return failures;
                    }
                    failures += 1;
                    assert!(
                        started.elapsed() < PATIENCE,
                        "Redis did not answer the receiver again"
                    );
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            })
            .await
            .unwrap()
    }
}

/// Binds `addr` with `SO_REUSEADDR`, as servers do, so that a restarted receiver gets its
/// port back while the dead one's connections linger; retries while the port is still held.
async fn bind(addr: SocketAddr) -> tokio::net::TcpListener {
    let started = Instant::now();
    loop {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_reuseaddr(true).unwrap();
        match socket.bind(addr).and_then(|()| socket.listen(1024)) {
            Ok(listener) => return listener,
            Err(e) => assert!(
                started.elapsed() < PATIENCE,
                "could not bind {addr} again: {e}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// A client process sending rows of the campaign as personalised batches, journaled.
struct ClientProcess {
    runtime: Runtime,
    handle: BulkHandle,
    done: tokio::task::JoinHandle<()>,
}

impl ClientProcess {
    /// Builds the client inside its runtime (so that only the runtime holds the client and
    /// its journal) and starts sending `rows`.
    async fn start(
        name: &str,
        client: ClientBuilder,
        journal: impl Journal + 'static,
        rows: Vec<usize>,
    ) -> Self {
        let runtime = process(name);
        let (handle_tx, handle_rx) = tokio::sync::oneshot::channel();
        let done = runtime.spawn(async move {
            let client = client.journal(journal).build().unwrap();
            let mut results = client
                .batch()
                .call_size(PER_CALL)
                .concurrency(CONCURRENCY)
                .send(rows.into_iter().map(row));
            handle_tx.send(results.handle()).unwrap();
            while results.next().await.is_some() {}
        });
        let handle = handle_rx.await.unwrap();
        Self {
            runtime,
            handle,
            done,
        }
    }
}

/// Moves the sandbox's manual clock past the retry delay every few milliseconds while on,
/// which releases every webhook retry waiting at that moment.
struct Pump {
    on: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl Pump {
    fn start(clock: SandboxClock) -> Self {
        let on = Arc::new(AtomicBool::new(true));
        let running = Arc::clone(&on);
        let task = tokio::spawn(async move {
            loop {
                if running.load(Ordering::SeqCst) {
                    clock.advance(RETRY_DELAY);
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        });
        Self { on, task }
    }

    fn set(&self, on: bool) {
        self.on.store(on, Ordering::SeqCst);
    }
}

/// Opens the journal file again once the killed process's last handle on it is gone (the
/// runtime drops its tasks, and a write already on the blocking pool finishes, in the
/// background).
async fn reopen(path: &Path) -> FileJournal {
    let started = Instant::now();
    loop {
        match FileJournal::open(path) {
            Ok(journal) => return journal,
            Err(JournalError::Locked { .. }) if started.elapsed() < PATIENCE => {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            Err(e) => panic!("the journal could not be opened again: {e}"),
        }
    }
}

/// The dedupe marks that hold a claim (`p:<owner>`) rather than a done mark.
async fn pending_claims(server: &RedisServer) -> usize {
    let mut conn = server.connection().await;
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{PREFIX}seen:*"))
        .query_async(&mut conn)
        .await
        .unwrap();
    if keys.is_empty() {
        return 0;
    }
    let values: Vec<Option<String>> = redis::cmd("MGET")
        .arg(&keys)
        .query_async(&mut conn)
        .await
        .unwrap();
    values
        .iter()
        .flatten()
        .filter(|v| v.starts_with("p:"))
        .count()
}

/// The correlation ids a request body carries, one per destination (each element of a
/// personalised batch too).
fn correlation_ids(body: &str) -> Vec<String> {
    let Ok(body) = serde_json::from_str::<Value>(body) else {
        return Vec::new();
    };
    let elements = match body {
        Value::Array(elements) => elements,
        other => vec![other],
    };
    let mut ids = Vec::new();
    for element in &elements {
        for d in element["destination"].as_array().into_iter().flatten() {
            if let Some(id) = d["correlationid"].as_str() {
                ids.push(id.to_owned());
            }
        }
    }
    ids
}

/// What the resumed run does with each row, from the journal: the rule a resumed campaign
/// follows (the one `examples/personalised_batch.rs` is to resume with), on
/// [`JournalEntry::state`]. Implemented here because that example's resume is not on main
/// yet; once it is, this can reuse its code through `#[path]`.
#[derive(Debug, Default)]
struct Plan {
    /// Not in the journal: never sent; send it.
    fresh: Vec<usize>,
    /// Certainly not processed (a rate limit, a connection that failed before writing):
    /// send it again.
    resend: Vec<usize>,
    /// Queued, or refused for good: skip it.
    known: Vec<usize>,
    /// In flight or of unknown outcome: it may have been queued, so it is never resent.
    held: Vec<usize>,
}

impl Plan {
    fn from_journal(entries: &HashMap<String, JournalEntry>) -> Self {
        let mut plan = Self::default();
        for i in 0..ROWS {
            let Some(entry) = entries.get(&row_id(i)) else {
                plan.fresh.push(i);
                continue;
            };
            // A row whose message changed since it was journaled is not the same send.
            assert_eq!(
                entry.digest(),
                Some(&ContentDigest::of(&template(i))),
                "row {i}: the journal's digest is not the digest of the row's message"
            );
            match entry.state() {
                SendState::Queued | SendState::NotQueued { retryable: false } => {
                    plan.known.push(i);
                }
                state if state.is_safe_to_send() => plan.resend.push(i),
                // In flight, unknown, not seen, and any state a later version adds: it may
                // have been sent.
                _ => plan.held.push(i),
            }
        }
        plan
    }

    /// The rows the resumed run sends.
    fn to_send(&self) -> Vec<usize> {
        let mut rows: Vec<usize> = self.fresh.iter().chain(&self.resend).copied().collect();
        rows.sort_unstable();
        rows
    }
}

fn count_states(entries: &[JournalEntry], matches: impl Fn(&SendState) -> bool) -> usize {
    entries.iter().filter(|e| matches(e.state())).count()
}

/// A directory of its own under the system's temporary directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("wcwa-soak-crash-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `f` (which blocks: it starts or stops `redis-server`) without stalling the test
/// runtime's other tasks.
fn blocking<T>(f: impl FnOnce() -> T) -> T {
    tokio::task::block_in_place(f)
}

/// Waits for `future`, failing the test after [`PATIENCE`].
async fn patiently<T>(what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(PATIENCE, future)
        .await
        .unwrap_or_else(|_| panic!("gave up waiting for {what} after {PATIENCE:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(
    clippy::too_many_lines,
    reason = "one scenario, read top to bottom: run, kill, resume, restart Redis, reconcile, check"
)]
async fn a_campaign_survives_a_kill_and_a_redis_restart() {
    let Some(mut server) = RedisServer::start() else {
        return;
    };
    let dir = TempDir::new();
    let journal_path = dir.0.join("campaign.jsonl");
    let world = Arc::new(World {
        db: Mutex::new(Db {
            rng: 0x5eed_c0de,
            ..Db::default()
        }),
        ..World::default()
    });

    // The first receiver, then the sandbox posting to it.
    let localhost: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let receiver1 = ReceiverProcess::start(1, localhost, &server.url(), &world).await;
    let addr = receiver1.addr;
    let faults = RandomFaults::new(
        0xc2a5,
        0.2,
        [
            Fault::RateLimited,
            Fault::InternalError,
            Fault::HttpStatus(502),
            Fault::StatusAfterQueue(504),
            Fault::DropBeforeBody,
            Fault::DropAfterQueue,
            Fault::Latency(Duration::from_millis(200)),
            Fault::DuplicateReceipts,
            Fault::ReceiptsOutOfOrder,
        ],
    )
    .unwrap();
    let clock = SandboxClock::manual();
    let sandbox = Sandbox::builder()
        .clock(clock.clone())
        .seed(17)
        .webhook_secret(SECRET)
        .delivery_url(format!("http://{addr}/receipts").parse().unwrap())
        .receipt_delays(Duration::ZERO, Duration::ZERO, Duration::ZERO)
        .webhook_retry_delay(RETRY_DELAY)
        .template(TEMPLATE, ["name", "order"])
        .random_faults(faults)
        .start()
        .await
        .unwrap();
    let pump = Pump::start(clock.clone());
    let client = |run: &str| {
        sandbox
            .client_builder()
            .user_agent(format!("soak-crash/{run}"))
            .request_timeout(Duration::from_secs(5))
            // No retries: a rate-limited row ends not queued (and safe to send again), which
            // the resumed run then sends.
            .retry_policy(RetryPolicy::none())
    };

    // Run 1, killed mid-run together with the receiver.
    let run1 = ClientProcess::start(
        "client-1",
        client("run-1"),
        FileJournal::open(&journal_path).unwrap(),
        (0..ROWS).collect(),
    )
    .await;
    // Killed with calls in flight and handlers in the middle of their write, so that the
    // journal holds rows in flight and Redis holds claims nobody will finish.
    wait_until(
        "the first run is far enough",
        Duration::from_millis(1),
        async || {
            let progress = run1.handle.progress();
            progress.sent >= KILL_AT
                && progress.total > progress.sent
                && world.writing.load(Ordering::SeqCst) > 0
        },
    )
    .await;
    pump.set(false);
    run1.runtime.shutdown_background();
    receiver1.runtime.shutdown_background();
    let at_kill: BulkProgress = run1.handle.progress();
    drop((receiver1.receiver, receiver1.store));

    // Restart: the journal as the file has it, and the claims the dead receiver left.
    let journal = Arc::new(reopen(&journal_path).await);
    let torn_bytes = journal.recovered_torn_bytes();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let dead_claims = pending_claims(&server).await;
    assert!(
        dead_claims > 0,
        "the kill left no claim pending in Redis: no handler was running, so this run did not \
         test what it is for"
    );
    // The platform's next retry comes 60 s later, long after the claims' lease: wait for
    // Redis to end them before the retries come (the manual clock would bring them now).
    wait_until(
        "the dead receiver's claims end",
        Duration::from_millis(100),
        async || pending_claims(&server).await == 0,
    )
    .await;
    let receiver2 = ReceiverProcess::start(2, addr, &server.url(), &world).await;
    assert_eq!(receiver2.addr, addr);
    pump.set(true);

    // Run 2 resumes from the journal.
    let entries: HashMap<String, JournalEntry> = journal
        .entries()
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.correlation_id().to_string(), e))
        .collect();
    let in_flight_at_kill = entries
        .values()
        .filter(|e| e.state() == &SendState::InFlight)
        .count();
    let plan = Plan::from_journal(&entries);
    let to_send = plan.to_send();
    let run2 = ClientProcess::start(
        "client-2",
        client("run-2"),
        Arc::clone(&journal),
        to_send.clone(),
    )
    .await;

    // Redis restarts while the resumed run is halfway.
    let halfway = u64::try_from(to_send.len() / 2).unwrap();
    wait_until(
        "the resumed run is halfway",
        Duration::from_millis(1),
        async || run2.handle.progress().sent >= halfway,
    )
    .await;
    pump.set(false);
    let down_seq = world.seq.fetch_add(1, Ordering::SeqCst);
    world.answers.redis_down.store(true, Ordering::SeqCst);
    blocking(|| server.stop());
    // Receipts keep coming while it is down (the run goes on, and the receipts of the
    // messages it queued are posted): each is answered 503.
    let down = &world.answers.unavailable_while_down;
    wait_until(
        "the receiver answers 503 while Redis is down",
        Duration::from_millis(10),
        async || down.load(Ordering::SeqCst) >= ANSWERS_WHILE_DOWN,
    )
    .await;
    blocking(|| server.restart());
    world.answers.redis_down.store(false, Ordering::SeqCst);
    // As with the kill: the platform's retry comes 60 s later, long after the reconnection.
    let failed_probes = receiver2.until_redis_answers().await;
    let back_seq = world.seq.fetch_add(1, Ordering::SeqCst);
    pump.set(true);

    // The end of the run, then of every receipt and retry.
    patiently("the resumed run", run2.done).await.unwrap();
    patiently("the resumed run's calls", run2.handle.settled()).await;
    patiently("the sandbox's receipts and retries", sandbox.settled()).await;
    pump.task.abort();
    let stats = receiver2.receiver.stats();
    run2.runtime.shutdown_background();
    receiver2.runtime.shutdown_background();

    // Reconcile: every receipt the handler saw, then a deadline for the rest.
    let unknown_before = unresolved(&*journal).await.unwrap().len();
    let receipts = world.db.lock().unwrap().receipts.clone();
    let now = OffsetDateTime::now_utc();
    for receipt in &receipts {
        reconcile_receipt(&*journal, receipt, now).await.unwrap();
    }
    let unknown_after = unresolved(&*journal).await.unwrap().len();
    let later = now + NOT_SEEN_AFTER;
    let not_seen = mark_not_seen(&*journal, NOT_SEEN_AFTER, later)
        .await
        .unwrap();
    let final_entries = journal.entries().await.unwrap();

    // Nothing queued twice.
    let queued_twice = sandbox.queued_twice();
    let duplicate_ids = sandbox.duplicate_correlation_ids();
    assert!(queued_twice.is_empty(), "queued twice: {queued_twice:?}");
    assert!(duplicate_ids.is_empty(), "queued twice: {duplicate_ids:?}");

    // The resume followed the rule: what run 2 sent is exactly the fresh and the
    // not-processed rows; nothing known, in flight or unknown went out again.
    let requests = sandbox.requests();
    let run2_requests: Vec<_> = requests
        .iter()
        .filter(|r| r.path == MESSAGING_PATH && r.header("user-agent") == Some("soak-crash/run-2"))
        .collect();
    let sent_by_run2: HashSet<String> = run2_requests
        .iter()
        .flat_map(|r| correlation_ids(&r.body))
        .collect();
    let planned: HashSet<String> = to_send.iter().map(|i| row_id(*i)).collect();
    let unplanned: Vec<_> = sent_by_run2.difference(&planned).collect();
    assert!(
        unplanned.is_empty(),
        "run 2 sent {} rows the plan did not send, e.g. {:?}",
        unplanned.len(),
        unplanned.first()
    );
    // A call dropped before its body was read leaves no body in the log: its rows are the
    // only planned ones the log may miss.
    let unread_calls = run2_requests
        .iter()
        .filter(|r| r.faults.contains(&Fault::DropBeforeBody))
        .count();
    let unlogged: Vec<_> = planned.difference(&sent_by_run2).collect();
    assert!(
        unlogged.len() <= unread_calls * PER_CALL,
        "{} planned rows are not in the log (e.g. {:?}), but only {unread_calls} calls were cut \
         before their body",
        unlogged.len(),
        unlogged.first()
    );
    assert!(
        !plan.held.is_empty(),
        "the kill left no row in flight or unknown"
    );
    assert!(!plan.fresh.is_empty(), "the kill left no row unsent");

    // Every row ends in exactly one state, and the state agrees with the sandbox.
    let messages = sandbox.messages();
    let in_sandbox: HashSet<&str> = messages
        .iter()
        .filter_map(|m| m.correlation_id.as_deref())
        .collect();
    assert_eq!(
        final_entries.len(),
        ROWS,
        "a row is missing from the journal"
    );
    let mut disagreements = Vec::new();
    for entry in &final_entries {
        let id = entry.correlation_id().as_str();
        let queued = entry.state() == &SendState::Queued;
        let sure = matches!(
            entry.state(),
            SendState::Queued | SendState::NotQueued { .. } | SendState::NotSeen
        );
        if !sure || queued != in_sandbox.contains(id) {
            disagreements.push((id.to_owned(), *entry.state(), in_sandbox.contains(id)));
        }
    }
    assert!(
        disagreements.is_empty(),
        "{} rows disagree with the sandbox (id, journal state, queued by the sandbox): {:?}",
        disagreements.len(),
        disagreements.iter().take(10).collect::<Vec<_>>()
    );
    assert_eq!(unknown_after, not_seen.len());
    assert!(
        unknown_before > unknown_after,
        "no receipt resolved an unknown send"
    );

    // No event lost: every webhook was accepted in the end, and every receipt of every
    // queued message reached a handler that succeeded.
    let webhooks = sandbox.webhooks();
    let refused: Vec<_> = webhooks.iter().filter(|w| !w.delivered).collect();
    assert!(
        refused.is_empty(),
        "{} webhooks were never accepted",
        refused.len()
    );
    let expected: BTreeSet<ReceiptKey> = messages
        .iter()
        .flat_map(|m| {
            m.receipts.iter().map(|code| {
                (
                    m.transaction_id.to_string(),
                    m.destination.clone(),
                    code.clone(),
                )
            })
        })
        .collect();
    let db = world.db.lock().unwrap();
    let handled: BTreeSet<ReceiptKey> = db.handled.keys().cloned().collect();
    let lost: Vec<_> = expected.difference(&handled).collect();
    assert!(
        lost.is_empty(),
        "{} receipts never reached a handler that succeeded, e.g. {:?}",
        lost.len(),
        lost.first()
    );
    assert_eq!(handled, expected);

    // Handled twice only across the kill or the Redis restart, never by one receiver on one
    // Redis.
    let (mut again_after_kill, mut again_after_restart, mut unexplained) = (0, 0, Vec::new());
    for (key, handlings) in &db.handled {
        for pair in handlings.windows(2) {
            let (first, then) = (pair[0], pair[1]);
            if first.receiver < then.receiver {
                again_after_kill += 1;
            } else if first.seq < back_seq && then.seq > down_seq {
                again_after_restart += 1;
            } else {
                unexplained.push(key.clone());
            }
        }
    }
    assert!(
        unexplained.is_empty(),
        "{} receipts handled twice by one receiver on one Redis: {:?}",
        unexplained.len(),
        unexplained.first()
    );

    // The receivers: never a 4xx to an authentic webhook; 503 while Redis was down.
    let answers = &world.answers;
    assert_eq!(answers.client_error.load(Ordering::SeqCst), 0);
    let answered_while_down = answers.unavailable_while_down.load(Ordering::SeqCst);
    assert!(
        answered_while_down > 0,
        "no webhook came while Redis was down"
    );
    assert!(stats.store_errors > 0, "the receiver never saw Redis fail");
    let failed_handlings: u32 = db.failed.values().sum();
    assert!(failed_handlings > 0, "the failing handler never failed");

    let redelivered = webhooks.iter().filter(|w| w.attempts > 1).count();
    let queued = count_states(&final_entries, |s| s == &SendState::Queued);
    let not_queued = count_states(&final_entries, |s| matches!(s, SendState::NotQueued { .. }));
    println!(
        "soak (kill and Redis restart): {ROWS} rows in 2 runs, {} calls\n\
         \x20 queued {queued}, not queued {not_queued}, unknown before reconciliation \
         {unknown_before}, unknown after reconciliation (receipts fed) {unknown_after}, \
         not seen {}, queued twice {}, events lost {}\n\
         \x20 kills: 1 (client and receiver, at {} of {ROWS} rows answered; {in_flight_at_kill} \
         rows in flight, {dead_claims} claims left pending in Redis, {torn_bytes} torn journal \
         bytes)\n\
         \x20 resume: {} skipped (known), {} held (in flight or unknown), {} sent again (not \
         processed), {} sent for the first time\n\
         \x20 Redis restarts: 1 ({answered_while_down} webhooks answered 503 while down, \
         {failed_probes} failed probes after)\n\
         \x20 webhooks: {} posted, {redelivered} redelivered, {failed_handlings} failed handler \
         calls; {} receipts handled, {again_after_kill} again after the kill, \
         {again_after_restart} again after Redis lost its keys; receiver 2: {} duplicates \
         suppressed, {} store errors",
        requests.len(),
        not_seen.len(),
        queued_twice.len() + duplicate_ids.len(),
        lost.len(),
        at_kill.sent,
        plan.known.len(),
        plan.held.len(),
        plan.resend.len(),
        plan.fresh.len(),
        webhooks.len(),
        handled.len(),
        stats.duplicates,
        stats.store_errors,
    );
}
