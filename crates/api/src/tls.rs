//! Optional TLS for the API: a self-signed certificate made once, kept beside the config
//! (`FILE.api-cert.pem`, `FILE.api-key.pem`, mode 0600), and a listener that does the TLS
//! handshake before axum sees the connection.
//!
//! There is no CA a Raspberry Pi on a LAN could get a certificate from, so clients pin the
//! certificate instead: its fingerprint, `SHA256:` and the SHA-256 of the certificate's DER in
//! uppercase hex pairs joined by `:`, is printed at start and by `--status`, and the desktop
//! stores it at first attach. The files are kept across restarts so the fingerprint stays the
//! same; deleting them makes a new certificate (and a new fingerprint) at the next start.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use sha2::{Digest, Sha256};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

/// How long a client may take over its handshake before the connection is dropped (a client
/// that opens a socket and says nothing must not hold a slot).
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "{path}: not a PEM certificate or key ({why}); delete {cert} and {key} to make new ones"
    )]
    Pem {
        path: String,
        why: String,
        cert: String,
        key: String,
    },
    #[error("the API certificate could not be made: {0}")]
    Generate(String),
    #[error("the API certificate or key was refused: {0}")]
    Rustls(String),
}

/// The certificate file beside `config`.
pub fn cert_path(config: &Path) -> PathBuf {
    bitaxe_core::config::with_suffix(config, ".api-cert.pem")
}

/// The private key file beside `config`.
pub fn key_path(config: &Path) -> PathBuf {
    bitaxe_core::config::with_suffix(config, ".api-key.pem")
}

/// `SHA256:AB:CD:...` of a certificate's DER (the pinning contract with the desktop app).
pub fn fingerprint(der: &[u8]) -> String {
    let digest = Sha256::digest(der);
    let pairs: Vec<String> = digest.iter().map(|b| format!("{b:02X}")).collect();
    format!("SHA256:{}", pairs.join(":"))
}

/// The certificate and key the server uses.
#[derive(Clone)]
pub struct Identity {
    cert: CertificateDer<'static>,
    key_pem: String,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Identity({})", self.fingerprint())
    }
}

impl Identity {
    /// The certificate's fingerprint (see [`fingerprint`]).
    pub fn fingerprint(&self) -> String {
        fingerprint(self.cert.as_ref())
    }

