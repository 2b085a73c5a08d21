//! The `mqtt` key: the broker the MQTT bridge (crate `bitaxe-mqtt`) publishes to, with Home
//! Assistant discovery (absent: no bridge).
//!
//! The broker is a URL, `mqtt://HOST[:PORT]` (plain TCP, port 1883 by default) or
//! `mqtts://HOST[:PORT]` (TLS with the system's root certificates, port 8883). Credentials go in
//! their own keys, never in the URL, so that the URL can be shown and logged; the password is
//! left out of `Debug`.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{key, Problem};

/// The broker on this computer, as Mosquitto listens by default.
pub const DEFAULT_URL: &str = "mqtt://127.0.0.1:1883";
/// Home Assistant's default discovery prefix.
pub const DEFAULT_DISCOVERY_PREFIX: &str = "homeassistant";
/// Where the bridge's own topics live (`<base>/status`, `<base>/<device>/state`...).
pub const DEFAULT_BASE_TOPIC: &str = "bitaxe-scheduler";

/// `{"url": "mqtt://127.0.0.1:1883", "username": "...", "password": "...",
/// "discovery_prefix": "homeassistant", "base_topic": "bitaxe-scheduler"}`, every key optional.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MqttConfig {
    /// `mqtt://HOST[:PORT]` or `mqtts://HOST[:PORT]`.
    #[serde(default = "default_url")]
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Never logged nor shown by `Debug`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// Home Assistant's discovery prefix (default `homeassistant`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discovery_prefix: Option<String>,
    /// The first level of the bridge's own topics (default `bitaxe-scheduler`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_topic: Option<String>,
}

fn default_url() -> String {
    DEFAULT_URL.to_string()
}

impl Default for MqttConfig {
    fn default() -> Self {
        MqttConfig {
            url: default_url(),
            username: None,
            password: None,
            discovery_prefix: None,
            base_topic: None,
        }
    }
}

/// The password is a secret: `Debug` says only whether there is one.
impl fmt::Debug for MqttConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MqttConfig")
            .field("url", &self.url)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("discovery_prefix", &self.discovery_prefix)
            .field("base_topic", &self.base_topic)
            .finish()
    }
}

/// Where the broker is, parsed from [`MqttConfig::url`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broker {
    /// `mqtts://`: TLS with the system's root certificates.
    pub tls: bool,
    /// A host name or IP address (an IPv6 address without its brackets).
    pub host: String,
    pub port: u16,
}

impl fmt::Display for Broker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.tls { "mqtts" } else { "mqtt" };
        if self.host.contains(':') {
            write!(f, "{scheme}://[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{scheme}://{}:{}", self.host, self.port)
        }
    }
}

impl MqttConfig {
    pub fn discovery_prefix(&self) -> &str {
        self.discovery_prefix
            .as_deref()
            .unwrap_or(DEFAULT_DISCOVERY_PREFIX)
    }

    pub fn base_topic(&self) -> &str {
        self.base_topic.as_deref().unwrap_or(DEFAULT_BASE_TOPIC)
    }

    /// The broker's address, or why [`MqttConfig::url`] is not one (the message never repeats
    /// the URL's user-info part, which may hold a password).
    pub fn broker(&self) -> Result<Broker, String> {
        parse_url(&self.url)
    }

    /// Every problem with the values, each with its key path under `mqtt`.
    pub fn problems(&self) -> Vec<Problem> {
        let at = |k: &str| vec![key("mqtt"), key(k)];
        let mut out = Vec::new();
        if let Err(message) = self.broker() {
            out.push(Problem {
                path: at("url"),
                message,
            });
        }
        if self
            .username
            .as_deref()
            .is_some_and(|u| u.trim().is_empty())
        {
            out.push(Problem {
                path: at("username"),
                message: "is empty; leave the key out for a broker without login".into(),
            });
        }
        if self.password.is_some() && self.username.is_none() {
            out.push(Problem {
                path: at("password"),
                message: "needs a username (MQTT sends no password without one)".into(),
            });
        }
        for (k, value) in [
            ("discovery_prefix", &self.discovery_prefix),
            ("base_topic", &self.base_topic),
        ] {
            if let Some(message) = value.as_deref().and_then(topic_problem) {
                out.push(Problem {
                    path: at(k),
                    message,
                });
            }
        }
        out
    }
}

/// Why `t` cannot be the first levels of a topic we publish under.
fn topic_problem(t: &str) -> Option<String> {
    if t.is_empty() {
        return Some("is empty; leave the key out for the default".into());
    }
    if t.contains(['+', '#']) {
        return Some(format!(
            "{t:?} has a wildcard (+ or #), which a topic we publish to may not have"
        ));
    }
    if t.starts_with('/') || t.ends_with('/') || t.contains("//") {
        return Some(format!(
            "{t:?} has an empty level; write levels joined by single slashes, e.g. \"home/bitaxe\""
        ));
    }
    if t.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Some(format!("{t:?} has a space or a control character"));
    }
    None
}

