//! `bitaxe-scheduler`: the seed-compatible command line and headless daemon.
#![forbid(unsafe_code)]

mod commands;
mod cost;
mod daemon;
mod logfile;
mod plan_view;
mod prices;
mod remote;
mod serve;
mod table;
mod test_alert;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{ArgGroup, Parser};

#[derive(Parser, Debug)]
#[command(
    name = "bitaxe-scheduler",
    version,
    about = "Keeps Bitaxe miners on the profiles their plan says (day and night, or a weekly plan and prices), safely.",
    long_about = "Keeps Bitaxe miners on the profiles their plan says (day and night, or a weekly plan and prices), safely.\n\n\
        With no action flag it runs the scheduler in the foreground until Ctrl-C or SIGTERM,\n\
        printing a status table every check_interval and logging to multi_bitaxe_scheduler.log\n\
        next to the config file.",
    group(ArgGroup::new("action").args([
        "add_miner", "list_miners", "disable_miner", "enable_miner", "status", "apply",
        "emergency_stop", "resume", "plan", "prices", "cost", "serve", "rotate_token", "test_alert",
    ]))
)]
pub struct Args {
    /// Configuration file (created with defaults and no miners if missing).
    #[arg(
        long,
        value_name = "FILE",
        default_value = "multi_scheduler_config.json"
    )]
    pub config: PathBuf,
    /// Add a miner: NAME and IP, IP:PORT or http://HOST[:PORT].
    #[arg(long, num_args = 2, value_names = ["NAME", "IP"])]
    pub add_miner: Option<Vec<String>>,
    /// List the configured miners.
    #[arg(long)]
    pub list_miners: bool,
    /// Stop scheduling a miner (it keeps its current settings).
    #[arg(long, value_name = "NAME")]
    pub disable_miner: Option<String>,
    /// Schedule a miner again.
    #[arg(long, value_name = "NAME")]
    pub enable_miner: Option<String>,
    /// Read every enabled miner once, print the status table, exit.
    #[arg(long)]
    pub status: bool,
    /// Apply a profile to every enabled miner now (with the configured transition); it holds
    /// until the schedule's next change. Exit code 0 only if every miner got it.
    #[arg(long, value_name = "PROFILE")]
    pub apply: Option<bitaxe_core::schedule::Profile>,
    /// With --apply: only this miner.
    #[arg(long, value_name = "NAME", requires = "apply")]
    pub miner: Option<String>,
    /// Safe settings on every enabled miner now, in one step; sticks until --resume. Works even
    /// when the config has an invalid value elsewhere or the state file cannot be written.
    /// Exit code 0: done and saved; 2: some miners not reached; 3: every miner reached but the
    /// decision could not be saved; 4: both.
    #[arg(long)]
    pub emergency_stop: bool,
    /// Clear an emergency stop, a profile applied by hand (fleet or one miner) and a pause: the
    /// schedule drives again.
    #[arg(long)]
    pub resume: bool,
    /// Print what every miner runs at a local time (default: now) without contacting miners.
    #[arg(long)]
    pub plan: bool,
    /// With --plan: the local time, YYYY-MM-DDTHH:MM.
    #[arg(long, value_name = "YYYY-MM-DDTHH:MM", requires = "plan")]
    pub at: Option<String>,
    /// With --plan: the week ahead, a row per miner and a letter per hour.
    #[arg(long, requires = "plan")]
    pub week: bool,
    /// Print the electricity prices known now (local today and tomorrow; fetched once, else
    /// from the cache and the fixed tariff), one line per slot, and where they come from.
    #[arg(long)]
    pub prices: bool,
    /// Print the measured energy and its cost per miner and a TOTAL: line, from the history
    /// (default: this month up to today; local dates, inclusive).
    #[arg(long)]
    pub cost: bool,
    /// With --cost: the first local day, YYYY-MM-DD.
    #[arg(long, value_name = "YYYY-MM-DD", requires = "cost")]
    pub from: Option<String>,
    /// With --cost: the last local day (inclusive), YYYY-MM-DD.
    #[arg(long, value_name = "YYYY-MM-DD", requires = "cost")]
    pub to: Option<String>,
    /// Run the scheduler with its HTTP API on (default 127.0.0.1:8417, else the config's
    /// `api.listen`). Every route needs the token from FILE.api-token (control) or
    /// FILE.api-read-token (read-only), created at first use. `https://ADDR:PORT` serves TLS with
    /// a self-signed certificate (FILE.api-cert.pem; its SHA256 fingerprint is printed), as does
    /// `"tls": true` in the config's `api`; `http://ADDR:PORT` forces plain HTTP.
    #[arg(long, value_name = "ADDR:PORT", num_args = 0..=1)]
    pub serve: Option<Option<serve::ServeAt>>,
    /// Write new API tokens (FILE.api-token, FILE.api-read-token), print the control token, exit.
    #[arg(long)]
    pub rotate_token: bool,
    /// Send a test message to every channel in the config's `alerts.channels`, print one line
    /// per channel (ok, or failed and why), exit. Exit code 0: every channel delivered; 2: some
    /// did not (named on stderr); 1: no channel configured or a bad config.
    #[arg(long)]
    pub test_alert: bool,
    /// Where the history database goes (default: the config file's folder).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match commands::run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("Error: {e:#}");
            ExitCode::from(1)
        }
    }
}
