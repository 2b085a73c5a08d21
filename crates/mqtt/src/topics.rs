//! Topic names, in one place so the discovery payloads, the publisher and the command parser agree.
//!
//! - `<base>/status`: the bridge's availability, `online`/`offline`, retained; the last will sets
//!   `offline` when the connection drops without a goodbye.
//! - `<base>/<node>/state`: one JSON object per device (a miner or the fleet), not retained.
//! - `<base>/<node>/availability`: `online` while the engine sees the miner answer, retained.
//! - `<base>/<node>/<entity>/set`: commands (`profile`, `pause`, `restart`, `resume`).
//! - `<prefix>/device/<node>/config`: Home Assistant device discovery, retained.
//! - `<prefix>/status`: Home Assistant's birth message (`online` after it starts).
//!
//! `<node>` is `bitaxe_<mac>` for a miner (the MAC in lower case without colons, so it survives a
//! rename or a new address) and `<base>_fleet` for the fleet, in `[a-zA-Z0-9_-]` as discovery
//! requires.

use bitaxe_core::config::MqttConfig;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topics {
    base: String,
    prefix: String,
}

impl Topics {
    pub fn new(config: &MqttConfig) -> Topics {
        Topics {
            base: config.base_topic().to_string(),
            prefix: config.discovery_prefix().to_string(),
        }
    }

    pub fn status(&self) -> String {
        format!("{}/status", self.base)
    }

    /// Home Assistant's birth and last-will topic.
    pub fn birth(&self) -> String {
        format!("{}/status", self.prefix)
    }

    pub fn discovery(&self, node: &str) -> String {
        format!("{}/device/{node}/config", self.prefix)
    }

    pub fn state(&self, node: &str) -> String {
        format!("{}/{node}/state", self.base)
    }

    pub fn availability(&self, node: &str) -> String {
        format!("{}/{node}/availability", self.base)
    }

    pub fn command(&self, node: &str, entity: &str) -> String {
        format!("{}/{node}/{entity}/set", self.base)
    }

    /// The filter every command topic matches.
    pub fn command_filter(&self) -> String {
        format!("{}/+/+/set", self.base)
    }

    /// `(node, entity)` of a command topic, or `None` for any other topic.
    pub fn parse_command<'a>(&self, topic: &'a str) -> Option<(&'a str, &'a str)> {
        let rest = topic.strip_prefix(&self.base)?.strip_prefix('/')?;
        let rest = rest.strip_suffix("/set")?;
        let (node, entity) = rest.split_once('/')?;
        (!node.is_empty() && !entity.is_empty() && !entity.contains('/')).then_some((node, entity))
    }

    /// The fleet device's node id.
    pub fn fleet_node(&self) -> String {
        format!("{}_fleet", slug(&self.base))
    }
}

/// A miner's node id: from its MAC when the firmware reports one (stable across renames and new
/// addresses), else from its configured name.
pub fn miner_node(mac: Option<&str>, name: &str) -> String {
    match mac.map(mac_digits).filter(|m| m.len() == 12) {
        Some(m) => format!("bitaxe_{m}"),
        None => format!("bitaxe_name_{}", slug(name)),
    }
}

/// `AA:BB:CC:DD:EE:FF` as `aabbccddeeff`.
fn mac_digits(mac: &str) -> String {
    mac.chars()
        .filter(char::is_ascii_hexdigit)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// `s` in the characters discovery allows in ids (`[a-zA-Z0-9_-]`), lower case.
pub fn slug(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topics() -> Topics {
        Topics::new(&MqttConfig::default())
    }

    #[test]
    fn names() {
        let t = topics();
        assert_eq!(t.status(), "bitaxe-scheduler/status");
        assert_eq!(t.birth(), "homeassistant/status");
        assert_eq!(
            t.discovery("bitaxe_aabb"),
            "homeassistant/device/bitaxe_aabb/config"
        );
        assert_eq!(t.fleet_node(), "bitaxe-scheduler_fleet");
        assert_eq!(t.command("n", "profile"), "bitaxe-scheduler/n/profile/set");
    }

    #[test]
    fn command_topics_parse_back() {
        let t = topics();
        assert_eq!(
            t.parse_command(&t.command("bitaxe_0a", "pause")),
            Some(("bitaxe_0a", "pause"))
        );
        for other in [
            "bitaxe-scheduler/status",
            "bitaxe-scheduler/n/state",
            "bitaxe-scheduler//pause/set",
            "bitaxe-scheduler/n/a/b/set",
            "other/n/pause/set",
            "bitaxe-schedulerx/n/pause/set",
        ] {
            assert_eq!(t.parse_command(other), None, "{other}");
        }
    }

    #[test]
    fn nodes_come_from_the_mac_or_the_name() {
        assert_eq!(
            miner_node(Some("AA:BB:CC:DD:EE:0F"), "x"),
            "bitaxe_aabbccddee0f"
        );
        assert_eq!(
            miner_node(None, "Living room #2"),
            "bitaxe_name_living_room__2"
        );
        assert_eq!(miner_node(Some("garbage"), "a"), "bitaxe_name_a");
    }
}
