//! The HTTP side of an attachment: one scheduler's address, its token and (over TLS) its pinned
//! certificate. `connect` checks that the daemon answers, takes the token and speaks a major
//! version this app knows; `call` runs one desktop command on the daemon
//! (`POST /api/v1/call/{command}`, the invoke arguments as the body); `events` opens the SSE
//! stream. Redirects are not followed and no proxy is used, so the token goes to that address
//! only.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::{StatusCode, Url};
use serde_json::Value;

use crate::error::CmdError;
use crate::remote::tls::{self, PinVerifier};

/// The port `bitaxe-scheduler --serve` listens on when none is given.
pub const DEFAULT_PORT: u16 = 8417;
/// The API major version this app speaks.
pub const MAJOR: u64 = 1;

/// How long a command may take on the daemon (a scan or a slow miner write included).
const CALL_TIMEOUT: Duration = Duration::from_secs(60);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// The daemon sends a keep-alive comment every 15 s: silence this long means the link is dead.
const STREAM_SILENCE: Duration = Duration::from_secs(45);

/// Why an attachment could not be made. Never holds the token.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConnectError {
    #[error("address: {0}")]
    Address(String),
    #[error("the scheduler at {host} does not answer: {why}")]
    Unreachable { host: String, why: String },
    #[error("the scheduler at {host} refused the token")]
    BadToken { host: String },
    #[error("the scheduler at {host} runs API version {found}; this app speaks version 1.x: update the older of the two")]
    Version { host: String, found: String },
    #[error("the scheduler at {host} uses TLS: confirm its certificate fingerprint first")]
    Unpinned { host: String },
    #[error("the certificate of {host} changed: pinned {pinned}, now {found}. If you renewed it, compare with `bitaxe-scheduler --status` and connect again; otherwise someone may be in the way")]
    FingerprintChanged {
        host: String,
        pinned: String,
        found: String,
    },
    #[error("{host} did not answer like a Bitaxe scheduler: {why}")]
    NotAScheduler { host: String, why: String },
}

impl ConnectError {
    pub fn code(&self) -> &'static str {
        match self {
            ConnectError::Address(_) => "bad_address",
            ConnectError::Unreachable { .. } => "unreachable",
            ConnectError::BadToken { .. } => "bad_token",
            ConnectError::Version { .. } => "incompatible_version",
            ConnectError::Unpinned { .. } => "unpinned",
            ConnectError::FingerprintChanged { .. } => "fingerprint_changed",
            ConnectError::NotAScheduler { .. } => "not_a_scheduler",
        }
    }
}

impl From<ConnectError> for CmdError {
    fn from(e: ConnectError) -> Self {
        CmdError::new(e.code(), e.to_string())
    }
}

/// Where the scheduler is: `http(s)://host:port`, nothing else.
#[derive(Debug, Clone, PartialEq)]
pub struct Address {
    pub base: Url,
}

/// Whether the authority of `url` (`scheme://authority/...`) ends in an explicit `:port`.
fn typed_port(url: &str) -> Option<()> {
    let authority = url.split_once("://")?.1.split('/').next()?;
    let (host, port) = authority.rsplit_once(':')?;
    let bare_v6 = host.contains(':') && !host.ends_with(']');
    (!port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) && !bare_v6).then_some(())
}

impl Address {
    /// `host:port`, `host` (port 8417), `http://host:port` or `https://host:port`.
    pub fn parse(text: &str) -> Result<Address, ConnectError> {
        let text = text.trim().trim_end_matches('/');
        if text.is_empty() {
            return Err(ConnectError::Address("give host:port".into()));
        }
        let with_scheme = if text.contains("://") {
            text.to_string()
        } else {
            format!("http://{text}")
        };
        let url = Url::parse(&with_scheme)
            .map_err(|e| ConnectError::Address(format!("{text:?} is not host:port ({e})")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(ConnectError::Address(format!(
                "{}:// is not supported: use http:// or https://",
                url.scheme()
            )));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(ConnectError::Address(
                "no user or password in the address: the token goes in its own field".into(),
            ));
        }
        if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
            return Err(ConnectError::Address(format!(
                "{text:?}: only scheme, host and port (no path)"
            )));
        }
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| ConnectError::Address(format!("{text:?} has no host")))?
            .to_string();
        // The URL parser forgets a port equal to the scheme's default (80, 443): one typed
        // counts, only a missing one means 8417.
        let port = url
            .port()
            .or_else(|| typed_port(&with_scheme).and(url.port_or_known_default()))
            .unwrap_or(DEFAULT_PORT);
        let base = Url::parse(&format!("{}://{}:{port}/", url.scheme(), bracket(&host)))
            .map_err(|e| ConnectError::Address(e.to_string()))?;
        Ok(Address { base })
    }

    pub fn tls(&self) -> bool {
        self.base.scheme() == "https"
    }

    /// `host:port` as shown to the user.
    pub fn host(&self) -> String {
        format!(
            "{}:{}",
            self.base.host_str().unwrap_or_default(),
            self.base.port_or_known_default().unwrap_or(DEFAULT_PORT)
        )
    }

    /// The address as stored and shown in the form (`https://host:port` or `host:port`).
    pub fn display(&self) -> String {
        if self.tls() {
            format!("https://{}", self.host())
        } else {
            self.host()
        }
    }
}

