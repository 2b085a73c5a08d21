//! The internal price type: [`Slot`]s in a sorted, non-overlapping [`PriceSeries`], and the
//! step from an adapter's raw points to slots (slot length measured from the data, charges and
//! tax applied, optional averaging to longer slots).

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// One priced interval. `price` is currency per kWh after charges and tax.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Slot {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub price: f64,
}

impl Slot {
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.start <= t && t < self.end
    }
}

/// A raw price from an adapter: currency per kWh, before charges and tax. `price: None` is a
/// slot the source lists without a price (missing, never zero); `end: None` means "until the
/// next start, or one measured slot length".
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub start: DateTime<Utc>,
    pub end: Option<DateTime<Utc>>,
    pub price: Option<f64>,
}

/// Prices from one source: sorted, non-overlapping slots.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PriceSeries {
    /// e.g. "energy-charts DE-LU"
    pub source: String,
    pub currency: String,
    /// When the newest data in it was fetched.
    pub fetched_at: DateTime<Utc>,
    slots: Vec<Slot>,
}

impl PriceSeries {
    /// Sorts `slots`; a slot overlapping an earlier one, empty, or without a finite price is dropped.
    pub fn new(
        source: impl Into<String>,
        currency: impl Into<String>,
        fetched_at: DateTime<Utc>,
        mut slots: Vec<Slot>,
    ) -> PriceSeries {
        slots.retain(|s| s.start < s.end && s.price.is_finite());
        slots.sort_by_key(|s| s.start);
        let mut clean: Vec<Slot> = Vec::with_capacity(slots.len());
        for s in slots {
            if clean.last().is_none_or(|l| l.end <= s.start) {
                clean.push(s);
            }
        }
        PriceSeries {
            source: source.into(),
            currency: currency.into(),
            fetched_at,
            slots: clean,
        }
    }

