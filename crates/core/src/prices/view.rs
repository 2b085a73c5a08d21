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
pub enum Coverage {
    Feed,
    Fixed,
    None,
}

/// What the view knows, as of `as_of`.
#[derive(Debug, Clone, PartialEq, Serialize)]
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
}

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
        };
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

    /// Where the price at `t` comes from.
    pub fn coverage_at(&self, t: DateTime<Utc>) -> Coverage {
        if self.feed.as_ref().and_then(|f| f.slot_at(t)).is_some() {
            Coverage::Feed
        } else if self.fixed.as_ref().and_then(|f| f.price_at(t)).is_some() {
            Coverage::Fixed
        } else {
            Coverage::None
        }
    }

    /// The slot holding `t`: the feed's, else the fixed tariff's (cut at the feed's slots).
    pub fn slot_at(&self, t: DateTime<Utc>) -> Option<Slot> {
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
    /// gaps between them (cut to the gaps).
    pub fn slots_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Slot> {
        if from >= to {
            return Vec::new();
        }
        let fed: &[Slot] = self.feed.as_ref().map_or(&[], |f| f.overlapping(from, to));
        let mut out = Vec::with_capacity(fed.len());
        let mut cursor = from;
        for s in fed {
            if s.start > cursor {
                out.extend(self.fixed_between(cursor, s.start));
            }
            out.push(*s);
            cursor = cursor.max(s.end);
        }
        if cursor < to {
            out.extend(self.fixed_between(cursor, to));
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
