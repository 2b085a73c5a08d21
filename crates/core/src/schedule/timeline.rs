//! The resolver: the profile at an instant for one scope (the global plan, or one group), and a
//! timeline of segments built from the instants where something may change (period starts and
//! ends, local midnights, price slot bounds), so that a week for a thousand miners costs one
//! evaluation per boundary per group, not per miner per minute.

use std::borrow::Cow;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::price_rules::{first_match, PriceLookup, PriceSlot};
use super::{local_instant, seed_plan, Exception, Period, PlanConfig, Profile, Reason};
use crate::config::Config;

/// One stretch of time with one profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Segment {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub profile: Profile,
    pub reason: Reason,
}

/// How far ahead `next_change` looks.
const HORIZON_DAYS: i64 = 8;

pub(crate) struct Scope<'a> {
    cfg: &'a Config,
    tz: Tz,
    /// The group, when its plan is the one in force (for the reason).
    group: Option<&'a str>,
    /// The miner's group (for price rules scoped to groups).
    member_of: Option<&'a str>,
    plan: Cow<'a, PlanConfig>,
    /// The group plan's exceptions first, then the global plan's.
    exceptions: Vec<&'a Exception>,
    prices: Option<&'a dyn PriceLookup>,
}

impl<'a> Scope<'a> {
    pub(crate) fn new(
        cfg: &'a Config,
        tz: Tz,
        group: Option<&'a str>,
        prices: Option<&'a dyn PriceLookup>,
    ) -> Scope<'a> {
        let group_plan = group
            .and_then(|g| cfg.groups.get(g))
            .and_then(|g| g.plan.as_ref());
        let plan = match (group_plan, &cfg.plan) {
            (Some(p), _) | (None, Some(p)) => Cow::Borrowed(p),
            (None, None) => Cow::Owned(seed_plan(cfg)),
        };
        let exceptions = group_plan
            .into_iter()
            .chain(cfg.plan.as_ref())
            .flat_map(|p| p.exceptions.iter())
            .collect();
        Scope {
            cfg,
            tz,
            group: group_plan.and(group),
            member_of: group,
            plan,
            exceptions,
            prices,
        }
    }

    fn date_of(&self, t: DateTime<Utc>) -> NaiveDate {
        t.with_timezone(&self.tz).date_naive()
    }

    fn midnight(&self, d: NaiveDate) -> Option<DateTime<Utc>> {
        local_instant(self.tz, d, NaiveTime::MIN)
    }

    /// The instants a period started on `d` covers; `last` stops a period past midnight at the
    /// end of that date (exceptions).
    fn span(
        &self,
        p: &Period,
        d: NaiveDate,
        last: Option<NaiveDate>,
    ) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let start = local_instant(self.tz, d, p.from.0)?;
        let end_date = if p.to <= p.from { d.succ_opt()? } else { d };
        let end = if last.is_some_and(|l| end_date > l) {
            self.midnight(end_date)?
        } else {
            local_instant(self.tz, end_date, p.to.0)?
        };
        Some((start, end))
    }

    /// The last of `periods` (in list order) covering `t`, looking at periods started on the
    /// local date of `t` and the day before.
    fn period_at<'p>(
        &self,
        periods: &'p [Period],
        t: DateTime<Utc>,
        weekly: bool,
        last: Option<NaiveDate>,
        first: Option<NaiveDate>,
    ) -> Option<&'p Period> {
        let today = self.date_of(t);
        let days = [today.pred_opt(), Some(today)];
        periods.iter().rev().find(|p| {
            days.iter().flatten().any(|&d| {
                (!weekly || p.on(d.weekday()))
                    && first.is_none_or(|f| d >= f)
                    && self.span(p, d, last).is_some_and(|(s, e)| s <= t && t < e)
            })
        })
    }

    /// The profile at `t` and why.
    pub(crate) fn at(&self, t: DateTime<Utc>) -> (Profile, Reason) {
        let today = self.date_of(t);
        if let Some(x) = self.exceptions.iter().find(|x| x.covers(today)) {
            let (first, last) = x.dates().unwrap_or((today, today));
            let profile = self
                .period_at(&x.periods, t, false, Some(last), Some(first))
                .map_or(x.profile.as_str(), |p| p.profile.as_str());
            return (Profile::new(profile), Reason::Exception { name: x.label() });
        }
        if let Some(found) = self.price_rule_at(t) {
            return found;
        }
        let profile = self
            .period_at(&self.plan.week, t, true, None, None)
            .map_or(self.plan.default.as_str(), |p| p.profile.as_str());
        (
            Profile::new(profile),
            Reason::Plan {
                group: self.group.map(str::to_string),
            },
        )
    }

    fn price_rule_at(&self, t: DateTime<Utc>) -> Option<(Profile, Reason)> {
        if self.cfg.price_rules.is_empty() {
            return None;
        }
        let prices = self.prices?;
        let slot = prices.slot_at(t)?;
        let today = self.date_of(t);
        let mut day = || -> Vec<PriceSlot> {
            match (
                self.midnight(today),
                today.succ_opt().and_then(|d| self.midnight(d)),
            ) {
                (Some(a), Some(b)) => prices.slots_between(a, b),
                _ => Vec::new(),
            }
        };
        first_match(&self.cfg.price_rules, self.member_of, &slot, &mut day)
            .map(|(rule, reason)| (Profile::new(&rule.profile), reason))
    }

    /// Every instant in `[from, to)` where the profile may change, sorted, `from` first.
    fn boundaries(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<DateTime<Utc>> {
        let mut out = vec![from];
        let (Some(first), Some(last)) =
            (self.date_of(from).pred_opt(), self.date_of(to).succ_opt())
        else {
            return out;
        };
        let mut d = first;
        while d <= last {
            out.extend(self.midnight(d));
            for p in &self.plan.week {
                if let Some((s, e)) = self.span(p, d, None) {
                    out.extend([s, e]);
                }
            }
            for x in &self.exceptions {
                if x.covers(d) {
                    let last = x.dates().map(|(_, l)| l);
                    for p in &x.periods {
                        if let Some((s, e)) = self.span(p, d, last) {
                            out.extend([s, e]);
                        }
                    }
                }
            }
            match d.succ_opt() {
                Some(n) => d = n,
                None => break,
            }
        }
        if let (Some(prices), false) = (self.prices, self.cfg.price_rules.is_empty()) {
            for s in prices.slots_between(from, to) {
                out.extend([s.start, s.end]);
            }
        }
        out.retain(|t| *t >= from && *t < to);
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The segments of `[from, to)`, neighbours with the same profile and reason merged.
    pub(crate) fn segments(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Segment> {
        let cuts = self.boundaries(from, to);
        let mut out: Vec<Segment> = Vec::new();
        for (i, &start) in cuts.iter().enumerate() {
            let end = cuts.get(i + 1).copied().unwrap_or(to);
            let (profile, reason) = self.at(start);
            match out.last_mut() {
                Some(last) if last.profile == profile && last.reason == reason => last.end = end,
                _ => out.push(Segment {
                    start,
                    end,
                    profile,
                    reason,
                }),
            }
        }
        out
    }

    /// The first instant after `now` (within eight days) at which the profile is no longer
    /// `current`.
    pub(crate) fn next_change(
        &self,
        now: DateTime<Utc>,
        current: &Profile,
    ) -> Option<DateTime<Utc>> {
        let to = now + Duration::days(HORIZON_DAYS);
        self.boundaries(now, to)
            .into_iter()
            .skip(1)
            .find(|&t| self.at(t).0 != *current)
    }
}

/// The segments `[from, to)` for the miners of `group` (`None`: miners in no group).
pub fn timeline(
    cfg: &Config,
    tz: Tz,
    group: Option<&str>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    prices: Option<&dyn PriceLookup>,
) -> Vec<Segment> {
    Scope::new(cfg, tz, group, prices).segments(from, to)
}