fn bracket(host: &str) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

/// A bearer token whose Debug output never shows it.
#[derive(Clone, PartialEq)]
pub struct Token(String);

impl Token {
    pub fn new(t: &str) -> Token {
        Token(t.trim().to_string())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token([redacted])")
    }
}

/// What `GET /api/v1/version` said.
#[derive(Debug, Clone, PartialEq)]
pub struct Version {
    pub api: String,
    pub app: Option<String>,
}

/// One scheduler, ready for commands and the event stream.
#[derive(Debug, Clone)]
pub struct Client {
    address: Address,
    token: Token,
    pin: Option<String>,
    calls: reqwest::Client,
    stream: reqwest::Client,
    seen: Arc<Mutex<Option<String>>>,
}

/// The certificate fingerprint a TLS handshake showed (set by the pin verifier).
type Seen = Arc<Mutex<Option<String>>>;

fn builder(
    address: &Address,
    pin: Option<String>,
) -> Result<(reqwest::ClientBuilder, Seen), ConnectError> {
    let mut b = reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .user_agent(concat!("bitaxe-fleet/", env!("CARGO_PKG_VERSION")));
    let verifier = PinVerifier::new(pin);
    let seen = verifier.seen();
    if address.tls() {
        let config = verifier
            .into_config()
            .map_err(|e| ConnectError::Address(format!("TLS: {e}")))?;
        b = b.use_preconfigured_tls(config);
    }
    Ok((b, seen))
}

/// The fingerprint of the certificate an `https://` scheduler shows, read from the handshake
/// alone (the handshake is then broken off: nothing is sent). `None` for `http://`.
pub async fn probe_certificate(address: &Address) -> Result<Option<String>, ConnectError> {
    if !address.tls() {
        return Ok(None);
    }
    let (b, seen) = builder(address, None)?;
    let http = b
        .timeout(CONNECT_TIMEOUT * 2)
        .build()
        .map_err(|e| ConnectError::Address(e.to_string()))?;
    let err = match http.get(address.base.clone()).send().await {
        Ok(_) => None,
        Err(e) => Some(chain(&e)),
    };
    let found = seen.lock().ok().and_then(|s| s.clone());
    match (found, err) {
        (Some(fp), _) => Ok(Some(fp)),
        (None, why) => Err(ConnectError::Unreachable {
            host: address.host(),
            why: why.unwrap_or_else(|| "no certificate shown".into()),
        }),
    }
}

/// The error and its causes in one line (reqwest hides the interesting part in `source`).
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cur = s.source();
    }
    out
}

/// An error body: `{code, message}` (the call route) or `{error, message}` (the other routes).
fn error_of(status: StatusCode, body: &str) -> CmdError {
    let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let code = v
        .get("code")
        .or_else(|| v.get("error"))
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| format!("http_{}", status.as_u16()));
    let message = v
        .get("message")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| format!("the scheduler answered {status}"));
    CmdError::new(&code, message)
}

impl Client {
    /// Check the scheduler at `address`: it answers, takes `token`, and speaks major version 1.
    /// Over TLS its certificate must have the fingerprint `pin`.
    pub async fn connect(
        address: &Address,
        token: &str,
        pin: Option<&str>,
    ) -> Result<(Client, Version), ConnectError> {
        let client = Client::new(address, token, pin)?;
        let version = client.version().await?;
        Ok((client, version))
    }

