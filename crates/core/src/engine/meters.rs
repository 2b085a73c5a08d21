//! What the engine measures about itself for `/metrics`: how long each poll of a miner took (a
//! fixed-bucket histogram, lock-free so the workers never wait on a scrape), and the energy each
//! miner has used, summed from the history's `energy` table.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};

use crate::history::{History, HistoryError, SLOT_S};

/// Upper bounds (seconds) of the poll-duration buckets: a LAN miner answers in tens of
/// milliseconds; a busy or failing one takes seconds, up to the HTTP timeout.
pub const POLL_BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Poll durations, counted per bucket (the last slot is `+Inf`).
#[derive(Debug, Default)]
pub struct PollDurations {
    buckets: [AtomicU64; POLL_BUCKETS.len() + 1],
    sum_micros: AtomicU64,
    count: AtomicU64,
}

/// A copy of [`PollDurations`] at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct PollSnapshot {
    /// `(upper bound, polls in this bucket alone)`, the last bound `f64::INFINITY`.
    pub buckets: Vec<(f64, u64)>,
    /// Seconds, all polls together.
    pub sum: f64,
    pub count: u64,
}

impl PollDurations {
    pub fn observe(&self, took: Duration) {
        let s = took.as_secs_f64();
        let i = POLL_BUCKETS
            .iter()
            .position(|b| s <= *b)
            .unwrap_or(POLL_BUCKETS.len());
        self.buckets[i].fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        self.sum_micros.fetch_add(micros, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> PollSnapshot {
        let bounds = POLL_BUCKETS.iter().copied().chain([f64::INFINITY]);
        PollSnapshot {
            buckets: bounds
                .zip(self.buckets.iter().map(|b| b.load(Ordering::Relaxed)))
                .collect(),
            sum: self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6,
            count: self.count.load(Ordering::Relaxed),
        }
    }
}

/// Slots this old are taken as final: the integrator adds to a slot until the sample after it
/// arrives (at most the gap cap later) and the recorder writes in batches, so an hour is ample.
const SETTLE_S: i64 = 3600;

/// Joules per miner since the history began. Slots that can no longer change are summed once and
/// kept; each call reads only the recent ones (the table is keyed by slot first).
#[derive(Debug, Default)]
pub struct EnergyTotals {
    /// Slots before this (Unix seconds) are in `settled`.
    settled_before: i64,
    settled: BTreeMap<String, f64>,
}

impl EnergyTotals {
    pub fn read(
        &mut self,
        h: &History,
        now: DateTime<Utc>,
    ) -> Result<BTreeMap<String, f64>, HistoryError> {
        let boundary = (now.timestamp() - SETTLE_S).div_euclid(SLOT_S) * SLOT_S;
        if boundary > self.settled_before {
            let (from, to) = (at(self.settled_before), at(boundary));
            let settled = &mut self.settled;
            h.for_each_energy(from, to, |r| {
                *settled.entry(r.miner.to_string()).or_default() += r.joules;
            })?;
            self.settled_before = boundary;
        }
        let mut out = self.settled.clone();
        h.for_each_energy(at(self.settled_before), at(i64::from(i32::MAX)), |r| {
            *out.entry(r.miner.to_string()).or_default() += r.joules;
        })?;
        Ok(out)
    }
}

fn at(unix: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(unix, 0).single().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::Sample;

    #[test]
    fn polls_land_in_their_bucket() {
        let p = PollDurations::default();
        p.observe(Duration::from_millis(3));
        p.observe(Duration::from_millis(40));
        p.observe(Duration::from_secs(30));
        let s = p.snapshot();
        assert_eq!(s.count, 3);
        assert!((s.sum - 30.043).abs() < 1e-9, "{}", s.sum);
        assert_eq!(s.buckets.len(), POLL_BUCKETS.len() + 1);
        assert_eq!(s.buckets[0], (0.005, 1));
        assert_eq!(s.buckets[3], (0.05, 1));
        assert_eq!(s.buckets.last().copied(), Some((f64::INFINITY, 1)));
        assert_eq!(s.buckets.iter().map(|b| b.1).sum::<u64>(), 3);
    }

    fn sample(miner: &str, at: DateTime<Utc>, power: f64) -> Sample {
        Sample {
            miner: miner.into(),
            at,
            profile: crate::schedule::Profile::day(),
            hashrate: 1000.0,
            power,
            temp: None,
            vr_temp: None,
            voltage: None,
            frequency: None,
        }
    }

    #[test]
    fn energy_sums_settled_and_recent_slots_and_only_grows() {
        let mut h = History::in_memory().expect("db");
        let now = Utc::now();
        let start = now - chrono::Duration::hours(3);
        // 10 W for 3 hours in 30 s steps: 108 kJ.
        let samples: Vec<Sample> = (0..=360)
            .map(|i| sample("a", start + chrono::Duration::seconds(30 * i), 10.0))
            .collect();
        h.insert(&samples[..200]).expect("insert");
        let mut t = EnergyTotals::default();
        // Read as a scrape would while those were the newest samples: slots settle an hour
        // after the fact, so the rest (arriving later, as samples do) lands after the boundary.
        let first = t.read(&h, samples[199].at).expect("read")["a"];
        assert!((first - 10.0 * 30.0 * 199.0).abs() < 1e-6, "{first}");
        h.insert(&samples[200..]).expect("insert");
        let second = t.read(&h, now).expect("read")["a"];
        assert!((second - 10.0 * 3.0 * 3600.0).abs() < 1e-6, "{second}");
        // Read again: settled slots are not counted twice.
        let third = t.read(&h, now + chrono::Duration::hours(2)).expect("read")["a"];
        assert!((third - second).abs() < 1e-6, "{third} vs {second}");
    }
}
