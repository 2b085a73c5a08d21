//! The client against real HTTP servers on 127.0.0.1:0, one per firmware generation and fault.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axeos::{Client, Error, Http, SettingsPatch, Timeouts};
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, patch, post};
use axum::Router;
use rstest::rstest;
use serde_json::{json, Value};

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("127.0.0.1:{}", addr.port())
}

async fn serve_info(body: String) -> Client {
    let addr =
        serve(Router::new().route("/api/system/info", get(move || async move { body }))).await;
    Client::new(&Http::default(), &addr).expect("client")
}

fn quick() -> Http {
    Http::new(Timeouts {
        connect: Duration::from_millis(300),
        total: Duration::from_millis(400),
    })
}

/// Payloads built from the reference's key-set evolution (§4.2), one per generation without a capture.
fn built(generation: &str) -> String {
    let v = match generation {
        "v2.1.4" => {
            json!({"power": 14.2, "voltage": 5100.0, "current": 9000.0, "fanSpeedRpm": 4100,
            "temp": 51.5, "hashRate": 480.2, "bestDiff": "13M", "coreVoltage": 1200,
            "coreVoltageActual": 1190, "frequency": 485, "sharesAccepted": 12, "sharesRejected": 0,
            "uptimeSeconds": 100, "ASICModel": "BM1366", "version": "v2.1.4", "flipscreen": 1,
            "invertscreen": 0, "autofanspeed": 1, "fanspeed": 40, "boardVersion": "204"})
        }
        "v2.1.9" => {
            json!({"power": 15.0, "temp": 55, "vrTemp": 60, "hashRate": 500, "bestDiff": "4.29G",
            "coreVoltage": 1200, "frequency": 490, "fanrpm": 4000, "overheat": 0, "asicCount": 1,
            "smallCoreCount": 894, "version": "v2.1.9", "ASICModel": "BM1366"})
        }
        "v2.14.0" => json!({"power":19.1,"voltage":5062.5,"current":12500,"temp":58.25,"temp2":-1,
            "vrTemp":55,"hashRate":1070.3,"hashRate_1m":1066.1,"expectedHashrate":1071,
            "errorPercentage":0.12,"bestDiff":88123456,"bestSessionDiff":1234567,"coreVoltage":1150,
            "coreVoltageActual":1143.75,"frequency":525,"actualFrequency":524.8,"sharesAccepted":10,
            "sharesRejected":1,"uptimeSeconds":3600,"ASICModel":"BM1370","version":"v2.14.0",
            "boardVersion":"601","miningPaused":false,"overheat_mode":0,"autofanspeed":1,
            "manualFanSpeed":100,"fanspeed":45,"fanrpm":3900,"rotation":0,
            "stratumExtranonceSubscribe":false}),
        "v2.15.0" => json!({"power":21.0,"temp":61.0,"temp2":-1,"vrTemp":57,"hashRate":1199.9,
            "expectedHashrate":1224,"bestDiff":1.5e9,"coreVoltage":1200,"coreVoltageActual":1196.1,
            "frequency":600,"actualFrequency":599.8,"miningPaused":true,"overheat_mode":0,
            "version":"v2.15.0","ASICModel":"BM1370","boardVersion":"601",
            "pools":[{"id":0,"stratumURL":"pool.invalid","stratumPort":3333}],"sharesPending":0}),
        "fork" => json!({"power":"18.5","temp":"59.0","hashRate":1050.0,"bestDiff":"2.5 T",
            "bestSessionDiff":"999k","coreVoltage":1150.4,"frequency":"525","autofanspeed":true,
            "overheat_mode":false,"version":"2.7.0-TCH-All-In-One","hashRate_1d":1000,
            "chipSubmitStr":"x"}),
        other => panic!("no payload for {other}"),
    };
    v.to_string()
}

#[tokio::test]
async fn v2_12_capture_parses_every_field_we_use() {
    let info = serve_info(fixture("info-v2.12.2-gamma601.json"))
        .await
        .info()
        .await
        .expect("info");
    assert_eq!(info.core_voltage, Some(1150));
    assert_eq!(info.frequency, Some(525.0));
    assert_eq!(info.power, Some(18.7522583));
    assert_eq!(info.temp, Some(60.125));
    assert_eq!(info.temp2, None, "-1 means no sensor");
    assert_eq!(info.vr_temp, Some(62.0));
    assert_eq!(info.best_diff, Some(49224525.0));
    assert_eq!(info.shares_accepted, Some(4768));
    assert_eq!(info.fan_rpm, Some(3915.0));
    assert_eq!(info.auto_fan, Some(true));
    assert_eq!(info.overheat_mode, Some(false));
    assert_eq!(info.version.as_deref(), Some("v2.12.2"));
    assert_eq!(info.actual_frequency, None);
    let eff = info.efficiency_j_per_th().expect("efficiency");
    assert!((eff - 17.489).abs() < 0.01, "{eff}");
    assert_eq!(info.raw["ssid"], "HomeNET", "raw JSON kept for display");
}

