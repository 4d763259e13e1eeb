//! TLS on the listeners (`[server.tls]`): the certificate chain and key,
//! and the optional client CA that makes the gRPC listener ask every client
//! for a certificate (mTLS), read from PEM files and reloaded in place on
//! SIGHUP and when the files change, and the identities a client
//! certificate names (`names`).
//!
//! Each listener's rustls `ServerConfig` sits in an [`ArcSwap`]; a handshake
//! takes the one in force when it starts, so a reload changes nothing for
//! connections already open and every new handshake sees the new
//! certificate. A whole config is swapped rather than a certificate
//! resolver and a client verifier each: the certificate request then always
//! names the CA that verifies it, and one handshake never mixes an old
//! certificate with a new CA. A new set of files that does not load (a key
//! that does not match the certificate, a half-written file) is refused
//! and logged, and the one in force stays.
//!
//! It owns the files and the configs; accepting and handshake timeouts are
//! `listener`'s, the check of a tenant's `client_identities` is `tenant`'s.

mod names;
mod watch;

use std::{
    path::{Path, PathBuf},
    sync::{Arc, Mutex, PoisonError},
};

use arc_swap::ArcSwap;
use rustls::{RootCertStore, ServerConfig, server::WebPkiClientVerifier};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};
use sha2::{Digest, Sha256};
use tokio_rustls::TlsAcceptor;

pub use names::certificate_names;
pub use watch::watch;

use crate::upstream::install_crypto_provider;

/// `[server.tls]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsConfig {
    /// PEM certificate chain, leaf first.
    pub cert: PathBuf,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
    /// PEM CA certificates: when set, the gRPC listener requires a client
    /// certificate signed by one of them.
    pub client_ca: Option<PathBuf>,
    /// Whether the HTTP listener (webhooks, metrics, health) serves TLS
    /// with the same certificate. It never asks for client certificates:
    /// warehouses, Prometheus and probes have none from `client_ca`.
    pub http_tls: bool,
}

impl TlsConfig {
    /// The files a reload reads.
    pub fn files(&self) -> Vec<&Path> {
        let mut files = vec![self.cert.as_path(), self.key.as_path()];
        files.extend(self.client_ca.as_deref());
        files
    }
}

/// The TLS files could not be used. Names the key and the file, never
/// the content (the key is a secret).
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("[server.tls] {key}: cannot read {path}: {source}")]
    Read {
        key: &'static str,
        path: String,
        source: std::io::Error,
    },
    #[error("[server.tls] {key}: {path} holds no PEM {what}")]
    Missing {
        key: &'static str,
        path: String,
        what: &'static str,
    },
    #[error("[server.tls] {key}: {path} is not valid PEM: {problem}")]
    Pem {
        key: &'static str,
        path: String,
        problem: String,
    },
    #[error("[server.tls] cert and key cannot serve TLS: {0}")]
    Certificate(rustls::Error),
    #[error("[server.tls] client_ca: {0}")]
    ClientCa(String),
}

/// The configs in force for both listeners, and where they come from.
pub struct ServerTls {
    config: TlsConfig,
    grpc: ArcSwap<ServerConfig>,
    http: ArcSwap<ServerConfig>,
    /// SHA-256 of the files in force, so a file event that changed nothing
    /// reloads nothing.
    in_force: Mutex<[u8; 32]>,
}

impl ServerTls {
    /// Reads the files; an error names the key and file that failed.
    pub fn load(config: TlsConfig) -> Result<Self, TlsError> {
        let loaded = Loaded::read(&config)?;
        Ok(Self {
            grpc: ArcSwap::from_pointee(loaded.grpc),
            http: ArcSwap::from_pointee(loaded.http),
            in_force: Mutex::new(loaded.digest),
            config,
        })
    }

    pub fn config(&self) -> &TlsConfig {
        &self.config
    }

