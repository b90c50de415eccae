//! Starts a real `redis-server` on 127.0.0.1 for one test and stops it on drop.
//!
//! On a machine without `redis-server` (a fresh clone, a laptop) [`RedisServer::start`]
//! returns `None`: the test prints a notice naming itself and how to run it, then returns
//! early, so `cargo test --all-features` passes there. With `WEBEX_CONNECT_REQUIRE_REDIS=1`
//! (as `.ci/run` sets after installing the server) a missing server fails the test instead,
//! so CI cannot go green without running them.
#![allow(dead_code, unreachable_pub)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The variable that turns a missing `redis-server` into a test failure.
pub const REQUIRE_VAR: &str = "WEBEX_CONNECT_REQUIRE_REDIS";

/// A running `redis-server`, killed when dropped.
pub struct RedisServer {
    binary: PathBuf,
    /// `None` while [stopped](RedisServer::stop).
    child: Option<Child>,
    port: u16,
}

fn find_binary() -> Option<PathBuf> {
    // An explicit path (also how to test the "missing" branch) wins over the search.
    if let Ok(path) = std::env::var("REDIS_SERVER_BIN") {
        let path = PathBuf::from(path);
        return path.is_file().then_some(path);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin"), PathBuf::from("/usr/local/bin")])
        .map(|dir| dir.join("redis-server"))
        .find(|p| p.is_file())
}

/// Whether a missing server must fail the test: the variable is set to anything but empty,
/// `0` or `false`.
fn server_required() -> bool {
    std::env::var(REQUIRE_VAR).is_ok_and(|v| !matches!(v.trim(), "" | "0" | "false"))
}

/// The running test's name: libtest names each test's thread after it.
fn test_name() -> String {
    match std::thread::current().name() {
        Some(name) if name != "main" => name.to_owned(),
        _ => "this redis test".to_owned(),
    }
}

const HOW_TO_RUN: &str = "install redis-server (`apt-get install redis-server`, as .ci/run does) \
     or point REDIS_SERVER_BIN at one";

impl RedisServer {
    /// Starts a server on a free port and waits until it answers PING.
    ///
    /// Returns `None` when `redis-server` is not installed (searched in `REDIS_SERVER_BIN`,
    /// `PATH`, `/usr/bin`, `/usr/local/bin`), after printing a notice; the caller returns
    /// early and the test passes as skipped. Panics (failing the test) instead when
    /// [`REQUIRE_VAR`] is set, or when an installed server does not start.
    pub fn start() -> Option<Self> {
        let Some(binary) = find_binary() else {
            let test = test_name();
            assert!(
                !server_required(),
                "{test}: redis-server was not found (REDIS_SERVER_BIN, PATH, /usr/bin, \
                 /usr/local/bin) and {REQUIRE_VAR} is set, so the redis tests must run: \
                 {HOW_TO_RUN}"
            );
            // Straight to the process's stderr: libtest captures `eprintln!` and shows it only
            // for failing tests, and a skip nobody sees looks like a pass. One write of the
            // whole line, so it does not interleave with other tests' output.
            let notice = format!(
                "SKIPPED {test}: redis-server was not found. To run it, {HOW_TO_RUN}; \
                 set {REQUIRE_VAR}=1 to make a missing server fail instead.\n"
            );
            let _ = std::io::stderr().lock().write_all(notice.as_bytes());
            return None;
        };
        // A few attempts, in case another process takes the port between probe and bind.
        let mut last_error = String::new();
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("no free port on 127.0.0.1")
                .port();
            let mut server = Self {
                binary: binary.clone(),
                child: None,
                port,
            };
            match server.spawn() {
                Ok(()) => return Some(server),
                Err(e) => last_error = e,
            }
        }
        panic!("redis-server did not start: {last_error}");
    }

    /// Starts the server process on this server's port and waits until it answers PING.
    fn spawn(&mut self) -> Result<(), String> {
        let child = Command::new(&self.binary)
            .args(["--port", &self.port.to_string()])
            .args(["--bind", "127.0.0.1"])
            .args(["--save", ""])
            .args(["--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("could not start {}: {e}", self.binary.display()))?;
        self.child = Some(child);
        self.wait_ready()
    }

    /// Kills the server, as a crash or an operator would: connections drop and the port
    /// refuses new ones until [`restart`](Self::restart). Nothing is persisted, so the data
    /// is gone too.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port (after [`stop`](Self::stop)), so that clients
    /// connected before can reconnect to the same URL. Panics if it does not start.
    pub fn restart(&mut self) {
        self.stop();
        // A few attempts: the old process's socket may linger for a moment.
        let mut last_error = String::new();
        for _ in 0..20 {
            match self.spawn() {
                Ok(()) => return,
                Err(e) => last_error = e,
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "redis-server did not restart on port {}: {last_error}",
            self.port
        );
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            let Some(child) = self.child.as_mut() else {
                return Err("it is stopped".into());
            };
            if let Ok(Some(status)) = child.try_wait() {
                let mut err = String::new();
                if let Some(mut stderr) = child.stderr.take() {
                    let _ = stderr.read_to_string(&mut err);
                }
                self.child = None;
                return Err(format!("exited with {status}: {err}"));
            }
            if let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) {
                let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
                if stream.write_all(b"PING\r\n").is_ok() {
                    let mut buf = [0u8; 7];
                    if stream.read_exact(&mut buf).is_ok() && &buf == b"+PONG\r\n" {
                        return Ok(());
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err("it did not answer PING within 10 s".into())
    }

    /// The server's URL, `redis://127.0.0.1:<port>/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A new connection to it, for what a test checks or does behind a store's back.
    pub async fn connection(&self) -> redis::aio::MultiplexedConnection {
        redis::Client::open(self.url())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}