    /// The certificate's DER (for a client that trusts it).
    pub fn cert_der(&self) -> &CertificateDer<'static> {
        &self.cert
    }

    /// Read the files beside `config`; when either is missing, make a new certificate for
    /// `localhost`, this machine's host name and `listen`'s address, and write both (0600).
    /// Returns the identity and whether it was made now.
    pub fn load_or_create(config: &Path, listen: SocketAddr) -> Result<(Identity, bool), TlsError> {
        let (cert, key) = (cert_path(config), key_path(config));
        if cert.is_file() && key.is_file() {
            return Ok((Identity::load(&cert, &key)?, false));
        }
        let made = rcgen::generate_simple_self_signed(names(listen))
            .map_err(|e| TlsError::Generate(e.to_string()))?;
        let io = |p: &Path| {
            let p = p.display().to_string();
            move |e: crate::tokens::TokenError| TlsError::Io {
                path: p.clone(),
                source: std::io::Error::other(e.to_string()),
            }
        };
        let key_pem = made.key_pair.serialize_pem();
        // The key first: a certificate without its key on disk would be useless.
        crate::tokens::write_secret(&key, key_pem.trim_end()).map_err(io(&key))?;
        crate::tokens::write_secret(&cert, made.cert.pem().trim_end()).map_err(io(&cert))?;
        Ok((
            Identity {
                cert: made.cert.der().clone(),
                key_pem,
            },
            true,
        ))
    }

    fn load(cert: &Path, key: &Path) -> Result<Identity, TlsError> {
        let read = |p: &Path| {
            std::fs::read(p).map_err(|source| TlsError::Io {
                path: p.display().to_string(),
                source,
            })
        };
        let bad = |p: &Path, why: String| TlsError::Pem {
            path: p.display().to_string(),
            why,
            cert: cert.display().to_string(),
            key: key.display().to_string(),
        };
        let cert_pem = read(cert)?;
        let der =
            CertificateDer::from_pem_slice(&cert_pem).map_err(|e| bad(cert, e.to_string()))?;
        let key_bytes = read(key)?;
        // Checked now so that a broken key is named at start, not at the first handshake.
        PrivateKeyDer::from_pem_slice(&key_bytes).map_err(|e| bad(key, e.to_string()))?;
        let key_pem = String::from_utf8(key_bytes).map_err(|e| bad(key, e.to_string()))?;
        Ok(Identity { cert: der, key_pem })
    }

    /// A rustls server configuration serving this certificate.
    pub fn server_config(&self) -> Result<rustls::ServerConfig, TlsError> {
        let key = PrivateKeyDer::from_pem_slice(self.key_pem.as_bytes())
            .map_err(|e| TlsError::Rustls(e.to_string()))?;
        let mut config = rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Rustls(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(vec![self.cert.clone()], key)
            .map_err(|e| TlsError::Rustls(e.to_string()))?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(config)
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The names a certificate is made for: `localhost`, the host name (and `NAME.local`, what mDNS
/// clients resolve), loopback, and the listen address when it is a real one.
pub fn names(listen: SocketAddr) -> Vec<String> {
    let mut out = vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        "::1".to_string(),
    ];
    if let Some(h) = crate::mdns::hostname() {
        out.push(format!("{h}.local"));
        out.push(h);
    }
    let ip = listen.ip();
    if !ip.is_unspecified() && !ip.is_loopback() {
        out.push(ip.to_string());
    }
    out.dedup();
    out
}

/// A TCP listener whose connections come out already through the TLS handshake. Handshakes run
/// in their own tasks, so a slow or silent client does not hold up the others.
pub struct TlsListener {
    rx: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    addr: SocketAddr,
    stop: CancellationToken,
}

impl TlsListener {
    pub fn new(
        listener: TcpListener,
        config: rustls::ServerConfig,
    ) -> std::io::Result<TlsListener> {
        let addr = listener.local_addr()?;
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let (tx, rx) = mpsc::channel(64);
        let stop = CancellationToken::new();
        tokio::spawn(accept_loop(listener, acceptor, tx, stop.clone()));
        Ok(TlsListener { rx, addr, stop })
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    tx: mpsc::Sender<(TlsStream<TcpStream>, SocketAddr)>,
    stop: CancellationToken,
) {
    loop {
        let accepted = tokio::select! {
            _ = stop.cancelled() => return,
            a = listener.accept() => a,
        };
        let (tcp, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                tracing::debug!("API: accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let (acceptor, tx) = (acceptor.clone(), tx.clone());
        tokio::spawn(async move {
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => {
                    let _ = tx.send((tls, peer)).await;
                }
                Ok(Err(e)) => tracing::debug!("API: TLS handshake with {peer} failed: {e}"),
                Err(_) => tracing::debug!("API: TLS handshake with {peer} timed out"),
            }
        });
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.rx.recv().await {
            Some(conn) => conn,
            // The accept loop ended (the listener is being dropped): never yield again.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        Ok(self.addr)
    }
}

/// A client configuration that trusts exactly the certificate with `fingerprint` (pinning; no CA,
/// no name check: the fingerprint is the identity). For the one-shot CLI and attached clients.
pub fn pinned_client_config(fingerprint: &str) -> rustls::ClientConfig {
    let provider = provider();
    let verifier = Arc::new(Pinned {
        fingerprint: fingerprint.trim().to_ascii_uppercase(),
        algorithms: provider.signature_verification_algorithms,
    });
    let mut c = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("the ring provider supports the default protocol versions")
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    c.alpn_protocols = vec![b"http/1.1".to_vec()];
    c
}

#[derive(Debug)]
struct Pinned {
    fingerprint: String,
    algorithms: rustls::crypto::WebPkiSupportedAlgorithms,
}

impl rustls::client::danger::ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        if fingerprint(end_entity.as_ref()) == self.fingerprint {
            Ok(rustls::client::danger::ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(
                "the scheduler's certificate is not the one pinned".into(),
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_format() {
        let f = fingerprint(b"abc");
        // SHA-256("abc") = ba7816bf...
        assert!(f.starts_with("SHA256:BA:78:16:BF:"), "{f}");
        assert_eq!(f.len(), "SHA256:".len() + 32 * 3 - 1);
        assert!(f["SHA256:".len()..].split(':').all(|p| p.len() == 2
            && p.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_lowercase())));
    }

    #[test]
    fn made_once_kept_private_and_stable_then_remade_when_missing() {
        let dir = tempfile::tempdir().expect("dir");
        let cfg = dir.path().join("c.json");
        let listen: SocketAddr = "127.0.0.1:8417".parse().expect("addr");
        let (a, made) = Identity::load_or_create(&cfg, listen).expect("create");
        assert!(made);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(key_path(&cfg))
                .expect("meta")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let key_text = std::fs::read_to_string(key_path(&cfg)).expect("key");
        assert!(key_text.contains("PRIVATE KEY"));
        assert!(!format!("{a:?}").contains("PRIVATE"), "Debug shows no key");
        let (b, made) = Identity::load_or_create(&cfg, listen).expect("load");
        assert!(!made);
        assert_eq!(a.fingerprint(), b.fingerprint());
        a.server_config().expect("usable");
        std::fs::remove_file(cert_path(&cfg)).expect("rm");
        let (c, made) = Identity::load_or_create(&cfg, listen).expect("remake");
        assert!(made);
        assert_ne!(c.fingerprint(), a.fingerprint());
    }

    #[test]
    fn a_broken_file_is_named() {
        let dir = tempfile::tempdir().expect("dir");
        let cfg = dir.path().join("c.json");
        let listen: SocketAddr = "127.0.0.1:8417".parse().expect("addr");
        Identity::load_or_create(&cfg, listen).expect("create");
        std::fs::write(cert_path(&cfg), "not pem").expect("write");
        let e = Identity::load_or_create(&cfg, listen).expect_err("broken");
        assert!(e.to_string().contains("api-cert.pem"), "{e}");
    }

    #[test]
    fn names_cover_localhost_and_a_real_listen_address() {
        let n = names("127.0.0.2:1".parse().expect("addr"));
        assert!(n.contains(&"localhost".to_string()));
        assert!(
            !n.contains(&"127.0.0.2".to_string()),
            "loopback is covered by 127.0.0.1"
        );
        let n = names("0.0.0.0:1".parse().expect("addr"));
        assert!(!n.contains(&"0.0.0.0".to_string()), "{n:?}");
    }
}
