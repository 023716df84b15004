//! A throwaway primary + replica under Redis Sentinel for tests: two `redis-server` children (the
//! second started with `--replicaof` the first) and one or more sentinels (`redis-sentinel`, or
//! `redis-server --sentinel` when that name is missing) monitoring them as [`MASTER_NAME`], with
//! a short `down-after-milliseconds` and `failover-timeout` so a failover takes seconds. All on
//! free loopback ports, no persistence; every process is killed on drop, a panicking test's
//! included. Needs `super::redis_process` (see there).

use std::collections::HashMap;
use std::fs;
use std::time::{Duration, Instant};

use super::redis_process::{
    free_ports, info_field, on_path, poll_until, query, redis_available, RedisProcess, ScratchDir,
    DATA_NODE_ARGS,
};

/// The name the sentinels monitor the primary under.
pub const MASTER_NAME: &str = "keybound";
/// `sentinel down-after-milliseconds`: a primary silent this long is subjectively down. Not less:
/// a promotion ends with `CLIENT KILL TYPE normal` on the new primary, which drops the other
/// sentinels' links, and a sentinel reconnects at most once a second; at 500 ms every sentinel
/// saw the new primary down half a second after each failover and failed it back and forth
/// (onto an empty restarted node, once).
pub const DOWN_AFTER: Duration = Duration::from_millis(2000);
/// `sentinel failover-timeout`: also the wait before a failed failover is retried.
pub const FAILOVER_TIMEOUT: Duration = Duration::from_millis(2000);
/// How long starting, or settling again, may take before the test fails.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(20);

pub struct RedisSentinel {
    /// The two data nodes, initial primary first. Declared before `dir`: the processes die
    /// before their directory is removed.
    servers: Vec<RedisProcess>,
    sentinels: Vec<RedisProcess>,
    /// How long starting it took, from the first spawn to every sentinel agreeing.
    pub started_in: Duration,
    dir: ScratchDir,
}

impl RedisSentinel {
    /// Starts a primary, its replica and `sentinels` sentinels (quorum: a majority of them);
    /// `None` (after saying so loudly) when `redis-server` is missing and
    /// `KEYBOUND_REQUIRE_REDIS` is not set.
    pub fn start(sentinels: usize) -> Option<Self> {
        if !redis_available("the Redis Sentinel tests") {
            return None;
        }
        assert!(sentinels >= 1);
        let started = Instant::now();
        let ports = free_ports(2 + sentinels);
        let mut setup = Self {
            servers: Vec::new(),
            sentinels: Vec::new(),
            started_in: Duration::ZERO,
            dir: ScratchDir::new("sentinel"),
        };
        let primary =
            RedisProcess::start("redis-server", ports[0], setup.dir.path(), data_args(None));
        setup.servers.push(primary);
        let replica = RedisProcess::start(
            "redis-server",
            ports[1],
            setup.dir.path(),
            data_args(Some(ports[0])),
        );
        setup.servers.push(replica);
        // Sentinels learn replicas from the primary's INFO (every 10 s once running): start them
        // once the replica is online, so the first INFO already lists it.
        setup.wait_replicated(SETTLE_TIMEOUT);

        let quorum = sentinels / 2 + 1;
        for &port in &ports[2..] {
            // A sentinel rewrites its config file, so each gets its own.
            let config = setup.dir.path().join(format!("sentinel-{port}.conf"));
            fs::write(
                &config,
                format!(
                    "sentinel monitor {MASTER_NAME} 127.0.0.1 {primary} {quorum}\n\
                     sentinel down-after-milliseconds {MASTER_NAME} {down}\n\
                     sentinel failover-timeout {MASTER_NAME} {failover}\n\
                     sentinel parallel-syncs {MASTER_NAME} 1\n",
                    primary = ports[0],
                    down = DOWN_AFTER.as_millis(),
                    failover = FAILOVER_TIMEOUT.as_millis(),
                ),
            )
            .expect("write sentinel.conf");
            let config = config.to_string_lossy().into_owned();
            let (program, args) = if on_path("redis-sentinel") {
                ("redis-sentinel", vec![config])
            } else {
                ("redis-server", vec![config, "--sentinel".to_string()])
            };
            let sentinel = RedisProcess::start(program, port, setup.dir.path(), args);
            setup.sentinels.push(sentinel);
        }
        setup.wait_settled(SETTLE_TIMEOUT);
        setup.started_in = started.elapsed();
        Some(setup)
    }

