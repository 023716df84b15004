//! A throwaway Redis Cluster for tests: `primaries` primaries with `replicas` replicas each, every
//! node a `redis-server --cluster-enabled yes` child on free loopback ports (its own client and
//! bus port), no persistence, a 1 s node timeout so a failover takes seconds; every process is
//! killed on drop, a panicking test's included. Needs `super::redis_process` (see there).
//!
//! The cluster is created by `redis-cli --cluster create` when `redis-cli` is on PATH, else by
//! hand (`CLUSTER SET-CONFIG-EPOCH`, `ADDSLOTSRANGE`, `MEET`, `REPLICATE`), then waited on until
//! every node says `cluster_state:ok`, knows every other node, and every replica is in sync.
//!
//! Until a shard has taken a write its replica's replication offset is 0, and Redis 7 leaves such
//! replicas out of `CLUSTER SLOTS`: a client that reads the topology before the first write sees
//! primaries only (its `SCRIPT LOAD` fan-out, for one, then skips the replicas).

use std::time::{Duration, Instant};

use super::redis_process::{
    free_ports, info_field, on_path, poll_until, query, redis_available, RedisProcess, ScratchDir,
    DATA_NODE_ARGS,
};

/// `--cluster-node-timeout`: a node unreachable this long is flagged as failing; a failover
/// follows within about two of these.
pub const NODE_TIMEOUT: Duration = Duration::from_millis(1000);
/// How long creating the cluster, or getting healthy again, may take before the test fails.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(20);

/// How the slots and replicas get assigned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Creation {
    /// `redis-cli --cluster create … --cluster-replicas N --cluster-yes` when `redis-cli` is on
    /// PATH, else [`Creation::ByHand`].
    RedisCli,
    /// `CLUSTER` commands sent by the harness itself.
    ByHand,
}

/// One node as another node sees it (a line of `CLUSTER NODES`).
#[derive(Clone, Debug)]
pub struct NodeView {
    pub id: String,
    pub port: u16,
    pub flags: Vec<String>,
    /// The primary's id, for a replica.
    pub primary_id: Option<String>,
    /// Slot ranges it serves (inclusive), migrating/importing markers left out.
    pub slots: Vec<(u16, u16)>,
}

impl NodeView {
    pub fn is_primary(&self) -> bool {
        self.flags.iter().any(|f| f == "master")
    }

    /// Flagged `fail` or `fail?` by the node that was asked.
    pub fn is_failing(&self) -> bool {
        self.flags.iter().any(|f| f == "fail" || f == "fail?")
    }
}

/// What the test sees when it is done.
pub struct RedisCluster {
    /// Declared before `dir`: the processes die before their directory is removed.
    nodes: Vec<RedisProcess>,
    bus_ports: Vec<u16>,
    primaries: usize,
    replicas: usize,
    /// How long creating it took, from the first spawn to healthy.
    pub created_in: Duration,
    dir: ScratchDir,
}

impl RedisCluster {
    /// Starts `primaries × (1 + replicas)` nodes and creates the cluster; `None` (after saying so
    /// loudly) when `redis-server` is missing and `KEYBOUND_REQUIRE_REDIS` is not set.
    pub fn start(primaries: usize, replicas: usize, creation: Creation) -> Option<Self> {
        if !redis_available("the Redis Cluster tests") {
            return None;
        }
        assert!(primaries >= 3, "Redis Cluster needs at least 3 primaries");
        let started = Instant::now();
        let count = primaries * (1 + replicas);
        let ports = free_ports(2 * count);
        let dir = ScratchDir::new("cluster");
        // The struct owns each process as soon as it runs, so a panic below kills them all.
        let mut cluster = Self {
            nodes: Vec::with_capacity(count),
            bus_ports: ports[count..].to_vec(),
            primaries,
            replicas,
            created_in: Duration::ZERO,
            dir,
        };
        for (i, &port) in ports[..count].iter().enumerate() {
            let args = [
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                &format!("nodes-{port}.conf"),
                "--cluster-port",
                &cluster.bus_ports[i].to_string(),
                "--cluster-node-timeout",
                &NODE_TIMEOUT.as_millis().to_string(),
            ]
            .iter()
            .chain(&DATA_NODE_ARGS)
            .map(|a| a.to_string())
            .collect();
            let node = RedisProcess::start("redis-server", port, cluster.dir.path(), args);
            cluster.nodes.push(node);
        }
        if creation == Creation::RedisCli && on_path("redis-cli") {
            cluster.create_with_redis_cli();
        } else {
            cluster.create_by_hand();
        }
        cluster.wait_healthy(SETTLE_TIMEOUT);
        cluster.created_in = started.elapsed();
        Some(cluster)
    }

