//! What the Redis topology harnesses (`redis_cluster.rs`, `redis_sentinel.rs`) share: the
//! skip-or-fail rule, free loopback ports, a scratch directory, one `redis-server` (or
//! sentinel) child process that can be killed, paused and restarted, and bounded polling.
//!
//! A test file that uses either harness declares this module beside it:
//!
//! ```ignore
//! #[path = "support/redis_process.rs"]
//! mod redis_process;
//! #[path = "support/redis_cluster.rs"]
//! mod redis_cluster;
//! ```

use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How long one probe of a node may take: a paused or dying node must not stall a wait loop.
const PROBE_TIMEOUT: Duration = Duration::from_millis(500);
/// Between two probes of a wait loop.
const POLL: Duration = Duration::from_millis(25);

/// `true` when `redis-server` can be run. Otherwise says loudly that `what` was skipped and
/// returns `false`, or fails when `KEYBOUND_REQUIRE_REDIS` is set (as `.ci/run` sets it): the
/// same rule as `redis_server.rs`.
pub fn redis_available(what: &str) -> bool {
    if Command::new("redis-server")
        .arg("--version")
        .output()
        .is_ok()
    {
        return true;
    }
    let message = format!("SKIPPED: redis-server is not on PATH; {what} did not run");
    assert!(
        std::env::var("KEYBOUND_REQUIRE_REDIS").is_err(),
        "{message}"
    );
    eprintln!("\n*** {message} ***\n");
    false
}

/// `true` when `program` (for example `redis-cli`) can be run.
pub fn on_path(program: &str) -> bool {
    Command::new(program).arg("--version").output().is_ok()
}

/// `n` distinct loopback ports that were free a moment ago (all bound at once, so none repeats;
/// released just before the servers bind them, as `redis_server.rs` does).
pub fn free_ports(n: usize) -> Vec<u16> {
    let listeners: Vec<TcpListener> = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0").expect("bind a free loopback port"))
        .collect();
    listeners
        .iter()
        .map(|listener| listener.local_addr().unwrap().port())
        .collect()
}

/// A fresh directory under the system temp dir, removed on drop unless the thread is panicking
/// (then it is kept, and its path printed, so the servers' logs can be read).
pub struct ScratchDir(PathBuf);

impl ScratchDir {
    pub fn new(kind: &str) -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("keybound-{kind}-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).expect("create a scratch directory");
        Self(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("(kept the Redis logs in {})", self.0.display());
        } else {
            let _ = fs::remove_dir_all(&self.0);
        }
    }
}

/// Data-node arguments both topologies use: no persistence, and replication that neither waits
/// (`repl-diskless-sync-delay` is 5 s by default: every full sync would wait it out) nor leaves a
/// `dump.rdb` behind on a replica (a restarted node must come back empty). `DEBUG` is allowed
/// from loopback connections (Redis 7 refuses it by default): the chaos tests stall a node with
/// `DEBUG SLEEP`.
pub const DATA_NODE_ARGS: [&str; 10] = [
    "--appendonly",
    "no",
    "--save",
    "",
    "--repl-diskless-sync-delay",
    "0",
    "--repl-diskless-load",
    "swapdb",
    "--enable-debug-command",
    "local",
];

/// One `redis-server` (or `redis-sentinel`) child on 127.0.0.1:`port`, working in its own
/// subdirectory `<port>/` of the scratch directory and logging to `<port>.log` beside it;
/// SIGKILLed on drop (a paused one too: SIGKILL needs no SIGCONT).
pub struct RedisProcess {
    pub port: u16,
    program: String,
    args: Vec<String>,
    dir: PathBuf,
    log: PathBuf,
    child: Option<Child>,
    paused: bool,
}

impl RedisProcess {
    /// Starts `program args… --port port --bind 127.0.0.1 --dir <scratch>/<port> --logfile …` and
    /// waits until it answers `PING`. `args` may start with a config file path (sentinels need one).
    pub fn start(program: &str, port: u16, scratch: &Path, args: Vec<String>) -> Self {
        let dir = scratch.join(port.to_string());
        fs::create_dir_all(&dir).expect("create a node directory");
        let mut process = Self {
            port,
            program: program.to_string(),
            args,
            dir,
            log: scratch.join(format!("{port}.log")),
            child: None,
            paused: false,
        };
        process.spawn();
        process
    }

