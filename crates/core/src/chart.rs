//! History charts drawn by plotters as SVG: one implementation for the desktop window and for
//! exports. Each profile on its own faint band (day warm, night cool; [`bands`]), one stable
//! colour per miner, axes with units, time labels on round local times ([`ticks`]).

use std::collections::BTreeMap;

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;
use plotters::prelude::*;
use serde::{Deserialize, Serialize};

use crate::history::Point;

mod bands;
mod ticks;

pub use bands::{band_colour, bands_from, Band};
pub use ticks::{ticks, Ticks};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Metric {
    Hashrate,
    Power,
    Temperature,
    Efficiency,
}

impl Metric {
    pub fn label(self) -> &'static str {
        match self {
            Metric::Hashrate => "Hashrate (GH/s)",
            Metric::Power => "Power (W)",
            Metric::Temperature => "ASIC temperature (°C)",
            Metric::Efficiency => "Efficiency (J/TH)",
        }
    }

    pub fn value(self, p: &Point) -> Option<f64> {
        match self {
            Metric::Hashrate => Some(p.hashrate),
            Metric::Power => Some(p.power),
            Metric::Temperature => p.temp,
            Metric::Efficiency => p.efficiency,
        }
    }
}

/// Colours that stay distinguishable in light and dark themes; a miner keeps its colour.
const PALETTE: [RGBColor; 8] = [
    RGBColor(0xF7, 0x93, 0x1A),
    RGBColor(0x1F, 0x77, 0xB4),
    RGBColor(0x2C, 0xA0, 0x2C),
    RGBColor(0xD6, 0x27, 0x28),
    RGBColor(0x94, 0x67, 0xBD),
    RGBColor(0x17, 0xBE, 0xCF),
    RGBColor(0x8C, 0x56, 0x4B),
    RGBColor(0xE3, 0x77, 0xC2),
];

/// The colour of a miner, stable across charts and sessions (a hash of its name).
pub fn miner_colour(name: &str) -> RGBColor {
    let h = name.bytes().fold(0xcbf29ce484222325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100000001b3)
    });
    PALETTE[(h % PALETTE.len() as u64) as usize]
}

pub fn colour_hex(c: RGBColor) -> String {
    format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2)
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChartRequest {
    pub metric: Metric,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Sum (hashrate, power) or average (temperature, efficiency) of all miners instead of one line each.
    pub fleet_total: bool,
    pub width: u32,
    pub height: u32,
    pub dark: bool,
}

/// Combine per-miner points into one fleet series per bucket.
fn fleet_series(metric: Metric, points: &[Point]) -> Vec<(i64, f64)> {
    let mut buckets: BTreeMap<i64, (f64, f64, f64, usize)> = BTreeMap::new();
    for p in points {
        let e = buckets.entry(p.at).or_default();
        e.0 += p.hashrate;
        e.1 += p.power;
        if let Some(t) = p.temp {
            e.2 += t;
            e.3 += 1;
        }
    }
    buckets
        .into_iter()
        .filter_map(|(at, (h, w, t, n))| {
            let v = match metric {
                Metric::Hashrate => Some(h),
                Metric::Power => Some(w),
                Metric::Temperature => (n > 0).then(|| t / n as f64),
                Metric::Efficiency => axeos::efficiency(w, h),
            };
            v.map(|v| (at, v))
        })
        .collect()
}

/// Draw the chart as an SVG document, with bands from the profiles the points carry.
pub fn render_svg(req: &ChartRequest, points: &[Point], tz: Tz) -> Result<String, String> {
    render_svg_with_bands(req, points, tz, &bands::from_points(points))
}

