//! The weekly plan, exceptions, groups and price rules: tables for the documented rules, and a
//! property that the timeline agrees with a brute-force minute-by-minute reference.

use chrono::{Datelike, NaiveDate, NaiveTime, Weekday};
use chrono_tz::Tz;
use proptest::prelude::*;
use rstest::rstest;

use super::tests::local;
use super::*;
use crate::config::{ClockTime, ProfileOverride};

fn period(days: Option<&[Weekday]>, from: (u32, u32), to: (u32, u32), profile: &str) -> Period {
    Period {
        days: days.map(|d| d.iter().map(|&w| Day(w)).collect()),
        from: ClockTime::hm(from.0, from.1),
        to: ClockTime::hm(to.0, to.1),
        profile: profile.into(),
    }
}

fn miner(name: &str) -> MinerConfig {
    MinerConfig {
        profiles: Default::default(),
        name: name.into(),
        ip: "http://127.0.0.1:1".into(),
        enabled: true,
        day_settings: None,
        night_settings: None,
        limits: None,
    }
}

/// Quiet by day on weekdays, Performance at night and on weekend mornings, Off in the evening
/// peak; a bedroom group with its own plan.
fn household() -> Config {
    use Weekday::*;
    let mut c = Config {
        timezone: "Europe/Berlin".into(),
        miners: vec![miner("office"), miner("bedroom")],
        ..Config::default()
    };
    c.plan = Some(PlanConfig {
        default: "performance".into(),
        week: vec![
            period(Some(&[Mon, Tue, Wed, Thu, Fri]), (7, 0), (23, 0), "quiet"),
            period(Some(&[Sat, Sun]), (12, 0), (23, 0), "quiet"),
            period(None, (17, 0), (20, 0), "off"),
        ],
        exceptions: vec![Exception {
            name: Some("Holiday".into()),
            date: None,
            from: Some(NaiveDate::from_ymd_opt(2026, 12, 24).expect("d")),
            to: Some(NaiveDate::from_ymd_opt(2026, 12, 26).expect("d")),
            profile: "efficiency".into(),
            periods: vec![period(None, (22, 0), (6, 0), "performance")],
        }],
    });
    c.groups.insert(
        "bedroom".into(),
        GroupConfig {
            miners: vec!["bedroom".into()],
            plan: Some(PlanConfig {
                default: "quiet".into(),
                week: vec![period(None, (9, 0), (21, 0), "performance")],
                exceptions: vec![],
            }),
            power_budget: None,
        },
    );
    c
}

#[rstest]
// Wed 2026-12-02
#[case("office", "2026-12-02 06:59", "performance", "plan")]
#[case("office", "2026-12-02 07:00", "quiet", "plan")]
// The later period (off, 17-20) wins where periods overlap.
#[case("office", "2026-12-02 17:00", "off", "plan")]
#[case("office", "2026-12-02 20:00", "quiet", "plan")]
#[case("office", "2026-12-02 23:00", "performance", "plan")]
// Saturday morning: no weekday period, the default.
#[case("office", "2026-12-05 10:00", "performance", "plan")]
#[case("office", "2026-12-05 12:30", "quiet", "plan")]
// The group runs its own plan; the global exceptions still apply to it.
#[case("bedroom", "2026-12-02 08:00", "quiet", "plan (group bedroom)")]
#[case("bedroom", "2026-12-02 10:00", "performance", "plan (group bedroom)")]
#[case("bedroom", "2026-12-24 10:00", "efficiency", "exception Holiday")]
// Exceptions: whole local dates; a period past midnight stops at the end of the last date.
#[case("office", "2026-12-24 10:00", "efficiency", "exception Holiday")]
#[case("office", "2026-12-24 23:00", "performance", "exception Holiday")]
#[case("office", "2026-12-25 05:59", "performance", "exception Holiday")]
#[case("office", "2026-12-25 06:00", "efficiency", "exception Holiday")]
#[case("office", "2026-12-26 23:59", "performance", "exception Holiday")]
#[case("office", "2026-12-27 00:00", "performance", "plan")]
#[case("office", "2026-12-27 12:00", "quiet", "plan")]
fn the_household_plan(
    #[case] who: &str,
    #[case] at: &str,
    #[case] profile: &str,
    #[case] reason: &str,
) {
    let c = household();
    let tz = zone(&c);
    let m = c.miner(who).expect("miner").clone();
    let r = resolve(&c, tz, local(tz, at), &m, None);
    assert_eq!(
        (r.profile.name(), r.reason.to_string().as_str()),
        (profile, reason),
        "{at}"
    );
}

