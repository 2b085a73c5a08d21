//! The tray: a miner glyph with a state dot, fleet totals in the tooltip, and the menu.

use bitaxe_core::events::MinerState;
use bitaxe_core::ops::{self, Target};
use bitaxe_core::schedule::Profile;
use bitaxe_core::status::FleetStatus;
use tauri::image::Image;
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem, Submenu};
use tauri::tray::{MouseButton, MouseButtonState, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Emitter, Manager, Wry};

use crate::state::AppState;

pub const TRAY_ID: &str = "main";

/// Fleet health for the icon's dot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    Good,
    Warning,
    Alert,
}

pub fn health(status: &FleetStatus) -> Health {
    let states: Vec<MinerState> = status
        .miners
        .iter()
        .filter(|m| m.enabled)
        .map(|m| m.state)
        .collect();
    if status.emergency
        || states
            .iter()
            .any(|s| matches!(s, MinerState::Offline | MinerState::Overheated))
    {
        Health::Alert
    } else if status.paused
        || states
            .iter()
            .any(|s| matches!(s, MinerState::Throttled | MinerState::Stalled))
    {
        Health::Warning
    } else {
        Health::Good
    }
}

/// `4/5 online · 4.9 TH/s · 92 W · Night`
pub fn tooltip(status: &FleetStatus) -> String {
    let t = &status.totals;
    let rate = if t.hashrate >= 1000.0 {
        format!("{:.1} TH/s", t.hashrate / 1000.0)
    } else {
        format!("{:.0} GH/s", t.hashrate)
    };
    let mut profile = status.profile.name().to_string();
    if let Some(first) = profile.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    let extra = if status.emergency {
        " · EMERGENCY STOP"
    } else if status.paused {
        " · paused"
    } else {
        ""
    };
    format!(
        "{}/{} online · {rate} · {:.0} W · {profile}{extra}",
        t.online, t.total, t.power
    )
}

/// The 32 px app glyph with a coloured dot in the lower right corner.
pub fn icon(health: Health) -> Image<'static> {
    let base = Image::from_bytes(include_bytes!("../../icons/32x32.png"))
        .unwrap_or_else(|_| Image::new_owned(vec![0; 32 * 32 * 4], 32, 32));
    let (w, h) = (base.width(), base.height());
    let mut rgba = base.rgba().to_vec();
    let colour = match health {
        Health::Good => [0x2E, 0xA0, 0x43],
        Health::Warning => [0xE8, 0xA3, 0x17],
        Health::Alert => [0xD7, 0x37, 0x2F],
    };
    let (cx, cy, r) = (w as f32 - 7.5, h as f32 - 7.5, 6.5f32);
    for y in 0..h {
        for x in 0..w {
            let d = ((x as f32 + 0.5 - cx).powi(2) + (y as f32 + 0.5 - cy).powi(2)).sqrt();
            let i = ((y * w + x) * 4) as usize;
            if d <= r - 1.5 {
                rgba[i..i + 4].copy_from_slice(&[colour[0], colour[1], colour[2], 255]);
            } else if d <= r {
                rgba[i..i + 4].copy_from_slice(&[255, 255, 255, 255]);
            }
        }
    }
    Image::new_owned(rgba, w, h)
}

/// The menu items that change with the fleet (kept as app state, so a bridge started later,
/// an attachment's, finds them).
#[derive(Clone)]
pub struct TrayMenu {
    pub pause: MenuItem<Wry>,
}

