//! Energy-Charts (Fraunhofer ISE): `GET /price?bzn=DE-LU&start=..&end=..`, answer
//! `{"unix_seconds": [..], "price": [..], "unit": "EUR / MWh"}`. Prices are always EUR/MWh; a
//! `null` price is missing (never zero). The API returns exactly the window asked for, so the
//! request uses local-day bounds (local midnight with its offset), not UTC dates.

use chrono::{DateTime, SecondsFormat, Utc};

use super::{from_unix, json, Ask, Fetched};
use crate::prices::error::PriceError;
use crate::prices::http;
use crate::prices::series::Point;

const DEFAULT_URL: &str = "https://api.energy-charts.info/price";

pub(crate) async fn fetch(ask: &Ask<'_>) -> Result<Fetched, PriceError> {
    let bzn = ask.source.bzn.clone().unwrap_or_else(|| "DE-LU".into());
    let local = |t: DateTime<Utc>| {
        t.with_timezone(&ask.tz)
            .to_rfc3339_opts(SecondsFormat::Secs, false)
    };
    let req = ask.client.get(ask.url_or(DEFAULT_URL)).query(&[
        ("bzn", bzn.as_str()),
        ("start", &local(ask.from)),
        ("end", &local(ask.to)),
    ]);
    let text = http::text(&ask.feed, req, ask.timeout).await?;
    let points = parse(&ask.feed, &text)?
        .into_iter()
        .filter(|p| p.start >= ask.from && p.start < ask.to)
        .collect();
    Ok(Fetched {
        points,
        currency: "EUR".into(),
    })
}

/// Parse an answer into points in EUR/kWh.
pub fn parse(feed: &str, text: &str) -> Result<Vec<Point>, PriceError> {
    let v = json(feed, text)?;
    let times = v
        .get("unix_seconds")
        .and_then(|t| t.as_array())
        .ok_or_else(|| PriceError::format(feed, "no `unix_seconds` list"))?;
    let prices = v
        .get("price")
        .and_then(|t| t.as_array())
        .ok_or_else(|| PriceError::format(feed, "no `price` list"))?;
    if times.len() != prices.len() {
        return Err(PriceError::format(
            feed,
            format!("{} times but {} prices", times.len(), prices.len()),
        ));
    }
    if let Some(unit) = v.get("unit").and_then(|u| u.as_str()) {
        if !unit.replace(" ", "").eq_ignore_ascii_case("eur/mwh") {
            return Err(PriceError::format(
                feed,
                format!("unit {unit:?}, expected EUR / MWh"),
            ));
        }
    }
    times
        .iter()
        .zip(prices)
        .map(|(t, p)| {
            let secs = t
                .as_i64()
                .ok_or_else(|| PriceError::format(feed, format!("{t} is not a unix time")))?;
            Ok(Point {
                start: from_unix(feed, secs)?,
                end: None,
                price: p.as_f64().map(|mwh| mwh / 1000.0),
            })
        })
        .collect()
}
