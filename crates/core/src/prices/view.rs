//! The merged price view the engine and the front ends read: feed slots where the feed knows a
//! price, the fixed tariff elsewhere, and a status that says which is in use and why.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use super::adapters::local_days;
use super::config::TariffConfig;
use super::fixed::FixedTariff;
use super::series::{PriceSeries, Slot};
use crate::schedule::{PriceLookup, PriceSlot};

/// Where a price comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Coverage {
    Feed,
    Fixed,
    None,
}

/// What the view knows, as of `as_of`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PriceStatus {
    pub as_of: DateTime<Utc>,
    pub currency: String,
    /// The feed's name (e.g. "energy-charts DE-LU"); `None` with a fixed tariff only.
    pub source: Option<String>,
    /// When prices were last fetched successfully (from the cache after a restart).
    pub last_fetch: Option<DateTime<Utc>>,
    /// Why the latest fetch failed, if it did.
    pub last_error: Option<String>,
    /// The feed covers the whole of tomorrow (local day).
    pub tomorrow_known: bool,
    /// The end of the feed's last slot.
    pub feed_until: Option<DateTime<Utc>>,
    /// Where the price for `as_of` comes from.
    pub now: Coverage,
    /// One sentence for people, e.g. "prices for tomorrow not published yet; using the fixed
    /// tariff after 23:00".
    pub message: String,
}

#[derive(Debug, Clone)]
pub struct Prices {
    currency: String,
    feed: Option<PriceSeries>,
    fixed: Option<FixedTariff>,
    status: PriceStatus,
    /// Feed and fixed slots merged once for `[span.0, span.1)` (the feed's slots and the
    /// days around `as_of`), so lookups there are a binary search; outside it they are computed.
    merged: Vec<(Slot, Coverage)>,
    span: Option<(DateTime<Utc>, DateTime<Utc>)>,
}

/// How far ahead of `as_of` the merged slots reach (a week's preview and a day more).
const AHEAD_DAYS: i64 = 9;

impl Prices {
    /// The view of `tariff` with the feed's known `feed` slots, as of `now`.
    pub fn new(
        tariff: &TariffConfig,
        tz: Tz,
        feed: Option<PriceSeries>,
        last_error: Option<String>,
        now: DateTime<Utc>,
    ) -> Prices {
        let fixed = (!tariff.fixed.is_empty()).then(|| FixedTariff::new(tariff.fixed.clone(), tz));
        let source = tariff.source.as_ref().map(|s| s.label());
        let feed = feed.filter(|f| !f.is_empty());
        let mut prices = Prices {
            currency: tariff.currency.clone(),
            feed,
            fixed,
            status: PriceStatus {
                as_of: now,
                currency: tariff.currency.clone(),
                source,
                last_fetch: None,
                last_error,
                tomorrow_known: false,
                feed_until: None,
                now: Coverage::None,
                message: String::new(),
            },
            merged: Vec::new(),
            span: None,
        };
        let first = prices
            .feed
            .as_ref()
            .and_then(|f| f.slots().first().map(|s| s.start));
        let from = first.map_or(now, |f| f.min(now)) - chrono::Duration::days(1);
        let to = prices
            .feed
            .as_ref()
            .and_then(|f| f.end())
            .map_or(now, |e| e.max(now))
            + chrono::Duration::days(AHEAD_DAYS);
        prices.merged = prices.compute_between(from, to);
        prices.span = Some((from, to));
        prices.status = prices.describe(tz, now);
        prices
    }

    /// A view with no tariff at all: no prices anywhere.
    pub fn none(now: DateTime<Utc>) -> Prices {
        Prices {
            currency: String::new(),
            feed: None,
            fixed: None,
            status: PriceStatus {
                as_of: now,
                currency: String::new(),
                source: None,
                last_fetch: None,
                last_error: None,
                tomorrow_known: false,
                feed_until: None,
                now: Coverage::None,
                message: "no tariff configured".into(),
            },
            merged: Vec::new(),
            span: None,
        }
    }

