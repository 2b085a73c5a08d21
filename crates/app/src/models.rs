//! Plain serde types the commands answer with (the UI's TypeScript types are generated from
//! them). Desktop-only types (preferences) live in the desktop crate.

use bitaxe_core::safety::Envelope;
use bitaxe_core::status::FleetStatus;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// Everything the top bar and the fleet table need, in one call.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Overview {
    pub status: FleetStatus,
    /// Why the app only shows status (another scheduler drives these miners).
    pub read_only: Option<String>,
    pub config_path: String,
    pub demo: bool,
    pub limits: Envelope,
    /// Colour of each miner in charts and sparklines.
    pub colours: Vec<(String, String)>,
}

/// One line of the events view.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LoggedEvent {
    pub at: DateTime<Utc>,
    pub miner: Option<String>,
    pub kind: String,
    pub level: String,
    pub text: String,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ChartOut {
    pub svg: String,
    /// The profiles whose bands the chart shows, with their band colour (for the legend).
    pub legend: Vec<(String, String)>,
    pub points: usize,
    pub render_ms: f64,
}

/// One problem in a config draft: what a form shows beside the field at `path`.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DraftProblem {
    /// `config_invalid` (a rule or a type the engine refuses) or `config_syntax`.
    pub code: String,
    pub message: String,
    /// The key path, e.g. `global_night_settings.voltage` or `miners[2].ip`; empty for the whole.
    pub path: String,
}

/// One profile as the engine resolves it for a config (fleet-wide, per-miner overrides aside).
#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ProfileRow {
    pub name: String,
    /// `seed` (day, night), `preset` (quiet, efficiency, performance), `own`, or `off`.
    #[cfg_attr(feature = "ts", ts(type = "\"seed\" | \"preset\" | \"own\" | \"off\""))]
    pub kind: String,
    /// A preset the config changes, or a seed profile with a fan or display setting.
    pub customised: bool,
    pub voltage: u32,
    pub frequency: f64,
    pub fan: Option<bitaxe_core::profiles::FanSpec>,
    pub display_timeout: Option<u32>,
    pub off: bool,
}

/// One stretch of one miner's days ahead, with why it runs (the resolver's reason, in words).
#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PreviewSegment {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub profile: String,
    pub why: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PreviewMiner {
    pub miner: String,
    pub group: Option<String>,
    pub segments: Vec<PreviewSegment>,
}

/// A price slot for the preview's price row (currency per kWh).
#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PreviewPrice {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub price: f64,
}

/// The next days for a config draft, from today's local midnight.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct WeekPreview {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub timezone: String,
    pub miners: Vec<PreviewMiner>,
    /// The price slots known for those days (none without a tariff).
    pub prices: Option<Vec<PreviewPrice>>,
    pub currency: Option<String>,
}

/// Price slots over a range and what the price view knows (for the History strip and Energy).
#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PriceStrip {
    pub currency: String,
    pub slots: Vec<bitaxe_core::prices::Slot>,
    pub status: bitaxe_core::prices::PriceStatus,
}

/// What a test fetch of a draft tariff's source brought (nothing saved).
#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TestFetch {
    /// e.g. "energy-charts DE-LU"
    pub source: String,
    pub currency: String,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub count: usize,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub slots: Vec<bitaxe_core::prices::Slot>,
}

/// Energy and cost today and this month (local), for the History view's cost panel.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CostSummary {
    /// The tariff's currency (none without a tariff: energy only).
    pub currency: Option<String>,
    pub today: bitaxe_core::cost::CostReport,
    pub month: bitaxe_core::cost::CostReport,
}

/// What `export_data` gives the desktop's export: the file name to save under (made safe) and,
/// for `csv`, the data (an `svg` or `png` is what the window rendered).
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct ExportData {
    pub name: String,
    pub csv: Option<String>,
}
