//! The price source cost reports use until the prices module is wired in: the config's fixed
//! tariff (`tariff.fixed`, windows `{from, to, price_per_kwh, days?}` in local `HH:MM`), read from
//! the config as it serialises, so it works with whatever type holds the `tariff` key.
//!
//! A window with `to` at or before `from` runs over midnight (its `days` are the days it starts
//! on); `to` may be `24:00`. `days` are weekday names (`mon`, `Tuesday`, ...); without it every
//! day. The first window that matches gives the price; a time no window covers has no price.

use chrono::{DateTime, Datelike, Timelike, Utc, Weekday};
use chrono_tz::Tz;
use serde_json::Value;

use crate::config::Config;
use crate::schedule::PriceLookup;

/// Prices for cost reports: a function of time (currency per kWh) and the currency's name.
pub struct PriceSource {
    /// `None` when no price is known at all.
    pub currency: Option<String>,
    pub price: Box<dyn Fn(DateTime<Utc>) -> Option<f64> + Send + Sync>,
    /// A reason the configured tariff could not be used, for the caller to show.
    pub note: Option<String>,
}

impl PriceSource {
    /// Prices from a price view (a feed, the merged view): the price of the slot containing
    /// each instant.
    pub fn from_lookup(
        lookup: std::sync::Arc<dyn PriceLookup>,
        currency: Option<String>,
    ) -> PriceSource {
        PriceSource {
            currency,
            price: Box::new(move |t| lookup.slot_at(t).map(|s| s.price)),
            note: None,
        }
    }

    /// No prices: energy is reported, money is not.
    pub fn none() -> PriceSource {
        PriceSource {
            currency: None,
            price: Box::new(|_| None),
            note: None,
        }
    }
}

/// The one place cost reports get their prices from (swap this for the merged price view).
pub fn price_source(cfg: &Config, tz: Tz) -> PriceSource {
    let tariff = serde_json::to_value(cfg)
        .ok()
        .and_then(|v| v.get("tariff").cloned());
    match tariff.as_ref().filter(|t| !t.is_null()) {
        None => PriceSource::none(),
        Some(t) => match FixedPrice::read(t, tz) {
            Ok(Some(fixed)) => PriceSource {
                currency: Some(fixed.currency.clone()),
                price: Box::new(move |at| fixed.at(at)),
                note: None,
            },
            Ok(None) => PriceSource::none(),
            Err(e) => PriceSource {
                note: Some(format!("tariff.fixed not used: {e}")),
                ..PriceSource::none()
            },
        },
    }
}

#[derive(Debug, Clone, PartialEq)]
struct Window {
    /// Minutes after local midnight; `to` may be 1440.
    from: u32,
    to: u32,
    price: f64,
    days: Option<Vec<Weekday>>,
}

/// A fixed tariff by local time window and weekday.
#[derive(Debug, Clone, PartialEq)]
pub struct FixedPrice {
    pub currency: String,
    windows: Vec<Window>,
    tz: Tz,
}

impl FixedPrice {
    /// Read a `tariff` value. `Ok(None)`: it has no fixed windows.
    pub fn read(tariff: &Value, tz: Tz) -> Result<Option<FixedPrice>, String> {
        let Some(list) = tariff.get("fixed").filter(|f| !f.is_null()) else {
            return Ok(None);
        };
        let list = list.as_array().ok_or("`fixed` is not a list")?;
        let mut windows = Vec::new();
        for (i, w) in list.iter().enumerate() {
            let text = |key: &str| {
                w.get(key)
                    .and_then(Value::as_str)
                    .ok_or(format!("fixed[{i}].{key} is missing"))
            };
            let from = minutes(text("from")?).ok_or(format!("fixed[{i}].from is not HH:MM"))?;
            let to = minutes(text("to")?).ok_or(format!("fixed[{i}].to is not HH:MM"))?;
            let price = w
                .get("price_per_kwh")
                .and_then(Value::as_f64)
                .filter(|p| p.is_finite())
                .ok_or(format!("fixed[{i}].price_per_kwh is not a number"))?;
            let days = match w.get("days").filter(|d| !d.is_null()) {
                None => None,
                Some(d) => Some(
                    d.as_array()
                        .ok_or(format!("fixed[{i}].days is not a list"))?
                        .iter()
                        .map(|d| d.as_str().and_then(|s| s.trim().parse::<Weekday>().ok()))
                        .collect::<Option<Vec<_>>>()
                        .ok_or(format!("fixed[{i}].days has a value that is not a weekday"))?,
                ),
            };
            windows.push(Window {
                from,
                to,
                price,
                days,
            });
        }
        if windows.is_empty() {
            return Ok(None);
        }
        let currency = tariff
            .get("currency")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        Ok(Some(FixedPrice {
            currency,
            windows,
            tz,
        }))
    }

