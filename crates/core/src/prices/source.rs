//! The `tariff.source` key: which price feed, its own keys, and the user's price formula.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
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
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum UrlFormat {
    Json,
    Csv,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum TimeFormat {
    Unix,
    UnixMs,
    Rfc3339,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum PriceUnit {
    Kwh,
    Mwh,
}

/// A secret (API token). Its Debug output never shows it; it is only written back to the config.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "ts", ts(type = "string"))]
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
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
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

pub(crate) fn source_problems(s: &SourceConfig, bad: &mut dyn FnMut(&str, String)) {
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
