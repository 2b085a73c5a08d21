//! The seed's status table: Name, Status, Hashrate, Temp, Power, Efficiency, Settings, then TOTAL.

use bitaxe_core::safety::fmt_mhz;
use bitaxe_core::status::{MinerStatus, Totals};

const HEADERS: [&str; 7] = [
    "Name",
    "Status",
    "Hashrate",
    "Temp",
    "Power",
    "Efficiency",
    "Settings",
];

fn cells(m: &MinerStatus) -> [String; 7] {
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
    ]
}

/// The table and its TOTAL line, as lines of text.
pub fn render(miners: &[MinerStatus]) -> Vec<String> {
    let rows: Vec<[String; 7]> = miners.iter().map(cells).collect();
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
                && lines[0].ends_with("Settings")
        );
        assert!(
            lines[2].contains("450.5 GH/s")
                && lines[2].contains("55.2°C")
                && lines[2].contains("11.5 W")
        );
        assert!(
            lines[2].contains("25.53 J/TH") && lines[2].ends_with("1150mV @ 450MHz"),
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
}