fn parse_url(url: &str) -> Result<Broker, String> {
    let expected =
        "expected mqtt://HOST[:PORT] or mqtts://HOST[:PORT], e.g. \"mqtt://127.0.0.1:1883\"";
    let (tls, rest) = if let Some(r) = url.strip_prefix("mqtt://") {
        (false, r)
    } else if let Some(r) = url.strip_prefix("mqtts://") {
        (true, r)
    } else {
        let scheme = url.split_once("://").map(|(s, _)| s);
        return Err(match scheme {
            Some(s) => format!("the scheme {s:?} is not supported; {expected}"),
            None => format!("{url:?} is not a broker URL; {expected}"),
        });
    };
    if rest.contains('@') {
        return Err(
            "has a user name or password in it; put them in mqtt.username and mqtt.password".into(),
        );
    }
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.contains(['/', '?', '#']) {
        return Err(format!("has a path or query; {expected}"));
    }
    let default_port = if tls { 8883 } else { 1883 };
    let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
        let (host, after) = v6
            .split_once(']')
            .ok_or_else(|| format!("an IPv6 address needs its closing ]; {expected}"))?;
        match after {
            "" => (host, None),
            p => (
                host,
                Some(
                    p.strip_prefix(':')
                        .ok_or_else(|| format!("unexpected {p:?} after the address"))?,
                ),
            ),
        }
    } else {
        match rest.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (rest, None),
        }
    };
    if host.is_empty() {
        return Err(format!("has no host; {expected}"));
    }
    if host.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("the host {host:?} has a space in it"));
    }
    let port = match port {
        None => default_port,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 => n,
            _ => return Err(format!("the port {p:?} is not a number from 1 to 65535")),
        },
    };
    Ok(Broker {
        tls,
        host: host.to_string(),
        port,
    })
}

pub(crate) fn problems(config: &super::Config) -> Vec<Problem> {
    config.mqtt.iter().flat_map(MqttConfig::problems).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn with_url(url: &str) -> MqttConfig {
        MqttConfig {
            url: url.into(),
            ..MqttConfig::default()
        }
    }

    #[test]
    fn urls_parse_with_default_ports() {
        let b = |u: &str| with_url(u).broker();
        assert_eq!(
            b("mqtt://127.0.0.1:1883"),
            Ok(Broker {
                tls: false,
                host: "127.0.0.1".into(),
                port: 1883
            })
        );
        assert_eq!(b("mqtt://broker.example.invalid").map(|b| b.port), Ok(1883));
        assert_eq!(
            b("mqtts://broker.example.invalid/").map(|b| (b.tls, b.port)),
            Ok((true, 8883))
        );
        assert_eq!(
            b("mqtt://[::1]:1884").map(|b| (b.host, b.port)),
            Ok(("::1".into(), 1884))
        );
        assert_eq!(
            b("mqtt://[::1]").map(|b| b.to_string()),
            Ok("mqtt://[::1]:1883".into())
        );
        for bad in [
            "http://127.0.0.1",
            "127.0.0.1:1883",
            "mqtt://",
            "mqtt://:1883",
            "mqtt://127.0.0.1:0",
            "mqtt://127.0.0.1:99999",
            "mqtt://127.0.0.1:x",
            "mqtt://127.0.0.1/topic",
            "mqtt://[::1",
        ] {
            assert!(b(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn a_password_in_the_url_is_refused_without_being_repeated() {
        let e = with_url("mqtt://me:hunter2@127.0.0.1")
            .broker()
            .expect_err("refused");
        assert!(e.contains("mqtt.password"), "{e}");
        assert!(!e.contains("hunter2"), "{e}");
    }

    #[test]
    fn debug_hides_the_password() {
        let c = MqttConfig {
            username: Some("me".into()),
            password: Some("hunter2".into()),
            ..MqttConfig::default()
        };
        let text = format!("{c:?}");
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("redacted"), "{text}");
        let whole = Config {
            mqtt: Some(c),
            ..Config::default()
        };
        assert!(!format!("{whole:?}").contains("hunter2"));
    }

    #[test]
    fn problems_name_the_key() {
        let keys = |c: MqttConfig| -> Vec<String> {
            c.problems()
                .iter()
                .map(|p| crate::config::path_string(&p.path))
                .collect()
        };
        assert!(keys(MqttConfig::default()).is_empty());
        assert_eq!(keys(with_url("tcp://x")), ["mqtt.url"]);
        assert_eq!(
            keys(MqttConfig {
                password: Some("p".into()),
                ..MqttConfig::default()
            }),
            ["mqtt.password"]
        );
        assert_eq!(
            keys(MqttConfig {
                discovery_prefix: Some("home/#".into()),
                base_topic: Some("/x".into()),
                ..MqttConfig::default()
            }),
            ["mqtt.discovery_prefix", "mqtt.base_topic"]
        );
        assert!(keys(MqttConfig {
            discovery_prefix: Some("ha/discovery".into()),
            ..MqttConfig::default()
        })
        .is_empty());
    }

    #[test]
    fn a_config_file_with_mqtt_loads_and_bad_values_name_the_key() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("c.json");
        std::fs::write(
            &path,
            "{\n  // mine\n  \"mqtt\": {\"username\": \"ha\", \"password\": \"pw\"}\n}\n",
        )
        .expect("write");
        let c = Config::load(&path).expect("load");
        let m = c.mqtt.clone().expect("mqtt");
        assert_eq!(m.url, DEFAULT_URL);
        assert_eq!(m.discovery_prefix(), "homeassistant");
        assert_eq!(m.base_topic(), "bitaxe-scheduler");
        c.save(&path).expect("save");
        assert_eq!(Config::load(&path).expect("again").mqtt, Some(m));

        std::fs::write(
            &path,
            "{\n  \"mqtt\": {\n    \"url\": \"http://x\"\n  }\n}\n",
        )
        .expect("w");
        let e = Config::load(&path).expect_err("bad url").to_string();
        assert!(e.contains("mqtt.url") && e.contains("line 3"), "{e}");
        std::fs::write(&path, "{\"mqtt\": {\"urll\": \"mqtt://x\"}}").expect("w");
        let e = Config::load(&path).expect_err("unknown key").to_string();
        assert!(e.contains("urll"), "{e}");
    }
}
