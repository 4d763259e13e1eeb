//! Durable state behind one [`Store`] trait, one implementation per engine:
//! SQLite (`sqlite`, embedded, the default) and PostgreSQL (`postgres`,
//! shared by replicas). What it keeps: the warehouses' push events, the
//! outcomes of writes (CreateOrder, CreateAsn) keyed by their numbers, and
//! each process's heartbeat. The schema is in `migrations/<engine>/`, embedded in
//! the binary and applied when a store opens.
//!
//! Writes go through a group commit ([`commit`]): many callers' writes share
//! one transaction and one sync to disk. Reads go straight to the pool.
//! Nothing here knows HTTP, gRPC or either protocol's JSON.

pub(crate) mod commit;
mod location;
mod postgres;
mod sql;
mod sqlite;

use std::{
    collections::HashMap,
    fmt,
    sync::{Arc, Mutex},
    time::{Duration, SystemTime},
};

use async_trait::async_trait;
use tokio::sync::watch;

pub use location::{StoreConfig, StoreLocation, redacted};

/// Which of a tenant's two event streams an event belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// `pushOrderInfo`: outbound order status.
    Order,
    /// `pushAsnInfo`: inbound receiving.
    Asn,
}

impl EventKind {
    /// The value of the `kind` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Order => "order",
            Self::Asn => "asn",
        }
    }
}

/// A push to keep, once its signature and content have been checked.
#[derive(Debug, Clone)]
pub struct NewPush {
    pub tenant: Arc<str>,
    pub kind: EventKind,
    /// `orderNumber` or `asnNumber`.
    pub number: String,
    /// An ASN push's `batchNo`, empty when it has none. A batch is kept once.
    pub batch_no: String,
    /// Of the event as read: a push (without batch) equal to the latest one
    /// kept for its number is a repeat.
    pub fingerprint: [u8; 32],
    /// Of the same event, in the form stores kept before
    /// ([`crate::domain::fingerprint::earlier_fingerprint`]): a latest one
    /// kept then is matched by it.
    pub earlier_fingerprint: [u8; 32],
    /// The content as pushed.
    pub content: String,
}

impl NewPush {
    /// An ASN batch, kept once whenever it comes again; other pushes repeat
    /// only the latest one kept for their number.
    pub fn is_batch(&self) -> bool {
        self.kind == EventKind::Asn && !self.batch_no.is_empty()
    }
}

/// The most content one page of [`Store::events_after`] carries past its
/// first event: a watcher's memory does not grow with the events' size.
pub const PAGE_BYTES: i64 = 1024 * 1024;

/// What became of a push.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Appended {
    /// Kept, with this event id.
    Kept(u64),
    /// A repeat of what is kept already.
    Duplicate,
}

/// One kept event, as replayed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    pub id: u64,
    pub received_at_ms: i64,
    /// The content as pushed.
    pub content: String,
}

/// What retention has left of one of a tenant's streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Kept {
    /// The oldest event still kept.
    pub oldest: Option<u64>,
    /// The newest event retention removed (0: none): a watcher resuming
    /// before it has missed events.
    pub pruned_through: u64,
}

/// Which write a [`WriteKey`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WriteKind {
    /// `CreateOrder`, keyed by `order_number`.
    Order,
    /// `CreateAsn`, keyed by `asn_number`.
    Asn,
}

impl WriteKind {
    /// The value of the `kind` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Order => "order",
            Self::Asn => "asn",
        }
    }
}

/// A write's key: its tenant and its own number.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WriteKey {
    pub tenant: Arc<str>,
    pub kind: WriteKind,
    pub number: String,
}

/// Asks to hold a write's key while it is sent.
#[derive(Debug, Clone)]
pub struct NewClaim {
    pub key: WriteKey,
    pub fingerprint: [u8; 32],
    pub warehouse_code: String,
    /// Who holds it: a process, and a part of its own per claim.
    pub owner: String,
    /// How long the claim holds unless renewed.
    pub lease: Duration,
}

/// One send of a write: its request's fingerprint and the warehouse it
/// went to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub fingerprint: [u8; 32],
    pub warehouse_code: String,
}

/// What a claim found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// Nothing held the key (or only a refusal, or an expired success):
    /// it is ours to send.
    Owned,
    /// An attempt whose outcome is unknown (it may have reached the
    /// warehouse) held it: ours now, but the warehouse must be asked about
    /// that attempt, as recorded, first.
    Reconcile(Attempt),
    /// Settled: the warehouse took it, with this fingerprint and answer,
    /// replayed until `expires_at_ms`.
    Succeeded {
        fingerprint: [u8; 32],
        answer: String,
        expires_at_ms: i64,
    },
    /// Another call holds it now, with this fingerprint.
    InFlight { fingerprint: [u8; 32] },
}

