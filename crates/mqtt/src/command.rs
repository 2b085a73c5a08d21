//! Commands from the `select`, `switch` and `button` entities. Each one is a call into
//! `bitaxe_core::ops` with [`Target::Engine`], the same functions the CLI and the desktop use, so
//! the safety envelope, the emergency stop and the transition rules apply as they do there. No
//! value from MQTT is ever written to a miner directly.
//!
//! | entity | miner device | fleet device |
//! |---|---|---|
//! | `profile` (select) | apply the profile to this miner until the next planned change | apply it to the fleet |
//! | `pause` (switch) | pause or resume hashing on this miner | hold or release schedule changes |
//! | `restart` (button) | restart this miner | - |
//! | `resume` (button) | - | back to plan: clear profiles applied by hand, a pause, an emergency stop |

use bitaxe_core::ops::{self, Target};
use bitaxe_core::schedule::Profile;

/// Which device a command is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Fleet,
    /// The miner's configured name.
    Miner(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Profile(Scope, String),
    Pause(Scope, bool),
    Restart(String),
    Resume,
}

/// Why a message on a command topic was refused before reaching the engine.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("no such command {0:?} (known: profile, pause, restart on a miner; profile, pause, resume on the fleet)")]
    UnknownCommand(String),
    #[error("{entity}: expected {expected}, got {got:?}")]
    BadPayload {
        entity: &'static str,
        expected: &'static str,
        got: String,
    },
}

/// The command a payload on `entity`'s topic asks for.
pub fn parse(scope: Scope, entity: &str, payload: &[u8]) -> Result<Command, Refused> {
    let text = String::from_utf8_lossy(payload).trim().to_string();
    let shown = || text.chars().take(64).collect::<String>();
    match (entity, scope) {
        ("profile", scope) => {
            if text.is_empty() {
                return Err(Refused::BadPayload {
                    entity: "profile",
                    expected: "a profile name",
                    got: shown(),
                });
            }
            Ok(Command::Profile(scope, text))
        }
        ("pause", scope) => match text.to_ascii_uppercase().as_str() {
            "ON" => Ok(Command::Pause(scope, true)),
            "OFF" => Ok(Command::Pause(scope, false)),
            _ => Err(Refused::BadPayload {
                entity: "pause",
                expected: "ON or OFF",
                got: shown(),
            }),
        },
        ("restart", Scope::Miner(name)) => press("restart", &text, Command::Restart(name)),
        ("resume", Scope::Fleet) => press("resume", &text, Command::Resume),
        (other, _) => Err(Refused::UnknownCommand(other.chars().take(64).collect())),
    }
}

fn press(entity: &'static str, text: &str, c: Command) -> Result<Command, Refused> {
    if text == "PRESS" {
        Ok(c)
    } else {
        Err(Refused::BadPayload {
            entity,
            expected: "PRESS",
            got: text.chars().take(64).collect(),
        })
    }
}

/// Carry a command out through the operations layer; the text says what was done.
pub async fn run(target: &Target, c: &Command) -> Result<String, ops::OpsError> {
    match c {
        Command::Profile(scope, name) => {
            let profile = Profile::new(name);
            let miner = match scope {
                Scope::Fleet => None,
                Scope::Miner(m) => Some(m.as_str()),
            };
            let report = ops::apply(target, profile, miner).await?;
            if let Err(why) = report.saved {
                tracing::warn!("MQTT: {why}");
            }
            Ok(match miner {
                Some(m) => format!("applied profile {name} to {m}"),
                None => format!("applied profile {name} to the fleet"),
            })
        }
        Command::Pause(Scope::Miner(m), paused) => {
            ops::pause_miner(target, m, *paused).await?;
            Ok(format!(
                "{} mining on {m}",
                if *paused { "paused" } else { "resumed" }
            ))
        }
        Command::Pause(Scope::Fleet, paused) => {
            ops::set_paused(target, *paused)?;
            Ok(if *paused {
                "schedule changes held".into()
            } else {
                "schedule changes released".into()
            })
        }
        Command::Restart(m) => {
            ops::restart_miner(target, m).await?;
            Ok(format!("restarted {m}"))
        }
        Command::Resume => {
            ops::resume(target)?;
            Ok("back to plan".into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m() -> Scope {
        Scope::Miner("a".into())
    }

    #[test]
    fn payloads() {
        assert_eq!(
            parse(m(), "profile", b" night "),
            Ok(Command::Profile(m(), "night".into()))
        );
        assert_eq!(parse(m(), "pause", b"on"), Ok(Command::Pause(m(), true)));
        assert_eq!(
            parse(Scope::Fleet, "pause", b"OFF"),
            Ok(Command::Pause(Scope::Fleet, false))
        );
        assert_eq!(
            parse(m(), "restart", b"PRESS"),
            Ok(Command::Restart("a".into()))
        );
        assert_eq!(parse(Scope::Fleet, "resume", b"PRESS"), Ok(Command::Resume));
        assert!(matches!(
            parse(m(), "pause", b"maybe"),
            Err(Refused::BadPayload { .. })
        ));
        assert!(matches!(
            parse(m(), "profile", b""),
            Err(Refused::BadPayload { .. })
        ));
        assert!(matches!(
            parse(Scope::Fleet, "restart", b"PRESS"),
            Err(Refused::UnknownCommand(_))
        ));
        assert!(matches!(
            parse(m(), "resume", b"PRESS"),
            Err(Refused::UnknownCommand(_))
        ));
        assert!(matches!(
            parse(m(), "format_disk", b"PRESS"),
            Err(Refused::UnknownCommand(_))
        ));
        // Not UTF-8: refused with a readable message, no panic.
        assert!(parse(m(), "pause", &[0xff, 0xfe]).is_err());
    }
}
