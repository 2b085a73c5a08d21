//! Alerts: the rules that turn the event stream into one alert per episode and one recovery
//! ([`rules`], [`notices`]), what lets an alert through (per-kind toggles and quiet hours,
//! [`gate`]), and the channels that carry it to a phone with no desktop running (ntfy, Telegram,
//! webhook, e-mail; [`channels`]). The engine's `alerts_task` runs them; the desktop runs the same
//! rules for its native notifications.

pub mod channels;
pub mod gate;
pub mod notices;
mod rules;

pub use channels::{send_test, ChannelReport, Delivery, Outgoing, SendError};
pub use gate::Gate;
pub use notices::{AlertFeed, SafetyNotices};
pub use rules::{Alert, AlertKind, AlertRules};
