//! `[store]`: where the store lives and how long it keeps things. A
//! PostgreSQL URL is held as a secret (it may carry a password) and shown
//! only with the password redacted.

use std::{
    fmt,
    path::{Path, PathBuf},
    time::Duration,
};

use secrecy::{ExposeSecret, SecretString};

/// How long push events are kept by default.
pub const DEFAULT_PUSH_RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);
/// How long a write's success is replayed by default.
pub const DEFAULT_WRITE_WINDOW: Duration = Duration::from_secs(24 * 3600);
/// How long an unknown write outcome is left to the caller's retry by
/// default before the background task asks the warehouse.
pub const DEFAULT_RECONCILE_AFTER: Duration = Duration::from_secs(30);
/// Connections a process opens to PostgreSQL by default.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 8;

/// The validated `[store]` section.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    pub location: StoreLocation,
    /// Push events older than this are pruned.
    pub push_retention: Duration,
    /// How long a repeated CreateOrder / CreateAsn is answered from the store.
    pub write_window: Duration,
    /// How long an unknown write outcome waits for the caller's retry before
    /// the background task asks the warehouse about it.
    pub reconcile_after: Duration,
    /// The PostgreSQL pool's size (SQLite has one writer and a few readers).
    pub max_connections: u32,
}

impl Default for StoreConfig {
    /// The default file in the working directory.
    fn default() -> Self {
        Self::at(StoreLocation::Sqlite(PathBuf::from("qlink-facade.db")))
    }
}

impl StoreConfig {
    /// Default settings for a store at `location`.
    pub fn at(location: StoreLocation) -> Self {
        Self {
            location,
            push_retention: DEFAULT_PUSH_RETENTION,
            write_window: DEFAULT_WRITE_WINDOW,
            reconcile_after: DEFAULT_RECONCILE_AFTER,
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }

    /// A fresh SQLite file in the temporary directory, removed when the
    /// store closes: demo mode and tests.
    pub fn temporary() -> Self {
        Self::at(StoreLocation::Temporary)
    }
}

/// Where the store lives.
#[derive(Clone)]
pub enum StoreLocation {
    /// A SQLite file, created if missing; relative to the working directory.
    Sqlite(PathBuf),
    /// A fresh SQLite file in the temporary directory, removed on close.
    Temporary,
    /// A PostgreSQL database URL, shared by replicas.
    Postgres(SecretString),
}

impl StoreLocation {
    /// Reads a `[store] url`: `sqlite://PATH` (or `sqlite:PATH`) or
    /// `postgres://…` (`postgresql://…`).
    pub fn parse(url: &str) -> Result<Self, String> {
        let url = url.trim();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self::Postgres(SecretString::from(url.to_owned())));
        }
        if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            if path.is_empty() || path.contains('?') || path.starts_with(':') {
                return Err(format!(
                    "{url:?} does not name a database file: use sqlite://PATH (a relative path is relative to the working directory)"
                ));
            }
            return Ok(Self::Sqlite(PathBuf::from(path)));
        }
        Err(format!(
            "{:?} is not a store URL: use sqlite://PATH or postgres://USER:PASSWORD@HOST/DB",
            redacted(url)
        ))
    }
}

impl fmt::Debug for StoreLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(path) => f.debug_tuple("Sqlite").field(path).finish(),
            Self::Temporary => f.write_str("Temporary"),
            Self::Postgres(url) => f
                .debug_tuple("Postgres")
                .field(&redacted(url.expose_secret()))
                .finish(),
        }
    }
}

/// `url` with its password, if any, replaced by `***`.
pub fn redacted(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                // Only fails for URLs that cannot have a password at all.
                let _ = parsed.set_password(Some("***"));
            }
            parsed.to_string()
        }
        // Not a URL we can take apart: show only what surely holds no secret.
        Err(_) => match url.split_once("://") {
            Some((scheme, _)) => format!("{scheme}://…"),
            None => "(unreadable URL)".to_owned(),
        },
    }
}

/// A SQLite file under the temporary directory that is removed, with its
/// write-ahead log, when dropped.
#[derive(Debug)]
pub struct TemporaryFile {
    path: PathBuf,
}

impl TemporaryFile {
    pub fn new() -> Self {
        Self {
            path: std::env::temp_dir().join(format!(
                "qlink-facade-{}-{:016x}.db",
                std::process::id(),
                fastrand::u64(..)
            )),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TemporaryFile {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut name = self.path.clone().into_os_string();
            name.push(suffix);
            let _ = std::fs::remove_file(name);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_their_engine() {
        assert!(matches!(
            StoreLocation::parse("sqlite://qlink-facade.db"),
            Ok(StoreLocation::Sqlite(path)) if path == Path::new("qlink-facade.db")
        ));
        assert!(matches!(
            StoreLocation::parse("sqlite:///var/lib/q/q.db"),
            Ok(StoreLocation::Sqlite(path)) if path == Path::new("/var/lib/q/q.db")
        ));
        assert!(matches!(
            StoreLocation::parse("postgres://facade:pw@db:5432/qlink"),
            Ok(StoreLocation::Postgres(_))
        ));
        for bad in [
            "sqlite://",
            "sqlite::memory:",
            "sqlite://a.db?mode=ro",
            "mysql://x/y",
        ] {
            assert!(StoreLocation::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords_are_redacted_wherever_a_location_prints() {
        let url = "postgres://facade:hunter2@db:5432/qlink";
        assert_eq!(redacted(url), "postgres://facade:***@db:5432/qlink");
        let location = StoreLocation::parse(url).expect("url");
        assert!(!format!("{location:?}").contains("hunter2"));
        let err = StoreLocation::parse("mysql://root:hunter2@db/x").expect_err("not ours");
        assert!(!err.contains("hunter2"), "{err}");
        assert!(err.contains("root:***@db"), "{err}");
    }
}
