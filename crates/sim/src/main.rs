//! `bitaxe-sim`: start simulated Bitaxe miners on loopback and print each one's URL.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use anyhow::{bail, Context};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use bitaxe_sim::{Faults, MinerSpec, Personality, Phase, SimMiner};
use clap::Parser;

#[derive(Parser)]
#[command(
    version,
    about = "Simulated Bitaxe Gamma 601 miners speaking the AxeOS HTTP API (loopback only)"
)]
struct Args {
    /// How many miners.
    #[arg(long, default_value_t = 3)]
    count: usize,
    /// Address of the first miner; must be in 127.0.0.0/8.
    #[arg(long, default_value = "127.0.0.1")]
    ip: Ipv4Addr,
    /// Port of the first miner (0: any free port).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Give each miner its own address (127.0.0.x, x+1, ...) on the same port, instead of
    /// consecutive ports on one address.
    #[arg(long)]
    spread: bool,
    /// Firmware personality: v2-6, v2-10, v2-12 or v2-14.
    #[arg(long, default_value = "v2-14", value_parser = parse_personality)]
    personality: Personality,
    /// Room temperature, °C.
    #[arg(long, default_value_t = 25.0)]
    ambient: f64,
    /// Simulated seconds per real second.
    #[arg(long, default_value_t = 1.0)]
    speed: f64,
    /// Port for the control API (GET /miners (each with `power` in W and `paused`), GET /miners/NAME/brownouts, POST /miners/NAME/faults,
    /// POST /miners/NAME/ambient).
    #[arg(long)]
    control_port: Option<u16>,
}

fn parse_personality(s: &str) -> Result<Personality, String> {
    serde_json::from_value(serde_json::Value::String(s.to_string()))
        .map_err(|_| format!("unknown personality {s:?}: use v2-6, v2-10, v2-12 or v2-14"))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if !args.ip.is_loopback() {
        bail!(
            "refusing to bind {}: the simulator only listens on loopback (127.0.0.0/8)",
            args.ip
        );
    }
    let mut miners = Vec::new();
    for i in 0..args.count {
        let (ip, port) = if args.spread {
            let n = u32::from(args.ip) + i as u32;
            (Ipv4Addr::from(n), args.port)
        } else if args.port == 0 {
            (args.ip, 0)
        } else {
            (args.ip, args.port + i as u16)
        };
        if !ip.is_loopback() {
            bail!("address {ip} leaves 127.0.0.0/8; use fewer miners");
        }
        let mut spec = MinerSpec::new(
            &format!("sim-{}", i + 1),
            SocketAddr::new(IpAddr::V4(ip), port),
        );
        spec.personality = args.personality;
        spec.ambient_c = args.ambient;
        spec.speed = args.speed;
        let miner = SimMiner::start(spec)
            .await
            .with_context(|| format!("binding {ip}:{port}"))?;
        println!("{} {}", miner.name(), miner.url());
        miners.push(miner);
    }
    tokio::spawn(report_brownouts(miners.clone()));
    if let Some(port) = args.control_port {
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await?;
        println!("control http://{}", listener.local_addr()?);
        tokio::spawn(async move { axum::serve(listener, control(miners)).await });
    }
    tokio::signal::ctrl_c().await?;
    Ok(())
}

/// Print every brownout (clock ahead of the voltage) to stderr as the power loops detect them.
async fn report_brownouts(miners: Vec<SimMiner>) {
    let mut printed = vec![0usize; miners.len()];
    loop {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        for (miner, done) in miners.iter().zip(printed.iter_mut()) {
            let log = miner.state().brownout_log;
            for line in log.iter().skip(*done) {
                eprintln!("{} BROWNOUT {line}", miner.name());
            }
            *done = log.len();
        }
    }
}

fn control(miners: Vec<SimMiner>) -> Router {
    let find = |miners: &[SimMiner], name: &str| miners.iter().find(|m| m.name() == name).cloned();
    Router::new()
        .route(
            "/miners",
            get(|State(m): State<Vec<SimMiner>>| async move {
                let list: Vec<_> = m
                    .iter()
                    .map(|x| {
                        let state = x.state();
                        serde_json::json!({
                            "name": x.name(), "url": x.url(), "brownouts": state.brownouts,
                            "brownout_log": state.brownout_log.clone(),
                            "power": state.power(), "paused": state.phase == Phase::Paused,
                            "state": state,
                        })
                    })
                    .collect();
                Json(list)
            }),
        )
        .route(
            "/miners/{name}/brownouts",
            get(move |State(m): State<Vec<SimMiner>>, Path(name): Path<String>| async move {
                match find(&m, &name) {
                    Some(miner) => {
                        let s = miner.state();
                        Ok(Json(serde_json::json!({"brownouts": s.brownouts, "log": s.brownout_log})))
                    }
                    None => Err(StatusCode::NOT_FOUND),
                }
            }),
        )
        .route(
            "/miners/{name}/faults",
            post(move |State(m): State<Vec<SimMiner>>, Path(name): Path<String>, Json(f): Json<Faults>| async move {
                match find(&m, &name) {
                    Some(miner) => {
                        miner.set_faults(f);
                        StatusCode::NO_CONTENT
                    }
                    None => StatusCode::NOT_FOUND,
                }
            }),
        )
        .route(
            "/miners/{name}/ambient",
            post(move |State(m): State<Vec<SimMiner>>, Path(name): Path<String>, Json(c): Json<f64>| async move {
                match find(&m, &name) {
                    Some(miner) => {
                        miner.update(|s| s.ambient_c = c);
                        StatusCode::NO_CONTENT
                    }
                    None => StatusCode::NOT_FOUND,
                }
            }),
        )
        .with_state(miners)
}
