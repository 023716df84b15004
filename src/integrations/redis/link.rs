//! How the stores reach Redis: one server, a Redis Cluster, or the primary a set of Sentinels
//! names. Each is opened without connecting; the first operation connects, and every link
//! recovers by itself once Redis is reachable again.

use std::sync::{Arc, Mutex, PoisonError};

use redis::aio::{ConnectionLike, ConnectionManager, MultiplexedConnection};
use redis::cluster_async::ClusterConnection;
use redis::cluster_routing::{RoutingInfo, SingleNodeRoutingInfo, SlotAddr};
use redis::sentinel::SentinelClient;
use redis::{Cmd, Pipeline, RedisFuture, Value};

/// An opened, not yet connected, way to Redis.
#[derive(Clone)]
pub(crate) enum Link {
    /// One server, through the redis crate's reconnecting connection manager.
    Node(ConnectionManager),
    /// A Redis Cluster: commands routed by slot, `MOVED`/`ASK` followed by the redis crate.
    Cluster(Arc<LazyCluster>),
    /// The primary named by Sentinel, asked again after any failure.
    Sentinel(Arc<SentinelLink>),
}

/// A connection for one operation.
pub(crate) enum Connection {
    Node(ConnectionManager),
    Cluster(ClusterConnection),
    Sentinel(MultiplexedConnection),
}

impl Link {
    /// A connection, connecting first if needed.
    pub(crate) async fn connect(&self) -> redis::RedisResult<Connection> {
        match self {
            Self::Node(manager) => Ok(Connection::Node(manager.clone())),
            Self::Cluster(cluster) => cluster.connect().await.map(Connection::Cluster),
            Self::Sentinel(sentinel) => sentinel.connect().await.map(Connection::Sentinel),
        }
    }

    /// An operation failed or ran out of time: a Sentinel link asks the Sentinels for the
    /// primary again on its next operation (the server may have failed over). The other links
    /// repair themselves.
    pub(crate) fn failed(&self) {
        if let Self::Sentinel(sentinel) = self {
            sentinel.forget();
        }
    }

    pub(crate) fn is_cluster(&self) -> bool {
        matches!(self, Self::Cluster(_))
    }
}

impl Connection {
    /// `INFO replication` of the primary holding `key` (on one server: of that server).
    pub(crate) async fn replication_info(&mut self, key: &str) -> redis::RedisResult<String> {
        let mut info = redis::cmd("INFO");
        info.arg("replication");
        match self {
            Self::Cluster(cluster) => {
                let route = redis::cluster_routing::Route::with_key(key, SlotAddr::Master);
                let routing = RoutingInfo::SingleNode(SingleNodeRoutingInfo::SpecificNode(route));
                let value = cluster.route_command(info, routing).await?;
                Ok(redis::from_redis_value(value)?)
            }
            other => info.query_async(other).await,
        }
    }
}

impl ConnectionLike for Connection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Self::Node(c) => c.req_packed_command(cmd),
            Self::Cluster(c) => c.req_packed_command(cmd),
            Self::Sentinel(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Self::Node(c) => c.req_packed_commands(pipeline, offset, count),
            Self::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
            Self::Sentinel(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::Node(c) => c.get_db(),
            Self::Cluster(c) => c.get_db(),
            Self::Sentinel(c) => c.get_db(),
        }
    }
}

/// A cluster client whose connection (a handle to one task holding a connection per node) is
/// made by the first operation, and again by a later one if that attempt failed.
pub(crate) struct LazyCluster {
    client: redis::cluster::ClusterClient,
    connection: tokio::sync::OnceCell<ClusterConnection>,
}

impl LazyCluster {
    pub(crate) fn new(client: redis::cluster::ClusterClient) -> Self {
        Self {
            client,
            connection: tokio::sync::OnceCell::new(),
        }
    }

    async fn connect(&self) -> redis::RedisResult<ClusterConnection> {
        self.connection
            .get_or_try_init(|| erased(self.client.get_async_connection()))
            .await
            .cloned()
    }
}

/// The primary a set of Sentinels names, connected once and kept until an operation on it
/// fails; the next operation asks the Sentinels again (`SENTINEL` lookup, then `ROLE` must say
/// `master`), so the stores follow a failover without a restart.
pub(crate) struct SentinelLink {
    client: tokio::sync::Mutex<SentinelClient>,
    config: redis::AsyncConnectionConfig,
    current: Mutex<Option<MultiplexedConnection>>,
}

impl SentinelLink {
    pub(crate) fn new(client: SentinelClient, config: redis::AsyncConnectionConfig) -> Self {
        Self {
            client: tokio::sync::Mutex::new(client),
            config,
            current: Mutex::new(None),
        }
    }

    fn cached(&self) -> Option<MultiplexedConnection> {
        self.current
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    async fn connect(&self) -> redis::RedisResult<MultiplexedConnection> {
        if let Some(connection) = self.cached() {
            return Ok(connection);
        }
        // One lookup at a time; whoever waited finds the connection the first one made.
        let mut client = self.client.lock().await;
        if let Some(connection) = self.cached() {
            return Ok(connection);
        }
        let connection = erased(client.get_async_connection_with_config(&self.config)).await?;
        *self.current.lock().unwrap_or_else(PoisonError::into_inner) = Some(connection.clone());
        Ok(connection)
    }

    fn forget(&self) {
        *self.current.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }
}

/// `future` boxed as a trait object. Connecting is rare, and the redis crate's connecting
/// futures are deep enough that, kept as concrete types inside the guard's future, they
/// overflow the compiler's layout and auto-trait limits in the crates that spawn it; a
/// `dyn Future` stops both.
fn erased<'a, T>(
    future: impl core::future::Future<Output = T> + Send + 'a,
) -> core::pin::Pin<Box<dyn core::future::Future<Output = T> + Send + 'a>> {
    Box::pin(future)
}
