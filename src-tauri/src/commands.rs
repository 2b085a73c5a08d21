//! IPC entry points: each takes state and typed arguments, makes one call into core, maps the
//! error. No business logic here.

use bitaxe_core::chart::{self, ChartRequest, Metric};
use bitaxe_core::config::{Config, MinerConfig};
use bitaxe_core::discovery::{self, Found};
use bitaxe_core::ops;
use bitaxe_core::schedule::{self, Profile};
use bitaxe_core::stats::Stats;
use bitaxe_core::status::FleetStatus;
use chrono::{Datelike, Duration, NaiveDateTime, TimeZone, Utc};
use tauri::{AppHandle, Manager, State};
use tauri_plugin_autostart::ManagerExt as _;
use tauri_plugin_opener::OpenerExt;
use tauri_plugin_store::StoreExt;

use crate::background;
use crate::demo;
use crate::error::CmdError;
use crate::export;
use crate::models::{
    ChartOut, CostSummary, DraftProblem, LoggedEvent, Overview, Prefs, PriceStrip, ProfileRow,
    TestFetch, WeekPreview,
};
use crate::state::AppState;
use bitaxe_core::ops::PlanRow;

type Res<T> = Result<T, CmdError>;

fn config_of(state: &AppState) -> Res<Config> {
    Ok(ops::config(&state.target())?)
}

#[tauri::command]
pub async fn overview(state: State<'_, AppState>) -> Res<Overview> {
    let config = config_of(&state)?;
    // From the engine; in read-only mode, one poll of every miner.
    let status: FleetStatus = ops::status(&state.target()).await?;
    let colours = config
        .miners
        .iter()
        .map(|m| {
            (
                m.name.clone(),
                chart::colour_hex(chart::miner_colour(&m.name)),
            )
        })
        .collect();
    let demo = config.miners.iter().any(demo::is_demo);
    Ok(Overview {
        status,
        read_only: state.read_only.clone(),
        config_path: state.config_path.display().to_string(),
        demo,
        limits: config.envelope(),
        colours,
    })
}

#[tauri::command]
pub fn get_config(state: State<'_, AppState>) -> Res<Config> {
    config_of(&state)
}

#[tauri::command]
pub fn save_config(state: State<'_, AppState>, config: Config) -> Res<()> {
    Ok(ops::save_config(&state.engine_target()?, config)?)
}

/// Check a whole config without saving it: the first problem, or nothing.
#[tauri::command]
pub fn validate_config(config: Config) -> Option<String> {
    config.validate().first().map(|p| {
        format!(
            "{}: {}",
            bitaxe_core::config::path_string(&p.path),
            p.message
        )
    })
}

/// Check a config draft as typed, by the engine's own rules: every problem with its key path
/// (`global_night_settings.voltage`, `miners[2].ip`), so a form can put it beside the field.
/// Empty: the draft would load and save as it is.
#[tauri::command]
pub fn check_config(config: serde_json::Value) -> Vec<DraftProblem> {
    crate::draft::check(&config)
}

/// Every profile a config draft knows, as the engine resolves it fleet-wide (presets clamped
/// into the envelope), in the engine's order.
#[tauri::command]
pub fn profile_specs(config: Config) -> Vec<ProfileRow> {
    crate::draft::profile_rows(&config)
}

/// The next 7 days for a config draft (nothing saved): from today's local midnight, each
/// miner's profile segments with the resolver's reason in words.
#[tauri::command]
pub fn preview_week(state: State<'_, AppState>, config: Config) -> WeekPreview {
    let now = state
        .engine
        .as_ref()
        .map(|e| e.now())
        .unwrap_or_else(Utc::now);
    let clock: std::sync::Arc<dyn bitaxe_core::clock::Clock> =
        std::sync::Arc::new(bitaxe_core::clock::FakeClock::new(now));
    let prices = crate::prices::view(&config, &state.config_path, clock);
    crate::draft::preview(&config, now, prices.as_deref())
}

/// Fetch a draft tariff's price source once (today and tomorrow): the tariff editor's test.
#[tauri::command]
pub async fn test_fetch(config: Config) -> Res<TestFetch> {
    crate::prices::test_fetch(&config, Utc::now()).await
}

/// Fetch the saved tariff's prices now (the cache beside the config is refreshed).
#[tauri::command]
pub async fn refresh_prices(state: State<'_, AppState>) -> Res<PriceStrip> {
    let config = config_of(&state)?;
    crate::prices::refresh(&config, &state.config_path).await
}