#[test]
fn a_period_past_midnight_belongs_to_the_day_it_starts() {
    let mut c = Config {
        timezone: "UTC".into(),
        miners: vec![miner("a")],
        ..Config::default()
    };
    c.plan = Some(PlanConfig {
        default: "quiet".into(),
        week: vec![period(
            Some(&[Weekday::Fri]),
            (22, 0),
            (2, 0),
            "performance",
        )],
        exceptions: vec![],
    });
    let m = miner("a");
    let at = |s| resolve(&c, Tz::UTC, local(Tz::UTC, s), &m, None).profile;
    assert_eq!(at("2026-12-04 23:00"), Profile::new("performance")); // Fri
    assert_eq!(at("2026-12-05 01:59"), Profile::new("performance")); // Sat, from Fri
    assert_eq!(at("2026-12-05 02:00"), Profile::new("quiet"));
    assert_eq!(at("2026-12-05 23:00"), Profile::new("quiet")); // Sat: not a Friday
    assert_eq!(at("2026-12-06 01:00"), Profile::new("quiet"));
}

#[test]
fn a_per_miner_override_changes_settings_not_the_profile() {
    let mut c = household();
    c.miners[0].profiles.insert(
        "quiet".into(),
        ProfileOverride {
            voltage: None,
            frequency: Some(380.0),
        },
    );
    let tz = zone(&c);
    let now = local(tz, "2026-12-02 10:00");
    let office = target(&c, tz, now, &c.miners[0], None);
    let other = Target::of(&c, &miner("x"), Profile::new("quiet"));
    assert_eq!(office.profile, Profile::new("quiet"));
    assert_eq!(office.settings.frequency, 380.0);
    assert_eq!(office.settings.voltage, other.settings.voltage);
    assert_ne!(other.settings.frequency, 380.0);
}

fn slots(tz: Tz, from: &str, minutes: i64, prices: &[f64]) -> Vec<PriceSlot> {
    let start = local(tz, from);
    prices
        .iter()
        .enumerate()
        .map(|(i, &price)| PriceSlot {
            start: start + Duration::minutes(minutes * i as i64),
            end: start + Duration::minutes(minutes * (i as i64 + 1)),
            price,
        })
        .collect()
}

fn with_rules(mut c: Config) -> Config {
    c.price_rules = vec![
        PriceRule {
            profile: "performance".into(),
            max_price: Some(0.10),
            cheapest_hours: None,
            groups: None,
        },
        PriceRule {
            profile: "quiet".into(),
            max_price: Some(0.25),
            cheapest_hours: None,
            groups: None,
        },
        PriceRule {
            profile: "off".into(),
            max_price: None,
            cheapest_hours: None,
            groups: None,
        },
    ];
    c
}

#[rstest]
#[case(0.08, "performance", "price 8 ct at most 10")]
#[case(0.10, "performance", "price 10 ct at most 10")]
#[case(0.20, "quiet", "price 20 ct at most 25")]
#[case(0.31, "off", "price 31 ct above 25")]
#[case(-0.05, "performance", "price -5 ct at most 10")]
fn price_rules_take_the_first_match(#[case] price: f64, #[case] profile: &str, #[case] why: &str) {
    let c = with_rules(household());
    let tz = zone(&c);
    let prices = slots(tz, "2026-12-02 00:00", 15, &[price; 96]);
    let r = resolve(
        &c,
        tz,
        local(tz, "2026-12-02 10:07"),
        &c.miners[0],
        Some(&prices),
    );
    assert_eq!(
        (r.profile.name(), r.reason.to_string().as_str()),
        (profile, why)
    );
}