    fn create_with_redis_cli(&self) {
        let output = std::process::Command::new("redis-cli")
            .args(["--cluster", "create"])
            .args(self.nodes.iter().map(|n| format!("127.0.0.1:{}", n.port)))
            .args([
                "--cluster-replicas",
                &self.replicas.to_string(),
                "--cluster-yes",
            ])
            .output()
            .expect("run redis-cli --cluster create");
        assert!(
            output.status.success(),
            "redis-cli --cluster create failed ({}):\n{}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    fn create_by_hand(&self) {
        let ids: Vec<String> = self
            .nodes
            .iter()
            .map(|n| query(n.port, redis::cmd("CLUSTER").arg("MYID")).expect("CLUSTER MYID"))
            .collect();
        // Distinct epochs up front, as redis-cli does, instead of waiting out epoch collisions.
        for (epoch, node) in self.nodes.iter().enumerate() {
            let _: () = query(
                node.port,
                redis::cmd("CLUSTER").arg("SET-CONFIG-EPOCH").arg(epoch + 1),
            )
            .expect("CLUSTER SET-CONFIG-EPOCH");
        }
        for (i, node) in self.nodes[..self.primaries].iter().enumerate() {
            let first = i * 16384 / self.primaries;
            let last = (i + 1) * 16384 / self.primaries - 1;
            let _: () = query(
                node.port,
                redis::cmd("CLUSTER")
                    .arg("ADDSLOTSRANGE")
                    .arg(first)
                    .arg(last),
            )
            .expect("CLUSTER ADDSLOTSRANGE");
        }
        for (node, bus_port) in self.nodes.iter().zip(&self.bus_ports).skip(1) {
            let _: () = query(
                self.nodes[0].port,
                redis::cmd("CLUSTER")
                    .arg("MEET")
                    .arg("127.0.0.1")
                    .arg(node.port)
                    .arg(*bus_port),
            )
            .expect("CLUSTER MEET");
        }
        // A replica can only be told its primary once it knows that node.
        let count = self.nodes.len();
        if let Err(elapsed) = poll_until(SETTLE_TIMEOUT, || {
            self.nodes
                .iter()
                .all(|n| {
                    self.cluster_nodes_of(n.port).is_some_and(|view| {
                        view.len() == count
                            && view
                                .iter()
                                .all(|v| !v.flags.iter().any(|f| f == "handshake"))
                    })
                })
                .then_some(())
        }) {
            panic!("the nodes did not meet within {elapsed:?}\n{}", self.logs());
        }
        for (j, node) in self.nodes[self.primaries..].iter().enumerate() {
            let _: () = query(
                node.port,
                redis::cmd("CLUSTER")
                    .arg("REPLICATE")
                    .arg(&ids[j % self.primaries]),
            )
            .expect("CLUSTER REPLICATE");
        }
    }

    /// Every node's client port, in start order.
    pub fn ports(&self) -> Vec<u16> {
        self.nodes.iter().map(|n| n.port).collect()
    }

    /// `redis://127.0.0.1:port/` for every node: the seed list for a cluster client.
    pub fn urls(&self) -> Vec<String> {
        self.ports()
            .iter()
            .map(|port| format!("redis://127.0.0.1:{port}/"))
            .collect()
    }

    /// The cluster as the first reachable node sees it.
    pub fn view(&self) -> Vec<NodeView> {
        self.nodes
            .iter()
            .filter(|n| n.is_up())
            .find_map(|n| self.cluster_nodes_of(n.port))
            .expect("no node answers CLUSTER NODES")
    }

    /// Ports of the primaries that serve slots, in slot order.
    pub fn primary_ports(&self) -> Vec<u16> {
        let mut primaries: Vec<NodeView> = self
            .view()
            .into_iter()
            .filter(|v| v.is_primary() && !v.slots.is_empty())
            .collect();
        primaries.sort_by_key(|v| v.slots[0].0);
        primaries.iter().map(|v| v.port).collect()
    }

    /// Ports of the replicas of the primary on `port`.
    pub fn replicas_of(&self, port: u16) -> Vec<u16> {
        let view = self.view();
        let id = &view
            .iter()
            .find(|v| v.port == port)
            .expect("no such node")
            .id;
        view.iter()
            .filter(|v| v.primary_id.as_ref() == Some(id))
            .map(|v| v.port)
            .collect()
    }

    /// The hash slot of `key` (`CLUSTER KEYSLOT`, asked of a node).
    pub fn slot_of(&self, key: &str) -> u16 {
        let port = self
            .nodes
            .iter()
            .find(|n| n.is_up())
            .expect("no node up")
            .port;
        query(port, redis::cmd("CLUSTER").arg("KEYSLOT").arg(key)).expect("CLUSTER KEYSLOT")
    }

    /// The port of the primary serving `key`'s slot.
    pub fn primary_of(&self, key: &str) -> u16 {
        let slot = self.slot_of(key);
        self.view()
            .into_iter()
            .find(|v| v.is_primary() && v.slots.iter().any(|&(a, b)| a <= slot && slot <= b))
            .unwrap_or_else(|| panic!("no primary serves slot {slot}"))
            .port
    }

    fn node_mut(&mut self, port: u16) -> &mut RedisProcess {
        self.nodes
            .iter_mut()
            .find(|n| n.port == port)
            .unwrap_or_else(|| panic!("no node on port {port}"))
    }

    /// SIGKILL the node on `port`.
    pub fn kill(&mut self, port: u16) {
        self.node_mut(port).kill();
    }

    /// SIGSTOP the node on `port`.
    pub fn pause(&mut self, port: u16) {
        self.node_mut(port).pause();
    }

    /// SIGCONT the node on `port`.
    pub fn resume(&mut self, port: u16) {
        self.node_mut(port).resume();
    }

    /// Starts the killed node on `port` again, with an empty dataset and its old `nodes.conf`:
    /// it rejoins, as a replica if its slots failed over meanwhile.
    pub fn restart(&mut self, port: u16) {
        self.node_mut(port).restart();
    }

    /// `CLUSTER NODES` of the node on `port`, parsed; `None` when it does not answer.
    fn cluster_nodes_of(&self, port: u16) -> Option<Vec<NodeView>> {
        let text: String = query(port, redis::cmd("CLUSTER").arg("NODES")).ok()?;
        Some(text.lines().filter_map(parse_node_line).collect())
    }

    /// Waits until every node that is up says `cluster_state:ok`, knows every node, sees every slot
    /// served by a primary that is up and not failing, and every replica that is up has its link
    /// to its primary up. Returns how long that took; panics (with the logs) after `timeout`.
    pub fn wait_healthy(&self, timeout: Duration) -> Duration {
        let up: Vec<u16> = self
            .nodes
            .iter()
            .filter(|n| n.is_up())
            .map(|n| n.port)
            .collect();
        let count = self.nodes.len();
        let result = poll_until(timeout, || {
            let mut agreed = None;
            for &port in &up {
                let info: String = query(port, redis::cmd("CLUSTER").arg("INFO")).ok()?;
                if info_field(&info, "cluster_state") != Some("ok")
                    || info_field(&info, "cluster_known_nodes") != Some(&count.to_string())
                {
                    return None;
                }
                let view = self.cluster_nodes_of(port)?;
                // A restarted or resumed node may hold a stale view for a moment: wait until
                // every node has the same one (who is primary of which slots, who replicates whom).
                if *agreed.get_or_insert_with(|| layout(&view)) != layout(&view) {
                    return None;
                }
                let mut served = 0;
                for node in view
                    .iter()
                    .filter(|v| v.is_primary() && !v.slots.is_empty())
                {
                    if node.is_failing() || !up.contains(&node.port) {
                        return None;
                    }
                    served += node
                        .slots
                        .iter()
                        .map(|&(a, b)| usize::from(b - a) + 1)
                        .sum::<usize>();
                }
                if served != 16384 {
                    return None;
                }
                let me = view.iter().find(|v| v.port == port)?;
                if !me.is_primary() {
                    let replication: String =
                        query(port, redis::cmd("INFO").arg("replication")).ok()?;
                    if info_field(&replication, "master_link_status") != Some("up") {
                        return None;
                    }
                }
            }
            Some(())
        });
        match result {
            Ok(((), took)) => took,
            Err(elapsed) => panic!(
                "the cluster was not healthy within {elapsed:?}\n{}",
                self.logs()
            ),
        }
    }

    /// After the primary on `port` was killed or paused: waits until every other node that is up
    /// sees all of its former slots served by one other primary that is up, and the cluster is
    /// healthy again. Returns the new primary's port and the time from this call.
    pub fn wait_for_failover(&self, port: u16, timeout: Duration) -> (u16, Duration) {
        let start = Instant::now();
        let up: Vec<u16> = self
            .nodes
            .iter()
            .filter(|n| n.is_up())
            .map(|n| n.port)
            .collect();
        assert!(
            !up.contains(&port),
            "{port} is still up: kill or pause it first"
        );
        let before = self.view();
        let slots = before
            .iter()
            .find(|v| v.port == port)
            .expect("no such node")
            .slots
            .clone();
        assert!(!slots.is_empty(), "{port} serves no slots: not a primary");
        let serves_all = |v: &NodeView| {
            slots
                .iter()
                .all(|&(a, b)| v.slots.iter().any(|&(c, d)| c <= a && b <= d))
        };
        let result = poll_until(timeout, || {
            let mut successor = None;
            for &other in &up {
                let view = self.cluster_nodes_of(other)?;
                let owner = view.iter().find(|v| v.is_primary() && serves_all(v))?;
                if owner.port == port || owner.is_failing() || !up.contains(&owner.port) {
                    return None;
                }
                match successor {
                    None => successor = Some(owner.port),
                    Some(p) if p == owner.port => {}
                    Some(_) => return None,
                }
            }
            successor
        });
        match result {
            Ok((successor, _)) => {
                let left = timeout.saturating_sub(start.elapsed());
                self.wait_healthy(left);
                (successor, start.elapsed())
            }
            Err(elapsed) => panic!("no failover of {port} within {elapsed:?}\n{}", self.logs()),
        }
    }

    /// The last lines of every node's log, for a failure message.
    pub fn logs(&self) -> String {
        self.nodes
            .iter()
            .map(|n| format!("--- node {} ---\n{}", n.port, n.log_tail(15)))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// One node in a [`layout`]: its port, whether it is a primary, its primary's port, its slots.
type Placement = (u16, bool, Option<u16>, Vec<(u16, u16)>);

/// Who is primary of which slots and who replicates whom, in a comparable form.
fn layout(view: &[NodeView]) -> Vec<Placement> {
    let port_of = |id: &String| view.iter().find(|v| &v.id == id).map(|v| v.port);
    let mut layout: Vec<_> = view
        .iter()
        .map(|v| {
            let primary = v.primary_id.as_ref().and_then(port_of);
            (v.port, v.is_primary(), primary, v.slots.clone())
        })
        .collect();
    layout.sort();
    layout
}

/// `<id> <ip:port@cport[,hostname]> <flags> <primary> <ping> <pong> <epoch> <link> <slot>…`
fn parse_node_line(line: &str) -> Option<NodeView> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    if fields.len() < 8 {
        return None;
    }
    let address = fields[1].split(['@', ',']).next()?;
    let port = address.rsplit_once(':')?.1.parse().ok()?;
    let slots = fields[8..]
        .iter()
        .filter(|s| !s.starts_with('['))
        .filter_map(|s| match s.split_once('-') {
            Some((a, b)) => Some((a.parse().ok()?, b.parse().ok()?)),
            None => s.parse().ok().map(|a| (a, a)),
        })
        .collect();
    Some(NodeView {
        id: fields[0].to_string(),
        port,
        flags: fields[2].split(',').map(String::from).collect(),
        primary_id: (fields[3] != "-").then(|| fields[3].to_string()),
        slots,
    })
}