/// The price slots known for a chart range (cache and fixed windows) and their status.
#[tauri::command]
pub fn price_strip(state: State<'_, AppState>, range: String) -> Res<Option<PriceStrip>> {
    let config = config_of(&state)?;
    let hours = range_hours(&range)?;
    let now = state
        .engine
        .as_ref()
        .map(|e| e.now())
        .unwrap_or_else(Utc::now);
    let clock: std::sync::Arc<dyn bitaxe_core::clock::Clock> =
        std::sync::Arc::new(bitaxe_core::clock::FakeClock::new(now));
    Ok(crate::prices::view(&config, &state.config_path, clock)
        .map(|v| crate::prices::strip(&v, now - Duration::hours(hours), now)))
}

#[tauri::command]
pub async fn probe_miner(state: State<'_, AppState>, address: String) -> Res<Found> {
    let http = state
        .engine
        .as_ref()
        .map(|e| e.http().clone())
        .unwrap_or_default();
    Ok(discovery::probe(&http, &address).await?)
}

#[tauri::command]
pub async fn scan(range: String, port: Option<u16>) -> Res<Vec<Found>> {
    discovery::scan(&range, port.unwrap_or(80))
        .await
        .map_err(|m| CmdError::new("bad_range", m))
}

#[tauri::command]
pub fn default_scan_range() -> Option<String> {
    discovery::own_subnet()
}

#[tauri::command]
pub fn add_miners(state: State<'_, AppState>, miners: Vec<MinerConfig>) -> Res<()> {
    ops::add_miners(&state.engine_target()?, miners)?;
    Ok(())
}

#[tauri::command]
pub fn update_miner(state: State<'_, AppState>, original: String, miner: MinerConfig) -> Res<()> {
    Ok(ops::update_miner(
        &state.engine_target()?,
        &original,
        miner,
    )?)
}

#[tauri::command]
pub fn remove_miner(state: State<'_, AppState>, name: String) -> Res<()> {
    Ok(ops::remove_miner(&state.engine_target()?, &name)?)
}

#[tauri::command]
pub async fn apply_profile(
    state: State<'_, AppState>,
    profile: Profile,
    miner: Option<String>,
) -> Res<()> {
    let report = ops::apply(&state.engine_target()?, profile, miner.as_deref()).await?;
    not_saved(report.saved)
}

/// A decision in force but not saved arrives as the error `state_not_saved`.
fn not_saved(saved: Result<(), String>) -> Res<()> {
    saved.map_err(|why| CmdError::new("state_not_saved", why))
}

#[tauri::command]
pub fn set_paused(state: State<'_, AppState>, paused: bool) -> Res<()> {
    Ok(ops::set_paused(&state.engine_target()?, paused)?)
}

/// Allowed in read-only mode too: beside a running scheduler it acts on the miners from here
/// and writes the state file that scheduler follows.
#[tauri::command]
pub async fn emergency_stop(state: State<'_, AppState>) -> Res<()> {
    let report = ops::emergency_stop(&state.target()).await?;
    let failed: Vec<String> = report
        .failed()
        .iter()
        .map(|m| {
            format!(
                "{} ({})",
                m.miner,
                m.result.as_ref().err().map(String::as_str).unwrap_or("")
            )
        })
        .collect();
    not_saved(report.saved)?;
    if failed.is_empty() {
        Ok(())
    } else {
        Err(CmdError::new(
            "not_applied",
            format!("safe settings not applied to: {}", failed.join(", ")),
        ))
    }
}

/// Allowed in read-only mode too (it only clears the state file the running scheduler follows).
#[tauri::command]
pub fn resume(state: State<'_, AppState>) -> Res<()> {
    ops::resume(&state.target())?;
    Ok(())
}

#[tauri::command]
pub async fn restart_miner(state: State<'_, AppState>, name: String) -> Res<()> {
    Ok(ops::restart_miner(&state.engine_target()?, &name).await?)
}

#[tauri::command]
pub async fn pause_miner(state: State<'_, AppState>, name: String, paused: bool) -> Res<()> {
    Ok(ops::pause_miner(&state.engine_target()?, &name, paused).await?)
}

/// Try a given-up target on one miner again now.
#[tauri::command]
pub async fn retry_miner(state: State<'_, AppState>, miner: String) -> Res<()> {
    Ok(ops::retry_miner(&state.engine_target()?, &miner).await?)
}