    /// For one gRPC handshake, on the config in force now.
    pub fn grpc_acceptor(&self) -> TlsAcceptor {
        TlsAcceptor::from(self.grpc.load_full())
    }

    /// For one HTTP-listener handshake, on the config in force now.
    pub fn http_acceptor(&self) -> TlsAcceptor {
        TlsAcceptor::from(self.http.load_full())
    }

    /// Reads the files again and puts them in force for new handshakes.
    /// `Ok(false)`: the files are the ones in force; an error leaves them
    /// in force.
    pub fn reload(&self) -> Result<bool, TlsError> {
        let loaded = Loaded::read(&self.config)?;
        let mut in_force = self.in_force.lock().unwrap_or_else(PoisonError::into_inner);
        if *in_force == loaded.digest {
            return Ok(false);
        }
        self.grpc.store(Arc::new(loaded.grpc));
        self.http.store(Arc::new(loaded.http));
        *in_force = loaded.digest;
        Ok(true)
    }
}

// Paths only: the configs hold the private key.
crate::debug::debug_showing!(ServerTls { config });

/// The configs built from one reading of the files.
struct Loaded {
    grpc: ServerConfig,
    http: ServerConfig,
    digest: [u8; 32],
}

impl Loaded {
    fn read(config: &TlsConfig) -> Result<Self, TlsError> {
        install_crypto_provider();
        let mut digest = Sha256::new();
        let cert_pem = read("cert", &config.cert)?;
        let key_pem = read("key", &config.key)?;
        digest.update(&cert_pem);
        digest.update(&key_pem);
        let chain = certificates("cert", &config.cert, &cert_pem)?;
        let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|err| match err {
            rustls_pki_types::pem::Error::NoItemsFound => TlsError::Missing {
                key: "key",
                path: config.key.display().to_string(),
                what: "private key",
            },
            // Not the parser's words: they may quote a line of the key file.
            _ => TlsError::Pem {
                key: "key",
                path: config.key.display().to_string(),
                problem: "not a PEM private key (PKCS#8, PKCS#1 or SEC1)".to_owned(),
            },
        })?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = || {
            ServerConfig::builder_with_provider(provider.clone())
                .with_safe_default_protocol_versions()
                .map_err(TlsError::Certificate)
        };
        let mut http = builder()?
            .with_no_client_auth()
            .with_single_cert(chain.clone(), key.clone_key())
            .map_err(TlsError::Certificate)?;
        http.alpn_protocols = vec![b"http/1.1".to_vec()];
        let grpc_builder = match &config.client_ca {
            None => builder()?.with_no_client_auth(),
            Some(path) => {
                let ca_pem = read("client_ca", path)?;
                digest.update(&ca_pem);
                let mut roots = RootCertStore::empty();
                for ca in certificates("client_ca", path, &ca_pem)? {
                    roots
                        .add(ca)
                        .map_err(|err| TlsError::ClientCa(format!("{}: {err}", path.display())))?;
                }
                let verifier =
                    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                        .build()
                        .map_err(|err| TlsError::ClientCa(format!("{}: {err}", path.display())))?;
                builder()?.with_client_cert_verifier(verifier)
            }
        };
        let mut grpc = grpc_builder
            .with_single_cert(chain, key)
            .map_err(TlsError::Certificate)?;
        grpc.alpn_protocols = vec![b"h2".to_vec()];
        Ok(Self {
            grpc,
            http,
            digest: digest.finalize().into(),
        })
    }
}

fn read(key: &'static str, path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        key,
        path: path.display().to_string(),
        source,
    })
}

/// Every certificate in a PEM file; at least one.
fn certificates(
    key: &'static str,
    path: &Path,
    pem: &[u8],
) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certificates = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| TlsError::Pem {
            key,
            path: path.display().to_string(),
            problem: err.to_string(),
        })?;
    if certificates.is_empty() {
        return Err(TlsError::Missing {
            key,
            path: path.display().to_string(),
            what: "certificate",
        });
    }
    Ok(certificates)
}
