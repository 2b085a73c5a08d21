//! One way in for every front end: a command by its name (the Tauri command name the UI's
//! `invoke` uses) with its arguments as the UI passes them (a JSON object, camelCase keys),
//! answered with JSON. The desktop window, the desktop attached to a remote scheduler and the
//! web UI all end here.
//!
//! [`scope_of`] says which commands only read (a read token may call them) and which need
//! control (they write, act on miners, or probe, scan or fetch from the network). A command not
//! in the table is `unknown_command`: the desktop-only commands (preferences, autostart, demo,
//! folders, the export's save dialog) are not dispatchable.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use bitaxe_core::config::{Config, MinerConfig};
use bitaxe_core::schedule::Profile;

use crate::commands::{self, ChartArgs};
use crate::error::CmdError;
use crate::redact;
use crate::service::Service;

/// What a caller may do. Ordered: `Read < Control`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Status, config (secrets redacted), history, events, plans and drafts.
    Read,
    /// Everything, writes and network probes included.
    Control,
}

/// Every dispatchable command and the scope it needs.
pub const COMMANDS: &[(&str, Scope)] = &[
    ("overview", Scope::Read),
    ("get_config", Scope::Read),
    ("check_config", Scope::Read),
    ("validate_config", Scope::Read),
    ("profile_specs", Scope::Read),
    ("preview_week", Scope::Read),
    ("plan", Scope::Read),
    ("chart", Scope::Read),
    ("sparklines", Scope::Read),
    ("day_night_stats", Scope::Read),
    ("cost_summary", Scope::Read),
    ("events", Scope::Read),
    ("price_strip", Scope::Read),
    ("export_data", Scope::Read),
    ("save_config", Scope::Control),
    ("add_miners", Scope::Control),
    ("update_miner", Scope::Control),
    ("remove_miner", Scope::Control),
    ("apply_profile", Scope::Control),
    ("set_paused", Scope::Control),
    ("emergency_stop", Scope::Control),
    ("resume", Scope::Control),
    ("restart_miner", Scope::Control),
    ("pause_miner", Scope::Control),
    ("retry_miner", Scope::Control),
    ("clear_ceiling", Scope::Control),
    ("confirm_identity", Scope::Control),
    ("probe_miner", Scope::Control),
    ("scan", Scope::Control),
    // It names the scheduler's own network: only for those who may scan it.
    ("default_scan_range", Scope::Control),
    ("test_fetch", Scope::Control),
    ("refresh_prices", Scope::Control),
    ("import_config", Scope::Control),
    ("export_config", Scope::Control),
];

/// The scope `name` needs; `None`: no such command here.
pub fn scope_of(name: &str) -> Option<Scope> {
    COMMANDS.iter().find(|(n, _)| *n == name).map(|(_, s)| *s)
}

/// Run a command with every right (the desktop's own window).
pub async fn dispatch(service: &Service, name: &str, args: Value) -> Result<Value, CmdError> {
    dispatch_as(service, Scope::Control, name, args).await
}

