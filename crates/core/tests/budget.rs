//! The power budget's pure parts: the allocator (tables and properties, with the test vectors of
//! next-features §6.5) and the stagger.

use std::time::{Duration, Instant};

use bitaxe_core::budget::{
    allocate, Allocation, Change, Grant, Memory, MinerView, Reach, Rung, Stagger, Tuning,
};
use proptest::prelude::*;

/// A ladder: off (5 W), quiet, day, performance, with this miner's watts and J/TH.
fn ladder(scale: f64, jth: f64) -> Vec<Rung> {
    [
        ("off", 5.0, f64::INFINITY),
        ("quiet", 12.0, 0.95),
        ("day", 18.0, 1.0),
        ("performance", 25.0, 1.1),
    ]
    .iter()
    .map(|(p, w, j)| Rung {
        profile: (*p).into(),
        watts: if *p == "off" { *w } else { w * scale },
        jth: j * jth,
    })
    .collect()
}

fn miner(name: &str, planned: usize, jth: f64) -> MinerView {
    MinerView {
        name: name.into(),
        ladder: ladder(1.0, jth),
        planned,
        running: Some(planned),
        draw: None,
        reach: Reach::Online,
    }
}

fn profiles(a: &Allocation) -> Vec<&str> {
    a.grants.iter().map(|g| g.profile.as_str()).collect()
}

fn run(budget: f64, miners: &[MinerView]) -> Allocation {
    allocate(
        budget,
        miners,
        &mut Memory::default(),
        &Tuning::default(),
        Instant::now(),
    )
}

#[test]
fn a_budget_of_zero_turns_everything_off() {
    let miners: Vec<MinerView> = (0..4)
        .map(|i| miner(&format!("m{i}"), 3, 1.0 + i as f64 * 0.1))
        .collect();
    let a = run(0.0, &miners);
    assert_eq!(profiles(&a), ["off"; 4]);
    assert!(!a.met, "4 × 5 W idle is still over 0 W");
    assert!(a.grants.iter().all(|g| g.capped));
    assert_eq!(a.changes.len(), 4);
}

#[test]
fn a_budget_above_the_fleets_maximum_changes_nothing() {
    let miners = [miner("a", 3, 1.0), miner("b", 1, 1.2), miner("c", 2, 0.9)];
    let a = run(3.0 * 25.0, &miners);
    assert_eq!(profiles(&a), ["performance", "quiet", "day"]);
    assert!(a.met && a.changes.is_empty());
    assert!(a.grants.iter().all(|g| !g.capped));
}

/// Table: budget → which miners are stepped down. `a` is the least efficient, `c` the most; J/TH
/// is measured per rung (quiet 0.95×, day 1×, performance 1.1× the miner's own), so `a` stays the
/// least efficient all the way down, and of equal J/TH the one drawing more steps first.
#[rstest::rstest]
#[case(75.0, ["performance", "performance", "performance"])]
#[case(70.0, ["day", "performance", "performance"])]
#[case(63.0, ["quiet", "performance", "performance"])]
#[case(56.0, ["off", "performance", "performance"])]
#[case(49.0, ["off", "day", "performance"])]
#[case(42.0, ["off", "day", "day"])]
#[case(36.0, ["off", "quiet", "day"])]
#[case(30.0, ["off", "off", "day"])]
#[case(15.0, ["off", "off", "off"])]
fn the_least_efficient_step_down_first(#[case] budget: f64, #[case] want: [&str; 3]) {
    let miners = [miner("a", 3, 1.3), miner("b", 3, 1.1), miner("c", 3, 1.0)];
    let a = run(budget, &miners);
    assert_eq!(profiles(&a), want, "budget {budget}");
    assert!(
        a.expected <= budget || !a.met,
        "{} W over {budget} W",
        a.expected
    );
}

#[test]
fn measured_draw_counts_for_the_rung_a_miner_runs() {
    // Day is expected at 18 W but this miner measures 23 W there.
    let mut hot = miner("hot", 2, 1.0);
    hot.draw = Some(23.0);
    let cool = miner("cool", 2, 1.0);
    let a = run(18.0 + 18.0, &[hot.clone(), cool.clone()]);
    assert_eq!(
        profiles(&a),
        ["quiet", "day"],
        "23 + 18 > 36: one steps down"
    );
    hot.draw = Some(18.0);
    assert_eq!(profiles(&run(36.0, &[hot, cool])), ["day", "day"]);
}