#[test]
fn without_a_price_the_plan_runs_and_exceptions_beat_prices() {
    let c = with_rules(household());
    let tz = zone(&c);
    // Prices only until 12:00.
    let prices = slots(tz, "2026-12-02 00:00", 60, &[0.31; 12]);
    let m = &c.miners[0];
    let at = |s| resolve(&c, tz, local(tz, s), m, Some(&prices));
    assert_eq!(at("2026-12-02 11:00").profile, Profile::off());
    let r = at("2026-12-02 12:30");
    assert_eq!(
        (r.profile.name(), r.reason.clone()),
        ("quiet", Reason::Plan { group: None })
    );
    // The off period lasts until 12:00, where the prices stop: the change is announced.
    assert_eq!(
        at("2026-12-02 11:00").until,
        Some(local(tz, "2026-12-02 12:00"))
    );
    assert_eq!(
        at("2026-12-02 11:00").describe(tz),
        "Off: price 31 ct above 25; until Wed 12:00"
    );
    let holiday = slots(tz, "2026-12-24 00:00", 60, &[0.31; 24]);
    let r = resolve(&c, tz, local(tz, "2026-12-24 10:00"), m, Some(&holiday));
    assert_eq!(r.profile.name(), "efficiency");
}

#[test]
fn the_cheapest_hours_of_each_day() {
    let mut c = household();
    c.price_rules = vec![PriceRule {
        profile: "performance".into(),
        max_price: None,
        cheapest_hours: Some(2.0),
        groups: None,
    }];
    let tz = zone(&c);
    // Quarter hours, cheapest at 03:00-04:00 (0.01) and 14:00-15:00 (0.02).
    let mut p = vec![0.30; 96];
    p[12..16].fill(0.01);
    p[56..60].fill(0.02);
    let prices = slots(tz, "2026-12-02 00:00", 15, &p);
    let m = &c.miners[0];
    let at = |s| resolve(&c, tz, local(tz, s), m, Some(&prices)).profile;
    assert_eq!(at("2026-12-02 03:30"), Profile::new("performance"));
    assert_eq!(at("2026-12-02 14:45"), Profile::new("performance"));
    assert_eq!(at("2026-12-02 15:00"), Profile::new("quiet"));
    assert_eq!(
        at("2026-12-02 02:59"),
        Profile::new("performance"),
        "plan default"
    );
}

/// A period starting at 02:30 on each DST day, in three zones: the skipped start takes effect
/// after the gap, the repeated end counts once, and the timeline's hours add up.
#[rstest]
#[case("Europe/Berlin", "2026-03-29", "2026-10-25")]
#[case("Europe/London", "2026-03-29", "2026-10-25")]
#[case("America/New_York", "2026-03-08", "2026-11-01")]
fn dst_weeks(#[case] zone_name: &str, #[case] spring: &str, #[case] autumn: &str) {
    let tz: Tz = zone_name.parse().expect("zone");
    let (start, end) = if zone_name == "Europe/London" {
        ((1, 30), (1, 45))
    } else {
        ((2, 30), (2, 45))
    };
    let mut c = Config {
        timezone: zone_name.into(),
        miners: vec![miner("a")],
        ..Config::default()
    };
    c.plan = Some(PlanConfig {
        default: "quiet".into(),
        week: vec![period(None, start, end, "performance")],
        exceptions: vec![],
    });
    let spring = NaiveDate::parse_from_str(spring, "%Y-%m-%d").expect("date");
    let autumn = NaiveDate::parse_from_str(autumn, "%Y-%m-%d").expect("date");
    // Spring: the start time does not exist; performance starts at the first instant after the gap
    // and ends at the (also skipped) end: an empty period.
    let from = local_instant(tz, spring, NaiveTime::MIN).expect("midnight");
    let next = local_instant(tz, spring + Duration::days(1), NaiveTime::MIN).expect("midnight");
    let segs = timeline(&c, tz, None, from, next, None);
    let perf: i64 = segs
        .iter()
        .filter(|s| s.profile.name() == "performance")
        .map(|s| (s.end - s.start).num_minutes())
        .sum();
    assert_eq!(perf, 0, "{segs:?}");
    let day: i64 = segs.iter().map(|s| (s.end - s.start).num_minutes()).sum();
    assert_eq!(day, 23 * 60, "a spring day has 23 hours");
    // Autumn: the 15 minutes happen once, not twice.
    let from = local_instant(tz, autumn, NaiveTime::MIN).expect("midnight");
    let next = local_instant(tz, autumn + Duration::days(1), NaiveTime::MIN).expect("midnight");
    let segs = timeline(&c, tz, None, from, next, None);
    let perf: Vec<&Segment> = segs
        .iter()
        .filter(|s| s.profile.name() == "performance")
        .collect();
    assert_eq!(perf.len(), 1, "{segs:?}");
    assert_eq!((perf[0].end - perf[0].start).num_minutes(), 15);
    let day: i64 = segs.iter().map(|s| (s.end - s.start).num_minutes()).sum();
    assert_eq!(day, 25 * 60);
}