    fn spawn(&mut self) {
        assert!(self.child.is_none(), "{} is already running", self.port);
        let child = Command::new(&self.program)
            .args(&self.args)
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .arg("--dir")
            .arg(&self.dir)
            .arg("--logfile")
            .arg(&self.log)
            .args(["--daemonize", "no"])
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {}: {e}", self.program));
        self.child = Some(child);
        self.paused = false;
        let deadline = Instant::now() + Duration::from_secs(10);
        while query::<String>(self.port, &redis::cmd("PING")).is_err() {
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!(
                    "{} on port {} exited ({status}):\n{}",
                    self.program,
                    self.port,
                    self.log_tail(20)
                );
            }
            assert!(
                Instant::now() < deadline,
                "{} on port {} did not answer PING within 10 s:\n{}",
                self.program,
                self.port,
                self.log_tail(20)
            );
            std::thread::sleep(POLL);
        }
    }

    /// The process is alive and not paused: it can be asked.
    pub fn is_up(&self) -> bool {
        self.child.is_some() && !self.paused
    }

    /// SIGKILL, and reap it. No-op when it is not running.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.paused = false;
    }

    /// Kills it if running and starts it again with `args` from now on, with an empty dataset
    /// (a `dump.rdb` is removed first; a cluster node keeps its `nodes.conf`).
    pub fn restart_with(&mut self, args: Vec<String>) {
        self.kill();
        let _ = fs::remove_file(self.dir.join("dump.rdb"));
        self.args = args;
        self.spawn();
    }

    /// [`Self::restart_with`] the same arguments.
    pub fn restart(&mut self) {
        self.restart_with(self.args.clone());
    }

    /// SIGSTOP: the process keeps its sockets but answers nothing.
    pub fn pause(&mut self) {
        self.signal("-STOP");
        self.paused = true;
    }

    /// SIGCONT after [`Self::pause`].
    pub fn resume(&mut self) {
        self.signal("-CONT");
        self.paused = false;
    }

    fn signal(&self, signal: &str) {
        let pid = self
            .child
            .as_ref()
            .unwrap_or_else(|| panic!("{} is not running", self.port))
            .id();
        let status = Command::new("kill")
            .args([signal, &pid.to_string()])
            .status()
            .expect("run kill(1)");
        assert!(status.success(), "kill {signal} {pid}: {status}");
    }

    /// The last `lines` lines of its log file.
    pub fn log_tail(&self, lines: usize) -> String {
        let bytes = fs::read(&self.log).unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes);
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }
}

impl Drop for RedisProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One command on a fresh connection to 127.0.0.1:`port`, bounded by [`PROBE_TIMEOUT`] for
/// connecting, writing and reading.
pub fn query<T: redis::FromRedisValue>(port: u16, cmd: &redis::Cmd) -> redis::RedisResult<T> {
    query_within(port, cmd, PROBE_TIMEOUT)
}

/// [`query`] bounded by `timeout` instead: for a command that takes its time to answer on
/// purpose (`DEBUG SLEEP`).
pub fn query_within<T: redis::FromRedisValue>(
    port: u16,
    cmd: &redis::Cmd,
    timeout: Duration,
) -> redis::RedisResult<T> {
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}/"))?;
    let mut connection = client.get_connection_with_timeout(timeout)?;
    connection.set_read_timeout(Some(timeout))?;
    connection.set_write_timeout(Some(timeout))?;
    cmd.query(&mut connection)
}

/// The value of `field` in an `INFO`-style `field:value` text.
pub fn info_field<'a>(info: &'a str, field: &str) -> Option<&'a str> {
    info.lines().find_map(|line| {
        line.strip_prefix(field)
            .and_then(|rest| rest.strip_prefix(':'))
            .map(str::trim)
    })
}

/// Calls `probe` every few milliseconds until it returns `Some`, for at most `timeout`.
/// Returns the value and the time it took, or `Err(elapsed)` on timeout.
pub fn poll_until<T>(
    timeout: Duration,
    mut probe: impl FnMut() -> Option<T>,
) -> Result<(T, Duration), Duration> {
    let start = Instant::now();
    loop {
        if let Some(value) = probe() {
            return Ok((value, start.elapsed()));
        }
        if start.elapsed() >= timeout {
            return Err(start.elapsed());
        }
        std::thread::sleep(POLL);
    }
}
