//! A typed async client for ONE Bitaxe's AxeOS HTTP API. No scheduling, no retries: callers decide.
//!
//! Manners: one shared [`reqwest::Client`] (see [`Http`]), connect and total timeouts, a cap on the
//! reply size, never an `Origin` header (AxeOS answers 401 to origins it does not like), and no
//! redirects followed: a 3xx is reported as [`Error::Redirected`] (a PATCH must never be replayed
//! at another address, and a miner never answers with one).
#![forbid(unsafe_code)]

mod error;
mod models;

pub use error::Error;
pub use models::{difficulty, efficiency, AsicInfo, Info, ParseError, SettingsPatch};

use std::time::Duration;

use serde_json::Value;

/// Largest reply we read. A real `/info` is under 8 KiB; `/statistics` can reach a few hundred.
pub const MAX_BODY_BYTES: usize = 512 * 1024;

/// Timeouts for the shared HTTP client.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub connect: Duration,
    pub total: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(3),
            total: Duration::from_secs(5),
        }
    }
}

/// The one HTTP client shared by every miner (connection pool, timeouts).
#[derive(Debug, Clone)]
pub struct Http {
    inner: reqwest::Client,
    timeouts: Timeouts,
}

impl Http {
    pub fn new(timeouts: Timeouts) -> Http {
        let inner = reqwest::Client::builder()
            .connect_timeout(timeouts.connect)
            .timeout(timeouts.total)
            .pool_idle_timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(1)
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("bitaxe-scheduler/", env!("CARGO_PKG_VERSION")))
            .build()
            // Only fails if the TLS backend cannot start; we build without TLS.
            .unwrap_or_default();
        Http { inner, timeouts }
    }
}

impl Default for Http {
    fn default() -> Self {
        Http::new(Timeouts::default())
    }
}

/// Turn what a user typed (`IP`, `IP:PORT`, `http://HOST[:PORT]`) into the stored `http://...` form.
pub fn normalize_address(input: &str) -> Result<String, Error> {
    let bad = || Error::BadAddress(input.to_string());
    let trimmed = input.trim().trim_end_matches('/');
    let rest = match trimmed.split_once("://") {
        Some(("http", rest)) => rest,
        Some(_) => return Err(bad()),
        None => trimmed,
    };
    let valid_char =
        |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']');
    if rest.is_empty() || rest.contains('/') || !rest.chars().all(valid_char) {
        return Err(bad());
    }
    let host = match rest.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') || host.ends_with(']') => {
            port.parse::<u16>()
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(bad)?;
            host
        }
        _ => rest,
    };
    if host.is_empty() {
        return Err(bad());
    }
    Ok(format!("http://{rest}"))
}

/// A client for one miner: cheap to clone, shares the [`Http`] pool.
#[derive(Debug, Clone)]
pub struct Client {
    http: Http,
    base: String,
}