#[test]
fn an_offline_miner_keeps_its_last_draw_until_declared_offline() {
    let mut silent = miner("silent", 3, 1.0);
    silent.reach = Reach::Silent;
    silent.draw = Some(25.0);
    let other = miner("other", 3, 2.0);
    // Mid-ramp the silent miner cannot be changed; its 25 W still count, so the other steps down.
    let a = run(40.0, &[silent.clone(), other.clone()]);
    assert_eq!(profiles(&a), ["performance", "quiet"]);
    assert_eq!(a.reporting, 1);
    assert_eq!(a.counted, 2);
    assert!(!a
        .changes
        .iter()
        .any(|c| matches!(c, Change::Limited { miner, .. } if miner == "silent")));
    // Declared offline: it counts nothing.
    silent.reach = Reach::Gone;
    let a = run(40.0, &[silent, other]);
    assert_eq!(profiles(&a)[1], "performance");
    assert_eq!(a.counted, 1);
}

#[test]
fn a_raise_needs_room_and_the_most_efficient_gets_it_first() {
    // Both run quiet (12 W); the plan raises both to performance (25 W).
    let mut a = miner("a", 3, 1.2);
    let mut b = miner("b", 3, 1.0);
    a.running = Some(1);
    b.running = Some(1);
    let got = run(12.0 + 25.0 + 1.0, &[a, b]);
    assert_eq!(profiles(&got), ["quiet", "performance"]);
    let why = got.changes.iter().find_map(|c| match c {
        Change::Limited {
            miner,
            from,
            to,
            reason,
        } if miner == "a" => Some((from.clone(), to.clone(), reason.clone())),
        _ => None,
    });
    let (from, to, reason) = why.expect("a is limited");
    assert_eq!((from.as_str(), to.as_str()), ("performance", "quiet"));
    assert!(reason.contains("no room"), "{reason}");
}

#[test]
fn a_limited_miner_is_restored_only_after_the_hold_and_with_headroom() {
    let tuning = Tuning {
        headroom: 0.1,
        min_hold: Duration::from_secs(60),
    };
    let t0 = Instant::now();
    let mut mem = Memory::default();
    let miners = [miner("a", 2, 1.05), miner("b", 2, 1.0)];
    // 36 W over 25: a (1.05 J/TH on day) steps to quiet (0.9975), then b (1.0 on day) does.
    let a = allocate(25.0, &miners, &mut mem, &tuning, t0);
    assert_eq!(profiles(&a), ["quiet", "quiet"]);
    let settled = |a: &Allocation| -> Vec<MinerView> {
        miners
            .iter()
            .zip(&a.grants)
            .map(|(m, g)| MinerView {
                running: Some(g.rung),
                draw: Some(g.watts),
                ..m.clone()
            })
            .collect()
    };
    let now = settled(&a);
    // Room comes back (40 W), but not before the hold.
    let b = allocate(40.0, &now, &mut mem, &tuning, t0 + Duration::from_secs(30));
    assert_eq!(profiles(&b), ["quiet", "quiet"]);
    // After the hold, b (more efficient on day) first: 30 W. Then a would make 36 W: with 40 W
    // that leaves exactly the 10 % headroom, allowed; with 39 W it would not.
    let c = allocate(
        39.0,
        &now,
        &mut mem.clone(),
        &tuning,
        t0 + Duration::from_secs(61),
    );
    assert_eq!(profiles(&c), ["quiet", "day"]);
    let d = allocate(40.0, &now, &mut mem, &tuning, t0 + Duration::from_secs(61));
    assert_eq!(profiles(&d), ["day", "day"]);
    assert!(
        d.changes
            .iter()
            .all(|c| matches!(c, Change::Restored { full: true, .. })),
        "{:?}",
        d.changes
    );
}

#[test]
fn the_plan_going_lower_than_a_limit_ends_it() {
    let mut mem = Memory::default();
    let t0 = Instant::now();
    let a = allocate(
        20.0,
        &[miner("a", 3, 1.0)],
        &mut mem,
        &Tuning::default(),
        t0,
    );
    assert_eq!(profiles(&a), ["day"]);
    let b = allocate(
        20.0,
        &[miner("a", 1, 1.0)],
        &mut mem,
        &Tuning::default(),
        t0,
    );
    assert_eq!(profiles(&b), ["quiet"]);
    assert!(!b.grants[0].capped);
}

