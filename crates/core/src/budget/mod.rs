//! The fleet power budget: keep the fleet's draw under a circuit's capacity, and spread profile
//! changes over a window so the miners do not all step in the same second.
//!
//! Pure parts, each tested on its own:
//! - [`allocate`]: per miner, the highest rung of its profile ladder (ordered by expected watts,
//!   down to `off`) that the budget allows. Over budget it steps down the least efficient miners
//!   first (J/TH measured per profile); with room it restores the most efficient first, with
//!   hysteresis (a restore must leave [`Tuning::headroom`] of the budget free, and a limited miner
//!   stays limited for at least [`Tuning::min_hold`]). A raise is always checked against the room
//!   first (the expected power of the raise).
//! - [`curve`]: what a miner draws on each profile (the median of its own measured samples) and
//!   its J/TH there, else an estimate from voltage² × frequency scaled on its current reading.
//! - [`stagger`]: the order and pace in which granted changes are released to the workers:
//!   limits forced by an overshoot at once, every other change spread over `stagger_seconds`,
//!   lowering miners first and raising after, each raise checked against the room.
//!
//! Groups: the allocator works on any set of miners with one cap, so a per-group budget
//! (`groups.<name>.power_budget`, same shape) is one more call per group; only the fleet-wide
//! key exists for now.
//!
//! Counting: a miner that answered its last poll counts with its measured `power` when it runs
//! the rung in force, never less than that rung's expected watts (a change not yet made, or one
//! still ramping, counts at what it will draw); a miner that stopped answering keeps its last draw until it is declared
//! offline (`offline_after` failed polls), then counts nothing. "Coverage" is how many miners
//! that count were reporting.

pub mod allocate;
pub mod curve;
pub mod stagger;

use serde::{Deserialize, Serialize};

pub use allocate::{allocate, Allocation, Change, Grant, Memory, MinerView, Reach, Rung, Tuning};
pub use curve::{estimate_watts, PowerCurve};
pub use stagger::{Release, Stagger};

/// The longest stagger window, s.
pub const MAX_STAGGER_SECONDS: u32 = 3600;
/// Default stagger window, s.
pub const DEFAULT_STAGGER_SECONDS: u32 = 120;

/// Config key `power_budget`: `{ "watts": 300, "stagger_seconds": 120 }`. The same shape is
/// meant for `groups.<name>.power_budget` later; fleet-wide for now.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawPowerBudget")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PowerBudget {
    /// The cap on the fleet's summed `power`, W (>= 0; 0 pauses every miner).
    pub watts: f64,
    /// Profile changes from the plan or prices are spread over this window, s (0..=3600,
    /// default 120; 0 releases them at once, still lowering before raising).
    pub stagger_seconds: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPowerBudget {
    watts: f64,
    #[serde(default = "default_stagger")]
    stagger_seconds: u32,
}

fn default_stagger() -> u32 {
    DEFAULT_STAGGER_SECONDS
}

impl TryFrom<RawPowerBudget> for PowerBudget {
    type Error = String;
    fn try_from(raw: RawPowerBudget) -> Result<Self, Self::Error> {
        if !raw.watts.is_finite() || raw.watts < 0.0 {
            return Err(format!(
                "power_budget.watts is {}; it must be a number of watts, 0 or more",
                raw.watts
            ));
        }
        if raw.stagger_seconds > MAX_STAGGER_SECONDS {
            return Err(format!(
                "power_budget.stagger_seconds is {}; it must be from 0 to {MAX_STAGGER_SECONDS}",
                raw.stagger_seconds
            ));
        }
        Ok(PowerBudget {
            watts: raw.watts,
            stagger_seconds: raw.stagger_seconds,
        })
    }
}

/// What the budget looks like now, for front ends.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct BudgetUse {
    /// The cap, W.
    pub cap: f64,
    /// What the fleet draws by the budget's count (measured, expected for changes not yet
    /// made), W.
    pub used: f64,
    /// The summed `power` of the miners that answered their last poll, W (AxeOS reports an
    /// estimate on a Gamma: expect 5–20 % against a wall meter).
    #[serde(default)]
    pub measured: f64,
    /// Miners whose draw counts.
    pub counted: usize,
    /// Of those, how many answered their last poll ("coverage").
    pub reporting: usize,
    /// Miners held below their plan by the budget now.
    pub limited: Vec<String>,
    /// False when even with every changeable miner at its lowest rung the fleet is over.
    pub met: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<PowerBudget, String> {
        serde_json::from_str(text).map_err(|e| e.to_string())
    }

    #[test]
    fn the_config_shape_is_checked() {
        assert_eq!(
            parse(r#"{"watts": 300, "stagger_seconds": 60}"#),
            Ok(PowerBudget {
                watts: 300.0,
                stagger_seconds: 60
            })
        );
        assert_eq!(parse(r#"{"watts": 0}"#).map(|b| b.stagger_seconds), Ok(120));
        for bad in [
            r#"{"watts": -1}"#,
            r#"{"watts": 300, "stagger_seconds": 3601}"#,
            r#"{"watts": 300, "stager_seconds": 10}"#,
            r#"{"stagger_seconds": 10}"#,
            r#"{"watts": "300"}"#,
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        let text = serde_json::to_string(&PowerBudget {
            watts: 300.0,
            stagger_seconds: 120,
        })
        .unwrap_or_default();
        assert_eq!(text, r#"{"watts":300.0,"stagger_seconds":120}"#);
        assert!(parse(&text).is_ok(), "round trip");
    }

    #[test]
    fn the_config_file_takes_the_key_and_names_a_bad_value() {
        let path = std::path::Path::new("t.json");
        let ok = crate::config::Config::parse(
            r#"{ "power_budget": { "watts": 300, "stagger_seconds": 60 } }"#,
            path,
        )
        .map(|c| c.power_budget);
        assert_eq!(
            ok.ok().flatten(),
            Some(PowerBudget {
                watts: 300.0,
                stagger_seconds: 60
            })
        );
        let absent = crate::config::Config::parse("{}", path).map(|c| c.power_budget);
        assert_eq!(absent.ok(), Some(None));
        let err = crate::config::Config::parse("{\n  \"power_budget\": { \"watts\": -5 }\n}", path)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("power_budget") && err.contains("0 or more"),
            "{err}"
        );
    }
}