impl Client {
    /// `address` is anything [`normalize_address`] accepts.
    pub fn new(http: &Http, address: &str) -> Result<Client, Error> {
        Ok(Client {
            http: http.clone(),
            base: normalize_address(address)?,
        })
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// `GET /api/system/info`.
    pub async fn info(&self) -> Result<Info, Error> {
        let url = self.url("/api/system/info");
        let text = self.get_text(&url).await?;
        Info::parse(text.as_bytes()).map_err(|e| Error::InvalidJson {
            url,
            detail: e.to_string(),
            excerpt: error::excerpt(&text, 120),
        })
    }

    /// `GET /api/system/asic` (v2.7+).
    pub async fn asic(&self) -> Result<AsicInfo, Error> {
        let value = self.get_json("/api/system/asic").await?;
        Ok(AsicInfo::from_json(&value))
    }

    /// `PATCH /api/system`. Success is any 2xx; the body (usually empty) is not parsed.
    pub async fn patch(&self, settings: &SettingsPatch) -> Result<(), Error> {
        let url = self.url("/api/system");
        let body = serde_json::to_vec(settings).unwrap_or_default();
        let request = self
            .http
            .inner
            .patch(&url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
        let (status, text) = self.send(&url, request).await?;
        match status {
            s if (200..300).contains(&s) => Ok(()),
            400 => Err(Error::Rejected {
                url,
                message: error::excerpt(&text, 200),
            }),
            s => Err(Error::Status {
                url,
                status: s,
                excerpt: error::excerpt(&text, 200),
            }),
        }
    }

    /// `POST /api/system/restart`. The miner answers, then reboots about a second later.
    pub async fn restart(&self) -> Result<(), Error> {
        self.post("/api/system/restart").await
    }

    /// `POST /api/system/pause` (v2.14+; not persisted across reboots). Firmware without the
    /// route gives [`Error::Unsupported`], so a caller can fall back to the lowest settings.
    pub async fn pause(&self) -> Result<(), Error> {
        self.post_optional("/api/system/pause", "pause").await
    }

    /// `POST /api/system/resume` (v2.14+); [`Error::Unsupported`] on older firmware.
    pub async fn resume(&self) -> Result<(), Error> {
        self.post_optional("/api/system/resume", "resume").await
    }

    /// POST to a route that older firmware lacks: its 404 (v2.9+) or its 302 to the captive
    /// portal at `/` (before v2.9) becomes [`Error::Unsupported`].
    async fn post_optional(&self, path: &str, what: &'static str) -> Result<(), Error> {
        match self.post(path).await {
            Err(Error::Status {
                url, status: 404, ..
            }) => Err(Error::Unsupported { url, what }),
            Err(Error::Redirected {
                url,
                status: 302,
                location: Some(l),
            }) if l == "/" => Err(Error::Unsupported { url, what }),
            other => other,
        }
    }

    async fn post(&self, path: &str) -> Result<(), Error> {
        let url = self.url(path);
        let request = self.http.inner.post(&url);
        let (status, text) = self.send(&url, request).await?;
        if (200..300).contains(&status) {
            Ok(())
        } else {
            Err(Error::Status {
                url,
                status,
                excerpt: error::excerpt(&text, 200),
            })
        }
    }

    /// GET `url`; the body of a 2xx reply.
    async fn get_text(&self, url: &str) -> Result<String, Error> {
        let request = self.http.inner.get(url);
        let (status, text) = self.send(url, request).await?;
        if !(200..300).contains(&status) {
            return Err(Error::Status {
                url: url.to_string(),
                status,
                excerpt: error::excerpt(&text, 200),
            });
        }
        Ok(text)
    }

    async fn get_json(&self, path: &str) -> Result<Value, Error> {
        let url = self.url(path);
        let text = self.get_text(&url).await?;
        serde_json::from_str(&text).map_err(|e| Error::InvalidJson {
            url,
            detail: e.to_string(),
            excerpt: error::excerpt(&text, 120),
        })
    }

    /// Send, then read at most [`MAX_BODY_BYTES`] of the reply.
    async fn send(
        &self,
        url: &str,
        request: reqwest::RequestBuilder,
    ) -> Result<(u16, String), Error> {
        let mut response = request.send().await.map_err(|e| self.transport(url, e))?;
        let status = response.status().as_u16();
        if response.status().is_redirection() {
            let location = response
                .headers()
                .get(reqwest::header::LOCATION)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
            return Err(Error::Redirected {
                url: url.to_string(),
                status,
                location,
            });
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| self.transport(url, e))? {
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(Error::TooLarge {
                    url: url.to_string(),
                    limit: MAX_BODY_BYTES,
                });
            }
            body.extend_from_slice(&chunk);
        }
        Ok((status, String::from_utf8_lossy(&body).into_owned()))
    }

    fn transport(&self, url: &str, e: reqwest::Error) -> Error {
        let url = url.to_string();
        if e.is_timeout() {
            return Error::Timeout {
                url,
                timeout: self.http.timeouts.total,
            };
        }
        let mut detail = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            detail = s.to_string();
            if let Some(io) = s.downcast_ref::<std::io::Error>() {
                if io.kind() == std::io::ErrorKind::ConnectionRefused {
                    return Error::Refused { url };
                }
            }
            source = s.source();
        }
        Error::Unreachable { url, detail }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("127.0.0.1", "http://127.0.0.1")]
    #[case("127.0.0.1:8080", "http://127.0.0.1:8080")]
    #[case("http://127.0.0.5:81/", "http://127.0.0.5:81")]
    #[case("http://bitaxe.local", "http://bitaxe.local")]
    #[case(" miner-1 ", "http://miner-1")]
    fn addresses_normalise(#[case] input: &str, #[case] expected: &str) {
        assert_eq!(normalize_address(input).ok().as_deref(), Some(expected));
    }

    #[rstest]
    #[case("https://127.0.0.1")]
    #[case("ftp://127.0.0.1")]
    #[case("")]
    #[case("127.0.0.1:0")]
    #[case("127.0.0.1:99999")]
    #[case("http://127.0.0.1/api")]
    #[case("bad host")]
    fn bad_addresses_are_refused(#[case] input: &str) {
        assert!(matches!(
            normalize_address(input),
            Err(Error::BadAddress(_))
        ));
    }

    #[rstest]
    #[case(serde_json::json!("4.29G"), 4.29e9)]
    #[case(serde_json::json!("2.03 G"), 2.03e9)]
    #[case(serde_json::json!("13M"), 13e6)]
    #[case(serde_json::json!("138.17 M"), 138.17e6)]
    #[case(serde_json::json!(49224525), 49224525.0)]
    #[case(serde_json::json!("512"), 512.0)]
    fn difficulties_parse(#[case] v: Value, #[case] expected: f64) {
        let got = difficulty(&v).unwrap_or(f64::NAN);
        assert!((got - expected).abs() < 1.0, "{v} gave {got}");
    }

    #[test]
    fn patch_sends_whole_frequencies_as_integers() {
        let p = SettingsPatch {
            core_voltage: Some(1150),
            frequency: Some(525.0),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_string(&p).unwrap_or_default(),
            r#"{"coreVoltage":1150,"frequency":525}"#
        );
        let q = SettingsPatch {
            frequency: Some(531.25),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_string(&q).unwrap_or_default(),
            r#"{"frequency":531.25}"#
        );
    }

    #[rstest]
    #[case(serde_json::json!("66:f3:55:23:1a:bd"), Some("66:F3:55:23:1A:BD"))]
    #[case(serde_json::json!("10-F5-12-33-BB-F0"), Some("10:F5:12:33:BB:F0"))]
    #[case(serde_json::json!("10:F5:12:33:BB"), None)]
    #[case(serde_json::json!("zz:F5:12:33:BB:F0"), None)]
    #[case(serde_json::json!(42), None)]
    fn mac_addresses_normalise(#[case] v: Value, #[case] expected: Option<&str>) {
        let info = Info::from_json(serde_json::json!({ "macAddr": v, "deviceModel": "Gamma" }));
        assert_eq!(info.mac_addr.as_deref(), expected);
        assert_eq!(info.device_model.as_deref(), Some("Gamma"));
    }

    #[rstest]
    #[case(&b"[]"[..], "an array")]
    #[case(&b"null"[..], "null")]
    #[case(&b"\"x\""[..], "a string")]
    fn non_objects_are_typed_errors(#[case] body: &[u8], #[case] kind: &'static str) {
        assert_eq!(Info::parse(body).err(), Some(ParseError::NotAnObject(kind)));
    }
}
