//! `--serve [ADDR:PORT | https://ADDR:PORT]` and the `api` config key: the engine's HTTP API
//! beside the daemon, optionally over TLS; the local control channel every daemon opens;
//! `--rotate-token`; and where a running daemon's API listens, for `--status`.
//!
//! The daemon writes where it serves to `FILE.api-addr` (FILE being the config path; the URL, and
//! for TLS the certificate's fingerprint on a second line) and removes it when it stops;
//! `--status` shows it when something answers there.

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::str::FromStr;
use std::time::Duration;

use anyhow::{anyhow, Result};
use bitaxe_api::local::Advertised;
use bitaxe_api::{tls, tokens, ApiOptions, ApiServer, Tokens};
use bitaxe_app::{Service, ServiceOptions};
use bitaxe_core::config::{api::DEFAULT_LISTEN, Config};
use bitaxe_core::EngineHandle;

/// `--serve`'s value: `ADDR:PORT` (TLS as the config says), `http://ADDR:PORT` (plain) or
/// `https://ADDR:PORT` (TLS).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServeAt {
    pub addr: SocketAddr,
    /// Some when the value named a scheme.
    pub tls: Option<bool>,
}

impl FromStr for ServeAt {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (tls, rest) = if let Some(r) = s.strip_prefix("https://") {
            (Some(true), r)
        } else if let Some(r) = s.strip_prefix("http://") {
            (Some(false), r)
        } else {
            (None, s)
        };
        let addr = rest.trim_end_matches('/').parse().map_err(|_| {
            format!("{s:?} is not ADDR:PORT, http://ADDR:PORT or https://ADDR:PORT (e.g. 127.0.0.1:8417)")
        })?;
        Ok(ServeAt { addr, tls })
    }
}

/// Where and how the API listens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Listen {
    pub addr: SocketAddr,
    pub tls: bool,
}

/// Where the API should listen: `--serve ADDR:PORT`, else (with `--serve` or the `api` key)
/// the config's `api.listen`, else `127.0.0.1:8417`; none: the API is off. TLS: the scheme given
/// to `--serve`, else the config's `api.tls`.
pub fn listen(serve: Option<Option<ServeAt>>, config: &Config) -> Option<Listen> {
    let configured = config.api.as_ref();
    let tls_configured = configured.is_some_and(|a| a.tls);
    let listen_configured = configured.map(|a| a.listen);
    let (addr, tls) = match serve {
        Some(Some(at)) => (at.addr, at.tls.unwrap_or(tls_configured)),
        Some(None) => (listen_configured.unwrap_or(DEFAULT_LISTEN), tls_configured),
        None => (listen_configured?, tls_configured),
    };
    Some(Listen { addr, tls })
}

/// The built web UI: `BITAXE_UI_DIR`, else `ui/dist` in the working folder, else
/// `../share/bitaxe-scheduler/ui` beside the executable (an install under a prefix: the binary
/// in `PREFIX/bin`), the first that holds an `index.html`.
fn ui_dir() -> Option<PathBuf> {
    let installed = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.join("../share/bitaxe-scheduler/ui")));
    let candidates = [
        std::env::var_os("BITAXE_UI_DIR").map(PathBuf::from),
        Some(PathBuf::from("ui/dist")),
        installed,
    ];
    candidates
        .into_iter()
        .flatten()
        .find(|d| d.join("index.html").is_file())
}

