//! Changing a miner's settings in smooth, safe steps: plan the steps (pure), then carry them out
//! with read-back after every step, retries with backoff, and cancellation between steps only.

use std::time::Duration;

use axeos::SettingsPatch;
use rand::Rng;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use crate::events::Event;
use crate::safety::{ordered_writes, Envelope, SafeSettings, Settings, Write};

/// The intermediate targets from `from` to `to`, `steps` of them at most, each inside the
/// envelope, the last one exactly `to`. Steps that would not change anything are dropped.
pub fn plan_steps(
    from: Settings,
    to: SafeSettings,
    steps: u32,
    env: &Envelope,
) -> Vec<SafeSettings> {
    let n = steps.max(1);
    let target = to.get();
    let mut out: Vec<SafeSettings> = Vec::with_capacity(n as usize);
    for i in 1..=n {
        let previous = out.last().map(|s| s.get()).unwrap_or(from);
        let step = if i == n {
            to
        } else {
            // Round to whole mV and MHz, but never back past the previous step or past the target.
            let t = f64::from(i) / f64::from(n);
            let v =
                f64::from(from.voltage) + (f64::from(target.voltage) - f64::from(from.voltage)) * t;
            let f = from.frequency + (target.frequency - from.frequency) * t;
            let between = |x: f64, a: f64, b: f64| x.clamp(a.min(b), a.max(b));
            let v = between(
                v.round(),
                f64::from(previous.voltage),
                f64::from(target.voltage),
            );
            let f = between(f.round(), previous.frequency, target.frequency);
            env.clamp(Settings::new(v as u32, f))
        };
        if step.get() != previous {
            out.push(step);
        }
    }
    out
}

/// How a transition went.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Every step applied and read back.
    Done(Settings),
    /// Gave up after the retries; the settings last read back, if any.
    Failed { error: String, at: Option<Settings> },
    /// Stopped between steps (newer target, pause, shutdown); the miner is at `at`, a safe point.
    Stopped { at: Settings, reason: String },
    /// The read-back after a step showed the miner over a limit; stopped so the safety loop acts.
    OverLimit { at: Settings, reason: String },
}

/// Retry and pacing rules for one transition.
#[derive(Debug, Clone, Copy)]
pub struct Pacing {
    pub step_delay: Duration,
    pub retry_attempts: u32,
    pub retry_delay: Duration,
}

impl Pacing {
    /// The config's `transition_delay`, `retry_attempts` and `retry_delay`.
    pub fn from_config(cfg: &crate::config::Config) -> Pacing {
        Pacing {
            step_delay: Duration::from_secs_f64(cfg.transition_delay),
            retry_attempts: cfg.retry_attempts,
            retry_delay: Duration::from_secs_f64(cfg.retry_delay),
        }
    }

    /// One attempt, no waiting: for falling back to the safe settings.
    pub fn immediate() -> Pacing {
        Pacing {
            step_delay: Duration::ZERO,
            retry_attempts: 0,
            retry_delay: Duration::ZERO,
        }
    }
}

/// What a read-back after a step may reveal: a reason to stop, or none.
pub type LimitCheck<'a> = &'a (dyn Fn(&axeos::Info) -> Option<String> + Sync);
/// Asked between steps: a reason to stop now, or none.
pub type StopCheck<'a> = &'a mut (dyn FnMut() -> Option<String> + Send);

/// Carries out one planned transition on one miner.
pub struct Mover<'a> {
    pub client: &'a axeos::Client,
    pub miner: &'a str,
    pub bus: &'a broadcast::Sender<Event>,
    pub cancel: &'a CancellationToken,
    pub pacing: Pacing,
}

