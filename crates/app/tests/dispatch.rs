//! The dispatcher against a real engine over simulated miners on loopback: commands by their
//! Tauri names with the UI's arguments, scopes, argument errors naming the field, redaction,
//! and writes the engine carries out on the sims.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bitaxe_app::{dispatch, dispatch_as, scope_of, Scope, Service, ServiceOptions, COMMANDS};
use bitaxe_core::clock::FakeClock;
use bitaxe_core::config::{Config, MinerConfig};
use bitaxe_core::{EngineHandle, EngineOptions};
use bitaxe_sim::SimMiner;
use chrono::NaiveDateTime;
use serde_json::{json, Value};

struct Fleet {
    _dir: tempfile::TempDir,
    miners: Vec<SimMiner>,
    engine: EngineHandle,
    service: Service,
    config: PathBuf,
}

impl Fleet {
    async fn start(n: usize) -> Fleet {
        let miners = bitaxe_sim::fleet("sim", n, |s| s.speed = 20.0)
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
        // The status board lists the miners once their workers run: wait (a loaded machine may
        // take a moment).
        let listed = tokio::time::Instant::now() + Duration::from_secs(10);
        while engine.status().miners.len() < n && tokio::time::Instant::now() < listed {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(
            engine.status().miners.len(),
            n,
            "the engine lists every miner"
        );
        let service = Service::new(ServiceOptions::for_engine(engine.clone()));
        Fleet {
            _dir: dir,
            miners,
            engine,
            service,
            config: path,
        }
    }

    async fn call(&self, name: &str, args: Value) -> Result<Value, bitaxe_app::CmdError> {
        dispatch(&self.service, name, args).await
    }

    async fn stop(self) {
        self.engine.shutdown(Duration::from_secs(5)).await;
    }
}

#[tokio::test]
async fn reads_answer_in_the_ui_types() {
    let f = Fleet::start(2).await;
    let o = f.call("overview", json!({})).await.expect("overview");
    assert_eq!(o["status"]["miners"].as_array().map(Vec::len), Some(2));
    assert_eq!(o["config_path"], f.config.display().to_string());
    assert_eq!(o["demo"], false);
    assert_eq!(o["colours"][0][0], "sim-1");
    // No arguments may also come as null.
    let c = f.call("get_config", Value::Null).await.expect("config");
    assert_eq!(c["miners"][1]["name"], "sim-2");
    let rows = f
        .call("plan", json!({"at": "2026-06-01T23:30", "config": null}))
        .await
        .expect("plan");
    assert_eq!(rows[0]["miner"], "sim-1");
    assert_eq!(rows[0]["target"]["profile"], "night", "{rows}");
    let specs = f
        .call("profile_specs", json!({"config": c}))
        .await
        .expect("specs");
    assert_eq!(specs[0]["name"], "day");
    let mut draft = c.clone();
    draft["global_night_settings"]["voltage"] = json!(1900);
    let problems = f
        .call("check_config", json!({"config": draft}))
        .await
        .expect("check");
    assert_eq!(problems[0]["path"], "global_night_settings.voltage");
    let first = f
        .call("validate_config", json!({"config": c}))
        .await
        .expect("validate");
    assert_eq!(first, Value::Null);
    let week = f
        .call("preview_week", json!({"config": c}))
        .await
        .expect("preview");
    assert_eq!(week["miners"].as_array().map(Vec::len), Some(2));
    let chart = f
        .call(
            "chart",
            json!({"metric": "hashrate", "range": "1h", "miner": null, "total": false,
                   "dark": false, "width": 600, "height": 200}),
        )
        .await
        .expect("chart");
    assert!(chart["svg"].as_str().is_some_and(|s| s.contains("<svg")));
    let e = f
        .call("price_strip", json!({"range": "2h"}))
        .await
        .expect_err("a range the UI does not know");
    assert_eq!(e.code, "bad_range");
    let stats = f.call("day_night_stats", json!({})).await.expect("stats");
    assert!(stats.is_object(), "{stats}");
    f.stop().await;
}

#[tokio::test]
async fn apply_night_is_carried_out_by_the_engine_and_logged() {
    let f = Fleet::start(1).await;
    let e = f
        .call("apply_profile", json!({"profile": "bogus", "miner": null}))
        .await
        .expect_err("unknown profile");
    assert_eq!(e.code, "unknown_profile");
    f.call("apply_profile", json!({"profile": "night", "miner": null}))
        .await
        .expect("apply");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let nvs = f.miners[0].state().nvs;
        if nvs.frequency == 550.0 && nvs.core_voltage == 1200 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "sim stayed at {nvs:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The events log (fed from the engine's bus) has the lines the events view shows.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let lines = f.call("events", json!({})).await.expect("events");
        let lines = lines.as_array().cloned().unwrap_or_default();
        if lines.iter().any(|l| l["miner"] == "sim-1") {
            assert!(lines.iter().all(|l| l["text"].as_str().is_some()));
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no lines: {lines:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    f.call("set_paused", json!({"paused": true}))
        .await
        .expect("pause");
    assert!(f.engine.overrides().paused);
    f.call("resume", json!({})).await.expect("resume");
    assert!(!f.engine.overrides().paused);
    f.stop().await;
}

#[tokio::test]
async fn miners_are_added_and_removed_through_the_engine() {
    let f = Fleet::start(1).await;
    let extra = json!({"name": "spare", "ip": "http://127.0.0.1:9"});
    f.call("add_miners", json!({"miners": [extra]}))
        .await
        .expect("add");
    assert!(f.engine.config().miner("spare").is_some());
    let again = f
        .call("add_miners", json!({"miners": [extra]}))
        .await
        .expect_err("twice");
    assert_eq!(again.code, "miner_exists");
    f.call("remove_miner", json!({"name": "spare"}))
        .await
        .expect("remove");
    assert!(f.engine.config().miner("spare").is_none());
    let saved = Config::load(&f.config).expect("load");
    assert!(saved.miner("spare").is_none());
    f.stop().await;
}

#[tokio::test]
async fn unknown_commands_scopes_and_bad_arguments() {
    let f = Fleet::start(1).await;
    for desktop_only in [
        "get_prefs",
        "start_demo",
        "open_log_folder",
        "export_file",
        "quit",
    ] {
        let e = f
            .call(desktop_only, json!({}))
            .await
            .expect_err(desktop_only);
        assert_eq!(e.code, "unknown_command", "{desktop_only}");
    }
    // A read caller reads but cannot act; the engine is untouched.
    let e = dispatch_as(
        &f.service,
        Scope::Read,
        "set_paused",
        json!({"paused": true}),
    )
    .await
    .expect_err("read on control");
    assert_eq!(e.code, "forbidden");
    assert!(!f.engine.overrides().paused);
    dispatch_as(&f.service, Scope::Read, "overview", json!({}))
        .await
        .expect("read on read");
    // Every command is in the table once, with a scope; the writers need control.
    for (name, scope) in COMMANDS {
        assert_eq!(scope_of(name), Some(*scope));
        assert_eq!(
            COMMANDS.iter().filter(|(n, _)| n == name).count(),
            1,
            "{name}"
        );
    }
    for writer in [
        "save_config",
        "apply_profile",
        "emergency_stop",
        "scan",
        "probe_miner",
        "test_fetch",
        "refresh_prices",
        "import_config",
        "remove_miner",
    ] {
        assert_eq!(scope_of(writer), Some(Scope::Control), "{writer}");
    }
    // Bad arguments name the field.
    let e = f
        .call("apply_profile", json!({"profil": "night"}))
        .await
        .expect_err("misspelt");
    assert_eq!(e.code, "bad_args");
    assert!(e.message.contains("profil"), "{}", e.message);
    let e = f
        .call("set_paused", json!({"paused": "yes"}))
        .await
        .expect_err("a string");
    assert!(e.message.contains("paused"), "{}", e.message);
    let e = f
        .call("add_miners", json!({"miners": [{"name": "x", "ip": 5}]}))
        .await
        .expect_err("a number");
    assert!(e.message.contains("miners[0].ip"), "{}", e.message);
    let e = f
        .call("overview", json!({"extra": 1}))
        .await
        .expect_err("no arguments");
    assert!(e.message.contains("extra"), "{}", e.message);
    // A daemon has no folder to export into.
    let e = f
        .call("export_config", json!({}))
        .await
        .expect_err("no dir");
    assert_eq!(e.code, "unsupported");
    f.stop().await;
}

#[tokio::test]
async fn a_read_caller_gets_the_config_without_its_secrets() {
    let f = Fleet::start(1).await;
    let full = f.call("get_config", json!({})).await.expect("control");
    assert_eq!(full["tariff"]["source"]["token"], "tibber-secret-abc");
    let read = dispatch_as(&f.service, Scope::Read, "get_config", json!({}))
        .await
        .expect("read");
    let text = read.to_string();
    for secret in ["tibber-secret-abc", "feedpass", "feeduser"] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    assert_eq!(read["tariff"]["source"]["token"], "***");
    assert_eq!(
        read["tariff"]["source"]["url"],
        "http://***@127.0.0.1:9/gql"
    );
    assert_eq!(read["miners"][0]["name"], "sim-1");
    f.stop().await;
}

#[tokio::test]
async fn without_an_engine_reads_work_and_writes_say_why() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("multi_scheduler_config.json");
    Config::default().save(&path).expect("save");
    let downloads = dir.path().join("downloads");
    std::fs::create_dir_all(&downloads).expect("downloads");
    let service = Service::new(ServiceOptions {
        config_path: path.clone(),
        data_dir: dir.path().to_path_buf(),
        engine: None,
        read_only: Some("another scheduler holds the lock".into()),
        export_dir: Some(downloads.clone()),
    });
    let o = dispatch(&service, "overview", json!({}))
        .await
        .expect("overview");
    assert_eq!(o["read_only"], "another scheduler holds the lock");
    let e = dispatch(&service, "set_paused", json!({"paused": true}))
        .await
        .expect_err("no engine");
    assert_eq!(e.code, "read_only");
    assert!(e.message.contains("another scheduler"), "{}", e.message);
    let out = dispatch(&service, "export_config", json!({}))
        .await
        .expect("export");
    let written = PathBuf::from(out.as_str().expect("a path"));
    assert_eq!(written, downloads.join("multi_scheduler_config.json"));
    assert!(Config::load(&written).is_ok());
}
