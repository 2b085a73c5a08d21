//! The seed's status table: Name, Status, Hashrate, Temp, Power, Efficiency, Settings, then TOTAL.
//! A last column, Reason, says why a miner is where it is: cooling off after the firmware's own
//! overheat recovery, a target given up, a throttle, or whatever the engine reports.

use bitaxe_core::events::MinerState;
use bitaxe_core::safety::fmt_mhz;
use bitaxe_core::status::{MinerStatus, Totals};
use chrono::{DateTime, Local, TimeZone, Utc};

const COLUMNS: usize = 8;

const HEADERS: [&str; COLUMNS] = [
    "Name",
    "Status",
    "Hashrate",
    "Temp",
    "Power",
    "Efficiency",
    "Settings",
    "Reason",
];

/// Why the miner is where it is, in one line: the cool-off (in `zone`'s wall time) while it
/// lasts, a given-up target, the throttle cap when the engine gave no words for it, then the
/// engine's own reason. Parts the reason already holds are not repeated.
pub fn reason_text<Tz: TimeZone>(m: &MinerStatus, now: DateTime<Utc>, zone: &Tz) -> String
where
    Tz::Offset: std::fmt::Display,
{
    let mut parts: Vec<String> = Vec::new();
    if let Some(until) = m.cooloff_until.filter(|u| *u > now) {
        parts.push(format!(
            "cooling off until {}",
            until.with_timezone(zone).format("%H:%M")
        ));
    }
    if let Some(g) = m.gave_up.as_deref().filter(|g| !g.is_empty()) {
        if !m.reason.contains(g) {
            parts.push(g.to_string());
        }
    }
    if let Some(cap) = m.throttle_cap {
        let cap_text = cap.to_string();
        if m.state == MinerState::Throttled && !m.reason.contains(&cap_text) {
            parts.push(format!("throttled to {cap_text}"));
        }
    }
    if !m.reason.is_empty() {
        parts.push(m.reason.clone());
    }
    parts.join("; ")
}

fn cells(m: &MinerStatus, reason: String) -> [String; COLUMNS] {
    let dash = || "--".to_string();
    let info = m.info.as_ref().filter(|_| m.is_up());
    let hashrate = info
        .and_then(|i| i.hash_rate)
        .map(|h| format!("{h:.1} GH/s"))
        .unwrap_or_else(dash);
    let temp = info
        .and_then(|i| i.temp)
        .map(|t| format!("{t:.1}°C"))
        .unwrap_or_else(dash);
    let power = info
        .and_then(|i| i.power)
        .map(|p| format!("{p:.1} W"))
        .unwrap_or_else(dash);
    let eff = info
        .and_then(|i| i.efficiency_j_per_th())
        .map(|e| format!("{e:.2} J/TH"))
        .unwrap_or_else(dash);
    let settings = info
        .and_then(|i| {
            Some(format!(
                "{}mV @ {}MHz",
                i.core_voltage?,
                fmt_mhz(i.frequency?)
            ))
        })
        .unwrap_or_else(dash);
    [
        m.name.clone(),
        m.state.label().to_string(),
        hashrate,
        temp,
        power,
        eff,
        settings,
        reason,
    ]
}

/// The table and its TOTAL line, as lines of text (times in the computer's local time).
pub fn render(miners: &[MinerStatus]) -> Vec<String> {
    render_at(miners, Utc::now(), &Local)
}

