//! The events view's lines as a person would write them ("Demo 1 came online"), never the state
//! machine's arrows. Core's `Event::describe` stays the terse form for logs; an event this
//! module does not know yet falls back to it, with the miner's name in front.

use bitaxe_core::events::{Event, MinerState};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

fn capital(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// ` (why)` or nothing.
fn because(reason: &str) -> String {
    let r = reason.trim();
    if r.is_empty() {
        String::new()
    } else {
        format!(" ({r})")
    }
}

fn hm(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%H:%M").to_string()
}

fn state_sentence(miner: &str, from: MinerState, to: MinerState, reason: &str) -> String {
    match to {
        MinerState::Online => match from {
            MinerState::Unknown | MinerState::Disabled => format!("{miner} came online"),
            MinerState::Offline => format!("{miner} is back online"),
            MinerState::Stalled => format!("{miner} is hashing again"),
            MinerState::Overheated => format!("{miner} cooled down and is hashing again"),
            MinerState::Throttled => format!("{miner} is back on its schedule"),
            MinerState::Transitioning | MinerState::Online => {
                format!("{miner} is running normally")
            }
        },
        MinerState::Offline => format!("{miner} went offline{}", because(reason)),
        MinerState::Overheated => format!("{miner} overheated{}", because(reason)),
        MinerState::Throttled => format!("{miner} is held back{}", because(reason)),
        MinerState::Stalled => format!("{miner} stopped hashing{}", because(reason)),
        MinerState::Transitioning => format!("{miner} is changing its settings"),
        MinerState::Disabled => format!("{miner} was disabled"),
        MinerState::Unknown => format!("{miner} is being checked"),
    }
}

/// One plain sentence for `event`; times are local to `tz`.
pub fn sentence(event: &Event, tz: Tz) -> String {
    match event {
        Event::StateChanged {
            miner,
            from,
            to,
            reason,
        } => state_sentence(miner, *from, *to, reason),
        Event::PollFailed {
            miner,
            error,
            consecutive,
        } => format!("{miner} did not answer ({consecutive} in a row): {error}"),
        Event::TransitionStarted {
            miner,
            from,
            to,
            steps,
            reason,
        } => {
            let how = if *steps > 1 {
                format!(" in {steps} steps")
            } else {
                String::new()
            };
            format!("{miner} is changing from {from} to {to}{how}{}", because(reason))
        }
        Event::TransitionStep {
            miner,
            step,
            of,
            settings,
        } => format!("{miner} reached step {step} of {of}: {settings}"),
        Event::TransitionDone { miner, settings } => format!("{miner} now runs {settings}"),
        Event::TransitionFailed { miner, error } => {
            format!("{miner} could not change its settings: {error}")
        }
        Event::TransitionStopped { miner, at, reason } => {
            format!("{miner} stopped changing at {at}{}", because(reason))
        }
        Event::Throttled {
            miner,
            reason,
            settings,
        } => format!("{miner} was stepped down to {settings}{}", because(reason)),
        Event::Restored { miner } => format!("{miner} is cool again and back on its schedule"),
        Event::Drift {
            miner,
            expected,
            reported,
            action,
        } => format!(
            "{miner}'s settings were changed on the miner (expected {expected}, found {reported}); {action}"
        ),
        Event::SafetyCorrection {
            miner,
            reported,
            corrected,
        } => format!(
            "{miner} was at {reported}, outside the safety limits, and was set to {corrected}"
        ),
        Event::ProfileChanged { profile, source } => {
            format!("The fleet switched to {}{}", capital(&profile.to_string()), because(source))
        }
        Event::Emergency { active: true } => {
            "Emergency stop: every enabled miner runs the safe settings until you resume".into()
        }
        Event::Emergency { active: false } => {
            "Emergency stop cleared: the schedule is back in charge".into()
        }
        Event::Paused { paused: true } => "Schedule paused: miners keep what they run".into(),
        Event::Paused { paused: false } => "Schedule resumed".into(),
        Event::ConfigReloaded => "The configuration was reloaded".into(),
        Event::StatsSaved { path } => format!("Statistics saved to {path}"),
        Event::GaveUp {
            miner,
            target,
            reason,
            retry_at,
        } => format!(
            "{miner} would not take {target} ({reason}); it stays where it is until its target changes or you retry it{}",
            retry_at
                .map(|t| format!(", or until {}", hm(t, tz)))
                .unwrap_or_default()
        ),
        Event::FirmwareOverheat { miner } => format!(
            "{miner}'s firmware stopped the ASIC because it overheated; nothing is written to it while it cools"
        ),
        Event::CeilingLowered {
            miner,
            profile,
            steps,
        } => format!(
            "{miner} overheated twice on {profile} within 24 h, so {profile} runs {steps} throttle step{} lower on it until you clear it",
            if *steps == 1 { "" } else { "s" }
        ),
        Event::FanRestored {
            miner,
            auto: true,
            ..
        } => format!("{miner}'s fan is back on automatic after the overheat"),
        Event::FanRestored {
            miner,
            manual_percent,
            ..
        } => format!(
            "{miner}'s fan is back to {} % after the overheat",
            manual_percent
                .map(|m| format!("{m:.0}"))
                .unwrap_or_else(|| "its manual speed".into())
        ),
        Event::IdentityChanged {
            miner,
            expected,
            found,
        } => format!(
            "A different device answers at {miner}'s address (expected {expected}, found {found}); nothing is written to it until you confirm it"
        ),
        Event::UnknownModel { miner, model } => format!(
            "{miner} is a {model}, a model without known limits: it is only watched until you set its limits"
        ),
        Event::MiningPaused { miner, reason } => {
            format!("{miner} stopped mining{}", because(reason))
        }
        Event::MiningResumed { miner, reason } => {
            format!("{miner} is mining again{}", because(reason))
        }
        Event::BudgetLimited {
            miner,
            from,
            to,
            reason,
        } => format!(
            "{miner} runs {} instead of {} to keep the fleet within its power budget{}",
            capital(to),
            capital(from),
            because(reason)
        ),
        Event::BudgetRestored { miner, to, .. } => format!(
            "{miner} is back to {}: the power budget has room again",
            capital(to)
        ),
        Event::Warning { message } => capital(message),
        #[allow(unreachable_patterns)]
        other => match other.miner() {
            Some(m) => format!("{m}: {}", other.describe()),
            None => capital(&other.describe()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bitaxe_core::safety::Settings;

    fn changed(from: MinerState, to: MinerState, reason: &str) -> String {
        sentence(
            &Event::StateChanged {
                miner: "Demo 1".into(),
                from,
                to,
                reason: reason.into(),
            },
            Tz::UTC,
        )
    }

    #[test]
    fn state_changes_read_as_sentences_without_arrows() {
        use MinerState::*;
        assert_eq!(changed(Unknown, Online, ""), "Demo 1 came online");
        assert_eq!(
            changed(Offline, Online, "answering"),
            "Demo 1 is back online"
        );
        assert_eq!(
            changed(Online, Offline, "no answer to 3 polls"),
            "Demo 1 went offline (no answer to 3 polls)"
        );
        assert_eq!(
            changed(Online, Overheated, "ASIC 76.0°C"),
            "Demo 1 overheated (ASIC 76.0°C)"
        );
        assert_eq!(changed(Online, Stalled, ""), "Demo 1 stopped hashing");
        for from in [
            Unknown,
            Online,
            Offline,
            Transitioning,
            Throttled,
            Stalled,
            Overheated,
            Disabled,
        ] {
            for to in [
                Unknown,
                Online,
                Offline,
                Transitioning,
                Throttled,
                Stalled,
                Overheated,
                Disabled,
            ] {
                let s = changed(from, to, "why");
                assert!(!s.contains("->"), "{s}");
                assert!(s.starts_with("Demo 1 "), "{s}");
            }
        }
    }

    #[test]
    fn changes_and_safety_events_name_the_miner_and_the_settings() {
        let s = |voltage, frequency| Settings { voltage, frequency };
        let done = Event::TransitionDone {
            miner: "Attic".into(),
            settings: s(1140, 500.0),
        };
        assert_eq!(sentence(&done, Tz::UTC), "Attic now runs 1140mV @ 500MHz");
        let throttled = Event::Throttled {
            miner: "Attic".into(),
            reason: "ASIC 71.0°C above 70°C".into(),
            settings: s(1140, 500.0),
        };
        assert_eq!(
            sentence(&throttled, Tz::UTC),
            "Attic was stepped down to 1140mV @ 500MHz (ASIC 71.0°C above 70°C)"
        );
        let gave_up = Event::GaveUp {
            miner: "Attic".into(),
            target: s(1200, 550.0),
            reason: "kept 1150mV @ 500MHz after 3 writes".into(),
            retry_at: "2026-11-25T13:00:00Z".parse().ok(),
        };
        let berlin: Tz = "Europe/Berlin".parse().expect("zone");
        assert!(sentence(&gave_up, berlin).ends_with("or until 14:00"));
        assert_eq!(
            sentence(&Event::Paused { paused: false }, Tz::UTC),
            "Schedule resumed"
        );
        let limited = Event::BudgetLimited {
            miner: "Attic".into(),
            from: "performance".into(),
            to: "quiet".into(),
            reason: "fleet at 310 W of 300 W".into(),
        };
        assert_eq!(
            sentence(&limited, Tz::UTC),
            "Attic runs Quiet instead of Performance to keep the fleet within its power budget (fleet at 310 W of 300 W)"
        );
    }
}