    /// The two data nodes' ports, initial primary first.
    pub fn server_ports(&self) -> [u16; 2] {
        [self.servers[0].port, self.servers[1].port]
    }

    /// `redis://127.0.0.1:port/` for every sentinel: what a Sentinel client is given.
    pub fn sentinel_urls(&self) -> Vec<String> {
        self.sentinels
            .iter()
            .map(|s| format!("redis://127.0.0.1:{}/", s.port))
            .collect()
    }

    /// `SENTINEL get-master-addr-by-name` of every sentinel that is up (`None` for one that does
    /// not answer).
    pub fn reported_primaries(&self) -> Vec<Option<u16>> {
        self.sentinels
            .iter()
            .filter(|s| s.is_up())
            .map(|s| reported_primary(s.port))
            .collect()
    }

    fn server_mut(&mut self, port: u16) -> &mut RedisProcess {
        self.servers
            .iter_mut()
            .find(|s| s.port == port)
            .unwrap_or_else(|| panic!("no data node on port {port}"))
    }

    /// SIGKILL the data node on `port`.
    pub fn kill(&mut self, port: u16) {
        self.server_mut(port).kill();
    }

    /// SIGSTOP the data node on `port`.
    pub fn pause(&mut self, port: u16) {
        self.server_mut(port).pause();
    }

    /// SIGCONT the data node on `port`.
    pub fn resume(&mut self, port: u16) {
        self.server_mut(port).resume();
    }

    /// Starts the killed data node on `port` again, empty, as a replica of the primary the
    /// sentinels name: what its config would say had the sentinels rewritten it. (Brought back as
    /// a primary instead, it would be one, empty, until a sentinel noticed, up to 10 s later;
    /// Redis warns against auto-restarting a primary that has no persistence.)
    pub fn restart(&mut self, port: u16) {
        let primary = self
            .reported_primaries()
            .into_iter()
            .flatten()
            .next()
            .expect("no sentinel names a primary");
        assert_ne!(primary, port, "the sentinels still name {port} primary");
        self.server_mut(port).restart_with(data_args(Some(primary)));
    }

    /// `ROLE` of the data node on `port`: `"master"` or `"slave"`.
    pub fn role(&self, port: u16) -> Option<String> {
        let role: Vec<redis::Value> = query(port, &redis::cmd("ROLE")).ok()?;
        match role.first()? {
            redis::Value::BulkString(bytes) => Some(String::from_utf8_lossy(bytes).into_owned()),
            redis::Value::SimpleString(s) => Some(s.clone()),
            _ => None,
        }
    }

    /// Waits until every data node that is up, other than the primary, is an online replica of it
    /// (as the primary's `INFO replication` says), and the primary has exactly that many.
    fn wait_replicated(&self, timeout: Duration) -> Duration {
        let result = poll_until(timeout, || {
            let primary = self
                .servers
                .iter()
                .find(|s| s.is_up() && self.role(s.port).as_deref() == Some("master"))?;
            let replicas = self.servers.iter().filter(|s| s.is_up()).count() - 1;
            let info: String = query(primary.port, redis::cmd("INFO").arg("replication")).ok()?;
            let online = (0..replicas)
                .filter(|i| {
                    info_field(&info, &format!("slave{i}"))
                        .is_some_and(|s| s.contains("state=online"))
                })
                .count();
            (info_field(&info, "connected_slaves") == Some(&replicas.to_string())
                && online == replicas)
                .then_some(())
        });
        match result {
            Ok(((), took)) => took,
            Err(elapsed) => panic!("replication not online within {elapsed:?}\n{}", self.logs()),
        }
    }