/// [`render`] at a given instant, with times shown in `zone`.
pub fn render_at<Tz: TimeZone>(miners: &[MinerStatus], now: DateTime<Utc>, zone: &Tz) -> Vec<String>
where
    Tz::Offset: std::fmt::Display,
{
    let rows: Vec<[String; COLUMNS]> = miners
        .iter()
        .map(|m| cells(m, reason_text(m, now, zone)))
        .collect();
    let mut widths = HEADERS.map(|h| h.chars().count());
    for row in &rows {
        for (w, c) in widths.iter_mut().zip(row.iter()) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cols: &[String]| {
        cols.iter()
            .zip(widths.iter())
            .map(|(c, w)| format!("{c:<w$}", w = *w))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    let mut out = vec![line(&HEADERS.map(String::from))];
    out.push("-".repeat(widths.iter().sum::<usize>() + 2 * (widths.len() - 1)));
    out.extend(rows.iter().map(|r| line(r)));
    out.push(total_line(&Totals::of(miners)));
    out
}

/// `TOTAL: 2/3 online | 901.0 GH/s | 23.0 W | 25.53 J/TH`
pub fn total_line(t: &Totals) -> String {
    let eff = t
        .efficiency
        .map(|e| format!("{e:.2} J/TH"))
        .unwrap_or_else(|| "-- J/TH".into());
    format!(
        "TOTAL: {}/{} online | {:.1} GH/s | {:.1} W | {eff}",
        t.online, t.total, t.hashrate, t.power
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use bitaxe_core::events::MinerState;

    fn miner(name: &str, state: MinerState, info: Option<serde_json::Value>) -> MinerStatus {
        let mut m = MinerStatus::new(name, "http://127.0.0.1:1", true);
        m.state = state;
        m.info = info.map(bitaxe_core::axeos::Info::from_json);
        m
    }

    #[test]
    fn renders_the_seed_columns_and_total() {
        let up = serde_json::json!({"hashRate": 450.5, "temp": 55.25, "power": 11.5, "coreVoltage": 1150, "frequency": 450});
        let lines = render(&[
            miner("bitaxe-1", MinerState::Online, Some(up.clone())),
            miner("bitaxe-2", MinerState::Throttled, Some(up)),
            miner("bitaxe-3", MinerState::Offline, None),
        ]);
        assert!(
            lines[0].starts_with("Name")
                && lines[0].contains("Efficiency")
                && lines[0].contains("Settings")
                && lines[0].ends_with("Reason")
        );
        assert!(
            lines[2].contains("450.5 GH/s")
                && lines[2].contains("55.2°C")
                && lines[2].contains("11.5 W")
        );
        assert!(
            lines[2].contains("25.53 J/TH") && lines[2].ends_with("1150mV @ 450MHz"),
            "an online miner with nothing to say has an empty reason: {}",
            lines[2]
        );
        assert!(
            lines[2].find("1150mV @ 450MHz") > lines[2].find("25.53 J/TH"),
            "{}",
            lines[2]
        );
        assert!(lines[3].contains("Throttled"));
        assert!(lines[4].contains("Offline") && lines[4].contains("--"));
        assert_eq!(
            lines[5],
            "TOTAL: 2/3 online | 901.0 GH/s | 23.0 W | 25.53 J/TH"
        );
    }

    fn at(hm: &str) -> DateTime<Utc> {
        let t =
            chrono::NaiveDateTime::parse_from_str(&format!("2026-11-25 {hm}"), "%Y-%m-%d %H:%M")
                .expect("time");
        Utc.from_utc_datetime(&t)
    }

    fn hot() -> serde_json::Value {
        serde_json::json!({"hashRate": 400.0, "temp": 60.0, "power": 10.0, "coreVoltage": 1100, "frequency": 400})
    }

    #[test]
    fn the_reason_column_shows_cool_off_in_local_time_while_it_lasts() {
        let mut m = miner("attic", MinerState::Throttled, Some(hot()));
        m.throttle_cap = Some(bitaxe_core::safety::Settings::new(1100, 400.0));
        m.cooloff_until = Some(at("18:30"));
        m.reason = "held at or below 1100mV @ 400MHz after a firmware overheat".into();
        let two_hours_east = chrono::FixedOffset::east_opt(2 * 3600).expect("offset");
        let lines = render_at(&[m.clone()], at("18:00"), &two_hours_east);
        assert!(
            lines[2].ends_with(
                "cooling off until 20:30; held at or below 1100mV @ 400MHz after a firmware overheat"
            ),
            "{}",
            lines[2]
        );
        // Over: the cool-off is not shown any more, the engine's reason stays.
        let lines = render_at(&[m], at("18:31"), &two_hours_east);
        assert!(!lines[2].contains("cooling off"), "{}", lines[2]);
        assert!(
            lines[2].ends_with("after a firmware overheat"),
            "{}",
            lines[2]
        );
    }

    #[test]
    fn the_reason_column_names_a_given_up_target_once() {
        let mut m = miner("garage", MinerState::Online, Some(hot()));
        let why = "gave up on 1200mV @ 550MHz: the miner kept 1100mV @ 400MHz after 3 writes";
        m.gave_up = Some(why.into());
        let lines = render_at(&[m.clone()], at("12:00"), &Utc);
        assert!(lines[2].ends_with(why), "{}", lines[2]);
        // The engine's reason already says it: not repeated.
        m.reason = why.into();
        let lines = render_at(&[m], at("12:00"), &Utc);
        assert_eq!(lines[2].matches("gave up").count(), 1, "{}", lines[2]);
    }

    #[test]
    fn the_reason_column_shows_a_throttle_cap_the_reason_does_not_name() {
        let mut m = miner("shed", MinerState::Throttled, Some(hot()));
        m.throttle_cap = Some(bitaxe_core::safety::Settings::new(1100, 400.0));
        m.reason = "ASIC 71.0°C above max_temp 70°C".into();
        let lines = render_at(&[m.clone()], at("12:00"), &Utc);
        assert!(
            lines[2].ends_with("throttled to 1100mV @ 400MHz; ASIC 71.0°C above max_temp 70°C"),
            "{}",
            lines[2]
        );
        m.reason = "held at or below 1100mV @ 400MHz until it stays under max_temp".into();
        let lines = render_at(&[m], at("12:00"), &Utc);
        assert_eq!(
            lines[2].matches("1100mV @ 400MHz").count(),
            2,
            "settings + reason: {}",
            lines[2]
        );
    }
}
