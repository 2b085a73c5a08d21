//! The API against a real engine over simulated miners on loopback: every security rule, the
//! routes, the event stream and the metrics.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bitaxe_api::{ApiOptions, ApiServer, LockoutPolicy, RateCap, Tokens};
use bitaxe_core::clock::FakeClock;
use bitaxe_core::config::{Config, MinerConfig};
use bitaxe_core::{EngineHandle, EngineOptions};
use bitaxe_sim::SimMiner;
use chrono::NaiveDateTime;
use futures::StreamExt;
use reqwest::{header, StatusCode};

struct Api {
    _dir: tempfile::TempDir,
    miners: Vec<SimMiner>,
    engine: EngineHandle,
    server: Option<ApiServer>,
    tokens: Tokens,
    http: reqwest::Client,
    config: PathBuf,
}

impl Api {
    async fn start(n: usize, options: ApiOptions) -> Api {
        Api::start_polling(n, options, 0.2).await
    }

    /// `check_every`: seconds between the engine's polls of each miner.
    async fn start_polling(n: usize, options: ApiOptions, check_every: f64) -> Api {
        let miners = bitaxe_sim::fleet("sim", n, |s| s.speed = 20.0)
            .await
            .expect("sims");
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("multi_scheduler_config.json");
        let cfg = Config {
            miners: miners
                .iter()
                .map(|m| MinerConfig {
                    profiles: Default::default(),
                    name: m.name().to_string(),
                    ip: m.url(),
                    enabled: true,
                    day_settings: None,
                    night_settings: None,
                    limits: None,
                })
                .collect(),
            check_interval: check_every,
            temp_check_interval: check_every,
            log_stats_interval: 0.5,
            transition_delay: 0.05,
            retry_delay: 0.05,
            timezone: "UTC".into(),
            ..Config::default()
        };
        cfg.save(&path).expect("save");
        let noon = NaiveDateTime::parse_from_str("2026-06-01 12:00", "%Y-%m-%d %H:%M")
            .expect("time")
            .and_utc();
        let mut opts = EngineOptions::new(&path);
        opts.clock = Arc::new(FakeClock::new(noon));
        opts.watch_every = Duration::from_millis(50);
        let engine = EngineHandle::start(opts).expect("engine");
        let (tokens, created) = Tokens::load_or_create(&path).expect("tokens");
        assert!(created);
        let server = ApiServer::start(
            engine.clone(),
            "127.0.0.1:0".parse().expect("addr"),
            tokens.clone(),
            options,
        )
        .await
        .expect("serve");
        Api {
            _dir: dir,
            miners,
            engine,
            server: Some(server),
            tokens,
            http: reqwest::Client::new(),
            config: path,
        }
    }

    fn addr(&self) -> SocketAddr {
        self.server.as_ref().expect("server").local_addr()
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr())
    }

    fn get(&self, path: &str, token: Option<&str>) -> reqwest::RequestBuilder {
        let r = self.http.get(self.url(path));
        match token {
            Some(t) => r.bearer_auth(t),
            None => r,
        }
    }

    fn post(&self, path: &str, token: &str) -> reqwest::RequestBuilder {
        self.http.post(self.url(path)).bearer_auth(token)
    }

    async fn stop(mut self) {
        if let Some(s) = self.server.take() {
            s.stop().await;
        }
        self.engine.shutdown(Duration::from_secs(5)).await;
    }
}

fn assert_safe_headers(r: &reqwest::Response) {
    let h = r.headers();
    assert_eq!(h.get("x-content-type-options").expect("nosniff"), "nosniff");
    assert_eq!(h.get(header::CACHE_CONTROL).expect("cache"), "no-store");
    for (name, _) in h.iter() {
        assert!(
            !name.as_str().starts_with("access-control-"),
            "CORS header {name}"
        );
    }
}

