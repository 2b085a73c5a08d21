//! The profile bands behind a chart: which profile ran when, one faint colour per profile (day
//! warm, night cool, the presets and Off in their own tints). The bands come from the schedule
//! over the whole range (so they show where there is no data yet), or, when the caller has no
//! schedule, from the profiles the history points carry.

use chrono::{DateTime, Duration, Utc};
use plotters::style::RGBColor;

use crate::history::Point;

/// A stretch of time under one profile: Unix seconds, `to` exclusive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Band {
    pub from: i64,
    pub to: i64,
    pub profile: String,
}

/// The bands over `[from, to)`, from `profile_at` (`None`: no single profile then, e.g. miners
/// on different plans; no band). Sampled every minute up to two days, every five minutes
/// beyond; an edge between samples is then found to the minute.
pub fn bands_from(
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    profile_at: impl Fn(DateTime<Utc>) -> Option<String>,
) -> Vec<Band> {
    let step = if to - from <= Duration::days(2) {
        Duration::minutes(1)
    } else {
        Duration::minutes(5)
    };
    // Each change: when, and the profile from then on.
    let mut changes: Vec<(DateTime<Utc>, Option<String>)> = vec![(from, profile_at(from))];
    let mut t = from;
    while t < to {
        let next = (t + step).min(to);
        let p = profile_at(next);
        let current = changes.last().and_then(|c| c.1.clone());
        if p != current {
            // The change lies in (t, next]: find its minute.
            let (mut lo, mut hi) = (t, next);
            while hi - lo > Duration::minutes(1) {
                let mid = lo + (hi - lo) / 2;
                if profile_at(mid) == current {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            // Profiles change on whole minutes: snap to the minute when that is where it changed.
            let minute = hi - Duration::seconds(hi.timestamp().rem_euclid(60));
            if minute > lo && profile_at(minute) != current {
                hi = minute;
            }
            changes.push((hi, p));
        }
        t = next;
    }
    changes
        .iter()
        .enumerate()
        .filter_map(|(i, (start, p))| {
            let end = changes.get(i + 1).map(|c| c.0).unwrap_or(to);
            let profile = p.clone()?;
            (end > *start).then(|| Band {
                from: start.timestamp(),
                to: end.timestamp(),
                profile,
            })
        })
        .collect()
}

/// Bands from the profiles recorded with the points (each point's bucket up to the next one).
pub fn from_points(points: &[Point]) -> Vec<Band> {
    let mut by_time: std::collections::BTreeMap<i64, &str> = std::collections::BTreeMap::new();
    for p in points {
        by_time.entry(p.at).or_insert(p.profile.as_str());
    }
    let times: Vec<(i64, &str)> = by_time.into_iter().collect();
    let mut out: Vec<Band> = Vec::new();
    for (i, (at, profile)) in times.iter().enumerate() {
        let end = times.get(i + 1).map(|(t, _)| *t).unwrap_or(*at + 1);
        match out.last_mut() {
            Some(last) if last.profile == *profile && last.to >= *at => last.to = end,
            _ => out.push(Band {
                from: *at,
                to: end,
                profile: (*profile).to_string(),
            }),
        }
    }
    out
}

/// The band colour of a profile: faint on the light surface, deep on the dark one.
pub fn band_colour(profile: &str, dark: bool) -> RGBColor {
    let (light, deep) = match profile {
        "day" => ((0xFF, 0xF1, 0xDC), (0x5A, 0x45, 0x20)),
        "night" => ((0xE3, 0xEC, 0xFA), (0x20, 0x30, 0x50)),
        "quiet" => ((0xE4, 0xF4, 0xE8), (0x1E, 0x40, 0x2A)),
        "efficiency" => ((0xDD, 0xF3, 0xF3), (0x17, 0x40, 0x42)),
        "performance" => ((0xFD, 0xE3, 0xD8), (0x5C, 0x2A, 0x1A)),
        "off" | "safe" => ((0xEC, 0xEC, 0xEC), (0x38, 0x38, 0x38)),
        other => {
            // A user's own profile: a stable faint tint from its name.
            let h = other
                .bytes()
                .fold(7u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
            let c = |k: u32| 0xE0 + ((h >> k) % 0x18) as u8;
            let d = |k: u32| 0x28 + ((h >> k) % 0x20) as u8;
            ((c(0), c(5), c(10)), (d(0), d(5), d(10)))
        }
    };
    let (r, g, b) = if dark { deep } else { light };
    RGBColor(r, g, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().expect("time")
    }

    #[test]
    fn bands_follow_the_schedule_to_the_minute_over_the_whole_range() {
        // Day from 07:30 to 20:00 UTC, night otherwise.
        let profile = |t: DateTime<Utc>| {
            let m = (t.timestamp().rem_euclid(86400)) / 60;
            Some(
                if (450..1200).contains(&m) {
                    "day"
                } else {
                    "night"
                }
                .to_string(),
            )
        };
        let (from, to) = (at("2026-11-24T18:17:00Z"), at("2026-11-25T18:17:00Z"));
        let b = bands_from(from, to, profile);
        let spans: Vec<(String, i64, i64)> = b
            .iter()
            .map(|b| (b.profile.clone(), b.from, b.to))
            .collect();
        assert_eq!(
            spans,
            [
                (
                    "day".into(),
                    from.timestamp(),
                    at("2026-11-24T20:00:00Z").timestamp()
                ),
                (
                    "night".into(),
                    at("2026-11-24T20:00:00Z").timestamp(),
                    at("2026-11-25T07:30:00Z").timestamp()
                ),
                (
                    "day".into(),
                    at("2026-11-25T07:30:00Z").timestamp(),
                    to.timestamp()
                ),
            ]
        );
        // A week, sampled every five minutes: edges still on the minute.
        let week = bands_from(to - Duration::days(7), to, profile);
        assert_eq!(week.len(), 15);
        assert!(week
            .iter()
            .skip(1)
            .all(|b| b.from % 60 == 0 && [450, 1200].contains(&(b.from.rem_euclid(86400) / 60))));
    }

    #[test]
    fn no_single_profile_means_no_band() {
        let from = at("2026-11-25T00:00:00Z");
        let b = bands_from(from, from + Duration::hours(3), |t| {
            (t < from + Duration::hours(1) || t >= from + Duration::hours(2)).then(|| "off".into())
        });
        assert_eq!(b.len(), 2);
        assert_eq!(b[0].to, (from + Duration::hours(1)).timestamp());
        assert_eq!(b[1].from, (from + Duration::hours(2)).timestamp());
    }

    #[test]
    fn every_profile_has_its_own_tint() {
        let names = [
            "day",
            "night",
            "quiet",
            "efficiency",
            "performance",
            "off",
            "bedroom",
        ];
        for dark in [false, true] {
            let c: std::collections::HashSet<(u8, u8, u8)> = names
                .iter()
                .map(|n| band_colour(n, dark))
                .map(|c| (c.0, c.1, c.2))
                .collect();
            assert_eq!(c.len(), names.len());
        }
        assert_eq!(band_colour("bedroom", false), band_colour("bedroom", false));
    }
}
