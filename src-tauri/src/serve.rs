//! The desktop serves the same API as the headless scheduler when it holds the engine and the
//! config has `api.listen`: the same routes, tokens and guard (bitaxe-api), over this app's own
//! command service, so a browser or another desktop sees what this window sees. Where it
//! listens (or why not) goes to [`AppState::api`] for the Settings view. A change of
//! `api.listen` takes effect at the next start.

use std::sync::Arc;

use bitaxe_api::{ApiOptions, ApiServer, Tokens};
use bitaxe_app::Service;
use tauri::{AppHandle, Manager};

use crate::state::{ApiStatus, AppState};

/// Start the API in the background if the config asks for it.
pub fn spawn(app: AppHandle, service: Arc<Service>) {
    let Some(engine) = service.engine.clone() else {
        return;
    };
    let Some((listen, tls)) = engine.config().api.as_ref().map(|a| (a.listen, a.tls)) else {
        return;
    };
    let config_path = service.config_path.clone();
    tauri::async_runtime::spawn(async move {
        let token_file = bitaxe_api::tokens::control_path(&config_path)
            .display()
            .to_string();
        let status = match start(service, listen, tls, &config_path).await {
            Ok(server) => {
                let listening = match server.fingerprint() {
                    Some(f) => format!("{} (certificate {f})", server.url()),
                    None => server.url(),
                };
                if let Ok(mut slot) = app.state::<AppState>().api_server.lock() {
                    *slot = Some(server);
                }
                ApiStatus {
                    listening: Some(listening),
                    error: None,
                    token_file: Some(token_file),
                }
            }
            Err(e) => ApiStatus {
                listening: None,
                error: Some(e),
                token_file: Some(token_file),
            },
        };
        if let Ok(mut s) = app.state::<AppState>().api.lock() {
            *s = status;
        }
    });
}

/// The tokens (made at the first start) and, with `api.tls`, the certificate kept beside the
/// config (made at the first start), as the headless scheduler does.
async fn start(
    service: Arc<Service>,
    listen: std::net::SocketAddr,
    tls: bool,
    config_path: &std::path::Path,
) -> Result<ApiServer, String> {
    let path = config_path.to_path_buf();
    let (tokens, identity) = tauri::async_runtime::spawn_blocking(move || {
        let (tokens, _created) = Tokens::load_or_create(&path).map_err(|e| e.to_string())?;
        let identity = match tls {
            true => Some(
                bitaxe_api::tls::Identity::load_or_create(&path, listen)
                    .map_err(|e| e.to_string())?
                    .0,
            ),
            false => None,
        };
        Ok::<_, String>((tokens, identity))
    })
    .await
    .map_err(|e| e.to_string())??;
    let options = ApiOptions {
        token_files: Some(config_path.to_path_buf()),
        tls: identity,
        ..ApiOptions::default()
    };
    ApiServer::start_with(service, listen, tokens, options)
        .await
        .map_err(|e| e.to_string())
}

/// Stop the API (on quit): no new requests, the event streams end.
pub async fn stop(app: &AppHandle) {
    let server = app
        .state::<AppState>()
        .api_server
        .lock()
        .ok()
        .and_then(|mut s| s.take());
    if let Some(server) = server {
        server.stop().await;
    }
}