// ---- the brute-force reference ----

/// The profile at `t` by the documented rules, evaluated directly and independently of the
/// timeline: exceptions, then price rules, then the plan; the later period wins.
fn reference(
    c: &Config,
    tz: Tz,
    group: Option<&str>,
    prices: &[PriceSlot],
    t: DateTime<Utc>,
) -> String {
    let date = t.with_timezone(&tz).date_naive();
    let inst = |d: NaiveDate, time: NaiveTime| local_instant(tz, d, time).expect("instant");
    let covers = |p: &Period, d: NaiveDate, last: Option<NaiveDate>| {
        let start = inst(d, p.from.0);
        let end_day = if p.to <= p.from {
            d + Duration::days(1)
        } else {
            d
        };
        let end = match last {
            Some(l) if end_day > l => inst(end_day, NaiveTime::MIN),
            _ => inst(end_day, p.to.0),
        };
        start <= t && t < end
    };
    let group_plan = group
        .and_then(|g| c.groups.get(g))
        .and_then(|g| g.plan.as_ref());
    let exceptions: Vec<&Exception> = group_plan
        .into_iter()
        .chain(c.plan.as_ref())
        .flat_map(|p| p.exceptions.iter())
        .collect();
    for x in exceptions {
        let (a, b) = x.dates().expect("dates");
        if a <= date && date <= b {
            let mut found = x.profile.clone();
            for p in &x.periods {
                for d in [date - Duration::days(1), date] {
                    if d >= a && covers(p, d, Some(b)) {
                        found = p.profile.clone();
                    }
                }
            }
            return found;
        }
    }
    if let Some(slot) = prices.iter().find(|s| s.start <= t && t < s.end) {
        for rule in &c.price_rules {
            if rule
                .groups
                .as_ref()
                .is_some_and(|gs| !gs.iter().any(|g| Some(g.as_str()) == group))
            {
                continue;
            }
            if rule.max_price.is_none_or(|m| slot.price <= m) {
                return rule.profile.clone();
            }
        }
    }
    let plan = group_plan
        .cloned()
        .or(c.plan.clone())
        .unwrap_or_else(|| seed_plan(c));
    let mut found = plan.default.clone();
    for p in &plan.week {
        for d in [date - Duration::days(1), date] {
            if p.on(d.weekday()) && covers(p, d, None) {
                found = p.profile.clone();
            }
        }
    }
    found
}

const NAMES: &[&str] = &["day", "night", "quiet", "efficiency", "performance", "off"];

fn any_period(weekly: bool) -> impl Strategy<Value = Period> {
    (
        proptest::option::of(proptest::collection::vec(0..7u32, 1..4)),
        0..1440u32,
        1..1440u32,
        0..NAMES.len(),
    )
        .prop_map(move |(days, from, len, p)| {
            let to = (from + len) % 1440;
            Period {
                days: days.filter(|_| weekly).map(|ds| {
                    ds.into_iter()
                        .map(|d| Day(Weekday::try_from(d as u8).expect("weekday")))
                        .collect()
                }),
                from: ClockTime::hm(from / 60, from % 60),
                to: ClockTime::hm(to / 60, to % 60),
                profile: NAMES[p].into(),
            }
        })
}

