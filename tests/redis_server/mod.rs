//! Starts a real `redis-server` on 127.0.0.1 for one test and stops it on drop.
//!
//! When the binary is missing the test fails with a message saying how to install it, unless
//! `WEBEX_SKIP_REDIS_TESTS=1` is set, in which case [`RedisServer::start`] returns `None` and
//! the test returns early (and says so on stderr).
#![allow(dead_code, unreachable_pub)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `redis-server`, killed when dropped.
pub struct RedisServer {
    child: Child,
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

fn skip_requested() -> bool {
    std::env::var("WEBEX_SKIP_REDIS_TESTS").is_ok_and(|v| v == "1")
}

impl RedisServer {
    /// Starts a server on a free port and waits until it answers PING.
    ///
    /// Panics (failing the test) when `redis-server` is missing, unless
    /// `WEBEX_SKIP_REDIS_TESTS=1`.
    pub fn start() -> Option<Self> {
        let Some(binary) = find_binary() else {
            if skip_requested() {
                eprintln!("skipping: redis-server not found and WEBEX_SKIP_REDIS_TESTS=1");
                return None;
            }
            panic!(
                "redis-server was not found (REDIS_SERVER_BIN, PATH, /usr/bin, /usr/local/bin); the \
                 `redis` feature's tests need it: install it (`apt-get install redis-server`, \
                 as .ci/run does) or set WEBEX_SKIP_REDIS_TESTS=1 to skip these tests"
            );
        };
        // A few attempts, in case another process takes the port between probe and bind.
        let mut last_error = String::new();
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("no free port on 127.0.0.1")
                .port();
            let child = Command::new(&binary)
                .args(["--port", &port.to_string()])
                .args(["--bind", "127.0.0.1"])
                .args(["--save", ""])
                .args(["--appendonly", "no"])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap_or_else(|e| panic!("could not start {}: {e}", binary.display()));
            let mut server = Self { child, port };
            match server.wait_ready() {
                Ok(()) => return Some(server),
                Err(e) => last_error = e,
            }
        }
        panic!("redis-server did not start: {last_error}");
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                let mut err = String::new();
                if let Some(mut stderr) = self.child.stderr.take() {
                    let _ = stderr.read_to_string(&mut err);
                }
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
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