#[tokio::test]
async fn v2_10_capture_reads_string_difficulties_with_a_space() {
    let info = serve_info(fixture("info-v2.10.1-gamma601.json"))
        .await
        .info()
        .await
        .expect("info");
    assert!((info.best_diff.unwrap_or(0.0) - 2.03e9).abs() < 1.0);
    assert!((info.best_session_diff.unwrap_or(0.0) - 138.17e6).abs() < 1.0);
    assert_eq!(
        info.temp2, None,
        "0 on a v2.10 single-ASIC Gamma means no sensor"
    );
    assert_eq!(info.rotation, Some(0));
}

#[tokio::test]
async fn v2_0_capture_uses_old_key_names() {
    let info = serve_info(fixture("info-v2.0.7-48-ge561f60-hex302.json"))
        .await
        .info()
        .await
        .expect("info");
    assert!((info.best_diff.unwrap_or(0.0) - 4.29e9).abs() < 1.0);
    assert_eq!(info.rotation, Some(180), "flipscreen 1");
    assert_eq!(info.fan_rpm, Some(0.0), "fanSpeed is the old RPM key");
    assert_eq!(info.fan_percent, Some(35.0));
    assert_eq!(info.vr_temp, None);
    assert_eq!(info.core_voltage, Some(1200));
}

#[rstest]
#[case("v2.1.4", Some(1200), Some(485.0), Some(4100.0), Some(180))]
#[case("v2.1.9", Some(1200), Some(490.0), Some(4000.0), None)]
#[case("v2.14.0", Some(1150), Some(525.0), Some(3900.0), Some(0))]
#[case("v2.15.0", Some(1200), Some(600.0), None, None)]
#[case("fork", Some(1150), Some(525.0), None, None)]
#[tokio::test]
async fn every_generation_parses(
    #[case] generation: &str,
    #[case] voltage: Option<u32>,
    #[case] frequency: Option<f64>,
    #[case] rpm: Option<f64>,
    #[case] rotation: Option<u32>,
) {
    let info = serve_info(built(generation))
        .await
        .info()
        .await
        .expect("info");
    assert_eq!(info.core_voltage, voltage);
    assert_eq!(info.frequency, frequency);
    assert_eq!(info.fan_rpm, rpm);
    assert_eq!(info.rotation, rotation);
    assert!(info.version.is_some());
}

#[tokio::test]
async fn newer_keys_and_fork_quirks() {
    let v214 = serve_info(built("v2.14.0"))
        .await
        .info()
        .await
        .expect("info");
    assert_eq!(v214.actual_frequency, Some(524.8));
    assert_eq!(v214.mining_paused, Some(false));
    let v215 = serve_info(built("v2.15.0"))
        .await
        .info()
        .await
        .expect("info");
    assert_eq!(v215.mining_paused, Some(true));
    assert_eq!(v215.best_diff, Some(1.5e9));
    let fork = serve_info(built("fork")).await.info().await.expect("info");
    assert!((fork.best_diff.unwrap_or(0.0) - 2.5e12).abs() < 1.0);
    assert!((fork.best_session_diff.unwrap_or(0.0) - 999e3).abs() < 1e-6);
    assert_eq!(fork.power, Some(18.5), "numbers sent as strings");
    assert_eq!(fork.auto_fan, Some(true));
    assert_eq!(fork.overheat_mode, Some(false));
    let old = serve_info(built("v2.1.9"))
        .await
        .info()
        .await
        .expect("info");
    assert_eq!(
        old.overheat_mode,
        Some(false),
        "v2.1.9 called it `overheat`"
    );
    assert_eq!(old.asic_count, Some(1));
}

#[tokio::test]
async fn an_empty_object_is_all_none_not_an_error() {
    let info = serve_info("{}".into()).await.info().await.expect("info");
    assert_eq!(info.core_voltage, None);
    assert_eq!(info.hash_rate, None);
}

type Seen = Arc<Mutex<Vec<(String, HeaderMap, String)>>>;