    fn describe(&self, tz: Tz, now: DateTime<Utc>) -> PriceStatus {
        let mut st = self.status.clone();
        st.last_fetch = self.feed.as_ref().map(|f| f.fetched_at);
        st.feed_until = self.feed.as_ref().and_then(|f| f.end());
        st.tomorrow_known = st
            .feed_until
            .is_some_and(|end| end >= local_days(tz, now).1);
        st.now = self.coverage_at(now);
        let hhmm = |t: DateTime<Utc>| t.with_timezone(&tz).format("%H:%M").to_string();
        let fallback = if self.fixed.is_some() {
            "using the fixed tariff"
        } else {
            "no price known"
        };
        let mut msg = match (&st.source, st.feed_until) {
            (None, _) if self.fixed.is_some() => "fixed tariff".to_string(),
            (None, _) => "no prices configured".to_string(),
            (Some(src), None) => format!("no prices from {src} yet; {fallback}"),
            (Some(_), Some(_)) if st.now != Coverage::Feed => {
                format!("the feed has no price for now; {fallback}")
            }
            (Some(src), Some(end)) if st.tomorrow_known => {
                format!(
                    "prices from {src} until {}",
                    end.with_timezone(&tz).format("%a %H:%M")
                )
            }
            (Some(_), Some(end)) => {
                let after = if self.fixed.is_some() {
                    "using the fixed tariff after"
                } else {
                    "no price after"
                };
                format!(
                    "prices for tomorrow not published yet; {after} {}",
                    hhmm(end)
                )
            }
        };
        if let Some(e) = &st.last_error {
            msg.push_str(&format!(" (last fetch failed: {e})"));
        }
        st.message = msg;
        st
    }

    pub fn status(&self) -> &PriceStatus {
        &self.status
    }

    pub fn currency(&self) -> &str {
        &self.currency
    }

    /// The feed's known slots, if any.
    pub fn feed(&self) -> Option<&PriceSeries> {
        self.feed.as_ref()
    }

    fn precomputed(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Option<&[(Slot, Coverage)]> {
        let (a, b) = self.span?;
        if from < a || to > b {
            return None;
        }
        let i = self.merged.partition_point(|(s, _)| s.end <= from);
        let j = self.merged.partition_point(|(s, _)| s.start < to);
        Some(&self.merged[i..j.max(i)])
    }

    /// Where the price at `t` comes from.
    pub fn coverage_at(&self, t: DateTime<Utc>) -> Coverage {
        if let Some(found) = self.precomputed(t, t + chrono::Duration::seconds(1)) {
            return found
                .iter()
                .find(|(s, _)| s.contains(t))
                .map_or(Coverage::None, |(_, c)| *c);
        }
        if self.feed.as_ref().and_then(|f| f.slot_at(t)).is_some() {
            Coverage::Feed
        } else if self.fixed.as_ref().and_then(|f| f.price_at(t)).is_some() {
            Coverage::Fixed
        } else {
            Coverage::None
        }
    }

    /// The slot holding `t`: the feed's, else the fixed tariff's (cut at the feed's slots and at
    /// the fixed windows' boundaries).
    pub fn slot_at(&self, t: DateTime<Utc>) -> Option<Slot> {
        if let Some(found) = self.precomputed(t, t + chrono::Duration::seconds(1)) {
            return found.iter().find(|(s, _)| s.contains(t)).map(|(s, _)| *s);
        }
        if let Some(s) = self.feed.as_ref().and_then(|f| f.slot_at(t)) {
            return Some(s);
        }
        let mut s = self.fixed.as_ref()?.slot_at(t)?;
        if let Some(feed) = &self.feed {
            let slots = feed.slots();
            let i = slots.partition_point(|f| f.end <= t);
            if let Some(next) = slots.get(i) {
                s.end = s.end.min(next.start);
            }
            if let Some(prev) = i.checked_sub(1).and_then(|i| slots.get(i)) {
                s.start = s.start.max(prev.end);
            }
        }
        Some(s)
    }

    pub fn price_at(&self, t: DateTime<Utc>) -> Option<f64> {
        self.slot_at(t).map(|s| s.price)
    }

    /// Every slot overlapping `[from, to)`, sorted: the feed's whole, the fixed tariff's in the
    /// gaps between them (cut to the gaps and to `[from, to)`).
    pub fn slots_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Slot> {
        if from >= to {
            return Vec::new();
        }
        match self.precomputed(from, to) {
            Some(found) => found
                .iter()
                .map(|(s, c)| match c {
                    Coverage::Fixed => Slot {
                        start: s.start.max(from),
                        end: s.end.min(to),
                        price: s.price,
                    },
                    _ => *s,
                })
                .collect(),
            None => self
                .compute_between(from, to)
                .into_iter()
                .map(|(s, _)| s)
                .collect(),
        }
    }

    /// Merge the feed and the fixed tariff over `[from, to)`.
    fn compute_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<(Slot, Coverage)> {
        let fed: &[Slot] = self.feed.as_ref().map_or(&[], |f| f.overlapping(from, to));
        let mut out = Vec::with_capacity(fed.len());
        let mut cursor = from;
        let fixed = |a, b| {
            self.fixed_between(a, b)
                .into_iter()
                .map(|s| (s, Coverage::Fixed))
        };
        for s in fed {
            if s.start > cursor {
                out.extend(fixed(cursor, s.start));
            }
            out.push((*s, Coverage::Feed));
            cursor = cursor.max(s.end);
        }
        if cursor < to {
            out.extend(fixed(cursor, to));
        }
        out
    }

    fn fixed_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Slot> {
        self.fixed
            .as_ref()
            .map(|f| f.slots_between(from, to))
            .unwrap_or_default()
    }
}

impl From<Slot> for PriceSlot {
    fn from(s: Slot) -> PriceSlot {
        PriceSlot {
            start: s.start,
            end: s.end,
            price: s.price,
        }
    }
}

/// The resolver reads the merged view: feed slots where known, the fixed tariff elsewhere.
impl PriceLookup for Prices {
    fn slot_at(&self, t: DateTime<Utc>) -> Option<PriceSlot> {
        Prices::slot_at(self, t).map(PriceSlot::from)
    }

