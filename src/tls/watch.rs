//! When the `[server.tls]` files are read again: on SIGHUP, and when a file
//! in their directories changes. Directories, not files, are watched, as
//! `reload` does for the config: a Kubernetes Secret volume swaps a `..data`
//! symlink and an editor saves by renaming, neither of which a watch on the
//! file itself would see.

use std::{
    collections::BTreeSet,
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use notify::Watcher as _;
use tokio::sync::mpsc;

use super::ServerTls;
use crate::metrics::Metrics;

/// Events that come in a burst (a secret update writes several files) are
/// taken as one.
const SETTLE: Duration = Duration::from_millis(200);

/// What asked for a reload, as the log says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trigger {
    Signal,
    FileChanged,
}

/// Reloads `tls` on SIGHUP and when its files change, until dropped.
pub async fn watch(tls: Arc<ServerTls>, metrics: Arc<Metrics>) {
    let (triggers, mut triggered) = mpsc::channel(16);
    // Kept alive for as long as this task runs.
    let _watcher = watch_directories(&tls.config().files(), triggers.clone());
    #[cfg(unix)]
    tokio::spawn({
        let triggers = triggers.clone();
        async move {
            use tokio::signal::unix::{SignalKind, signal};
            let Ok(mut hangups) = signal(SignalKind::hangup()) else {
                tracing::warn!(
                    "cannot listen for SIGHUP; the TLS certificate reloads on file changes only"
                );
                return;
            };
            while hangups.recv().await.is_some() {
                if triggers.send(Trigger::Signal).await.is_err() {
                    return;
                }
            }
        }
    });
    drop(triggers);
    while let Some(first) = triggered.recv().await {
        tokio::time::sleep(SETTLE).await;
        let mut trigger = first;
        while let Ok(more) = triggered.try_recv() {
            if more == Trigger::Signal {
                trigger = Trigger::Signal;
            }
        }
        let trigger_name = match trigger {
            Trigger::Signal => "SIGHUP",
            Trigger::FileChanged => "file changed",
        };
        let cert = tls.config().cert.display().to_string();
        match tls.reload() {
            Ok(true) => {
                metrics.record_tls_reload("ok");
                tracing::info!(
                    cert,
                    trigger = trigger_name,
                    "TLS certificate reloaded: new handshakes use it, open connections keep theirs"
                );
            }
            Ok(false) if trigger == Trigger::FileChanged => {}
            Ok(false) => tracing::info!(
                cert,
                trigger = trigger_name,
                "TLS files unchanged; nothing to reload"
            ),
            Err(err) => {
                metrics.record_tls_reload("refused");
                tracing::error!(trigger = trigger_name, error = %err, "TLS reload refused; the certificate in force stays");
            }
        }
    }
}

/// Watches the directories of `files`; `None` (logged) where the platform
/// cannot.
fn watch_directories(
    files: &[&Path],
    triggers: mpsc::Sender<Trigger>,
) -> Option<notify::RecommendedWatcher> {
    let mut watcher = match notify::recommended_watcher(
        move |event: notify::Result<notify::Event>| {
            if event.is_ok_and(|event| !event.kind.is_access()) {
                // Full means a reload is already due.
                let _ = triggers.try_send(Trigger::FileChanged);
            }
        },
    ) {
        Ok(watcher) => watcher,
        Err(err) => {
            tracing::warn!(error = %err, "cannot watch the TLS files; they reload on SIGHUP only");
            return None;
        }
    };
    let directories: BTreeSet<PathBuf> = files
        .iter()
        .map(|file| {
            let absolute = std::path::absolute(file).unwrap_or_else(|_| file.to_path_buf());
            absolute
                .parent()
                .map_or_else(|| PathBuf::from("."), Path::to_owned)
        })
        .collect();
    for directory in directories {
        if let Err(err) = watcher.watch(&directory, notify::RecursiveMode::NonRecursive) {
            tracing::warn!(directory = %directory.display(), error = %err, "cannot watch a directory for TLS file changes; SIGHUP still reloads");
        }
    }
    Some(watcher)
}