pub fn build(app: &AppHandle) -> tauri::Result<TrayMenu> {
    let open = MenuItem::with_id(app, "open", "Open", true, None::<&str>)?;
    let pause = MenuItem::with_id(app, "pause", "Pause schedule", true, None::<&str>)?;
    // Every built-in profile; the config's own are applied from the window.
    let builtin = bitaxe_core::profiles::names(&bitaxe_core::config::Config::default());
    let items = builtin
        .iter()
        .map(|p| {
            let label = bitaxe_core::profiles::label(p);
            MenuItem::with_id(app, format!("apply:{p}"), label, true, None::<&str>)
        })
        .collect::<tauri::Result<Vec<_>>>()?;
    let back = MenuItem::with_id(app, "follow_plan", "Back to the plan", true, None::<&str>)?;
    let mut entries: Vec<&dyn tauri::menu::IsMenuItem<Wry>> = items
        .iter()
        .map(|i| i as &dyn tauri::menu::IsMenuItem<Wry>)
        .collect();
    let sep_in = PredefinedMenuItem::separator(app)?;
    entries.push(&sep_in);
    entries.push(&back);
    let apply = Submenu::with_id_and_items(app, "apply", "Apply now", true, &entries)?;
    let safe = MenuItem::with_id(app, "safe", "Safe settings for all…", true, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", "Quit", true, None::<&str>)?;
    let sep = || PredefinedMenuItem::separator(app);
    let menu = Menu::with_items(
        app,
        &[&open, &sep()?, &pause, &apply, &safe, &sep()?, &quit],
    )?;
    TrayIconBuilder::with_id(TRAY_ID)
        .icon(icon(Health::Good))
        .tooltip("Bitaxe Fleet")
        .menu(&menu)
        .show_menu_on_left_click(false)
        .on_menu_event(|app, event| on_menu(app, event.id().as_ref()))
        .on_tray_icon_event(|tray, event| {
            if let TrayIconEvent::Click {
                button: MouseButton::Left,
                button_state: MouseButtonState::Up,
                ..
            } = event
            {
                show_window(tray.app_handle());
            }
        })
        .build(app)?;
    let menu = TrayMenu { pause };
    app.manage(menu.clone());
    Ok(menu)
}

/// Show the window, building it again if it was closed (closing frees the webview's memory; the
/// engine keeps running in the tray).
pub fn show_window(app: &AppHandle) {
    let window = match app.get_webview_window("main") {
        Some(w) => Some(w),
        None => app
            .config()
            .app
            .windows
            .first()
            .and_then(|cfg| tauri::WebviewWindowBuilder::from_config(app, cfg).ok())
            .and_then(|b| b.build().ok()),
    };
    if let Some(w) = window {
        let _ = w.show();
        let _ = w.unminimize();
        let _ = w.set_focus();
    }
}

fn on_menu(app: &AppHandle, id: &str) {
    if let Some(link) = crate::remote::link(app) {
        if on_remote_menu(link, id) {
            return;
        }
    }
    let state = app.state::<AppState>();
    let engine = state.engine.clone();
    match (id, engine) {
        ("open", _) => show_window(app),
        ("quit", _) => crate::quit(app.clone()),
        // Safe settings for all asks first, in the window.
        ("safe", _) => {
            state
                .pending_safe
                .store(true, std::sync::atomic::Ordering::SeqCst);
            show_window(app);
            let _ = app.emit("confirm-safe", ());
        }
        ("pause", Some(engine)) => {
            let target = Target::Engine(engine.clone());
            let paused = engine.status().paused;
            if let Err(e) = ops::set_paused(&target, !paused) {
                eprintln!("tray: pause: {e}");
            }
        }
        // Back to the plan ends a profile applied by hand; never an emergency stop (that is
        // resumed in the window, where it says what it is doing).
        ("follow_plan", Some(engine)) if !engine.overrides().emergency => {
            if let Err(e) = ops::resume(&Target::Engine(engine)) {
                eprintln!("tray: back to the plan: {e}");
            }
        }
        (id, Some(engine)) if id.starts_with("apply:") => {
            apply_from_tray(engine, Profile::new(&id["apply:".len()..]))
        }
        _ => show_window(app),
    }
}

/// Attached: the tray's actions go to the scheduler as the window's would. Returns false for
/// the items that behave the same either way (open, quit, safe settings).
fn on_remote_menu(link: std::sync::Arc<crate::remote::Link>, id: &str) -> bool {
    use serde_json::json;
    let call = |name: &'static str, args: serde_json::Value| {
        let link = link.clone();
        tauri::async_runtime::spawn(async move {
            if let Err(e) = link.call(name, args).await {
                eprintln!("tray: {name}: {e}");
            }
        });
    };
    match id {
        "pause" => {
            let link = link.clone();
            tauri::async_runtime::spawn(async move {
                let paused = link
                    .call("overview", serde_json::Value::Null)
                    .await
                    .ok()
                    .and_then(|v| v["status"]["paused"].as_bool());
                let r = match paused {
                    Some(p) => link.call("set_paused", json!({ "paused": !p })).await,
                    None => return,
                };
                if let Err(e) = r {
                    eprintln!("tray: pause: {e}");
                }
            });
        }
        "follow_plan" => {
            let link = link.clone();
            tauri::async_runtime::spawn(async move {
                let emergency = link
                    .call("overview", serde_json::Value::Null)
                    .await
                    .ok()
                    .and_then(|v| v["status"]["emergency"].as_bool());
                if emergency == Some(false) {
                    if let Err(e) = link.call("resume", serde_json::Value::Null).await {
                        eprintln!("tray: back to the plan: {e}");
                    }
                }
            });
        }
        id if id.starts_with("apply:") => call(
            "apply_profile",
            json!({ "profile": &id["apply:".len()..], "miner": null }),
        ),
        _ => return false,
    }
    true
}

/// The tray's "apply" items go through the same operation as the window and the CLI.
fn apply_from_tray(engine: bitaxe_core::EngineHandle, profile: Profile) {
    tauri::async_runtime::spawn(async move {
        if let Err(e) = ops::apply(&Target::Engine(engine), profile.clone(), None).await {
            eprintln!("tray: apply {profile}: {e}");
        }
    });
}

/// Refresh the icon, tooltip and the Pause/Resume label from a status snapshot.
pub fn refresh(app: &AppHandle, status: &FleetStatus, menu: &TrayMenu) {
    if let Some(tray) = app.tray_by_id(TRAY_ID) {
        let _ = tray.set_icon(Some(icon(health(status))));
        let _ = tray.set_tooltip(Some(tooltip(status)));
    }
    let _ = menu.pause.set_text(if status.paused {
        "Resume schedule"
    } else {
        "Pause schedule"
    });
}