/// How a claim ends. Only its owner can settle it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settle {
    /// Still ours, now sending this attempt (after a reconciliation found
    /// nothing): what a crash from here on leaves unknown.
    Sending(Attempt),
    /// The warehouse took it: replayed until `expires_at_ms`.
    Succeeded {
        fingerprint: [u8; 32],
        answer: String,
        expires_at_ms: i64,
    },
    /// The warehouse refused it: holds nothing, but a call that waited for
    /// this one reads the refusal until `expires_at_ms`.
    Rejected {
        fingerprint: [u8; 32],
        answer: String,
        expires_at_ms: i64,
    },
    /// It provably never reached the warehouse: the key is free again.
    Released,
    /// It may have reached the warehouse: the next attempt asks first.
    Unknown { fingerprint: [u8; 32] },
}

/// A write's row, as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteRecord {
    pub key: WriteKey,
    pub state: WriteState,
    pub fingerprint: [u8; 32],
    pub warehouse_code: String,
    pub answer: String,
    pub lease_until_ms: i64,
    pub updated_at_ms: i64,
    /// Until when a settled write is replayed (0 while it is not settled).
    pub expires_at_ms: i64,
}

impl WriteRecord {
    /// The attempt the row records.
    pub fn attempt(&self) -> Attempt {
        Attempt {
            fingerprint: self.fingerprint,
            warehouse_code: self.warehouse_code.clone(),
        }
    }
}

/// Where a write stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteState {
    InFlight,
    Succeeded,
    Rejected,
    Unknown,
}

impl WriteState {
    pub(crate) fn from_column(text: &str) -> Result<Self, StoreError> {
        Ok(match text {
            "in_flight" => Self::InFlight,
            "succeeded" => Self::Succeeded,
            "rejected" => Self::Rejected,
            "unknown" => Self::Unknown,
            other => return Err(StoreError::Corrupt(format!("write state {other:?}"))),
        })
    }
}

/// The store failed; the caller's operation did not take effect (or, for a
/// commit whose answer was lost, may have).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be opened at start-up.
    #[error("cannot open the store {location}: {source}")]
    Open {
        /// The location with any password redacted.
        location: String,
        source: sqlx::Error,
    },
    #[error("cannot apply the store's migrations to {location}: {source}")]
    Migrate {
        location: String,
        source: sqlx::migrate::MigrateError,
    },
    #[error("the store failed: {0}")]
    Database(#[from] sqlx::Error),
    /// A batch of writes could not be committed; none of it took effect.
    #[error("the store could not commit: {0}")]
    Commit(Arc<sqlx::Error>),
    #[error("the store did not answer within {} ms", .0.as_millis())]
    TimedOut(Duration),
    /// The store's writer has stopped (the process is shutting down).
    #[error("the store is closed")]
    Closed,
    #[error("the store holds a value out of range: {0}")]
    Corrupt(String),
}

/// The facade's durable state. One per process, shared by every tenant.
#[async_trait]
pub trait Store: Send + Sync + fmt::Debug + 'static {
    /// The engine and location, password redacted, for logs.
    fn describe(&self) -> &str;

    /// Keeps a push unless it repeats a kept one; answers once the event is
    /// committed. Two processes keeping the same push keep it once.
    async fn append_push(&self, push: NewPush) -> Result<Appended, StoreError>;

    /// Up to `limit` kept events of `kind` with an id above `after`, oldest
    /// first, and no more than [`PAGE_BYTES`] of content past the first.
    async fn events_after(
        &self,
        tenant: &str,
        kind: EventKind,
        after: u64,
        limit: u32,
    ) -> Result<Vec<StoredEvent>, StoreError>;

    /// What retention has left of a stream.
    async fn kept(&self, tenant: &str, kind: EventKind) -> Result<Kept, StoreError>;

    /// Removes events received before `before_ms`; returns how many.
    async fn prune_events(&self, before_ms: i64) -> Result<u64, StoreError>;

    /// Commits this process's heartbeat: the store is reachable and takes writes.
    async fn heartbeat(&self) -> Result<(), StoreError>;

    /// Claims a write's key, or says who holds it and how it stands. Two
    /// processes claiming one key at once: one owns it, the other sees it
    /// in flight.
    async fn claim_write(&self, claim: NewClaim) -> Result<Claim, StoreError>;

    /// Ends (or updates) `owner`'s claim; `false` when it is no longer
    /// theirs (the lease ran out and another took it over).
    async fn settle_write(
        &self,
        key: &WriteKey,
        owner: &str,
        settle: Settle,
    ) -> Result<bool, StoreError>;

    /// Extends `owner`'s claim to `lease_until_ms`; `false` when it is no
    /// longer theirs.
    async fn renew_write(
        &self,
        key: &WriteKey,
        owner: &str,
        lease_until_ms: i64,
    ) -> Result<bool, StoreError>;

    /// Takes over a write whose outcome is unknown, or whose claim's lease
    /// ran out, for `owner` until `lease_until_ms`; `None` when it is
    /// neither (any more).
    async fn take_over_write(
        &self,
        key: &WriteKey,
        owner: &str,
        lease_until_ms: i64,
    ) -> Result<Option<WriteRecord>, StoreError>;

    /// A write's row.
    async fn write_record(&self, key: &WriteKey) -> Result<Option<WriteRecord>, StoreError>;

    /// Up to `limit` writes nobody is settling: unknown since before
    /// `unknown_before_ms`, or claimed with a lease that ran out by `now_ms`.
    async fn abandoned_writes(
        &self,
        now_ms: i64,
        unknown_before_ms: i64,
        limit: u32,
    ) -> Result<Vec<WriteRecord>, StoreError>;

    /// Removes settled writes (succeeded or rejected) whose window ended
    /// by `now_ms`; returns how many.
    async fn prune_writes(&self, now_ms: i64) -> Result<u64, StoreError>;

    /// Wakes when a tenant may have new events: kept here, or (PostgreSQL)
    /// by another process. Only a wake-up: the table is the truth, and a
    /// watcher re-reads after its last id.
    fn changes(&self, tenant: &str) -> watch::Receiver<()>;
}