    pub fn slots(&self) -> &[Slot] {
        &self.slots
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The slot holding `t`.
    pub fn slot_at(&self, t: DateTime<Utc>) -> Option<Slot> {
        let i = self.slots.partition_point(|s| s.end <= t);
        self.slots.get(i).filter(|s| s.contains(t)).copied()
    }

    /// Slots that overlap `[from, to)`, whole.
    pub fn overlapping(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> &[Slot] {
        let a = self.slots.partition_point(|s| s.end <= from);
        let b = self.slots.partition_point(|s| s.start < to);
        &self.slots[a..b.max(a)]
    }

    /// The end of the last slot.
    pub fn end(&self) -> Option<DateTime<Utc>> {
        self.slots.last().map(|s| s.end)
    }

    /// Take `newer`'s slots, keeping every known slot that none of them overlaps (a late or
    /// short answer never erases what is already known).
    pub fn merge(&mut self, newer: PriceSeries) {
        let mut all = newer.slots.clone();
        all.extend(
            self.slots
                .iter()
                .filter(|old| {
                    let near = newer.overlapping(old.start, old.end);
                    near.is_empty()
                })
                .copied(),
        );
        *self = PriceSeries::new(newer.source, newer.currency, newer.fetched_at, all);
    }

    /// Drop slots that ended before `before`.
    pub fn prune(&mut self, before: DateTime<Utc>) {
        self.slots.retain(|s| s.end >= before);
    }
}

/// The most common gap between consecutive distinct starts (the smallest on a tie).
pub fn detect_step(starts: &[DateTime<Utc>]) -> Option<Duration> {
    let mut sorted = starts.to_vec();
    sorted.sort();
    sorted.dedup();
    let mut counts: BTreeMap<i64, usize> = BTreeMap::new();
    for pair in sorted.windows(2) {
        *counts.entry((pair[1] - pair[0]).num_seconds()).or_default() += 1;
    }
    let best = counts.values().copied().max()?;
    counts
        .into_iter()
        .find(|(_, n)| *n == best)
        .map(|(secs, _)| Duration::seconds(secs))
}

/// Raw points to final slots: each slot ends at its own end, else one measured slot length after
/// its start (60 minutes when a single point gives nothing to measure), never past the next start;
/// `price` maps a raw price to the final one; with `average_to` (minutes) shorter slots are
/// averaged, time-weighted, into slots of that length aligned to the hour.
pub fn build_slots(
    mut points: Vec<Point>,
    price: impl Fn(f64) -> f64,
    average_to: Option<u32>,
) -> Vec<Slot> {
    points.sort_by_key(|p| p.start);
    points.dedup_by_key(|p| p.start);
    let starts: Vec<_> = points.iter().map(|p| p.start).collect();
    let step = detect_step(&starts).unwrap_or(Duration::minutes(60));
    let mut slots = Vec::with_capacity(points.len());
    for (i, p) in points.iter().enumerate() {
        let Some(raw) = p.price.filter(|v| v.is_finite()) else {
            continue;
        };
        let mut end = p.end.unwrap_or(p.start + step);
        if let Some(next) = points.get(i + 1) {
            end = end.min(next.start);
        }
        if end > p.start {
            slots.push(Slot {
                start: p.start,
                end,
                price: price(raw),
            });
        }
    }
    match average_to {
        Some(minutes) if step < Duration::minutes(i64::from(minutes)) => average(&slots, minutes),
        _ => slots,
    }
}

fn average(slots: &[Slot], minutes: u32) -> Vec<Slot> {
    let size = i64::from(minutes) * 60;
    let mut buckets: BTreeMap<i64, Vec<Slot>> = BTreeMap::new();
    for s in slots {
        buckets
            .entry(s.start.timestamp().div_euclid(size))
            .or_default()
            .push(*s);
    }
    buckets
        .into_values()
        .filter_map(|group| {
            let start = group.first()?.start;
            let end = group.last()?.end;
            let secs: f64 = group
                .iter()
                .map(|s| (s.end - s.start).num_seconds() as f64)
                .sum();
            let sum: f64 = group
                .iter()
                .map(|s| s.price * (s.end - s.start).num_seconds() as f64)
                .sum();
            (secs > 0.0).then(|| Slot {
                start,
                end,
                price: sum / secs,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(min: i64) -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(1_780_000_000 - 1_780_000_000 % 3600, 0)
            .expect("valid in this test")
            + Duration::minutes(min)
    }

    fn pt(min: i64, price: Option<f64>) -> Point {
        Point {
            start: at(min),
            end: None,
            price,
        }
    }

    #[test]
    fn the_step_is_measured_and_missing_prices_stay_missing() {
        let points = vec![
            pt(0, Some(0.1)),
            pt(15, None),
            pt(30, Some(-0.05)),
            pt(45, Some(0.2)),
        ];
        let slots = build_slots(points, |p| p, None);
        assert_eq!(slots.len(), 3);
        assert_eq!(slots[0].end, at(15));
        assert_eq!(slots[1].price, -0.05);
        assert_eq!(slots[2].end, at(60));
    }

    #[test]
    fn averaging_to_an_hour_is_time_weighted() {
        let points = (0..8).map(|i| pt(i * 15, Some(i as f64))).collect();
        let slots = build_slots(points, |p| p * 2.0, Some(60));
        assert_eq!(slots.len(), 2);
        assert_eq!((slots[0].start, slots[0].end), (at(0), at(60)));
        assert!((slots[0].price - 3.0).abs() < 1e-9);
        assert!((slots[1].price - 11.0).abs() < 1e-9);
        // Already hourly: unchanged.
        let hourly = build_slots(vec![pt(0, Some(1.0)), pt(60, Some(2.0))], |p| p, Some(30));
        assert_eq!(hourly.len(), 2);
    }

    #[test]
    fn merge_keeps_known_slots_and_takes_new_ones() {
        let s = |a: i64, b: i64, p: f64| Slot {
            start: at(a),
            end: at(b),
            price: p,
        };
        let mut known = PriceSeries::new("x", "EUR", at(0), vec![s(0, 60, 1.0), s(60, 120, 2.0)]);
        let newer = PriceSeries::new("x", "EUR", at(90), vec![s(60, 120, 5.0), s(120, 180, 3.0)]);
        known.merge(newer);
        let prices: Vec<f64> = known.slots().iter().map(|s| s.price).collect();
        assert_eq!(prices, vec![1.0, 5.0, 3.0]);
        assert_eq!(
            known.slot_at(at(70)).expect("valid in this test").price,
            5.0
        );
        assert_eq!(known.slot_at(at(180)), None);
        assert_eq!(known.overlapping(at(30), at(61)).len(), 2);
        known.prune(at(61));
        assert_eq!(known.slots().len(), 2);
    }
}
