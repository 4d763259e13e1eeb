//! TLS fixtures: a CA made in the test (rcgen) with server and client
//! certificates it signs, written to files as `[server.tls]` names them
//! (the facade itself is served by [`super::serve`]); and clients that
//! trust the CA: a gRPC channel (optionally presenting a client
//! certificate), a raw handshake that reports the certificate served, an
//! HTTPS client.

use std::{net::SocketAddr, path::Path, sync::Arc, time::Duration};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};

/// A certificate authority of the test's own.
pub struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

/// A certificate and its key, as PEM.
#[derive(Clone)]
pub struct Leaf {
    pub cert_pem: String,
    pub key_pem: String,
    /// The certificate, DER.
    pub der: Vec<u8>,
}

impl TestCa {
    pub fn new(name: &str) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name = DistinguishedName::new();
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let key = KeyPair::generate().expect("CA key");
        Self {
            issuer: CertifiedIssuer::self_signed(params, key).expect("CA certificate"),
        }
    }

    pub fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// A server certificate for `localhost` and 127.0.0.1; `serial` tells
    /// two of them apart.
    pub fn server(&self, serial: u64) -> Leaf {
        let mut params =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
                .expect("server params");
        params.distinguished_name = DistinguishedName::new();
        params
            .distinguished_name
            .push(DnType::CommonName, format!("facade {serial}"));
        params.serial_number = Some(serial.into());
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        self.sign(params)
    }

    /// A client certificate whose DNS SANs are `names`.
    pub fn client_named(&self, names: &[&str]) -> Leaf {
        let names: Vec<String> = names.iter().map(|name| (*name).to_owned()).collect();
        let mut params = CertificateParams::new(names).expect("client params");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        self.sign(params)
    }

    /// A client certificate with no SAN and the common name `name`.
    pub fn client_with_cn(&self, name: &str) -> Leaf {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("client params");
        params.distinguished_name = DistinguishedName::new();
        params.distinguished_name.push(DnType::CommonName, name);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        self.sign(params)
    }

    fn sign(&self, params: CertificateParams) -> Leaf {
        let key = KeyPair::generate().expect("leaf key");
        let cert = params.signed_by(&key, &self.issuer).expect("sign leaf");
        Leaf {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            der: cert.der().to_vec(),
        }
    }
}

/// Writes `leaf` as `dir/tls.crt` and `dir/tls.key`, and `client_ca` (if
/// any) as `dir/clients-ca.crt`; returns the `[server.tls]` table naming
/// them (without `http_tls`, which the caller adds).
pub fn write_server_files(dir: &Path, leaf: &Leaf, client_ca: Option<&TestCa>) -> String {
    std::fs::create_dir_all(dir).expect("TLS dir");
    std::fs::write(dir.join("tls.crt"), &leaf.cert_pem).expect("write cert");
    std::fs::write(dir.join("tls.key"), &leaf.key_pem).expect("write key");
    let mut table = format!(
        "[server.tls]\ncert = \"{}\"\nkey = \"{}\"\n",
        dir.join("tls.crt").display(),
        dir.join("tls.key").display()
    );
    if let Some(ca) = client_ca {
        std::fs::write(dir.join("clients-ca.crt"), ca.pem()).expect("write client CA");
        table.push_str(&format!(
            "client_ca = \"{}\"\n",
            dir.join("clients-ca.crt").display()
        ));
    }
    table
}

/// A fresh directory under the system's temporary one.
pub fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "qlink-facade-{name}-{}-{}",
        std::process::id(),
        fastrand::u64(..)
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// A gRPC channel to `addr` over TLS, trusting `ca_pem` for a server named
/// `localhost`, presenting `client` when given.
pub async fn tls_channel(
    addr: SocketAddr,
    ca_pem: &str,
    client: Option<&Leaf>,
) -> Result<Channel, tonic::transport::Error> {
    qlink_facade::upstream::install_crypto_provider();
    let mut tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(ca_pem))
        .domain_name("localhost");
    if let Some(client) = client {
        tls = tls.identity(Identity::from_pem(&client.cert_pem, &client.key_pem));
    }
    Channel::from_shared(format!("https://{addr}"))
        .expect("uri")
        .connect_timeout(Duration::from_secs(5))
        .tls_config(tls)?
        .connect()
        .await
}

/// Shakes hands with `addr` trusting `ca_pem` (offering `alpn`), and returns
/// the leaf certificate it served, DER.
pub async fn served_certificate(addr: SocketAddr, ca_pem: &str, alpn: &[u8]) -> Vec<u8> {
    use rustls_pki_types::{CertificateDer, ServerName, pem::PemObject};
    qlink_facade::upstream::install_crypto_provider();
    let mut roots = rustls::RootCertStore::empty();
    for ca in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(ca.expect("CA PEM")).expect("add CA");
    }
    let mut config = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![alpn.to_vec()];
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let name = ServerName::try_from("localhost").expect("server name");
    let stream = tokio::time::timeout(Duration::from_secs(5), connector.connect(name, tcp))
        .await
        .expect("handshake in time")
        .expect("handshake");
    let (_, session) = stream.get_ref();
    session
        .peer_certificates()
        .and_then(|chain| chain.first())
        .expect("a served certificate")
        .to_vec()
}

/// An HTTPS client trusting `ca_pem` only.
pub fn https_client(ca_pem: &str) -> reqwest::Client {
    qlink_facade::upstream::install_crypto_provider();
    let ca = reqwest::Certificate::from_pem(ca_pem.as_bytes()).expect("CA PEM");
    reqwest::Client::builder()
        .tls_certs_only([ca])
        .timeout(Duration::from_secs(10))
        .build()
        .expect("HTTPS client")
}
