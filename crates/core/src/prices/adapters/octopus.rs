//! Octopus Energy Agile (GB): `GET /v1/products/{PRODUCT}/electricity-tariffs/E-1R-{PRODUCT}-{REGION}/standard-unit-rates/`,
//! answer `{"next": url|null, "results": [{"value_inc_vat": p/kWh, "valid_from": "..Z", "valid_to": "..Z"|null,
//! "payment_method": null|"DIRECT_DEBIT"|"NON_DIRECT_DEBIT"}]}`, newest first, paged by `next`.
//! Prices are pence per kWh including VAT; a `null` `valid_to` is open-ended.

use chrono::SecondsFormat;

use super::{from_rfc3339, json, Ask, Fetched};
use crate::prices::error::PriceError;
use crate::prices::http;
use crate::prices::series::Point;

/// Pages followed at most (a day-ahead window is one or two).
const MAX_PAGES: usize = 10;

pub(crate) async fn fetch(ask: &Ask<'_>) -> Result<Fetched, PriceError> {
    let product = ask
        .source
        .product
        .clone()
        .unwrap_or_default()
        .to_ascii_uppercase();
    let region = ask
        .source
        .region
        .clone()
        .unwrap_or_default()
        .to_ascii_uppercase();
    let default = format!(
        "https://api.octopus.energy/v1/products/{product}/electricity-tariffs/E-1R-{product}-{region}/standard-unit-rates/"
    );
    let first = ask.url_or(&default);
    let host = host_of(&first);
    let utc = |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(SecondsFormat::Secs, true);
    let mut req = ask.client.get(&first).query(&[
        ("period_from", utc(ask.from)),
        ("period_to", utc(ask.to)),
        ("page_size", "1500".into()),
    ]);
    let mut points = Vec::new();
    for _ in 0..MAX_PAGES {
        let text = http::text(&ask.feed, req, ask.timeout).await?;
        let (page, next) = parse(&ask.feed, &text)?;
        points.extend(page);
        match next {
            // Only follow a next page on the same host: the answer must not send us elsewhere.
            Some(next) if host_of(&next) == host && host.is_some() => req = ask.client.get(next),
            _ => break,
        }
    }
    Ok(Fetched {
        points,
        currency: "GBP".into(),
    })
}

fn host_of(url: &str) -> Option<String> {
    reqwest::Url::parse(url).ok().map(|u| {
        format!(
            "{}:{:?}",
            u.host_str().unwrap_or_default(),
            u.port_or_known_default()
        )
    })
}

/// Parse one page into points in GBP/kWh, and the next page's URL.
pub fn parse(feed: &str, text: &str) -> Result<(Vec<Point>, Option<String>), PriceError> {
    let v = json(feed, text)?;
    let results = v
        .get("results")
        .and_then(|r| r.as_array())
        .ok_or_else(|| PriceError::format(feed, "no `results` list"))?;
    let mut points = Vec::new();
    for r in results {
        let method = r.get("payment_method").and_then(|m| m.as_str());
        if method.is_some_and(|m| m != "DIRECT_DEBIT") {
            continue;
        }
        let from = r
            .get("valid_from")
            .and_then(|f| f.as_str())
            .ok_or_else(|| PriceError::format(feed, "a rate without `valid_from`"))?;
        let end = match r.get("valid_to").and_then(|t| t.as_str()) {
            Some(t) => Some(from_rfc3339(feed, t)?),
            None => None,
        };
        points.push(Point {
            start: from_rfc3339(feed, from)?,
            end,
            price: r
                .get("value_inc_vat")
                .and_then(|p| p.as_f64())
                .map(|p| p / 100.0),
        });
    }
    let next = v.get("next").and_then(|n| n.as_str()).map(str::to_string);
    Ok((points, next))
}
