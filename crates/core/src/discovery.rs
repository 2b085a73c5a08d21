//! Finding miners: probe one address (model, firmware, current settings before saving), or scan
//! an address range the user gives. Scans are bounded in size and concurrency, use short
//! timeouts, and only ever go where the user pointed them.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use futures::stream::{self, StreamExt};
use serde::{Deserialize, Serialize};

/// The largest range a scan accepts (a /22).
pub const MAX_SCAN_HOSTS: usize = 1024;
const SCAN_CONCURRENCY: usize = 64;

/// What a probe found at an address.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Found {
    pub url: String,
    pub hostname: Option<String>,
    pub model: Option<String>,
    pub asic_model: Option<String>,
    pub firmware: Option<String>,
    pub voltage: Option<u32>,
    pub frequency: Option<f64>,
    pub hashrate: Option<f64>,
}

/// Ask one address for `/api/system/info` (and `/asic` when the firmware has it).
pub async fn probe(http: &axeos::Http, address: &str) -> Result<Found, axeos::Error> {
    let client = axeos::Client::new(http, address)?;
    let info = client.info().await?;
    let asic = client.asic().await.ok();
    Ok(Found {
        url: client.base_url().to_string(),
        hostname: info.hostname.clone(),
        model: asic
            .as_ref()
            .and_then(|a| a.device_model.clone())
            .or_else(|| info.board_version.as_ref().map(|b| format!("board {b}"))),
        asic_model: info.asic_model.clone(),
        firmware: info.version.clone(),
        voltage: info.core_voltage,
        frequency: info.frequency,
        hashrate: info.hash_rate,
    })
}

/// Parse `A.B.C.D/NN` or `A.B.C.D-A.B.C.E` into the host addresses it covers.
pub fn hosts(range: &str) -> Result<Vec<Ipv4Addr>, String> {
    let range = range.trim();
    let list: Vec<Ipv4Addr> = if let Some((a, b)) = range.split_once('-') {
        let parse = |s: &str| {
            s.trim()
                .parse::<Ipv4Addr>()
                .map_err(|_| format!("{s:?} is not an IPv4 address"))
        };
        let (a, b) = (u32::from(parse(a)?), u32::from(parse(b)?));
        if b < a {
            return Err(format!("{range}: the range ends before it starts"));
        }
        if (b - a) as usize >= MAX_SCAN_HOSTS {
            return Err(format!(
                "{range}: more than {MAX_SCAN_HOSTS} addresses; scan a smaller range"
            ));
        }
        (a..=b).map(Ipv4Addr::from).collect()
    } else {
        let net: ipnet::Ipv4Net = range
            .parse()
            .map_err(|_| format!("{range:?}: expected A.B.C.D/NN or A.B.C.D-A.B.C.E"))?;
        if net.prefix_len() < 22 {
            return Err(format!(
                "{range}: more than {MAX_SCAN_HOSTS} addresses; use /22 or smaller"
            ));
        }
        if net.prefix_len() >= 31 {
            net.hosts()
                .chain(std::iter::once(net.addr()))
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect()
        } else {
            net.hosts().collect()
        }
    };
    Ok(list)
}

/// Probe every address of `range` on `port`; the miners that answered, in address order.
pub async fn scan(range: &str, port: u16) -> Result<Vec<Found>, String> {
    let list = hosts(range)?;
    let http = axeos::Http::new(axeos::Timeouts {
        connect: Duration::from_millis(800),
        total: Duration::from_millis(2500),
    });
    let http = &http;
    let mut found: Vec<(Ipv4Addr, Found)> = stream::iter(list.into_iter().map(|ip| async move {
        let address = if port == 80 {
            ip.to_string()
        } else {
            format!("{ip}:{port}")
        };
        probe(http, &address)
            .await
            .ok()
            .filter(|f| f.asic_model.is_some())
            .map(|f| (ip, f))
    }))
    .buffer_unordered(SCAN_CONCURRENCY)
    .filter_map(|x| async move { x })
    .collect()
    .await;
    found.sort_by_key(|(ip, _)| *ip);
    Ok(found.into_iter().map(|(_, f)| f).collect())
}

/// The computer's own /24 (the first private IPv4 address's network): only a suggestion for the
/// scan field; nothing scans it without the user asking.
pub fn own_subnet() -> Option<String> {
    if_addrs::get_if_addrs()
        .ok()?
        .into_iter()
        .filter_map(|i| match i.ip() {
            IpAddr::V4(v4) if v4.is_private() => Some(v4),
            _ => None,
        })
        .next()
        .map(|ip| {
            let o = ip.octets();
            format!("{}.{}.{}.0/24", o[0], o[1], o[2])
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_parse_and_are_bounded() {
        assert_eq!(hosts("127.0.0.0/30").expect("cidr").len(), 2);
        assert_eq!(hosts("127.0.0.5-127.0.0.9").expect("dash").len(), 5);
        assert_eq!(
            hosts("127.0.0.5/32").expect("single"),
            vec![Ipv4Addr::new(127, 0, 0, 5)]
        );
        assert!(hosts("127.0.0.0/16").expect_err("too big").contains("/22"));
        assert!(hosts("127.0.0.9-127.0.0.1").is_err());
        assert!(hosts("hello").expect_err("bad").contains("expected"));
    }
}
