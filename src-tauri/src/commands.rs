//! IPC entry points. The dispatchable ones (everything the engine answers) are one line each:
//! [`AppState::call`] with the command's own name and the arguments as the window sent them,
//! so the same command runs locally or, through the same seam, on a remote scheduler. The rest
//! are the desktop's own (preferences, autostart, demo, folders, the export's file).

use bitaxe_app::models::ExportData;
use bitaxe_core::chart::Metric;
use bitaxe_core::config::{Config, MinerConfig};
use bitaxe_core::ops;
use bitaxe_core::schedule::Profile;
use serde_json::{json, Value};
use tauri::{AppHandle, Manager, State};
use tauri_plugin_autostart::ManagerExt as _;
use tauri_plugin_opener::OpenerExt;
use tauri_plugin_store::StoreExt;

use crate::background;
use crate::demo;
use crate::error::{app_error, CmdError};
use crate::models::Prefs;
use crate::state::{ApiStatus, AppState};

type Res<T> = Result<T, CmdError>;

/// Every dispatchable command's answer: the JSON the command layer gave (typed there).
type Answer = Res<Value>;

#[tauri::command]
pub async fn overview(state: State<'_, AppState>) -> Answer {
    state.call("overview", json!({})).await
}

#[tauri::command]
pub async fn get_config(state: State<'_, AppState>) -> Answer {
    state.call("get_config", json!({})).await
}

#[tauri::command]
pub async fn save_config(state: State<'_, AppState>, config: Config) -> Answer {
    state.call("save_config", json!({ "config": config })).await
}

/// Check a whole config without saving it: the first problem, or nothing.
#[tauri::command]
pub async fn validate_config(state: State<'_, AppState>, config: Config) -> Answer {
    state
        .call("validate_config", json!({ "config": config }))
        .await
}

/// Check a config draft as typed, by the engine's own rules: every problem with its key path.
#[tauri::command]
pub async fn check_config(state: State<'_, AppState>, config: Value) -> Answer {
    state
        .call("check_config", json!({ "config": config }))
        .await
}

/// Every profile a config draft knows, as the engine resolves it fleet-wide.
#[tauri::command]
pub async fn profile_specs(state: State<'_, AppState>, config: Config) -> Answer {
    state
        .call("profile_specs", json!({ "config": config }))
        .await
}

/// The next 7 days for a config draft (nothing saved).
#[tauri::command]
pub async fn preview_week(state: State<'_, AppState>, config: Config) -> Answer {
    state
        .call("preview_week", json!({ "config": config }))
        .await
}

/// Fetch a draft tariff's price source once (today and tomorrow): the tariff editor's test.
#[tauri::command]
pub async fn test_fetch(state: State<'_, AppState>, config: Config) -> Answer {
    state.call("test_fetch", json!({ "config": config })).await
}

/// Send a test message to every alert channel of a draft (nothing saved): Settings' Send test.
#[tauri::command]
pub async fn test_alerts(state: State<'_, AppState>, config: Config) -> Answer {
    state.call("test_alerts", json!({ "config": config })).await
}

/// Fetch the saved tariff's prices now (the cache beside the config is refreshed).
#[tauri::command]
pub async fn refresh_prices(state: State<'_, AppState>) -> Answer {
    state.call("refresh_prices", json!({})).await
}

/// The price slots known for a chart range (cache and fixed windows) and their status.
#[tauri::command]
pub async fn price_strip(state: State<'_, AppState>, range: String) -> Answer {
    state.call("price_strip", json!({ "range": range })).await
}

#[tauri::command]
pub async fn probe_miner(state: State<'_, AppState>, address: String) -> Answer {
    state
        .call("probe_miner", json!({ "address": address }))
        .await
}

#[tauri::command]
pub async fn scan(state: State<'_, AppState>, range: String, port: Option<u16>) -> Answer {
    state
        .call("scan", json!({ "range": range, "port": port }))
        .await
}

#[tauri::command]
pub async fn default_scan_range(state: State<'_, AppState>) -> Answer {
    state.call("default_scan_range", json!({})).await
}

#[tauri::command]
pub async fn add_miners(state: State<'_, AppState>, miners: Vec<MinerConfig>) -> Answer {
    state.call("add_miners", json!({ "miners": miners })).await
}

#[tauri::command]
pub async fn update_miner(
    state: State<'_, AppState>,
    original: String,
    miner: MinerConfig,
) -> Answer {
    state
        .call(
            "update_miner",
            json!({ "original": original, "miner": miner }),
        )
        .await
}

#[tauri::command]
pub async fn remove_miner(state: State<'_, AppState>, name: String) -> Answer {
    state.call("remove_miner", json!({ "name": name })).await
}

#[tauri::command]
pub async fn apply_profile(
    state: State<'_, AppState>,
    profile: Profile,
    miner: Option<String>,
) -> Answer {
    state
        .call(
            "apply_profile",
            json!({ "profile": profile, "miner": miner }),
        )
        .await
}

