//! `--test-alert`: one test message to every alert channel, one line each, and an exit code that
//! says whether they all delivered.

use std::process::ExitCode;

use anyhow::{bail, Result};
use bitaxe_core::alerts;
use bitaxe_core::config::Config;

use crate::commands::EXIT_ALERT_FAILED;

pub async fn run(config: &Config) -> Result<ExitCode> {
    let count = config.alerts.as_ref().map_or(0, |a| a.channels.len());
    if count == 0 {
        bail!("no alert channels configured: add some under \"alerts\": {{\"channels\": [...]}}");
    }
    let reports = alerts::send_test(config).await;
    let mut failed = Vec::new();
    for r in &reports {
        match &r.error {
            None => println!("{}: ok", r.channel),
            Some(e) => {
                println!("{}: failed: {e}", r.channel);
                failed.push(r.channel.clone());
            }
        }
    }
    if failed.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!(
            "Not delivered to {} of {} channel(s): {}",
            failed.len(),
            reports.len(),
            failed.join(", ")
        );
        Ok(ExitCode::from(EXIT_ALERT_FAILED))
    }
}
