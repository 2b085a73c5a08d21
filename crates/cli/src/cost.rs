//! `--cost [--from YYYY-MM-DD] [--to YYYY-MM-DD]`: measured energy and what it cost, one line per
//! miner and a `TOTAL:` line. Dates are local (the config's zone) and inclusive; the default is
//! this month up to today.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{anyhow, bail, Result};
use bitaxe_core::config::Config;
use bitaxe_core::cost::{self, local_day_start, CostReport, PriceSource, Totals};
use bitaxe_core::history::{History, HISTORY_FILE};
use bitaxe_core::schedule;
use chrono::{Datelike, Days, NaiveDate, Utc};

pub fn run(
    config: &Config,
    config_path: &Path,
    data_dir: &Path,
    from: Option<&str>,
    to: Option<&str>,
) -> Result<ExitCode> {
    let tz = schedule::zone(config);
    let today = Utc::now().with_timezone(&tz).date_naive();
    let (first, last) = range(from, to, today)?;
    // The prices known without fetching: the feed's cache, then the fixed tariff.
    let (view, note) = cost::price_view(config, config_path);
    let prices = cost::price_source(config, view);
    for note in note.iter().chain(&prices.note) {
        eprintln!("Note: {note}");
    }
    let path = data_dir.join(HISTORY_FILE);
    let history = if path.is_file() {
        History::open(&path).map_err(|e| anyhow!("{}: {e}", path.display()))?
    } else {
        eprintln!("Note: no history at {} yet", path.display());
        History::in_memory()?
    };
    let end = last
        .checked_add_days(Days::new(1))
        .ok_or_else(|| anyhow!("--to {last}: too far in the future"))?;
    let report = cost::report(
        &history,
        local_day_start(tz, first),
        local_day_start(tz, end),
        &*prices.price,
        tz,
    )?;
    let names: Vec<&str> = config.miners.iter().map(|m| m.name.as_str()).collect();
    println!(
        "Energy and cost from {first} to {last} ({}){}",
        tz.name(),
        if prices.currency.is_some() {
            ""
        } else {
            ", no prices known"
        }
    );
    for line in render(&report, &names, &prices) {
        println!("{line}");
    }
    Ok(ExitCode::SUCCESS)
}

/// The inclusive local date range from the flags; `today` fills what is left out.
pub fn range(
    from: Option<&str>,
    to: Option<&str>,
    today: NaiveDate,
) -> Result<(NaiveDate, NaiveDate)> {
    let date = |flag: &str, text: &str| {
        NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
            .map_err(|_| anyhow!("{flag} {text:?}: expected a date YYYY-MM-DD, e.g. 2026-11-01"))
    };
    let last = match to {
        Some(t) => date("--to", t)?,
        None => today,
    };
    let first = match from {
        Some(f) => date("--from", f)?,
        None => last.with_day(1).unwrap_or(last),
    };
    if first > last {
        bail!("--from {first} is after --to {last}: nothing to report");
    }
    Ok((first, last))
}

/// One line per miner (configured ones first, in config order, then any other miner the history
/// has) and a `TOTAL:` line.
pub fn render(report: &CostReport, configured: &[&str], prices: &PriceSource) -> Vec<String> {
    let mut names: Vec<&str> = configured.to_vec();
    names.extend(
        report
            .miners
            .keys()
            .map(String::as_str)
            .filter(|m| !configured.contains(m)),
    );
    let width = names
        .iter()
        .map(|n| n.chars().count())
        .chain(["TOTAL:".len()])
        .max()
        .unwrap_or(0);
    let empty = Totals::default();
    let currency = prices.currency.as_deref().unwrap_or_default();
    let mut lines: Vec<String> = names
        .iter()
        .map(|n| {
            let t = report.miners.get(*n).map_or(&empty, |b| &b.total);
            line(n, width, t, currency)
        })
        .collect();
    lines.push(line("TOTAL:", width, &report.fleet.total, currency));
    lines
}

fn line(name: &str, width: usize, t: &Totals, currency: &str) -> String {
    // No energy costs nothing, once there is a currency to say it in.
    let cost = t
        .cost
        .or_else(|| (t.kwh == 0.0 && !currency.is_empty()).then_some(0.0));
    let money = match cost {
        Some(c) if currency.is_empty() => format!("{c:.2}"),
        Some(c) => format!("{c:.2} {currency}"),
        None => "-".to_string(),
    };
    let unpriced = if t.cost.is_some() && t.unpriced_kwh > 0.0005 {
        format!("  ({:.3} kWh without a price)", t.unpriced_kwh)
    } else {
        String::new()
    };
    format!("{name:<width$}  {:>10.3} kWh  {money}{unpriced}", t.kwh)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bitaxe_core::cost::report_rows;
    use bitaxe_core::history::EnergyRow;
    use chrono::DateTime;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    #[test]
    fn the_range_defaults_to_this_month_and_refuses_bad_dates() {
        let today = d("2026-11-25");
        assert_eq!(
            range(None, None, today).expect("default"),
            (d("2026-11-01"), today)
        );
        assert_eq!(
            range(Some("2026-10-30"), None, today).expect("from"),
            (d("2026-10-30"), today)
        );
        assert_eq!(
            range(None, Some("2026-10-15"), today).expect("to"),
            (d("2026-10-01"), d("2026-10-15"))
        );
        let e = range(Some("2026-13-01"), None, today).expect_err("month 13");
        assert!(e.to_string().contains("YYYY-MM-DD"), "{e}");
        let e = range(Some("2026-11-20"), Some("2026-11-19"), today).expect_err("reversed");
        assert!(e.to_string().contains("after"), "{e}");
    }

    #[test]
    fn lines_per_miner_with_unpriced_energy_and_a_total() {
        let t0 = 1_800_000_000 / 900 * 900;
        let row = |miner: &str, slot: i64, kwh: f64| EnergyRow {
            miner: miner.into(),
            slot: t0 + slot * 900,
            profile: "day".into(),
            joules: kwh * 3.6e6,
            seconds: 900.0,
            hashes: 1e15,
        };
        let rows = vec![row("a", 0, 0.5), row("b", 0, 0.25), row("a", 1, 0.5)];
        let first = t0;
        let price = move |t: DateTime<Utc>| (t.timestamp() == first).then_some(0.2);
        let from = DateTime::from_timestamp(t0, 0).expect("t");
        let utc = schedule::zone(&Config {
            timezone: "UTC".into(),
            ..Config::default()
        });
        let report = report_rows(&rows, from, from + chrono::Duration::hours(1), &price, utc);
        let prices = PriceSource {
            currency: Some("EUR".into()),
            ..PriceSource::none()
        };
        let lines = render(&report, &["b", "idle", "a"], &prices);
        assert_eq!(
            lines,
            [
                "b            0.250 kWh  0.05 EUR",
                "idle         0.000 kWh  0.00 EUR",
                "a            1.000 kWh  0.10 EUR  (0.500 kWh without a price)",
                "TOTAL:       1.250 kWh  0.15 EUR  (0.500 kWh without a price)",
            ]
        );
        let none = render(&report, &[], &PriceSource::none());
        assert!(none[0].starts_with("a  "), "{none:?}");
        assert!(none.last().expect("total").starts_with("TOTAL:"));
    }
}
