//! An AxeOS-compatible simulated Bitaxe Gamma 601: a real HTTP server per miner on loopback, with
//! calibrated physics, the firmware's validation and overheat behaviour, and switchable faults.
//! Depends on none of our crates, so it cannot share their bugs.
#![forbid(unsafe_code)]

pub mod api;
pub mod physics;
pub mod power_loop;
mod server;

pub use physics::{Faults, MinerState, Nvs, Personality, Phase};
pub use server::{MinerSpec, Recorded, SimMiner};

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// Start `count` miners named `prefix-1..` on 127.0.0.1 with OS-chosen ports.
pub async fn fleet(
    prefix: &str,
    count: usize,
    configure: impl Fn(&mut MinerSpec),
) -> std::io::Result<Vec<SimMiner>> {
    let mut miners = Vec::with_capacity(count);
    for i in 1..=count {
        let mut spec = MinerSpec::new(
            &format!("{prefix}-{i}"),
            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
        );
        configure(&mut spec);
        miners.push(SimMiner::start(spec).await?);
    }
    Ok(miners)
}
