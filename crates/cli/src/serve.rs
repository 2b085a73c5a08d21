//! `--serve [ADDR:PORT]` and the `api` config key: the engine's HTTP API beside the daemon;
//! `--rotate-token`; and where a running daemon's API listens, for `--status`.
//!
//! The daemon writes the address it bound to `FILE.api-addr` (FILE being the config path) and
//! removes it when it stops; `--status` shows it when something answers there.

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{anyhow, Result};
use std::sync::Arc;

use bitaxe_api::{tokens, ApiOptions, ApiServer, Tokens};
use bitaxe_app::{Service, ServiceOptions};
use bitaxe_core::config::{api::DEFAULT_LISTEN, with_suffix, Config};
use bitaxe_core::EngineHandle;

/// Where the API should listen: `--serve ADDR:PORT`, else (with `--serve` or the `api` key)
/// the config's `api.listen`, else `127.0.0.1:8417`; none: the API is off.
pub fn listen(serve: Option<Option<SocketAddr>>, config: &Config) -> Option<SocketAddr> {
    let configured = config.api.as_ref().map(|a| a.listen);
    match serve {
        Some(Some(addr)) => Some(addr),
        Some(None) => Some(configured.unwrap_or(DEFAULT_LISTEN)),
        None => configured,
    }
}

fn addr_file(config_path: &Path) -> PathBuf {
    with_suffix(config_path, ".api-addr")
}

/// The built web UI: `BITAXE_UI_DIR`, else `ui/dist` in the working folder, if it holds an
/// `index.html`.
fn ui_dir() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("BITAXE_UI_DIR").map(PathBuf::from),
        Some(PathBuf::from("ui/dist")),
    ];
    candidates
        .into_iter()
        .flatten()
        .find(|d| d.join("index.html").is_file())
}

/// The API running beside the engine.
pub struct Serving {
    server: ApiServer,
    addr_file: PathBuf,
}

/// Start the API on `listen` for `engine`; the control token is printed when it is created.
pub async fn start(
    engine: &EngineHandle,
    config_path: &Path,
    listen: SocketAddr,
) -> Result<Serving> {
    let (tokens, created) = Tokens::load_or_create(config_path).map_err(|e| anyhow!(e))?;
    if created {
        // Shown once, on the terminal only (never through the log).
        println!(
            "API control token (shown once; kept in {}): {}",
            tokens::control_path(config_path).display(),
            tokens.control()
        );
        println!(
            "API read-only token: in {}",
            tokens::read_path(config_path).display()
        );
    }
    let options = ApiOptions {
        static_dir: ui_dir(),
        token_files: Some(config_path.to_path_buf()),
        ..ApiOptions::default()
    };
    // The web UI's and a remote desktop's commands (`POST /api/v1/call/{command}`) run here.
    let service = Service::new(ServiceOptions::for_engine(engine.clone()));
    let server = ApiServer::start_with(Arc::new(service), listen, tokens, options)
        .await
        .map_err(|e| anyhow!(e))?;
    let addr = server.local_addr();
    let addr_file = addr_file(config_path);
    if let Err(e) = bitaxe_core::config::write_atomic(&addr_file, format!("{addr}\n").as_bytes()) {
        tracing::warn!("{}: {e}", addr_file.display());
    }
    let msg = format!("API listening on http://{addr}");
    println!("{msg}");
    tracing::info!("{msg}");
    Ok(Serving { server, addr_file })
}

impl Serving {
    pub async fn stop(self) {
        self.server.stop().await;
        let _ = std::fs::remove_file(&self.addr_file);
    }
}

/// Where a running daemon on this config serves its API, if one answers there.
pub fn running(config_path: &Path) -> Option<SocketAddr> {
    let text = std::fs::read_to_string(addr_file(config_path)).ok()?;
    let addr: SocketAddr = text.trim().parse().ok()?;
    let probe = if addr.ip().is_unspecified() {
        SocketAddr::new(std::net::Ipv4Addr::LOCALHOST.into(), addr.port())
    } else {
        addr
    };
    TcpStream::connect_timeout(&probe, Duration::from_millis(300)).ok()?;
    Some(addr)
}

/// `--rotate-token`: new control and read tokens; the control token printed once.
pub fn rotate(config_path: &Path) -> Result<ExitCode> {
    let t = Tokens::rotate(config_path).map_err(|e| anyhow!(e))?;
    println!("{}", t.control());
    eprintln!(
        "New API tokens written to {} (control, printed above) and {} (read-only); a running \
         scheduler takes them within seconds.",
        tokens::control_path(config_path).display(),
        tokens::read_path(config_path).display()
    );
    Ok(ExitCode::SUCCESS)
}
