//! Live reload: on SIGHUP, or when the config file (or a file it reads a
//! secret from with `${file:…}`) changes, the configuration is read again.
//! A valid one puts its tenants in force for the calls that start from then
//! on (added, removed, credentials and limits changed); calls in flight
//! finish on the tenants they started with. An invalid one is refused and
//! logged, and the one in force stays. `[server]`, `[store]` and
//! `[telemetry]` take effect at the next start only; a change to them is
//! logged.
//!
//! The file is watched through its directory, so an editor's
//! write-and-rename and a Kubernetes ConfigMap's symlink swap are seen too;
//! a change is acted on when the file's content differs from the one in
//! force.

use std::{
    collections::BTreeSet,
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use notify::Watcher as _;
use tokio::sync::mpsc;

use crate::{
    cluster::SharedLimits,
    config::{self, Config},
    metrics::Metrics,
    tenant::{TenantRegistry, Tenants},
};

/// Events that come in a burst (an editor's save) are taken as one.
const SETTLE: Duration = Duration::from_millis(200);

/// `${NAME}` lookups: the process environment, in the binary.
pub type Environment = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// Where the configuration in force came from.
#[derive(Clone)]
pub struct ConfigSource {
    pub path: PathBuf,
    pub env: Environment,
}

crate::debug::debug_showing!(ConfigSource { path });

/// What asked for a reload, as the log says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Trigger {
    Signal,
    FileChanged,
}

impl Trigger {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Signal => "SIGHUP",
            Self::FileChanged => "file changed",
        }
    }
}

/// When to read some files again: on SIGHUP, and when a file in their
/// directories changes. Directories, not files, are watched: an editor's
/// write-and-rename and a Kubernetes volume's `..data` symlink swap are
/// seen there, and not by a watch on the file itself. Shared by the config
/// reload and the TLS certificate reload.
pub(crate) struct ReloadTriggers {
    triggered: mpsc::Receiver<Trigger>,
    // Kept alive for as long as the triggers are read.
    _watcher: Option<notify::RecommendedWatcher>,
}

impl ReloadTriggers {
    /// Triggers for `files`; `reloading` names what they reload in the
    /// warnings logged where SIGHUP or the watch is not available.
    pub(crate) fn start(files: impl IntoIterator<Item = PathBuf>, reloading: &'static str) -> Self {
        let (triggers, triggered) = mpsc::channel(16);
        let watcher = watch_directories(files, reloading, triggers.clone());
        #[cfg(unix)]
        tokio::spawn(async move {
            use tokio::signal::unix::{SignalKind, signal};
            let Ok(mut hangups) = signal(SignalKind::hangup()) else {
                tracing::warn!(
                    reloading,
                    "cannot listen for SIGHUP; reloads on file changes only"
                );
                return;
            };
            while hangups.recv().await.is_some() {
                if triggers.send(Trigger::Signal).await.is_err() {
                    return;
                }
            }
        });
        Self {
            triggered,
            _watcher: watcher,
        }
    }

    /// The next reload that is due, once a burst of events (an editor's
    /// save, a secret update writing several files) has settled; a SIGHUP
    /// in the burst names it. `None` once nothing can trigger any more.
    pub(crate) async fn next(&mut self) -> Option<Trigger> {
        let mut trigger = self.triggered.recv().await?;
        tokio::time::sleep(SETTLE).await;
        while let Ok(more) = self.triggered.try_recv() {
            if more == Trigger::Signal {
                trigger = Trigger::Signal;
            }
        }
        Some(trigger)
    }
}

/// Watches the directories of `files`; `None` (logged) where the platform
/// cannot.
fn watch_directories(
    files: impl IntoIterator<Item = PathBuf>,
    reloading: &'static str,
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
            tracing::warn!(reloading, error = %err, "cannot watch files for changes; reloads on SIGHUP only");
            return None;
        }
    };
    let directories: BTreeSet<PathBuf> = files
        .into_iter()
        .map(|file| {
            let absolute = std::path::absolute(&file).unwrap_or(file);
            absolute
                .parent()
                .map_or_else(|| PathBuf::from("."), Path::to_owned)
        })
        .collect();
    for directory in directories {
        if let Err(err) = watcher.watch(&directory, notify::RecursiveMode::NonRecursive) {
            tracing::warn!(reloading, directory = %directory.display(), error = %err, "cannot watch a directory for changes; SIGHUP still reloads");
        }
    }
    Some(watcher)
}