#[tokio::test]
async fn every_route_needs_a_token_version_included() {
    let api = Api::start(1, ApiOptions::default()).await;
    for path in [
        "/api/v1/version",
        "/api/v1/overview",
        "/metrics",
        "/api/v1/nope",
    ] {
        let r = api.get(path, None).send().await.expect("send");
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(
            r.headers().get(header::WWW_AUTHENTICATE).expect("www"),
            "Bearer"
        );
        assert_safe_headers(&r);
        let r = api
            .get(path, Some(&"0".repeat(64)))
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{path} wrong token");
    }
    let r = api
        .get("/api/v1/version", Some(api.tokens.read()))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::OK);
    assert_safe_headers(&r);
    let v: serde_json::Value = r.json().await.expect("json");
    assert_eq!(v["api"], "1.0");
    assert_eq!(v["app"], env!("CARGO_PKG_VERSION"));
    // Odd spellings of protected paths never reach a handler without a token.
    for path in [
        "//metrics",
        "//api/v1/overview",
        "/api/v1/../v1/overview",
        "/metrics/",
    ] {
        let r = api.get(path, None).send().await.expect("send");
        let status = r.status();
        let body = r.text().await.expect("text");
        assert!(
            !body.contains("bitaxe_") && !body.contains("\"miners\""),
            "{path}: {status} {body}"
        );
    }
    // The static page loads without a token, with the same headers.
    let r = api.get("/", None).send().await.expect("send");
    assert_eq!(r.status(), StatusCode::OK);
    assert_safe_headers(&r);
    assert!(r.text().await.expect("text").contains("Bitaxe"));
    api.stop().await;
}

#[tokio::test]
async fn the_read_token_reads_but_cannot_write() {
    let api = Api::start(1, ApiOptions::default()).await;
    let read = api.tokens.read().to_string();
    for path in [
        "/api/v1/pause",
        "/api/v1/resume",
        "/api/v1/emergency",
        "/api/v1/apply",
    ] {
        let r = api.post(path, &read).send().await.expect("send");
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path}");
        assert_safe_headers(&r);
    }
    assert!(!api.engine.overrides().paused);
    let r = api
        .post("/api/v1/pause", api.tokens.control())
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::OK);
    let v: serde_json::Value = api
        .get("/api/v1/overview", Some(&read))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(v["paused"], true);
    assert_eq!(v["miners"][0]["name"], "sim-1");
    api.stop().await;
}

#[tokio::test]
async fn a_foreign_host_is_refused_dns_rebinding() {
    let api = Api::start(1, ApiOptions::default()).await;
    let port = api.addr().port();
    for host in [
        format!("evil.example:{port}"),
        format!("127.0.0.1:{}", port.wrapping_add(1)),
        "127.0.0.1".to_string(),
    ] {
        for path in ["/api/v1/version", "/"] {
            let r = api
                .get(path, Some(api.tokens.control()))
                .header(header::HOST, &host)
                .send()
                .await
                .expect("send");
            assert_eq!(r.status(), StatusCode::MISDIRECTED_REQUEST, "{host} {path}");
            assert_safe_headers(&r);
        }
    }
    let r = api
        .get("/api/v1/version", Some(api.tokens.read()))
        .header(header::HOST, format!("localhost:{port}"))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::OK);
    api.stop().await;
}

#[tokio::test]
async fn a_foreign_origin_is_refused() {
    let api = Api::start(1, ApiOptions::default()).await;
    let control = api.tokens.control().to_string();
    for origin in ["http://evil.example", "null", "https://127.0.0.1:1"] {
        let r = api
            .post("/api/v1/pause", &control)
            .header(header::ORIGIN, origin)
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{origin}");
        assert_safe_headers(&r);
    }
    assert!(!api.engine.overrides().paused);
    let r = api
        .post("/api/v1/pause", &control)
        .header(header::ORIGIN, format!("http://{}", api.addr()))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::OK);
    assert!(api.engine.overrides().paused);
    api.stop().await;
}

#[tokio::test]
async fn an_oversize_body_gets_413() {
    let api = Api::start(1, ApiOptions::default()).await;
    let big = format!(
        "{{\"profile\":\"night\",\"miner\":\"{}\"}}",
        "x".repeat(100 * 1024)
    );
    let r = api
        .post("/api/v1/apply", api.tokens.control())
        .header(header::CONTENT_TYPE, "application/json")
        .body(big.clone())
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_safe_headers(&r);
    // Without a length up front (chunked), the cap holds while reading.
    let chunks = futures::stream::iter(
        big.into_bytes()
            .chunks(8192)
            .map(|c| Ok::<_, std::io::Error>(c.to_vec()))
            .collect::<Vec<_>>(),
    );
    let r = api
        .post("/api/v1/apply", api.tokens.control())
        .header(header::CONTENT_TYPE, "application/json")
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    api.stop().await;
}

