//! Stores for the tests: a fresh SQLite file, or a fresh PostgreSQL
//! database on the server `QLINK_TEST_POSTGRES_URL` names
//! (`scripts/test-services start` runs one). Without that variable the
//! PostgreSQL tests say so on stderr and pass without running.

use qlink_facade::store::{StoreConfig, StoreLocation};
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
