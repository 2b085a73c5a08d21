//! `--prices`: the price slots known now (local today and tomorrow), one line per slot, and a
//! status line. Fetches once (falling back to the cache and the fixed tariff when that fails).

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{anyhow, Result};
use bitaxe_core::clock::SystemClock;
use bitaxe_core::config::Config;
use bitaxe_core::prices::{local_days, Coverage, FeedOptions, PriceFeed, Prices};
use bitaxe_core::schedule;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

pub async fn run(config: &Config, path: &Path) -> Result<ExitCode> {
    if config.tariff.is_none() {
        return Err(anyhow!(
            "{} has no tariff: add a \"tariff\" key with fixed price windows or a price source",
            path.display()
        ));
    }
    let mut feed =
        PriceFeed::for_config(config, path, Arc::new(SystemClock), FeedOptions::default())?;
    if feed.has_source() {
        if let Err(e) = feed.refresh().await {
            eprintln!("Warning: {e}");
        }
    }
    let view = feed.current();
    let tz = schedule::zone(config);
    let (from, to) = local_days(tz, Utc::now());
    for line in lines(&view, tz, from, to) {
        println!("{line}");
    }
    Ok(ExitCode::SUCCESS)
}

/// The printed lines: a header, one line per slot in `[from, to)`, and the status.
pub fn lines(view: &Prices, tz: Tz, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<String> {
    let st = view.status();
    let cur = view.currency();
    let mut out = vec![format!(
        "Prices in {cur}/kWh, {} to {} ({tz}):",
        from.with_timezone(&tz).format("%a %Y-%m-%d %H:%M"),
        to.with_timezone(&tz).format("%a %Y-%m-%d %H:%M"),
    )];
    for s in view.slots_between(from, to) {
        let origin = match view.coverage_at(s.start) {
            Coverage::Feed => "feed",
            Coverage::Fixed => "fixed",
            Coverage::None => "-",
        };
        out.push(format!(
            "  {}-{}  {:>9.4} {cur}  {origin}",
            s.start.with_timezone(&tz).format("%a %Y-%m-%d %H:%M"),
            s.end.with_timezone(&tz).format("%H:%M"),
            s.price,
        ));
    }
    let fetched = st.last_fetch.map_or("never".to_string(), |t| {
        t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string()
    });
    out.push(format!(
        "Source: {}; last fetched: {fetched}; {}",
        st.source.as_deref().unwrap_or("fixed tariff"),
        st.message
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use bitaxe_core::config::ClockTime;
    use bitaxe_core::prices::{TariffConfig, WindowConfig};
    use chrono::TimeZone;

    #[test]
    fn a_fixed_tariff_prints_its_windows_and_a_status() {
        let t = TariffConfig {
            currency: "EUR".into(),
            fixed: vec![
                WindowConfig {
                    from: ClockTime::hm(22, 0),
                    to: ClockTime::hm(6, 0),
                    price_per_kwh: 0.21,
                    days: None,
                },
                WindowConfig {
                    from: ClockTime::hm(6, 0),
                    to: ClockTime::hm(22, 0),
                    price_per_kwh: 0.3,
                    days: None,
                },
            ],
            source: None,
        };
        let tz = chrono_tz::Europe::Berlin;
        let day = |h| {
            tz.with_ymd_and_hms(2026, 11, 25, h, 0, 0)
                .earliest()
                .expect("time")
                .with_timezone(&Utc)
        };
        let view = Prices::new(&t, tz, None, None, day(12));
        let out = lines(&view, tz, day(0), day(23));
        assert_eq!(
            out,
            vec![
                "Prices in EUR/kWh, Wed 2026-11-25 00:00 to Wed 2026-11-25 23:00 (Europe/Berlin):",
                "  Wed 2026-11-25 00:00-06:00     0.2100 EUR  fixed",
                "  Wed 2026-11-25 06:00-22:00     0.3000 EUR  fixed",
                "  Wed 2026-11-25 22:00-23:00     0.2100 EUR  fixed",
                "Source: fixed tariff; last fetched: never; fixed tariff",
            ]
        );
    }
}