/// Forget the ceilings lowered on one miner after repeated firmware overheats.
#[tauri::command]
pub async fn clear_ceiling(state: State<'_, AppState>, miner: String) -> Res<()> {
    Ok(ops::clear_ceiling(&state.engine_target()?, &miner).await?)
}

/// The device now answering at the miner's address is the user's: write to it again.
#[tauri::command]
pub fn confirm_identity(state: State<'_, AppState>, miner: String) -> Res<()> {
    ops::confirm_identity(&state.engine_target()?, &miner)?;
    Ok(())
}

/// What every miner runs at a local time (`YYYY-MM-DDTHH:MM`), for the schedule preview.
#[tauri::command]
pub fn plan(state: State<'_, AppState>, at: String, config: Option<Config>) -> Res<Vec<PlanRow>> {
    let config = match config {
        Some(c) => c,
        None => config_of(&state)?,
    };
    let tz = schedule::zone(&config);
    let naive = NaiveDateTime::parse_from_str(&at, "%Y-%m-%dT%H:%M")
        .map_err(|_| CmdError::new("bad_time", "expected YYYY-MM-DDTHH:MM"))?;
    let when = tz
        .from_local_datetime(&naive)
        .earliest()
        .ok_or_else(|| CmdError::new("bad_time", "that local time does not exist (DST)"))?
        .with_timezone(&Utc);
    Ok(ops::plan_at(&config, when, None))
}

fn range_hours(range: &str) -> Res<i64> {
    match range {
        "1h" => Ok(1),
        "24h" => Ok(24),
        "7d" => Ok(24 * 7),
        "30d" => Ok(24 * 30),
        other => Err(CmdError::new(
            "bad_range",
            format!("unknown range {other:?}: use 1h, 24h, 7d or 30d"),
        )),
    }
}

/// One chart as SVG. The history read and the rendering run on the blocking pool.
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
) -> Res<ChartOut> {
    let started = std::time::Instant::now();
    let engine = state.engine()?.clone();
    let config = config_of(&state)?;
    let hours = range_hours(&range)?;
    background::blocking(move || {
        let to = engine.now();
        let from = to - Duration::hours(hours);
        let points =
            engine.history(miner.as_deref(), from, to, chart::bucket_for(from, to, 240))?;
        // The bands come from the plan over the whole range, data or not: the miner's group's
        // plan for one miner, the fleet's for the rest.
        let tz = engine.zone();
        let group = miner
            .as_deref()
            .and_then(|m| schedule::group_of(&config, m));
        let bands: Vec<chart::Band> = schedule::timeline(&config, tz, group, from, to, None)
            .into_iter()
            .map(|s| chart::Band {
                from: s.start.timestamp(),
                to: s.end.timestamp(),
                profile: s.profile.name().to_string(),
            })
            .collect();
        let req = ChartRequest {
            metric,
            from,
            to,
            fleet_total: total,
            width,
            height,
            dark,
        };
        let svg = chart::render_svg_with_bands(&req, &points, tz, &bands)
            .map_err(|m| CmdError::new("chart", m))?;
        let mut legend: Vec<(String, String)> = Vec::new();
        for b in &bands {
            if !legend.iter().any(|(p, _)| *p == b.profile) {
                let colour = chart::colour_hex(chart::band_colour(&b.profile, dark));
                legend.push((b.profile.clone(), colour));
            }
        }
        Ok(ChartOut {
            svg,
            legend,
            points: points.len(),
            render_ms: started.elapsed().as_secs_f64() * 1000.0,
        })
    })
    .await
}

/// Last hour of hashrate per miner, one value a minute, for the fleet table's sparklines.
#[tauri::command]
pub async fn sparklines(state: State<'_, AppState>) -> Res<Vec<(String, Vec<f64>)>> {
    let engine = state.engine()?.clone();
    background::blocking(move || {
        let to = engine.now();
        let points = engine.history(None, to - Duration::hours(1), to, 60)?;
        let mut out: Vec<(String, Vec<f64>)> = Vec::new();
        for p in points {
            match out.last_mut() {
                Some((name, values)) if *name == p.miner => values.push(p.hashrate),
                _ => out.push((p.miner.clone(), vec![p.hashrate])),
            }
        }
        Ok(out)
    })
    .await
}

