//! Hard limits per Bitaxe model, from the firmware's device table (`main/device_config.h`: board
//! versions, ASIC and its preset options). The presets are what the AxeOS UI offers; a hard limit
//! here is the top voltage preset plus 50 mV and the top frequency preset plus 175 MHz (for the
//! Gamma 601 that is the long-standing 1300 mV / 800 MHz), never above the engine's global caps.
//! The floor is the TPS546 regulator's 1.0 V.
//!
//! A miner is known by its `boardVersion`. A board not in this table is monitored, never written
//! to, until the user sets `limits` for it in the config.

use super::Envelope;
use crate::config::{Config, MinerConfig};

/// One model's hard limits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModelLimits {
    pub name: &'static str,
    pub asic: &'static str,
    /// `boardVersion` values of this model.
    pub boards: &'static [&'static str],
    pub min_voltage: u32,
    pub max_voltage: u32,
    pub min_frequency: f64,
    pub max_frequency: f64,
}

const fn model(
    name: &'static str,
    asic: &'static str,
    boards: &'static [&'static str],
    top_voltage_preset: u32,
    top_frequency_preset: f64,
) -> ModelLimits {
    ModelLimits {
        name,
        asic,
        boards,
        min_voltage: 1000,
        max_voltage: top_voltage_preset + 50,
        min_frequency: 50.0,
        max_frequency: top_frequency_preset + 175.0,
    }
}

/// Gamma (BM1370, presets up to 1250 mV / 625 MHz), Gamma Turbo (two BM1370), Gamma Duo (BM1370
/// on the low "XP" table, up to 410 MHz), Supra and Supra Hex (BM1368, up to 1300 mV / 575 MHz),
/// Ultra and Hex (BM1366, up to 1300 mV / 575 MHz).
pub const MODELS: &[ModelLimits] = &[
    model(
        "Gamma",
        "BM1370",
        &["600", "601", "602", "603"],
        1250,
        625.0,
    ),
    model("Gamma Turbo", "BM1370", &["801"], 1250, 625.0),
    model("Gamma Duo", "BM1370", &["650"], 1250, 410.0),
    model(
        "Supra",
        "BM1368",
        &["400", "401", "402", "403"],
        1300,
        575.0,
    ),
    model("Supra Hex", "BM1368", &["701", "702"], 1300, 575.0),
    model(
        "Ultra",
        "BM1366",
        &["0.11", "201", "202", "203", "204", "205", "207"],
        1300,
        575.0,
    ),
    model("Hex", "BM1366", &["302", "303"], 1300, 575.0),
];

/// The model a miner reports, by its board version.
pub fn model_of(info: &axeos::Info) -> Option<&'static ModelLimits> {
    let board = info.board_version.as_deref()?.trim();
    MODELS.iter().find(|m| m.boards.contains(&board))
}

/// How a miner names itself, for messages: `board 601 (BM1370)`.
pub fn describe(info: &axeos::Info) -> String {
    let board = info.board_version.as_deref().unwrap_or("?");
    match (&info.asic_model, &info.device_model) {
        (Some(a), Some(d)) => format!("{d} board {board} ({a})"),
        (Some(a), None) => format!("board {board} ({a})"),
        (None, Some(d)) => format!("{d} board {board}"),
        (None, None) => format!("board {board}"),
    }
}

/// Why a miner may not be written to.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{model} has no known hard limits; set `limits` for this miner to let the scheduler write to it")]
pub struct UnknownModel {
    pub model: String,
}

/// The miner's envelope: the config's limits ∩ the model's hard limits ∩ the miner's own
/// `limits`. An unknown model gets one only when the user set `limits` for it.
pub fn envelope_for(
    cfg: &Config,
    miner: &MinerConfig,
    info: &axeos::Info,
) -> Result<Envelope, UnknownModel> {
    let user = miner.limits.as_ref();
    let model = model_of(info);
    if model.is_none() && user.is_none() {
        return Err(UnknownModel {
            model: describe(info),
        });
    }
    let mut min_v = cfg.min_voltage;
    let mut max_v = cfg.max_voltage;
    let mut min_f = cfg.min_frequency;
    let mut max_f = cfg.max_frequency;
    if let Some(m) = model {
        min_v = min_v.max(m.min_voltage);
        max_v = max_v.min(m.max_voltage);
        min_f = min_f.max(m.min_frequency);
        max_f = max_f.min(m.max_frequency);
    }
    if let Some(l) = user {
        min_v = l.min_voltage.map_or(min_v, |v| min_v.max(v));
        max_v = l.max_voltage.map_or(max_v, |v| max_v.min(v));
        min_f = l.min_frequency.map_or(min_f, |f| min_f.max(f));
        max_f = l.max_frequency.map_or(max_f, |f| max_f.min(f));
    }
    Ok(Envelope::new(min_v, max_v, min_f, max_f))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::MinerLimits;

    fn info(board: &str, asic: &str) -> axeos::Info {
        axeos::Info {
            board_version: Some(board.into()),
            asic_model: Some(asic.into()),
            ..Default::default()
        }
    }

    fn miner(limits: Option<MinerLimits>) -> MinerConfig {
        MinerConfig {
            profiles: Default::default(),
            name: "m".into(),
            ip: "127.0.0.1".into(),
            enabled: true,
            day_settings: None,
            night_settings: None,
            limits,
        }
    }

    #[test]
    fn every_model_of_the_table_is_known_and_capped() {
        for (board, name, max_f) in [
            ("601", "Gamma", 800.0),
            ("801", "Gamma Turbo", 800.0),
            ("650", "Gamma Duo", 585.0),
            ("402", "Supra", 750.0),
            ("205", "Ultra", 750.0),
            ("303", "Hex", 750.0),
        ] {
            let m = model_of(&info(board, "x")).expect(board);
            assert_eq!((m.name, m.max_frequency), (name, max_f));
            assert!(m.max_voltage <= 1350 && m.min_voltage == 1000);
        }
    }

    #[test]
    fn the_envelope_is_config_and_model_and_miner_limits() {
        let cfg = Config {
            max_frequency: 700.0,
            max_voltage: 1250,
            ..Config::default()
        };
        let duo = envelope_for(&cfg, &miner(None), &info("650", "BM1370")).expect("known");
        assert_eq!((duo.max_voltage, duo.max_frequency), (1250, 585.0));
        let own = MinerLimits {
            min_voltage: None,
            max_voltage: Some(1200),
            min_frequency: Some(300.0),
            max_frequency: None,
        };
        let gamma =
            envelope_for(&cfg, &miner(Some(own.clone())), &info("601", "BM1370")).expect("known");
        assert_eq!(
            (gamma.max_voltage, gamma.min_frequency, gamma.max_frequency),
            (1200, 300.0, 700.0)
        );
        // Unknown board: nothing until the user sets limits.
        let err = envelope_for(&cfg, &miner(None), &info("999", "BM1399")).expect_err("unknown");
        assert!(err.to_string().contains("board 999 (BM1399)"), "{err}");
        let set = envelope_for(&cfg, &miner(Some(own)), &info("999", "BM1399")).expect("set");
        assert_eq!(set.max_voltage, 1200);
    }
}
