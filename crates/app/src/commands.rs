//! The commands themselves, typed: each takes the [`Service`] and its arguments, makes one call
//! into core, maps the error. [`crate::dispatch`] calls them by name; nothing here knows whether
//! the caller is the desktop window or the HTTP API.

use bitaxe_core::chart::{self, ChartRequest, Metric};
use bitaxe_core::clock::{Clock, FakeClock};
use bitaxe_core::config::{Config, MinerConfig};
use bitaxe_core::discovery::{self, Found};
use bitaxe_core::ops::{self, PlanRow};
use bitaxe_core::schedule::{self, Profile};
use bitaxe_core::stats::Stats;
use chrono::{Datelike, Duration, NaiveDateTime, TimeZone, Utc};
use std::sync::Arc;

use crate::error::CmdError;
use crate::models::{
    ChartOut, CostSummary, DraftProblem, ExportData, LoggedEvent, Overview, PriceStrip, ProfileRow,
    TestFetch, WeekPreview,
};
use crate::service::Service;

pub type Res<T> = Result<T, CmdError>;

/// Demo miners are named "Demo N" and run on loopback inside the desktop app.
pub const DEMO_PREFIX: &str = "Demo ";

pub fn is_demo(m: &MinerConfig) -> bool {
    m.name.starts_with(DEMO_PREFIX) && m.ip.starts_with("http://127.")
}

/// Blocking work (SQLite reads, chart and CSV rendering, file writes) runs on the blocking
/// pool, never on an async worker.
async fn blocking<T, F>(work: F) -> Res<T>
where
    T: Send + 'static,
    F: FnOnce() -> Res<T> + Send + 'static,
{
    tokio::task::spawn_blocking(work).await?
}

fn config_of(s: &Service) -> Res<Config> {
    Ok(ops::config(&s.target())?)
}

/// A clock standing still at the service's now, for the price view.
fn clock_at(s: &Service) -> Arc<dyn Clock> {
    Arc::new(FakeClock::new(s.now()))
}

/// Everything the top bar and the fleet table need, in one call.
pub async fn overview(s: &Service) -> Res<Overview> {
    let config = config_of(s)?;
    // From the engine; in read-only mode, one poll of every miner.
    let status = ops::status(&s.target()).await?;
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
    Ok(Overview {
        status,
        read_only: s.read_only.clone(),
        config_path: s.config_path.display().to_string(),
        demo: config.miners.iter().any(is_demo),
        limits: config.envelope(),
        colours,
    })
}

pub fn get_config(s: &Service) -> Res<Config> {
    config_of(s)
}

pub fn save_config(s: &Service, config: Config) -> Res<()> {
    Ok(ops::save_config(&s.engine_target()?, config)?)
}

/// Check a whole config without saving it: the first problem, or nothing.
pub fn validate_config(config: &Config) -> Option<String> {
    config.validate().first().map(|p| {
        format!(
            "{}: {}",
            bitaxe_core::config::path_string(&p.path),
            p.message
        )
    })
}

/// Every problem of a draft as typed, with its key path (see [`crate::draft::check`]).
pub fn check_config(config: &serde_json::Value) -> Vec<DraftProblem> {
    crate::draft::check(config)
}

pub fn profile_specs(config: &Config) -> Vec<ProfileRow> {
    crate::draft::profile_rows(config)
}

/// The next 7 days for a config draft (nothing saved).
pub fn preview_week(s: &Service, config: &Config) -> WeekPreview {
    let prices = crate::prices::view(config, &s.config_path, clock_at(s));
    crate::draft::preview(config, s.now(), prices.as_deref())
}

/// Fetch a draft tariff's price source once (today and tomorrow).
pub async fn test_fetch(config: &Config) -> Res<TestFetch> {
    crate::prices::test_fetch(config, Utc::now()).await
}

/// Fetch the saved tariff's prices now (the cache beside the config is refreshed).
pub async fn refresh_prices(s: &Service) -> Res<PriceStrip> {
    let config = config_of(s)?;
    crate::prices::refresh(&config, &s.config_path).await
}

