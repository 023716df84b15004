//! Redis memory per live replay entry (issue 17): starts its own `redis-server` (loopback, no
//! persistence, a scratch directory; killed at the end), registers N proofs through the real
//! [`RedisReplayStore`], and reports
//!
//! - `INFO memory` growth ÷ N (`used_memory`, and `used_memory_rss` for comparison with the
//!   in-memory store's resident-memory figure in `benches/scaling.rs`), the per-key quota
//!   counters included;
//! - `MEMORY USAGE <key> SAMPLES 0` over a sample of replay entries and over every quota counter;
//! - `MEMORY STATS` (the main and expiry hash tables' bucket arrays), `DBSIZE`, `expired_keys`.
//!
//! ```sh
//! cargo run --release --features redis --example redis_memory               # 10⁶ proofs
//! cargo run --release --features redis --example redis_memory -- 100000 1000 128 65
//! ```
//! Arguments: proofs N (default 1 000 000), client keys (default 1 000), concurrent inserts
//! (default 128, at most 1 024), retention in seconds (default 65, the proof verifier's). The
//! proofs are spread round-robin over the client keys; each `jti` is 16 random bytes in
//! base64url, as real proofs carry. Every entry must still be live when memory is read: the run
//! fails if the inserts take longer than the retention (then pass a longer one).

use std::fs;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64ct::{Base64UrlUnpadded, Encoding};
use keybound::{
    AsyncReplayStore, Insertion, RedisConfig, RedisReplayStore, ReplayKey, Thumbprint, UnixTime,
};
use redis::aio::MultiplexedConnection;

const PREFIX: &str = "mem:";
/// How many replay entries `MEMORY USAGE` is asked about.
const SAMPLE: usize = 1000;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// A `redis-server` child on 127.0.0.1 working in its own scratch directory: SIGKILLed, reaped
/// and its directory removed on drop.
struct RedisServer {
    child: Child,
    dir: PathBuf,
    port: u16,
}

