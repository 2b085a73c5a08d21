//! Named profiles and the weekly plan through the command line: `--plan --week`, `--plan --at`
//! with reasons, `--apply` of a preset, and clear errors for a plan that names what is not there.

use std::path::{Path, PathBuf};
use std::process::Output;

use bitaxe_sim::{Personality, SimMiner};
use serde_json::{json, Value};

fn run(dir: &Path, args: &[&str]) -> Output {
    bitaxe_e2e::scheduler(dir, args)
}

fn text(o: &Output) -> (String, String) {
    bitaxe_e2e::output_text(o)
}

async fn sims(n: usize) -> Vec<SimMiner> {
    bitaxe_sim::fleet("sim", n, |s| {
        s.personality = Personality::V2_14;
        s.speed = 20.0;
    })
    .await
    .expect("sims")
}

/// Two miners, the second in a "bedroom" group with its own plan; Off in the evening peak.
fn household(dir: &Path, miners: &[SimMiner]) -> PathBuf {
    let v = json!({
        "miners": miners.iter().map(|m| json!({"name": m.name(), "ip": m.url()})).collect::<Vec<_>>(),
        "timezone": "Europe/Berlin",
        "transition_steps": 1, "transition_delay": 0.1, "retry_delay": 0.1,
        "profiles": {"bedroom-night": {"voltage": 1080, "frequency": 420, "fan": {"mode": "manual", "speed": 35}}},
        "plan": {
            "default": "performance",
            "week": [
                {"days": ["mon", "tue", "wed", "thu", "fri"], "from": "07:00", "to": "23:00", "profile": "quiet"},
                {"from": "17:00", "to": "20:00", "profile": "off"}
            ],
            "exceptions": [{"name": "Holiday", "from": "2026-12-24", "to": "2026-12-26", "profile": "efficiency"}]
        },
        "groups": {"bedroom": {"miners": ["sim-2"], "plan": {"default": "bedroom-night",
            "week": [{"from": "09:00", "to": "21:00", "profile": "performance"}]}}}
    });
    let path = dir.join("multi_scheduler_config.json");
    std::fs::write(&path, serde_json::to_string_pretty(&v).expect("json")).expect("write");
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_week_prints_a_letter_per_hour_for_every_miner() {
    let miners = sims(2).await;
    let dir = tempfile::tempdir().expect("dir");
    household(dir.path(), &miners);
    let o = run(
        dir.path(),
        &["--plan", "--week", "--at", "2026-12-21T10:00"],
    );
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        out.starts_with("Plan for the week from 2026-12-21 (Europe/Berlin)"),
        "{out}"
    );
    assert!(
        out.contains("O off") && out.contains("Q quiet") && out.contains("P performance"),
        "{out}"
    );
    let row = |day: &str, miner: &str| -> String {
        let block = out.split("\n\n").find(|b| b.starts_with(day)).expect(day);
        block
            .lines()
            .find(|l| l.starts_with(miner))
            .expect(miner)
            .split_whitespace()
            .nth(1)
            .expect("letters")
            .to_string()
    };
    // Monday: performance until 07:00, quiet, off 17-20, quiet until 23:00, performance.
    assert_eq!(row("Mon 2026-12-21", "sim-1"), "PPPPPPPQQQQQQQQQQOOOQQQP");
    // The bedroom runs its group plan: its own profile (first free letter of its name).
    let bedroom = row("Mon 2026-12-21", "sim-2");
    assert_eq!(&bedroom[9..21], "PPPPPPPPPPPP", "{bedroom}");
    assert!(
        bedroom[..9]
            .chars()
            .all(|c| c == bedroom.as_bytes()[0] as char),
        "{bedroom}"
    );
    // Christmas Eve: the exception, for both.
    assert_eq!(row("Thu 2026-12-24", "sim-1"), "E".repeat(24));
    assert_eq!(row("Thu 2026-12-24", "sim-2"), "E".repeat(24));
    assert!(
        miners.iter().all(|m| m.requests().is_empty()),
        "no miner contacted"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_at_says_why_and_apply_takes_a_preset_or_refuses_an_unknown_name() {
    let miners = sims(2).await;
    let dir = tempfile::tempdir().expect("dir");
    household(dir.path(), &miners);
    let (out, _) = text(&run(dir.path(), &["--plan", "--at", "2026-12-24T18:00"]));
    assert!(
        out.contains("sim-1  efficiency") && out.contains("(exception Holiday)"),
        "{out}"
    );
    let (out, _) = text(&run(dir.path(), &["--plan", "--at", "2026-12-22T18:00"]));
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].starts_with("sim-1  off") && lines[0].contains("mining paused"),
        "{out}"
    );
    assert!(
        lines[1].contains("performance") && lines[1].contains("(plan (group bedroom))"),
        "{out}"
    );

    let o = run(dir.path(), &["--apply", "quiet", "--miner", "sim-1"]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    let s = miners[0].state();
    assert_eq!(
        (s.nvs.core_voltage, s.nvs.frequency),
        (1050, 400.0),
        "the quiet preset"
    );

    let before = std::fs::read(dir.path().join("multi_scheduler_config.json")).expect("read");
    let o = run(dir.path(), &["--apply", "turbo"]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        err.contains("unknown profile \"turbo\"") && err.contains("quiet"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(dir.path().join("multi_scheduler_config.json")).expect("read"),
        before
    );
}

#[test]
fn a_plan_naming_a_missing_profile_or_miner_names_the_line_and_the_key() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("multi_scheduler_config.json");
    for (extra, line, key, needle) in [
        (
            json!({"plan": {"default": "night", "week": [{"from": "07:00", "to": "09:00", "profile": "turbo"}]}}),
            "\"turbo\"",
            "plan.week[0].profile",
            "no profile is named \"turbo\"",
        ),
        (
            json!({"groups": {"attic": {"miners": ["ghost"]}}}),
            "\"ghost\"",
            "groups.attic.miners[0]",
            "no miner is named \"ghost\"",
        ),
        (
            json!({"price_rules": [{"profile": "off", "max_price": 0.1, "cheapest_hours": 3}]}),
            "",
            "price_rules[0]",
            "not both",
        ),
        (
            json!({"profiles": {"night": {"voltage": 1100, "frequency": 500}}}),
            "\"night\": {",
            "profiles.night",
            "global_night_settings",
        ),
        (
            json!({"plan": {"default": "night", "week": [{"days": ["someday"], "from": "07:00", "to": "09:00", "profile": "day"}]}}),
            "\"someday\"",
            "plan.week[0].days[0]",
            "not a weekday",
        ),
    ] {
        let mut v: Value = json!({"miners": [{"name": "a", "ip": "127.0.0.1:1"}]});
        for (k, x) in extra.as_object().expect("object") {
            v[k] = x.clone();
        }
        let text_in = serde_json::to_string_pretty(&v).expect("json");
        std::fs::write(&path, &text_in).expect("write");
        let o = run(dir.path(), &["--plan"]);
        let (_, err) = text(&o);
        assert_eq!(o.status.code(), Some(1), "{err}");
        assert!(err.contains(key) && err.contains(needle), "{key}: {err}");
        if !line.is_empty() {
            let n = text_in
                .lines()
                .position(|l| l.contains(line))
                .expect("line")
                + 1;
            assert!(
                err.contains(&format!("line {n}")),
                "{key} at line {n}: {err}"
            );
        }
        assert_eq!(
            std::fs::read_to_string(&path).expect("read"),
            text_in,
            "left alone"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_reads_the_fixed_tariff_for_price_rules_and_the_week_shows_them() {
    let miners = sims(1).await;
    let dir = tempfile::tempdir().expect("dir");
    let v = json!({
        "miners": [{"name": "sim-1", "ip": miners[0].url()}],
        "timezone": "Europe/Berlin",
        "tariff": {"currency": "EUR", "fixed": [
            {"from": "00:00", "to": "06:00", "price_per_kwh": 0.08},
            {"from": "06:00", "to": "00:00", "price_per_kwh": 0.30}
        ]},
        "price_rules": [{"profile": "performance", "max_price": 0.10}, {"profile": "quiet"}]
    });
    std::fs::write(
        dir.path().join("multi_scheduler_config.json"),
        v.to_string(),
    )
    .expect("write");
    let (out, err) = text(&run(dir.path(), &["--plan", "--at", "2026-12-21T03:00"]));
    assert!(
        out.contains("performance") && out.contains("(price 8 ct at most 10)"),
        "{out}{err}"
    );
    let (out, _) = text(&run(dir.path(), &["--plan", "--at", "2026-12-21T12:00"]));
    assert!(
        out.contains("quiet") && out.contains("(price 30 ct above 10)"),
        "{out}"
    );
    let (out, _) = text(&run(
        dir.path(),
        &["--plan", "--week", "--at", "2026-12-21T12:00"],
    ));
    let row = out
        .lines()
        .find(|l| l.starts_with("sim-1"))
        .and_then(|l| l.split_whitespace().nth(1))
        .expect("row");
    assert_eq!(row, "PPPPPPQQQQQQQQQQQQQQQQQQ", "{out}");
}