/// The price slots known for a chart range (cache and fixed windows) and their status.
pub fn price_strip(s: &Service, range: &str) -> Res<Option<PriceStrip>> {
    let config = config_of(s)?;
    let hours = range_hours(range)?;
    let now = s.now();
    Ok(crate::prices::view(&config, &s.config_path, clock_at(s))
        .map(|v| crate::prices::strip(&v, now - Duration::hours(hours), now)))
}

pub async fn probe_miner(s: &Service, address: &str) -> Res<Found> {
    let http = s
        .engine
        .as_ref()
        .map(|e| e.http().clone())
        .unwrap_or_default();
    Ok(discovery::probe(&http, address).await?)
}

pub async fn scan(range: &str, port: Option<u16>) -> Res<Vec<Found>> {
    discovery::scan(range, port.unwrap_or(80))
        .await
        .map_err(|m| CmdError::new("bad_range", m))
}

pub fn default_scan_range() -> Option<String> {
    discovery::own_subnet()
}

pub fn add_miners(s: &Service, miners: Vec<MinerConfig>) -> Res<()> {
    ops::add_miners(&s.engine_target()?, miners)?;
    Ok(())
}

pub fn update_miner(s: &Service, original: &str, miner: MinerConfig) -> Res<()> {
    Ok(ops::update_miner(&s.engine_target()?, original, miner)?)
}

pub fn remove_miner(s: &Service, name: &str) -> Res<()> {
    Ok(ops::remove_miner(&s.engine_target()?, name)?)
}

pub async fn apply_profile(s: &Service, profile: Profile, miner: Option<&str>) -> Res<()> {
    let report = ops::apply(&s.engine_target()?, profile, miner).await?;
    not_saved(report.saved)
}

/// A decision in force but not saved arrives as the error `state_not_saved`.
fn not_saved(saved: Result<(), String>) -> Res<()> {
    saved.map_err(|why| CmdError::new("state_not_saved", why))
}

pub fn set_paused(s: &Service, paused: bool) -> Res<()> {
    Ok(ops::set_paused(&s.engine_target()?, paused)?)
}

