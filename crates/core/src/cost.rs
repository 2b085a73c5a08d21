//! Energy and cost: kWh and money per miner and for the fleet, per local day, per month and per
//! profile, from the measured energy in the history ([`crate::history::EnergyRow`], one row per
//! miner, 15-minute slot and profile) and the price of each slot.
//!
//! - The price of a slot is `price(slot start)`, in currency per kWh; hourly or half-hourly prices
//!   therefore apply to each quarter hour inside them. Negative prices make negative money.
//! - A slot without a price counts its energy (`kwh`) but no money: it is reported as
//!   `unpriced_kwh`, and `cost` is `None` where no energy at all had a price.
//! - Days and months are local (the zone given), so a DST day has 23 or 25 hours.
//! - Revenue-free efficiency: `j_per_th` is measured joules per terahash; `cost_per_th_day` is the
//!   money paid per TH-day (1 TH/s for 24 h = 86 400 TH), over the priced slots only.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::history::{EnergyRef, EnergyRow, History, HistoryError, SLOT_S};

mod price_source;

pub use price_source::{price_source, price_view, PriceSource};

/// Hashes in one TH-day.
const HASHES_PER_TH_DAY: f64 = 1e12 * 86_400.0;
const J_PER_KWH: f64 = 3.6e6;

/// Energy, money and efficiency of one group of slots.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename = "CostTotals"))]
pub struct Totals {
    /// Measured energy, kWh (priced or not).
    pub kwh: f64,
    /// The part of `kwh` in slots without a price.
    pub unpriced_kwh: f64,
    /// Money for the priced part, in the tariff's currency; `None` when nothing had a price.
    pub cost: Option<f64>,
    /// Hours covered by measurements.
    pub hours: f64,
    /// Work done, TH-days (1 TH/s for a day).
    pub th_days: f64,
    /// Measured J/TH; `None` without hashes.
    pub j_per_th: Option<f64>,
    /// Money per TH-day over the priced slots; `None` without a price or without hashes.
    pub cost_per_th_day: Option<f64>,
}

/// One miner's (or the fleet's) totals, broken down.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Breakdown {
    pub total: Totals,
    /// Per local day.
    pub days: BTreeMap<NaiveDate, Totals>,
    /// Per local month, `YYYY-MM`.
    pub months: BTreeMap<String, Totals>,
    /// Per profile name: which profile pays.
    pub profiles: BTreeMap<String, Totals>,
}

/// What a period cost, per miner and for the fleet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CostReport {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// The zone days and months are counted in.
    pub timezone: String,
    pub fleet: Breakdown,
    pub miners: BTreeMap<String, Breakdown>,
}

/// Energy and cost of the slots that start in `[from, to)`. `price(t)` is the price per kWh at
/// `t` (`None`: unknown); it is asked once per slot.
pub fn report(
    history: &History,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    price: &dyn Fn(DateTime<Utc>) -> Option<f64>,
    tz: Tz,
) -> Result<CostReport, HistoryError> {
    let mut acc = Accumulator::new(price, tz, from, to);
    history.for_each_energy(from, to, |row| acc.add(&row))?;
    Ok(acc.finish(from, to, tz))
}

/// Same as [`report`] over rows already read (ordered by slot).
pub fn report_rows(
    rows: &[EnergyRow],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    price: &dyn Fn(DateTime<Utc>) -> Option<f64>,
    tz: Tz,
) -> CostReport {
    let mut acc = Accumulator::new(price, tz, from, to);
    for row in rows {
        acc.add(&row.as_ref());
    }
    acc.finish(from, to, tz)
}

/// The UTC instant a local day starts (the first instant of that date in `tz`, also when
/// midnight itself is skipped by a DST change).
pub fn local_day_start(tz: Tz, date: NaiveDate) -> DateTime<Utc> {
    let mut t = date.and_time(chrono::NaiveTime::MIN);
    for _ in 0..48 {
        if let Some(at) = tz.from_local_datetime(&t).earliest() {
            return at.with_timezone(&Utc);
        }
        t += chrono::Duration::minutes(30);
    }
    Utc.from_utc_datetime(&date.and_time(chrono::NaiveTime::MIN))
}

/// Running sums.
#[derive(Debug, Clone, Copy, Default)]
struct Sums {
    joules: f64,
    seconds: f64,
    hashes: f64,
    priced_joules: f64,
    priced_hashes: f64,
    money: f64,
}

impl Sums {
    fn add(&mut self, row: &EnergyRef<'_>, price: Option<f64>) {
        self.joules += row.joules;
        self.seconds += row.seconds;
        self.hashes += row.hashes;
        if let Some(p) = price {
            self.priced_joules += row.joules;
            self.priced_hashes += row.hashes;
            self.money += row.joules / J_PER_KWH * p;
        }
    }

    fn totals(&self, priced: bool) -> Totals {
        let kwh = self.joules / J_PER_KWH;
        let priced_kwh = self.priced_joules / J_PER_KWH;
        let cost = priced.then_some(self.money);
        Totals {
            kwh,
            unpriced_kwh: (kwh - priced_kwh).max(0.0),
            cost,
            hours: self.seconds / 3600.0,
            th_days: self.hashes / HASHES_PER_TH_DAY,
            j_per_th: (self.hashes > 0.0).then(|| self.joules / (self.hashes / 1e12)),
            cost_per_th_day: cost
                .filter(|_| self.priced_hashes > 0.0)
                .map(|m| m / (self.priced_hashes / HASHES_PER_TH_DAY)),
        }
    }
}

/// Sums plus whether any slot in them had a price.
#[derive(Debug, Clone, Copy, Default)]
struct Group {
    sums: Sums,
    priced: bool,
}

