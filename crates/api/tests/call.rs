//! `POST /api/v1/call/{command}` against a real engine over simulated miners on loopback: the
//! command's own scope (a read token on a control command: 403), unknown commands (404), the
//! config's secrets redacted for the read token, bad bodies, and a write the engine carries out.

use std::sync::Arc;
use std::time::Duration;

use bitaxe_api::{ApiOptions, ApiServer, Tokens};
use bitaxe_app::{Service, ServiceOptions};
use bitaxe_core::clock::FakeClock;
use bitaxe_core::config::{Config, MinerConfig};
use bitaxe_core::{EngineHandle, EngineOptions};
use bitaxe_sim::SimMiner;
use chrono::NaiveDateTime;
use reqwest::StatusCode;
use serde_json::{json, Value};

struct Api {
    _dir: tempfile::TempDir,
    miners: Vec<SimMiner>,
    engine: EngineHandle,
    server: Option<ApiServer>,
    tokens: Tokens,
    http: reqwest::Client,
}

impl Api {
    async fn start() -> Api {
        let miners = bitaxe_sim::fleet("sim", 1, |s| s.speed = 20.0)
            .await
            .expect("sims");
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("multi_scheduler_config.json");
        let mut cfg = Config {
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
            check_interval: 0.2,
            temp_check_interval: 0.2,
            log_stats_interval: 0.5,
            transition_delay: 0.05,
            retry_delay: 0.05,
            timezone: "UTC".into(),
            ..Config::default()
        };
        // A price feed with a secret, pointing at a closed loopback port.
        cfg.tariff = Some(
            serde_json::from_value(json!({"currency": "EUR", "source": {
                "type": "tibber", "token": "tibber-secret-abc",
                "url": "http://feeduser:feedpass@127.0.0.1:9/gql"}}))
            .expect("tariff"),
        );
        cfg.save(&path).expect("save");
        let noon = NaiveDateTime::parse_from_str("2026-06-01 12:00", "%Y-%m-%d %H:%M")
            .expect("time")
            .and_utc();
        let mut opts = EngineOptions::new(&path);
        opts.clock = Arc::new(FakeClock::new(noon));
        opts.watch_every = Duration::from_millis(50);
        let engine = EngineHandle::start(opts).expect("engine");
        let (tokens, _) = Tokens::load_or_create(&path).expect("tokens");
        let service = Arc::new(Service::new(ServiceOptions::for_engine(engine.clone())));
        let server = ApiServer::start_with(
            service,
            "127.0.0.1:0".parse().expect("addr"),
            tokens.clone(),
            ApiOptions::default(),
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
        }
    }

    fn url(&self, command: &str) -> String {
        let addr = self.server.as_ref().expect("server").local_addr();
        format!("http://{addr}/api/v1/call/{command}")
    }

    /// POST the command with `args` as its body; the status and the JSON answer.
    async fn call(&self, command: &str, token: Option<&str>, args: Value) -> (StatusCode, Value) {
        let mut r = self.http.post(self.url(command)).json(&args);
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        let r = r.send().await.expect("send");
        let status = r.status();
        assert_eq!(
            r.headers().get("x-content-type-options").expect("nosniff"),
            "nosniff"
        );
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn stop(mut self) {
        if let Some(s) = self.server.take() {
            s.stop().await;
        }
        self.engine.shutdown(Duration::from_secs(5)).await;
    }
}

#[tokio::test]
async fn the_read_token_calls_read_commands_only() {
    let api = Api::start().await;
    let read = api.tokens.read().to_string();
    let (status, v) = api.call("overview", Some(&read), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["status"]["miners"][0]["name"], "sim-1", "{v}");
    for (command, args) in [
        ("set_paused", json!({"paused": true})),
        ("apply_profile", json!({"profile": "night", "miner": null})),
        ("emergency_stop", json!({})),
        ("save_config", json!({"config": {}})),
        ("scan", json!({"range": "127.0.0.1/32", "port": 9})),
        ("probe_miner", json!({"address": "127.0.0.1:9"})),
    ] {
        let (status, v) = api.call(command, Some(&read), args).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{command}: {v}");
        assert_eq!(v["code"], "forbidden", "{command}");
        assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    assert!(!api.engine.overrides().paused);
    assert!(!api.engine.overrides().emergency);
    // No token, or a wrong one: the guard refuses before any command runs.
    let (status, _) = api.call("overview", None, json!({})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = api.call("overview", Some(&"0".repeat(64)), json!({})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    api.stop().await;
}

#[tokio::test]
async fn unknown_and_desktop_only_commands_are_404() {
    let api = Api::start().await;
    for command in [
        "nope",
        "get_prefs",
        "start_demo",
        "open_log_folder",
        "export_file",
    ] {
        for token in [api.tokens.control(), api.tokens.read()] {
            let (status, v) = api.call(command, Some(token), json!({})).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{command}");
            assert_eq!(v["code"], "unknown_command", "{command}");
        }
    }
    api.stop().await;
}

#[tokio::test]
async fn the_read_token_sees_the_config_without_secrets() {
    let api = Api::start().await;
    let (status, full) = api
        .call("get_config", Some(api.tokens.control()), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(full["tariff"]["source"]["token"], "tibber-secret-abc");
    let (status, read) = api
        .call("get_config", Some(api.tokens.read()), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let text = read.to_string();
    for secret in ["tibber-secret-abc", "feedpass", "feeduser"] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    assert_eq!(read["tariff"]["source"]["token"], "***");
    assert_eq!(read["miners"][0]["name"], "sim-1");
    api.stop().await;
}

#[tokio::test]
async fn bad_bodies_and_arguments_are_400_naming_the_field() {
    let api = Api::start().await;
    let control = api.tokens.control().to_string();
    let r = api
        .http
        .post(api.url("set_paused"))
        .bearer_auth(&control)
        .body("{not json")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["code"], "bad_args");
    let (status, v) = api
        .call("set_paused", Some(&control), json!({"pausd": true}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        v["message"].as_str().is_some_and(|m| m.contains("pausd")),
        "{v}"
    );
    // An empty body is no arguments.
    let r = api
        .http
        .post(api.url("overview"))
        .bearer_auth(&control)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::OK);
    let (status, v) = api
        .call("restart_miner", Some(&control), json!({"name": "ghost"}))
        .await;
    assert_eq!(
        (status, v["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("unknown_miner"))
    );
    api.stop().await;
}

#[tokio::test]
async fn apply_night_over_the_call_route_moves_the_sim() {
    let api = Api::start().await;
    let control = api.tokens.control().to_string();
    let (status, v) = api
        .call(
            "apply_profile",
            Some(&control),
            json!({"profile": "night", "miner": null}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v, Value::Null);
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
    let (status, _) = api
        .call("set_paused", Some(&control), json!({"paused": true}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(api.engine.overrides().paused);
    // The events view's lines come over the same route (read token).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let (status, lines) = api.call("events", Some(api.tokens.read()), json!({})).await;
        assert_eq!(status, StatusCode::OK);
        if lines
            .as_array()
            .is_some_and(|l| l.iter().any(|e| e["miner"] == "sim-1"))
        {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{lines}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    api.stop().await;
}