impl RedisServer {
    fn start() -> Result<Self> {
        // A port that was free a moment ago (released just before the server binds it).
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let dir =
            std::env::temp_dir().join(format!("keybound-redis-memory-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir)?;
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .arg("--dir")
            .arg(&dir)
            .arg("--logfile")
            .arg(dir.join("redis.log"))
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("spawn redis-server (is it on PATH?): {e}"))?;
        Ok(Self { child, dir, port })
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// A connection once the server answers `PING` (at most 10 s).
    async fn connect(&mut self) -> Result<MultiplexedConnection> {
        let client = redis::Client::open(self.url())?;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(mut connection) = client.get_multiplexed_async_connection().await {
                if redis::cmd("PING")
                    .query_async::<String>(&mut connection)
                    .await
                    .is_ok()
                {
                    return Ok(connection);
                }
            }
            if let Some(status) = self.child.try_wait()? {
                return Err(format!("redis-server exited ({status})").into());
            }
            if Instant::now() > deadline {
                return Err("redis-server did not answer PING within 10 s".into());
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// `field` of an `INFO` text, as a number.
fn info_field(info: &str, field: &str) -> Result<u64> {
    info.lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .ok_or_else(|| format!("no {field} in INFO"))?
        .trim()
        .parse()
        .map_err(|e| format!("{field}: {e}").into())
}

async fn info(connection: &mut MultiplexedConnection, section: &str) -> Result<String> {
    Ok(redis::cmd("INFO")
        .arg(section)
        .query_async(connection)
        .await?)
}

/// Every key matching `pattern`, or the first `limit` of them.
async fn scan(
    connection: &mut MultiplexedConnection,
    pattern: &str,
    limit: usize,
) -> Result<Vec<String>> {
    let mut keys = Vec::new();
    let mut cursor = 0u64;
    loop {
        let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(pattern)
            .arg("COUNT")
            .arg(1000)
            .query_async(connection)
            .await?;
        keys.extend(batch);
        cursor = next;
        if cursor == 0 || keys.len() >= limit {
            keys.truncate(limit);
            return Ok(keys);
        }
    }
}

/// `MEMORY USAGE <key> SAMPLES 0` of each key: (mean, min, max), in bytes.
async fn memory_usage(
    connection: &mut MultiplexedConnection,
    keys: &[String],
) -> Result<(f64, u64, u64)> {
    let mut sizes = Vec::with_capacity(keys.len());
    for key in keys {
        let size: Option<u64> = redis::cmd("MEMORY")
            .arg("USAGE")
            .arg(key)
            .arg("SAMPLES")
            .arg(0)
            .query_async(connection)
            .await?;
        sizes.push(size.ok_or_else(|| format!("{key} is gone"))?);
    }
    let min = sizes.iter().copied().min().unwrap_or(0);
    let max = sizes.iter().copied().max().unwrap_or(0);
    let mean = sizes.iter().sum::<u64>() as f64 / sizes.len().max(1) as f64;
    Ok((mean, min, max))
}

/// The `db.0` fields of `MEMORY STATS` that are the dataset's hash tables, and
/// `keys.bytes-per-key`.
async fn memory_stats(connection: &mut MultiplexedConnection) -> Result<Vec<(String, i64)>> {
    fn text(value: &redis::Value) -> String {
        match value {
            redis::Value::BulkString(bytes) => String::from_utf8_lossy(bytes).into_owned(),
            redis::Value::SimpleString(s) => s.clone(),
            other => format!("{other:?}"),
        }
    }
    fn pairs(value: &redis::Value) -> Vec<(String, &redis::Value)> {
        match value {
            redis::Value::Array(items) => items
                .chunks(2)
                .filter_map(|pair| Some((text(pair.first()?), pair.get(1)?)))
                .collect(),
            redis::Value::Map(items) => items.iter().map(|(k, v)| (text(k), v)).collect(),
            _ => Vec::new(),
        }
    }
    let stats: redis::Value = redis::cmd("MEMORY")
        .arg("STATS")
        .query_async(connection)
        .await?;
    let mut wanted = Vec::new();
    for (name, value) in pairs(&stats) {
        match (name.as_str(), value) {
            ("keys.bytes-per-key", redis::Value::Int(n)) => wanted.push((name, *n)),
            ("db.0", table) => {
                for (field, value) in pairs(table) {
                    if let redis::Value::Int(n) = value {
                        wanted.push((format!("db.0 {field}"), *n));
                    }
                }
            }
            _ => {}
        }
    }
    Ok(wanted)
}

fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| format!("getrandom: {e}"))?;
    Ok(bytes)
}

#[tokio::main]
async fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().map_or(Ok(1_000_000), |a| a.parse())?.max(1);
    let clients: usize = args.next().map_or(Ok(1000), |a| a.parse())?.max(1);
    let concurrency: usize = args.next().map_or(Ok(128), |a| a.parse())?.clamp(1, 1024);
    let retention: u64 = args.next().map_or(Ok(65), |a| a.parse())?.max(1);

    let mut server = RedisServer::start()?;
    let mut connection = server.connect().await?;
    let version = info_field_text(&info(&mut connection, "server").await?, "redis_version");
    let store = Arc::new(
        RedisReplayStore::open(&server.url(), &RedisConfig::new().with_prefix(PREFIX))?
            .with_per_key_limit(u64::MAX),
    );

    // Warm up: the store's connection and the script cache belong to the baseline, not to the
    // entries. One proof, then an empty dataset again (FLUSHALL keeps the scripts).
    let warm = ReplayKey::new(&Thumbprint::from_bytes([0; 32]), "warm-up");
    let now = UnixTime::now();
    store
        .insert_if_absent(&warm, now.saturating_add(retention), now)
        .await?;
    redis::cmd("FLUSHALL")
        .arg("SYNC")
        .query_async::<()>(&mut connection)
        .await?;
    let before = info(&mut connection, "memory").await?;

    let thumbprints: Arc<Vec<Thumbprint>> = Arc::new(
        (0..clients)
            .map(|_| random_bytes::<32>().map(Thumbprint::from_bytes))
            .collect::<Result<_>>()?,
    );
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let (store, thumbprints, next) = (store.clone(), thumbprints.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return Ok::<(), String>(());
                }
                let jti = Base64UrlUnpadded::encode_string(
                    &random_bytes::<16>().map_err(|e| e.to_string())?,
                );
                let key = ReplayKey::new(&thumbprints[i % thumbprints.len()], &jti);
                let now = UnixTime::now();
                match store
                    .insert_if_absent(&key, now.saturating_add(retention), now)
                    .await
                {
                    Ok(Insertion::Inserted) => {}
                    other => return Err(format!("proof {i}: {other:?}")),
                }
            }
        }));
    }
    for task in tasks {
        task.await??;
    }
    let insert_time = started.elapsed();

    let after = info(&mut connection, "memory").await?;
    let dbsize: u64 = redis::cmd("DBSIZE").query_async(&mut connection).await?;
    let expired = info_field(&info(&mut connection, "stats").await?, "expired_keys")?;
    let entries = scan(&mut connection, &format!("{PREFIX}replay:*"), SAMPLE).await?;
    let quotas = scan(&mut connection, &format!("{PREFIX}quota:*"), usize::MAX).await?;
    let (entry_mean, entry_min, entry_max) = memory_usage(&mut connection, &entries).await?;
    let (quota_mean, quota_min, quota_max) = memory_usage(&mut connection, &quotas).await?;
    let stats = memory_stats(&mut connection).await?;
    let read_time = started.elapsed();
    if read_time.as_secs() >= retention || expired > 0 || dbsize != (n + quotas.len()) as u64 {
        return Err(format!(
            "entries expired before memory was read ({read_time:.1?}, expired_keys {expired}, \
             DBSIZE {dbsize}): pass a longer retention"
        )
        .into());
    }

    let used = |info: &str| info_field(info, "used_memory");
    let rss = |info: &str| info_field(info, "used_memory_rss");
    let growth = used(&after)?.saturating_sub(used(&before)?);
    let rss_growth = rss(&after)?.saturating_sub(rss(&before)?);
    println!("redis-server {version}, prefix {PREFIX:?}, retention {retention} s");
    println!(
        "proofs N: {n} over {clients} client keys, {concurrency} in flight, \
         inserted in {insert_time:.1?} ({:.0}/s); memory read {read_time:.1?} after the first",
        n as f64 / insert_time.as_secs_f64()
    );
    println!(
        "DBSIZE: {dbsize} = {n} entries + {} quota counters; expired_keys: {expired}",
        quotas.len()
    );
    println!(
        "used_memory: {} -> {} B, growth {growth} B = {:.1} B/entry (quota counters included)",
        used(&before)?,
        used(&after)?,
        growth as f64 / n as f64
    );
    println!(
        "used_memory_rss: {} -> {} B, growth {rss_growth} B = {:.1} B/entry",
        rss(&before)?,
        rss(&after)?,
        rss_growth as f64 / n as f64
    );
    let entry_name = entries.first().map_or("", String::as_str);
    let quota_name = quotas.first().map_or("", String::as_str);
    println!(
        "MEMORY USAGE entry ({} sampled): mean {entry_mean:.1}, min {entry_min}, max {entry_max} B; \
         key name {} chars, e.g. {entry_name}",
        entries.len(),
        entry_name.len()
    );
    println!(
        "MEMORY USAGE quota counter ({} keys): mean {quota_mean:.1}, min {quota_min}, \
         max {quota_max} B; key name {} chars, e.g. {quota_name}",
        quotas.len(),
        quota_name.len()
    );
    for (name, value) in stats {
        println!("MEMORY STATS {name}: {value}");
    }
    drop(server);
    Ok(())
}

/// `field` of an `INFO` text, as text.
fn info_field_text(info: &str, field: &str) -> String {
    info.lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .unwrap_or("?")
        .trim()
        .to_owned()
}
