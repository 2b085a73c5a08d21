//! The desktop shell: starts the core engine on the shared config, puts it in the tray, bridges
//! its events to the window and to native notifications. Thin: the logic lives in `bitaxe-core`.
#![forbid(unsafe_code)]

pub mod background;
pub mod bridge;
pub mod commands;
pub mod demo;
pub mod error;
pub mod models;
pub mod remote;
pub mod serve;
pub mod state;
pub mod tray;
#[cfg(test)]
mod typescript;

use std::path::PathBuf;
use std::time::Duration;

use std::sync::Arc;

use bitaxe_app::ServiceOptions;
use bitaxe_core::{EngineError, EngineHandle, EngineOptions};
use tauri::{AppHandle, Manager, RunEvent};

use crate::models::Prefs;
use crate::state::{AppState, Backend};

/// Command-line options of the app: `--config FILE`, `--demo`, `--minimized`.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Options {
    pub config: Option<PathBuf>,
    pub demo: bool,
    pub minimized: bool,
}

pub fn parse_args(args: impl IntoIterator<Item = String>) -> Options {
    let mut o = Options::default();
    let mut it = args.into_iter().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--config" => o.config = it.next().map(PathBuf::from),
            "--demo" => o.demo = true,
            "--minimized" => o.minimized = true,
            s if s.starts_with("--config=") => {
                o.config = Some(PathBuf::from(&s["--config=".len()..]))
            }
            _ => {}
        }
    }
    o
}

pub(crate) fn load_prefs(app: &AppHandle) -> Prefs {
    commands::prefs_store(app)
        .ok()
        .and_then(|s| s.get("prefs"))
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default()
}

pub(crate) fn save_prefs(app: &AppHandle, prefs: &Prefs) -> Result<(), String> {
    let store = commands::prefs_store(app)?;
    store.set(
        "prefs",
        serde_json::to_value(prefs).map_err(|e| e.to_string())?,
    );
    store.save().map_err(|e| e.to_string())
}

/// Quit from the tray: stop transitions between safe steps, flush history and statistics, exit.
pub(crate) fn quit(app: AppHandle) {
    tauri::async_runtime::spawn(async move {
        serve::stop(&app).await;
        if let Some(engine) = app.state::<AppState>().engine.clone() {
            engine.shutdown(Duration::from_secs(20)).await;
        }
        app.exit(0);
    });
}

fn setup(app: &mut tauri::App, opts: Options) -> Result<(), Box<dyn std::error::Error>> {
    let handle = app.handle().clone();
    let config_path = match &opts.config {
        Some(p) => p.clone(),
        None => app
            .path()
            .app_config_dir()?
            .join("multi_scheduler_config.json"),
    };
    if let Some(dir) = config_path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let data_dir = match &opts.config {
        Some(_) => config_path
            .parent()
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(".")),
        None => app.path().app_data_dir()?,
    };
    let prefs = load_prefs(&handle);
    let mut engine_opts = EngineOptions::new(&config_path);
    engine_opts.data_dir = data_dir.clone();
    let export_dir = commands::downloads(&handle).ok();
    // Attached to a scheduler elsewhere: no engine here, the config's lock is not taken.
    let attachment = remote::saved(&handle);
    // Inside the runtime: the engine and the service's events log spawn their tasks.
    let started = tauri::async_runtime::block_on(async {
        let (engine, read_only) = match &attachment {
            Some(a) => (None, Some(remote::read_only_reason(a))),
            None => match EngineHandle::start(engine_opts) {
                Ok(e) => (Some(e), None),
                Err(EngineError::Lock(e)) => (None, Some(e.to_string())),
                Err(e) => return Err(e),
            },
        };
        let service = state::local_service(ServiceOptions {
            config_path: config_path.clone(),
            data_dir,
            engine: engine.clone(),
            read_only,
            export_dir,
        });
        Ok((engine, Arc::new(service)))
    });
    let (engine, service) = started?;
    app.manage(AppState::with_backend(
        Backend::Local(service.clone()),
        engine.clone(),
        prefs,
    ));
    if engine.is_some() {
        serve::spawn(handle.clone(), service);
    }
    let menu = tray::build(&handle)?;
    if let Some(engine) = engine {
        // A demo asked for on the command line, or left running last time, comes back.
        let wants_demo = opts.demo || engine.config().miners.iter().any(demo::is_demo);
        if wants_demo {
            let app2 = handle.clone();
            tauri::async_runtime::spawn(async move {
                let state = app2.state::<AppState>();
                let _ = commands::start_demo(app2.clone(), state).await;
            });
        }
        // MQTT / Home Assistant: follows the config's `mqtt` key; at quit the broker's last will
        // marks it offline.
        tauri::async_runtime::block_on(async { bitaxe_mqtt::spawn(engine.clone()) });
        bridge::spawn(handle.clone(), engine, menu);
    } else if let Some(a) = attachment {
        remote::commands::follow_saved(&handle, &a, menu);
    }
    if opts.minimized {
        if let Some(w) = app.get_webview_window("main") {
            let _ = w.destroy();
        }
    }
    Ok(())
}