fn any_plan() -> impl Strategy<Value = PlanConfig> {
    (
        0..NAMES.len(),
        proptest::collection::vec(any_period(true), 0..5),
        proptest::collection::vec(
            (
                0..9i64,
                0..3i64,
                0..NAMES.len(),
                proptest::collection::vec(any_period(false), 0..3),
            ),
            0..2,
        ),
    )
        .prop_map(|(d, week, xs)| PlanConfig {
            default: NAMES[d].into(),
            week,
            exceptions: xs
                .into_iter()
                .map(|(start, len, p, periods)| {
                    let base = NaiveDate::from_ymd_opt(2026, 3, 23).expect("d");
                    Exception {
                        name: None,
                        date: None,
                        from: Some(base + Duration::days(start)),
                        to: Some(base + Duration::days(start + len)),
                        profile: NAMES[p].into(),
                        periods,
                    }
                })
                .collect(),
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(if std::env::var("BITAXE_LONG").is_ok() { 256 } else { 12 }))]

    /// The resolver is total (the timeline tiles the week with no gap or overlap, so every
    /// miner has exactly one profile at every instant) and agrees, minute by minute, with the
    /// reference, across DST weeks in three zones.
    #[test]
    fn the_timeline_agrees_with_a_minute_by_minute_reference(
        zone_i in 0..3usize,
        week_i in 0..4usize,
        plan in proptest::option::of(any_plan()),
        group_plan in proptest::option::of(any_plan()),
        rules in proptest::collection::vec((0..NAMES.len(), proptest::option::of(-10..40i32), any::<bool>()), 0..3),
        slot_len in prop_oneof![Just(15i64), Just(30), Just(60)],
        price_seed in any::<u64>(),
    ) {
        let zones = ["Europe/Berlin", "Europe/London", "America/New_York"];
        // A DST week in spring and autumn for each zone, and two plain ones.
        let weeks = ["2026-03-26", "2026-10-22", "2026-03-06", "2026-06-10"];
        let tz: Tz = zones[zone_i].parse().expect("zone");
        let mut c = Config {
            timezone: zones[zone_i].into(),
            miners: vec![miner("a"), miner("b")],
            ..Config::default()
        };
        let start_day = NaiveDate::parse_from_str(weeks[week_i], "%Y-%m-%d").expect("date");
        // Exceptions were drawn relative to 2026-03-23: move them into this week.
        let shift = start_day - NaiveDate::from_ymd_opt(2026, 3, 23).expect("d");
        let moved = |p: Option<PlanConfig>| {
            p.map(|mut p| {
                for x in &mut p.exceptions {
                    x.from = x.from.map(|d| d + shift);
                    x.to = x.to.map(|d| d + shift);
                }
                p
            })
        };
        c.plan = moved(plan);
        c.groups.insert("g".into(), GroupConfig { miners: vec!["b".into()], plan: moved(group_plan), power_budget: None });
        c.price_rules = rules
            .into_iter()
            .map(|(p, max, grouped)| PriceRule {
                profile: NAMES[p].into(),
                max_price: max.map(|m| f64::from(m) / 100.0),
                cheapest_hours: None,
                groups: grouped.then(|| vec!["g".to_string()]),
            })
            .collect();
        let from = local_instant(tz, start_day, NaiveTime::MIN).expect("midnight");
        let to = from + Duration::days(7);
        // Prices with holes: every 7th slot unknown.
        let mut prices = Vec::new();
        let mut t = from;
        let mut i = 0u64;
        while t < to {
            let end = t + Duration::minutes(slot_len);
            if i % 7 != 3 {
                let x = price_seed.wrapping_mul(i + 1).rotate_left((i % 61) as u32) % 40;
                prices.push(PriceSlot { start: t, end, price: x as f64 / 100.0 - 0.05 });
            }
            t = end;
            i += 1;
        }
        for (name, group) in [("a", None), ("b", Some("g"))] {
            let segs = timeline(&c, tz, group, from, to, Some(&prices));
            prop_assert_eq!(segs.first().map(|s| s.start), Some(from));
            prop_assert_eq!(segs.last().map(|s| s.end), Some(to));
            for w in segs.windows(2) {
                prop_assert_eq!(w[0].end, w[1].start, "segments tile the week");
            }
            let m = c.miner(name).expect("miner").clone();
            let mut k = 0;
            let mut t = from;
            while t < to {
                while segs[k].end <= t {
                    k += 1;
                }
                let want = reference(&c, tz, group, &prices, t);
                prop_assert_eq!(segs[k].profile.name(), want.as_str(), "{} at {}", name, t.with_timezone(&tz));
                if t.timestamp() % 3600 == 0 {
                    let r = resolve(&c, tz, t, &m, Some(&prices));
                    prop_assert_eq!(r.profile.name(), want.as_str());
                }
                t += Duration::minutes(1);
            }
        }
    }
}
