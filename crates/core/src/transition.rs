//! Changing a miner's settings in smooth, safe steps: plan the steps (pure), then carry them out
//! in the order the firmware applies them, with read-back after every step, retries with backoff
//! inside a write budget, and cancellation before any write.

use std::time::Duration;

use axeos::SettingsPatch;
use rand::Rng;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use crate::events::Event;
use crate::reconcile::FanMode;
use crate::safety::{ordered_writes, Envelope, SafeSettings, Settings, Write};

pub mod timing;
pub use timing::FirmwareTiming;

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
    /// Gave up after the retries (or the write budget); the settings last read back, if any.
    Failed { error: String, at: Option<Settings> },
    /// Stopped before a write (newer target, emergency, pause, shutdown); the miner is at `at`,
    /// a safe point: a lowered clock with the old voltage, or a raised voltage with the old clock.
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
    /// At most this many PATCHes for the whole transition, retries included.
    pub max_writes: u32,
}

impl Pacing {
    /// The config's `transition_delay`, `retry_attempts` and `retry_delay`; no write budget.
    pub fn from_config(cfg: &crate::config::Config) -> Pacing {
        Pacing {
            step_delay: secs(cfg.transition_delay),
            retry_attempts: cfg.retry_attempts.min(MAX_RETRY_ATTEMPTS),
            retry_delay: secs(cfg.retry_delay),
            max_writes: u32::MAX,
        }
    }

    /// One attempt, no waiting between steps: for falling back to the safe settings.
    pub fn immediate() -> Pacing {
        Pacing {
            step_delay: Duration::ZERO,
            retry_attempts: 0,
            retry_delay: Duration::ZERO,
            max_writes: u32::MAX,
        }
    }

    /// The same pacing with a budget of `max_writes` PATCHes.
    pub fn with_budget(self, max_writes: u32) -> Pacing {
        Pacing { max_writes, ..self }
    }
}

/// Never more retries of one step than this, whatever the config says.
pub const MAX_RETRY_ATTEMPTS: u32 = 10;

/// Seconds from the config as a `Duration`, bounded (a day) so no value can panic a worker.
fn secs(s: f64) -> Duration {
    if s.is_finite() && s > 0.0 {
        Duration::from_secs_f64(s.min(86_400.0))
    } else {
        Duration::ZERO
    }
}

/// What a read-back after a step may reveal: a reason to stop, or none.
pub type LimitCheck<'a> = &'a (dyn Fn(&axeos::Info) -> Option<String> + Sync);
/// Asked before every write and during every wait: a reason to stop now, or none.
pub type StopCheck<'a> = &'a mut (dyn FnMut() -> Option<String> + Send);

/// How often a wait for the firmware asks the miner again.
const WATCH_EVERY: Duration = Duration::from_millis(100);
/// A stored frequency within this of the one written counts as taken: firmware before v2.10
/// stores 531 for 531.25 (truncation), and planning on that 1 MHz is harmless. One tolerance for
/// the whole engine: the policy's own comparison uses it too.
pub use crate::reconcile::SAME_FREQUENCY_MHZ as FREQUENCY_MATCH_MHZ;

/// Why one step did not complete.
enum StepError {
    Stopped(String),
    Failed(String),
}