fn fleet() -> impl Strategy<Value = Vec<MinerView>> {
    prop::collection::vec(
        (
            0usize..4,
            0.8f64..1.5,
            0.7f64..1.3,
            prop::option::of(0usize..4),
            prop::option::of(5.0f64..40.0),
            0u8..10,
        ),
        1..12,
    )
    .prop_map(|v| {
        v.into_iter()
            .enumerate()
            .map(
                |(i, (planned, jth, scale, running, draw, reach))| MinerView {
                    name: format!("m{i:02}"),
                    ladder: ladder(scale, jth),
                    planned,
                    running,
                    draw,
                    reach: match reach {
                        0 => Reach::Silent,
                        1 => Reach::Gone,
                        _ => Reach::Online,
                    },
                },
            )
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, failure_persistence: None, ..ProptestConfig::default() })]

    /// Never above the plan; under budget whenever the budget can be met at all; `met` honest.
    #[test]
    fn grants_fit_the_budget_and_never_exceed_the_plan(miners in fleet(), budget in 0.0f64..400.0) {
        let a = run(budget, &miners);
        prop_assert_eq!(a.grants.len(), miners.len());
        for (m, g) in miners.iter().zip(&a.grants) {
            prop_assert!(g.rung <= m.planned, "{} above its plan", m.name);
            prop_assert_eq!(g.capped, g.rung < m.planned);
        }
        if a.met {
            prop_assert!(a.expected <= budget + 1e-6, "{} > {}", a.expected, budget);
        } else {
            prop_assert!(a.expected > budget);
            for (m, g) in miners.iter().zip(&a.grants) {
                if m.reach == Reach::Online {
                    prop_assert_eq!(g.rung, 0, "{} could still step down", m.name);
                }
            }
        }
    }

    /// B ≥ Σ max → the schedule is unchanged.
    #[test]
    fn a_roomy_budget_changes_nothing(miners in fleet()) {
        let max: f64 = miners.iter().map(|m| m.ladder.iter().map(|r| r.watts).fold(0.0, f64::max).max(m.draw.unwrap_or(0.0))).sum();
        let a = run(max, &miners);
        for (m, g) in miners.iter().zip(&a.grants) {
            if m.reach == Reach::Online {
                prop_assert_eq!(g.rung, m.planned);
            }
        }
        let limited = a.changes.iter().any(|c| matches!(c, Change::Limited { .. }));
        prop_assert!(!limited, "{:?}", a.changes);
    }

    /// Once the fleet follows its grants, the same inputs give the same grants: no flapping.
    #[test]
    fn a_settled_fleet_does_not_flap(miners in fleet(), budget in 0.0f64..300.0, noise in 0.0f64..0.02) {
        let tuning = Tuning { headroom: 0.05, min_hold: Duration::from_secs(60) };
        let mut mem = Memory::default();
        let t0 = Instant::now();
        let mut views = miners.clone();
        let mut last: Option<Vec<usize>> = None;
        let mut flips = 0;
        for step in 0..20u64 {
            let a = allocate(budget, &views, &mut mem, &tuning, t0 + Duration::from_secs(step * 30));
            let rungs: Vec<usize> = a.grants.iter().map(|g| g.rung).collect();
            if last.as_ref().is_some_and(|l| *l != rungs) {
                flips += 1;
            }
            last = Some(rungs);
            // The miners follow; measured draw wobbles a little around the expected watts.
            let sign = if step % 2 == 0 { 1.0 } else { -1.0 };
            views = views
                .iter()
                .zip(&a.grants)
                .map(|(m, g)| match m.reach {
                    Reach::Online => MinerView { running: Some(g.rung), draw: Some(g.watts * (1.0 + sign * noise)), ..m.clone() },
                    _ => m.clone(),
                })
                .collect();
        }
        // A step down in the first rounds (measured draw above estimates), maybe one restore once
        // the hold ends; never a back-and-forth.
        prop_assert!(flips <= 3, "{flips} changes in 20 rounds");
    }
}

fn grant(miner: &str, profile: &str, watts: f64, jth: f64) -> Grant {
    Grant {
        miner: miner.into(),
        rung: 0,
        profile: profile.into(),
        capped: false,
        watts,
        jth,
        counts: true,
    }
}

