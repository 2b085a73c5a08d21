//! The alerts task: listens to the bus, runs the same alert rules as the desktop (one alert per
//! episode and a recovery), applies the config's kinds and quiet hours, and hands each alert to
//! every channel's own sender.
//!
//! A sender per channel keeps a slow or failing channel from holding up the others or the
//! engine: the task only pushes into a bounded queue (the oldest alert is dropped, and counted,
//! when it is full). A failed delivery is tried again with backoff and jitter, a bounded number
//! of times; every try that fails is an `alert_failed` event, every delivery an `alert_sent`.
//! Every wait races the engine's cancellation. A saved config with other channels replaces the
//! senders; the episodes carry on.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::Rng;
use tokio::sync::{broadcast, watch, Notify};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::alerts::{Alert, AlertFeed, Delivery, Gate, Outgoing};
use crate::clock::Clock;
use crate::config::alerts::{AlertsConfig, ChannelConfig};
use crate::events::Event;
use crate::plan::Plan;

/// Alerts waiting for one channel; past this the oldest is dropped.
pub const QUEUE_CAP: usize = 64;

/// How often the task looks whether quiet hours ended (to send what they held).
const RELEASE_EVERY: Duration = Duration::from_secs(30);

/// How a failed delivery is tried again: `tries` in all, waiting `first`, then `factor` times
/// longer each time, each wait moved by up to `jitter` (a fraction) either way.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    pub tries: u32,
    pub first: Duration,
    pub factor: f64,
    pub jitter: f64,
}

impl Default for RetryPolicy {
    /// 5 tries over about 10 minutes: 15 s, 45 s, 2¼ min, 6¾ min between them, ±20 %.
    fn default() -> Self {
        RetryPolicy {
            tries: 5,
            first: Duration::from_secs(15),
            factor: 3.0,
            jitter: 0.2,
        }
    }
}

impl RetryPolicy {
    /// The wait after failed try `n` (1-based), before jitter.
    pub fn base_delay(&self, n: u32) -> Duration {
        self.first
            .mul_f64(self.factor.powi(n.saturating_sub(1) as i32))
    }

    fn delay(&self, n: u32) -> Duration {
        let j = self.jitter.clamp(0.0, 1.0);
        let scale = if j > 0.0 {
            rand::thread_rng().gen_range(1.0 - j..=1.0 + j)
        } else {
            1.0
        };
        self.base_delay(n).mul_f64(scale)
    }
}

/// What the engine's alerts are given besides the config: whether this engine sends them at
/// all, how deliveries are made and how they are retried.
#[derive(Clone)]
pub struct AlertOptions {
    /// False for a one-shot command's short-lived engine: the user is at the keyboard and sees
    /// the result, and a retry would be cut off when it exits.
    pub send: bool,
    pub delivery: Delivery,
    pub retry: RetryPolicy,
}

impl Default for AlertOptions {
    fn default() -> Self {
        AlertOptions {
            send: true,
            delivery: Delivery::default(),
            retry: RetryPolicy::default(),
        }
    }
}

pub(crate) struct AlertsTask {
    bus: broadcast::Sender<Event>,
    clock: Arc<dyn Clock>,
    cancel: CancellationToken,
    tracker: TaskTracker,
    plan: watch::Receiver<Arc<Plan>>,
    options: AlertOptions,
}

/// One channel's sender, as the task sees it.
struct Sender {
    channel: ChannelConfig,
    queue: Arc<Queue>,
    cancel: CancellationToken,
}

#[derive(Default)]
struct Queue {
    items: Mutex<VecDeque<Outgoing>>,
    ready: Notify,
}

impl Queue {
    /// Add `m`; the number of older alerts dropped to make room.
    fn push(&self, m: Outgoing) -> usize {
        let mut dropped = 0;
        if let Ok(mut q) = self.items.lock() {
            while q.len() >= QUEUE_CAP {
                q.pop_front();
                dropped += 1;
            }
            q.push_back(m);
        }
        self.ready.notify_one();
        dropped
    }

    fn pop(&self) -> Option<Outgoing> {
        self.items.lock().ok().and_then(|mut q| q.pop_front())
    }
}

impl AlertsTask {
    pub fn new(
        bus: broadcast::Sender<Event>,
        clock: Arc<dyn Clock>,
        cancel: CancellationToken,
        tracker: TaskTracker,
        plan: watch::Receiver<Arc<Plan>>,
        options: AlertOptions,
    ) -> AlertsTask {
        AlertsTask {
            bus,
            clock,
            cancel,
            tracker,
            plan,
            options,
        }
    }

    fn config(&self) -> Option<AlertsConfig> {
        self.plan.borrow().config.alerts.clone()
    }

    fn local_time(&self) -> chrono::NaiveTime {
        let tz = self.plan.borrow().tz;
        self.clock.now().with_timezone(&tz).time()
    }