#[tokio::test]
async fn patch_sends_json_without_origin_and_accepts_an_empty_200() {
    let seen: Seen = Arc::default();
    let s = seen.clone();
    let addr = serve(Router::new().route(
        "/api/system",
        patch(move |headers: HeaderMap, body: Bytes| async move {
            s.lock().expect("lock").push((
                "PATCH".into(),
                headers,
                String::from_utf8_lossy(&body).into(),
            ));
            StatusCode::OK
        }),
    ))
    .await;
    let client = Client::new(&Http::default(), &addr).expect("client");
    client
        .patch(&SettingsPatch {
            core_voltage: Some(1200),
            ..Default::default()
        })
        .await
        .expect("patch");
    let seen = seen.lock().expect("lock");
    let (_, headers, body) = &seen[0];
    assert!(
        headers.get("origin").is_none(),
        "a native client sends no Origin"
    );
    assert_eq!(
        headers.get("content-type").map(|v| v.as_bytes()),
        Some(&b"application/json"[..])
    );
    let sent: Value = serde_json::from_str(body).expect("json body");
    assert_eq!(sent, json!({"coreVoltage": 1200}));
}

#[tokio::test]
async fn a_400_names_what_the_miner_said() {
    let addr = serve(Router::new().route(
        "/api/system",
        patch(|| async { (StatusCode::BAD_REQUEST, "Wrong API input") }),
    ))
    .await;
    let client = Client::new(&Http::default(), &addr).expect("client");
    let err = client
        .patch(&SettingsPatch {
            frequency: Some(1.0),
            ..Default::default()
        })
        .await
        .expect_err("400");
    assert_eq!(err.code(), "rejected");
    assert!(err.to_string().contains("Wrong API input"), "{err}");
}

#[tokio::test]
async fn restart_pause_resume_and_asic() {
    let addr = serve(
        Router::new()
            .route("/api/system/restart", post(|| async { "System will restart shortly." }))
            .route("/api/system/pause", post(|| async { r#"{"message":"Mining paused"}"# }))
            .route("/api/system/resume", post(|| async { r#"{"message":"Mining resumed"}"# }))
            .route(
                "/api/system/asic",
                get(|| async {
                    r#"{"ASICModel":"BM1370","deviceModel":"Gamma","asicCount":1,"defaultFrequency":525,
                    "frequencyOptions":[400,490,525,550,600,625],"defaultVoltage":1150,
                    "voltageOptions":[1000,1060,1100,1150,1200,1250]}"#
                }),
            ),
    )
    .await;
    let client = Client::new(&Http::default(), &addr).expect("client");
    client.restart().await.expect("restart");
    client.pause().await.expect("pause");
    client.resume().await.expect("resume");
    let asic = client.asic().await.expect("asic");
    assert_eq!(asic.default_voltage, Some(1150));
    assert_eq!(asic.frequency_options.len(), 6);
    assert_eq!(asic.device_model.as_deref(), Some("Gamma"));
}

#[tokio::test]
async fn errors_say_what_happened() {
    // Refused: bind, learn the port, close.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    let refused = Client::new(&quick(), &format!("127.0.0.1:{port}")).expect("client");
    let err = refused.info().await.expect_err("refused");
    assert_eq!(err.code(), "refused", "{err}");
    assert!(err.is_unreachable());

    // Timed out: accept and never answer.
    let hole = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let hole_addr = hole.local_addr().expect("addr");
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = hole.accept().await {
            held.push(s);
        }
    });
    let slow = Client::new(&quick(), &hole_addr.to_string()).expect("client");
    let err = slow.info().await.expect_err("timeout");
    assert!(matches!(err, Error::Timeout { .. }), "{err}");

    let addr = serve(
        Router::new()
            .route(
                "/api/system/info",
                get(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "boom") }),
            )
            .route(
                "/api/system/asic",
                get(|| async { r#"{"ASICModel": "BM13"#.to_string() }),
            ),
    )
    .await;
    let client = Client::new(&Http::default(), &addr).expect("client");
    let err = client.info().await.expect_err("500");
    assert!(matches!(err, Error::Status { status: 500, .. }), "{err}");
    assert!(err.to_string().contains("boom"));
    let err = client.asic().await.expect_err("truncated");
    assert_eq!(err.code(), "invalid_json");
    assert!(
        err.to_string().contains("ASICModel"),
        "excerpt shown: {err}"
    );
}

#[tokio::test]
async fn oversized_replies_are_cut_off() {
    let huge = format!("{{\"pad\":\"{}\"}}", "x".repeat(axeos::MAX_BODY_BYTES + 10));
    let err = serve_info(huge).await.info().await.expect_err("too large");
    assert_eq!(err.code(), "too_large");
}
