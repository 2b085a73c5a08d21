//! A generic URL: `GET url`, JSON or CSV, read with the field mapping in the config.
//!
//! JSON: a list of objects, or an object holding one (`list_field`, else its only list); each
//! object has `start_field`, optional `end_field`, `price_field`. CSV: a header row naming the
//! columns, `,` or `;` separated (with `;`, a decimal comma is accepted). Times per
//! `time_format` (`unix`, `unix_ms`, `rfc3339`, default `rfc3339`); prices per `price_unit`
//! (`kwh` default, or `mwh`), in the tariff's currency.

use chrono::{DateTime, Utc};

use super::{from_rfc3339, from_unix, json, Ask, Fetched};
use crate::prices::error::PriceError;
use crate::prices::http;
use crate::prices::series::Point;
use crate::prices::source::{PriceUnit, SourceConfig, TimeFormat, UrlFormat};

pub(crate) async fn fetch(ask: &Ask<'_>) -> Result<Fetched, PriceError> {
    let url = ask
        .source
        .url
        .clone()
        .ok_or_else(|| PriceError::Setup("the url source needs `url`".into()))?;
    let text = http::text(&ask.feed, ask.client.get(url), ask.timeout).await?;
    let points = match ask.source.format.unwrap_or(UrlFormat::Json) {
        UrlFormat::Json => parse_json(&ask.feed, ask.source, &text)?,
        UrlFormat::Csv => parse_csv(&ask.feed, ask.source, &text)?,
    };
    Ok(Fetched {
        points,
        currency: ask.currency.to_string(),
    })
}

struct Mapping<'a> {
    start: &'a str,
    end: Option<&'a str>,
    price: &'a str,
    time: TimeFormat,
    per_kwh: f64,
}

fn mapping<'a>(feed: &str, s: &'a SourceConfig) -> Result<Mapping<'a>, PriceError> {
    let need = |v: &'a Option<String>, k: &str| {
        v.as_deref()
            .ok_or_else(|| PriceError::Setup(format!("{feed}: the url source needs `{k}`")))
    };
    Ok(Mapping {
        start: need(&s.start_field, "start_field")?,
        end: s.end_field.as_deref(),
        price: need(&s.price_field, "price_field")?,
        time: s.time_format.unwrap_or(TimeFormat::Rfc3339),
        per_kwh: match s.price_unit.unwrap_or(PriceUnit::Kwh) {
            PriceUnit::Kwh => 1.0,
            PriceUnit::Mwh => 1.0 / 1000.0,
        },
    })
}

fn time(feed: &str, format: TimeFormat, raw: &str) -> Result<DateTime<Utc>, PriceError> {
    let raw = raw.trim().trim_matches('"');
    let number = || {
        raw.parse::<f64>()
            .map(|n| n as i64)
            .map_err(|_| PriceError::format(feed, format!("{raw:?} is not a unix time")))
    };
    match format {
        TimeFormat::Rfc3339 => from_rfc3339(feed, raw),
        TimeFormat::Unix => from_unix(feed, number()?),
        TimeFormat::UnixMs => DateTime::from_timestamp_millis(number()?)
            .ok_or_else(|| PriceError::format(feed, format!("{raw} is not a time"))),
    }
}

fn scalar(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Parse a JSON answer into points per kWh.
pub fn parse_json(feed: &str, s: &SourceConfig, text: &str) -> Result<Vec<Point>, PriceError> {
    let m = mapping(feed, s)?;
    let v = json(feed, text)?;
    let list = match (&v, s.list_field.as_deref()) {
        (serde_json::Value::Array(a), None) => a,
        (serde_json::Value::Object(o), Some(k)) => o
            .get(k)
            .and_then(|l| l.as_array())
            .ok_or_else(|| PriceError::format(feed, format!("no list under `{k}`")))?,
        (serde_json::Value::Object(o), None) => {
            let lists: Vec<_> = o.values().filter_map(|l| l.as_array()).collect();
            match lists.as_slice() {
                [one] => *one,
                _ => {
                    return Err(PriceError::format(
                        feed,
                        "the answer is an object without exactly one list; set `list_field`",
                    ))
                }
            }
        }
        _ => return Err(PriceError::format(feed, "expected a list of prices")),
    };
    list.iter()
        .map(|item| {
            let field = |k: &str| item.get(k).and_then(scalar);
            let start = field(m.start).ok_or_else(|| {
                PriceError::format(feed, format!("an entry without `{}`", m.start))
            })?;
            let end = match m.end.and_then(field) {
                Some(e) => Some(time(feed, m.time, &e)?),
                None => None,
            };
            let price = item.get(m.price).and_then(|p| {
                p.as_f64()
                    .or_else(|| p.as_str().and_then(|s| s.trim().parse().ok()))
            });
            Ok(Point {
                start: time(feed, m.time, &start)?,
                end,
                price: price.map(|p| p * m.per_kwh),
            })
        })
        .collect()
}

/// Parse a CSV answer into points per kWh.
pub fn parse_csv(feed: &str, s: &SourceConfig, text: &str) -> Result<Vec<Point>, PriceError> {
    let m = mapping(feed, s)?;
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let header = lines
        .next()
        .ok_or_else(|| PriceError::format(feed, "an empty CSV answer"))?;
    let sep = if header.contains(';') { ';' } else { ',' };
    let cells = |line: &str| -> Vec<String> {
        line.split(sep)
            .map(|c| c.trim().trim_matches('"').to_string())
            .collect()
    };
    let names = cells(header);
    let column = |k: &str| {
        names
            .iter()
            .position(|n| n == k)
            .ok_or_else(|| PriceError::format(feed, format!("no column {k:?} in {names:?}")))
    };
    let (start, price) = (column(m.start)?, column(m.price)?);
    let end = m.end.map(column).transpose()?;
    lines
        .map(|line| {
            let row = cells(line);
            let get = |i: usize| {
                row.get(i)
                    .cloned()
                    .ok_or_else(|| PriceError::format(feed, format!("a short row: {line:?}")))
            };
            let raw = get(price)?;
            let raw = if sep == ';' {
                raw.replace(',', ".")
            } else {
                raw
            };
            Ok(Point {
                start: time(feed, m.time, &get(start)?)?,
                end: match end {
                    Some(i) => Some(time(feed, m.time, &get(i)?)?),
                    None => None,
                },
                price: raw.parse::<f64>().ok().map(|p| p * m.per_kwh),
            })
        })
        .collect()
}
