//! Tibber: GraphQL `POST /v1-beta/gql` with `Authorization: Bearer <token>`, asking
//! `priceInfo(resolution: QUARTER_HOURLY) { today { total startsAt currency } tomorrow { .. } }`.
//! `total` is the retail price per kWh in the home's currency, VAT and fees included; `startsAt`
//! carries the home's offset; there is no end, so the slot length is measured; `tomorrow` is an
//! empty list until the day-ahead auction is published.

use super::{from_rfc3339, json, Ask, Fetched};
use crate::prices::error::PriceError;
use crate::prices::http;
use crate::prices::series::Point;

const DEFAULT_URL: &str = "https://api.tibber.com/v1-beta/gql";
const FIELDS: &str = "total startsAt currency";

fn query(home_id: Option<&str>) -> String {
    let info = format!(
        "currentSubscription {{ priceInfo(resolution: QUARTER_HOURLY) {{ today {{ {FIELDS} }} tomorrow {{ {FIELDS} }} }} }}"
    );
    match home_id {
        Some(id) => format!(
            "{{ viewer {{ home(id: {}) {{ id {info} }} }} }}",
            serde_json::Value::from(id)
        ),
        None => format!("{{ viewer {{ homes {{ id {info} }} }} }}"),
    }
}

pub(crate) async fn fetch(ask: &Ask<'_>) -> Result<Fetched, PriceError> {
    let token = ask
        .source
        .token
        .as_ref()
        .map(|t| t.expose())
        .unwrap_or_default();
    let body = serde_json::json!({ "query": query(ask.source.home_id.as_deref()) });
    let req = ask
        .client
        .post(ask.url_or(DEFAULT_URL))
        .bearer_auth(token)
        .json(&body);
    let text = http::text(&ask.feed, req, ask.timeout).await?;
    parse(&ask.feed, &text)
}

/// Parse an answer into points per kWh (and their currency).
pub fn parse(feed: &str, text: &str) -> Result<Fetched, PriceError> {
    let v = json(feed, text)?;
    if let Some(errors) = v
        .get("errors")
        .and_then(|e| e.as_array())
        .filter(|e| !e.is_empty())
    {
        let messages: Vec<&str> = errors
            .iter()
            .filter_map(|e| e.get("message").and_then(|m| m.as_str()))
            .collect();
        return Err(PriceError::NoData {
            feed: feed.to_string(),
            message: messages.join("; "),
        });
    }
    let viewer = v
        .pointer("/data/viewer")
        .ok_or_else(|| PriceError::format(feed, "no `data.viewer`"))?;
    let homes: Vec<&serde_json::Value> = match (viewer.get("home"), viewer.get("homes")) {
        (Some(h), _) if !h.is_null() => vec![h],
        (_, Some(serde_json::Value::Array(hs))) => hs.iter().collect(),
        _ => return Err(PriceError::format(feed, "no home in the answer")),
    };
    let info = homes
        .iter()
        .find_map(|h| {
            h.pointer("/currentSubscription/priceInfo")
                .filter(|i| !i.is_null())
        })
        .ok_or_else(|| PriceError::NoData {
            feed: feed.to_string(),
            message: "no home with a current subscription".into(),
        })?;
    let mut points = Vec::new();
    let mut currency = None;
    for day in ["today", "tomorrow"] {
        let Some(list) = info.get(day).and_then(|d| d.as_array()) else {
            continue;
        };
        for e in list {
            let starts = e
                .get("startsAt")
                .and_then(|s| s.as_str())
                .ok_or_else(|| PriceError::format(feed, "a price without `startsAt`"))?;
            if currency.is_none() {
                currency = e
                    .get("currency")
                    .and_then(|c| c.as_str())
                    .map(str::to_string);
            }
            points.push(Point {
                start: from_rfc3339(feed, starts)?,
                end: None,
                price: e.get("total").and_then(|p| p.as_f64()),
            });
        }
    }
    Ok(Fetched {
        points,
        currency: currency.unwrap_or_default(),
    })
}
