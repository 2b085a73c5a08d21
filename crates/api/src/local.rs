//! The local control channel and a small client for it.
//!
//! A running scheduler always opens one (on Unix a socket `FILE.api.sock`, mode 0600, removed on
//! exit; elsewhere the TCP API when it serves one), so that a one-shot command (`--apply`,
//! `--status`, `--resume`, ...) beside it asks the engine that holds the config's lock instead of
//! writing the state file and hoping. The socket serves the same router as the TCP API and the
//! bearer token is still needed (the one-shot reads `FILE.api-token`).
//!
//! Where the TCP API listens is in `FILE.api-addr`: `http://ADDR:PORT` or `https://ADDR:PORT`
//! on the first line, and for TLS the certificate's fingerprint on the second.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};

pub use axum::http::Method;

/// The socket beside `config`.
pub fn socket_path(config: &Path) -> PathBuf {
    bitaxe_core::config::with_suffix(config, ".api.sock")
}

/// The file naming where the TCP API listens, beside `config`.
pub fn addr_path(config: &Path) -> PathBuf {
    bitaxe_core::config::with_suffix(config, ".api-addr")
}

/// The address the local socket's requests are checked against: a Unix socket has no host or
/// port, so the client names `localhost:0` and the server allows exactly that (a browser cannot
/// open a Unix socket, so DNS rebinding does not reach it).
pub(crate) const LOCAL_HOST: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 0);

/// Where a running daemon's TCP API listens, as written to `FILE.api-addr`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Advertised {
    pub addr: SocketAddr,
    /// With TLS: the certificate's fingerprint (`SHA256:..`), which a client pins.
    pub fingerprint: Option<String>,
}

impl Advertised {
    /// `http://ADDR` or `https://ADDR`.
    pub fn url(&self) -> String {
        let scheme = if self.fingerprint.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}", self.addr)
    }

    /// The file's text.
    pub fn to_text(&self) -> String {
        match &self.fingerprint {
            Some(f) => format!("{}\n{f}\n", self.url()),
            None => format!("{}\n", self.url()),
        }
    }

    /// Parse the file's text; a bare `ADDR:PORT` (older daemons) is plain HTTP.
    pub fn parse(text: &str) -> Option<Advertised> {
        let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
        let first = lines.next()?;
        let (tls, addr) = if let Some(a) = first.strip_prefix("https://") {
            (true, a)
        } else {
            (false, first.strip_prefix("http://").unwrap_or(first))
        };
        let addr: SocketAddr = addr.trim_end_matches('/').parse().ok()?;
        let fingerprint = if tls {
            Some(
                lines
                    .next()
                    .filter(|f| f.starts_with("SHA256:"))?
                    .to_string(),
            )
        } else {
            None
        };
        Some(Advertised { addr, fingerprint })
    }

    /// Read `FILE.api-addr` beside `config`.
    pub fn read(config: &Path) -> Option<Advertised> {
        Advertised::parse(&std::fs::read_to_string(addr_path(config)).ok()?)
    }

    /// Where a client on this machine connects: loopback for an unspecified listen address.
    pub fn connect_addr(&self) -> SocketAddr {
        if self.addr.ip().is_unspecified() {
            SocketAddr::new(Ipv4Addr::LOCALHOST.into(), self.addr.port())
        } else {
            self.addr
        }
    }
}

/// How a one-shot reaches a daemon.
#[derive(Debug, Clone)]
pub enum Channel {
    /// The Unix socket beside the config.
    #[cfg(unix)]
    Unix(PathBuf),
    /// The TCP API (pinned to the fingerprint with TLS).
    Tcp(Advertised),
}

impl std::fmt::Display for Channel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            #[cfg(unix)]
            Channel::Unix(p) => write!(f, "{}", p.display()),
            Channel::Tcp(a) => f.write_str(&a.url()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot reach the scheduler at {at}: {why}")]
    Connect { at: String, why: String },
    #[error("the scheduler at {at} did not answer in time")]
    Timeout { at: String },
    #[error("the scheduler at {at} answered with a broken reply: {why}")]
    Protocol { at: String, why: String },
}

/// A daemon's answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: StatusCode,
    pub body: Vec<u8>,
}

impl Reply {
    /// The body as JSON (`null` when it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    /// An error answer's `message` (else the status line).
    pub fn message(&self) -> String {
        self.json()
            .get("message")
            .and_then(|m| m.as_str())
            .map(str::to_string)
            .unwrap_or_else(|| self.status.to_string())
    }
}

/// One request to a daemon, with the token, within `timeout`.
pub async fn request(
    channel: &Channel,
    token: &str,
    method: Method,
    path: &str,
    body: Option<&serde_json::Value>,
    timeout: Duration,
) -> Result<Reply, ClientError> {
    let at = channel.to_string();
    match tokio::time::timeout(timeout, send(channel, token, method, path, body)).await {
        Ok(r) => r,
        Err(_) => Err(ClientError::Timeout { at }),
    }
}