    /// Waits until every sentinel that is up names the same primary, which is up and says it is a
    /// primary, knows every replica that is up and every other sentinel, and `SENTINEL
    /// CKQUORUM` passes: a failover could start now.
    pub fn wait_settled(&self, timeout: Duration) -> Duration {
        let up_sentinels: Vec<u16> = self
            .sentinels
            .iter()
            .filter(|s| s.is_up())
            .map(|s| s.port)
            .collect();
        let up_replicas = self
            .servers
            .iter()
            .filter(|s| s.is_up())
            .count()
            .saturating_sub(1);
        let result = poll_until(timeout, || {
            let mut primary = None;
            for &port in &up_sentinels {
                let reported = reported_primary(port)?;
                if *primary.get_or_insert(reported) != reported {
                    return None;
                }
                let master: HashMap<String, String> =
                    query(port, redis::cmd("SENTINEL").arg("MASTER").arg(MASTER_NAME)).ok()?;
                let field = |name: &str| master.get(name).map(String::as_str);
                if field("flags") != Some("master")
                    || field("num-slaves") != Some(&up_replicas.to_string())
                    || field("num-other-sentinels") != Some(&(self.sentinels.len() - 1).to_string())
                {
                    return None;
                }
                let _: String = query(
                    port,
                    redis::cmd("SENTINEL").arg("CKQUORUM").arg(MASTER_NAME),
                )
                .ok()?;
            }
            let primary = primary?;
            let is_up = self.servers.iter().any(|s| s.port == primary && s.is_up());
            (is_up && self.role(primary).as_deref() == Some("master")).then_some(())
        });
        match result {
            Ok(((), took)) => took,
            Err(elapsed) => panic!(
                "the sentinels did not settle within {elapsed:?}\n{}",
                self.logs()
            ),
        }
    }

    /// After the primary on `old` was killed or paused: waits until every sentinel that is up
    /// names another data node, which is up and says it is a primary. Returns its port and the
    /// time from this call.
    pub fn wait_for_new_primary(&self, old: u16, timeout: Duration) -> (u16, Duration) {
        let result = poll_until(timeout, || {
            let reported = self.reported_primaries();
            let first = (*reported.first()?)?;
            let agreed = reported.iter().all(|&p| p == Some(first));
            let is_up = self.servers.iter().any(|s| s.port == first && s.is_up());
            (agreed && first != old && is_up && self.role(first).as_deref() == Some("master"))
                .then_some(first)
        });
        match result {
            Ok(found) => found,
            Err(elapsed) => panic!("no new primary within {elapsed:?}\n{}", self.logs()),
        }
    }

    /// Waits until the data node on `port` is a replica whose link to the primary is up.
    pub fn wait_replica(&self, port: u16, timeout: Duration) -> Duration {
        let result = poll_until(timeout, || {
            let info: String = query(port, redis::cmd("INFO").arg("replication")).ok()?;
            (info_field(&info, "role") == Some("slave")
                && info_field(&info, "master_link_status") == Some("up"))
            .then_some(())
        });
        match result {
            Ok(((), took)) => took,
            Err(elapsed) => panic!(
                "{port} not an in-sync replica within {elapsed:?}\n{}",
                self.logs()
            ),
        }
    }

    /// The last lines of every process's log, for a failure message.
    pub fn logs(&self) -> String {
        self.servers
            .iter()
            .map(|s| format!("--- data node {} ---\n{}", s.port, s.log_tail(15)))
            .chain(
                self.sentinels
                    .iter()
                    .map(|s| format!("--- sentinel {} ---\n{}", s.port, s.log_tail(15))),
            )
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// A data node's arguments: [`DATA_NODE_ARGS`], and `--replicaof` `primary` for a replica.
fn data_args(primary: Option<u16>) -> Vec<String> {
    let mut args: Vec<String> = DATA_NODE_ARGS.iter().map(|a| a.to_string()).collect();
    if let Some(primary) = primary {
        args.extend([
            "--replicaof".to_string(),
            "127.0.0.1".to_string(),
            primary.to_string(),
        ]);
    }
    args
}

/// `SENTINEL get-master-addr-by-name` of the sentinel on `port`, as a loopback port.
fn reported_primary(port: u16) -> Option<u16> {
    let (host, primary): (String, u16) = query(
        port,
        redis::cmd("SENTINEL")
            .arg("get-master-addr-by-name")
            .arg(MASTER_NAME),
    )
    .ok()?;
    (host == "127.0.0.1").then_some(primary)
}
