//! Electricity prices: a tariff from the config (fixed windows, a dynamic feed, or both), the feed
//! adapters, a disk cache, and one merged view ([`Prices`]) that the engine and the front ends read.
//!
//! Every source is turned into one internal type, [`Slot`]: a UTC interval and a price in the
//! tariff's currency per kWh, after the user's `charges` and `tax`. Slot lengths are never assumed:
//! each adapter's answer is measured (the most common gap between starts), so 15, 30 and 60-minute
//! slots and DST days of 92 or 100 quarter hours all work. Where the feed knows no price the fixed
//! tariff answers; where neither does there is no price (never zero).

mod adapters;
mod cache;
mod config;
mod error;
mod feed;
mod fixed;
mod http;
mod series;
mod source;
mod view;

pub use adapters::{
    fetch, local_days, parse_awattar, parse_energy_charts, parse_entsoe, parse_octopus,
    parse_tibber, parse_url_csv, parse_url_json, Fetched,
};
pub use cache::{cache_path, load_cache, save_cache, CacheLoad};
pub use config::{TariffConfig, WindowConfig};
pub use error::PriceError;
pub use feed::{fetch_series, FeedOptions, PriceFeed};
pub use fixed::FixedTariff;
pub use http::{client, USER_AGENT};
pub use series::{build_slots, detect_step, Point, PriceSeries, Slot};
pub use source::{PriceUnit, Secret, SourceConfig, SourceKind, TimeFormat, UrlFormat};
pub use view::{Coverage, PriceStatus, Prices};
