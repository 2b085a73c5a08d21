//! Prices for the window: the view a config's tariff gives (the price cache beside the config
//! and the fixed windows, no network), one fetch when the user asks (which refreshes that
//! cache), and the tariff editor's test fetch of a draft.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bitaxe_core::clock::{Clock, SystemClock};
use bitaxe_core::config::Config;
use bitaxe_core::prices::{self, FeedOptions, PriceFeed, Prices};
use bitaxe_core::schedule;
use chrono::{DateTime, Utc};

use crate::error::CmdError;
use crate::models::{PriceStrip, TestFetch};

/// The test fetch and the refresh wait at most this long for the feed.
const FETCH_TIMEOUT: Duration = Duration::from_secs(15);

fn feed(cfg: &Config, config_path: &Path, clock: Arc<dyn Clock>) -> Result<PriceFeed, CmdError> {
    let options = FeedOptions {
        timeout: FETCH_TIMEOUT,
        ..FeedOptions::default()
    };
    PriceFeed::for_config(cfg, config_path, clock, options)
        .map_err(|e| CmdError::new("prices", e.to_string()))
}

/// The prices known now without fetching; `None` without a tariff.
pub fn view(cfg: &Config, config_path: &Path, clock: Arc<dyn Clock>) -> Option<Arc<Prices>> {
    cfg.tariff.as_ref()?;
    feed(cfg, config_path, clock).ok().map(|f| f.current())
}

/// Fetch the saved tariff's feed once (the cache beside the config is updated) and say how it went.
pub async fn refresh(cfg: &Config, config_path: &Path) -> Result<PriceStrip, CmdError> {
    let mut f = feed(cfg, config_path, Arc::new(SystemClock))?;
    if f.has_source() {
        f.refresh()
            .await
            .map_err(|e| CmdError::new("prices", e.to_string()))?;
    }
    let now = Utc::now();
    Ok(strip(
        &f.current(),
        now - chrono::Duration::hours(24),
        now + chrono::Duration::hours(48),
    ))
}

/// The slots in `[from, to)` and the view's status.
pub fn strip(view: &Prices, from: DateTime<Utc>, to: DateTime<Utc>) -> PriceStrip {
    PriceStrip {
        currency: view.currency().to_string(),
        slots: view.slots_between(from, to),
        status: view.status().clone(),
    }
}

/// Fetch a draft's tariff source once, today and tomorrow, nothing saved or cached.
pub async fn test_fetch(cfg: &Config, now: DateTime<Utc>) -> Result<TestFetch, CmdError> {
    let tariff = cfg
        .tariff
        .as_ref()
        .ok_or_else(|| CmdError::new("no_tariff", "set a tariff first"))?;
    let series = prices::fetch_series(tariff, schedule::zone(cfg), now, FETCH_TIMEOUT)
        .await
        .map_err(|e| CmdError::new("fetch_failed", e.to_string()))?;
    let slots = series.slots().to_vec();
    let (min, max) = slots
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), s| {
            (a.min(s.price), b.max(s.price))
        });
    Ok(TestFetch {
        source: series.source.clone(),
        currency: series.currency.clone(),
        from: slots.first().map(|s| s.start),
        to: slots.last().map(|s| s.end),
        count: slots.len(),
        min: min.is_finite().then_some(min),
        max: max.is_finite().then_some(max),
        slots,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use bitaxe_core::clock::FakeClock;
    use serde_json::json;

    #[test]
    fn the_preview_reads_price_rules_against_the_fixed_tariff_and_shows_its_prices() {
        let mut d = serde_json::to_value(Config::default()).expect("json");
        d["timezone"] = json!("UTC");
        d["miners"] = json!([{"name": "a", "ip": "http://127.0.0.1:1"}]);
        d["plan"] = json!({"default": "quiet", "week": []});
        d["tariff"] = json!({"currency": "EUR", "fixed": [
            {"from": "22:00", "to": "06:00", "price_per_kwh": 0.10},
            {"from": "06:00", "to": "22:00", "price_per_kwh": 0.30}]});
        d["price_rules"] = json!([{"profile": "performance", "max_price": 0.15}]);
        let cfg: Config = serde_json::from_value(d).expect("config");
        let dir = tempfile::tempdir().expect("dir");
        let now: DateTime<Utc> = "2026-11-25T12:00:00Z".parse().expect("time");
        let v = view(
            &cfg,
            &dir.path().join("multi_scheduler_config.json"),
            Arc::new(FakeClock::new(now)),
        )
        .expect("a tariff gives a view");
        let p = crate::draft::preview(&cfg, now, Some(&v));
        assert_eq!(p.currency.as_deref(), Some("EUR"));
        let prices = p.prices.expect("price row");
        assert!(prices.iter().any(|s| (s.price - 0.10).abs() < 1e-9));
        let segs = &p.miners[0].segments;
        let cheap = segs
            .iter()
            .find(|s| s.start.format("%H:%M").to_string() == "22:00")
            .expect("a segment from 22:00");
        assert_eq!(cheap.profile, "performance");
        assert!(cheap.why.contains("price"), "{}", cheap.why);
        assert!(segs.iter().any(|s| s.profile == "quiet"));
        // No tariff: no view.
        let plain = Config::default();
        assert!(view(&plain, dir.path(), Arc::new(FakeClock::new(now))).is_none());
    }
}