    /// The price per kWh at `t`, if a window covers it.
    pub fn at(&self, t: DateTime<Utc>) -> Option<f64> {
        let local = t.with_timezone(&self.tz);
        let minute = local.hour() * 60 + local.minute();
        let today = local.weekday();
        self.windows.iter().find_map(|w| {
            let on = |day: Weekday| w.days.as_ref().is_none_or(|d| d.contains(&day));
            let hit = if w.from < w.to {
                minute >= w.from && minute < w.to && on(today)
            } else {
                // Over midnight: the evening part on its own day, the morning part the day after.
                (minute >= w.from && on(today)) || (minute < w.to && on(today.pred()))
            };
            hit.then_some(w.price)
        })
    }
}

fn minutes(text: &str) -> Option<u32> {
    let (h, m) = text.trim().split_once(':')?;
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    match (h, m) {
        (24, 0) => Some(1440),
        (0..=23, 0..=59) => Some(h * 60 + m),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;

    fn berlin(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        let tz: Tz = "Europe/Berlin".parse().expect("tz");
        tz.with_ymd_and_hms(y, mo, d, h, mi, 0)
            .earliest()
            .expect("local")
            .with_timezone(&Utc)
    }

    #[test]
    fn windows_by_local_time_weekday_and_over_midnight() {
        let tz: Tz = "Europe/Berlin".parse().expect("tz");
        let tariff = json!({
            "currency": "EUR",
            "fixed": [
                {"from": "22:00", "to": "06:00", "price_per_kwh": 0.21, "days": ["fri"]},
                {"from": "00:00", "to": "24:00", "price_per_kwh": 0.30, "days": ["sat", "Sunday"]},
                {"from": "06:00", "to": "22:00", "price_per_kwh": 0.35},
                {"from": "22:00", "to": "06:00", "price_per_kwh": 0.25}
            ]
        });
        let f = FixedPrice::read(&tariff, tz).expect("ok").expect("fixed");
        assert_eq!(f.currency, "EUR");
        // 2026-11-27 is a Friday.
        assert_eq!(f.at(berlin(2026, 11, 27, 12, 0)), Some(0.35));
        assert_eq!(f.at(berlin(2026, 11, 27, 23, 0)), Some(0.21));
        // Saturday 03:00 is still Friday night's window.
        assert_eq!(f.at(berlin(2026, 11, 28, 3, 0)), Some(0.21));
        assert_eq!(f.at(berlin(2026, 11, 28, 12, 0)), Some(0.30));
        // Thursday night.
        assert_eq!(f.at(berlin(2026, 11, 26, 5, 59)), Some(0.25));
        assert_eq!(f.at(berlin(2026, 11, 26, 6, 0)), Some(0.35));
    }

    #[test]
    fn gaps_have_no_price_and_bad_windows_are_refused() {
        let tz = Tz::UTC;
        let f = FixedPrice::read(
            &json!({"fixed": [{"from": "08:00", "to": "09:00", "price_per_kwh": -0.02}]}),
            tz,
        )
        .expect("ok")
        .expect("fixed");
        let t = Utc
            .with_ymd_and_hms(2026, 1, 1, 8, 30, 0)
            .single()
            .expect("t");
        assert_eq!(f.at(t), Some(-0.02));
        assert_eq!(f.at(t + chrono::Duration::hours(1)), None);
        assert!(
            FixedPrice::read(&json!({"source": {"type": "awattar"}}), tz)
                .expect("ok")
                .is_none()
        );
        for bad in [
            json!({"fixed": [{"from": "8", "to": "09:00", "price_per_kwh": 1}]}),
            json!({"fixed": [{"from": "08:00", "to": "25:00", "price_per_kwh": 1}]}),
            json!({"fixed": [{"from": "08:00", "to": "09:00"}]}),
            json!({"fixed": [{"from": "08:00", "to": "09:00", "price_per_kwh": 1, "days": ["someday"]}]}),
        ] {
            assert!(FixedPrice::read(&bad, tz).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_config_without_a_tariff_has_no_price() {
        let src = price_source(&Config::default(), Tz::UTC);
        assert!(src.currency.is_none());
        assert_eq!((src.price)(Utc::now()), None);
    }
}
