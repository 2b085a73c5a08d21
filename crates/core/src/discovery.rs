//! Finding miners: probe one address (model, firmware, current settings before saving), or scan
//! an address range the user gives. Scans are bounded in size and concurrency, use short
//! timeouts, only ever go where the user pointed them, and only cover local networks: private
//! (10/8, 172.16/12, 192.168/16), link-local (169.254/16) and loopback (127/8) IPv4 ranges.
//! A range that reaches outside them is refused whole, naming the first address outside.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use futures::stream::{self, StreamExt};
use serde::{Deserialize, Serialize};

/// The largest range a scan accepts (a /22).
pub const MAX_SCAN_HOSTS: usize = 1024;
const SCAN_CONCURRENCY: usize = 64;

/// What a probe found at an address.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
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

/// Why a scan range was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScanError {
    #[error("{0:?} is not an IPv4 address")]
    NotAnAddress(String),
    #[error("{0:?}: expected A.B.C.D/NN or A.B.C.D-A.B.C.E")]
    BadRange(String),
    #[error("{0}: the range ends before it starts")]
    Reversed(String),
    #[error("{0}: more than {MAX_SCAN_HOSTS} addresses; scan a /22 or smaller")]
    TooLarge(String),
    #[error(
        "{range}: {outside} is not on a local network; scans only cover {}",
        local_blocks_text()
    )]
    NotLocal { range: String, outside: Ipv4Addr },
}

impl ScanError {
    /// A stable code for front ends to branch on.
    pub fn code(&self) -> &'static str {
        match self {
            ScanError::NotLocal { .. } => "not_local",
            ScanError::TooLarge(_) => "too_large",
            _ => "bad_range",
        }
    }
}

impl From<ScanError> for String {
    fn from(e: ScanError) -> String {
        e.to_string()
    }
}

/// The networks a scan may cover, with their names.
const LOCAL_BLOCKS: [(Ipv4Addr, u8, &str); 5] = [
    (Ipv4Addr::new(10, 0, 0, 0), 8, "private"),
    (Ipv4Addr::new(172, 16, 0, 0), 12, "private"),
    (Ipv4Addr::new(192, 168, 0, 0), 16, "private"),
    (Ipv4Addr::new(169, 254, 0, 0), 16, "link-local"),
    (Ipv4Addr::new(127, 0, 0, 0), 8, "loopback"),
];

