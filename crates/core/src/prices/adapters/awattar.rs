//! aWATTar (DE, AT): `GET /v1/marketdata?start=<ms>&end=<ms>`, answer
//! `{"data": [{"start_timestamp": ms, "end_timestamp": ms, "marketprice": 42.09, "unit": "Eur/MWh"}]}`.
//! Hourly; prices may be negative.

use super::{json, Ask, Fetched};
use crate::prices::error::PriceError;
use crate::prices::http;
use crate::prices::series::Point;

pub(crate) async fn fetch(ask: &Ask<'_>) -> Result<Fetched, PriceError> {
    let country = ask.source.country.clone().unwrap_or_else(|| "de".into());
    let default = format!("https://api.awattar.{country}/v1/marketdata");
    let req = ask.client.get(ask.url_or(&default)).query(&[
        ("start", ask.from.timestamp_millis()),
        ("end", ask.to.timestamp_millis()),
    ]);
    let text = http::text(&ask.feed, req, ask.timeout).await?;
    Ok(Fetched {
        points: parse(&ask.feed, &text)?,
        currency: "EUR".into(),
    })
}

fn ms(
    feed: &str,
    v: &serde_json::Value,
    key: &str,
) -> Result<chrono::DateTime<chrono::Utc>, PriceError> {
    v.get(key)
        .and_then(|t| t.as_i64())
        .and_then(chrono::DateTime::from_timestamp_millis)
        .ok_or_else(|| PriceError::format(feed, format!("an entry without a valid `{key}`")))
}

/// Parse an answer into points in EUR/kWh.
pub fn parse(feed: &str, text: &str) -> Result<Vec<Point>, PriceError> {
    let v = json(feed, text)?;
    let data = v
        .get("data")
        .and_then(|d| d.as_array())
        .ok_or_else(|| PriceError::format(feed, "no `data` list"))?;
    data.iter()
        .map(|e| {
            let unit = e.get("unit").and_then(|u| u.as_str()).unwrap_or("Eur/MWh");
            if !unit.eq_ignore_ascii_case("eur/mwh") {
                return Err(PriceError::format(
                    feed,
                    format!("unit {unit:?}, expected Eur/MWh"),
                ));
            }
            Ok(Point {
                start: ms(feed, e, "start_timestamp")?,
                end: Some(ms(feed, e, "end_timestamp")?),
                price: e
                    .get("marketprice")
                    .and_then(|p| p.as_f64())
                    .map(|p| p / 1000.0),
            })
        })
        .collect()
}