/// Allowed in read-only mode too: beside a running scheduler it acts on the miners from here
/// and writes the state file that scheduler follows.
pub async fn emergency_stop(s: &Service) -> Res<()> {
    let report = ops::emergency_stop(&s.target()).await?;
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
pub fn resume(s: &Service) -> Res<()> {
    ops::resume(&s.target())?;
    Ok(())
}

pub async fn restart_miner(s: &Service, name: &str) -> Res<()> {
    Ok(ops::restart_miner(&s.engine_target()?, name).await?)
}

pub async fn pause_miner(s: &Service, name: &str, paused: bool) -> Res<()> {
    Ok(ops::pause_miner(&s.engine_target()?, name, paused).await?)
}

/// Try a given-up target on one miner again now.
pub async fn retry_miner(s: &Service, miner: &str) -> Res<()> {
    Ok(ops::retry_miner(&s.engine_target()?, miner).await?)
}

/// Forget the ceilings lowered on one miner after repeated firmware overheats.
pub async fn clear_ceiling(s: &Service, miner: &str) -> Res<()> {
    Ok(ops::clear_ceiling(&s.engine_target()?, miner).await?)
}

/// The device now answering at the miner's address is the user's: write to it again.
pub fn confirm_identity(s: &Service, miner: &str) -> Res<()> {
    ops::confirm_identity(&s.engine_target()?, miner)?;
    Ok(())
}

/// What every miner runs at a local time (`YYYY-MM-DDTHH:MM`), for the schedule preview.
pub fn plan(s: &Service, at: &str, config: Option<Config>) -> Res<Vec<PlanRow>> {
    let config = match config {
        Some(c) => c,
        None => config_of(s)?,
    };
    let tz = schedule::zone(&config);
    let naive = NaiveDateTime::parse_from_str(at, "%Y-%m-%dT%H:%M")
        .map_err(|_| CmdError::new("bad_time", "expected YYYY-MM-DDTHH:MM"))?;
    let when = tz
        .from_local_datetime(&naive)
        .earliest()
        .ok_or_else(|| CmdError::new("bad_time", "that local time does not exist (DST)"))?
        .with_timezone(&Utc);
    Ok(ops::plan_at(&config, when, None))
}

pub fn range_hours(range: &str) -> Res<i64> {
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

/// What a chart shows.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChartArgs {
    pub metric: Metric,
    pub range: String,
    #[serde(default)]
    pub miner: Option<String>,
    pub total: bool,
    pub dark: bool,
    pub width: u32,
    pub height: u32,
}

/// One chart as SVG. The history read and the rendering run on the blocking pool.
pub async fn chart(s: &Service, a: ChartArgs) -> Res<ChartOut> {
    let started = std::time::Instant::now();
    let engine = s.engine()?.clone();
    let config = config_of(s)?;
    let hours = range_hours(&a.range)?;
    blocking(move || {
        let to = engine.now();
        let from = to - Duration::hours(hours);
        let points = engine.history(
            a.miner.as_deref(),
            from,
            to,
            chart::bucket_for(from, to, 240),
        )?;
        // The bands come from the plan over the whole range, data or not: the miner's group's
        // plan for one miner, the fleet's for the rest.
        let tz = engine.zone();
        let group = a
            .miner
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
            metric: a.metric,
            from,
            to,
            fleet_total: a.total,
            width: a.width,
            height: a.height,
            dark: a.dark,
        };
        let svg = chart::render_svg_with_bands(&req, &points, tz, &bands)
            .map_err(|m| CmdError::new("chart", m))?;
        let mut legend: Vec<(String, String)> = Vec::new();
        for b in &bands {
            if !legend.iter().any(|(p, _)| *p == b.profile) {
                let colour = chart::colour_hex(chart::band_colour(&b.profile, a.dark));
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
pub async fn sparklines(s: &Service) -> Res<Vec<(String, Vec<f64>)>> {
    let engine = s.engine()?.clone();
    blocking(move || {
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

/// The safe file name for an export and, for `csv`, its data (the desktop writes the file; an
/// `svg` or `png` is what its window rendered).
pub async fn export_data(
    s: &Service,
    kind: String,
    range: String,
    miner: Option<String>,
) -> Res<ExportData> {
    let engine = s.engine()?.clone();
    let hours = range_hours(&range)?;
    if !matches!(kind.as_str(), "csv" | "svg" | "png") {
        return Err(CmdError::new("bad_kind", format!("cannot export {kind:?}")));
    }
    blocking(move || {
        let to = engine.now();
        let stamp = to.format("%Y%m%d-%H%M").to_string();
        let name = crate::export::file_name(miner.as_deref(), &range, &stamp, &kind);
        let csv = if kind == "csv" {
            let from = to - Duration::hours(hours);
            let points = engine.history(
                miner.as_deref(),
                from,
                to,
                chart::bucket_for(from, to, 2000),
            )?;
            Some(chart::csv(&points, engine.zone()))
        } else {
            None
        };
        Ok(ExportData { name, csv })
    })
    .await
}

/// Measured energy and its cost, today and this month (local days), per miner, fleet and
/// profile. SQLite runs on the blocking pool.
pub async fn cost_summary(s: &Service) -> Res<CostSummary> {
    let engine = s.engine()?.clone();
    let currency = config_of(s)?.tariff.map(|t| t.currency);
    blocking(move || {
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

pub async fn day_night_stats(s: &Service) -> Res<Stats> {
    let path = Stats::path_for(&s.config_path);
    blocking(move || Ok(Stats::load(&path).0)).await
}

pub fn events(s: &Service) -> Vec<LoggedEvent> {
    s.events.lines()
}

/// Replace the configuration with a file's text (a seed user's `multi_scheduler_config.json`).
pub fn import_config(s: &Service, text: &str) -> Res<usize> {
    let config = Config::parse(text, std::path::Path::new("imported file"))?;
    let n = config.miners.len();
    ops::save_config(&s.engine_target()?, config)?;
    Ok(n)
}

/// Write the config as `multi_scheduler_config.json` into the export folder; its path.
pub fn export_config(s: &Service) -> Res<String> {
    let dir = s.export_dir.as_ref().ok_or_else(|| {
        CmdError::new(
            "unsupported",
            "this scheduler has no folder to export to; read the config with get_config",
        )
    })?;
    let path = dir.join("multi_scheduler_config.json");
    config_of(s)?.save(&path)?;
    Ok(path.display().to_string())
}
