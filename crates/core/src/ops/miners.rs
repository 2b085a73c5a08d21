//! Config and miner edits: one function each, with or without an engine.

use super::{unknown, OpsError, Target};
use crate::config::{Config, MinerConfig};

/// The config in force.
pub fn config(t: &Target) -> Result<Config, OpsError> {
    match t {
        Target::Engine(e) => Ok((*e.config()).clone()),
        Target::Standalone(s) => Ok(Config::load(&s.config_path)?),
    }
}

/// Save a whole new config (validated first); an engine picks it up at once, a running
/// scheduler within a second.
pub fn save_config(t: &Target, config: Config) -> Result<(), OpsError> {
    match t {
        Target::Engine(e) => Ok(e.save_config(config)?),
        Target::Standalone(s) => Ok(config.save(&s.config_path)?),
    }
}

/// Change the config with `f` and save it.
fn edit(t: &Target, f: impl FnOnce(&mut Config) -> Result<(), OpsError>) -> Result<(), OpsError> {
    let mut config = config(t)?;
    f(&mut config)?;
    save_config(t, config)
}

fn checked(mut m: MinerConfig) -> Result<MinerConfig, OpsError> {
    m.name = m.name.trim().to_string();
    if m.name.is_empty() {
        return Err(OpsError::NoName);
    }
    m.ip = axeos::normalize_address(&m.ip)?;
    Ok(m)
}

/// Add miners (addresses normalised to `http://HOST[:PORT]`); returns them as saved.
pub fn add_miners(t: &Target, miners: Vec<MinerConfig>) -> Result<Vec<MinerConfig>, OpsError> {
    let mut added = Vec::new();
    edit(t, |config| {
        for m in miners {
            let m = checked(m)?;
            if config.miner(&m.name).is_some() {
                return Err(OpsError::MinerExists(m.name));
            }
            config.miners.push(m.clone());
            added.push(m);
        }
        Ok(())
    })?;
    Ok(added)
}

/// Replace the miner named `original` (it may be renamed).
pub fn update_miner(t: &Target, original: &str, miner: MinerConfig) -> Result<(), OpsError> {
    edit(t, |config| {
        let miner = checked(miner)?;
        if miner.name != original && config.miner(&miner.name).is_some() {
            return Err(OpsError::MinerExists(miner.name));
        }
        let unknown = unknown(config, original);
        let slot = config
            .miners
            .iter_mut()
            .find(|m| m.name == original)
            .ok_or(unknown)?;
        *slot = miner;
        Ok(())
    })
}

pub fn remove_miner(t: &Target, name: &str) -> Result<(), OpsError> {
    edit(t, |config| {
        if config.miner(name).is_none() {
            return Err(unknown(config, name));
        }
        config.miners.retain(|m| m.name != name);
        Ok(())
    })
}

/// Schedule a miner again, or stop scheduling it (it keeps its current settings).
pub fn set_enabled(t: &Target, name: &str, enabled: bool) -> Result<(), OpsError> {
    edit(t, |config| {
        let unknown = unknown(config, name);
        let m = config
            .miners
            .iter_mut()
            .find(|m| m.name == name)
            .ok_or(unknown)?;
        m.enabled = enabled;
        Ok(())
    })
}
