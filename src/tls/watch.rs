//! When the `[server.tls]` files are read again: on SIGHUP, and when a file
//! in their directories changes, as [`ReloadTriggers`] watches them for the
//! config too.

use std::{path::Path, sync::Arc};

use super::ServerTls;
use crate::{
    metrics::Metrics,
    reload::{ReloadTriggers, Trigger},
};

/// Reloads `tls` on SIGHUP and when its files change, until dropped.
pub async fn watch(tls: Arc<ServerTls>, metrics: Arc<Metrics>) {
    let files = tls.config().files().into_iter().map(Path::to_owned);
    let mut triggers = ReloadTriggers::start(files, "TLS certificate");
    while let Some(trigger) = triggers.next().await {
        let trigger_name = trigger.as_str();
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