/// The tokens, created at the daemon's first start; the control token is printed when created
/// and `print` (the API was asked for), never logged.
pub fn tokens_for(config_path: &Path, print: bool) -> Result<Tokens> {
    let (tokens, created) = Tokens::load_or_create(config_path).map_err(|e| anyhow!(e))?;
    if created && print {
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
    Ok(tokens)
}

/// The API running beside the engine.
pub struct Serving {
    server: ApiServer,
    addr_file: PathBuf,
}

/// Start the API on `listen` for `engine`.
pub async fn start(
    engine: &EngineHandle,
    config_path: &Path,
    listen: Listen,
    tokens: Tokens,
) -> Result<Serving> {
    let identity = if listen.tls {
        let (id, made) =
            tls::Identity::load_or_create(config_path, listen.addr).map_err(|e| anyhow!(e))?;
        if made {
            let msg = format!(
                "API certificate made: {} (key in {})",
                tls::cert_path(config_path).display(),
                tls::key_path(config_path).display()
            );
            println!("{msg}");
            tracing::info!("{msg}");
        }
        Some(id)
    } else {
        None
    };
    let options = ApiOptions {
        static_dir: ui_dir(),
        token_files: Some(config_path.to_path_buf()),
        tls: identity,
        ..ApiOptions::default()
    };
    // The web UI's and a remote desktop's commands (`POST /api/v1/call/{command}`) run here.
    let service = Service::new(ServiceOptions::for_engine(engine.clone()));
    let server = ApiServer::start_with(std::sync::Arc::new(service), listen.addr, tokens, options)
        .await
        .map_err(|e| anyhow!(e))?;
    let advertised = Advertised {
        addr: server.local_addr(),
        fingerprint: server.fingerprint().map(str::to_string),
    };
    let addr_file = bitaxe_api::local::addr_path(config_path);
    if let Err(e) = bitaxe_core::config::write_atomic(&addr_file, advertised.to_text().as_bytes()) {
        tracing::warn!("{}: {e}", addr_file.display());
    }
    let msg = match server.fingerprint() {
        Some(f) => format!("API listening on {} (certificate {f})", advertised.url()),
        None => format!("API listening on {}", advertised.url()),
    };
    println!("{msg}");
    tracing::info!("{msg}");
    if let Some(name) = server.advertised_as() {
        let msg = format!("API announced on the LAN as {name}");
        println!("{msg}");
        tracing::info!("{msg}");
    }
    Ok(Serving { server, addr_file })
}

impl Serving {
    pub async fn stop(self) {
        self.server.stop().await;
        let _ = std::fs::remove_file(&self.addr_file);
    }
}

/// The local control channel (Unix: `FILE.api.sock`); a failure only means one-shots act by
/// themselves as before, so it is logged, not fatal.
#[cfg(unix)]
pub async fn start_local(
    engine: &EngineHandle,
    config_path: &Path,
    tokens: Tokens,
) -> Option<ApiServer> {
    let path = bitaxe_api::local::socket_path(config_path);
    let options = ApiOptions {
        token_files: Some(config_path.to_path_buf()),
        advertise: false,
        ..ApiOptions::default()
    };
    match ApiServer::start_local(engine.clone(), &path, tokens, options).await {
        Ok(s) => {
            tracing::info!("Local control socket: {}", path.display());
            Some(s)
        }
        Err(e) => {
            tracing::warn!("{e}; one-shot commands will act by themselves");
            None
        }
    }
}

/// Where a running daemon on this config serves its API, if one answers there.
pub fn running(config_path: &Path) -> Option<Advertised> {
    let advertised = Advertised::read(config_path)?;
    TcpStream::connect_timeout(&advertised.connect_addr(), Duration::from_millis(300)).ok()?;
    Some(advertised)
}

/// The `--status` line for a daemon's API.
pub fn status_line(a: &Advertised) -> String {
    match &a.fingerprint {
        Some(f) => format!(
            "API: listening on {} (certificate {f}; tokens beside the config)",
            a.url()
        ),
        None => format!("API: listening on {} (tokens beside the config)", a.url()),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serve_values() {
        let at = |s: &str| s.parse::<ServeAt>();
        assert_eq!(
            at("127.0.0.1:9000"),
            Ok(ServeAt {
                addr: "127.0.0.1:9000".parse().expect("addr"),
                tls: None
            })
        );
        assert_eq!(at("https://127.0.0.1:9000").map(|a| a.tls), Ok(Some(true)));
        assert_eq!(at("http://127.0.0.1:9000/").map(|a| a.tls), Ok(Some(false)));
        let e = at("https://localhost").expect_err("no port");
        assert!(e.contains("ADDR:PORT"), "{e}");
    }

    #[test]
    fn tls_from_the_flag_else_the_config() {
        let mut config = Config::default();
        assert_eq!(listen(None, &config), None);
        let l = listen(Some(None), &config).expect("on");
        assert_eq!((l.addr, l.tls), (DEFAULT_LISTEN, false));
        config.api = Some(bitaxe_core::config::api::ApiConfig {
            listen: "127.0.0.2:9000".parse().expect("addr"),
            tls: true,
        });
        let l = listen(None, &config).expect("on");
        assert_eq!((l.addr.port(), l.tls), (9000, true));
        let plain = "http://127.0.0.1:1".parse().ok();
        assert!(!listen(Some(plain), &config).expect("on").tls);
        let bare = "127.0.0.1:1".parse().ok();
        assert!(listen(Some(bare), &config).expect("on").tls);
    }
}
