//! ENTSO-E Transparency Platform: `GET /api?documentType=A44&in_Domain=EIC&out_Domain=EIC&periodStart=yyyyMMddHHmm&periodEnd=..&securityToken=..`
//! (UTC times). The answer is a `Publication_MarketDocument`: `TimeSeries` (currency, unit `MWH`,
//! `classificationSequence_AttributeInstanceComponent.position`) → `Period` (`timeInterval`
//! start/end, `resolution` PT15M|PT30M|PT60M) → `Point` (`position` from 1, `price.amount`).
//!
//! Rules: the number of slots comes from the interval and the resolution (so DST days of 92 or
//! 100 quarter hours work); a missing position repeats the preceding point (compressed curves);
//! where several series cover the same slot the one with the lowest classification position
//! wins; a unit other than MWH is refused; an `Acknowledgement_MarketDocument` (no data, bad
//! token) is an error carrying its reason.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use quick_xml::events::Event;
use quick_xml::Reader;

use super::{Ask, Fetched};
use crate::prices::error::PriceError;
use crate::prices::http;
use crate::prices::series::Point;

const DEFAULT_URL: &str = "https://web-api.tp.entsoe.eu/api";

pub(crate) async fn fetch(ask: &Ask<'_>) -> Result<Fetched, PriceError> {
    let zone = ask.source.zone.clone().unwrap_or_default();
    let token = ask
        .source
        .token
        .as_ref()
        .map(|t| t.expose().to_string())
        .unwrap_or_default();
    let stamp = |t: DateTime<Utc>| t.format("%Y%m%d%H%M").to_string();
    let req = ask.client.get(ask.url_or(DEFAULT_URL)).query(&[
        ("documentType", "A44".to_string()),
        ("in_Domain", zone.clone()),
        ("out_Domain", zone),
        ("periodStart", stamp(ask.from)),
        ("periodEnd", stamp(ask.to)),
        ("securityToken", token),
    ]);
    // ENTSO-E answers "no data" and a bad token with an Acknowledgement document, often with
    // HTTP 400 or 401: read it for its reason.
    let (status, text) = http::send(&ask.feed, req, ask.timeout).await?;
    if !(200..300).contains(&status) && !text.contains("Acknowledgement_MarketDocument") {
        return Err(http::status_error(&ask.feed, status, &text));
    }
    parse(&ask.feed, &text)
}

#[derive(Debug, Default)]
struct Series {
    rank: Option<i64>,
    currency: Option<String>,
    unit: Option<String>,
    periods: Vec<Period>,
}

#[derive(Debug, Default)]
struct Period {
    start: String,
    end: String,
    resolution: String,
    points: BTreeMap<i64, f64>,
    position: Option<i64>,
    amount: Option<f64>,
}