pub fn run() {
    let opts = parse_args(std::env::args());
    let app = tauri::Builder::default()
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            tray::show_window(app)
        }))
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_store::Builder::new().build())
        .plugin(tauri_plugin_opener::init())
        .plugin(tauri_plugin_autostart::init(
            tauri_plugin_autostart::MacosLauncher::LaunchAgent,
            Some(vec!["--minimized"]),
        ))
        .invoke_handler(remote::forward(tauri::generate_handler![
            commands::overview,
            commands::get_config,
            commands::save_config,
            commands::validate_config,
            commands::check_config,
            commands::profile_specs,
            commands::preview_week,
            commands::test_fetch,
            commands::test_alerts,
            commands::refresh_prices,
            commands::price_strip,
            commands::cost_summary,
            commands::api_status,
            commands::probe_miner,
            commands::scan,
            commands::default_scan_range,
            commands::add_miners,
            commands::update_miner,
            commands::remove_miner,
            commands::apply_profile,
            commands::set_paused,
            commands::emergency_stop,
            commands::resume,
            commands::restart_miner,
            commands::retry_miner,
            commands::clear_ceiling,
            commands::confirm_identity,
            commands::pause_miner,
            commands::plan,
            commands::chart,
            commands::sparklines,
            commands::export_file,
            commands::day_night_stats,
            commands::events,
            commands::get_prefs,
            commands::set_prefs,
            commands::get_autostart,
            commands::set_autostart,
            commands::import_config,
            commands::export_config,
            commands::open_log_folder,
            commands::open_miner_page,
            commands::start_demo,
            commands::stop_demo,
            commands::quit,
            commands::take_pending_safe,
            remote::commands::connect,
            remote::commands::disconnect,
            remote::commands::discover,
            remote::commands::probe_certificate,
            remote::commands::connection_state,
            remote::commands::attachment,
        ]))
        .setup(move |app| setup(app, opts.clone()))
        .build(tauri::generate_context!());
    match app {
        Ok(app) => app.run(|_app, event| {
            if let RunEvent::ExitRequested {
                api, code: None, ..
            } = event
            {
                // Only Quit (an explicit exit code) ends the app.
                api.prevent_exit();
            }
        }),
        Err(e) => eprintln!("Bitaxe Fleet could not start: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments() {
        let a = |v: &[&str]| parse_args(v.iter().map(|s| s.to_string()));
        assert_eq!(a(&["app"]), Options::default());
        assert_eq!(
            a(&["app", "--config", "/x/c.json", "--demo"]),
            Options {
                config: Some("/x/c.json".into()),
                demo: true,
                minimized: false
            }
        );
        assert_eq!(
            a(&["app", "--config=/y.json", "--minimized"]).config,
            Some(PathBuf::from("/y.json"))
        );
    }
}
