//! Stores for the tests: a fresh SQLite file, or a fresh PostgreSQL
//! database on the server `QLINK_TEST_POSTGRES_URL` names
//! (`scripts/test-services start` runs one). Without that variable the
//! PostgreSQL tests say so on stderr and pass without running.

use qlink_facade::store::{StoreConfig, StoreLocation};

use super::push::ScratchDb;
use secrecy::SecretString;
use std::io::Write as _;

use sqlx::Connection;

/// The variable naming a PostgreSQL server the tests may create databases on.
pub const POSTGRES_URL_VAR: &str = "QLINK_TEST_POSTGRES_URL";

/// A fresh, empty PostgreSQL database, or `None` (said on stderr) when no
/// server is configured for the tests.
pub async fn fresh_postgres(test: &str) -> Option<String> {
    let Ok(admin_url) = std::env::var(POSTGRES_URL_VAR) else {
        // Past the test harness's capture, so it shows on a passing run too.
        let _ = writeln!(
            std::io::stderr(),
            "{test}: PostgreSQL part skipped: {POSTGRES_URL_VAR} is not set (scripts/test-services start runs a server)"
        );
        return None;
    };
    let name = format!("qlink_test_{:016x}", fastrand::u64(..));
    let mut admin = sqlx::PgConnection::connect(&admin_url)
        .await
        .expect("connect to the test PostgreSQL server");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .expect("create a test database");
    let mut url = reqwest::Url::parse(&admin_url).expect("a URL");
    url.set_path(&name);
    Some(url.to_string())
}

/// A store config for a PostgreSQL database URL.
pub fn postgres_store(url: &str) -> StoreConfig {
    StoreConfig::at(StoreLocation::Postgres(SecretString::from(url.to_owned())))
}

/// A fresh store of each engine the machine has: a SQLite file (with the
/// guard that removes it) and, when configured, a PostgreSQL database.
pub async fn engines(test: &str) -> Vec<(StoreConfig, Option<ScratchDb>)> {
    let db = ScratchDb::new(test);
    let mut engines = vec![(db.store(), Some(db))];
    if let Some(url) = fresh_postgres(test).await {
        engines.push((postgres_store(&url), None));
    }
    engines
}

/// A TCP proxy to a PostgreSQL server that a test can cut (every
/// connection closed, new ones closed at once) and restore: the database
/// going away and coming back, as the facade sees it.
pub struct TcpProxy {
    /// `url` with the proxy's address in place of the server's.
    pub url: String,
    cut: std::sync::Arc<std::sync::atomic::AtomicBool>,
    connections: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::AbortHandle>>>,
    _accepting: tokio::task::JoinHandle<()>,
}

impl TcpProxy {
    pub async fn start(url: &str) -> Self {
        use std::sync::{Arc, Mutex, atomic::AtomicBool};
        let mut parsed = reqwest::Url::parse(url).expect("a URL");
        let target = format!(
            "{}:{}",
            parsed.host_str().expect("a host"),
            parsed.port().unwrap_or(5432)
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the proxy");
        let port = listener.local_addr().expect("addr").port();
        parsed.set_port(Some(port)).expect("a port");
        let cut = Arc::new(AtomicBool::new(false));
        let connections = Arc::new(Mutex::new(Vec::new()));
        let accepting = {
            let (cut, connections) = (cut.clone(), connections.clone());
            tokio::spawn(async move {
                while let Ok((mut inbound, _)) = listener.accept().await {
                    if cut.load(std::sync::atomic::Ordering::SeqCst) {
                        continue; // dropped: closed at once
                    }
                    let target = target.clone();
                    let task = tokio::spawn(async move {
                        if let Ok(mut outbound) = tokio::net::TcpStream::connect(&target).await {
                            let _ =
                                tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                        }
                    });
                    connections.lock().expect("lock").push(task.abort_handle());
                }
            })
        };
        Self {
            url: parsed.to_string(),
            cut,
            connections,
            _accepting: accepting,
        }
    }

    /// Closes every connection, and each new one as it comes.
    pub fn cut(&self) {
        self.cut.store(true, std::sync::atomic::Ordering::SeqCst);
        for connection in self.connections.lock().expect("lock").drain(..) {
            connection.abort();
        }
    }

    /// Lets connections through again.
    pub fn restore(&self) {
        self.cut.store(false, std::sync::atomic::Ordering::SeqCst);
    }
}