/// Draw the chart as an SVG document over the given profile bands (from the schedule, see
/// [`bands_from`]); the time axis is labelled on round local times ([`ticks`]).
pub fn render_svg_with_bands(
    req: &ChartRequest,
    points: &[Point],
    tz: Tz,
    bands: &[Band],
) -> Result<String, String> {
    let mut series: BTreeMap<String, Vec<(i64, f64)>> = BTreeMap::new();
    if req.fleet_total {
        series.insert("Fleet".into(), fleet_series(req.metric, points));
    } else {
        for p in points {
            if let Some(v) = req.metric.value(p) {
                series.entry(p.miner.clone()).or_default().push((p.at, v));
            }
        }
    }
    let (x0, x1) = (
        req.from.timestamp(),
        req.to.timestamp().max(req.from.timestamp() + 1),
    );
    let values = series.values().flatten().map(|(_, v)| *v);
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(v), b.max(v))
    });
    let (y0, y1) = if lo.is_finite() {
        let pad = ((hi - lo) * 0.1).max(hi.abs() * 0.02).max(0.5);
        ((lo - pad).max(0.0), hi + pad)
    } else {
        (0.0, 1.0)
    };
    let (fg, grid) = if req.dark {
        (RGBColor(0xE6, 0xE6, 0xE6), RGBColor(0x44, 0x44, 0x44))
    } else {
        (RGBColor(0x22, 0x22, 0x22), RGBColor(0xDD, 0xDD, 0xDD))
    };
    let marks = ticks(x0, x1, tz);
    let label_fmt = move |t: &i64| {
        tz.timestamp_opt(*t, 0)
            .single()
            .map(|d| d.format(marks.format).to_string())
            .unwrap_or_default()
    };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (req.width.max(200), req.height.max(120)))
            .into_drawing_area();
        let err = |e: &dyn std::fmt::Display| e.to_string();
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(28)
            .y_label_area_size(56)
            .build_cartesian_2d((x0..x1).with_key_points(marks.points.clone()), y0..y1)
            .map_err(|e| err(&e))?;
        let style = ("sans-serif", 12).into_font().color(&fg);
        for band in bands.iter().filter(|b| b.to > x0 && b.from < x1) {
            let colour = band_colour(&band.profile, req.dark);
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(band.from.max(x0), y0), (band.to.min(x1), y1)],
                    colour.filled(),
                )))
                .map_err(|e| err(&e))?;
        }
        chart
            .configure_mesh()
            .light_line_style(grid.mix(0.4))
            .bold_line_style(grid)
            .axis_style(fg)
            .label_style(style.clone())
            .x_labels(marks.points.len().max(2))
            .y_labels(6)
            .x_label_formatter(&label_fmt)
            .y_desc(req.metric.label())
            .axis_desc_style(style)
            .draw()
            .map_err(|e| err(&e))?;
        for (name, pts) in &series {
            let colour = if req.fleet_total {
                PALETTE[0]
            } else {
                miner_colour(name)
            };
            chart
                .draw_series(LineSeries::new(pts.iter().copied(), colour.stroke_width(2)))
                .map_err(|e| err(&e))?;
            // A series too short to read as a line also gets its points marked.
            if pts.len() < 8 {
                chart
                    .draw_series(pts.iter().map(|p| Circle::new(*p, 3, colour.filled())))
                    .map_err(|e| err(&e))?;
            }
        }
        root.present().map_err(|e| err(&e))?;
    }
    Ok(svg)
}

/// CSV of the points: one row per miner and bucket.
pub fn csv(points: &[Point], tz: Tz) -> String {
    let mut out =
        String::from("time,miner,profile,hashrate_ghs,power_w,temp_c,efficiency_j_per_th\n");
    for p in points {
        let t = tz
            .timestamp_opt(p.at, 0)
            .single()
            .map(|d| d.format("%Y-%m-%dT%H:%M:%S%:z").to_string())
            .unwrap_or_default();
        let opt = |v: Option<f64>| v.map(|v| format!("{v:.2}")).unwrap_or_default();
        out.push_str(&format!(
            "{t},{},{},{:.2},{:.2},{},{}\n",
            p.miner.replace(',', " "),
            p.profile,
            p.hashrate,
            p.power,
            opt(p.temp),
            opt(p.efficiency)
        ));
    }
    out
}

