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

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::config::{ClockTime, Problem, Seg};

/// The whole `tariff` key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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
pub struct WindowConfig {
    pub from: ClockTime,
    pub to: ClockTime,
    /// currency per kWh, final (no charges or tax are added to fixed prices)
    pub price_per_kwh: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days: Option<Vec<Day>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Day {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl Day {
    pub fn of(w: chrono::Weekday) -> Day {
        use chrono::Weekday::*;
        match w {
            Mon => Day::Mon,
            Tue => Day::Tue,
            Wed => Day::Wed,
            Thu => Day::Thu,
            Fri => Day::Fri,
            Sat => Day::Sat,
            Sun => Day::Sun,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SourceKind {
    #[serde(rename = "energy-charts")]
    EnergyCharts,
    #[serde(rename = "awattar")]
    Awattar,
    #[serde(rename = "octopus")]
    Octopus,
    #[serde(rename = "tibber")]
    Tibber,
    #[serde(rename = "entsoe")]
    Entsoe,
    #[serde(rename = "url")]
    Url,
}

impl SourceKind {
    pub fn name(self) -> &'static str {
        match self {
            SourceKind::EnergyCharts => "energy-charts",
            SourceKind::Awattar => "awattar",
            SourceKind::Octopus => "octopus",
            SourceKind::Tibber => "tibber",
            SourceKind::Entsoe => "entsoe",
            SourceKind::Url => "url",
        }
    }

    /// The keys of this source type besides the common ones.
    fn own_keys(self) -> &'static [&'static str] {
        match self {
            SourceKind::EnergyCharts => &["bzn"],
            SourceKind::Awattar => &["country"],
            SourceKind::Octopus => &["product", "region"],
            SourceKind::Tibber => &["token", "home_id"],
            SourceKind::Entsoe => &["token", "zone"],
            SourceKind::Url => &[
                "format",
                "list_field",
                "start_field",
                "end_field",
                "price_field",
                "time_format",
                "price_unit",
            ],
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UrlFormat {
    Json,
    Csv,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeFormat {
    Unix,
    UnixMs,
    Rfc3339,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PriceUnit {
    Kwh,
    Mwh,
}

/// A secret (API token). Its Debug output never shows it; it is only written back to the config.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }
    /// The token itself, for the one request header or parameter that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_empty() { "\"\"" } else { "\"***\"" })
    }
}

/// The `source` key: `type` plus that type's own keys. One flat struct, so a misspelt key is
/// refused by name; keys that belong to another type are reported by [`TariffConfig::problems`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    #[serde(rename = "type")]
    pub kind: SourceKind,
    /// Endpoint override (proxies, tests); default: the provider's public endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Added to every fed price, currency per kWh (grid fees, levies). Default 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charges: Option<f64>,
    /// Fraction added on top of price + charges (0.19 = 19 % VAT). Default 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax: Option<f64>,
    /// Average shorter slots to this length: 15, 30 or 60 minutes. Default: as published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slot_minutes: Option<u32>,
    /// energy-charts: bidding zone, default "DE-LU"
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bzn: Option<String>,
    /// awattar: "de" (default) or "at"
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// octopus: product code, e.g. "AGILE-24-10-01"
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    /// octopus: region letter A-P
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// tibber, entsoe: API token
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<Secret>,
    /// tibber: the home's id; default: the first home with a subscription
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub home_id: Option<String>,
    /// entsoe: EIC code of the bidding zone, e.g. "10Y1001A1001A82H" (DE-LU)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    /// url: "json" (default) or "csv"
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<UrlFormat>,
    /// url, json: the key of the list when the answer is an object (default: its only list)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_field: Option<String>,
    /// url: field (json) or column (csv) of the slot start
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_field: Option<String>,
    /// url: field or column of the slot end (default: the next start / the measured slot length)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_field: Option<String>,
    /// url: field or column of the price
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_field: Option<String>,
    /// url: "unix" (seconds), "unix_ms" or "rfc3339" (default)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_format: Option<TimeFormat>,
    /// url: "kwh" (default) or "mwh": the price is per this unit
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_unit: Option<PriceUnit>,
}

impl SourceConfig {
    /// A source of `kind` with every optional key unset.
    pub fn new(kind: SourceKind) -> SourceConfig {
        SourceConfig {
            kind,
            url: None,
            charges: None,
            tax: None,
            slot_minutes: None,
            bzn: None,
            country: None,
            product: None,
            region: None,
            token: None,
            home_id: None,
            zone: None,
            format: None,
            list_field: None,
            start_field: None,
            end_field: None,
            price_field: None,
            time_format: None,
            price_unit: None,
        }
    }

    /// A short name for status lines and the cache: the type and its zone.
    pub fn label(&self) -> String {
        let detail = match self.kind {
            SourceKind::EnergyCharts => Some(self.bzn.clone().unwrap_or_else(|| "DE-LU".into())),
            SourceKind::Awattar => Some(self.country.clone().unwrap_or_else(|| "de".into())),
            SourceKind::Octopus => match (&self.product, &self.region) {
                (Some(p), Some(r)) => Some(format!("{p} {r}")),
                _ => None,
            },
            SourceKind::Tibber => self.home_id.clone(),
            SourceKind::Entsoe => self.zone.clone(),
            SourceKind::Url => None,
        };
        match detail {
            Some(d) => format!("{} {d}", self.kind.name()),
            None => self.kind.name().to_string(),
        }
    }

    /// `(price + charges) * (1 + tax)`. Negative results are kept (never clamped to zero): a
    /// negative price is real and the cheapest time to mine.
    pub fn final_price(&self, per_kwh: f64) -> f64 {
        (per_kwh + self.charges.unwrap_or(0.0)) * (1.0 + self.tax.unwrap_or(0.0))
    }

    fn present_keys(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        let mut has = |k: &'static str, set: bool| {
            if set {
                out.push(k)
            }
        };
        has("bzn", self.bzn.is_some());
        has("country", self.country.is_some());
        has("product", self.product.is_some());
        has("region", self.region.is_some());
        has("token", self.token.is_some());
        has("home_id", self.home_id.is_some());
        has("zone", self.zone.is_some());
        has("format", self.format.is_some());
        has("list_field", self.list_field.is_some());
        has("start_field", self.start_field.is_some());
        has("end_field", self.end_field.is_some());
        has("price_field", self.price_field.is_some());
        has("time_format", self.time_format.is_some());
        has("price_unit", self.price_unit.is_some());
        out
    }
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

fn source_problems(s: &SourceConfig, bad: &mut dyn FnMut(&str, String)) {
    let own = s.kind.own_keys();
    for k in s.present_keys() {
        if !own.contains(&k) {
            bad(
                k,
                format!(
                    "is not a key of the {} source (its keys: {}, url, charges, tax, slot_minutes)",
                    s.kind.name(),
                    own.join(", ")
                ),
            );
        }
    }
    if let Some(u) = &s.url {
        if !(u.starts_with("http://") || u.starts_with("https://")) || u.len() < 10 {
            bad(
                "url",
                format!("{u:?} is not an http:// or https:// address"),
            );
        }
    }
    if s.charges
        .is_some_and(|c| !c.is_finite() || c.abs() > 1000.0)
    {
        bad(
            "charges",
            "must be a number of currency units per kWh".into(),
        );
    }
    if s.tax
        .is_some_and(|t| !t.is_finite() || !(0.0..=10.0).contains(&t))
    {
        bad("tax", "must be a fraction such as 0.19 (19 %)".into());
    }
    if s.slot_minutes.is_some_and(|m| ![15, 30, 60].contains(&m)) {
        bad("slot_minutes", "must be 15, 30 or 60".into());
    }
    let mut need = |k: &str, v: Option<&str>| {
        if v.is_none_or(|v| v.trim().is_empty()) {
            bad(
                k,
                format!("the {} source needs `{k}` (not empty)", s.kind.name()),
            );
        }
    };
    match s.kind {
        SourceKind::EnergyCharts => {
            if s.bzn.is_some() {
                need("bzn", s.bzn.as_deref());
            }
        }
        SourceKind::Awattar => {
            if let Some(c) = &s.country {
                if c != "de" && c != "at" {
                    bad("country", format!("{c:?}: use \"de\" or \"at\""));
                }
            }
        }
        SourceKind::Octopus => {
            need("product", s.product.as_deref());
            need("region", s.region.as_deref());
            if let Some(r) = &s.region {
                let ok = r.len() == 1
                    && r.chars().all(|c| {
                        ('A'..='P').contains(&c.to_ascii_uppercase()) && c != 'I' && c != 'O'
                    });
                if !ok && !r.trim().is_empty() {
                    bad("region", format!("{r:?}: use the region letter, A to P"));
                }
            }
        }
        SourceKind::Tibber => need("token", s.token.as_ref().map(Secret::expose)),
        SourceKind::Entsoe => {
            need("token", s.token.as_ref().map(Secret::expose));
            need("zone", s.zone.as_deref());
        }
        SourceKind::Url => {
            need("url", s.url.as_deref());
            need("start_field", s.start_field.as_deref());
            need("price_field", s.price_field.as_deref());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(t.fixed[0].days, Some(vec![Day::Mon, Day::Sat]));
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