    /// A client without any request made yet (the supervisor checks it on each reconnect).
    pub fn new(address: &Address, token: &str, pin: Option<&str>) -> Result<Client, ConnectError> {
        let pin = match (address.tls(), pin) {
            (false, _) => None,
            (true, None) => {
                return Err(ConnectError::Unpinned {
                    host: address.host(),
                })
            }
            (true, Some(p)) => Some(tls::normalise(p).ok_or_else(|| {
                ConnectError::Address(format!("{p:?} is not a SHA256 fingerprint"))
            })?),
        };
        let (b, seen) = builder(address, pin.clone())?;
        let calls = b
            .timeout(CALL_TIMEOUT)
            .build()
            .map_err(|e| ConnectError::Address(e.to_string()))?;
        let (b, _) = builder(address, pin.clone())?;
        let stream = b
            .read_timeout(STREAM_SILENCE)
            .build()
            .map_err(|e| ConnectError::Address(e.to_string()))?;
        Ok(Client {
            address: address.clone(),
            token: Token::new(token),
            pin,
            calls,
            stream,
            seen,
        })
    }

    pub fn address(&self) -> &Address {
        &self.address
    }

    pub fn fingerprint(&self) -> Option<&str> {
        self.pin.as_deref()
    }

    fn url(&self, path: &str) -> Url {
        let mut u = self.address.base.clone();
        u.set_path(path);
        u
    }

    /// A transport failure in words: a changed certificate is named as such.
    fn failure(&self, e: &reqwest::Error) -> ConnectError {
        if let Some(pinned) = &self.pin {
            let found = self.seen.lock().ok().and_then(|s| s.clone());
            if let Some(found) = found.filter(|f| f != pinned) {
                return ConnectError::FingerprintChanged {
                    host: self.address.host(),
                    pinned: pinned.clone(),
                    found,
                };
            }
        }
        ConnectError::Unreachable {
            host: self.address.host(),
            why: chain(e),
        }
    }

    /// `GET /api/v1/version`: refuses a token the daemon refuses and another major version.
    pub async fn version(&self) -> Result<Version, ConnectError> {
        let host = self.address.host();
        let r = self
            .calls
            .get(self.url("/api/v1/version"))
            .bearer_auth(self.token.expose())
            .timeout(CONNECT_TIMEOUT * 2)
            .send()
            .await
            .map_err(|e| self.failure(&e))?;
        let status = r.status();
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            return Err(ConnectError::BadToken { host });
        }
        let body = r.text().await.map_err(|e| self.failure(&e))?;
        if !status.is_success() {
            let e = error_of(status, &body);
            return Err(ConnectError::NotAScheduler {
                host,
                why: e.message,
            });
        }
        let v: Value = serde_json::from_str(&body).map_err(|_| ConnectError::NotAScheduler {
            host: host.clone(),
            why: "the version is not JSON".into(),
        })?;
        let api = v
            .get("version")
            .or_else(|| v.get("api"))
            .and_then(Value::as_str)
            .ok_or_else(|| ConnectError::NotAScheduler {
                host: host.clone(),
                why: "no version in its answer".into(),
            })?
            .to_string();
        let major = api
            .split('.')
            .next()
            .and_then(|m| m.trim().parse::<u64>().ok());
        if major != Some(MAJOR) {
            return Err(ConnectError::Version { host, found: api });
        }
        let app = v.get("app").and_then(Value::as_str).map(str::to_string);
        Ok(Version { api, app })
    }

    /// Run the desktop command `name` on the daemon with the invoke arguments `args`.
    pub async fn call(&self, name: &str, args: Value) -> Result<Value, CmdError> {
        let args = if args.is_null() {
            Value::Object(Default::default())
        } else {
            args
        };
        let r = self
            .calls
            .post(self.url(&format!("/api/v1/call/{name}")))
            .bearer_auth(self.token.expose())
            .json(&args)
            .send()
            .await
            .map_err(|e| CmdError::from(self.failure(&e)))
            .map_err(disconnected)?;
        let status = r.status();
        let body = r
            .text()
            .await
            .map_err(|e| disconnected(CmdError::from(self.failure(&e))))?;
        if status.is_success() {
            if body.trim().is_empty() {
                return Ok(Value::Null);
            }
            return serde_json::from_str(&body).map_err(|e| {
                CmdError::new(
                    "bad_answer",
                    format!("the scheduler's answer to {name} is not JSON: {e}"),
                )
            });
        }
        let mut e = error_of(status, &body);
        if status == StatusCode::UNAUTHORIZED {
            e = CmdError::from(ConnectError::BadToken {
                host: self.address.host(),
            });
        } else if status == StatusCode::FORBIDDEN && e.code == "forbidden" {
            e.message = format!(
                "{} (this token only reads: connect with the control token to change anything)",
                e.message
            );
        }
        Err(e)
    }

    /// Open `GET /api/v1/events`, resuming after `last_id` when given.
    pub async fn events(&self, last_id: Option<u64>) -> Result<reqwest::Response, StreamError> {
        let mut req = self
            .stream
            .get(self.url("/api/v1/events"))
            .bearer_auth(self.token.expose())
            .header("accept", "text/event-stream");
        if let Some(id) = last_id {
            req = req.header("last-event-id", id.to_string());
        }
        let r = req
            .send()
            .await
            .map_err(|e| StreamError::from(self.failure(&e)))?;
        match r.status() {
            s if s.is_success() => Ok(r),
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                Err(StreamError::Refused(ConnectError::BadToken {
                    host: self.address.host(),
                }))
            }
            s => Err(StreamError::Lost(format!("the scheduler answered {s}"))),
        }
    }

    /// A failure while reading the stream, in words.
    pub fn stream_failure(&self, e: &reqwest::Error) -> StreamError {
        StreamError::from(self.failure(e))
    }
}