/// Opens the store `config` names, creating and migrating it as needed.
pub async fn open(config: &StoreConfig, replica: &str) -> Result<Arc<dyn Store>, StoreError> {
    match &config.location {
        StoreLocation::Sqlite(path) => Ok(Arc::new(
            sqlite::SqliteStore::open(path, replica, None).await?,
        )),
        StoreLocation::Temporary => {
            let file = location::TemporaryFile::new();
            let path = file.path().to_owned();
            Ok(Arc::new(
                sqlite::SqliteStore::open(&path, replica, Some(file)).await?,
            ))
        }
        StoreLocation::Postgres(url) => Ok(Arc::new(
            postgres::PostgresStore::open(url, config, replica).await?,
        )),
    }
}

/// A name for this process in the store (heartbeats; lease owners): host,
/// process id and a random part, so a restarted process is a new replica.
pub fn replica_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "localhost".to_owned());
    format!("{host}-{}-{:08x}", std::process::id(), fastrand::u32(..))
}

/// Milliseconds since the Unix epoch, as the store keeps times.
pub fn millis(at: SystemTime) -> i64 {
    at.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |since| {
            i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
        })
}

/// The first event id of a tenant that has none yet: the clock in
/// microseconds. A store made afresh (demo mode's temporary one, or a lost
/// database) so hands out ids above any a watcher may resume from.
pub(crate) fn first_event_id(now: SystemTime) -> i64 {
    now.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(1, |since| {
            i64::try_from(since.as_micros()).unwrap_or(i64::MAX / 2)
        })
        .max(1)
}

/// A write's row as the queries read it: tenant, kind, number, state,
/// fingerprint, warehouse code, answer, lease, last update and expiry.
pub(crate) type RecordRow = (
    String,
    String,
    String,
    String,
    Vec<u8>,
    String,
    String,
    i64,
    i64,
    i64,
);

pub(crate) fn record_of(row: RecordRow) -> Result<WriteRecord, StoreError> {
    let (
        tenant,
        kind,
        number,
        state,
        fingerprint,
        warehouse_code,
        answer,
        lease_until_ms,
        updated_at_ms,
        expires_at_ms,
    ) = row;
    let kind = match kind.as_str() {
        "order" => WriteKind::Order,
        "asn" => WriteKind::Asn,
        other => return Err(StoreError::Corrupt(format!("write kind {other:?}"))),
    };
    Ok(WriteRecord {
        key: WriteKey {
            tenant: Arc::from(tenant),
            kind,
            number,
        },
        state: WriteState::from_column(&state)?,
        fingerprint: fingerprint_of(fingerprint)?,
        warehouse_code,
        answer,
        lease_until_ms,
        updated_at_ms,
        expires_at_ms,
    })
}

/// A fingerprint read from the database.
pub(crate) fn fingerprint_of(bytes: Vec<u8>) -> Result<[u8; 32], StoreError> {
    <[u8; 32]>::try_from(bytes.as_slice())
        .map_err(|_| StoreError::Corrupt(format!("a fingerprint of {} bytes", bytes.len())))
}

/// An id read from the database, which holds them as signed integers.
pub(crate) fn event_id(raw: i64) -> Result<u64, StoreError> {
    u64::try_from(raw).map_err(|_| StoreError::Corrupt(format!("event id {raw}")))
}

/// An id as the database holds it; ids above `i64::MAX` are never handed out.
pub(crate) fn raw_event_id(id: u64) -> i64 {
    i64::try_from(id).unwrap_or(i64::MAX)
}

/// One wake-up channel per tenant, for [`Store::changes`].
#[derive(Debug, Default)]
pub(crate) struct Wakers {
    by_tenant: Mutex<HashMap<String, watch::Sender<()>>>,
}

impl Wakers {
    pub(crate) fn subscribe(&self, tenant: &str) -> watch::Receiver<()> {
        let mut by_tenant = self
            .by_tenant
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        by_tenant
            .entry(tenant.to_owned())
            .or_insert_with(|| watch::Sender::new(()))
            .subscribe()
    }

    fn wake(&self, tenant: &str) {
        let by_tenant = self
            .by_tenant
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(sender) = by_tenant.get(tenant) {
            sender.send_replace(());
        }
    }

    /// After a notification may have been lost (PostgreSQL reconnected).
    fn wake_all(&self) {
        let by_tenant = self
            .by_tenant
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for sender in by_tenant.values() {
            sender.send_replace(());
        }
    }
}