/// Run a command for a caller holding `scope`: `unknown_command` for a name not in
/// [`COMMANDS`], `forbidden` when the command needs more than `scope`, `bad_args` (naming the
/// field) when the arguments do not fit. A read caller gets the config with its secrets
/// redacted.
pub async fn dispatch_as(
    service: &Service,
    scope: Scope,
    name: &str,
    args: Value,
) -> Result<Value, CmdError> {
    let needed = scope_of(name)
        .ok_or_else(|| CmdError::new("unknown_command", format!("no command named {name:?}")))?;
    if scope < needed {
        return Err(CmdError::new(
            "forbidden",
            format!("{name} needs the control token; this token may only read"),
        ));
    }
    let s = service;
    match name {
        "overview" => {
            no_args(name, args)?;
            let mut v = out(commands::overview(s).await?)?;
            if scope < Scope::Control {
                redact::value(&mut v);
            }
            Ok(v)
        }
        "get_config" => {
            no_args(name, args)?;
            let mut v = out(commands::get_config(s)?)?;
            if scope < Scope::Control {
                redact::value(&mut v);
            }
            Ok(v)
        }
        "save_config" => {
            let a: ConfigArg = parse(name, args)?;
            out(commands::save_config(s, a.config)?)
        }
        "validate_config" => {
            let a: ConfigArg = parse(name, args)?;
            out(commands::validate_config(&a.config))
        }
        "check_config" => {
            let a: DraftArg = parse(name, args)?;
            out(commands::check_config(&a.config))
        }
        "profile_specs" => {
            let a: ConfigArg = parse(name, args)?;
            out(commands::profile_specs(&a.config))
        }
        "preview_week" => {
            let a: ConfigArg = parse(name, args)?;
            out(commands::preview_week(s, &a.config))
        }
        "test_fetch" => {
            let a: ConfigArg = parse(name, args)?;
            out(commands::test_fetch(&a.config).await?)
        }
        "refresh_prices" => {
            no_args(name, args)?;
            out(commands::refresh_prices(s).await?)
        }
        "price_strip" => {
            let a: RangeArg = parse(name, args)?;
            out(commands::price_strip(s, &a.range)?)
        }
        "probe_miner" => {
            let a: AddressArg = parse(name, args)?;
            out(commands::probe_miner(s, &a.address).await?)
        }
        "scan" => {
            let a: ScanArgs = parse(name, args)?;
            out(commands::scan(&a.range, a.port).await?)
        }
        "default_scan_range" => {
            no_args(name, args)?;
            out(commands::default_scan_range())
        }
        "add_miners" => {
            let a: MinersArg = parse(name, args)?;
            out(commands::add_miners(s, a.miners)?)
        }
        "update_miner" => {
            let a: UpdateMinerArgs = parse(name, args)?;
            out(commands::update_miner(s, &a.original, a.miner)?)
        }
        "remove_miner" => {
            let a: NameArg = parse(name, args)?;
            out(commands::remove_miner(s, &a.name)?)
        }
        "apply_profile" => {
            let a: ApplyArgs = parse(name, args)?;
            out(commands::apply_profile(s, a.profile, a.miner.as_deref()).await?)
        }
        "set_paused" => {
            let a: PausedArg = parse(name, args)?;
            out(commands::set_paused(s, a.paused)?)
        }
        "emergency_stop" => {
            no_args(name, args)?;
            out(commands::emergency_stop(s).await?)
        }
        "resume" => {
            no_args(name, args)?;
            out(commands::resume(s)?)
        }
        "restart_miner" => {
            let a: NameArg = parse(name, args)?;
            out(commands::restart_miner(s, &a.name).await?)
        }
        "pause_miner" => {
            let a: PauseMinerArgs = parse(name, args)?;
            out(commands::pause_miner(s, &a.name, a.paused).await?)
        }
        "retry_miner" => {
            let a: MinerArg = parse(name, args)?;
            out(commands::retry_miner(s, &a.miner).await?)
        }
        "clear_ceiling" => {
            let a: MinerArg = parse(name, args)?;
            out(commands::clear_ceiling(s, &a.miner).await?)
        }
        "confirm_identity" => {
            let a: MinerArg = parse(name, args)?;
            out(commands::confirm_identity(s, &a.miner)?)
        }
        "plan" => {
            let a: PlanArgs = parse(name, args)?;
            out(commands::plan(s, &a.at, a.config)?)
        }
        "chart" => {
            let a: ChartArgs = parse(name, args)?;
            out(commands::chart(s, a).await?)
        }
        "sparklines" => {
            no_args(name, args)?;
            out(commands::sparklines(s).await?)
        }
        "export_data" => {
            let a: ExportArgs = parse(name, args)?;
            out(commands::export_data(s, a.kind, a.range, a.miner).await?)
        }
        "cost_summary" => {
            no_args(name, args)?;
            out(commands::cost_summary(s).await?)
        }
        "day_night_stats" => {
            no_args(name, args)?;
            out(commands::day_night_stats(s).await?)
        }
        "events" => {
            no_args(name, args)?;
            out(commands::events(s))
        }
        "import_config" => {
            let a: TextArg = parse(name, args)?;
            out(commands::import_config(s, &a.text)?)
        }
        "export_config" => {
            no_args(name, args)?;
            out(commands::export_config(s)?)
        }
        // In COMMANDS but not matched above: a bug here, said plainly.
        other => Err(CmdError::new(
            "unknown_command",
            format!("command {other:?} is listed but not wired"),
        )),
    }
}

fn out<T: Serialize>(v: T) -> Result<Value, CmdError> {
    serde_json::to_value(v).map_err(|e| CmdError::new("app", e.to_string()))
}

/// The arguments as `T`; an error names the command and the field (`config.miners[0].ip`).
fn parse<T: DeserializeOwned>(name: &str, args: Value) -> Result<T, CmdError> {
    let args = if args.is_null() {
        Value::Object(Default::default())
    } else {
        args
    };
    serde_path_to_error::deserialize(args).map_err(|e| {
        let path = e.path().to_string();
        if path == "." {
            CmdError::bad_args(name, e.inner())
        } else {
            CmdError::bad_args(name, format!("{path}: {}", e.inner()))
        }
    })
}

/// A command without arguments takes nothing, `null` or `{}`.
fn no_args(name: &str, args: Value) -> Result<(), CmdError> {
    let _: NoArgs = parse(name, args)?;
    Ok(())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoArgs {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigArg {
    config: Config,
}

/// A draft as typed: checked by the engine's rules, so any JSON is accepted here.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DraftArg {
    config: Value,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RangeArg {
    range: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AddressArg {
    address: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScanArgs {
    range: String,
    #[serde(default)]
    port: Option<u16>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MinersArg {
    miners: Vec<MinerConfig>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateMinerArgs {
    original: String,
    miner: MinerConfig,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NameArg {
    name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MinerArg {
    miner: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ApplyArgs {
    profile: Profile,
    #[serde(default)]
    miner: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PausedArg {
    paused: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PauseMinerArgs {
    name: String,
    paused: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanArgs {
    at: String,
    #[serde(default)]
    config: Option<Config>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExportArgs {
    kind: String,
    range: String,
    #[serde(default)]
    miner: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TextArg {
    text: String,
}