impl Mover<'_> {
    pub async fn run(
        &self,
        from: Settings,
        steps: &[SafeSettings],
        over_limit: LimitCheck<'_>,
        stop: StopCheck<'_>,
    ) -> Outcome {
        let mut at = from;
        let total = steps.len() as u32;
        for (i, step) in steps.iter().enumerate() {
            if i > 0 {
                if let Some(reason) = self.pause_between_steps(stop).await {
                    return Outcome::Stopped { at, reason };
                }
            }
            let info = match self.apply_step(at, *step).await {
                Ok(info) => info,
                Err(error) => {
                    return Outcome::Failed {
                        error,
                        at: Some(at),
                    }
                }
            };
            at = step.get();
            let _ = self.bus.send(Event::TransitionStep {
                miner: self.miner.to_string(),
                step: i as u32 + 1,
                of: total,
                settings: at,
            });
            if i + 1 < steps.len() {
                if let Some(reason) = over_limit(&info) {
                    return Outcome::OverLimit { at, reason };
                }
            }
        }
        Outcome::Done(at)
    }

    async fn pause_between_steps(&self, stop: StopCheck<'_>) -> Option<String> {
        if let Some(reason) = stop() {
            return Some(reason);
        }
        tokio::select! {
            _ = self.cancel.cancelled() => return Some("shutting down".into()),
            _ = tokio::time::sleep(self.pacing.step_delay) => {}
        }
        stop()
    }

    /// Write one step in the safe order and read it back; retry the whole step on a mismatch.
    async fn apply_step(&self, from: Settings, step: SafeSettings) -> Result<axeos::Info, String> {
        let want = step.get();
        let mut last_error = String::new();
        for attempt in 0..=self.pacing.retry_attempts {
            if attempt > 0 {
                if self.cancel.is_cancelled() {
                    break;
                }
                tokio::time::sleep(backoff(self.pacing.retry_delay, attempt)).await;
            }
            match self.write_and_read(from, step).await {
                Ok(info) => {
                    let reported = (info.core_voltage, info.frequency);
                    if reported.0 == Some(want.voltage)
                        && reported
                            .1
                            .is_some_and(|f| (f - want.frequency).abs() < 0.01)
                    {
                        return Ok(info);
                    }
                    last_error = format!(
                        "wrote {want} but the miner reports {}mV @ {}MHz",
                        reported
                            .0
                            .map(|v| v.to_string())
                            .unwrap_or_else(|| "?".into()),
                        reported
                            .1
                            .map(crate::safety::fmt_mhz)
                            .unwrap_or_else(|| "?".into())
                    );
                }
                Err(e) => last_error = e.to_string(),
            }
        }
        Err(last_error)
    }

    async fn write_and_read(
        &self,
        from: Settings,
        step: SafeSettings,
    ) -> Result<axeos::Info, axeos::Error> {
        for write in ordered_writes(from, step) {
            let patch = match write {
                Write::Voltage(v) => SettingsPatch {
                    core_voltage: Some(v),
                    ..Default::default()
                },
                Write::Frequency(f) => SettingsPatch {
                    frequency: Some(f),
                    ..Default::default()
                },
            };
            self.client.patch(&patch).await?;
        }
        self.client.info().await
    }
}

/// `base` doubled per attempt (capped), with up to 20 % jitter so a fleet does not retry in step.
pub fn backoff(base: Duration, attempt: u32) -> Duration {
    let doubled = base.saturating_mul(1u32 << attempt.saturating_sub(1).min(6));
    let capped = doubled.min(Duration::from_secs(300));
    let jitter = rand::thread_rng().gen_range(0.0..0.2);
    capped.mul_f64(1.0 + jitter)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn env() -> Envelope {
        Envelope::new(1000, 1300, 100.0, 650.0)
    }

    #[test]
    fn five_even_steps_end_exactly_on_target() {
        let steps = plan_steps(
            Settings::new(1100, 400.0),
            env().clamp(Settings::new(1200, 550.0)),
            5,
            &env(),
        );
        let got: Vec<Settings> = steps.iter().map(|s| s.get()).collect();
        assert_eq!(
            got,
            vec![
                Settings::new(1120, 430.0),
                Settings::new(1140, 460.0),
                Settings::new(1160, 490.0),
                Settings::new(1180, 520.0),
                Settings::new(1200, 550.0)
            ]
        );
    }

    #[test]
    fn no_change_means_no_steps() {
        let s = Settings::new(1150, 525.0);
        assert!(plan_steps(s, env().clamp(s), 5, &env()).is_empty());
    }

    #[test]
    fn backoff_doubles_with_bounded_jitter() {
        let b = Duration::from_secs(5);
        for (attempt, base) in [(1, 5.0), (2, 10.0), (3, 20.0)] {
            let d = backoff(b, attempt).as_secs_f64();
            assert!(d >= base && d <= base * 1.2, "attempt {attempt}: {d}");
        }
        assert!(backoff(Duration::from_secs(100), 10) <= Duration::from_secs(360));
    }

    proptest! {
        #[test]
        fn steps_stay_inside_and_move_monotonically(
            v0 in 1000u32..1300, f0 in 100.0f64..650.0, v1 in 0u32..3000, f1 in 0.0f64..2000.0, n in 1u32..20,
        ) {
            let from = Settings::new(v0, f0);
            let to = env().clamp(Settings::new(v1, f1));
            let steps = plan_steps(from, to, n, &env());
            prop_assert!(steps.len() <= n as usize);
            let mut prev = from;
            for s in &steps {
                let s = s.get();
                prop_assert!(env().contains(s));
                // Each component moves only toward the target.
                prop_assert!((s.voltage as i64 - prev.voltage as i64).signum() * (to.get().voltage as i64 - prev.voltage as i64).signum() >= 0);
                prop_assert!((s.frequency - prev.frequency) * (to.get().frequency - prev.frequency) >= -1e-9);
                prev = s;
            }
            if from != to.get() {
                prop_assert_eq!(steps.last().map(|s| s.get()), Some(to.get()));
            }
        }
    }
}