async fn send(
    channel: &Channel,
    token: &str,
    method: Method,
    path: &str,
    body: Option<&serde_json::Value>,
) -> Result<Reply, ClientError> {
    let at = channel.to_string();
    let connect = |e: std::io::Error| ClientError::Connect {
        at: at.clone(),
        why: e.to_string(),
    };
    match channel {
        #[cfg(unix)]
        Channel::Unix(p) => {
            let s = tokio::net::UnixStream::connect(p).await.map_err(connect)?;
            exchange(s, &at, "localhost:0", token, method, path, body).await
        }
        Channel::Tcp(a) => {
            let to = a.connect_addr();
            let host = to.to_string();
            let tcp = tokio::net::TcpStream::connect(to).await.map_err(connect)?;
            match &a.fingerprint {
                None => exchange(tcp, &at, &host, token, method, path, body).await,
                Some(f) => {
                    let config = crate::tls::pinned_client_config(f);
                    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
                    let name = rustls::pki_types::ServerName::IpAddress(to.ip().into());
                    let tls = connector.connect(name, tcp).await.map_err(connect)?;
                    exchange(tls, &at, &host, token, method, path, body).await
                }
            }
        }
    }
}

async fn exchange<S>(
    stream: S,
    at: &str,
    host: &str,
    token: &str,
    method: Method,
    path: &str,
    body: Option<&serde_json::Value>,
) -> Result<Reply, ClientError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let broken = |why: String| ClientError::Protocol {
        at: at.to_string(),
        why,
    };
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| broken(e.to_string()))?;
    let driver = tokio::spawn(conn);
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header(header::HOST, host)
        .header(header::AUTHORIZATION, format!("Bearer {token}"));
    let payload = match body {
        Some(v) => {
            req = req.header(header::CONTENT_TYPE, "application/json");
            Body::from(v.to_string())
        }
        None => Body::empty(),
    };
    let req = req.body(payload).map_err(|e| broken(e.to_string()))?;
    let res = sender
        .send_request(req)
        .await
        .map_err(|e| broken(e.to_string()))?;
    let status = res.status();
    let body = res
        .into_body()
        .collect()
        .await
        .map_err(|e| broken(e.to_string()))?
        .to_bytes()
        .to_vec();
    driver.abort();
    Ok(Reply { status, body })
}

/// Log each request that comes through the local socket (method and path, never a header): the
/// daemon's log then shows which one-shot commands it carried out.
pub async fn log_request(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let (method, path) = (req.method().clone(), req.uri().path().to_string());
    let res = next.run(req).await;
    tracing::info!(
        "API (local socket): {method} {path} -> {}",
        res.status().as_u16()
    );
    res
}

#[cfg(unix)]
pub use server::LocalListener;

#[cfg(unix)]
mod server {
    use std::net::SocketAddr;
    use std::path::{Path, PathBuf};

    use tokio::net::{UnixListener, UnixStream};

    /// The Unix socket as an axum listener. Its peers are given the loopback address (they are on
    /// this machine), so the limiter and the guard treat them like a loopback TCP client.
    pub struct LocalListener {
        inner: UnixListener,
        path: PathBuf,
    }

    impl LocalListener {
        /// Bind `path`, replacing a socket left by a scheduler that was killed (this process
        /// holds the config's lock, so no live scheduler owns it); mode 0600.
        pub fn bind(path: &Path) -> std::io::Result<LocalListener> {
            use std::os::unix::fs::{FileTypeExt, PermissionsExt};
            if let Ok(meta) = std::fs::symlink_metadata(path) {
                if meta.file_type().is_socket() {
                    std::fs::remove_file(path)?;
                } else {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::AlreadyExists,
                        format!("{} exists and is not a socket", path.display()),
                    ));
                }
            }
            let inner = UnixListener::bind(path)?;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
            Ok(LocalListener {
                inner,
                path: path.to_path_buf(),
            })
        }

        pub fn path(&self) -> &Path {
            &self.path
        }
    }

    impl axum::serve::Listener for LocalListener {
        type Io = UnixStream;
        type Addr = SocketAddr;

        async fn accept(&mut self) -> (Self::Io, Self::Addr) {
            loop {
                match self.inner.accept().await {
                    Ok((s, _)) => return (s, super::LOCAL_HOST),
                    Err(e) => {
                        tracing::debug!("API socket: accept failed: {e}");
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    }
                }
            }
        }

        fn local_addr(&self) -> std::io::Result<SocketAddr> {
            Ok(super::LOCAL_HOST)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addr_file_round_trip() {
        let plain = Advertised {
            addr: "127.0.0.1:8417".parse().expect("addr"),
            fingerprint: None,
        };
        assert_eq!(plain.to_text(), "http://127.0.0.1:8417\n");
        assert_eq!(Advertised::parse(&plain.to_text()), Some(plain.clone()));
        assert_eq!(Advertised::parse("127.0.0.1:8417\n"), Some(plain));
        let tls = Advertised {
            addr: "0.0.0.0:9000".parse().expect("addr"),
            fingerprint: Some("SHA256:AB:CD".into()),
        };
        assert_eq!(Advertised::parse(&tls.to_text()), Some(tls.clone()));
        assert_eq!(tls.connect_addr(), "127.0.0.1:9000".parse().expect("addr"));
        assert_eq!(
            Advertised::parse("https://127.0.0.1:1\n"),
            None,
            "TLS needs its fingerprint"
        );
        assert_eq!(Advertised::parse("nonsense"), None);
    }
}