#[tauri::command]
pub async fn set_paused(state: State<'_, AppState>, paused: bool) -> Answer {
    state.call("set_paused", json!({ "paused": paused })).await
}

/// Allowed in read-only mode too (beside a running scheduler it acts on the miners from here).
#[tauri::command]
pub async fn emergency_stop(state: State<'_, AppState>) -> Answer {
    state.call("emergency_stop", json!({})).await
}

/// Allowed in read-only mode too (it only clears the state file the running scheduler follows).
#[tauri::command]
pub async fn resume(state: State<'_, AppState>) -> Answer {
    state.call("resume", json!({})).await
}

#[tauri::command]
pub async fn restart_miner(state: State<'_, AppState>, name: String) -> Answer {
    state.call("restart_miner", json!({ "name": name })).await
}

#[tauri::command]
pub async fn pause_miner(state: State<'_, AppState>, name: String, paused: bool) -> Answer {
    state
        .call("pause_miner", json!({ "name": name, "paused": paused }))
        .await
}

/// Try a given-up target on one miner again now.
#[tauri::command]
pub async fn retry_miner(state: State<'_, AppState>, miner: String) -> Answer {
    state.call("retry_miner", json!({ "miner": miner })).await
}

/// Forget the ceilings lowered on one miner after repeated firmware overheats.
#[tauri::command]
pub async fn clear_ceiling(state: State<'_, AppState>, miner: String) -> Answer {
    state.call("clear_ceiling", json!({ "miner": miner })).await
}

/// The device now answering at the miner's address is the user's: write to it again.
#[tauri::command]
pub async fn confirm_identity(state: State<'_, AppState>, miner: String) -> Answer {
    state
        .call("confirm_identity", json!({ "miner": miner }))
        .await
}

/// What every miner runs at a local time (`YYYY-MM-DDTHH:MM`), for the schedule preview.
#[tauri::command]
pub async fn plan(state: State<'_, AppState>, at: String, config: Option<Config>) -> Answer {
    state
        .call("plan", json!({ "at": at, "config": config }))
        .await
}

/// One chart as SVG (rendered by the command layer on the blocking pool).
#[tauri::command]
#[allow(clippy::too_many_arguments)]
pub async fn chart(
    state: State<'_, AppState>,
    metric: Metric,
    range: String,
    miner: Option<String>,
    total: bool,
    dark: bool,
    width: u32,
    height: u32,
) -> Answer {
    let args = json!({
        "metric": metric, "range": range, "miner": miner, "total": total,
        "dark": dark, "width": width, "height": height,
    });
    state.call("chart", args).await
}

/// Last hour of hashrate per miner, one value a minute, for the fleet table's sparklines.
#[tauri::command]
pub async fn sparklines(state: State<'_, AppState>) -> Answer {
    state.call("sparklines", json!({})).await
}

/// Save a chart's data (CSV), its SVG, or a PNG the window rendered, to the Downloads folder,
/// under the safe name the command layer gives. The write runs on the blocking pool.
#[tauri::command]
pub async fn export_file(
    app: AppHandle,
    state: State<'_, AppState>,
    kind: String,
    range: String,
    miner: Option<String>,
    content: Option<Vec<u8>>,
) -> Res<String> {
    let args = json!({ "kind": kind, "range": range, "miner": miner });
    let answer = call_where(&app, &state, "export_data", args).await?;
    let data: ExportData =
        serde_json::from_value(answer).map_err(|e| CmdError::new("app", e.to_string()))?;
    let dir = downloads(&app)?;
    background::blocking(move || {
        let path = dir.join(&data.name);
        let bytes = match data.csv {
            Some(csv) => csv.into_bytes(),
            None => content.ok_or_else(|| CmdError::new("missing", "nothing to save"))?,
        };
        bitaxe_core::config::write_atomic(&path, &bytes)?;
        Ok(path.display().to_string())
    })
    .await
}

/// The folder exports go to: Downloads, else home.
pub fn downloads(app: &AppHandle) -> Res<std::path::PathBuf> {
    app.path()
        .download_dir()
        .or_else(|_| app.path().home_dir())
        .map_err(app_error)
}

/// Measured energy and its cost, today and this month (local days).
#[tauri::command]
pub async fn cost_summary(state: State<'_, AppState>) -> Answer {
    state.call("cost_summary", json!({})).await
}

#[tauri::command]
pub async fn day_night_stats(state: State<'_, AppState>) -> Answer {
    state.call("day_night_stats", json!({})).await
}

#[tauri::command]
pub async fn events(state: State<'_, AppState>) -> Answer {
    state.call("events", json!({})).await
}

/// Replace the configuration with a file's text (a seed user's `multi_scheduler_config.json`).
#[tauri::command]
pub async fn import_config(state: State<'_, AppState>, text: String) -> Answer {
    state.call("import_config", json!({ "text": text })).await
}

