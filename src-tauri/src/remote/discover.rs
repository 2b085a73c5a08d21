//! Finding schedulers on the LAN: they advertise `_bitaxe-sched._tcp.local.` with TXT
//! `version=1`, `tls=0|1`, `name=<hostname>`. The app browses only while the user has the
//! discovery list open (one short browse per click), never in the background.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use serde::Serialize;

pub const SERVICE: &str = "_bitaxe-sched._tcp.local.";

/// A scheduler found on the LAN, ready for the Connect form.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Discovered {
    /// The name it advertises (its host name).
    pub name: String,
    /// What goes in the address field: `ip:port`, or `https://ip:port` over TLS.
    pub address: String,
    pub tls: bool,
    /// The API major version it advertises; the app speaks 1.
    pub version: String,
    pub compatible: bool,
}

/// Build the list entry from a resolved service (`None` without a usable address).
pub fn entry(
    fullname: &str,
    hostname: &str,
    addresses: &[IpAddr],
    port: u16,
    txt: &BTreeMap<String, String>,
) -> Option<Discovered> {
    let tls = txt.get("tls").map(|v| v.trim() == "1").unwrap_or(false);
    let version = txt.get("version").cloned().unwrap_or_default();
    let name = txt
        .get("name")
        .filter(|n| !n.trim().is_empty())
        .cloned()
        .unwrap_or_else(|| {
            fullname
                .strip_suffix(&format!(".{SERVICE}"))
                .unwrap_or(fullname)
                .to_string()
        });
    // IPv4 first (a link-local IPv6 needs a zone the address field cannot carry), then the
    // host name.
    let host = addresses
        .iter()
        .filter(|a| a.is_ipv4())
        .min()
        .map(|a| a.to_string())
        .or_else(|| {
            let h = hostname.trim_end_matches('.');
            (!h.is_empty()).then(|| h.to_string())
        })?;
    let scheme = if tls { "https://" } else { "" };
    let compatible = version.split('.').next().map(str::trim)
        == Some(crate::remote::client::MAJOR.to_string().as_str());
    Some(Discovered {
        name,
        address: format!("{scheme}{host}:{port}"),
        tls,
        version,
        compatible,
    })
}

/// Browse the LAN for `wait` and list what answered (by name).
pub fn browse(wait: Duration) -> Result<Vec<Discovered>, String> {
    let daemon = mdns_sd::ServiceDaemon::new().map_err(|e| format!("mDNS: {e}"))?;
    let rx = daemon.browse(SERVICE).map_err(|e| format!("mDNS: {e}"))?;
    let deadline = Instant::now() + wait;
    let mut found: BTreeMap<String, Discovered> = BTreeMap::new();
    while let Ok(event) = rx.recv_deadline(deadline) {
        if let mdns_sd::ServiceEvent::ServiceResolved(info) = event {
            let txt: BTreeMap<String, String> = info
                .txt_properties
                .iter()
                .map(|p| (p.key().to_ascii_lowercase(), p.val_str().to_string()))
                .collect();
            let addresses: Vec<IpAddr> = info.addresses.iter().map(|a| a.to_ip_addr()).collect();
            if let Some(d) = entry(&info.fullname, &info.host, &addresses, info.port, &txt) {
                found.insert(d.address.clone(), d);
            }
        }
    }
    let _ = daemon.stop_browse(SERVICE);
    let _ = daemon.shutdown();
    Ok(found.into_values().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn txt(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_resolved_service_becomes_a_form_address() {
        let v6: IpAddr = "::1".parse().expect("v6");
        let v4: IpAddr = "127.0.0.2".parse().expect("v4");
        let d = entry(
            "pi._bitaxe-sched._tcp.local.",
            "pi.local.",
            &[v6, v4],
            8417,
            &txt(&[("version", "1"), ("tls", "1"), ("name", "pi")]),
        )
        .expect("entry");
        assert_eq!(
            d,
            Discovered {
                name: "pi".into(),
                address: "https://127.0.0.2:8417".into(),
                tls: true,
                version: "1".into(),
                compatible: true,
            }
        );
        // No IPv4 address: the host name; no name in TXT: the instance name; version 2 is
        // listed but marked incompatible.
        let d = entry(
            "garage._bitaxe-sched._tcp.local.",
            "garage.local.",
            &[v6],
            9000,
            &txt(&[("version", "2"), ("tls", "0")]),
        )
        .expect("entry");
        assert_eq!(
            (d.name.as_str(), d.address.as_str(), d.tls, d.compatible),
            ("garage", "garage.local:9000", false, false)
        );
        assert_eq!(entry("x", "", &[], 1, &txt(&[])), None);
        // The form takes what discovery gives.
        assert!(crate::remote::client::Address::parse(&d.address).is_ok());
    }
}
