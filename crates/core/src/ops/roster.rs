//! What an emergency stop needs from the config: the miners' names, addresses and enabled flags,
//! and the safe settings. A config with an invalid value elsewhere (a day voltage out of range, a
//! misspelt time) must not stop an emergency, so when the full parse fails this reads only those
//! keys, and falls back to the built-in safe settings when `safe_settings` itself is unusable.

use std::path::Path;

use serde_json::Value;

use crate::config::{Config, ConfigError, MinerConfig, SafeSettings};
use crate::safety::{Envelope, Settings};

/// The config to stop with, and the problem that made it fall back to the lenient read, if any.
pub(crate) fn for_emergency(path: &Path) -> Result<(Config, Option<ConfigError>), ConfigError> {
    let problem = match Config::load(path) {
        Ok(config) => return Ok((config, None)),
        Err(e @ ConfigError::Io { .. }) => return Err(e),
        Err(e) => e,
    };
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    // With an unterminated comment or invalid JSON there is no miner list to read: the original
    // error says where the file breaks.
    let Ok(plain) = crate::config::comments::strip(text.trim_start_matches('\u{feff}')) else {
        return Err(problem);
    };
    let Ok(value) = serde_json::from_str::<Value>(&plain) else {
        return Err(problem);
    };
    Ok((lenient(&value), Some(problem)))
}

/// The default config with the miner list and safe settings found in `value`.
fn lenient(value: &Value) -> Config {
    let defaults = Config::default();
    let miners = value
        .get("miners")
        .and_then(Value::as_array)
        .map(|list| list.iter().filter_map(miner).collect())
        .unwrap_or_default();
    let safe = value
        .get("safe_settings")
        .and_then(|v| serde_json::from_value::<SafeSettings>(v.clone()).ok())
        .filter(|s| {
            let env: Envelope = defaults.envelope();
            env.contains(Settings::new(s.voltage, s.frequency))
        })
        .unwrap_or(defaults.safe_settings);
    Config {
        miners,
        safe_settings: safe,
        ..defaults
    }
}

fn miner(v: &Value) -> Option<MinerConfig> {
    let name = v.get("name")?.as_str()?.to_string();
    let ip = axeos::normalize_address(v.get("ip")?.as_str()?).ok()?;
    Some(MinerConfig {
        profiles: Default::default(),
        name,
        ip,
        enabled: v.get("enabled").and_then(Value::as_bool).unwrap_or(true),
        day_settings: None,
        night_settings: None,
        limits: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_day_voltage_still_yields_the_miners_and_safe_settings() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("c.json");
        std::fs::write(
            &path,
            r#"{
  // mine
  "miners": [{"name": "a", "ip": "127.0.0.1:4000", "enabled": true},
             {"name": "b", "ip": "127.0.0.2", "enabled": false},
             {"name": "broken"}],
  "global_day_settings": {"voltage": 9999},
  "safe_settings": {"voltage": 1050, "frequency": 300}
}"#,
        )
        .expect("write");
        let (cfg, problem) = for_emergency(&path).expect("lenient");
        assert!(problem.is_some());
        let names: Vec<_> = cfg
            .miners
            .iter()
            .map(|m| (m.name.as_str(), m.enabled))
            .collect();
        assert_eq!(names, [("a", true), ("b", false)]);
        assert_eq!(cfg.miners[0].ip, "http://127.0.0.1:4000");
        assert_eq!(cfg.safe(), Settings::new(1050, 300.0));
    }

    #[test]
    fn unusable_safe_settings_fall_back_to_the_built_in_ones() {
        let v: Value =
            serde_json::json!({"miners": [], "safe_settings": {"voltage": 5000, "frequency": 300}});
        assert_eq!(lenient(&v).safe_settings, Config::default().safe_settings);
        let v: Value = serde_json::json!({"safe_settings": "low"});
        assert_eq!(lenient(&v).safe_settings, Config::default().safe_settings);
    }

    #[test]
    fn a_file_that_is_not_json_is_an_error() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("c.json");
        std::fs::write(&path, "{ \"miners\": [").expect("write");
        assert!(for_emergency(&path).is_err());
    }
}
