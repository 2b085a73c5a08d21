//! Where cost reports get their prices: the one function to change when the source changes.
//!
//! - The engine passes its price view (the plan's `prices`: feed where it knows a price, the
//!   fixed tariff elsewhere); one-shot front ends pass the view of the config's price feed as the
//!   cache and the fixed tariff know it ([`price_view`]), without fetching.
//! - Without a view, the config's fixed tariff windows (`tariff.fixed`) price what they cover.
//! - Without a tariff, nothing has a price: energy is reported, money is not.

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::clock::SystemClock;
use crate::config::Config;
use crate::prices::{FeedOptions, FixedTariff, PriceFeed};
use crate::schedule::{self, PriceLookup};

/// Prices for cost reports: a function of time (currency per kWh) and the currency's name.
pub struct PriceSource {
    /// `None` when no price is known at all.
    pub currency: Option<String>,
    pub price: Box<dyn Fn(DateTime<Utc>) -> Option<f64> + Send + Sync>,
    /// A reason prices may be missing, for the caller to show.
    pub note: Option<String>,
}

impl PriceSource {
    /// Prices from a price view: the price of the slot containing each instant.
    pub fn from_lookup(lookup: Arc<dyn PriceLookup>, currency: Option<String>) -> PriceSource {
        PriceSource {
            currency,
            price: Box::new(move |t| lookup.slot_at(t).map(|s| s.price)),
            note: None,
        }
    }

    /// No prices: energy is reported, money is not.
    pub fn none() -> PriceSource {
        PriceSource {
            currency: None,
            price: Box::new(|_| None),
            note: None,
        }
    }
}

/// The prices cost reports use for `cfg`: `view` when there is one (see the module doc).
pub fn price_source(cfg: &Config, view: Option<Arc<dyn PriceLookup>>) -> PriceSource {
    let Some(tariff) = &cfg.tariff else {
        return PriceSource::none();
    };
    let currency = Some(tariff.currency.clone());
    if let Some(view) = view {
        return PriceSource::from_lookup(view, currency);
    }
    if tariff.fixed.is_empty() {
        return PriceSource {
            note: Some("no price view and no fixed tariff windows: no prices".into()),
            ..PriceSource::none()
        };
    }
    let fixed = FixedTariff::new(tariff.fixed.clone(), schedule::zone(cfg));
    PriceSource {
        currency,
        price: Box::new(move |t| fixed.price_at(t)),
        note: None,
    }
}

/// The price view of the config at `config_path` as known without fetching: the feed's cache
/// (`FILE.prices.json`) where it has slots, the fixed tariff elsewhere. `None` without a tariff;
/// the second value says why the cache could not be used, if it could not.
pub fn price_view(
    cfg: &Config,
    config_path: &Path,
) -> (Option<Arc<dyn PriceLookup>>, Option<String>) {
    if cfg.tariff.is_none() {
        return (None, None);
    }
    match PriceFeed::for_config(
        cfg,
        config_path,
        Arc::new(SystemClock),
        FeedOptions::default(),
    ) {
        Ok(feed) => {
            let view = feed.current();
            let note = view.status().last_error.clone();
            (Some(view as Arc<dyn PriceLookup>), note)
        }
        Err(e) => (None, Some(format!("price feed: {e}"))),
    }
}
