//! The price feed task: reads the cache at start (so the schedule works offline), fetches now
//! and then every `refresh` (retrying failures with a doubling backoff), merges new slots
//! without dropping known ones, keeps past slots for the history's retention, writes the cache,
//! and publishes a fresh [`Prices`] view on a watch channel after every attempt.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::Duration as Span;
use chrono_tz::Tz;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::adapters::fetch;
use super::cache::{load_cache, save_cache, CacheLoad};
use super::config::TariffConfig;
use super::error::PriceError;
use super::http::client;
use super::series::{build_slots, PriceSeries};
use super::view::Prices;
use crate::clock::Clock;

/// Timing of the feed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FeedOptions {
    /// Between successful fetches. Default 1 h.
    pub refresh: Duration,
    /// First retry after a failure; doubles up to `refresh`. Default 1 min.
    pub retry: Duration,
    /// For each request. Default 15 s.
    pub timeout: Duration,
}

impl Default for FeedOptions {
    fn default() -> Self {
        FeedOptions {
            refresh: Duration::from_secs(3600),
            retry: Duration::from_secs(60),
            timeout: Duration::from_secs(15),
        }
    }
}

pub struct PriceFeed {
    tariff: Option<TariffConfig>,
    tz: Tz,
    cache: Option<PathBuf>,
    retention: Span,
    clock: Arc<dyn Clock>,
    options: FeedOptions,
    client: reqwest::Client,
    series: Option<PriceSeries>,
    last_error: Option<String>,
    tx: watch::Sender<Arc<Prices>>,
}

impl PriceFeed {
    /// A feed for `tariff` (none: an empty view), its cache at `cache` (see
    /// [`super::cache_path`]), keeping past slots for `retention_days`. Reads the cache and
    /// publishes the first view before returning.
    pub fn new(
        tariff: Option<TariffConfig>,
        tz: Tz,
        cache: Option<PathBuf>,
        retention_days: u32,
        clock: Arc<dyn Clock>,
        options: FeedOptions,
    ) -> Result<PriceFeed, PriceError> {
        let now = clock.now();
        let (tx, _) = watch::channel(Arc::new(Prices::none(now)));
        let mut feed = PriceFeed {
            series: None,
            last_error: None,
            client: client(options.timeout)?,
            tariff,
            tz,
            cache,
            retention: Span::days(i64::from(retention_days.max(1))),
            clock,
            options,
            tx,
        };
        let wanted = feed
            .tariff
            .as_ref()
            .and_then(|t| Some((t.source.as_ref()?.label(), t.currency.clone())));
        if let (Some(path), Some((label, currency))) = (&feed.cache, wanted) {
            match load_cache(path) {
                // A cache from another source or in another currency is not this tariff's.
                CacheLoad::Loaded(s) if s.source == label && s.currency == currency => {
                    feed.series = Some(s)
                }
                CacheLoad::MovedAside { why, .. } => {
                    feed.last_error = Some(format!("the price cache was unreadable ({why})"))
                }
                _ => {}
            }
        }
        feed.publish();
        Ok(feed)
    }

    /// The feed for a loaded config at `config_path`: its `tariff`, its zone, the cache beside
    /// it (`FILE.prices.json`) and its `history_retention_days`.
    pub fn for_config(
        cfg: &crate::config::Config,
        config_path: &std::path::Path,
        clock: Arc<dyn Clock>,
        options: FeedOptions,
    ) -> Result<PriceFeed, PriceError> {
        PriceFeed::new(
            cfg.tariff.clone(),
            crate::schedule::zone(cfg),
            Some(super::cache::cache_path(config_path)),
            cfg.history_retention_days,
            clock,
            options,
        )
    }

    /// Whether a feed (not only fixed windows) is configured.
    pub fn has_source(&self) -> bool {
        self.tariff.as_ref().is_some_and(|t| t.source.is_some())
    }

