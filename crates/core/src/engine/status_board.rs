//! The status board: what every configured miner looks like now, written by the workers and the
//! supervisor, read by the handle. One lock, held only to copy in or out.

use std::collections::BTreeMap;
use std::sync::RwLock;

use crate::config::Config;
use crate::events::MinerState;
use crate::status::MinerStatus;

#[derive(Default)]
pub(crate) struct StatusBoard {
    miners: RwLock<BTreeMap<String, MinerStatus>>,
}

impl StatusBoard {
    /// Change one miner's entry (nothing happens for a miner the board does not hold).
    pub fn update(&self, miner: &str, f: impl FnOnce(&mut MinerStatus)) {
        if let Ok(mut map) = self.miners.write() {
            if let Some(s) = map.get_mut(miner) {
                f(s);
            }
        }
    }

    /// Every miner, in name order.
    pub fn snapshot(&self) -> Vec<MinerStatus> {
        self.miners
            .read()
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Match the config: drop removed miners, add new ones, start over for a miner whose address
    /// or enabled flag changed, and mark disabled ones as such.
    pub fn sync(&self, config: &Config) {
        let Ok(mut map) = self.miners.write() else {
            return;
        };
        map.retain(|name, _| config.miner(name).is_some());
        for m in &config.miners {
            let entry = map
                .entry(m.name.clone())
                .or_insert_with(|| MinerStatus::new(&m.name, &m.ip, m.enabled));
            if entry.url != m.ip || entry.enabled != m.enabled {
                *entry = MinerStatus::new(&m.name, &m.ip, m.enabled);
            }
            if !m.enabled {
                entry.state = MinerState::Disabled;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::MinerConfig;

    fn miner(name: &str, ip: &str, enabled: bool) -> MinerConfig {
        MinerConfig {
            profiles: Default::default(),
            name: name.into(),
            ip: ip.into(),
            enabled,
            day_settings: None,
            night_settings: None,
            limits: None,
        }
    }

    #[test]
    fn the_board_follows_the_config_and_keeps_what_workers_wrote() {
        let board = StatusBoard::default();
        let mut cfg = Config {
            miners: vec![
                miner("a", "http://127.0.0.1:1", true),
                miner("b", "http://127.0.0.1:2", false),
            ],
            ..Config::default()
        };
        board.sync(&cfg);
        board.update("a", |s| s.reason = "kept".into());
        board.update("nobody", |s| s.reason = "lost".into());
        let all = board.snapshot();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].reason, "kept");
        assert_eq!(all[1].state, MinerState::Disabled);
        cfg.miners.remove(1);
        cfg.miners[0].ip = "http://127.0.0.1:3".into();
        board.sync(&cfg);
        let all = board.snapshot();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].reason, "", "a new address starts over");
    }
}
