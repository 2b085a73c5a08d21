//! Measured energy: joules integrated from the `power` samples as they arrive, kept per miner,
//! per 15-minute UTC-aligned slot and per profile name in the `energy` table.
//!
//! The rule, stated once:
//! - Between two consecutive samples of one miner, power and hashrate are taken to change linearly
//!   (the trapezoid rule). An interval that crosses a slot boundary is split there, each part
//!   integrated on its own (the power at the boundary interpolated).
//! - An interval belongs to the profile of the sample that ends it: that sample is the first one
//!   measured under the new profile, so the switch happened somewhere inside the interval.
//! - An interval longer than the gap cap ([`History::set_max_gap`], by default three times the
//!   default poll period) is not integrated at all: the miner was offline or the app was closed
//!   and nobody knows what it drew meanwhile. The sample after the gap starts a new run.
//! - Samples that do not move time forward (duplicates, out of order) add nothing.
//!
//! [`History::set_max_gap`]: super::History::set_max_gap

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use rusqlite::{params, OptionalExtension, Transaction};
use serde::{Deserialize, Serialize};

use crate::events::Sample;

/// Energy slots are this long (seconds) and start on multiples of it in UTC.
pub const SLOT_S: i64 = 900;
/// Default gap cap: three times the default poll period (30 s).
pub const DEFAULT_MAX_GAP: Duration = Duration::from_secs(90);

/// One row of the `energy` table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnergyRow {
    pub miner: String,
    /// Slot start, Unix seconds (a multiple of [`SLOT_S`]).
    pub slot: i64,
    pub profile: String,
    /// Measured energy, J.
    pub joules: f64,
    /// Seconds of the slot covered by integrated samples.
    pub seconds: f64,
    /// Hashes done meanwhile (from the reported hashrate).
    pub hashes: f64,
}

/// An [`EnergyRow`] lent by [`super::History::for_each_energy`] (no copies of the names).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EnergyRef<'a> {
    pub miner: &'a str,
    pub slot: i64,
    pub profile: &'a str,
    pub joules: f64,
    pub seconds: f64,
    pub hashes: f64,
}

impl EnergyRef<'_> {
    pub fn to_owned(&self) -> EnergyRow {
        EnergyRow {
            miner: self.miner.to_string(),
            slot: self.slot,
            profile: self.profile.to_string(),
            joules: self.joules,
            seconds: self.seconds,
            hashes: self.hashes,
        }
    }
}

impl EnergyRow {
    pub fn as_ref(&self) -> EnergyRef<'_> {
        EnergyRef {
            miner: &self.miner,
            slot: self.slot,
            profile: &self.profile,
            joules: self.joules,
            seconds: self.seconds,
            hashes: self.hashes,
        }
    }
}

/// The last sample seen of one miner.
#[derive(Debug, Clone, Copy)]
struct Last {
    /// Unix seconds, fractional.
    at: f64,
    power: f64,
    /// GH/s
    hashrate: f64,
}

/// Sums waiting to be written, per (miner, slot, profile).
type Pending = BTreeMap<(String, i64, String), [f64; 3]>;

/// Turns a stream of samples into energy per slot. Remembers each miner's last sample; a miner
/// it has not seen yet starts from its newest stored sample, so a quick restart loses nothing.
#[derive(Debug)]
pub(super) struct Integrator {
    last: HashMap<String, Last>,
    max_gap_s: f64,
}

impl Integrator {
    pub fn new() -> Integrator {
        Integrator {
            last: HashMap::new(),
            max_gap_s: DEFAULT_MAX_GAP.as_secs_f64(),
        }
    }

    pub fn set_max_gap(&mut self, gap: Duration) {
        self.max_gap_s = gap.as_secs_f64();
    }

    /// Integrate `samples` (in the order given) and add the result to the `energy` table. Must
    /// run before the samples themselves are inserted (the newest stored one is the previous).
    pub fn record(&mut self, tx: &Transaction<'_>, samples: &[Sample]) -> rusqlite::Result<()> {
        let mut pending = Pending::new();
        for s in samples {
            let now = Last {
                at: s.at.timestamp_micros() as f64 / 1e6,
                power: s.power,
                hashrate: s.hashrate,
            };
            let prev = match self.last.get(&s.miner) {
                Some(p) => Some(*p),
                None => newest_stored(tx, &s.miner)?,
            };
            if let Some(prev) = prev {
                if now.at <= prev.at {
                    self.last.insert(s.miner.clone(), prev);
                    continue;
                }
                if now.at - prev.at <= self.max_gap_s {
                    integrate(&mut pending, &s.miner, s.profile.name(), prev, now);
                }
            }
            self.last.insert(s.miner.clone(), now);
        }
        let mut stmt = tx.prepare_cached(
            "INSERT INTO energy (miner, slot, profile, joules, seconds, hashes)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (slot, miner, profile) DO UPDATE SET
                joules = joules + excluded.joules, seconds = seconds + excluded.seconds,
                hashes = hashes + excluded.hashes",
        )?;
        for ((miner, slot, profile), [j, sec, h]) in pending {
            stmt.execute(params![miner, slot, profile, j, sec, h])?;
        }
        Ok(())
    }
}

fn newest_stored(tx: &Transaction<'_>, miner: &str) -> rusqlite::Result<Option<Last>> {
    tx.query_row(
        "SELECT ts, power, hashrate FROM samples WHERE miner = ?1 ORDER BY ts DESC LIMIT 1",
        params![miner],
        |r| {
            Ok(Last {
                at: r.get::<_, i64>(0)? as f64,
                power: r.get(1)?,
                hashrate: r.get(2)?,
            })
        },
    )
    .optional()
}

/// Add the trapezoid from `a` to `b` to `pending`, split at slot boundaries.
fn integrate(pending: &mut Pending, miner: &str, profile: &str, a: Last, b: Last) {
    let span = b.at - a.at;
    let at = |t: f64, x0: f64, x1: f64| x0 + (x1 - x0) * (t - a.at) / span;
    let mut t0 = a.at;
    while t0 < b.at {
        let slot = (t0.floor() as i64).div_euclid(SLOT_S) * SLOT_S;
        let t1 = ((slot + SLOT_S) as f64).min(b.at);
        let dt = t1 - t0;
        let joules = (at(t0, a.power, b.power) + at(t1, a.power, b.power)) / 2.0 * dt;
        let hashes =
            (at(t0, a.hashrate, b.hashrate) + at(t1, a.hashrate, b.hashrate)) / 2.0 * dt * 1e9;
        let entry = pending
            .entry((miner.to_string(), slot, profile.to_string()))
            .or_insert([0.0; 3]);
        entry[0] += joules;
        entry[1] += dt;
        entry[2] += hashes;
        t0 = t1;
    }
}