/// Bucket size that gives about `target` points over the range.
/// Bucket size that gives about `target` points over the range: whole minutes, or whole hours
/// once a bucket is an hour or more (so long ranges read the hourly sums).
pub fn bucket_for(from: DateTime<Utc>, to: DateTime<Utc>, target: i64) -> i64 {
    let raw = ((to - from).num_seconds() / target.max(1)).max(30);
    if raw >= 3600 {
        raw.div_euclid(3600) * 3600
    } else {
        raw.div_euclid(60).max(1) * 60
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Series are drawn 2 px wide; grid lines are 1 px.
    fn data_lines(svg: &str) -> usize {
        svg.split("<polyline")
            .skip(1)
            .filter(|p| {
                p.split("/>")
                    .next()
                    .unwrap_or("")
                    .contains("stroke-width=\"2\"")
            })
            .count()
    }

    fn pts() -> Vec<Point> {
        (0..48)
            .flat_map(|i| {
                ["a", "b"].map(|m| Point {
                    miner: m.into(),
                    at: 1_800_000_000 + i * 1800,
                    hashrate: 1000.0 + i as f64,
                    power: 20.0,
                    temp: Some(55.0),
                    efficiency: Some(19.5),
                    profile: if (14..40).contains(&i) {
                        "day".into()
                    } else {
                        "night".into()
                    },
                })
            })
            .collect()
    }

    fn req(metric: Metric, fleet_total: bool) -> ChartRequest {
        ChartRequest {
            metric,
            from: DateTime::from_timestamp(1_800_000_000, 0).expect("t"),
            to: DateTime::from_timestamp(1_800_000_000 + 86400, 0).expect("t"),
            fleet_total,
            width: 800,
            height: 300,
            dark: false,
        }
    }

    #[test]
    fn draws_one_line_per_miner_with_bands_and_units() {
        let svg = render_svg(&req(Metric::Hashrate, false), &pts(), Tz::UTC).expect("svg");
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains("Hashrate (GH/s)"));
        assert_eq!(data_lines(&svg), 2, "two miners");
        assert!(
            svg.contains(&colour_hex(miner_colour("a")).to_ascii_uppercase())
                || svg.contains(&colour_hex(miner_colour("a")).to_ascii_lowercase())
        );
        assert!(
            svg.contains("#FFF1DC") || svg.contains("#fff1dc"),
            "a day band"
        );
        assert!(
            svg.contains("#E3ECFA") || svg.contains("#e3ecfa"),
            "a night band"
        );
    }

    #[test]
    fn fleet_totals_sum_hashrate_and_derive_efficiency() {
        let s = fleet_series(Metric::Hashrate, &pts());
        assert_eq!(s[0], (1_800_000_000, 2000.0));
        let e = fleet_series(Metric::Efficiency, &pts());
        assert!((e[0].1 - 40.0 / 2.0).abs() < 1e-9);
        let svg = render_svg(&req(Metric::Efficiency, true), &pts(), Tz::UTC).expect("svg");
        assert_eq!(data_lines(&svg), 1);
    }

    #[test]
    fn an_empty_range_still_draws_axes() {
        let svg = render_svg(&req(Metric::Power, false), &[], Tz::UTC).expect("svg");
        assert!(svg.contains("Power (W)"));
    }

    #[test]
    fn csv_has_a_header_and_a_row_per_point() {
        let c = csv(&pts()[..2], Tz::UTC);
        let lines: Vec<&str> = c.lines().collect();
        assert_eq!(
            lines[0],
            "time,miner,profile,hashrate_ghs,power_w,temp_c,efficiency_j_per_th"
        );
        assert_eq!(
            lines[1],
            "2027-01-15T08:00:00+00:00,a,night,1000.00,20.00,55.00,19.50"
        );
    }

    #[test]
    fn schedule_bands_show_without_data_and_the_axis_reads_round_hours() {
        let r = req(Metric::Hashrate, false);
        let night = bands_from(r.from, r.to, |_| Some("night".into()));
        let svg = render_svg_with_bands(&r, &[], Tz::UTC, &night).expect("svg");
        assert!(
            svg.contains("#E3ECFA") || svg.contains("#e3ecfa"),
            "a night band"
        );
        // 2027-01-15 08:00 UTC to the next day: labels every three hours from 09:00.
        let labels: Vec<&str> = svg
            .split("</text>")
            .filter_map(|t| t.rsplit('>').next())
            .map(str::trim)
            .filter(|t| t.contains(':'))
            .collect();
        assert_eq!(
            labels,
            ["09:00", "12:00", "15:00", "18:00", "21:00", "00:00", "03:00", "06:00"]
        );
        let quiet = bands_from(r.from, r.to, |_| Some("quiet".into()));
        let dark = ChartRequest { dark: true, ..r };
        let svg = render_svg_with_bands(&dark, &pts(), Tz::UTC, &quiet).expect("svg");
        let c = colour_hex(band_colour("quiet", true));
        assert!(
            svg.contains(&c) || svg.contains(&c.to_ascii_lowercase()),
            "a quiet band"
        );
    }

    #[test]
    fn colours_are_stable() {
        assert_eq!(miner_colour("office"), miner_colour("office"));
    }
}