    /// A receiver of the latest view.
    pub fn subscribe(&self) -> watch::Receiver<Arc<Prices>> {
        self.tx.subscribe()
    }

    /// The latest view.
    pub fn current(&self) -> Arc<Prices> {
        self.tx.borrow().clone()
    }

    fn publish(&self) {
        let now = self.clock.now();
        let view = match &self.tariff {
            Some(t) => Prices::new(
                t,
                self.tz,
                self.series.clone(),
                self.last_error.clone(),
                now,
            ),
            None => Prices::none(now),
        };
        self.tx.send_replace(Arc::new(view));
    }

    /// Fetch once, merge, save the cache and publish. With no feed configured, only publishes.
    pub async fn refresh(&mut self) -> Result<(), PriceError> {
        let result = self.fetch_once().await;
        self.last_error = result.as_ref().err().map(|e| e.to_string());
        if let Err(e) = &result {
            tracing::warn!("prices: {e}");
        }
        self.publish();
        result
    }

    async fn fetch_once(&mut self) -> Result<(), PriceError> {
        let Some(tariff) = &self.tariff else {
            return Ok(());
        };
        if tariff.source.is_none() {
            return Ok(());
        }
        let now = self.clock.now();
        let fresh = series_from(&self.client, tariff, self.tz, now, self.options.timeout).await?;
        let mut series = match self.series.take() {
            Some(mut known) if known.source == fresh.source => {
                known.merge(fresh);
                known
            }
            _ => fresh,
        };
        series.prune(now - self.retention);
        if let Some(path) = &self.cache {
            if let Err(e) = save_cache(path, &series) {
                tracing::warn!("prices: cannot write the cache {}: {e}", path.display());
            }
        }
        self.series = Some(series);
        Ok(())
    }

    /// Run until `cancel`: fetch, then sleep `refresh` (or the retry backoff after a failure).
    pub async fn run(mut self, cancel: CancellationToken) {
        let mut failures: u32 = 0;
        loop {
            let outcome = tokio::select! {
                _ = cancel.cancelled() => return,
                r = self.refresh() => r,
            };
            let wait = match outcome {
                Ok(()) => {
                    failures = 0;
                    self.options.refresh
                }
                Err(_) => {
                    failures = failures.saturating_add(1);
                    let factor = 2u32.saturating_pow(failures.saturating_sub(1).min(16));
                    self.options
                        .retry
                        .saturating_mul(factor)
                        .min(self.options.refresh)
                }
            };
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }
}

/// Fetch `tariff`'s source once (today and tomorrow, local days in `tz`) and return its final
/// slots, without cache or merge: the "test fetch" of a tariff editor.
pub async fn fetch_series(
    tariff: &TariffConfig,
    tz: Tz,
    now: chrono::DateTime<chrono::Utc>,
    timeout: Duration,
) -> Result<PriceSeries, PriceError> {
    series_from(&client(timeout)?, tariff, tz, now, timeout).await
}

async fn series_from(
    client: &reqwest::Client,
    tariff: &TariffConfig,
    tz: Tz,
    now: chrono::DateTime<chrono::Utc>,
    timeout: Duration,
) -> Result<PriceSeries, PriceError> {
    let Some(source) = &tariff.source else {
        return Err(PriceError::Setup("the tariff has no price source".into()));
    };
    let got = fetch(client, source, tz, now, &tariff.currency, timeout).await?;
    let feed = source.label();
    if !got.currency.is_empty() && got.currency != tariff.currency {
        return Err(PriceError::Currency {
            feed,
            found: got.currency,
            expected: tariff.currency.clone(),
        });
    }
    let slots = build_slots(got.points, |p| source.final_price(p), source.slot_minutes);
    if slots.is_empty() {
        return Err(PriceError::NoData {
            feed,
            message: "the answer holds no prices for today or tomorrow".into(),
        });
    }
    Ok(PriceSeries::new(feed, tariff.currency.clone(), now, slots))
}