/// Save a chart's data (CSV), its SVG, or a PNG the window rendered, to the Downloads folder,
/// under a sanitised name. Reading, rendering and writing run on the blocking pool.
#[tauri::command]
pub async fn export_file(
    app: AppHandle,
    state: State<'_, AppState>,
    kind: String,
    range: String,
    miner: Option<String>,
    content: Option<Vec<u8>>,
) -> Res<String> {
    let engine = state.engine()?.clone();
    let hours = range_hours(&range)?;
    if !matches!(kind.as_str(), "csv" | "svg" | "png") {
        return Err(CmdError::new("bad_kind", format!("cannot export {kind:?}")));
    }
    let dir = app
        .path()
        .download_dir()
        .or_else(|_| app.path().home_dir())?;
    background::blocking(move || {
        let to = engine.now();
        let stamp = to.format("%Y%m%d-%H%M").to_string();
        let path = dir.join(export::file_name(miner.as_deref(), &range, &stamp, &kind));
        let bytes = if kind == "csv" {
            let from = to - Duration::hours(hours);
            let points = engine.history(
                miner.as_deref(),
                from,
                to,
                chart::bucket_for(from, to, 2000),
            )?;
            chart::csv(&points, engine.zone()).into_bytes()
        } else {
            content.ok_or_else(|| CmdError::new("missing", "nothing to save"))?
        };
        bitaxe_core::config::write_atomic(&path, &bytes)?;
        Ok(path.display().to_string())
    })
    .await
}

/// Measured energy and its cost, today and this month (local days), per miner, fleet and
/// profile. SQLite runs on the blocking pool.
#[tauri::command]
pub async fn cost_summary(state: State<'_, AppState>) -> Res<CostSummary> {
    let engine = state.engine()?.clone();
    let currency = config_of(&state)?.tariff.map(|t| t.currency);
    background::blocking(move || {
        let now = engine.now();
        let tz = engine.zone();
        let today = now.with_timezone(&tz).date_naive();
        let month = today.with_day(1).unwrap_or(today);
        let end = now + Duration::seconds(1);
        Ok(CostSummary {
            currency,
            today: engine.cost(bitaxe_core::cost::local_day_start(tz, today), end)?,
            month: engine.cost(bitaxe_core::cost::local_day_start(tz, month), end)?,
        })
    })
    .await
}

#[tauri::command]
pub async fn day_night_stats(state: State<'_, AppState>) -> Res<Stats> {
    let path = Stats::path_for(&state.config_path);
    background::blocking(move || Ok(Stats::load(&path).0)).await
}

#[tauri::command]
pub fn events(state: State<'_, AppState>) -> Vec<LoggedEvent> {
    state
        .events
        .lock()
        .map(|l| l.iter().cloned().collect())
        .unwrap_or_default()
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

/// Replace the configuration with a file's text (a seed user's `multi_scheduler_config.json`).
#[tauri::command]
pub fn import_config(state: State<'_, AppState>, text: String) -> Res<usize> {
    let config = Config::parse(&text, std::path::Path::new("imported file"))?;
    let n = config.miners.len();
    ops::save_config(&state.engine_target()?, config)?;
    Ok(n)
}

#[tauri::command]
pub fn export_config(app: AppHandle, state: State<'_, AppState>) -> Res<String> {
    let dir = app
        .path()
        .download_dir()
        .or_else(|_| app.path().home_dir())?;
    let path = dir.join("multi_scheduler_config.json");
    config_of(&state)?.save(&path)?;
    Ok(path.display().to_string())
}

#[tauri::command]
pub fn open_log_folder(app: AppHandle, state: State<'_, AppState>) -> Res<()> {
    app.opener()
        .open_path(state.data_dir.display().to_string(), None::<&str>)
        .map_err(|e| CmdError::new("open", e.to_string()))
}

#[tauri::command]
pub fn open_miner_page(app: AppHandle, state: State<'_, AppState>, name: String) -> Res<()> {
    let config = config_of(&state)?;
    let m = config
        .miner(&name)
        .ok_or_else(|| CmdError::new("unknown_miner", format!("no miner named {name:?}")))?;
    app.opener()
        .open_url(&m.ip, None::<&str>)
        .map_err(|e| CmdError::new("open", e.to_string()))
}

#[tauri::command]
pub async fn start_demo(app: AppHandle, state: State<'_, AppState>) -> Res<()> {
    let target = state.engine_target()?;
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
    let target = state.engine_target()?;
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
