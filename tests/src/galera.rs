//! A Galera cluster for the tests that need one, from `TEST_GALERA_URLS`: the admin URLs of its
//! nodes, comma-separated, as `tests/galera.sh urls` prints them (`.ci/run` starts a cluster of
//! three with `tests/galera.sh start` and sets the variable).
//!
//! A [`GaleraDb`] is one uniquely named database, created through the first node (its
//! `CREATE DATABASE` replicates to the others before it runs) and dropped when it is dropped,
//! with its URL on every node. Unset, the tests that need it print a skip, unless
//! `REQUIRE_ALL_BACKENDS=1`, which makes that a failure.

use std::ops::Deref;
use std::time::{Duration, Instant};

use sea_orm::{ConnectOptions, ConnectionTrait, Database, DbBackend, Statement, Value};

use crate::backend::{Backend, CONNECT_TIMEOUT, REQUIRE_ALL_BACKENDS, notice, redact};
use crate::database::{TestDb, database_url};

/// The variable naming the cluster's nodes.
pub const GALERA_URLS: &str = "TEST_GALERA_URLS";

/// The admin URLs of the cluster's nodes; `None`, after printing a skip, when
/// [`GALERA_URLS`] is unset or empty.
///
/// # Panics
///
/// When it is unset but `REQUIRE_ALL_BACKENDS=1`, or names fewer than two nodes.
pub fn galera_urls() -> Option<Vec<String>> {
    let urls: Vec<String> = std::env::var(GALERA_URLS)
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(str::to_owned)
        .collect();
    if urls.is_empty() {
        if std::env::var(REQUIRE_ALL_BACKENDS).is_ok_and(|v| v.trim() == "1") {
            panic!(
                "{GALERA_URLS} is not set but {REQUIRE_ALL_BACKENDS}=1; start a cluster with tests/galera.sh start"
            );
        }
        notice(&format!(
            "skipped: galera (set {GALERA_URLS}; tests/galera.sh start makes a cluster)"
        ));
        return None;
    }
    assert!(
        urls.len() >= 2,
        "{GALERA_URLS} names {} node(s); a cluster has at least two",
        urls.len()
    );
    Some(urls)
}

/// Waits until the node `admin_url` names has database `name`: the first node runs a
/// `CREATE DATABASE` once the cluster has ordered it, the others a moment later.
///
/// # Panics
///
/// When the node cannot be reached, or has not created it within ten seconds.
async fn wait_for_database(admin_url: &str, name: &str) {
    let mut options = ConnectOptions::new(admin_url.to_owned());
    options
        .max_connections(1)
        .connect_timeout(CONNECT_TIMEOUT)
        .sqlx_logging(false);
    let admin = Database::connect(options)
        .await
        .unwrap_or_else(|e| panic!("cannot reach the Galera node {}: {e}", redact(admin_url)));
    // Reads wait for the node to apply what the cluster committed before them.
    admin
        .execute_unprepared("SET SESSION wsrep_sync_wait = 1")
        .await
        .unwrap_or_else(|e| panic!("{} is not a Galera node: {e}", redact(admin_url)));
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let found = admin
            .query_one_raw(Statement::from_sql_and_values(
                DbBackend::MySql,
                "SELECT 1 FROM information_schema.schemata WHERE schema_name = ?",
                [Value::from(name)],
            ))
            .await
            .unwrap_or_else(|e| panic!("cannot list databases on {}: {e}", redact(admin_url)));
        if found.is_some() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{} has no database {name} ten seconds after it was created",
            redact(admin_url)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = admin.close().await;
}

/// A database created for one test on the Galera cluster, with its URL on each node; dropped
/// (through the first node) when dropped.
pub struct GaleraDb {
    db: TestDb,
    /// The database's URL on each node, in the order of [`GALERA_URLS`].
    pub urls: Vec<String>,
}

impl GaleraDb {
    /// Creates a fresh, empty database on the cluster; `None` when there is no cluster (see
    /// [`galera_urls`]).
    ///
    /// # Panics
    ///
    /// When a node cannot be reached or the database cannot be created.
    pub async fn create() -> Option<GaleraDb> {
        let nodes = galera_urls()?;
        let db = TestDb::create_at(Backend::MariaDb, nodes[0].clone()).await;
        let name = db
            .database_name()
            .expect("a server database has a name")
            .to_owned();
        for node in &nodes {
            wait_for_database(node, &name).await;
        }
        let urls = nodes.iter().map(|node| database_url(node, &name)).collect();
        Some(GaleraDb { db, urls })
    }

    /// The database's URL on node `node` (counting from 0).
    pub fn url(&self, node: usize) -> &str {
        &self.urls[node % self.urls.len()]
    }
}

/// The database as seen through the first node.
impl Deref for GaleraDb {
    type Target = TestDb;

    fn deref(&self) -> &TestDb {
        &self.db
    }
}
