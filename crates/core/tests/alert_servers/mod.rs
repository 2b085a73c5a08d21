//! Real servers on loopback that stand in for the alert services: an HTTP recorder (ntfy,
//! Telegram's Bot API, webhooks) and an SMTP server (plain, STARTTLS, TLS from the start) that
//! keeps every mail it is given.
#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::IntoResponse;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio_rustls::rustls;

/// One request the recorder received.
#[derive(Debug, Clone)]
pub struct Request {
    pub path: String,
    pub headers: HashMap<String, String>,
    pub body: serde_json::Value,
    pub at: Instant,
}

#[derive(Default)]
struct RecorderState {
    requests: Mutex<Vec<Request>>,
    /// Paths (prefixes) that answer with this status instead of 200.
    failing: Mutex<HashMap<String, u16>>,
}

/// An HTTP server on 127.0.0.1 that records every POST and answers `{"ok": true}`.
#[derive(Clone)]
pub struct Recorder {
    pub addr: SocketAddr,
    state: Arc<RecorderState>,
}

impl Recorder {
    pub async fn start() -> Recorder {
        let state = Arc::new(RecorderState::default());
        let s = state.clone();
        let app = axum::Router::new().fallback(move |uri: Uri, headers: HeaderMap, body: Bytes| {
            let s = s.clone();
            async move {
                let path = uri.path().to_string();
                s.requests.lock().expect("lock").push(Request {
                    path: path.clone(),
                    headers: headers
                        .iter()
                        .map(|(k, v)| {
                            (
                                k.as_str().to_string(),
                                v.to_str().unwrap_or_default().to_string(),
                            )
                        })
                        .collect(),
                    body: serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
                    at: Instant::now(),
                });
                let fail = s
                    .failing
                    .lock()
                    .expect("lock")
                    .iter()
                    .find(|(p, _)| path.starts_with(p.as_str()))
                    .map(|(_, code)| *code);
                match fail {
                    // The body echoes the path, as some servers do: a token in it must not
                    // reach an event.
                    Some(code) => (
                        StatusCode::from_u16(code).expect("status"),
                        format!("failed at {path}"),
                    )
                        .into_response(),
                    None => axum::Json(serde_json::json!({"ok": true})).into_response(),
                }
            }
        });
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Recorder { addr, state }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn fail(&self, prefix: &str, status: u16) {
        self.state
            .failing
            .lock()
            .expect("lock")
            .insert(prefix.into(), status);
    }

    pub fn heal(&self, prefix: &str) {
        self.state.failing.lock().expect("lock").remove(prefix);
    }

    pub fn requests(&self) -> Vec<Request> {
        self.state.requests.lock().expect("lock").clone()
    }

    pub fn at(&self, path: &str) -> Vec<Request> {
        self.requests()
            .into_iter()
            .filter(|r| r.path == path)
            .collect()
    }
}

/// One mail the SMTP server accepted.
#[derive(Debug, Clone)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    pub data: String,
    /// The session was encrypted when the mail was given.
    pub tls: bool,
    /// `user\0password` from AUTH PLAIN, if the client logged in.
    pub auth: Option<String>,
}

impl Mail {
    /// A header's value (first occurrence, unfolded).
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\r\n\r\n").next().unwrap_or_default();
        let mut out: Option<String> = None;
        for line in head.split("\r\n") {
            if let Some(cur) = out.as_mut() {
                if line.starts_with(' ') || line.starts_with('\t') {
                    cur.push_str(line.trim_start());
                    continue;
                }
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                if k.eq_ignore_ascii_case(name) {
                    out = Some(v.trim().to_string());
                }
            }
        }
        out
    }

    pub fn body(&self) -> String {
        self.data
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default()
    }
}

/// How the SMTP server speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpMode {
    Plain,
    StartTls,
    /// TLS from the first byte (smtps).
    Tls,
}

#[derive(Clone)]
pub struct SmtpServer {
    pub addr: SocketAddr,
    pub mails: Arc<Mutex<Vec<Mail>>>,
    /// The server certificate, PEM (for the client to trust).
    pub cert_pem: String,
}

