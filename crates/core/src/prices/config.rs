//! The `tariff` config key: a currency, fixed windows, and an optional dynamic source.
//!
//! ```json
//! "tariff": {
//!   "currency": "EUR",
//!   "fixed": [ { "from": "07:00", "to": "22:00", "price_per_kwh": 0.32, "days": ["mon", "tue"] } ],
//!   "source": { "type": "energy-charts", "bzn": "DE-LU", "charges": 0.15, "tax": 0.19 }
//! }
//! ```
//! Misspelt keys are refused (with their path); values are checked by [`TariffConfig::problems`].
//! The `source` key is in `source`.

use serde::{Deserialize, Serialize};

use super::source::{source_problems, SourceConfig};
use crate::config::{ClockTime, Problem, Seg};
use crate::schedule::Day;

/// The whole `tariff` key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TariffConfig {
    /// ISO 4217 code of every price (fixed and fed), e.g. "EUR".
    #[serde(default = "default_currency")]
    pub currency: String,
    /// Fixed prices by local time window; the first window that matches an instant wins.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fixed: Vec<WindowConfig>,
    /// A dynamic price feed; where it knows no price, the fixed windows answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceConfig>,
}

fn default_currency() -> String {
    "EUR".into()
}

/// One fixed price window in local time (the config's `timezone`). `to` at or before `from`
/// crosses midnight (`from` == `to` is the whole day). `days` (default: every day) are the days
/// the window starts on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct WindowConfig {
    pub from: ClockTime,
    pub to: ClockTime,
    /// currency per kWh, final (no charges or tax are added to fixed prices)
    pub price_per_kwh: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days: Option<Vec<Day>>,
}

fn key(k: &str) -> Seg {
    Seg::Key(k.to_string())
}

impl TariffConfig {
    /// Every problem with the values, with its key path under `tariff`.
    pub fn problems(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        let mut bad = |path: Vec<Seg>, message: String| {
            let mut p = vec![key("tariff")];
            p.extend(path);
            out.push(Problem { path: p, message });
        };
        if !(self.currency.len() == 3 && self.currency.chars().all(|c| c.is_ascii_uppercase())) {
            bad(
                vec![key("currency")],
                format!(
                    "{:?} is not a currency code; use three capital letters, e.g. \"EUR\"",
                    self.currency
                ),
            );
        }
        if self.fixed.is_empty() && self.source.is_none() {
            bad(
                vec![],
                "set fixed price windows (`fixed`), a price feed (`source`), or both".into(),
            );
        }
        for (i, w) in self.fixed.iter().enumerate() {
            let at = |k: &str| vec![key("fixed"), Seg::Index(i), key(k)];
            if !w.price_per_kwh.is_finite() || w.price_per_kwh.abs() > 1000.0 {
                bad(
                    at("price_per_kwh"),
                    "must be a number of currency units per kWh (at most 1000)".into(),
                );
            }
            if w.days.as_ref().is_some_and(|d| d.is_empty()) {
                bad(
                    at("days"),
                    "lists no day; leave it out for every day, or name days such as \"mon\"".into(),
                );
            }
        }
        if let Some(s) = &self.source {
            source_problems(s, &mut |k: &str, m: String| {
                bad(vec![key("source"), key(k)], m)
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prices::source::SourceKind;

    fn parse(v: serde_json::Value) -> Result<TariffConfig, String> {
        let t: TariffConfig = serde_json::from_value(v).map_err(|e| e.to_string())?;
        match t.problems().into_iter().next() {
            Some(p) => Err(format!(
                "{}: {}",
                crate::config::path_string(&p.path),
                p.message
            )),
            None => Ok(t),
        }
    }

    #[test]
    fn a_full_tariff_parses_and_round_trips() {
        let v = serde_json::json!({
            "currency": "EUR",
            "fixed": [{"from": "07:00", "to": "22:00", "price_per_kwh": 0.32, "days": ["mon", "sat"]},
                      {"from": "22:00", "to": "07:00", "price_per_kwh": 0.21}],
            "source": {"type": "entsoe", "token": "abc", "zone": "10Y1001A1001A82H", "tax": 0.19}
        });
        let t = parse(v.clone()).expect("valid in this test");
        assert_eq!(
            t.fixed[0].days,
            Some(vec![Day(chrono::Weekday::Mon), Day(chrono::Weekday::Sat)])
        );
        assert_eq!(serde_json::to_value(&t).expect("valid in this test"), v);
    }

    #[test]
    fn bad_values_name_their_key() {
        let cases = [
            (
                serde_json::json!({"currency": "euro", "fixed": []}),
                "tariff.currency",
            ),
            (serde_json::json!({"currency": "EUR"}), "tariff: set fixed"),
            (
                serde_json::json!({"fixed": [{"from": "07:00", "to": "08:00", "price_per_kwh": 0.2, "days": []}]}),
                "tariff.fixed[0].days",
            ),
            (
                serde_json::json!({"source": {"type": "tibber", "token": " "}}),
                "tariff.source.token",
            ),
            (
                serde_json::json!({"source": {"type": "awattar", "bzn": "DE-LU"}}),
                "tariff.source.bzn: is not a key of the awattar source",
            ),
            (
                serde_json::json!({"source": {"type": "energy-charts", "slot_minutes": 20}}),
                "tariff.source.slot_minutes",
            ),
            (
                serde_json::json!({"source": {"type": "octopus", "product": "AGILE-24-10-01", "region": "I"}}),
                "tariff.source.region",
            ),
            (
                serde_json::json!({"source": {"type": "url", "url": "ftp://x/y/z/w", "start_field": "a", "price_field": "b"}}),
                "tariff.source.url",
            ),
        ];
        for (v, want) in cases {
            let err = parse(v.clone()).expect_err("must be refused");
            assert!(err.starts_with(want), "{v}: {err}");
        }
    }

    #[test]
    fn misspelt_keys_are_refused() {
        let err = parse(serde_json::json!({"source": {"type": "energy-charts", "bzm": "DE-LU"}}))
            .expect_err("must be refused");
        assert!(err.contains("bzm"), "{err}");
        let err =
            parse(serde_json::json!({"fixed": [{"from": "7:00", "to": "08:00", "price": 1}]}))
                .expect_err("must be refused");
        assert!(err.contains("price"), "{err}");
        let err = parse(
            serde_json::json!({"fixed": [{"from": "7h", "to": "08:00", "price_per_kwh": 1}]}),
        )
        .expect_err("must be refused");
        assert!(err.contains("HH:MM"), "{err}");
    }

    #[test]
    fn tokens_never_show_in_debug() {
        let t = parse(serde_json::json!({
            "source": {"type": "tibber", "token": "5K4MVS-secret-token", "home_id": "h1"}
        }))
        .expect("valid in this test");
        let dbg = format!("{t:?} {:?}", t.source);
        assert!(!dbg.contains("5K4MVS"), "{dbg}");
        assert!(dbg.contains("***"), "{dbg}");
    }

    #[test]
    fn the_formula_keeps_negative_prices() {
        let mut s = SourceConfig::new(SourceKind::Awattar);
        s.charges = Some(0.10);
        s.tax = Some(0.19);
        assert!((s.final_price(0.05) - 0.1785).abs() < 1e-9);
        assert!((s.final_price(-0.30) + 0.238).abs() < 1e-9);
    }
}
