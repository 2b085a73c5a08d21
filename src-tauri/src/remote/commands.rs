//! The window's commands for attaching: probe a certificate, connect, disconnect, discover,
//! and the link's state. They always run here (never forwarded).

use std::time::Duration;

use serde::Serialize;
use tauri::{AppHandle, Manager, State};

use crate::error::CmdError;
use crate::remote::{self, discover, store, Address, Attachment, Client, Connection};
use crate::state::AppState;
use crate::tray::TrayMenu;

/// The saved attachment as the form shows it (the token never goes back to the window).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct AttachmentView {
    pub address: String,
    pub fingerprint: Option<String>,
    pub connection: Connection,
}

/// The link's state now (`local` when the app runs its own engine).
#[tauri::command]
pub fn connection_state(app: AppHandle) -> Connection {
    remote::connection(&app)
}

/// The attachment in force or saved, for the Settings form.
#[tauri::command]
pub fn attachment(app: AppHandle) -> Option<AttachmentView> {
    store::load(&app).map(|a| AttachmentView {
        address: a.address,
        fingerprint: a.fingerprint,
        connection: remote::connection(&app),
    })
}

/// The certificate fingerprint an `https://` scheduler shows, for the user to compare with what
/// `bitaxe-scheduler --status` prints before trusting it (`null` for `http://`). Nothing but a
/// TLS handshake is sent.
#[tauri::command]
pub async fn probe_certificate(address: String) -> Result<Option<String>, CmdError> {
    let address = Address::parse(&address)?;
    Ok(remote::client::probe_certificate(&address).await?)
}

/// Attach to the scheduler at `address` with `token` (over TLS: the certificate `fingerprint`
/// the user confirmed). Checked first (answers, token, version, certificate); then saved, the
/// local engine stopped (so two schedulers never drive the miners), and followed.
#[tauri::command]
pub async fn connect(
    app: AppHandle,
    state: State<'_, AppState>,
    address: String,
    token: String,
    fingerprint: Option<String>,
) -> Result<Connection, CmdError> {
    if token.trim().is_empty() {
        return Err(CmdError::new(
            "bad_token",
            "token: paste the scheduler's token (FILE.api-token next to its config)",
        ));
    }
    let address = Address::parse(&address)?;
    let (client, _version) = Client::connect(&address, &token, fingerprint.as_deref()).await?;
    let saved = Attachment {
        address: address.display(),
        token: token.trim().to_string(),
        fingerprint: client.fingerprint().map(str::to_string),
    };
    store::save(&app, Some(&saved)).map_err(|e| CmdError::new("prefs", e))?;
    if let Some(engine) = state.engine.clone() {
        if let Some(running) = app.try_state::<crate::bridge::Running>() {
            running.stop();
        }
        engine.shutdown(Duration::from_secs(20)).await;
    }
    let menu = app
        .try_state::<TrayMenu>()
        .map(|m| m.inner().clone())
        .ok_or_else(|| CmdError::new("app", "the tray is not ready"))?;
    let link = remote::start(&app, client, menu);
    Ok(link.connection())
}

/// Forget the attachment and come back with this app's own engine (the app restarts, as it
/// would start unattached).
#[tauri::command]
pub fn disconnect(app: AppHandle) -> Result<(), CmdError> {
    remote::stop(&app);
    store::save(&app, None).map_err(|e| CmdError::new("prefs", e))?;
    app.request_restart();
    Ok(())
}

/// Schedulers advertising themselves on the LAN (a 3 s mDNS browse).
#[tauri::command]
pub async fn discover() -> Result<Vec<discover::Discovered>, CmdError> {
    crate::background::blocking(|| {
        discover::browse(Duration::from_secs(3)).map_err(|e| CmdError::new("discovery", e))
    })
    .await
}

/// At start, attached: follow the saved scheduler (the link retries until it answers; the
/// window opens at once and shows the link's state).
pub fn follow_saved(app: &AppHandle, saved: &Attachment, menu: TrayMenu) {
    let client = Address::parse(&saved.address)
        .and_then(|a| Client::new(&a, &saved.token, saved.fingerprint.as_deref()));
    match client {
        Ok(client) => {
            remote::start(app, client, menu);
        }
        Err(e) => eprintln!("Bitaxe Fleet: the saved attachment is not usable: {e}"),
    }
}
