//! What can go wrong getting prices. Messages never contain a token or a request URL (a URL can
//! carry a token as a query parameter).

/// Why a price fetch failed. `feed` names the source (e.g. "energy-charts DE-LU").
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PriceError {
    #[error("{feed}: no answer within {seconds} s")]
    Timeout { feed: String, seconds: f64 },
    #[error("{feed}: cannot reach the server: {message}")]
    Network { feed: String, message: String },
    #[error("{feed}: the server answered HTTP {status}: {body}")]
    Status {
        feed: String,
        status: u16,
        body: String,
    },
    #[error("{feed}: unexpected answer: {message}")]
    Format { feed: String, message: String },
    /// The source answered, but has no prices for the time asked (e.g. not published yet).
    #[error("{feed}: no prices: {message}")]
    NoData { feed: String, message: String },
    #[error("{feed}: prices are in {found}, but the tariff is in {expected}")]
    Currency {
        feed: String,
        found: String,
        expected: String,
    },
    #[error("{0}")]
    Setup(String),
}

impl PriceError {
    /// A stable code for front ends to branch on.
    pub fn code(&self) -> &'static str {
        match self {
            PriceError::Timeout { .. } => "prices_timeout",
            PriceError::Network { .. } => "prices_network",
            PriceError::Status { .. } => "prices_status",
            PriceError::Format { .. } => "prices_format",
            PriceError::NoData { .. } => "prices_no_data",
            PriceError::Currency { .. } => "prices_currency",
            PriceError::Setup(_) => "prices_setup",
        }
    }

    pub(crate) fn format(feed: &str, message: impl Into<String>) -> PriceError {
        PriceError::Format {
            feed: feed.to_string(),
            message: message.into(),
        }
    }

    /// The same error with every occurrence of `secret` blanked out.
    pub(crate) fn redact(self, secret: Option<&str>) -> PriceError {
        let Some(secret) = secret.filter(|s| !s.is_empty()) else {
            return self;
        };
        let clean = |s: String| s.replace(secret, "***");
        match self {
            PriceError::Network { feed, message } => PriceError::Network {
                feed,
                message: clean(message),
            },
            PriceError::Status { feed, status, body } => PriceError::Status {
                feed,
                status,
                body: clean(body),
            },
            PriceError::Format { feed, message } => PriceError::Format {
                feed,
                message: clean(message),
            },
            PriceError::NoData { feed, message } => PriceError::NoData {
                feed,
                message: clean(message),
            },
            PriceError::Setup(m) => PriceError::Setup(clean(m)),
            other => other,
        }
    }
}
