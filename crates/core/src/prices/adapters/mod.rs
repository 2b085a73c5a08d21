//! One adapter per price source. Each turns its provider's documented answer into raw
//! [`Point`]s (currency per kWh, before charges and tax); [`fetch`] picks the adapter, asks for
//! the local today and tomorrow, and keeps tokens out of every error.

mod awattar;
mod energy_charts;
mod entsoe;
mod octopus;
mod tibber;
mod url;

use std::time::Duration;

use chrono::{DateTime, Duration as Span, NaiveTime, Utc};
use chrono_tz::Tz;

use super::error::PriceError;
use super::series::Point;
use super::source::{SourceConfig, SourceKind};
use crate::schedule::local_instant;

pub use awattar::parse as parse_awattar;
pub use energy_charts::parse as parse_energy_charts;
pub use entsoe::parse as parse_entsoe;
pub use octopus::parse as parse_octopus;
pub use tibber::parse as parse_tibber;
pub use url::{parse_csv as parse_url_csv, parse_json as parse_url_json};

/// What a source answered: raw points and the currency they are in.
#[derive(Debug, Clone, PartialEq)]
pub struct Fetched {
    pub points: Vec<Point>,
    pub currency: String,
}

/// Everything an adapter needs for one request.
pub(crate) struct Ask<'a> {
    pub client: &'a reqwest::Client,
    pub source: &'a SourceConfig,
    pub feed: String,
    /// The tariff's currency (the url source's prices are in it).
    pub currency: &'a str,
    /// Local midnight today, and local midnight after tomorrow.
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub tz: Tz,
    pub timeout: Duration,
}

impl Ask<'_> {
    pub fn url_or(&self, default: &str) -> String {
        self.source
            .url
            .clone()
            .unwrap_or_else(|| default.to_string())
    }
}

/// Local midnight of `now`'s day, and local midnight two days later (today and tomorrow).
pub fn local_days(tz: Tz, now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    let today = now.with_timezone(&tz).date_naive();
    let at = |d| local_instant(tz, d, NaiveTime::MIN);
    let from = at(today).unwrap_or(now - Span::hours(24));
    let to = at(today + Span::days(2)).unwrap_or(now + Span::hours(48));
    (from, to)
}

/// Ask `source` for today's and tomorrow's prices (local days in `tz`).
pub async fn fetch(
    client: &reqwest::Client,
    source: &SourceConfig,
    tz: Tz,
    now: DateTime<Utc>,
    currency: &str,
    timeout: Duration,
) -> Result<Fetched, PriceError> {
    let (from, to) = local_days(tz, now);
    let ask = Ask {
        client,
        source,
        feed: source.label(),
        currency,
        from,
        to,
        tz,
        timeout,
    };
    let got = match source.kind {
        SourceKind::EnergyCharts => energy_charts::fetch(&ask).await,
        SourceKind::Awattar => awattar::fetch(&ask).await,
        SourceKind::Octopus => octopus::fetch(&ask).await,
        SourceKind::Tibber => tibber::fetch(&ask).await,
        SourceKind::Entsoe => entsoe::fetch(&ask).await,
        SourceKind::Url => url::fetch(&ask).await,
    };
    got.map_err(|e| e.redact(source.token.as_ref().map(|t| t.expose())))
}

/// Seconds since the epoch to an instant.
fn from_unix(feed: &str, secs: i64) -> Result<DateTime<Utc>, PriceError> {
    DateTime::<Utc>::from_timestamp(secs, 0)
        .ok_or_else(|| PriceError::format(feed, format!("{secs} is not a time")))
}

fn from_rfc3339(feed: &str, s: &str) -> Result<DateTime<Utc>, PriceError> {
    DateTime::parse_from_rfc3339(s.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| PriceError::format(feed, format!("{s:?} is not an RFC 3339 time")))
}

fn json(feed: &str, text: &str) -> Result<serde_json::Value, PriceError> {
    serde_json::from_str(text).map_err(|e| PriceError::format(feed, format!("not JSON: {e}")))
}