impl SmtpServer {
    pub async fn start(mode: SmtpMode) -> SmtpServer {
        let ck =
            rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).expect("certificate");
        let cert_pem = ck.cert.pem();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_no_client_auth()
            .with_single_cert(
                vec![ck.cert.der().clone()],
                rustls::pki_types::PrivateKeyDer::Pkcs8(ck.key_pair.serialize_der().into()),
            )
            .expect("tls config");
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let mails = Arc::new(Mutex::new(Vec::new()));
        let m = mails.clone();
        tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                let (m, acceptor) = (m.clone(), acceptor.clone());
                tokio::spawn(async move {
                    match mode {
                        SmtpMode::Tls => {
                            let Ok(tls) = acceptor.accept(sock).await else {
                                return;
                            };
                            let _ = session(tls, &m, false, true, true).await;
                        }
                        _ => {
                            let offer = mode == SmtpMode::StartTls;
                            if let Ok(Some(sock)) = session(sock, &m, offer, false, true).await {
                                if let Ok(tls) = acceptor.accept(sock).await {
                                    let _ = session(tls, &m, false, true, false).await;
                                }
                            }
                        }
                    }
                });
            }
        });
        SmtpServer {
            addr,
            mails,
            cert_pem,
        }
    }

    pub fn mails(&self) -> Vec<Mail> {
        self.mails.lock().expect("lock").clone()
    }
}

/// One SMTP session on `sock`. Returns the socket when the client asked for STARTTLS.
async fn session<S: AsyncRead + AsyncWrite + Unpin>(
    sock: S,
    mails: &Mutex<Vec<Mail>>,
    offer_starttls: bool,
    tls: bool,
    greet: bool,
) -> std::io::Result<Option<S>> {
    let mut r = BufReader::new(sock);
    if greet {
        r.get_mut()
            .write_all(b"220 127.0.0.1 ESMTP test\r\n")
            .await?;
    }
    let (mut from, mut to, mut auth) = (String::new(), Vec::new(), None);
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).await? == 0 {
            return Ok(None);
        }
        let cmd = line.trim_end().to_string();
        let upper = cmd.to_ascii_uppercase();
        let reply: String = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            let mut s = String::from("250-127.0.0.1\r\n");
            if offer_starttls {
                s.push_str("250-STARTTLS\r\n");
            }
            s.push_str("250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n");
            s
        } else if upper == "STARTTLS" && offer_starttls {
            r.get_mut().write_all(b"220 go ahead\r\n").await?;
            return Ok(Some(r.into_inner()));
        } else if let Some(b64) = upper.strip_prefix("AUTH PLAIN ") {
            // Decode from the original (case-sensitive) text.
            let raw = &cmd[cmd.len() - b64.len()..];
            let decoded = base64_decode(raw);
            auth = Some(decoded.trim_start_matches('\0').to_string());
            "235 ok\r\n".into()
        } else if upper.starts_with("MAIL FROM:") {
            from = cmd[10..].trim().trim_matches(['<', '>']).to_string();
            let from_end = from.find(['>', ' ']).unwrap_or(from.len());
            from.truncate(from_end);
            "250 ok\r\n".into()
        } else if upper.starts_with("RCPT TO:") {
            to.push(cmd[8..].trim().trim_matches(['<', '>']).to_string());
            "250 ok\r\n".into()
        } else if upper == "DATA" {
            r.get_mut().write_all(b"354 end with .\r\n").await?;
            let mut data = String::new();
            loop {
                let mut l = String::new();
                if r.read_line(&mut l).await? == 0 {
                    return Ok(None);
                }
                if l == ".\r\n" {
                    break;
                }
                data.push_str(l.strip_prefix('.').unwrap_or(&l));
            }
            mails.lock().expect("lock").push(Mail {
                from: std::mem::take(&mut from),
                to: std::mem::take(&mut to),
                data,
                tls,
                auth: auth.clone(),
            });
            "250 queued\r\n".into()
        } else if upper == "RSET" || upper == "NOOP" {
            "250 ok\r\n".into()
        } else if upper == "QUIT" {
            r.get_mut().write_all(b"221 bye\r\n").await?;
            return Ok(None);
        } else {
            "502 not implemented\r\n".into()
        };
        r.get_mut().write_all(reply.as_bytes()).await?;
    }
}

fn base64_decode(s: &str) -> String {
    const ABC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0u32;
    let mut n = 0;
    let mut out = Vec::new();
    for c in s.bytes() {
        let Some(v) = ABC.iter().position(|&a| a == c) else {
            continue;
        };
        bits = (bits << 6) | v as u32;
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
            bits &= (1 << n) - 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