/// Parse an answer into points per kWh (and their currency).
pub fn parse(feed: &str, text: &str) -> Result<Fetched, PriceError> {
    let bad = |m: String| PriceError::format(feed, m);
    let mut reader = Reader::from_str(text);
    reader.config_mut().trim_text(true);
    let mut path: Vec<String> = Vec::new();
    let mut series: Vec<Series> = Vec::new();
    let mut ack: Option<(String, String)> = None;
    let mut root: Option<String> = None;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| bad(format!("not XML: {e}")))?;
        match event {
            Event::Start(e) => {
                let name = e.local_name().as_ref().to_string();
                if root.is_none() {
                    root = Some(name.clone());
                }
                match name.as_str() {
                    "TimeSeries" => series.push(Series::default()),
                    "Period" => {
                        if let Some(s) = series.last_mut() {
                            s.periods.push(Period::default());
                        }
                    }
                    _ => {}
                }
                path.push(name);
            }
            Event::End(_) => {
                if path.last().map(String::as_str) == Some("Point") {
                    if let Some(p) = series.last_mut().and_then(|s| s.periods.last_mut()) {
                        if let (Some(pos), Some(amount)) = (p.position.take(), p.amount.take()) {
                            p.points.insert(pos, amount);
                        }
                    }
                }
                path.pop();
            }
            Event::Text(t) => {
                let text = t.xml10_content().trim().to_string();
                on_text(&path, &text, &mut series, &mut ack);
            }
            Event::GeneralRef(r) => {
                let text = match AsRef::<str>::as_ref(&r) {
                    "amp" => "&".to_string(),
                    "lt" => "<".into(),
                    "gt" => ">".into(),
                    "quot" => "\"".into(),
                    "apos" => "'".into(),
                    _ => r
                        .resolve_char_ref()
                        .ok()
                        .flatten()
                        .map(String::from)
                        .unwrap_or_default(),
                };
                if let (Some("text"), Some(a)) = (path.last().map(String::as_str), ack.as_mut()) {
                    a.1.push_str(&text);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    match root.as_deref() {
        Some("Acknowledgement_MarketDocument") => {
            let (code, text) = ack.unwrap_or_default();
            return Err(PriceError::NoData {
                feed: feed.to_string(),
                message: format!("ENTSO-E acknowledgement {code}: {text}"),
            });
        }
        Some("Publication_MarketDocument") => {}
        other => {
            return Err(bad(format!(
                "expected a Publication_MarketDocument, got {}",
                other.unwrap_or("nothing")
            )))
        }
    }
    series.sort_by_key(|s| s.rank.unwrap_or(i64::MAX));
    let mut currency = None;
    // Lower classification positions first: a slot already filled is not taken again.
    let mut slots: BTreeMap<DateTime<Utc>, Point> = BTreeMap::new();
    for s in &series {
        let unit = s.unit.as_deref().unwrap_or("");
        if unit != "MWH" {
            return Err(bad(format!("price unit {unit:?}, expected MWH")));
        }
        if let Some(c) = &s.currency {
            match &currency {
                None => currency = Some(c.clone()),
                Some(known) if known != c => {
                    return Err(bad(format!("series in both {known} and {c}")))
                }
                _ => {}
            }
        }
        for p in &s.periods {
            for point in period_points(feed, p)? {
                slots.entry(point.start).or_insert(point);
            }
        }
    }
    if slots.is_empty() {
        return Err(PriceError::NoData {
            feed: feed.to_string(),
            message: "the document holds no prices".into(),
        });
    }
    Ok(Fetched {
        points: slots.into_values().collect(),
        currency: currency.unwrap_or_else(|| "EUR".into()),
    })
}

fn on_text(path: &[String], text: &str, series: &mut [Series], ack: &mut Option<(String, String)>) {
    let n = path.len();
    let last = path.last().map(String::as_str).unwrap_or("");
    let parent = if n >= 2 { path[n - 2].as_str() } else { "" };
    if parent == "Reason" {
        let a = ack.get_or_insert_with(Default::default);
        if last == "code" {
            a.0 = text.to_string();
        } else if last == "text" {
            a.1.push_str(text);
        }
        return;
    }
    let Some(s) = series.last_mut() else { return };
    match (parent, last) {
        ("TimeSeries", "classificationSequence_AttributeInstanceComponent.position") => {
            s.rank = text.parse().ok()
        }
        ("TimeSeries", "currency_Unit.name") => s.currency = Some(text.to_string()),
        ("TimeSeries", "price_Measure_Unit.name") => s.unit = Some(text.to_string()),
        _ => {}
    }
    let Some(p) = s.periods.last_mut() else {
        return;
    };
    match (parent, last) {
        ("timeInterval", "start") => p.start = text.to_string(),
        ("timeInterval", "end") => p.end = text.to_string(),
        ("Period", "resolution") => p.resolution = text.to_string(),
        ("Point", "position") => p.position = text.parse().ok(),
        ("Point", "price.amount") => p.amount = text.parse().ok(),
        _ => {}
    }
}

/// `2015-12-31T23:00Z` (minute precision, UTC), also with seconds.
fn instant(feed: &str, s: &str) -> Result<DateTime<Utc>, PriceError> {
    let s = s.trim();
    let plain = s.trim_end_matches('Z');
    NaiveDateTime::parse_from_str(plain, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(plain, "%Y-%m-%dT%H:%M:%S"))
        .map(|n| n.and_utc())
        .map_err(|_| PriceError::format(feed, format!("{s:?} is not a time")))
}

fn resolution(feed: &str, r: &str) -> Result<Duration, PriceError> {
    match r {
        "PT15M" => Ok(Duration::minutes(15)),
        "PT30M" => Ok(Duration::minutes(30)),
        "PT60M" | "PT1H" => Ok(Duration::minutes(60)),
        other => Err(PriceError::format(
            feed,
            format!("resolution {other:?} is not PT15M, PT30M or PT60M"),
        )),
    }
}

/// Every slot of one period: count from the interval, gaps filled from the preceding point.
fn period_points(feed: &str, p: &Period) -> Result<Vec<Point>, PriceError> {
    let start = instant(feed, &p.start)?;
    let end = instant(feed, &p.end)?;
    let step = resolution(feed, &p.resolution)?;
    let count = (end - start).num_seconds() / step.num_seconds();
    let mut out = Vec::new();
    let mut last: Option<f64> = None;
    for pos in 1..=count {
        if let Some(v) = p.points.get(&pos) {
            last = Some(*v);
        }
        let Some(price) = last else { continue };
        let at = start + step * (pos as i32 - 1);
        out.push(Point {
            start: at,
            end: Some(at + step),
            price: Some(price / 1000.0),
        });
    }
    Ok(out)
}
