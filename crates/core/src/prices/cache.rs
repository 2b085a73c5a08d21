//! The disk cache `FILE.prices.json` beside the config: the last known price series, so the
//! schedule works offline and the cost of past days can be computed. Written atomically; a
//! file that cannot be read is moved aside (`FILE.prices.json.corrupt`) and never fatal.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::series::PriceSeries;
use crate::config::{with_suffix, write_atomic};

const VERSION: u32 = 1;

/// Where the cache of the config at `config_path` lives.
pub fn cache_path(config_path: &Path) -> PathBuf {
    with_suffix(config_path, ".prices.json")
}

#[derive(Debug, Serialize, Deserialize)]
struct CacheFile {
    version: u32,
    series: PriceSeries,
}

/// What reading the cache found.
#[derive(Debug, Clone, PartialEq)]
pub enum CacheLoad {
    Missing,
    Loaded(PriceSeries),
    /// The file could not be used; it was renamed to `to` (`why` says what was wrong).
    MovedAside {
        to: PathBuf,
        why: String,
    },
}

/// Read the cache; a broken file is moved aside.
pub fn load_cache(path: &Path) -> CacheLoad {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return CacheLoad::Missing,
        Err(e) => return move_aside(path, e.to_string()),
    };
    match serde_json::from_str::<CacheFile>(&text) {
        Ok(f) if f.version == VERSION => CacheLoad::Loaded(f.series),
        Ok(f) => move_aside(path, format!("unknown cache version {}", f.version)),
        Err(e) => move_aside(path, e.to_string()),
    }
}

fn move_aside(path: &Path, why: String) -> CacheLoad {
    let to = with_suffix(path, ".corrupt");
    if let Err(e) = std::fs::rename(path, &to) {
        tracing::warn!(
            "price cache {}: {why}; cannot move it aside: {e}",
            path.display()
        );
    } else {
        tracing::warn!(
            "price cache {}: {why}; moved to {}",
            path.display(),
            to.display()
        );
    }
    CacheLoad::MovedAside { to, why }
}

/// Write the cache atomically.
pub fn save_cache(path: &Path, series: &PriceSeries) -> std::io::Result<()> {
    let file = CacheFile {
        version: VERSION,
        series: series.clone(),
    };
    let text = serde_json::to_string_pretty(&file).map_err(std::io::Error::other)?;
    write_atomic(path, text.as_bytes())
}
