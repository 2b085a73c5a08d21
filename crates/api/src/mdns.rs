//! mDNS: a daemon whose API listens on a LAN address advertises `_bitaxe-sched._tcp.local.` so the
//! desktop app can list it under "Connect to a scheduler". TXT: `version` (the API's major
//! version), `tls` (`0` or `1`), `name` (the host name). A loopback-bound API advertises nothing:
//! nobody on the LAN could reach it, so there is nothing to tell them.

use std::net::SocketAddr;

use mdns_sd::{ServiceDaemon, ServiceInfo};

/// The DNS-SD service type.
pub const SERVICE_TYPE: &str = "_bitaxe-sched._tcp.local.";

#[derive(Debug, thiserror::Error)]
#[error("mDNS: {0}")]
pub struct MdnsError(String);

/// This machine's host name, without a domain (`raspberrypi`), if it can be read.
pub fn hostname() -> Option<String> {
    #[cfg(unix)]
    let raw = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .ok();
    #[cfg(not(unix))]
    let raw = std::env::var("COMPUTERNAME").ok();
    let name = raw?.trim().split('.').next()?.to_string();
    (!name.is_empty()).then_some(name)
}

/// What to advertise for an API on `listen`: none for a loopback address. An unspecified
/// address (`0.0.0.0`, `::`) is advertised with every address of the machine, a specific one with
/// that address only.
pub fn service_info(
    listen: SocketAddr,
    tls: bool,
    host: &str,
) -> Result<Option<ServiceInfo>, MdnsError> {
    if listen.ip().is_loopback() {
        return Ok(None);
    }
    let major = crate::API_VERSION.split('.').next().unwrap_or("1");
    let props = [
        ("version", major),
        ("tls", if tls { "1" } else { "0" }),
        ("name", host),
    ];
    let ip: Vec<std::net::IpAddr> = if listen.ip().is_unspecified() {
        Vec::new()
    } else {
        vec![listen.ip()]
    };
    let info = ServiceInfo::new(
        SERVICE_TYPE,
        host,
        &format!("{host}.local."),
        ip.as_slice(),
        listen.port(),
        &props[..],
    )
    .map_err(|e| MdnsError(e.to_string()))?;
    Ok(Some(if listen.ip().is_unspecified() {
        info.enable_addr_auto()
    } else {
        info
    }))
}

/// A registered advertisement; unregistered by [`Advertiser::stop`] (or when dropped).
pub struct Advertiser {
    daemon: ServiceDaemon,
    fullname: String,
    stopped: bool,
}

impl Advertiser {
    /// Advertise the API on `listen`; none (and no multicast socket opened) for loopback.
    pub fn start(listen: SocketAddr, tls: bool) -> Result<Option<Advertiser>, MdnsError> {
        let host = hostname().unwrap_or_else(|| "bitaxe-scheduler".to_string());
        let Some(info) = service_info(listen, tls, &host)? else {
            return Ok(None);
        };
        let fullname = info.get_fullname().to_string();
        let daemon = ServiceDaemon::new().map_err(|e| MdnsError(e.to_string()))?;
        daemon
            .register(info)
            .map_err(|e| MdnsError(e.to_string()))?;
        tracing::info!("mDNS: advertising {fullname} on port {}", listen.port());
        Ok(Some(Advertiser {
            daemon,
            fullname,
            stopped: false,
        }))
    }

    /// The advertised instance (`host._bitaxe-sched._tcp.local.`).
    pub fn fullname(&self) -> &str {
        &self.fullname
    }

    /// Say goodbye on the LAN and stop the mDNS thread.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if std::mem::replace(&mut self.stopped, true) {
            return;
        }
        if let Ok(rx) = self.daemon.unregister(&self.fullname) {
            // The goodbye packet goes out before the thread stops (bounded wait).
            let _ = rx.recv_timeout(std::time::Duration::from_secs(1));
        }
        let _ = self.daemon.shutdown();
    }
}

impl Drop for Advertiser {
    fn drop(&mut self) {
        self.shutdown();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_not_advertised() {
        for addr in ["127.0.0.1:8417", "127.0.0.2:9000", "[::1]:8417"] {
            let listen: SocketAddr = addr.parse().expect("addr");
            assert!(
                service_info(listen, false, "pi").expect("info").is_none(),
                "{addr}"
            );
            // And starting an advertiser for it opens nothing.
            assert!(Advertiser::start(listen, true).expect("start").is_none());
        }
    }

    #[test]
    fn a_lan_listener_is_described() {
        let listen: SocketAddr = "0.0.0.0:8417".parse().expect("addr");
        let info = service_info(listen, true, "pi")
            .expect("info")
            .expect("some");
        assert_eq!(info.get_type(), SERVICE_TYPE);
        assert_eq!(info.get_fullname(), "pi._bitaxe-sched._tcp.local.");
        assert_eq!(info.get_hostname(), "pi.local.");
        assert_eq!(info.get_port(), 8417);
        assert_eq!(info.get_property_val_str("version"), Some("1"));
        assert_eq!(info.get_property_val_str("tls"), Some("1"));
        assert_eq!(info.get_property_val_str("name"), Some("pi"));
        assert!(info.is_addr_auto(), "every address of the machine");
        let plain = service_info(listen, false, "pi")
            .expect("info")
            .expect("some");
        assert_eq!(plain.get_property_val_str("tls"), Some("0"));
    }

    #[test]
    fn the_host_name_has_no_domain() {
        if let Some(h) = hostname() {
            assert!(
                !h.is_empty() && !h.contains('.') && !h.contains('\n'),
                "{h:?}"
            );
        }
    }
}