#[tokio::test]
async fn repeated_failures_lock_the_source_out() {
    let options = ApiOptions {
        lockout: LockoutPolicy {
            max_failures: 3,
            window: Duration::from_secs(60),
            lockout: Duration::from_millis(800),
        },
        ..ApiOptions::default()
    };
    let api = Api::start(1, options).await;
    // Asking without a token is no guess: it never locks anyone out.
    for _ in 0..5 {
        let r = api.get("/api/v1/version", None).send().await.expect("send");
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    for _ in 0..3 {
        let r = api
            .get("/api/v1/version", Some("guess"))
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    // Locked out: even the right token is refused for a while.
    let r = api
        .get("/api/v1/version", Some(api.tokens.control()))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_safe_headers(&r);
    tokio::time::sleep(Duration::from_millis(900)).await;
    let r = api
        .get("/api/v1/version", Some(api.tokens.control()))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::OK);
    api.stop().await;
}

#[tokio::test]
async fn requests_beyond_the_rate_cap_get_429() {
    let options = ApiOptions {
        rate: RateCap {
            per_second: 1.0,
            burst: 5.0,
        },
        ..ApiOptions::default()
    };
    let api = Api::start(1, options).await;
    let mut statuses = Vec::new();
    for _ in 0..8 {
        let r = api
            .get("/api/v1/version", Some(api.tokens.read()))
            .send()
            .await
            .expect("send");
        assert_safe_headers(&r);
        statuses.push(r.status());
    }
    assert!(
        statuses[..5].iter().all(|s| *s == StatusCode::OK),
        "{statuses:?}"
    );
    assert_eq!(statuses[7], StatusCode::TOO_MANY_REQUESTS, "{statuses:?}");
    api.stop().await;
}

#[tokio::test]
async fn per_miner_actions_reach_the_miner() {
    let api = Api::start(1, ApiOptions::default()).await;
    let control = api.tokens.control().to_string();
    let r = api
        .post("/api/v1/miners/nobody/restart", &control)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = api
        .post("/api/v1/miners/sim-1/explode", &control)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = api
        .post("/api/v1/miners/sim-1/disable", api.tokens.read())
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = api
        .post("/api/v1/miners/sim-1/disable", &control)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    let miners: serde_json::Value = api
        .get("/api/v1/miners", Some(api.tokens.read()))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(miners[0]["enabled"], false);
    api.stop().await;
}

#[tokio::test]
async fn the_config_is_read_and_edited_with_the_control_token_only() {
    let api = Api::start(1, ApiOptions::default()).await;
    let r = api
        .get("/api/v1/config", Some(api.tokens.read()))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let mut cfg: serde_json::Value = api
        .get("/api/v1/config", Some(api.tokens.control()))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    cfg["max_temp"] = serde_json::json!(61.0);
    let r = api
        .http
        .put(api.url("/api/v1/config"))
        .bearer_auth(api.tokens.control())
        .json(&cfg)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    assert_eq!(api.engine.config().max_temp, 61.0);
    let on_disk = bitaxe_core::config::Config::load(&api.config).expect("load");
    assert_eq!(on_disk.max_temp, 61.0);
    cfg["max_temp"] = serde_json::json!(-5.0);
    let r = api
        .http
        .put(api.url("/api/v1/config"))
        .bearer_auth(api.tokens.control())
        .json(&cfg)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let v: serde_json::Value = r.json().await.expect("json");
    assert_eq!(v["error"], "config_invalid", "{v}");
    assert_eq!(api.engine.config().max_temp, 61.0);
    api.stop().await;
}

#[tokio::test]
async fn apply_night_moves_the_sim() {
    let api = Api::start(1, ApiOptions::default()).await;
    let r = api
        .post("/api/v1/apply", api.tokens.control())
        .json(&serde_json::json!({"profile": "bogus"}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let v: serde_json::Value = r.json().await.expect("json");
    assert_eq!(v["error"], "unknown_profile");
    let r = api
        .post("/api/v1/apply", api.tokens.control())
        .json(&serde_json::json!({"profile": "night"}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::OK);
    let v: serde_json::Value = r.json().await.expect("json");
    assert_eq!(v["by"], "engine");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let nvs = api.miners[0].state().nvs;
        if nvs.frequency == 550.0 && nvs.core_voltage == 1200 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "sim stayed at {nvs:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let plan: serde_json::Value = api
        .get("/api/v1/plan", Some(api.tokens.read()))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(plan[0]["miner"], "sim-1");
    let r = api
        .get(
            "/api/v1/history?miner=sim-1&bucket=60",
            Some(api.tokens.read()),
        )
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::OK);
    let points: serde_json::Value = r.json().await.expect("json");
    assert!(points.is_array(), "{points}");
    api.stop().await;
}

/// Reads SSE frames (`id:` and `data:`) from a response until `n` events arrived.
async fn sse_events(r: reqwest::Response, n: usize) -> Vec<(u64, serde_json::Value)> {
    let mut body = r.bytes_stream();
    let mut buf = String::new();
    let mut out = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while out.len() < n {
        let chunk = tokio::time::timeout_at(deadline, body.next())
            .await
            .expect("events in time")
            .expect("stream open")
            .expect("chunk");
        buf.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buf.find("\n\n") {
            let frame: String = buf.drain(..end + 2).collect();
            let mut id = None;
            let mut data = None;
            for line in frame.lines() {
                if let Some(v) = line.strip_prefix("id:") {
                    id = v.trim().parse::<u64>().ok();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data = serde_json::from_str(v.trim()).ok();
                }
            }
            if let (Some(id), Some(data)) = (id, data) {
                out.push((id, data));
            }
        }
    }
    out
}

#[tokio::test]
async fn events_stream_with_increasing_ids_and_replay() {
    let api = Api::start(2, ApiOptions::default()).await;
    let r = api
        .get("/api/v1/events", Some(api.tokens.read()))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::OK);
    assert_safe_headers(&r);
    assert!(r
        .headers()
        .get(header::CONTENT_TYPE)
        .expect("type")
        .to_str()
        .expect("str")
        .starts_with("text/event-stream"));
    let first = sse_events(r, 4).await;
    let ids: Vec<u64> = first.iter().map(|e| e.0).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    assert!(first.iter().all(|e| e.1["kind"].is_string()));
    // Reconnect after the first: the next ones come again, in order, from the ring.
    let r = api
        .get("/api/v1/events", Some(api.tokens.read()))
        .header("Last-Event-ID", ids[0].to_string())
        .send()
        .await
        .expect("send");
    let again = sse_events(r, 3).await;
    assert_eq!(
        again.iter().map(|e| e.0).collect::<Vec<_>>(),
        ids[1..4].to_vec()
    );
    assert_eq!(again[0].1, first[1].1);
    api.stop().await;
}

#[tokio::test]
async fn metrics_in_base_units_per_miner_and_for_the_fleet() {
    let api = Api::start(2, ApiOptions::default()).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while api.engine.status().totals.online < 2 {
        assert!(tokio::time::Instant::now() < deadline, "sims not polled");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let r = api
        .get("/metrics", Some(api.tokens.read()))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::OK);
    assert_safe_headers(&r);
    let text = r.text().await.expect("text");
    let status = api.engine.status();
    let m = &status.miners[0];
    let info = m.info.as_ref().expect("info");
    let mac = info.mac_addr.clone().expect("mac");
    let line = |name: &str| {
        text.lines()
            .find(|l| l.starts_with(name) && l.contains("name=\"sim-1\""))
            .unwrap_or_else(|| panic!("no {name} for sim-1 in\n{text}"))
            .to_string()
    };
    let value = |l: &str| -> f64 { l.rsplit(' ').next().expect("v").parse().expect("number") };
    let hr = line("bitaxe_hashrate_hashes_per_second{");
    assert!(hr.contains(&format!("mac=\"{mac}\"")), "{hr}");
    assert!(value(&hr) > 1e9, "{hr}");
    let f = value(&line("bitaxe_frequency_hertz{"));
    assert!(f > 1e8, "frequency in hertz: {f}");
    let v = value(&line("bitaxe_core_voltage_volts{"));
    assert!((0.9..1.4).contains(&v), "core voltage in volts: {v}");
    line("bitaxe_shares_accepted_total{");
    line("bitaxe_temperature_celsius{");
    line("bitaxe_power_watts{");
    let states: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("bitaxe_state{") && l.contains("name=\"sim-1\""))
        .collect();
    assert_eq!(states.len(), 8, "{states:?}");
    let current: Vec<&&str> = states.iter().filter(|l| l.ends_with(" 1.0")).collect();
    assert_eq!(current.len(), 1, "{states:?}");
    assert!(text.contains("bitaxe_fleet_miners 2"), "{text}");
    let profile = line("bitaxe_profile{");
    assert!(
        profile.contains("profile=\"day\"") && profile.ends_with(" 1.0"),
        "{profile}"
    );
    assert!(text.contains("# TYPE bitaxe_shares_accepted counter"));
    assert!(text.trim_end().ends_with("# EOF"));
    // promtool reads the Prometheus text format, which a client gets by asking for text/plain.
    let plain = api
        .get("/metrics", Some(api.tokens.read()))
        .header(header::ACCEPT, "text/plain")
        .send()
        .await
        .expect("send")
        .text()
        .await
        .expect("text");
    assert!(
        plain.contains("# TYPE bitaxe_shares_accepted_total counter"),
        "{plain}"
    );
    promtool_check(&plain);
    api.stop().await;
}

/// `promtool check metrics` on the text, when promtool is installed (Debian: `prometheus`).
fn promtool_check(text: &str) {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let Ok(mut child) = child else {
        panic!(
            "promtool is not installed, so the metrics cannot be validated: install the Debian \
             package `prometheus` (scripts/setup.sh does)"
        );
    };
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("promtool");
    assert!(
        out.status.success(),
        "promtool: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn a_rotation_takes_effect_without_a_restart() {
    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("multi_scheduler_config.json");
    let (old, _) = Tokens::load_or_create(&config).expect("tokens");
    let fleet = Api::start(1, ApiOptions::default()).await;
    let server = ApiServer::start(
        fleet.engine.clone(),
        "127.0.0.1:0".parse().expect("addr"),
        old.clone(),
        ApiOptions {
            token_files: Some(config.clone()),
            reload_every: Duration::from_millis(50),
            ..ApiOptions::default()
        },
    )
    .await
    .expect("serve");
    let url = format!("http://{}/api/v1/version", server.local_addr());
    let http = reqwest::Client::new();
    let status = |t: String| {
        let (http, url) = (http.clone(), url.clone());
        async move {
            http.get(url)
                .bearer_auth(t)
                .send()
                .await
                .expect("send")
                .status()
        }
    };
    assert_eq!(status(old.control().into()).await, StatusCode::OK);
    let new = Tokens::rotate(&config).expect("rotate");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while status(new.control().into()).await != StatusCode::OK {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the new token never worked"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status(old.control().into()).await, StatusCode::UNAUTHORIZED);
    assert_eq!(status(old.read().into()).await, StatusCode::UNAUTHORIZED);
    assert_eq!(status(new.read().into()).await, StatusCode::OK);
    server.stop().await;
    fleet.stop().await;
}

#[tokio::test]
async fn tokens_live_beside_the_config() {
    let api = Api::start(1, ApiOptions::default()).await;
    let on_disk =
        std::fs::read_to_string(bitaxe_api::tokens::control_path(&api.config)).expect("token file");
    assert_eq!(on_disk.trim(), api.tokens.control());
    assert!(api
        .config
        .with_file_name("multi_scheduler_config.json.api-read-token")
        .exists());
    api.stop().await;
}

/// The figure: overview latency through the API (10 miners by default, 100 with BITAXE_LONG=1),
/// and SSE fan-out to 10 clients.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overview_latency_and_sse_fan_out() {
    let n = if std::env::var("BITAXE_LONG").is_ok_and(|v| v == "1") {
        100
    } else {
        10
    };
    // A poll a second per miner: busier than any real setup (60 s and 30 s by default).
    let api = Api::start_polling(n, ApiOptions::default(), 1.0).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while api.engine.status().totals.online < n {
        assert!(tokio::time::Instant::now() < deadline, "sims not polled");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let read = api.tokens.read().to_string();
    let mut times = Vec::new();
    for _ in 0..50 {
        let t = std::time::Instant::now();
        let r = api
            .get("/api/v1/overview", Some(&read))
            .send()
            .await
            .expect("send");
        let body = r.bytes().await.expect("body");
        times.push(t.elapsed());
        assert!(body.len() > 100 * n);
    }
    times.sort();
    eprintln!(
        "figure: overview with {n} miners over HTTP: median {:?}, p95 {:?}",
        times[times.len() / 2],
        times[times.len() * 95 / 100]
    );
    // Ten clients on the event stream all get the same events.
    let mut clients = Vec::new();
    for _ in 0..10 {
        let r = api
            .get("/api/v1/events", Some(&read))
            .send()
            .await
            .expect("send");
        clients.push(tokio::spawn(sse_events(r, 20)));
    }
    let t = std::time::Instant::now();
    let mut got = Vec::new();
    for c in clients {
        got.push(c.await.expect("client"));
    }
    eprintln!(
        "figure: SSE fan-out, 10 clients x 20 events in {:?}",
        t.elapsed()
    );
    for g in &got {
        let ids: Vec<u64> = g.iter().map(|e| e.0).collect();
        assert_eq!(ids.len(), 20);
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    }
    api.stop().await;
}
