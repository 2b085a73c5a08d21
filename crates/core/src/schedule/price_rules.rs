//! Price rules: which profile the price of the moment asks for.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{PriceRule, Reason};

/// One price slot.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PriceSlot {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// currency per kWh (may be negative)
    pub price: f64,
}

/// Where the resolver reads prices. Implemented by the prices module's merged view; tests use
/// a plain list of slots.
pub trait PriceLookup: Send + Sync {
    /// The slot containing `t`, if a price is known for it.
    fn slot_at(&self, t: DateTime<Utc>) -> Option<PriceSlot>;
    /// The known slots overlapping `[from, to)`, in time order.
    fn slots_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<PriceSlot>;
}

impl PriceLookup for Vec<PriceSlot> {
    fn slot_at(&self, t: DateTime<Utc>) -> Option<PriceSlot> {
        let i = self.partition_point(|s| s.end <= t);
        self.get(i).filter(|s| s.start <= t).copied()
    }
    fn slots_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<PriceSlot> {
        let i = self.partition_point(|s| s.end <= from);
        self[i..]
            .iter()
            .take_while(|s| s.start < to)
            .copied()
            .collect()
    }
}

/// Whether `slot` is among the `hours` cheapest hours of `day` (the known slots of one local
/// day). Slots are taken cheapest first (earlier first on a tie) until their time adds up.
pub(crate) fn among_cheapest(day: &[PriceSlot], slot: &PriceSlot, hours: f64) -> bool {
    let mut order: Vec<&PriceSlot> = day.iter().collect();
    order.sort_by(|a, b| a.price.total_cmp(&b.price).then(a.start.cmp(&b.start)));
    let mut left = hours * 3600.0;
    for s in order {
        if left <= 0.0 {
            return false;
        }
        if s.start == slot.start {
            return true;
        }
        left -= (s.end - s.start).num_seconds() as f64;
    }
    false
}

/// The first rule (of those for `group`) that the slot's price matches, with its reason.
/// `day` gives the local day's known slots for `cheapest_hours` rules.
pub(crate) fn first_match<'a>(
    rules: &'a [PriceRule],
    group: Option<&str>,
    slot: &PriceSlot,
    day: &mut dyn FnMut() -> Vec<PriceSlot>,
) -> Option<(&'a PriceRule, Reason)> {
    let mut above = None;
    let mut day_slots: Option<Vec<PriceSlot>> = None;
    for rule in rules {
        let for_me = match (&rule.groups, group) {
            (None, _) => true,
            (Some(gs), Some(g)) => gs.iter().any(|x| x == g),
            (Some(_), None) => false,
        };
        if !for_me {
            continue;
        }
        let price_ok = rule.max_price.is_none_or(|m| slot.price <= m);
        let cheap_ok = match rule.cheapest_hours {
            None => true,
            Some(h) => among_cheapest(day_slots.get_or_insert_with(&mut *day), slot, h),
        };
        if price_ok && cheap_ok {
            return Some((
                rule,
                Reason::Price {
                    price: slot.price,
                    at_most: rule.max_price,
                    above: if rule.max_price.is_none() {
                        above
                    } else {
                        None
                    },
                    cheapest_hours: rule.cheapest_hours,
                },
            ));
        }
        if rule.max_price.is_some() {
            above = rule.max_price;
        }
    }
    None
}