/// An event stream that failed: worth retrying (`Lost`) or not until the user acts (`Refused`:
/// a refused token, a changed certificate, another major version).
#[derive(Debug, Clone, PartialEq)]
pub enum StreamError {
    Lost(String),
    Refused(ConnectError),
}

impl From<ConnectError> for StreamError {
    fn from(e: ConnectError) -> Self {
        match e {
            ConnectError::Unreachable { why, .. } => StreamError::Lost(why),
            other => StreamError::Refused(other),
        }
    }
}

/// A command that could not reach the daemon says so in its code: the UI keeps its last data.
fn disconnected(mut e: CmdError) -> CmdError {
    if e.code == "unreachable" {
        e.code = "disconnected".into();
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_take_host_port_and_a_scheme_and_nothing_else() {
        let a = Address::parse("sched.example.invalid").expect("host");
        assert_eq!(a.base.as_str(), "http://sched.example.invalid:8417/");
        assert!(!a.tls());
        let a = Address::parse(" https://127.0.0.1:9000/ ").expect("https");
        assert!(a.tls());
        assert_eq!(a.host(), "127.0.0.1:9000");
        assert_eq!(a.display(), "https://127.0.0.1:9000");
        assert_eq!(
            Address::parse("127.0.0.1:80").expect("80").host(),
            "127.0.0.1:80"
        );
        assert_eq!(
            Address::parse("[::1]:8417").expect("v6").base.as_str(),
            "http://[::1]:8417/"
        );
        for bad in [
            "",
            "ftp://127.0.0.1",
            "http://u:p@127.0.0.1:1",
            "127.0.0.1:1/api",
            "127.0.0.1:99999",
        ] {
            let e = Address::parse(bad).expect_err(bad);
            assert_eq!(e.code(), "bad_address", "{bad}: {e}");
        }
    }

    #[test]
    fn tokens_stay_out_of_debug_output() {
        let c = Client::new(
            &Address::parse("127.0.0.1:1").expect("address"),
            "s3cret-token",
            None,
        )
        .expect("client");
        assert!(!format!("{c:?}").contains("s3cret"));
        let tls = Address::parse("https://127.0.0.1:1").expect("address");
        assert_eq!(
            Client::new(&tls, "t", None).expect_err("unpinned").code(),
            "unpinned"
        );
    }

    #[test]
    fn error_bodies_of_either_shape_keep_their_code() {
        let e = error_of(
            StatusCode::NOT_FOUND,
            r#"{"code":"unknown_command","message":"no"}"#,
        );
        assert_eq!(
            (e.code.as_str(), e.message.as_str()),
            ("unknown_command", "no")
        );
        let e = error_of(
            StatusCode::CONFLICT,
            r#"{"error":"emergency_in_force","message":"m"}"#,
        );
        assert_eq!(e.code, "emergency_in_force");
        let e = error_of(StatusCode::BAD_GATEWAY, "<html>");
        assert_eq!(e.code, "http_502");
    }
}
