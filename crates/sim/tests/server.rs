//! The simulated miner over real HTTP: routes, validation, faults, restart, request log.

use std::time::Duration;

use bitaxe_sim::{fleet, Faults, Personality, SimMiner};
use serde_json::Value;

async fn one(personality: Personality, speed: f64) -> SimMiner {
    let mut miners = fleet("t", 1, |s| {
        s.personality = personality;
        s.speed = speed;
    })
    .await
    .expect("start");
    miners.remove(0)
}

async fn text(c: &reqwest::Client, url: &str) -> String {
    c.get(url)
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("text")
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_millis(800))
        .build()
        .expect("client")
}

#[tokio::test]
async fn info_patch_and_readback() {
    let m = one(Personality::V2_14, 1.0).await;
    let c = http();
    let info: Value = c
        .get(format!("{}/api/system/info", m.url()))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(info["coreVoltage"], 1150);
    assert_eq!(info["ASICModel"], "BM1370");
    let r = c
        .patch(format!("{}/api/system", m.url()))
        .body(r#"{"coreVoltage":1200,"frequency":600}"#)
        .send()
        .await
        .expect("patch");
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.text().await.expect("body"),
        "",
        "PATCH success has an empty body"
    );
    let info: Value = c
        .get(format!("{}/api/system/info", m.url()))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(
        info["coreVoltage"], 1200,
        "NVS settings are reported at once"
    );
    assert_eq!(info["frequency"], 600.0);
    assert!(
        info["actualFrequency"].as_f64().unwrap_or(0.0) < 600.0,
        "the PLL is still ramping"
    );
    assert_eq!(m.patches().len(), 1);
    assert_eq!(m.requests().iter().filter(|r| r.method == "GET").count(), 2);
}

#[tokio::test]
async fn firmware_replies_for_bad_input_origins_and_unknown_routes() {
    let m = one(Personality::V2_12, 1.0).await;
    let c = http();
    let r = c
        .patch(format!("{}/api/system", m.url()))
        .body(r#"{"frequency":"600"}"#)
        .send()
        .await
        .expect("patch");
    assert_eq!(r.status(), 400);
    assert_eq!(r.text().await.expect("body"), "Wrong API input");
    let r = c
        .get(format!("{}/api/system/info", m.url()))
        .header("Origin", "tauri://localhost")
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), 401);
    let r = c
        .get(format!("{}/api/nope", m.url()))
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), 404);
    assert_eq!(
        r.text().await.expect("body"),
        r#"{"error":"unknown route"}"#
    );
    let pretty = c
        .get(format!("{}/api/system/info", m.url()))
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("t");
    assert!(pretty.contains("\n\t\""), "v2.12 sends tab-indented JSON");
    let r = c
        .post(format!("{}/api/system/pause", m.url()))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 404, "pause arrived in v2.14");
}