/// The blocks in words, for messages: each kind with its network and prefix length.
fn local_blocks_text() -> String {
    LOCAL_BLOCKS
        .iter()
        .map(|(net, len, kind)| format!("{kind} {net}/{len}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The local block `ip` belongs to, as (first, last) address, or `None` for any other address.
fn local_block(ip: Ipv4Addr) -> Option<(u32, u32)> {
    LOCAL_BLOCKS.iter().find_map(|&(net, len, _)| {
        let mask = u32::MAX << (32 - u32::from(len));
        let first = u32::from(net);
        (u32::from(ip) & mask == first).then_some((first, first | !mask))
    })
}

/// Accept `first..=last` only if every address in it lies in one local block.
fn check_local(range: &str, first: u32, last: u32) -> Result<(), ScanError> {
    let outside = match local_block(Ipv4Addr::from(first)) {
        None => first,
        Some((_, end)) if last > end => end + 1,
        Some(_) => return Ok(()),
    };
    Err(ScanError::NotLocal {
        range: range.to_string(),
        outside: Ipv4Addr::from(outside),
    })
}

/// Parse `A.B.C.D/NN` or `A.B.C.D-A.B.C.E` into the host addresses it covers. Refused: ranges
/// over [`MAX_SCAN_HOSTS`] addresses and ranges that reach outside the local blocks.
pub fn hosts(range: &str) -> Result<Vec<Ipv4Addr>, ScanError> {
    let range = range.trim();
    let list: Vec<Ipv4Addr> = if let Some((a, b)) = range.split_once('-') {
        let parse = |s: &str| {
            s.trim()
                .parse::<Ipv4Addr>()
                .map_err(|_| ScanError::NotAnAddress(s.trim().to_string()))
        };
        let (a, b) = (u32::from(parse(a)?), u32::from(parse(b)?));
        if b < a {
            return Err(ScanError::Reversed(range.to_string()));
        }
        if (b - a) as usize >= MAX_SCAN_HOSTS {
            return Err(ScanError::TooLarge(range.to_string()));
        }
        check_local(range, a, b)?;
        (a..=b).map(Ipv4Addr::from).collect()
    } else {
        let net: ipnet::Ipv4Net = range
            .parse()
            .map_err(|_| ScanError::BadRange(range.to_string()))?;
        if net.prefix_len() < 22 {
            return Err(ScanError::TooLarge(range.to_string()));
        }
        check_local(range, u32::from(net.network()), u32::from(net.broadcast()))?;
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
pub async fn scan(range: &str, port: u16) -> Result<Vec<Found>, ScanError> {
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
        assert!(hosts("127.0.0.0/16")
            .expect_err("too big")
            .to_string()
            .contains("/22"));
        assert_eq!(
            hosts("127.0.0.9-127.0.0.1").expect_err("reversed").code(),
            "bad_range"
        );
        assert!(hosts("hello")
            .expect_err("bad")
            .to_string()
            .contains("expected"));
    }

    proptest::proptest! {
        /// The table is exactly what the standard library calls private, link-local and loopback.
        #[test]
        fn the_local_blocks_are_the_standard_ones(n in proptest::num::u32::ANY) {
            let ip = Ipv4Addr::from(n);
            let standard = ip.is_private() || ip.is_link_local() || ip.is_loopback();
            proptest::prop_assert_eq!(local_block(ip).is_some(), standard, "{}", ip);
        }
    }

    #[test]
    fn the_block_edges_agree_with_the_standard_library() {
        for &(net, len, _) in &LOCAL_BLOCKS {
            let first = u32::from(net);
            let last = first | (u32::MAX >> len);
            for n in [first - 1, first, first + 1, last - 1, last, last + 1] {
                let ip = Ipv4Addr::from(n);
                let standard = ip.is_private() || ip.is_link_local() || ip.is_loopback();
                assert_eq!(local_block(ip).is_some(), standard, "{ip}");
            }
        }
    }

    #[test]
    fn local_ranges_are_accepted_up_to_their_edges() {
        for &(net, len, _) in &LOCAL_BLOCKS {
            let first = u32::from(net);
            let last = first | (u32::MAX >> len);
            let at = |n: u32| Ipv4Addr::from(n).to_string();
            for range in [
                format!("{}/24", at(first)),
                format!("{}/24", at(last & !0xff)),
                format!("{}-{}", at(last - 5), at(last)),
                format!("{}-{}", at(first), at(first + 1023)),
            ] {
                assert!(hosts(&range).is_ok(), "{range}: {:?}", hosts(&range));
            }
            // One address past the block's end is refused, and named.
            let straddle = format!("{}-{}", at(last - 2), at(last + 2));
            let e = hosts(&straddle).expect_err(&straddle);
            assert!(
                e.to_string()
                    .contains(&format!(" {} is not on a local network", at(last + 1))),
                "{e}"
            );
        }
    }

    #[test]
    fn public_and_straddling_ranges_are_refused_naming_the_range_and_the_address() {
        let cases = [
            ("8.8.8.0/24", "8.8.8.0"),
            ("1.1.1.1-1.1.1.3", "1.1.1.1"),
            ("172.15.255.0/24", "172.15.255.0"),
            ("172.32.0.0/24", "172.32.0.0"),
            ("192.169.0.0/24", "192.169.0.0"),
            ("169.253.255.0/24", "169.253.255.0"),
            ("100.64.0.0/24", "100.64.0.0"),
            ("224.0.0.0/24", "224.0.0.0"),
            ("255.255.255.255/32", "255.255.255.255"),
            ("0.0.0.0/24", "0.0.0.0"),
            // Straddling an edge: the first address past the local block is named.
            ("126.255.255.250-127.0.0.3", "126.255.255.250"),
            ("127.255.255.250-128.0.0.3", "128.0.0.0"),
        ];
        for (range, outside) in cases {
            let e = hosts(range).expect_err(range);
            assert_eq!(e.code(), "not_local", "{range}");
            let m = e.to_string();
            assert!(m.starts_with(range), "{m}");
            assert!(
                m.contains(&format!(" {outside} is not on a local network")),
                "{m}"
            );
            assert!(
                m.contains(&local_blocks_text()),
                "names what is allowed: {m}"
            );
        }
    }
}