/// Carries out one planned transition on one miner: the one place PATCHes are sent.
///
/// Order as the firmware applies it: going down, PATCH the frequency, wait until the miner reached
/// it (`actualFrequency` on v2.14+, else one loop pass plus the ramp), then PATCH the voltage.
/// Going up, PATCH the voltage, wait until `coreVoltageActual` confirms it (or one pass), then
/// PATCH the frequency and wait for its ramp before anything else is written. Every wait races the
/// cancellation token and the stop check; a stop only ever lands between two writes, which is a
/// safe point by the order rule.
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
        self.run_counting(from, steps, over_limit, stop).await.0
    }

    /// [`Mover::run`], also telling how many PATCHes were sent.
    pub async fn run_counting(
        &self,
        from: Settings,
        steps: &[SafeSettings],
        over_limit: LimitCheck<'_>,
        stop: StopCheck<'_>,
    ) -> (Outcome, u32) {
        let mut writes = 0;
        let outcome = self
            .run_inner(from, steps, over_limit, stop, &mut writes)
            .await;
        (outcome, writes)
    }

    async fn run_inner(
        &self,
        from: Settings,
        steps: &[SafeSettings],
        over_limit: LimitCheck<'_>,
        stop: StopCheck<'_>,
        writes: &mut u32,
    ) -> Outcome {
        let mut at = from;
        if steps.is_empty() {
            return Outcome::Done(at);
        }
        // Learn the firmware's timing (and its clock) from a fresh reading.
        let timing = match self.cancellable(self.client.info()).await {
            Some(Ok(info)) => FirmwareTiming::of(&info),
            Some(Err(_)) => FirmwareTiming::CONSERVATIVE,
            None => {
                return Outcome::Stopped {
                    at,
                    reason: "shutting down".into(),
                }
            }
        };
        let total = steps.len() as u32;
        for (i, step) in steps.iter().enumerate() {
            if i > 0 {
                if let Some(reason) = self.pause_between_steps(stop).await {
                    return Outcome::Stopped { at, reason };
                }
            }
            let info = match self.apply_step(&mut at, *step, timing, stop, writes).await {
                Ok(info) => info,
                Err(StepError::Stopped(reason)) => return Outcome::Stopped { at, reason },
                Err(StepError::Failed(error)) => {
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

    /// Put the fan back in `fan`'s mode (after the firmware's overheat protection forced it to
    /// manual 100 %): one PATCH. The manual duty is sent only to firmware that takes
    /// `manualFanSpeed` (v2.11+).
    pub async fn set_fan(&self, fan: FanMode, version: Option<&str>) -> Result<(), String> {
        let takes_manual = version
            .and_then(timing::parse_version)
            .is_some_and(|v| v >= (2, 11));
        let patch = SettingsPatch {
            autofanspeed: Some(u8::from(fan.auto)),
            manual_fan_speed: match fan.manual_percent {
                Some(m) if !fan.auto && takes_manual => Some(m.clamp(0.0, 100.0).round() as u8),
                _ => None,
            },
            ..Default::default()
        };
        match self.cancellable(self.client.patch(&patch)).await {
            None => Err("shutting down".into()),
            Some(r) => r.map_err(|e| e.to_string()),
        }
    }

    /// `fut`, unless shutdown comes first.
    async fn cancellable<T>(&self, fut: impl std::future::Future<Output = T>) -> Option<T> {
        tokio::select! {
            _ = self.cancel.cancelled() => None,
            v = fut => Some(v),
        }
    }

    /// Sleep `d`, asking `stop` every [`WATCH_EVERY`]; a reason to stop ends it early.
    async fn sleep(&self, d: Duration, stop: StopCheck<'_>) -> Option<String> {
        let until = tokio::time::Instant::now() + d;
        loop {
            if let Some(reason) = self.stop_reason(stop) {
                return Some(reason);
            }
            let now = tokio::time::Instant::now();
            if now >= until {
                return None;
            }
            let wake = until.min(now + WATCH_EVERY);
            if self
                .cancellable(tokio::time::sleep_until(wake))
                .await
                .is_none()
            {
                return Some("shutting down".into());
            }
        }
    }

    fn stop_reason(&self, stop: StopCheck<'_>) -> Option<String> {
        if self.cancel.is_cancelled() {
            return Some("shutting down".into());
        }
        stop()
    }

    async fn pause_between_steps(&self, stop: StopCheck<'_>) -> Option<String> {
        self.sleep(self.pacing.step_delay, stop).await
    }

    /// Write one step in the safe order, waiting for the firmware after each write, and read it
    /// back; retry the whole step on a mismatch while attempts and the write budget last.
    async fn apply_step(
        &self,
        at: &mut Settings,
        step: SafeSettings,
        timing: FirmwareTiming,
        stop: StopCheck<'_>,
        writes: &mut u32,
    ) -> Result<axeos::Info, StepError> {
        let want = step.get();
        let mut last_error = String::new();
        for attempt in 0..=self.pacing.retry_attempts {
            let needed = ordered_writes(*at, step).len().max(1) as u32;
            if writes.saturating_add(needed) > self.pacing.max_writes {
                let spent = format!("write budget of {} spent", self.pacing.max_writes);
                return Err(StepError::Failed(if last_error.is_empty() {
                    spent
                } else {
                    format!("{last_error} ({spent})")
                }));
            }
            if attempt > 0 {
                let wait = backoff(self.pacing.retry_delay, attempt);
                if let Some(reason) = self.sleep(wait, stop).await {
                    return Err(StepError::Stopped(reason));
                }
            }
            let start = *at;
            match self.write_and_read(at, step, timing, stop, writes).await {
                Ok(info) => {
                    if matches_target(&info, want) {
                        return Ok(info);
                    }
                    last_error = format!(
                        "wrote {want} but the miner reports {}mV @ {}MHz",
                        info.core_voltage
                            .map(|v| v.to_string())
                            .unwrap_or_else(|| "?".into()),
                        info.frequency
                            .map(crate::safety::fmt_mhz)
                            .unwrap_or_else(|| "?".into())
                    );
                    // Where the miner really is, for the next attempt's order.
                    if let (Some(v), Some(f)) = (info.core_voltage, info.frequency) {
                        *at = Settings::new(v, f);
                    }
                }
                Err(WriteError::Stopped(reason)) => return Err(StepError::Stopped(reason)),
                Err(WriteError::Refused(e)) => {
                    // 400: the firmware refused the values; sending them again cannot help.
                    return Err(StepError::Failed(e));
                }
                Err(WriteError::Failed(e)) => {
                    // Not known what was stored: the next attempt writes the whole step again.
                    *at = start;
                    last_error = e;
                }
            }
        }
        Err(StepError::Failed(last_error))
    }

    async fn write_and_read(
        &self,
        at: &mut Settings,
        step: SafeSettings,
        timing: FirmwareTiming,
        stop: StopCheck<'_>,
        writes: &mut u32,
    ) -> Result<axeos::Info, WriteError> {
        for write in ordered_writes(*at, step) {
            if let Some(reason) = self.stop_reason(stop) {
                return Err(WriteError::Stopped(reason));
            }
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
            *writes += 1;
            match self.cancellable(self.client.patch(&patch)).await {
                None => return Err(WriteError::Stopped("shutting down".into())),
                Some(Err(e @ axeos::Error::Rejected { .. })) => {
                    return Err(WriteError::Refused(e.to_string()))
                }
                Some(Err(e)) => return Err(WriteError::Failed(e.to_string())),
                Some(Ok(())) => {}
            }
            let before = *at;
            match write {
                Write::Voltage(v) => at.voltage = v,
                Write::Frequency(f) => at.frequency = f,
            }
            // Nothing else is written before the firmware has put this one in force.
            self.settle(write, before, timing, stop).await?;
        }
        match self.cancellable(self.client.info()).await {
            None => Err(WriteError::Stopped("shutting down".into())),
            Some(r) => r.map_err(|e| WriteError::Failed(e.to_string())),
        }
    }

    /// Wait until the firmware has put `write` in force, or as long as it can take. A write the
    /// miner did not even store, or (v2.14+) a lower clock it did not reach, fails the step:
    /// nothing that depends on it is written.
    async fn settle(
        &self,
        write: Write,
        before: Settings,
        timing: FirmwareTiming,
        stop: StopCheck<'_>,
    ) -> Result<(), WriteError> {
        let (in_force, last) = match write {
            Write::Voltage(v) => {
                // Watched in `coreVoltageActual`; at most one pass.
                let old = before.voltage;
                self.watch(timing.voltage_wait(), stop, |i| {
                    i.core_voltage_actual
                        .is_some_and(|a| timing.voltage_in_force(old, v, a))
                })
                .await?
            }
            Write::Frequency(f) => {
                let wait = timing.frequency_wait(before.frequency, f);
                if timing.reports_actual_frequency {
                    let down = f < before.frequency;
                    self.watch(wait, stop, |i| {
                        i.actual_frequency.is_some_and(|a| {
                            if down {
                                a <= f + timing::FREQUENCY_TOLERANCE_MHZ
                            } else {
                                a >= f - timing::FREQUENCY_TOLERANCE_MHZ
                            }
                        })
                    })
                    .await?
                } else {
                    // Nothing to watch on older firmware: one pass plus the ramp.
                    if let Some(reason) = self.sleep(wait, stop).await {
                        return Err(WriteError::Stopped(reason));
                    }
                    (false, None)
                }
            }
        };
        if in_force {
            return Ok(());
        }
        let info = match last {
            Some(info) => info,
            None => match self.cancellable(self.client.info()).await {
                None => return Err(WriteError::Stopped("shutting down".into())),
                Some(Err(e)) => return Err(WriteError::Failed(e.to_string())),
                Some(Ok(info)) => info,
            },
        };
        let (stored, what) = match write {
            Write::Voltage(v) => (info.core_voltage == Some(v), format!("{v} mV")),
            Write::Frequency(f) => (
                info.frequency
                    .is_some_and(|x| (x - f).abs() < FREQUENCY_MATCH_MHZ),
                format!("{} MHz", crate::safety::fmt_mhz(f)),
            ),
        };
        if !stored {
            return Err(WriteError::Failed(format!(
                "the miner answered but did not store {what}; nothing further written"
            )));
        }
        match write {
            Write::Frequency(f) if f < before.frequency && timing.reports_actual_frequency => {
                // The clock did not come down: lowering the voltage now could brown it out.
                Err(WriteError::Failed(format!(
                    "the miner did not reach {what} in time; voltage left as it was"
                )))
            }
            _ => Ok(()),
        }
    }

    /// Poll `/info` until `done` holds (true) or `limit` passes (false), with the last reading.
    async fn watch(
        &self,
        limit: Duration,
        stop: StopCheck<'_>,
        done: impl Fn(&axeos::Info) -> bool,
    ) -> Result<(bool, Option<axeos::Info>), WriteError> {
        let until = tokio::time::Instant::now() + limit;
        let mut last = None;
        loop {
            if let Some(reason) = self.stop_reason(stop) {
                return Err(WriteError::Stopped(reason));
            }
            let left = until.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return Ok((false, last));
            }
            let read = tokio::time::timeout(left, self.client.info());
            match self.cancellable(read).await {
                None => return Err(WriteError::Stopped("shutting down".into())),
                Some(Ok(Ok(info))) => {
                    if done(&info) {
                        return Ok((true, Some(info)));
                    }
                    last = Some(info);
                }
                _ => {}
            }
            if let Some(reason) = self.sleep(WATCH_EVERY.min(left), stop).await {
                return Err(WriteError::Stopped(reason));
            }
        }
    }
}

/// Why one write-and-read did not complete.
enum WriteError {
    Stopped(String),
    /// The firmware answered 400: it will refuse the same values again.
    Refused(String),
    Failed(String),
}

/// The miner stores what was written: the voltage exactly, the frequency within
/// [`FREQUENCY_MATCH_MHZ`] (truncating firmware).
pub fn matches_target(info: &axeos::Info, want: Settings) -> bool {
    match (info.core_voltage, info.frequency) {
        (Some(v), Some(f)) => crate::reconcile::same(Settings::new(v, f), want),
        _ => false,
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
