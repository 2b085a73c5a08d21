//! Listens to the bus and keeps the history database and the statistics file.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{broadcast, watch};
use tokio_util::sync::CancellationToken;

use crate::clock::Clock;
use crate::events::{Event, MinerState, Sample};
use crate::history::History;
use crate::plan::Plan;
use crate::stats::Stats;

const FLUSH_EVERY: Duration = Duration::from_millis(200);
const FLUSH_AT: usize = 500;

pub(crate) struct Recorder {
    bus: broadcast::Sender<Event>,
    clock: Arc<dyn Clock>,
    cancel: CancellationToken,
    /// For each miner's address and the statistics and retention settings.
    plan: watch::Receiver<Arc<Plan>>,
    history: History,
    stats: Stats,
    stats_path: PathBuf,
    pending: Vec<Sample>,
}

impl Recorder {
    pub fn new(
        bus: broadcast::Sender<Event>,
        clock: Arc<dyn Clock>,
        cancel: CancellationToken,
        plan: watch::Receiver<Arc<Plan>>,
        history: History,
        stats: Stats,
        stats_path: PathBuf,
    ) -> Recorder {
        Recorder {
            bus,
            clock,
            cancel,
            plan,
            history,
            stats,
            stats_path,
            pending: Vec::new(),
        }
    }

    pub async fn run(mut self, mut rx: broadcast::Receiver<Event>) {
        let mut flush = tokio::time::interval(FLUSH_EVERY);
        let mut compact = tokio::time::interval(Duration::from_secs(3600));
        let mut last_stats = self.clock.now();
        loop {
            tokio::select! {
                _ = self.cancel.cancelled() => break,
                _ = flush.tick() => {
                    self.flush();
                    let now = self.clock.now();
                    if (now - last_stats).num_milliseconds() as f64 >= self.plan.borrow().config.log_stats_interval * 1000.0 {
                        last_stats = now;
                        self.save_stats();
                    }
                }
                _ = compact.tick() => self.compact(),
                event = rx.recv() => match event {
                    Ok(e) => self.on_event(e),
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        let _ = self.bus.send(Event::Warning { message: format!("history fell behind and skipped {n} events") });
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                },
            }
        }
        // Drain what is already on the bus, then flush and save once more.
        while let Ok(e) = rx.try_recv() {
            self.on_event(e);
        }
        self.flush();
        self.save_stats();
    }

    fn on_event(&mut self, event: Event) {
        match event {
            Event::Sampled(sample) => {
                let ip = self.url_of(&sample.miner);
                self.stats.record(&sample, &ip);
                self.pending.push(sample);
                if self.pending.len() >= FLUSH_AT {
                    self.flush();
                }
            }
            Event::StateChanged { miner, to, .. } => {
                let ip = self.url_of(&miner);
                self.stats
                    .set_online(&miner, &ip, !matches!(to, MinerState::Offline));
            }
            _ => {}
        }
    }

    fn url_of(&self, miner: &str) -> String {
        self.plan
            .borrow()
            .config
            .miner(miner)
            .map(|m| m.ip.clone())
            .unwrap_or_default()
    }

    fn flush(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        // Energy is not integrated across a silence longer than three poll periods.
        let poll = {
            let c = &self.plan.borrow().config;
            c.check_interval.min(c.temp_check_interval)
        };
        if poll.is_finite() && poll > 0.0 {
            self.history
                .set_max_gap(Duration::from_secs_f64((poll * 3.0).min(86_400.0)));
        }
        if let Err(e) = self.history.insert(&self.pending) {
            let _ = self.bus.send(Event::Warning {
                message: e.to_string(),
            });
        }
        self.pending.clear();
    }

    fn compact(&mut self) {
        let days = self.plan.borrow().config.history_retention_days;
        if let Err(e) = self.history.compact(self.clock.now(), days) {
            let _ = self.bus.send(Event::Warning {
                message: e.to_string(),
            });
        }
    }

    fn save_stats(&mut self) {
        let now = self.clock.now();
        let plan = self.plan.borrow().clone();
        let prices = crate::cost::price_source(&plan.config, plan.prices.clone());
        if let Err(e) = self
            .stats
            .measure_today(&self.history, &prices, plan.tz, now)
        {
            let _ = self.bus.send(Event::Warning {
                message: format!("today's energy not measured: {e}"),
            });
        }
        match self.stats.save(&self.stats_path, now) {
            Ok(()) => {
                let _ = self.bus.send(Event::StatsSaved {
                    path: self.stats_path.display().to_string(),
                });
            }
            Err(e) => {
                let _ = self.bus.send(Event::Warning {
                    message: format!("statistics not saved to {}: {e}", self.stats_path.display()),
                });
            }
        }
    }
}
