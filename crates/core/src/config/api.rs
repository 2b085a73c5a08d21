//! The `api` key: where the engine's HTTP API listens (absent: the API is off).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use serde::{Deserialize, Serialize};

/// The default address of the API: loopback only.
pub const DEFAULT_LISTEN: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 8417);

/// `{"listen": "127.0.0.1:8417", "tls": true}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ApiConfig {
    /// `ADDR:PORT` the API binds to.
    #[serde(default = "default_listen")]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub listen: SocketAddr,
    /// Serve HTTPS with a self-signed certificate made at first start and kept beside the config
    /// (`FILE.api-cert.pem`, `FILE.api-key.pem`); clients pin its fingerprint. Off: plain HTTP.
    #[serde(default, skip_serializing_if = "is_false")]
    pub tls: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn default_listen() -> SocketAddr {
    DEFAULT_LISTEN
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            listen: DEFAULT_LISTEN,
            tls: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_is_parsed_as_an_address() {
        let c: ApiConfig = serde_json::from_str(r#"{"listen": "0.0.0.0:9000"}"#).expect("parse");
        assert_eq!(
            c.listen,
            "0.0.0.0:9000".parse::<SocketAddr>().expect("addr")
        );
        assert!(serde_json::from_str::<ApiConfig>(r#"{"listen": "nowhere"}"#).is_err());
        assert!(serde_json::from_str::<ApiConfig>(r#"{"listen": "127.0.0.1:1", "x": 1}"#).is_err());
        let d: ApiConfig = serde_json::from_str("{}").expect("default");
        assert_eq!(d.listen, DEFAULT_LISTEN);
        assert!(!d.tls);
        let t: ApiConfig = serde_json::from_str(r#"{"tls": true}"#).expect("tls");
        assert!(t.tls);
        let e = serde_json::from_str::<ApiConfig>(r#"{"tls": "yes"}"#).expect_err("bad tls");
        assert!(e.to_string().contains("bool"), "{e}");
        // Off is not written out: a config saved by this version reads the same in older ones.
        assert_eq!(
            serde_json::to_string(&d).expect("ser"),
            r#"{"listen":"127.0.0.1:8417"}"#
        );
    }

    #[test]
    fn saved_and_edited_in_a_commented_file() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("c.json");
        std::fs::write(&path, "{\n  // mine\n  \"max_temp\": 60\n}\n").expect("write");
        let mut c = crate::config::Config::load(&path).expect("load");
        assert_eq!(c.api, None);
        c.api = Some(ApiConfig {
            listen: "0.0.0.0:9000".parse().expect("addr"),
            tls: true,
        });
        c.save(&path).expect("save");
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(text.contains("// mine"), "{text}");
        let back = crate::config::Config::load(&path).expect("load");
        assert_eq!(back.api, c.api);
        c.api = Some(ApiConfig::default());
        c.save(&path).expect("save again");
        let back = crate::config::Config::load(&path).expect("load");
        assert_eq!(back.api, Some(ApiConfig::default()));
    }
}