#[tokio::test]
async fn offline_refuses_and_comes_back() {
    let m = one(Personality::V2_14, 1.0).await;
    let c = http();
    m.set_faults(Faults {
        offline: true,
        ..Default::default()
    });
    m.settle().await;
    let e = c
        .get(format!("{}/api/system/info", m.url()))
        .send()
        .await
        .expect_err("refused");
    assert!(e.is_connect(), "{e}");
    m.set_faults(Faults::default());
    m.settle().await;
    let r = c
        .get(format!("{}/api/system/info", m.url()))
        .send()
        .await
        .expect("back");
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn black_hole_malformed_truncated_and_500() {
    let m = one(Personality::V2_14, 1.0).await;
    let c = http();
    let url = format!("{}/api/system/info", m.url());
    m.set_faults(Faults {
        black_hole: true,
        ..Default::default()
    });
    let e = c.get(&url).send().await.expect_err("no answer");
    assert!(e.is_timeout(), "{e}");
    m.set_faults(Faults {
        malformed: true,
        ..Default::default()
    });
    let t = text(&c, &url).await;
    assert!(serde_json::from_str::<Value>(&t).is_err());
    m.set_faults(Faults {
        truncated: true,
        ..Default::default()
    });
    let t = text(&c, &url).await;
    assert!(t.starts_with('{') && serde_json::from_str::<Value>(&t).is_err());
    m.set_faults(Faults {
        http500: true,
        ..Default::default()
    });
    assert_eq!(c.get(&url).send().await.expect("get").status(), 500);
    m.set_faults(Faults {
        latency_ms: 300,
        ..Default::default()
    });
    let started = std::time::Instant::now();
    assert_eq!(c.get(&url).send().await.expect("get").status(), 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn restart_answers_then_is_unreachable_then_resets_counters() {
    // 10x speed: the 1 s delay and 5 s boot take 0.1 s and 0.5 s.
    let m = one(Personality::V2_14, 10.0).await;
    let c = http();
    tokio::time::sleep(Duration::from_millis(400)).await;
    let before = m.state().uptime();
    let r = c
        .post(format!("{}/api/system/restart", m.url()))
        .send()
        .await
        .expect("restart");
    assert_eq!(r.status(), 200);
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert!(
        c.get(format!("{}/api/system/info", m.url()))
            .send()
            .await
            .is_err(),
        "rebooting"
    );
    tokio::time::sleep(Duration::from_millis(600)).await;
    let info: Value = c
        .get(format!("{}/api/system/info", m.url()))
        .send()
        .await
        .expect("up")
        .json()
        .await
        .expect("json");
    assert!(
        info["uptimeSeconds"].as_f64().unwrap_or(1e9) < before,
        "uptime reset"
    );
}

#[tokio::test]
async fn stall_freezes_hashrate_and_shares() {
    let m = one(Personality::V2_14, 50.0).await;
    m.update(|s| s.faults.stall = true);
    let a = m.state();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let b = m.state();
    assert_eq!(a.hashrate, b.hashrate);
    assert_eq!(a.shares_accepted.floor(), b.shares_accepted.floor());
}

async fn patch_json(c: &reqwest::Client, m: &SimMiner, body: &str) {
    let r = c
        .patch(format!("{}/api/system", m.url()))
        .body(body.to_string())
        .send()
        .await
        .expect("patch");
    assert_eq!(r.status(), 200);
}

async fn info_json(c: &reqwest::Client, m: &SimMiner) -> Value {
    c.get(format!("{}/api/system/info", m.url()))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json")
}

#[tokio::test]
async fn brownouts_over_http_wrong_order_counts_right_order_does_not() {
    // 20x: a 1.8 s pass is 90 ms, a 16-step ramp 80 ms.
    let wrong = one(Personality::V2_12, 20.0).await;
    let right = one(Personality::V2_12, 20.0).await;
    let c = http();
    for m in [&wrong, &right] {
        patch_json(&c, m, r#"{"coreVoltage":1250}"#).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        patch_json(&c, m, r#"{"frequency":600}"#).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let info = info_json(&c, m).await;
        assert_eq!(
            info["coreVoltageActual"], 1244.0,
            "a few mV under the stored 1250"
        );
    }
    patch_json(&c, &wrong, r#"{"frequency":500,"coreVoltage":1100}"#).await;
    patch_json(&c, &right, r#"{"frequency":500}"#).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    patch_json(&c, &right, r#"{"coreVoltage":1100}"#).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(wrong.brownouts(), 1, "{:?}", wrong.state().brownout_log);
    assert_eq!(right.brownouts(), 0, "{:?}", right.state().brownout_log);
    for m in [&wrong, &right] {
        let s = m.state();
        assert_eq!((s.applied_voltage, s.actual_frequency), (1100.0, 500.0));
    }
}

#[tokio::test]
async fn the_stored_voltage_is_reported_at_once_the_applied_one_after_the_pass() {
    let m = one(Personality::V2_12, 1.0).await;
    let c = http();
    patch_json(&c, &m, r#"{"coreVoltage":1200}"#).await;
    let info = info_json(&c, &m).await;
    assert_eq!(info["coreVoltage"], 1200);
    assert!(
        info.get("actualFrequency").is_none(),
        "v2.12 has no actualFrequency"
    );
    let mut applied_seen = false;
    for _ in 0..25 {
        let info = info_json(&c, &m).await;
        if info["coreVoltageActual"] == 1194.0 {
            applied_seen = true;
            break;
        }
        assert_eq!(
            info["coreVoltageActual"], 1144.0,
            "old value until the pass"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(applied_seen, "applied within one 1.8 s pass");
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_millis(800))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

#[tokio::test]
async fn root_is_the_axeos_page_and_info_has_identity_and_fallback_keys() {
    let m = one(Personality::V2_12, 1.0).await;
    let c = http();
    let r = c.get(format!("{}/", m.url())).send().await.expect("get /");
    assert_eq!(r.status(), 200);
    let ct = r.headers()["content-type"]
        .to_str()
        .unwrap_or("")
        .to_string();
    assert!(ct.starts_with("text/html"), "{ct}");
    assert!(r
        .text()
        .await
        .expect("body")
        .contains("<title>AxeOS</title>"));
    let info = info_json(&c, &m).await;
    assert_eq!(info["macAddr"], m.mac());
    assert_eq!(info["isUsingFallbackStratum"], 0);
    assert!(info["fallbackStratumURL"].is_string());
    assert!(info["fallbackStratumPort"].is_number());
    assert!(info["fallbackStratumUser"].is_string());
    patch_json(&c, &m, r#"{"CoreVoltage":1175,"Frequency":550}"#).await;
    let s = m.state();
    assert_eq!((s.nvs.core_voltage, s.nvs.frequency), (1175, 550.0));
}

#[tokio::test]
async fn redirect_fault_answers_307_to_root() {
    let m = one(Personality::V2_14, 1.0).await;
    let c = no_redirects();
    m.set_faults(Faults {
        redirect: true,
        ..Default::default()
    });
    for (method, path) in [("GET", "/api/system/info"), ("PATCH", "/api/system")] {
        let r = c
            .request(
                method.parse().expect("method"),
                format!("{}{path}", m.url()),
            )
            .body(r#"{"frequency":600}"#)
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), 307, "{method} {path}");
        assert_eq!(r.headers()["location"], "/");
    }
    assert_eq!(
        m.state().nvs.frequency,
        525.0,
        "the redirected PATCH stored nothing"
    );
    let r = c.get(format!("{}/", m.url())).send().await.expect("get /");
    assert_eq!(r.status(), 200, "the page itself is not redirected");
}

#[tokio::test]
async fn ignore_patch_and_truncate_frequency_over_http() {
    let m = one(Personality::V2_14, 1.0).await;
    let c = http();
    m.update(|s| s.faults.ignore_patch = true);
    patch_json(&c, &m, r#"{"frequency":600}"#).await;
    assert_eq!(info_json(&c, &m).await["frequency"], 525.0);
    m.set_faults(Faults {
        truncate_frequency: true,
        ..Default::default()
    });
    patch_json(&c, &m, r#"{"frequency":531.25}"#).await;
    assert_eq!(info_json(&c, &m).await["frequency"], 531.0);
}

#[tokio::test]
async fn v2_6_redirects_unknown_api_routes_and_has_no_asic_endpoint() {
    let m = one(Personality::V2_6, 1.0).await;
    let c = no_redirects();
    for path in ["/api/system/asic", "/api/nope", "/api/system/pause"] {
        let r = if path.ends_with("pause") {
            c.post(format!("{}{path}", m.url())).send().await
        } else {
            c.get(format!("{}{path}", m.url())).send().await
        }
        .expect("send");
        assert_eq!(r.status(), 302, "{path}");
        assert_eq!(r.headers()["location"], "/");
    }
    let info = info_json(&c, &m).await;
    assert_eq!(info["version"], "v2.6.0");
    assert!(info.get("actualFrequency").is_none());
    assert!(info["bestDiff"].is_string());
}

/// The v2.14 overheat with the flag hidden, as a poller sees it at 100x speed.
#[tokio::test]
async fn hidden_overheat_shows_the_signature_over_http() {
    let m = one(Personality::V2_14, 100.0).await;
    let c = http();
    m.update(|s| {
        s.faults.hide_overheat_flag = true;
        s.ambient_c = 72.0;
    });
    let mut saw_stop = false;
    for _ in 0..400 {
        let info = info_json(&c, &m).await;
        assert_eq!(info["overheat_mode"], 0, "the flag never shows");
        if info["hashRate"] == 0.0 {
            assert_eq!(info["actualFrequency"], 50.0);
            assert_eq!(info["autofanspeed"], 0);
            assert_eq!(info["manualFanSpeed"], 100.0);
            assert!(
                info["power"].as_f64().unwrap_or(99.0) < 6.0,
                "{}",
                info["power"]
            );
            saw_stop = true;
            m.update(|s| s.ambient_c = 25.0);
        }
        if saw_stop && info["frequency"] == 425.0 {
            assert_eq!(info["coreVoltage"], 1050);
            assert_eq!(info["autofanspeed"], 0, "the fan stays manual");
            let s = m.state();
            assert!(s.mining() && s.overheat_events == 1);
            assert_eq!(m.brownouts(), 0);
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("no overheat and recovery seen (stopped: {saw_stop})");
}

/// The `bitaxe-sim` binary's control API: faults set, brownouts read.
#[tokio::test]
async fn control_api_sets_faults_and_reads_brownouts() {
    use tokio::io::AsyncBufReadExt;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_bitaxe-sim"))
        .args(["--count", "1", "--control-port", "0", "--speed", "20"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn bitaxe-sim");
    let mut lines = tokio::io::BufReader::new(child.stdout.take().expect("stdout")).lines();
    let (mut miner, mut control) = (String::new(), String::new());
    while control.is_empty() {
        let line = tokio::time::timeout(Duration::from_secs(10), lines.next_line())
            .await
            .expect("output in time")
            .expect("read")
            .expect("a line");
        match line.split_once(' ') {
            Some(("sim-1", url)) => miner = url.to_string(),
            Some(("control", url)) => control = url.to_string(),
            _ => {}
        }
    }
    let c = no_redirects();
    let r = c
        .post(format!("{control}/miners/sim-1/faults"))
        .json(&serde_json::json!({"redirect": true}))
        .send()
        .await
        .expect("faults");
    assert_eq!(r.status(), 204);
    let r = c
        .get(format!("{miner}/api/system/info"))
        .send()
        .await
        .expect("info");
    assert_eq!(r.status(), 307);
    let r = c
        .post(format!("{control}/miners/sim-1/faults"))
        .json(&serde_json::json!({}))
        .send()
        .await
        .expect("faults");
    assert_eq!(r.status(), 204);
    // Wrong order: both lower in one PATCH, from 1250 mV / 600 MHz.
    patch_json_url(&c, &miner, r#"{"coreVoltage":1250,"frequency":600}"#).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    patch_json_url(&c, &miner, r#"{"coreVoltage":1100,"frequency":500}"#).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let b: Value = c
        .get(format!("{control}/miners/sim-1/brownouts"))
        .send()
        .await
        .expect("brownouts")
        .json()
        .await
        .expect("json");
    assert_eq!(b["brownouts"], 1, "{b}");
    assert_eq!(b["log"].as_array().map(Vec::len), Some(1));
    let list: Value = c
        .get(format!("{control}/miners"))
        .send()
        .await
        .expect("miners")
        .json()
        .await
        .expect("json");
    assert_eq!(list[0]["brownouts"], 1);
    assert_eq!(list[0]["state"]["brownouts"], 1);
    assert_eq!(list[0]["paused"], false);
    assert!(list[0]["power"].as_f64().unwrap_or(0.0) > 10.0, "{list}");
    let r = c
        .post(format!("{miner}/api/system/pause"))
        .send()
        .await
        .expect("pause");
    assert_eq!(r.status(), 200);
    let list: Value = c
        .get(format!("{control}/miners"))
        .send()
        .await
        .expect("miners")
        .json()
        .await
        .expect("json");
    assert_eq!(list[0]["paused"], true, "the control API shows the pause");
    assert!(list[0]["power"].as_f64().unwrap_or(99.0) < 6.0, "{list}");
    assert_eq!(list[0]["state"]["phase"]["phase"], "paused");
    let mut errors = tokio::io::BufReader::new(child.stderr.take().expect("stderr")).lines();
    let line = tokio::time::timeout(Duration::from_secs(5), errors.next_line())
        .await
        .expect("the brownout is printed")
        .expect("read")
        .expect("a line");
    assert!(line.starts_with("sim-1 BROWNOUT t="), "{line}");
    child.kill().await.expect("kill");
}

async fn patch_json_url(c: &reqwest::Client, url: &str, body: &str) {
    let r = c
        .patch(format!("{url}/api/system"))
        .body(body.to_string())
        .send()
        .await
        .expect("patch");
    assert_eq!(r.status(), 200);
}

async fn post_message(c: &reqwest::Client, m: &SimMiner, path: &str) -> (u16, String) {
    let r = c
        .post(format!("{}{path}", m.url()))
        .send()
        .await
        .expect("post");
    (r.status().as_u16(), r.text().await.expect("body"))
}

/// v2.14+: pause stops the ASIC (50 MHz, core off, `temp` -1, power at the floor) without
/// touching the stored settings; a PATCH while paused is stored; resume brings the stored voltage
/// back and ramps to the stored frequency with no brownout.
#[tokio::test]
async fn pause_and_resume_over_http() {
    let m = one(Personality::V2_14, 20.0).await;
    let c = http();
    let (status, body) = post_message(&c, &m, "/api/system/pause").await;
    assert_eq!(
        (status, body.as_str()),
        (200, r#"{"message":"Mining paused"}"#)
    );
    let info = info_json(&c, &m).await;
    assert_eq!(info["miningPaused"], true);
    assert_eq!(info["temp"], -1.0);
    assert_eq!(info["actualFrequency"], 50.0);
    assert_eq!(info["hashRate"], 0.0);
    assert_eq!(info["expectedHashrate"], 0.0);
    assert!(
        info["power"].as_f64().unwrap_or(99.0) < 6.0,
        "{}",
        info["power"]
    );
    assert_eq!(
        (info["coreVoltage"].clone(), info["frequency"].clone()),
        (1150.into(), 525.0.into())
    );
    assert!(m.paused());
    // Stored while paused, applied on resume.
    patch_json(&c, &m, r#"{"coreVoltage":1200,"frequency":600}"#).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        info_json(&c, &m).await["actualFrequency"],
        50.0,
        "still paused"
    );
    let (status, body) = post_message(&c, &m, "/api/system/resume").await;
    assert_eq!(
        (status, body.as_str()),
        (200, r#"{"message":"Mining resumed"}"#)
    );
    // 550 MHz of ramp from 50: 88 steps, 8.8 sim s, 0.44 s at 20x.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let info = info_json(&c, &m).await;
    assert_eq!(info["miningPaused"], false);
    assert_eq!(info["actualFrequency"], 600.0);
    assert_eq!(m.state().applied_voltage, 1200.0);
    assert!(info["power"].as_f64().unwrap_or(0.0) > 15.0);
    assert_eq!(m.brownouts(), 0, "{:?}", m.state().brownout_log);
}

/// The pause lives in RAM: a reboot mines again.
#[tokio::test]
async fn a_restart_ends_a_pause() {
    let m = one(Personality::V2_14, 20.0).await;
    let c = http();
    assert_eq!(post_message(&c, &m, "/api/system/pause").await.0, 200);
    assert!(m.paused());
    assert_eq!(post_message(&c, &m, "/api/system/restart").await.0, 200);
    // 1 s delay + 5 s boot + ramp at 20x.
    tokio::time::sleep(Duration::from_millis(900)).await;
    m.settle().await;
    let info = info_json(&c, &m).await;
    assert_eq!(info["miningPaused"], false);
    assert!(!m.paused());
    assert!(
        info["power"].as_f64().unwrap_or(0.0) > 15.0,
        "{}",
        info["power"]
    );
}

#[tokio::test]
async fn pause_and_resume_are_unknown_routes_before_v2_14() {
    for p in [Personality::V2_10, Personality::V2_12] {
        let m = one(p, 20.0).await;
        let c = http();
        for path in ["/api/system/pause", "/api/system/resume"] {
            let (status, body) = post_message(&c, &m, path).await;
            assert_eq!(
                (status, body.as_str()),
                (404, r#"{"error":"unknown route"}"#),
                "{p:?}"
            );
        }
        assert!(m.state().mining());
    }
}
