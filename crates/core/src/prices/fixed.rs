//! The fixed tariff: prices by local time window and weekday.
//!
//! Rule: each window becomes, for every local date on one of its `days`, one interval of instants
//! from `from` on that date to `to` on the same date (or the next one when `to` is at or before
//! `from`). A local time skipped by a spring-forward resolves to the first instant after the gap,
//! and a time repeated in autumn to its first occurrence, so boundaries are instants and a
//! repeated hour is priced once. At an instant, the first listed window whose interval holds it
//! gives the price; windows that cover the whole day make the tariff total.

use crate::schedule::local_instant;
use chrono::{DateTime, Datelike, Duration, Utc};
use chrono_tz::Tz;

use super::config::WindowConfig;
use super::series::Slot;
use crate::schedule::Day;

#[derive(Debug, Clone, PartialEq)]
pub struct FixedTariff {
    windows: Vec<WindowConfig>,
    tz: Tz,
}

/// One window's interval on one date.
#[derive(Debug, Clone, Copy)]
struct Span {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    window: usize,
}

impl FixedTariff {
    pub fn new(windows: Vec<WindowConfig>, tz: Tz) -> FixedTariff {
        FixedTariff { windows, tz }
    }

    pub fn is_empty(&self) -> bool {
        self.windows.is_empty()
    }

