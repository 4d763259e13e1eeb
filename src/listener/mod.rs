//! The listening sockets, gRPC and HTTP alike, and their defences against
//! hostile clients: a cap on open connections (one over it is closed at
//! once), a bound on how long a new connection may take to finish its TLS
//! handshake and send its first request head, each logged at most once per
//! [`LOG_EVERY`] and counted in metrics, and the process's file-descriptor
//! limit raised at start-up so the cap, not the kernel, is what bites.
//!
//! It owns accepting and the per-connection bookkeeping; it knows nothing
//! of HTTP/2, gRPC or TLS certificates: `server` and `admin` hand the
//! connections it lets in to tonic and hyper, `tls` does the handshakes.
//! On shutdown [`Listener::run`] returns and drops the socket, so new
//! connections are refused by the kernel at once instead of waiting in its
//! backlog for a server that will never answer them.

mod nofile;
mod preface;

use std::{
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    time::Duration,
};

use tokio::{
    net::{TcpListener, TcpStream},
    sync::watch,
    time::Instant,
};

pub use nofile::raise_open_file_limit;
pub use preface::Http2Connection;

use crate::metrics::{Dropped, Metrics};

/// Default of `[server] max_connections`, per listener: far above the 2,000
/// idle connections an attacker needs no credentials to open, and within
/// the systemd unit's `LimitNOFILE=65536` for both listeners and the
/// upstream pools.
pub const DEFAULT_MAX_CONNECTIONS: usize = 10_000;
/// Default of `[server] header_read_timeout`.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// A refused or timed-out connection is logged at most this often per
/// listener; the line says how many there were since the last one.
pub const LOG_EVERY: Duration = Duration::from_secs(10);

/// After an accept error (out of file descriptors, say), how long to wait
/// before accepting again, so the loop does not spin.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(50);

/// `[server] max_connections` and `header_read_timeout`, the same for both
/// listeners.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListenerLimits {
    /// Connections open at once on one listener; more are closed as soon
    /// as they are accepted.
    pub max_connections: usize,
    /// How long a new connection has for its TLS handshake and its first
    /// request head (HTTP/1) or HTTP/2 preface and SETTINGS (gRPC); on the
    /// HTTP listener also for each later request head of a kept-alive
    /// connection.
    pub header_read_timeout: Duration,
}

impl Default for ListenerLimits {
    fn default() -> Self {
        Self {
            max_connections: DEFAULT_MAX_CONNECTIONS,
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
        }
    }
}

/// Which listener, as metrics and logs name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ListenerName {
    Grpc,
    Http,
}

impl ListenerName {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Grpc => "grpc",
            Self::Http => "http",
        }
    }
}

/// A bound socket with its limits, ready to [`run`](Listener::run).
#[derive(Debug)]
pub struct Listener {
    socket: TcpListener,
    books: Arc<Books>,
}

/// A connection let in under the cap. It counts as open until the last of
/// it (the stream, or the [`OpenSlot`] taken from it) is dropped.
#[derive(Debug)]
pub struct Admitted {
    pub stream: TcpStream,
    /// When its TLS handshake and first request head must be done by.
    pub deadline: Instant,
    pub slot: OpenSlot,
}

impl Listener {
    pub fn new(
        socket: TcpListener,
        name: ListenerName,
        limits: ListenerLimits,
        metrics: Arc<Metrics>,
    ) -> Self {
        metrics.listener_started(name.as_str());
        Self {
            socket,
            books: Arc::new(Books {
                name,
                limits,
                open: AtomicUsize::new(0),
                metrics,
                refused: Throttled::default(),
                timed_out: Throttled::default(),
                handshake_failed: Throttled::default(),
            }),
        }
    }

    pub fn limits(&self) -> ListenerLimits {
        self.books.limits
    }

    /// Accepts connections and gives each one under the cap to `admit`,
    /// until `stop` turns true (or its sender is gone); then the socket is
    /// closed.
    pub async fn run(self, mut stop: watch::Receiver<bool>, mut admit: impl FnMut(Admitted)) {
        let Self { socket, books } = self;
        loop {
            let accepted = tokio::select! {
                biased;
                _ = stop.wait_for(|stopping| *stopping) => break,
                accepted = socket.accept() => accepted,
            };
            let stream = match accepted {
                Ok((stream, _peer)) => stream,
                Err(err) => {
                    // Out of file descriptors, or a connection reset before
                    // it was accepted: the next accept may well work.
                    tracing::warn!(listener = books.name.as_str(), error = %err, "cannot accept a connection");
                    tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                    continue;
                }
            };
            match books.take_slot() {
                Some(slot) => {
                    // Without TCP_NODELAY, Nagle holds back small HTTP/2
                    // frames (trailers, stream messages) for ~40 ms.
                    let _ = stream.set_nodelay(true);
                    admit(Admitted {
                        stream,
                        deadline: Instant::now() + books.limits.header_read_timeout,
                        slot,
                    });
                }
                // Dropped: closed at once, before anything is read from it.
                None => books.record_refused(),
            }
        }
        tracing::debug!(
            listener = books.name.as_str(),
            "stopped accepting connections"
        );
    }
}

/// One listener's open connections and what it logged.
#[derive(Debug)]
struct Books {
    name: ListenerName,
    limits: ListenerLimits,
    open: AtomicUsize,
    metrics: Arc<Metrics>,
    refused: Throttled,
    timed_out: Throttled,
    handshake_failed: Throttled,
}