    fn slots_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<PriceSlot> {
        Prices::slots_between(self, from, to)
            .into_iter()
            .map(PriceSlot::from)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ClockTime;
    use crate::prices::config::WindowConfig;
    use chrono::{Duration, TimeZone};

    /// Inside the precomputed span and outside it, lookups agree with the plain rule: the feed's
    /// slot where it has one, else the fixed window's price.
    #[test]
    fn precomputed_and_computed_lookups_agree() {
        let tz = chrono_tz::Europe::Berlin;
        let t0 = tz
            .with_ymd_and_hms(2026, 3, 27, 0, 0, 0)
            .single()
            .expect("time")
            .with_timezone(&Utc);
        let slot = |i: i64, p: f64| Slot {
            start: t0 + Duration::minutes(15 * i),
            end: t0 + Duration::minutes(15 * (i + 1)),
            price: p,
        };
        // Two days of quarter hours with a missing hour.
        let fed: Vec<Slot> = (0..192)
            .filter(|i| !(40..44).contains(i))
            .map(|i| slot(i, i as f64 / 1000.0))
            .collect();
        let series = PriceSeries::new("x", "EUR", t0, fed);
        let tariff = TariffConfig {
            currency: "EUR".into(),
            fixed: vec![
                WindowConfig {
                    from: ClockTime::hm(7, 0),
                    to: ClockTime::hm(21, 30),
                    price_per_kwh: 0.3,
                    days: None,
                },
                WindowConfig {
                    from: ClockTime::hm(21, 30),
                    to: ClockTime::hm(7, 0),
                    price_per_kwh: 0.2,
                    days: None,
                },
            ],
            source: None,
        };
        let fixed = FixedTariff::new(tariff.fixed.clone(), tz);
        let view = Prices::new(
            &tariff,
            tz,
            Some(series.clone()),
            None,
            t0 + Duration::hours(12),
        );
        let (a, b) = view.span.expect("span");
        let mut t = t0 - Duration::days(3);
        while t < t0 + Duration::days(14) {
            let want = series
                .slot_at(t)
                .map(|s| s.price)
                .or_else(|| fixed.price_at(t));
            let got = view.slot_at(t).expect("a slot everywhere");
            assert!(got.contains(t), "{t}: {got:?}");
            assert_eq!(Some(got.price), want, "{t} (span {a}..{b})");
            t += Duration::minutes(37);
        }
        for (from, to) in [(t0 - Duration::days(2), t0 + Duration::days(2)), (a, b)] {
            let slots = view.slots_between(from, to);
            assert_eq!(slots.first().map(|s| s.start), Some(from));
            assert_eq!(slots.last().map(|s| s.end), Some(to));
            for pair in slots.windows(2) {
                assert_eq!(pair[0].end, pair[1].start);
            }
        }
        assert_eq!(
            view.coverage_at(t0 + Duration::minutes(15 * 41)),
            Coverage::Fixed
        );
        assert_eq!(
            view.coverage_at(t0 + Duration::minutes(15 * 45)),
            Coverage::Feed
        );
        assert_eq!(view.coverage_at(t0 + Duration::days(12)), Coverage::Fixed);
    }
}