/// Reloads `source` into `tenants` on SIGHUP and on file changes, until
/// dropped. `running` is the configuration in force at start.
pub async fn watch(
    source: ConfigSource,
    running: Config,
    tenants: Arc<Tenants>,
    shared_limits: Option<Arc<SharedLimits>>,
    metrics: Arc<Metrics>,
) {
    let text = std::fs::read_to_string(&source.path).unwrap_or_default();
    // The config file and the secret files it reads.
    let files = std::iter::once(source.path.clone()).chain(config::referenced_files(&text));
    let mut triggers = ReloadTriggers::start(files, "config");
    let mut in_force = Reloaded {
        config: running,
        text,
    };
    while let Some(trigger) = triggers.next().await {
        reload(
            &source,
            trigger,
            &mut in_force,
            &tenants,
            shared_limits.as_ref(),
            &metrics,
        );
    }
}

/// The configuration in force and the text it was read from.
struct Reloaded {
    config: Config,
    text: String,
}

fn reload(
    source: &ConfigSource,
    trigger: Trigger,
    in_force: &mut Reloaded,
    tenants: &Tenants,
    shared_limits: Option<&Arc<SharedLimits>>,
    metrics: &Arc<Metrics>,
) {
    let file = source.path.display().to_string();
    let text = match std::fs::read_to_string(&source.path) {
        Ok(text) => text,
        Err(err) => {
            metrics.record_reload("refused");
            tracing::error!(config = %file, trigger = trigger.as_str(), error = %err, "configuration reload refused: cannot read the file; the one in force stays");
            return;
        }
    };
    // A file event for another file, or a save with nothing new. Secret
    // files are read again on every reload, so a SIGHUP still reloads.
    if trigger == Trigger::FileChanged
        && text == in_force.text
        && config::referenced_files(&text).is_empty()
    {
        return;
    }
    let loaded = Config::from_toml(&text, &*source.env).and_then(|config| {
        let registry = TenantRegistry::build(&config.tenants, shared_limits, metrics.clone())
            .map_err(|err| config::ConfigError::Build(err.to_string()))?;
        Ok((config, registry))
    });
    let (config, registry) = match loaded {
        Ok(loaded) => loaded,
        Err(err) => {
            metrics.record_reload("refused");
            tracing::error!(config = %file, trigger = trigger.as_str(), error = %err, "configuration reload refused; the one in force stays");
            return;
        }
    };
    for (section, changed) in [
        (
            "[server]",
            format!("{:?}", config.server) != format!("{:?}", in_force.config.server),
        ),
        (
            "[store]",
            format!("{:?}", config.store) != format!("{:?}", in_force.config.store),
        ),
        (
            "[cluster]",
            format!("{:?}", config.cluster) != format!("{:?}", in_force.config.cluster),
        ),
        (
            "[telemetry]",
            format!("{:?}", config.telemetry) != format!("{:?}", in_force.config.telemetry),
        ),
    ] {
        if changed {
            tracing::warn!(config = %file, section, "a changed section takes effect at the next start only");
        }
    }
    let before: BTreeSet<String> = in_force
        .config
        .tenants
        .iter()
        .map(|t| t.id.clone())
        .collect();
    let after: BTreeSet<String> = config.tenants.iter().map(|t| t.id.clone()).collect();
    let added: Vec<&String> = after.difference(&before).collect();
    let removed: Vec<&String> = before.difference(&after).collect();
    tenants.replace(registry);
    metrics.record_reload("ok");
    tracing::info!(
        config = %file,
        trigger = trigger.as_str(),
        tenants = after.len(),
        added = ?added,
        removed = ?removed,
        "configuration reloaded"
    );
    *in_force = Reloaded { config, text };
}
