use super::*;
use crate::config::{ClockTime, ProfileOverride};
use chrono::NaiveDateTime;
use rstest::rstest;

/// The seed's question: which profile at `t` (global plan, no prices).
fn profile_at(c: &Config, tz: Tz, t: DateTime<Utc>) -> Profile {
    timeline::Scope::new(c, tz, None, None).at(t).0
}

fn settings_for(c: &Config, m: &MinerConfig, p: Profile) -> Settings {
    Target::of(c, m, p).settings
}

fn cfg(day: (u32, u32), end: (u32, u32)) -> Config {
    let mut c = Config::default();
    c.global_day_settings.start_time = ClockTime::hm(day.0, day.1);
    c.global_day_settings.end_time = ClockTime::hm(end.0, end.1);
    c.global_night_settings.start_time = ClockTime::hm(end.0, end.1);
    c.global_night_settings.end_time = ClockTime::hm(day.0, day.1);
    c
}

fn utc(s: &str) -> DateTime<Utc> {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M")
        .expect("time")
        .and_utc()
}

pub(super) fn local(tz: Tz, s: &str) -> DateTime<Utc> {
    let naive = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").expect("time");
    tz.from_local_datetime(&naive)
        .earliest()
        .expect("exists")
        .with_timezone(&Utc)
}

#[rstest]
#[case((7, 30), (20, 0), "2026-06-01 07:29", Profile::night())]
#[case((7, 30), (20, 0), "2026-06-01 07:30", Profile::day())]
#[case((7, 30), (20, 0), "2026-06-01 19:59", Profile::day())]
#[case((7, 30), (20, 0), "2026-06-01 20:00", Profile::night())]
#[case((7, 30), (20, 0), "2026-06-01 00:00", Profile::night())]
// A day window that crosses midnight (night shift households).
#[case((22, 0), (6, 0), "2026-06-01 23:30", Profile::day())]
#[case((22, 0), (6, 0), "2026-06-02 05:59", Profile::day())]
#[case((22, 0), (6, 0), "2026-06-02 06:00", Profile::night())]
#[case((22, 0), (6, 0), "2026-06-01 12:00", Profile::night())]
#[case((8, 0), (8, 0), "2026-06-01 12:00", Profile::night())]
fn profile_in_utc(
    #[case] day: (u32, u32),
    #[case] end: (u32, u32),
    #[case] at: &str,
    #[case] expected: Profile,
) {
    assert_eq!(profile_at(&cfg(day, end), Tz::UTC, utc(at)), expected);
}

#[test]
fn partial_overrides_inherit_the_rest() {
    let c = Config::default();
    let mut m = MinerConfig {
        profiles: Default::default(),
        name: "a".into(),
        ip: "http://127.0.0.1".into(),
        enabled: true,
        day_settings: None,
        night_settings: Some(ProfileOverride {
            voltage: Some(1180),
            frequency: None,
        }),
        limits: None,
    };
    let night = settings_for(&c, &m, Profile::night());
    assert_eq!(
        night,
        Settings::new(1180, c.global_night_settings.frequency)
    );
    assert_eq!(
        settings_for(&c, &m, Profile::day()),
        Settings::new(
            c.global_day_settings.voltage,
            c.global_day_settings.frequency
        )
    );
    m.day_settings = Some(ProfileOverride {
        voltage: None,
        frequency: Some(400.0),
    });
    assert_eq!(settings_for(&c, &m, Profile::day()).frequency, 400.0);
}

#[rstest]
#[case(chrono_tz::Europe::Berlin, "2026-03-29 02:30", "2026-03-29 01:00")]
#[case(chrono_tz::America::New_York, "2026-03-08 02:30", "2026-03-08 07:00")]
fn spring_forward_skipped_start_takes_effect_after_the_gap(
    #[case] tz: Tz,
    #[case] _skipped: &str,
    #[case] expected_utc: &str,
) {
    // Day starts at 02:30 local, a time that does not exist on this date.
    let c = cfg((2, 30), (20, 0));
    let before = utc(expected_utc) - Duration::minutes(30);
    assert_eq!(profile_at(&c, tz, before), Profile::night());
    let (at, p) = next_change(&c, tz, before).expect("a change");
    assert_eq!(
        (at, p),
        (utc(expected_utc), Profile::day()),
        "03:00 local, the first instant after the gap"
    );
    assert_eq!(profile_at(&c, tz, at), Profile::day());
}

#[rstest]
#[case(chrono_tz::Europe::Berlin, "2026-10-25 00:30")]
#[case(chrono_tz::America::New_York, "2026-11-01 05:30")]
fn fall_back_repeated_end_counts_once(#[case] tz: Tz, #[case] first_utc: &str) {
    // Day runs 22:00 -> 01:30 (Berlin: 02:30) local; that end time happens twice tonight.
    let end = if tz == chrono_tz::Europe::Berlin {
        (2, 30)
    } else {
        (1, 30)
    };
    let c = cfg((22, 0), end);
    let first = utc(first_utc);
    assert_eq!(
        profile_at(&c, tz, first - Duration::minutes(1)),
        Profile::day()
    );
    assert_eq!(profile_at(&c, tz, first), Profile::night());
    // An hour later the wall clock shows the same time again; night must continue.
    for minutes in [1, 30, 59, 60, 61, 90] {
        assert_eq!(
            profile_at(&c, tz, first + Duration::minutes(minutes)),
            Profile::night(),
            "+{minutes} min"
        );
    }
    let (next, p) = next_change(&c, tz, first).expect("next");
    assert_eq!(p, Profile::day());
    assert_eq!(
        next.with_timezone(&tz).time(),
        NaiveTime::from_hms_opt(22, 0, 0).expect("t")
    );
}

#[rstest]
#[case(chrono_tz::Europe::Berlin, "2026-03-28 12:00")]
#[case(chrono_tz::America::New_York, "2026-10-31 12:00")]
fn next_change_across_dst_days(#[case] tz: Tz, #[case] local_noon: &str) {
    let c = cfg((7, 30), (20, 0));
    let now = local(tz, local_noon);
    let (evening, p) = next_change(&c, tz, now).expect("evening");
    assert_eq!(p, Profile::night());
    assert_eq!(
        evening.with_timezone(&tz).time(),
        NaiveTime::from_hms_opt(20, 0, 0).expect("t")
    );
    let (morning, p) = next_change(&c, tz, evening).expect("morning");
    assert_eq!(p, Profile::day());
    assert_eq!(
        morning.with_timezone(&tz).time(),
        NaiveTime::from_hms_opt(7, 30, 0).expect("t")
    );
    // The night across the DST change is an hour shorter (spring) or longer (autumn) in real time.
    let hours = (morning - evening).num_minutes();
    assert!(
        hours == 11 * 60 + 30 - 60 || hours == 11 * 60 + 30 + 60,
        "{hours} min"
    );
}

#[test]
fn gaps_and_overlaps_are_reported() {
    let mut c = Config::default();
    assert!(window_warnings(&c).is_empty());
    c.global_night_settings.start_time = ClockTime::hm(22, 0);
    let w = window_warnings(&c);
    assert_eq!(w.len(), 1);
    assert!(w[0].contains("between 20:00 and 22:00"), "{w:?}");
    c.global_night_settings.start_time = ClockTime::hm(18, 0);
    assert!(window_warnings(&c)[0].contains("inside the day window"));
    // Gap runs night.
    let mut g = Config::default();
    g.global_night_settings.start_time = ClockTime::hm(22, 0);
    assert_eq!(
        profile_at(&g, Tz::UTC, utc("2026-06-01 21:00")),
        Profile::night()
    );
}