#[test]
fn staggered_changes_are_spread_over_the_window_lowers_first() {
    let t0 = Instant::now();
    let mut s = Stagger::new(Duration::from_secs(120));
    s.seed("a", "quiet", 12.0);
    s.seed("b", "performance", 25.0);
    s.seed("c", "performance", 25.0);
    s.seed("d", "quiet", 12.0);
    // The plan swaps: a and d go up, b and c go down. Budget 74 W: exactly the total.
    let grants = [
        grant("a", "performance", 25.0, 1.2),
        grant("b", "quiet", 12.0, 1.0),
        grant("c", "quiet", 12.0, 1.0),
        grant("d", "performance", 25.0, 1.0),
    ];
    let mut released = Vec::new();
    let mut used_max: f64 = 0.0;
    for second in 0..=130u64 {
        for r in s.step(&grants, &[], 74.0, t0 + Duration::from_secs(second)) {
            released.push((second, r.miner.clone(), r.profile.clone()));
        }
        let used: f64 = ["a", "b", "c", "d"]
            .iter()
            .map(|m| {
                if s.released(m) == Some("performance") {
                    25.0
                } else {
                    12.0
                }
            })
            .sum();
        used_max = used_max.max(used);
    }
    let order: Vec<&str> = released.iter().map(|(_, m, _)| m.as_str()).collect();
    assert_eq!(
        order,
        ["b", "c", "d", "a"],
        "lowers first, then the most efficient raise"
    );
    let times: Vec<u64> = released.iter().map(|(t, _, _)| *t).collect();
    assert_eq!(times, [0, 30, 60, 90]);
    assert!(used_max <= 74.0, "{used_max}");
    assert!(!s.busy());
}

#[test]
fn an_urgent_limit_goes_out_at_once_and_a_zero_window_releases_all() {
    let t0 = Instant::now();
    let mut s = Stagger::new(Duration::from_secs(60));
    s.seed("a", "performance", 25.0);
    s.seed("b", "performance", 25.0);
    let grants = [grant("a", "off", 5.0, 1.0), grant("b", "quiet", 12.0, 1.0)];
    let out = s.step(&grants, &["a".to_string()], 40.0, t0);
    let names: Vec<&str> = out.iter().map(|r| r.miner.as_str()).collect();
    assert_eq!(names, ["a", "b"], "a urgent; b the first of its batch");
    assert_eq!(out[0].from, "performance");
    let mut z = Stagger::new(Duration::ZERO);
    z.seed("a", "quiet", 12.0);
    z.seed("b", "performance", 25.0);
    let out = z.step(
        &[
            grant("a", "performance", 25.0, 1.0),
            grant("b", "quiet", 12.0, 1.0),
        ],
        &[],
        37.0,
        t0,
    );
    let names: Vec<&str> = out.iter().map(|r| r.miner.as_str()).collect();
    assert_eq!(names, ["b", "a"]);
}

#[test]
fn a_raise_without_room_waits() {
    let t0 = Instant::now();
    let mut s = Stagger::new(Duration::ZERO);
    s.seed("a", "quiet", 12.0);
    s.seed("b", "performance", 25.0);
    // b is told to stay; a may not go up while b's 25 W count.
    let out = s.step(
        &[
            grant("a", "performance", 25.0, 1.0),
            grant("b", "performance", 25.0, 1.0),
        ],
        &[],
        40.0,
        t0,
    );
    assert!(out.is_empty());
    assert!(s.busy());
    assert_eq!(s.released("a"), Some("quiet"));
}

