//! The engine's price feed: runs the config's tariff feed (`prices::PriceFeed`) and hands every
//! new price view to the plan, so price rules and cost read the latest prices. A config change
//! that touches `tariff` (or the zone) restarts the feed.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::clock::Clock;
use crate::config::Config;
use crate::plan::Plan;
use crate::prices::{FeedOptions, PriceFeed};
use crate::schedule::PriceLookup;

pub(crate) struct PriceTask {
    pub plan_tx: Arc<watch::Sender<Arc<Plan>>>,
    pub config_path: PathBuf,
    pub clock: Arc<dyn Clock>,
    pub refresh: Duration,
    pub cancel: CancellationToken,
    pub tracker: TaskTracker,
}

/// What, in a config, the feed depends on.
fn key(cfg: &Config) -> String {
    format!(
        "{}|{}|{}",
        serde_json::to_string(&cfg.tariff).unwrap_or_default(),
        cfg.timezone,
        cfg.history_retention_days
    )
}

impl PriceTask {
    pub async fn run(self) {
        let mut plans = self.plan_tx.subscribe();
        loop {
            let cfg = plans.borrow_and_update().config.clone();
            let running = key(&cfg);
            let options = FeedOptions {
                refresh: self.refresh,
                retry: self.refresh.min(Duration::from_secs(60)),
                ..FeedOptions::default()
            };
            let feed = match cfg.tariff {
                None => None,
                Some(_) => match PriceFeed::for_config(
                    &cfg,
                    &self.config_path,
                    self.clock.clone(),
                    options,
                ) {
                    Ok(feed) => Some(feed),
                    Err(e) => {
                        tracing::warn!("prices: the feed cannot start: {e}");
                        None
                    }
                },
            };
            let child = self.cancel.child_token();
            let mut views = feed.as_ref().map(|f| f.subscribe());
            self.publish(views.as_mut().map(|v| v.borrow_and_update().clone()));
            if let Some(feed) = feed {
                self.tracker.spawn(feed.run(child.clone()));
            }
            loop {
                tokio::select! {
                    _ = self.cancel.cancelled() => return,
                    changed = plans.changed() => {
                        if changed.is_err() {
                            return;
                        }
                        if key(&plans.borrow_and_update().config) != running {
                            child.cancel();
                            break;
                        }
                    }
                    Some(view) = async {
                        match views.as_mut() {
                            Some(v) => v.changed().await.ok().map(|()| v.borrow_and_update().clone()),
                            None => std::future::pending().await,
                        }
                    } => self.publish(Some(view)),
                }
            }
        }
    }

    fn publish(&self, view: Option<Arc<crate::prices::Prices>>) {
        let lookup = view.map(|v| v as Arc<dyn PriceLookup>);
        self.plan_tx.send_modify(|plan| {
            let mut next = (**plan).clone();
            next.prices = lookup;
            *plan = Arc::new(next);
        });
    }
}