impl Books {
    fn take_slot(self: &Arc<Self>) -> Option<OpenSlot> {
        let taken = self
            .open
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |open| {
                (open < self.limits.max_connections).then_some(open + 1)
            });
        taken.ok()?;
        self.metrics.add_open_connections(self.name.as_str(), 1);
        Some(OpenSlot {
            books: self.clone(),
        })
    }

    /// Counts a connection closed for `why` and, when a line is due, logs
    /// it with `log` (given how many were closed so since the last line).
    fn record_dropped(&self, why: Dropped, log: impl FnOnce(u64)) {
        self.metrics.record_dropped(self.name.as_str(), why);
        let throttle = match why {
            Dropped::Refused => &self.refused,
            Dropped::TimedOut => &self.timed_out,
            Dropped::HandshakeFailed => &self.handshake_failed,
        };
        if let Some(count) = throttle.due() {
            log(count);
        }
    }

    fn record_refused(&self) {
        self.record_dropped(Dropped::Refused, |refused| {
            tracing::warn!(
                listener = self.name.as_str(),
                max_connections = self.limits.max_connections,
                refused,
                "connections refused: the listener has max_connections open"
            );
        });
    }

    fn record_handshake_failed(&self, error: &dyn std::fmt::Display) {
        self.record_dropped(Dropped::HandshakeFailed, |failed| {
            tracing::warn!(
                listener = self.name.as_str(),
                failed,
                last_error = %error,
                "TLS handshakes failed: plaintext clients, untrusted or missing client certificates"
            );
        });
    }

    fn record_timed_out(&self) {
        self.record_dropped(Dropped::TimedOut, |closed| {
            tracing::warn!(
                listener = self.name.as_str(),
                header_read_timeout_ms = self.limits.header_read_timeout.as_millis(),
                closed,
                "connections closed: no TLS handshake or request head within header_read_timeout"
            );
        });
    }
}

/// A connection's place under the cap, given back when dropped.
#[derive(Debug)]
pub struct OpenSlot {
    books: Arc<Books>,
}

impl OpenSlot {
    /// Counts (and maybe logs) the connection as closed for being too slow
    /// to start.
    pub fn record_timed_out(&self) {
        self.books.record_timed_out();
    }

    /// Counts (and maybe logs) a TLS handshake that failed: rustls' words
    /// (a plaintext client, no client certificate on an mTLS listener, one
    /// `client_ca` did not sign).
    pub fn record_handshake_failed(&self, error: &dyn std::fmt::Display) {
        self.books.record_handshake_failed(error);
    }

    /// Which listener it is on.
    pub fn listener(&self) -> ListenerName {
        self.books.name
    }
}

impl Drop for OpenSlot {
    fn drop(&mut self) {
        self.books.open.fetch_sub(1, Ordering::AcqRel);
        self.books
            .metrics
            .add_open_connections(self.books.name.as_str(), -1);
    }
}

/// Says when a log line is due: the first event, then at most one line per
/// [`LOG_EVERY`], each with the number of events since the last line.
#[derive(Debug, Default)]
struct Throttled {
    last_line: Mutex<Option<Instant>>,
    unlogged: AtomicU64,
}

impl Throttled {
    /// `Some(events since the last line, this one included)` when a line is due.
    fn due(&self) -> Option<u64> {
        self.unlogged.fetch_add(1, Ordering::AcqRel);
        let mut last_line = self
            .last_line
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        if last_line.is_some_and(|at| now.duration_since(at) < LOG_EVERY) {
            return None;
        }
        *last_line = Some(now);
        Some(self.unlogged.swap(0, Ordering::AcqRel))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_logged_once_with_its_count() {
        let throttled = Throttled::default();
        assert_eq!(throttled.due(), Some(1), "the first event is logged");
        for _ in 0..99 {
            assert_eq!(throttled.due(), None);
        }
        // As if LOG_EVERY had passed.
        *throttled.last_line.lock().expect("lock") = Some(Instant::now() - LOG_EVERY);
        assert_eq!(throttled.due(), Some(100), "99 held back and this one");
        assert_eq!(throttled.due(), None);
    }

    #[tokio::test]
    async fn the_cap_closes_connections_over_it_and_counts_them() {
        let metrics = Metrics::shared();
        let socket = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = socket.local_addr().expect("addr");
        let limits = ListenerLimits {
            max_connections: 2,
            ..ListenerLimits::default()
        };
        let listener = Listener::new(socket, ListenerName::Http, limits, metrics.clone());
        let (stop, stopped) = watch::channel(false);
        let (kept, mut admitted) = tokio::sync::mpsc::unbounded_channel();
        let running = tokio::spawn(listener.run(stopped, move |connection| {
            let _ = kept.send(connection);
        }));
        let mut clients = Vec::new();
        for _ in 0..3 {
            clients.push(TcpStream::connect(addr).await.expect("connect"));
        }
        let first = admitted.recv().await.expect("first admitted");
        let _second = admitted.recv().await.expect("second admitted");
        // The third was closed by the listener: the client reads EOF.
        let mut byte = [0u8; 1];
        let read = tokio::time::timeout(Duration::from_secs(5), async {
            use tokio::io::AsyncReadExt;
            clients[2].read(&mut byte).await
        })
        .await
        .expect("closed promptly");
        assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
        let text = metrics.encode();
        assert!(
            text.contains(r#"qlink_facade_connections_refused_total{listener="http"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"qlink_facade_connections_open{listener="http"} 2"#),
            "{text}"
        );
        drop(first);
        let text = metrics.encode();
        assert!(
            text.contains(r#"qlink_facade_connections_open{listener="http"} 1"#),
            "{text}"
        );
        stop.send_replace(true);
        running.await.expect("stops");
        assert!(
            TcpStream::connect(addr).await.is_err(),
            "the socket is closed once stopped"
        );
    }
}
