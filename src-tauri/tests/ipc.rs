//! The commands through Tauri's real IPC path on the mock runtime, with a real engine driving a
//! simulated miner on loopback.

use std::time::Duration;

use bitaxe_core::config::{Config, MinerConfig};
use bitaxe_core::{EngineHandle, EngineOptions};
use bitaxe_desktop::state::AppState;
use serde_json::{json, Value};
use tauri::test::{get_ipc_response, mock_builder, INVOKE_KEY};
use tauri::webview::InvokeRequest;
use tauri::WebviewWindowBuilder;

fn call(
    webview: &tauri::WebviewWindow<tauri::test::MockRuntime>,
    cmd: &str,
    args: Value,
) -> Result<Value, Value> {
    get_ipc_response(
        webview,
        InvokeRequest {
            cmd: cmd.into(),
            callback: tauri::ipc::CallbackFn(0),
            error: tauri::ipc::CallbackFn(1),
            url: "tauri://localhost".parse().expect("url"),
            body: tauri::ipc::InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        },
    )
    .map(|b| b.deserialize::<Value>().unwrap_or(Value::Null))
}

#[test]
fn commands_reach_the_engine_and_errors_arrive_as_code_and_message() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("multi_scheduler_config.json");
    let (engine, miner) = tauri::async_runtime::block_on(async {
        let miner = bitaxe_sim::fleet("sim", 1, |s| s.speed = 10.0)
            .await
            .expect("sim")
            .remove(0);
        let config = Config {
            timezone: "UTC".into(),
            smooth_transition: false,
            check_interval: 0.3,
            temp_check_interval: 0.3,
            ..Config::default()
        };
        config.save(&path).expect("config");
        (
            EngineHandle::start(EngineOptions::new(&path)).expect("engine"),
            miner,
        )
    });
    let app = mock_builder()
        .manage(AppState::new(
            path.clone(),
            dir.path().to_path_buf(),
            Some(engine.clone()),
            None,
            Default::default(),
        ))
        .invoke_handler(tauri::generate_handler![
            bitaxe_desktop::commands::overview,
            bitaxe_desktop::commands::get_config,
            bitaxe_desktop::commands::save_config,
            bitaxe_desktop::commands::validate_config,
            bitaxe_desktop::commands::apply_profile,
            bitaxe_desktop::commands::plan,
            bitaxe_desktop::commands::take_pending_safe,
        ])
        .build(tauri::generate_context!())
        .expect("app");
    let webview = WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .expect("webview");

    // Save a config with one miner through IPC; the engine starts scheduling it.
    let mut config: Config =
        serde_json::from_value(call(&webview, "get_config", json!({})).expect("config"))
            .expect("typed");
    config.miners.push(MinerConfig {
        profiles: Default::default(),
        name: "office".into(),
        ip: miner.url(),
        enabled: true,
        day_settings: None,
        night_settings: None,
        limits: None,
    });
    call(&webview, "save_config", json!({ "config": config })).expect("saved");
    assert_eq!(
        Config::load(&path).expect("file").miners.len(),
        1,
        "written to the shared file"
    );

    // Invalid values come back as { code, message } naming the limit; nothing is saved.
    let mut bad = config.clone();
    bad.global_night_settings.voltage = 1400;
    let err = call(&webview, "save_config", json!({ "config": bad })).expect_err("refused");
    assert_eq!(err["code"], "config_invalid");
    assert!(
        err["message"].as_str().unwrap_or("").contains("1250 mV"),
        "{err}"
    );
    let msg = call(&webview, "validate_config", json!({ "config": bad })).expect("validate");
    assert!(
        msg.as_str()
            .unwrap_or("")
            .starts_with("global_night_settings.voltage"),
        "{msg}"
    );
    assert_eq!(
        Config::load(&path)
            .expect("file")
            .global_night_settings
            .voltage,
        1200
    );

    // Apply night to one miner: the simulated miner receives it.
    call(
        &webview,
        "apply_profile",
        json!({ "profile": "night", "miner": "office" }),
    )
    .expect("apply");
    let mut reached = false;
    for _ in 0..100 {
        let s = miner.state();
        if (s.nvs.core_voltage, s.nvs.frequency) == (1200, 550.0) {
            reached = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(reached, "night settings reached the miner");
    let overview = call(&webview, "overview", json!({})).expect("overview");
    assert_eq!(overview["status"]["miners"][0]["name"], "office");
    assert_eq!(overview["limits"]["max_voltage"], 1250);
    let err =
        call(&webview, "apply_profile", json!({ "profile": "dusk" })).expect_err("bad profile");
    assert!(err.to_string().contains("dusk"), "{err}");

    let plan = call(
        &webview,
        "plan",
        json!({ "at": "2026-11-25T23:00", "config": null }),
    )
    .expect("plan");
    assert_eq!(plan[0]["target"]["profile"], "night");
    assert_eq!(plan[0]["target"]["settings"]["voltage"], 1200);
    assert_eq!(
        call(&webview, "take_pending_safe", json!({})).expect("flag"),
        json!(false)
    );
    tauri::async_runtime::block_on(engine.shutdown(Duration::from_secs(5)));
}

#[test]
fn beside_a_running_scheduler_the_app_is_read_only_but_shows_status() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("multi_scheduler_config.json");
    let miner = tauri::async_runtime::block_on(async {
        bitaxe_sim::fleet("sim", 1, |_| {})
            .await
            .expect("sim")
            .remove(0)
    });
    let config = Config {
        miners: vec![MinerConfig {
            profiles: Default::default(),
            name: "office".into(),
            ip: miner.url(),
            enabled: true,
            day_settings: None,
            night_settings: None,
            limits: None,
        }],
        ..Config::default()
    };
    config.save(&path).expect("config");
    // A daemon holds the lock, so the app's engine cannot start.
    let _daemon = bitaxe_core::lock::EngineLock::acquire(&path).expect("daemon lock");
    let why = match EngineHandle::start(EngineOptions::new(&path)) {
        Err(bitaxe_core::EngineError::Lock(e)) => e.to_string(),
        _ => panic!("the lock must stop a second engine"),
    };
    let app = mock_builder()
        .manage(AppState::new(
            path.clone(),
            dir.path().to_path_buf(),
            None,
            Some(why),
            Default::default(),
        ))
        .invoke_handler(tauri::generate_handler![
            bitaxe_desktop::commands::overview,
            bitaxe_desktop::commands::apply_profile
        ])
        .build(tauri::generate_context!())
        .expect("app");
    let webview = WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .expect("webview");
    let overview = call(&webview, "overview", json!({})).expect("overview");
    assert!(
        overview["read_only"]
            .as_str()
            .unwrap_or("")
            .contains("already running"),
        "{overview}"
    );
    assert_eq!(
        overview["status"]["miners"][0]["state"], "online",
        "status read straight from the miner"
    );
    let err =
        call(&webview, "apply_profile", json!({ "profile": "night" })).expect_err("read-only");
    assert_eq!(err["code"], "read_only");
    assert!(miner.patches().is_empty(), "nothing written");
}