    /// Every window's intervals for local dates around `[from, to)`.
    fn spans(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Span> {
        let first = from.with_timezone(&self.tz).date_naive() - Duration::days(1);
        let last = to.with_timezone(&self.tz).date_naive() + Duration::days(1);
        let mut out = Vec::new();
        let mut date = first;
        while date <= last {
            for (i, w) in self.windows.iter().enumerate() {
                let day = Day(date.weekday());
                if w.days.as_ref().is_some_and(|d| !d.contains(&day)) {
                    continue;
                }
                let end_date = if w.to.0 <= w.from.0 {
                    date + Duration::days(1)
                } else {
                    date
                };
                if let (Some(start), Some(end)) = (
                    local_instant(self.tz, date, w.from.0),
                    local_instant(self.tz, end_date, w.to.0),
                ) {
                    if start < end && end > from && start < to {
                        out.push(Span {
                            start,
                            end,
                            window: i,
                        });
                    }
                }
            }
            date += Duration::days(1);
        }
        out
    }

    /// The indexes of every window whose interval holds `t` (one, when the windows tile the day).
    pub fn matching(&self, t: DateTime<Utc>) -> Vec<usize> {
        let mut out: Vec<usize> = self
            .spans(t, t + Duration::seconds(1))
            .into_iter()
            .filter(|s| s.start <= t && t < s.end)
            .map(|s| s.window)
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The price at `t`: the first listed window that holds it.
    pub fn price_at(&self, t: DateTime<Utc>) -> Option<f64> {
        self.matching(t)
            .first()
            .map(|&i| self.windows[i].price_per_kwh)
    }

    /// The fixed slots covering `[from, to)`, cut at every window boundary and at `from`/`to`;
    /// times no window covers have no slot.
    pub fn slots_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Slot> {
        if from >= to {
            return Vec::new();
        }
        let spans = self.spans(from, to);
        let mut cuts: Vec<DateTime<Utc>> = vec![from, to];
        for s in &spans {
            cuts.extend(
                [s.start, s.end]
                    .into_iter()
                    .filter(|c| *c > from && *c < to),
            );
        }
        cuts.sort();
        cuts.dedup();
        cuts.windows(2)
            .filter_map(|pair| {
                let (a, b) = (pair[0], pair[1]);
                spans
                    .iter()
                    .filter(|s| s.start <= a && a < s.end)
                    .min_by_key(|s| s.window)
                    .map(|s| Slot {
                        start: a,
                        end: b,
                        price: self.windows[s.window].price_per_kwh,
                    })
            })
            .collect()
    }

    /// The fixed slot holding `t`: from the boundary at or before it to the next one.
    pub fn slot_at(&self, t: DateTime<Utc>) -> Option<Slot> {
        let price = self.price_at(t)?;
        let spans = self.spans(t - Duration::days(2), t + Duration::days(2));
        let start = spans
            .iter()
            .flat_map(|s| [s.start, s.end])
            .filter(|c| *c <= t)
            .max()?;
        let end = spans
            .iter()
            .flat_map(|s| [s.start, s.end])
            .filter(|c| *c > t)
            .min()?;
        Some(Slot { start, end, price })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ClockTime;
    use chrono::{NaiveDate, NaiveTime, TimeZone, Timelike};
    use proptest::prelude::*;

    fn w(from: (u32, u32), to: (u32, u32), price: f64, days: Option<Vec<Day>>) -> WindowConfig {
        WindowConfig {
            from: ClockTime::hm(from.0, from.1),
            to: ClockTime::hm(to.0, to.1),
            price_per_kwh: price,
            days,
        }
    }

    fn berlin(s: &str) -> DateTime<Utc> {
        chrono_tz::Europe::Berlin
            .from_local_datetime(
                &chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M")
                    .expect("valid in this test"),
            )
            .earliest()
            .expect("valid in this test")
            .with_timezone(&Utc)
    }

    #[test]
    fn windows_cross_midnight_and_honour_days() {
        use chrono::Weekday::*;
        let t = FixedTariff::new(
            vec![
                w(
                    (7, 0),
                    (22, 0),
                    0.30,
                    Some([Mon, Tue, Wed, Thu, Fri].map(Day).to_vec()),
                ),
                w((22, 0), (7, 0), 0.20, None),
                w((0, 0), (0, 0), 0.25, None),
            ],
            chrono_tz::Europe::Berlin,
        );
        // 2026-11-25 is a Wednesday.
        assert_eq!(t.price_at(berlin("2026-11-25 12:00")), Some(0.30));
        assert_eq!(t.price_at(berlin("2026-11-25 23:30")), Some(0.20));
        assert_eq!(t.price_at(berlin("2026-11-26 06:59")), Some(0.20));
        // Saturday daytime: only the whole-day window.
        assert_eq!(t.price_at(berlin("2026-11-28 12:00")), Some(0.25));
        let slot = t
            .slot_at(berlin("2026-11-25 23:30"))
            .expect("valid in this test");
        assert_eq!(
            (slot.start, slot.end),
            (berlin("2026-11-25 22:00"), berlin("2026-11-26 00:00"))
        );
    }

    #[test]
    fn a_gap_has_no_price() {
        let t = FixedTariff::new(
            vec![w((7, 0), (8, 0), 0.3, None)],
            chrono_tz::Europe::Berlin,
        );
        assert_eq!(t.price_at(berlin("2026-11-25 09:00")), None);
        let slots = t.slots_between(berlin("2026-11-25 06:00"), berlin("2026-11-25 10:00"));
        assert_eq!(slots.len(), 1);
        assert_eq!(slots[0].start, berlin("2026-11-25 07:00"));
    }

    #[test]
    fn dst_days_are_priced_by_instants() {
        let t = FixedTariff::new(
            vec![w((2, 30), (6, 0), 0.1, None), w((6, 0), (2, 30), 0.4, None)],
            chrono_tz::Europe::Berlin,
        );
        // Spring: 02:30 does not exist; the cheap window starts at 03:00 CEST.
        let from = berlin("2026-03-29 00:00");
        let to = berlin("2026-03-29 12:00");
        let slots = t.slots_between(from, to);
        let cheap: Vec<_> = slots.iter().filter(|s| s.price == 0.1).collect();
        assert_eq!(cheap.len(), 1);
        assert_eq!(cheap[0].end - cheap[0].start, Duration::hours(3));
        // Autumn: 02:30 happens twice; the window starts at the first one and lasts 4.5 h.
        let slots = t.slots_between(berlin("2026-10-25 00:00"), berlin("2026-10-25 12:00"));
        let cheap: Vec<_> = slots.iter().filter(|s| s.price == 0.1).collect();
        assert_eq!(cheap[0].end - cheap[0].start, Duration::minutes(270));
        let total: i64 = slots.iter().map(|s| (s.end - s.start).num_minutes()).sum();
        assert_eq!(total, 13 * 60);
    }

    /// The wall-clock rule, minute by minute: is local time `t` inside window `w`?
    fn brute(w: &WindowConfig, tz: Tz, t: DateTime<Utc>) -> bool {
        let local = t.with_timezone(&tz);
        let (date, time) = (local.date_naive(), local.time());
        let on = |d: NaiveDate| {
            w.days
                .as_ref()
                .is_none_or(|ds| ds.contains(&Day(d.weekday())))
        };
        let (f, e) = (w.from.0, w.to.0);
        if f < e {
            on(date) && f <= time && time < e
        } else {
            (on(date) && time >= f) || (on(date - Duration::days(1)) && time < e)
        }
    }

    /// Times in an hour that repeats (autumn) count once, from the first occurrence; the
    /// wall-clock rule cannot tell the two apart, so those minutes are left out.
    fn ambiguous(tz: Tz, t: DateTime<Utc>) -> bool {
        let naive = t.with_timezone(&tz).naive_local();
        tz.from_local_datetime(&naive).single().is_none()
    }

    const ZONES: [Tz; 3] = [
        chrono_tz::Europe::Berlin,
        chrono_tz::Europe::London,
        chrono_tz::America::New_York,
    ];
    const WEEKS: [&str; 4] = ["2026-03-26", "2026-10-22", "2026-03-06", "2026-06-10"];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(12))]

        #[test]
        fn the_fixed_tariff_is_total_and_agrees_with_a_minute_walk(
            mut cuts in proptest::collection::btree_set(0u32..1440, 1..6),
            prices in proptest::collection::vec(-0.5f64..1.0, 6),
            zone in 0usize..3,
            week in 0usize..4,
            offset in 0i64..(24 * 60),
            extra_days in proptest::collection::vec(0usize..7, 0..4),
        ) {
            let tz = ZONES[zone];
            let cut: Vec<u32> = std::mem::take(&mut cuts).into_iter().collect();
            let mut windows: Vec<WindowConfig> = (0..cut.len())
                .map(|i| {
                    let (a, b) = (cut[i], cut[(i + 1) % cut.len()]);
                    w((a / 60, a % 60), (b / 60, b % 60), prices[i], None)
                })
                .collect();
            // A weekday-only window listed first shadows part of the day on its days.
            use chrono::Weekday::*;
            let all = [Mon, Tue, Wed, Thu, Fri, Sat, Sun].map(Day);
            if !extra_days.is_empty() {
                let days = extra_days.iter().map(|&d| all[d]).collect();
                windows.insert(0, w((9, 15), (17, 45), 9.0, Some(days)));
            }
            let t = FixedTariff::new(windows.clone(), tz);
            let start_date = NaiveDate::parse_from_str(WEEKS[week], "%Y-%m-%d").expect("valid in this test");
            let start = local_instant(tz, start_date, NaiveTime::MIN).expect("valid in this test") + Duration::minutes(offset);
            let slots = t.slots_between(start, start + Duration::days(7));
            // Total: the slots tile the week with no gap and no overlap.
            prop_assert_eq!(slots.first().map(|s| s.start), Some(start));
            prop_assert_eq!(slots.last().map(|s| s.end), Some(start + Duration::days(7)));
            for pair in slots.windows(2) {
                prop_assert_eq!(pair[0].end, pair[1].start);
            }
            let mut k = 0;
            for m in 0..(7 * 24 * 60) {
                let at = start + Duration::minutes(m);
                while slots[k].end <= at { k += 1; }
                let found = Some(slots[k].price);
                if m % 7 == 0 {
                    prop_assert_eq!(t.price_at(at), found);
                    // Exactly one of the tiling windows (index > 0 when a weekday window
                    // leads) holds every minute.
                    let tiling = t.matching(at).iter().filter(|&&i| extra_days.is_empty() || i > 0).count();
                    prop_assert_eq!(tiling, 1);
                }
                if !ambiguous(tz, at) {
                    let want = windows.iter().find(|w| brute(w, tz, at)).map(|w| w.price_per_kwh);
                    prop_assert_eq!(found, want, "at {} local {}", at, at.with_timezone(&tz).time().minute());
                }
            }
        }
    }
}
