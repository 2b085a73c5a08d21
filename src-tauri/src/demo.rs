//! The demo fleet: three simulated miners from `bitaxe-sim` on 127.0.0.1 inside the app, named
//! "Demo 1" to "Demo 3" so they are clearly a demo, removable in one click.

use std::net::{Ipv4Addr, SocketAddr};

use bitaxe_core::config::{Config, MinerConfig};
use bitaxe_sim::{MinerSpec, Personality, SimMiner};

pub use bitaxe_app::{is_demo, DEMO_PREFIX};

/// Start three simulated miners (on `ports` when given and free, else on any free port).
pub async fn start(ports: &[u16]) -> std::io::Result<Vec<SimMiner>> {
    let looks = [
        (Personality::V2_14, 24.0),
        (Personality::V2_12, 27.0),
        (Personality::V2_14, 31.0),
    ];
    let mut miners = Vec::new();
    for (i, (personality, ambient)) in looks.iter().enumerate() {
        let port = ports.get(i).copied().unwrap_or(0);
        let mut spec = MinerSpec::new(
            &format!("{DEMO_PREFIX}{}", i + 1),
            SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
        );
        spec.personality = *personality;
        spec.ambient_c = *ambient;
        let miner = match SimMiner::start(spec.clone()).await {
            Ok(m) => m,
            Err(_) if port != 0 => {
                spec.bind = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
                SimMiner::start(spec).await?
            }
            Err(e) => return Err(e),
        };
        miners.push(miner);
    }
    Ok(miners)
}

/// The config with the demo miners pointing at `miners` (added or updated).
pub fn with_demo(mut config: Config, miners: &[SimMiner]) -> Config {
    for m in miners {
        let entry = MinerConfig {
            profiles: Default::default(),
            name: m.name().to_string(),
            ip: m.url(),
            enabled: true,
            day_settings: None,
            night_settings: None,
            limits: None,
        };
        match config.miners.iter_mut().find(|c| c.name == entry.name) {
            Some(existing) => existing.ip = entry.ip,
            None => config.miners.push(entry),
        }
    }
    config
}

/// The config without the demo miners.
pub fn without_demo(mut config: Config) -> Config {
    config.miners.retain(|m| !is_demo(m));
    config
}