impl Group {
    fn add(&mut self, row: &EnergyRef<'_>, price: Option<f64>) {
        self.sums.add(row, price);
        self.priced |= price.is_some();
    }

    fn totals(&self) -> Totals {
        self.sums.totals(self.priced)
    }

    fn merge(&mut self, other: &Group) {
        let (a, b) = (&mut self.sums, &other.sums);
        a.joules += b.joules;
        a.seconds += b.seconds;
        a.hashes += b.hashes;
        a.priced_joules += b.priced_joules;
        a.priced_hashes += b.priced_hashes;
        a.money += b.money;
        self.priced |= other.priced;
    }
}

/// Days and months mostly arrive in ascending order (rows are ordered by slot), so a new key is
/// appended and merged at the end.
#[derive(Debug, Default)]
struct Builder {
    total: Group,
    days: Vec<(NaiveDate, Group)>,
    months: Vec<((i32, u32), Group)>,
    profiles: Vec<(String, Group)>,
}

impl Builder {
    fn add(&mut self, row: &EnergyRef<'_>, slot: &SlotInfo) {
        self.total.add(row, slot.price);
        match self.days.last_mut() {
            Some((d, g)) if *d == slot.day => g.add(row, slot.price),
            _ => {
                let mut g = Group::default();
                g.add(row, slot.price);
                self.days.push((slot.day, g));
            }
        }
        let month = (slot.day.year(), slot.day.month());
        match self.months.last_mut() {
            Some((m, g)) if *m == month => g.add(row, slot.price),
            _ => {
                let mut g = Group::default();
                g.add(row, slot.price);
                self.months.push((month, g));
            }
        }
        match self.profiles.iter_mut().find(|(p, _)| *p == row.profile) {
            Some((_, g)) => g.add(row, slot.price),
            None => {
                let mut g = Group::default();
                g.add(row, slot.price);
                self.profiles.push((row.profile.to_string(), g));
            }
        }
    }

    fn finish(self) -> Breakdown {
        // Rows out of slot order may have made a key twice: merge before converting.
        let mut days: BTreeMap<NaiveDate, Group> = BTreeMap::new();
        for (d, g) in &self.days {
            days.entry(*d).or_default().merge(g);
        }
        let mut months: BTreeMap<String, Group> = BTreeMap::new();
        for ((y, m), g) in &self.months {
            months.entry(format!("{y:04}-{m:02}")).or_default().merge(g);
        }
        Breakdown {
            total: self.total.totals(),
            days: days.into_iter().map(|(k, g)| (k, g.totals())).collect(),
            months: months.into_iter().map(|(k, g)| (k, g.totals())).collect(),
            profiles: self
                .profiles
                .iter()
                .map(|(p, g)| (p.clone(), g.totals()))
                .collect(),
        }
    }
}

/// What every row of one slot shares.
#[derive(Debug, Clone, Copy)]
struct SlotInfo {
    slot: i64,
    price: Option<f64>,
    day: NaiveDate,
}

struct Accumulator<'a> {
    price: &'a dyn Fn(DateTime<Utc>) -> Option<f64>,
    tz: Tz,
    /// Price and local day per slot of the range, filled as slots come.
    first_slot: i64,
    slots: Vec<Option<SlotInfo>>,
    fleet: Builder,
    index: HashMap<String, usize>,
    miners: Vec<(String, Builder)>,
}

impl<'a> Accumulator<'a> {
    fn new(
        price: &'a dyn Fn(DateTime<Utc>) -> Option<f64>,
        tz: Tz,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Accumulator<'a> {
        let first_slot = from.timestamp().div_euclid(SLOT_S) * SLOT_S;
        let n = (to.timestamp() - first_slot).div_euclid(SLOT_S) + 1;
        Accumulator {
            price,
            tz,
            first_slot,
            slots: vec![None; usize::try_from(n.clamp(0, 1 << 17)).unwrap_or(0)],
            fleet: Builder::default(),
            index: HashMap::new(),
            miners: Vec::new(),
        }
    }

    fn slot(&mut self, slot: i64) -> SlotInfo {
        let i = usize::try_from((slot - self.first_slot).div_euclid(SLOT_S)).ok();
        if let Some(info) = i.and_then(|i| self.slots.get(i)).copied().flatten() {
            if info.slot == slot {
                return info;
            }
        }
        let at = DateTime::from_timestamp(slot, 0).unwrap_or_default();
        let info = SlotInfo {
            slot,
            price: (self.price)(at).filter(|p| p.is_finite()),
            day: at.with_timezone(&self.tz).date_naive(),
        };
        if let Some(cell) = i.and_then(|i| self.slots.get_mut(i)) {
            *cell = Some(info);
        }
        info
    }

    fn add(&mut self, row: &EnergyRef<'_>) {
        let info = self.slot(row.slot);
        self.fleet.add(row, &info);
        let i = match self.index.get(row.miner) {
            Some(i) => *i,
            None => {
                self.miners
                    .push((row.miner.to_string(), Builder::default()));
                self.index
                    .insert(row.miner.to_string(), self.miners.len() - 1);
                self.miners.len() - 1
            }
        };
        self.miners[i].1.add(row, &info);
    }

    fn finish(self, from: DateTime<Utc>, to: DateTime<Utc>, tz: Tz) -> CostReport {
        CostReport {
            from,
            to,
            timezone: tz.name().to_string(),
            fleet: self.fleet.finish(),
            miners: self
                .miners
                .into_iter()
                .map(|(m, b)| (m, b.finish()))
                .collect(),
        }
    }
}
