//! Time-axis ticks on round local times: every ten minutes across an hour, every three hours
//! across a day, each midnight across a week, each Monday across a month. Found by walking the
//! range in 5-minute steps (every zone's offset is a multiple of 15 minutes), so DST days keep
//! their ticks on the local clock's round values.

use chrono::{Datelike, NaiveDateTime, TimeZone, Timelike, Weekday};
use chrono_tz::Tz;

const STEP: i64 = 300;

/// Where the labels go (Unix seconds) and how they read (a chrono format for local time).
#[derive(Debug, Clone, PartialEq)]
pub struct Ticks {
    pub points: Vec<i64>,
    pub format: &'static str,
}

fn round(span: i64) -> (fn(&NaiveDateTime) -> bool, &'static str) {
    if span <= 3 * 3600 {
        (|t| t.minute() % 10 == 0, "%H:%M")
    } else if span <= 30 * 3600 {
        (|t| t.minute() == 0 && t.hour() % 3 == 0, "%H:%M")
    } else if span <= 8 * 86400 {
        (|t| t.minute() == 0 && t.hour() == 0, "%a %d")
    } else {
        (
            |t| t.minute() == 0 && t.hour() == 0 && t.weekday() == Weekday::Mon,
            "%b %d",
        )
    }
}

/// The ticks for `[from, to]` (Unix seconds) in `tz`.
pub fn ticks(from: i64, to: i64, tz: Tz) -> Ticks {
    let (is_round, format) = round(to - from);
    let mut points = Vec::new();
    let mut t = from.div_euclid(STEP) * STEP;
    if t < from {
        t += STEP;
    }
    while t <= to {
        if let Some(local) = tz.timestamp_opt(t, 0).single() {
            if local.second() == 0 && is_round(&local.naive_local()) {
                points.push(t);
            }
        }
        t += STEP;
    }
    Ticks { points, format }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};

    fn at(s: &str) -> i64 {
        s.parse::<DateTime<Utc>>().expect("time").timestamp()
    }

    fn labels(t: &Ticks, tz: Tz) -> Vec<String> {
        t.points
            .iter()
            .map(|p| {
                tz.timestamp_opt(*p, 0)
                    .unwrap()
                    .format(t.format)
                    .to_string()
            })
            .collect()
    }

    #[test]
    fn a_day_reads_on_three_hour_marks_not_where_the_range_starts() {
        let berlin: Tz = "Europe/Berlin".parse().expect("zone");
        let to = at("2026-11-25T18:17:00Z");
        let t = ticks(to - 86400, to, berlin);
        assert_eq!(
            labels(&t, berlin),
            ["21:00", "00:00", "03:00", "06:00", "09:00", "12:00", "15:00", "18:00"]
        );
    }

    #[test]
    fn an_hour_reads_every_ten_minutes_and_a_half_hour_zone_stays_round() {
        let kolkata: Tz = "Asia/Kolkata".parse().expect("zone");
        let to = at("2026-11-25T18:17:00Z"); // 23:47 local
        let t = ticks(to - 3600, to, kolkata);
        assert_eq!(
            labels(&t, kolkata),
            ["22:50", "23:00", "23:10", "23:20", "23:30", "23:40"]
        );
    }

    #[test]
    fn a_week_marks_local_midnights_across_a_dst_change() {
        let berlin: Tz = "Europe/Berlin".parse().expect("zone");
        // The week of 2026-10-25 (clocks go back at 03:00 local).
        let to = at("2026-10-28T12:00:00Z");
        let t = ticks(to - 7 * 86400, to, berlin);
        assert_eq!(
            labels(&t, berlin),
            ["Thu 22", "Fri 23", "Sat 24", "Sun 25", "Mon 26", "Tue 27", "Wed 28"]
        );
        assert!(t.points.windows(2).any(|w| w[1] - w[0] == 25 * 3600));
    }

    #[test]
    fn a_month_marks_mondays() {
        let t = ticks(
            at("2026-11-01T00:00:00Z"),
            at("2026-12-01T00:00:00Z"),
            Tz::UTC,
        );
        assert_eq!(
            labels(&t, Tz::UTC),
            ["Nov 02", "Nov 09", "Nov 16", "Nov 23", "Nov 30"]
        );
    }
}