/// Write the config to the Downloads folder as `multi_scheduler_config.json`; its path.
#[tauri::command]
pub async fn export_config(app: AppHandle, state: State<'_, AppState>) -> Answer {
    let Some(link) = crate::remote::link(&app) else {
        return state.call("export_config", json!({})).await;
    };
    // Attached: the scheduler's config, saved in this computer's Downloads.
    let config: Config = serde_json::from_value(link.call("get_config", json!({})).await?)
        .map_err(|e| CmdError::new("app", e.to_string()))?;
    let path = downloads(&app)?.join("multi_scheduler_config.json");
    background::blocking(move || {
        config.save(&path)?;
        Ok(json!(path.display().to_string()))
    })
    .await
}

/// A dispatchable command run for a desktop-only one: by the scheduler this app is attached
/// to, else here.
async fn call_where(app: &AppHandle, state: &AppState, name: &str, args: Value) -> Answer {
    match crate::remote::link(app) {
        Some(link) => link.call(name, args).await,
        None => state.call(name, args).await,
    }
}

/// Where this app serves the API (`api.listen` in the config), for the Settings view.
#[tauri::command]
pub fn api_status(state: State<'_, AppState>) -> ApiStatus {
    state.api_status()
}

#[tauri::command]
pub fn get_prefs(state: State<'_, AppState>) -> Prefs {
    state.prefs()
}

#[tauri::command]
pub fn set_prefs(app: AppHandle, state: State<'_, AppState>, prefs: Prefs) -> Res<()> {
    crate::save_prefs(&app, &prefs).map_err(|e| CmdError::new("prefs", e))?;
    if let Ok(mut p) = state.prefs.lock() {
        *p = prefs;
    }
    Ok(())
}

#[tauri::command]
pub fn get_autostart(app: AppHandle) -> bool {
    app.autolaunch().is_enabled().unwrap_or(false)
}

#[tauri::command]
pub fn set_autostart(app: AppHandle, enabled: bool) -> Res<()> {
    let r = if enabled {
        app.autolaunch().enable()
    } else {
        app.autolaunch().disable()
    };
    r.map_err(|e| CmdError::new("autostart", e.to_string()))
}

#[tauri::command]
pub fn open_log_folder(app: AppHandle, state: State<'_, AppState>) -> Res<()> {
    let dir = state.local()?.data_dir.display().to_string();
    app.opener()
        .open_path(dir, None::<&str>)
        .map_err(|e| CmdError::new("open", e.to_string()))
}

#[tauri::command]
pub async fn open_miner_page(app: AppHandle, state: State<'_, AppState>, name: String) -> Res<()> {
    let config: Config = serde_json::from_value(state.call("get_config", json!({})).await?)
        .map_err(|e| CmdError::new("app", e.to_string()))?;
    let m = config
        .miner(&name)
        .ok_or_else(|| CmdError::new("unknown_miner", format!("no miner named {name:?}")))?;
    app.opener()
        .open_url(&m.ip, None::<&str>)
        .map_err(|e| CmdError::new("open", e.to_string()))
}

#[tauri::command]
pub async fn start_demo(app: AppHandle, state: State<'_, AppState>) -> Res<()> {
    let target = ops::Target::Engine(state.engine()?.clone());
    let ports = state.prefs().demo_ports;
    let miners = demo::start(&ports).await?;
    ops::save_config(&target, demo::with_demo(ops::config(&target)?, &miners))?;
    let mut prefs = state.prefs();
    prefs.demo_ports = miners.iter().map(|m| m.addr().port()).collect();
    let _ = crate::save_prefs(&app, &prefs);
    if let (Ok(mut p), Ok(mut d)) = (state.prefs.lock(), state.demo.lock()) {
        *p = prefs;
        *d = miners;
    }
    Ok(())
}

#[tauri::command]
pub fn stop_demo(app: AppHandle, state: State<'_, AppState>) -> Res<()> {
    let target = ops::Target::Engine(state.engine()?.clone());
    ops::save_config(&target, demo::without_demo(ops::config(&target)?))?;
    let mut prefs = state.prefs();
    prefs.demo_ports.clear();
    let _ = crate::save_prefs(&app, &prefs);
    if let (Ok(mut p), Ok(mut d)) = (state.prefs.lock(), state.demo.lock()) {
        *p = prefs;
        for m in d.drain(..) {
            m.stop();
        }
    }
    Ok(())
}

/// Whether the tray asked for "Safe settings for all" and the window has not confirmed it yet.
#[tauri::command]
pub fn take_pending_safe(state: State<'_, AppState>) -> bool {
    state
        .pending_safe
        .swap(false, std::sync::atomic::Ordering::SeqCst)
}

#[tauri::command]
pub fn quit(app: AppHandle) {
    crate::quit(app);
}

/// Store access is only for preferences; keep the import in one place.
pub fn prefs_store(
    app: &AppHandle,
) -> Result<std::sync::Arc<tauri_plugin_store::Store<tauri::Wry>>, String> {
    app.store("prefs.json").map_err(|e| e.to_string())
}
