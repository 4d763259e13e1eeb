//! How the simulator is served: plain HTTP, or HTTPS as a warehouse behind
//! a (private) CA, so the facade's certificate verification and a tenant's
//! `ca_file` are tested against a real TLS server. Over TLS, HTTP/1.1 only,
//! which both protocols' clients speak.

use std::{future::Future, io, sync::Arc};

use axum::Router;
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    server::graceful::GracefulShutdown,
    service::TowerToHyperService,
};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// An acceptor serving `cert_pem` (chain, leaf first) with `key_pem`.
pub(super) fn acceptor(cert_pem: &[u8], key_pem: &[u8]) -> io::Result<TlsAcceptor> {
    let invalid = |what: String| io::Error::new(io::ErrorKind::InvalidInput, what);
    crate::upstream::install_crypto_provider();
    let chain = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| invalid(format!("the simulator's TLS certificate: {err}")))?;
    if chain.is_empty() {
        return Err(invalid(
            "the simulator's TLS certificate: no PEM certificate".into(),
        ));
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem)
        .map_err(|_| invalid("the simulator's TLS key: not a PEM private key".into()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|builder| builder.with_no_client_auth().with_single_cert(chain, key))
        .map_err(|err| invalid(format!("the simulator's TLS certificate and key: {err}")))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Serves `app` on `listener`, over TLS when `tls` is given, until
/// `stopped`; then waits for the connections to finish their requests.
pub(super) async fn serve(
    listener: TcpListener,
    app: Router,
    tls: Option<TlsAcceptor>,
    stopped: impl Future<Output = ()> + Send + 'static,
) {
    let Some(acceptor) = tls else {
        if let Err(err) = axum::serve(listener, app)
            .with_graceful_shutdown(stopped)
            .await
        {
            tracing::error!(error = %err, "warehouse simulator stopped with an error");
        }
        return;
    };
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new());
    let mut stopped = std::pin::pin!(stopped);
    loop {
        let stream = tokio::select! {
            () = &mut stopped => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(err) => {
                    tracing::warn!(error = %err, "warehouse simulator cannot accept a connection");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let acceptor = acceptor.clone();
        let app = app.clone();
        let http = http.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let stream = match acceptor.accept(stream).await {
                Ok(stream) => stream,
                // A client that does not trust our CA says so and hangs up.
                Err(err) => {
                    tracing::debug!(error = %err, "warehouse simulator TLS handshake failed");
                    return;
                }
            };
            let connection =
                http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(app));
            if let Err(err) = watcher.watch(connection).await {
                tracing::debug!(error = %err, "warehouse simulator connection failed");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
}