#[test]
fn a_miner_declared_offline_leaves_room_for_a_staggered_raise() {
    let t0 = Instant::now();
    let mut s = Stagger::new(Duration::ZERO);
    s.seed("gone", "performance", 25.0);
    s.seed("a", "quiet", 12.0);
    let gone = Grant {
        counts: false,
        ..grant("gone", "performance", 25.0, 1.0)
    };
    let out = s.step(&[gone, grant("a", "performance", 25.0, 1.0)], &[], 30.0, t0);
    assert_eq!(
        out.len(),
        1,
        "25 W of a miner declared offline do not count"
    );
    assert_eq!(s.released("a"), Some("performance"));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

    /// From a fleet within budget to grants within budget: in between the released fleet never
    /// goes over, no two releases share a tick unless the window is 0, and all is out in time.
    #[test]
    fn the_stagger_never_overshoots_and_finishes_within_the_window(
        moves in prop::collection::vec((5.0f64..30.0, 5.0f64..30.0, 0.8f64..1.4), 1..10),
        window_s in 0u64..20,
        slack in 0.0f64..20.0,
    ) {
        let start: f64 = moves.iter().map(|m| m.0).sum();
        let end: f64 = moves.iter().map(|m| m.1).sum();
        let budget = start.max(end) + slack;
        let t0 = Instant::now();
        let mut s = Stagger::new(Duration::from_secs(window_s));
        let grants: Vec<Grant> = moves
            .iter()
            .enumerate()
            .map(|(i, (from, to, jth))| {
                s.seed(&format!("m{i}"), &format!("p{from}"), *from);
                grant(&format!("m{i}"), &format!("q{to}"), *to, *jth)
            })
            .collect();
        let watts = |s: &Stagger| -> f64 {
            moves
                .iter()
                .enumerate()
                .map(|(i, (from, to, _))| {
                    if s.released(&format!("m{i}")) == Some(format!("q{to}").as_str()) { *to } else { *from }
                })
                .sum()
        };
        let mut released_at = Vec::new();
        for tick in 0..=(window_s * 10 + 10) {
            let out = s.step(&grants, &[], budget, t0 + Duration::from_millis(tick * 100));
            if window_s > 0 {
                prop_assert!(out.len() <= 1, "two at once: {out:?}");
            }
            for _ in &out {
                released_at.push(tick);
            }
            prop_assert!(watts(&s) <= budget + 1e-9, "over {} at tick {}", watts(&s), tick);
        }
        prop_assert_eq!(released_at.len(), moves.len());
        prop_assert!(released_at.iter().all(|t| *t <= window_s * 10 + 1), "{released_at:?}");
        prop_assert!(!s.busy());
    }
}

/// 1000 miners, every one over budget by its plan: the allocator's worst case (a step down per
/// rung per miner) stays well under a poll period. Prints the time.
#[test]
fn a_thousand_miners_are_allocated_quickly() {
    let miners: Vec<MinerView> = (0..1000)
        .map(|i| miner(&format!("m{i:04}"), 3, 1.0 + (i % 37) as f64 * 0.01))
        .collect();
    let started = std::time::Instant::now();
    let a = run(1000.0 * 5.0 + 500.0, &miners);
    let took = started.elapsed();
    eprintln!(
        "allocate: 1000 miners, 4 rungs, {} steps down: {took:?}",
        a.changes.len()
    );
    assert!(a.met);
    assert!(took < Duration::from_secs(1), "{took:?}");
}

#[test]
fn a_change_joining_a_batch_shares_what_is_left_of_the_window() {
    let t0 = Instant::now();
    let at = |s: u64| t0 + Duration::from_secs(s);
    let mut s = Stagger::new(Duration::from_secs(60));
    for m in ["a", "b", "c"] {
        s.seed(m, "quiet", 12.0);
    }
    let two = [grant("a", "day", 18.0, 1.0), grant("b", "day", 18.0, 1.0)];
    let three = [
        grant("a", "day", 18.0, 1.0),
        grant("b", "day", 18.0, 1.0),
        grant("c", "day", 18.0, 1.0),
    ];
    let mut times = Vec::new();
    for t in 0..=70 {
        let grants: &[Grant] = if t < 10 { &two } else { &three };
        for r in s.step(grants, &[], 1000.0, at(t)) {
            times.push((t, r.miner));
        }
    }
    // a at once, b after 30 s (two in 60 s); c joined at 10 s and shares the last 30 s with b.
    let when: Vec<u64> = times.iter().map(|(t, _)| *t).collect();
    assert_eq!(when, [0, 30, 45], "{times:?}");
    // A single change later is not held for a whole window.
    let mut s = Stagger::new(Duration::from_secs(60));
    s.seed("a", "quiet", 12.0);
    assert_eq!(
        s.step(&[grant("a", "day", 18.0, 1.0)], &[], 100.0, at(0))
            .len(),
        1
    );
    s.seed("b", "quiet", 12.0);
    let later = [grant("a", "day", 18.0, 1.0), grant("b", "day", 18.0, 1.0)];
    assert_eq!(s.step(&later, &[], 100.0, at(1)).len(), 1);
}