    pub async fn run(mut self, mut rx: broadcast::Receiver<Event>) {
        let mut feed = AlertFeed::new();
        let mut gate = Gate::new();
        let mut config = self.config();
        let mut senders = self.start_senders(config.as_ref());
        let mut release = tokio::time::interval(RELEASE_EVERY);
        release.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut held_dropped = 0;
        loop {
            let alerts: Vec<Alert> = tokio::select! {
                _ = self.cancel.cancelled() => break,
                changed = self.plan.changed() => {
                    if changed.is_err() {
                        break;
                    }
                    let now = self.config();
                    if now == config {
                        continue;
                    }
                    for s in &senders {
                        s.cancel.cancel();
                    }
                    config = now;
                    senders = self.start_senders(config.as_ref());
                    // Quiet hours changed or removed: what they held may go now.
                    match &config {
                        Some(c) => gate.release(c, self.local_time()),
                        None => Vec::new(),
                    }
                }
                _ = release.tick() => match &config {
                    Some(c) => gate.release(c, self.local_time()),
                    None => Vec::new(),
                },
                event = rx.recv() => match event {
                    Ok(e) => {
                        let raised = feed.on_event(&e);
                        match &config {
                            Some(c) => {
                                let local = self.local_time();
                                raised
                                    .into_iter()
                                    .flat_map(|a| gate.admit(c, a, local))
                                    .collect()
                            }
                            None => Vec::new(),
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => break,
                },
            };
            if gate.dropped > held_dropped {
                held_dropped = gate.dropped;
                let _ = self.bus.send(Event::Warning {
                    message: format!(
                        "quiet hours held too many alerts: {held_dropped} of the oldest dropped"
                    ),
                });
            }
            for alert in alerts {
                let message = Outgoing::from_alert(&alert, self.clock.now());
                for s in &senders {
                    if s.channel.kinds().is_some_and(|k| !k.contains(&alert.kind)) {
                        continue;
                    }
                    let dropped = s.queue.push(message.clone());
                    if dropped > 0 {
                        let _ = self.bus.send(Event::AlertFailed {
                            channel: s.channel.label(),
                            message: format!(
                                "{dropped} older alert(s) dropped: more than {QUEUE_CAP} waited for this channel"
                            ),
                        });
                    }
                }
            }
        }
        for s in &senders {
            s.cancel.cancel();
        }
    }

    fn start_senders(&self, config: Option<&AlertsConfig>) -> Vec<Sender> {
        let Some(config) = config else {
            return Vec::new();
        };
        config
            .channels
            .iter()
            .map(|channel| {
                let queue = Arc::new(Queue::default());
                let cancel = self.cancel.child_token();
                let worker = ChannelSender {
                    channel: channel.clone(),
                    label: channel.label(),
                    queue: queue.clone(),
                    cancel: cancel.clone(),
                    bus: self.bus.clone(),
                    delivery: self.options.delivery.clone(),
                    retry: self.options.retry,
                };
                self.tracker.spawn(worker.run());
                Sender {
                    channel: channel.clone(),
                    queue,
                    cancel,
                }
            })
            .collect()
    }
}

/// Delivers one channel's queue in order, retrying each alert with backoff.
struct ChannelSender {
    channel: ChannelConfig,
    label: String,
    queue: Arc<Queue>,
    cancel: CancellationToken,
    bus: broadcast::Sender<Event>,
    delivery: Delivery,
    retry: RetryPolicy,
}

impl ChannelSender {
    async fn run(self) {
        loop {
            let Some(message) = self.queue.pop() else {
                tokio::select! {
                    _ = self.cancel.cancelled() => return,
                    _ = self.queue.ready.notified() => continue,
                }
            };
            if !self.deliver(&message).await {
                return;
            }
        }
    }

    /// Try `message` until it is delivered or the tries run out; false when cancelled.
    async fn deliver(&self, message: &Outgoing) -> bool {
        let tries = self.retry.tries.max(1);
        for n in 1..=tries {
            let result = tokio::select! {
                _ = self.cancel.cancelled() => return false,
                r = self.delivery.send(&self.channel, message) => r,
            };
            let error = match result {
                Ok(()) => {
                    let _ = self.bus.send(Event::AlertSent {
                        channel: self.label.clone(),
                        miner: message.miner.clone(),
                        title: message.title.clone(),
                    });
                    return true;
                }
                Err(e) => e,
            };
            if n == tries {
                let _ = self.bus.send(Event::AlertFailed {
                    channel: self.label.clone(),
                    message: format!(
                        "{:?} not delivered, gave up after {tries} tries: {error}",
                        message.title
                    ),
                });
                return true;
            }
            let wait = self.retry.delay(n);
            let _ = self.bus.send(Event::AlertFailed {
                channel: self.label.clone(),
                message: format!(
                    "{:?} not delivered (try {n} of {tries}, next in {}): {error}",
                    message.title,
                    human(wait)
                ),
            });
            tokio::select! {
                _ = self.cancel.cancelled() => return false,
                _ = tokio::time::sleep(wait) => {}
            }
        }
        true
    }
}

fn human(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 1.0 {
        format!("{} ms", d.as_millis())
    } else if s < 120.0 {
        format!("{s:.0} s")
    } else {
        format!("{:.1} min", s / 60.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_backoff_spans_about_ten_minutes() {
        let p = RetryPolicy::default();
        let total: Duration = (1..p.tries).map(|n| p.base_delay(n)).sum();
        assert_eq!(total, Duration::from_secs(15 + 45 + 135 + 405));
        for _ in 0..50 {
            let d = p.delay(1).as_secs_f64();
            assert!((12.0..=18.0).contains(&d), "{d}");
        }
    }

    #[test]
    fn a_full_queue_drops_the_oldest() {
        let q = Queue::default();
        let m = |i: usize| {
            let mut o = Outgoing::test(chrono::Utc::now());
            o.title = i.to_string();
            o
        };
        for i in 0..QUEUE_CAP {
            assert_eq!(q.push(m(i)), 0);
        }
        assert_eq!(q.push(m(QUEUE_CAP)), 1);
        assert_eq!(q.pop().map(|o| o.title), Some("1".to_string()));
    }
}