#[test]
fn beside_a_running_scheduler_the_emergency_stop_still_reaches_the_miners() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("multi_scheduler_config.json");
    let miner = tauri::async_runtime::block_on(async {
        bitaxe_sim::fleet("sim", 1, |_| {})
            .await
            .expect("sim")
            .remove(0)
    });
    let config = Config {
        miners: vec![MinerConfig {
            profiles: Default::default(),
            name: "office".into(),
            ip: miner.url(),
            enabled: true,
            day_settings: None,
            night_settings: None,
            limits: None,
        }],
        ..Config::default()
    };
    config.save(&path).expect("config");
    let _daemon = bitaxe_core::lock::EngineLock::acquire(&path).expect("daemon lock");
    let app = mock_builder()
        .manage(AppState::new(
            path.clone(),
            dir.path().to_path_buf(),
            None,
            Some("another scheduler is already running".into()),
            Default::default(),
        ))
        .invoke_handler(tauri::generate_handler![
            bitaxe_desktop::commands::emergency_stop,
            bitaxe_desktop::commands::resume,
            bitaxe_desktop::commands::set_paused,
        ])
        .build(tauri::generate_context!())
        .expect("app");
    let webview = WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .expect("webview");
    call(&webview, "emergency_stop", json!({})).expect("stop");
    let s = miner.state();
    assert_eq!((s.nvs.core_voltage, s.nvs.frequency), (1100, 400.0));
    let state = bitaxe_core::overrides::Overrides::load(&path).expect("state");
    assert!(
        state.emergency,
        "the running scheduler follows the state file"
    );
    let err = call(&webview, "set_paused", json!({ "paused": true })).expect_err("read-only");
    assert_eq!(err["code"], "read_only");
    call(&webview, "resume", json!({})).expect("resume");
    assert!(bitaxe_core::overrides::Overrides::load(&path)
        .expect("state")
        .is_clear());
}
