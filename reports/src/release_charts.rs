//! The release comparison's charts, drawn with plotters as SVG for its HTML page:
//! - per phase, baseline against candidate: bars of the mean with 95 % CI whiskers, one
//!   chart per metric (phase time, tokens, cost per phase);
//! - per total metric (wall time, CPU time, peak memory, cost per workflow): the two
//!   distributions side by side as box plots (quartiles by linear interpolation, whiskers
//!   at the last values within 1.5 IQR).
//!
//! Each chart has one colour per series (baseline, candidate), its legend in a box of its
//! own to the right of the plot area, and its unit in the y-axis title. The two groups are
//! one workflow's two versions, so their phases belong on one axis.

use plotters::coord::Shift;
use plotters::prelude::*;
use runlens_analysis::analyze::TOTAL_PHASE;
use runlens_analysis::catalogue::{self, Unit};
use runlens_analysis::compare::SavedSample;
use runlens_analysis::release::ReleaseComparison;
use runlens_analysis::stats::summarize;

use crate::charts::{
    HEIGHT, LEGEND_WIDTH, WIDTH, axis_unit, category, chart_error, draw_legend, register_font,
    titled,
};
use crate::error::Result;

/// The series' colours: baseline (dark blue), candidate (orange); apart in hue and in
/// lightness, so they stay apart in greyscale.
pub const SERIES_COLOURS: [RGBColor; 2] = [RGBColor(0, 60, 120), RGBColor(230, 159, 0)];
/// The series' names in the legends.
pub const SERIES_NAMES: [&str; 2] = ["baseline", "candidate"];

fn series_entries() -> Vec<(String, RGBColor)> {
    SERIES_NAMES
        .iter()
        .zip(SERIES_COLOURS)
        .map(|(name, colour)| (name.to_string(), colour))
        .collect()
}

/// Metrics drawn per phase, in order.
const PHASE_METRICS: [&str; 4] = [
    "phase_time",
    "phase_input_tokens",
    "phase_output_tokens",
    "cost",
];
/// Metrics whose distributions are drawn, in order.
const DISTRIBUTION_METRICS: [&str; 4] = ["wall_time", "cpu_time", "peak_memory", "run_cost"];

/// One chart of the page: its anchor, title and SVG.
#[derive(Debug, Clone)]
pub struct ReleaseChart {
    /// Anchor (`phases-phase_time`, `distribution-wall_time`).
    pub id: String,
    /// Title.
    pub title: String,
    /// The SVG document.
    pub svg: String,
}

/// The per-phase samples of `metric` in `samples`, in their order.
fn phase_samples<'a>(samples: &'a [SavedSample], metric: &str) -> Vec<&'a SavedSample> {
    samples
        .iter()
        .filter(|s| s.metric == metric && s.phase != TOTAL_PHASE)
        .collect()
}

/// Every chart the comparison has data for.
pub fn release_charts(r: &ReleaseComparison) -> Result<Vec<ReleaseChart>> {
    register_font();
    let mut charts = Vec::new();
    let sides = [&r.baseline_samples, &r.candidate_samples];
    for name in PHASE_METRICS {
        let Some(metric) = catalogue::find(name) else {
            continue;
        };
        let mut phases: Vec<String> = Vec::new();
        for side in sides {
            for s in phase_samples(side, name) {
                if !phases.contains(&s.phase) {
                    phases.push(s.phase.clone());
                }
            }
        }
        if phases.is_empty() {
            continue;
        }
        // Mean and 95 % CI per phase and side.
        let bars: Vec<[Bar; 2]> = phases
            .iter()
            .map(|phase| {
                sides.map(|side| {
                    let s = side
                        .iter()
                        .find(|s| s.metric == name && &s.phase == phase)?;
                    let summary = summarize(&s.values, metric.non_negative)?;
                    Some((summary.describe.mean, summary.ci95.map(|i| (i.low, i.high))))
                })
            })
            .collect();
        let title = format!(
            "{} per phase: baseline against candidate",
            crate::release::metric_words(name)
        );
        let svg = svg(|root| draw_phase_bars(root, &title, metric.unit, &phases, &bars))?;
        charts.push(ReleaseChart {
            id: format!("phases-{name}"),
            title,
            svg,
        });
    }
    for name in DISTRIBUTION_METRICS {
        let Some(metric) = catalogue::find(name) else {
            continue;
        };
        let values = sides.map(|side| {
            side.iter()
                .find(|s| s.metric == name && s.phase == TOTAL_PHASE)
                .map(|s| s.values.clone())
                .unwrap_or_default()
        });
        if values.iter().any(Vec::is_empty) {
            continue;
        }
        let title = format!(
            "{} per run: distributions",
            crate::release::metric_words(name)
        );
        let svg = svg(|root| draw_distributions(root, &title, metric.unit, &values))?;
        charts.push(ReleaseChart {
            id: format!("distribution-{name}"),
            title,
            svg,
        });
    }
    Ok(charts)
}

fn svg(draw: impl FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> Result<()>) -> Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(chart_error)?;
        draw(&root)?;
        root.present().map_err(chart_error)?;
    }
    Ok(svg)
}

/// One bar: the mean and its 95 % CI (None: the side did not measure the phase).
type Bar = Option<(f64, Option<(f64, f64)>)>;

fn draw_phase_bars<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    unit: Unit,
    phases: &[String],
    bars: &[[Bar; 2]],
) -> Result<()> {
    let (plot, legend) = root.split_horizontally(WIDTH - LEGEND_WIDTH);
    let max = bars
        .iter()
        .flatten()
        .flatten()
        .map(|(mean, ci)| ci.map_or(*mean, |c| c.1.max(*mean)))
        .fold(0.0, f64::max);
    let (divisor, unit_name) = axis_unit(unit, max);
    let n = phases.len();
    let top = if max > 0.0 { max / divisor * 1.15 } else { 1.0 };
    let mut chart = titled(&plot, title, -0.5..(n as f64 - 0.5), 0.0..top, 50)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 15))
        .x_labels(n.max(1))
        .x_label_formatter(&category(phases))
        .x_desc("phase")
        .y_desc(format!("mean per run ({unit_name}), 95 % CI"))
        .draw()
        .map_err(chart_error)?;
    for side in 0..2 {
        let colour = SERIES_COLOURS[side];
        let offset = if side == 0 { -0.36 } else { 0.02 };
        let rects = bars.iter().enumerate().filter_map(|(i, pair)| {
            let (mean, _) = pair[side]?;
            let x = i as f64 + offset;
            Some(Rectangle::new(
                [(x, 0.0), (x + 0.34, mean / divisor)],
                colour.filled(),
            ))
        });
        chart.draw_series(rects).map_err(chart_error)?;
        // Whiskers: the CI's ends, capped.
        let whiskers = bars.iter().enumerate().filter_map(|(i, pair)| {
            let (_, ci) = pair[side]?;
            let (lo, hi) = ci?;
            let centre = i as f64 + offset + 0.17;
            Some(vec![(centre, lo / divisor), (centre, hi / divisor)])
        });
        for line in whiskers {
            let (x, lo, hi) = (line[0].0, line[0].1, line[1].1);
            chart
                .draw_series([
                    PathElement::new(vec![(x, lo), (x, hi)], BLACK.stroke_width(2)),
                    PathElement::new(vec![(x - 0.05, lo), (x + 0.05, lo)], BLACK.stroke_width(2)),
                    PathElement::new(vec![(x - 0.05, hi), (x + 0.05, hi)], BLACK.stroke_width(2)),
                ])
                .map_err(chart_error)?;
        }
    }
    draw_legend(&legend, &series_entries())
}

fn draw_distributions<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    unit: Unit,
    values: &[Vec<f64>; 2],
) -> Result<()> {
    let (plot, legend) = root.split_horizontally(WIDTH - LEGEND_WIDTH);
    let max = values.iter().flatten().copied().fold(0.0, f64::max);
    let (divisor, unit_name) = axis_unit(unit, max);
    let top = if max > 0.0 { max / divisor * 1.15 } else { 1.0 };
    let labels: Vec<String> = SERIES_NAMES.iter().map(|s| s.to_string()).collect();
    let mut chart = titled(&plot, title, -0.5..1.5, 0.0f32..top as f32, 50)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 15))
        .x_labels(2)
        .x_label_formatter(&category(&labels))
        .x_desc("group")
        .y_desc(format!("per run ({unit_name})"))
        .draw()
        .map_err(chart_error)?;
    for (side, values) in values.iter().enumerate() {
        let scaled: Vec<f64> = values.iter().map(|v| v / divisor).collect();
        let colour = SERIES_COLOURS[side];
        let quartiles = Quartiles::new(&scaled);
        // The box's fill, then its outline, whiskers and median.
        let [_, q1, _, q3, _] = quartiles.values();
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [
                    (side as f64 - 0.2, f64::from(q1) as f32),
                    (side as f64 + 0.2, f64::from(q3) as f32),
                ],
                colour.filled(),
            )))
            .map_err(chart_error)?;
        chart
            .draw_series(std::iter::once(
                Boxplot::new_vertical(side as f64, &quartiles)
                    .width(120)
                    .whisker_width(0.5)
                    .style(BLACK.stroke_width(2)),
            ))
            .map_err(chart_error)?;
    }
    draw_legend(&legend, &series_entries())
}

#[cfg(test)]
mod tests {
    use super::*;
    use regex::Regex;
    use runlens_analysis::compare::{GroupSpec, SavedGroup};
    use runlens_analysis::release::{ReleaseOptions, release_comparison};

    fn sample(metric: &str, phase: &str, values: Vec<f64>) -> SavedSample {
        SavedSample {
            metric: metric.into(),
            unit: String::new(),
            phase: phase.into(),
            values,
        }
    }

    fn group(scale: f64) -> SavedGroup {
        let spread = |base: f64| {
            (0..8)
                .map(|i| (base + i as f64) * scale)
                .collect::<Vec<_>>()
        };
        SavedGroup {
            samples: vec![
                sample("phase_time", "plan", spread(2_000.0)),
                sample("phase_time", "build", spread(5_000.0)),
                sample("phase_time", TOTAL_PHASE, spread(7_000.0)),
                sample("wall_time", TOTAL_PHASE, spread(7_500.0)),
                sample("peak_memory", TOTAL_PHASE, spread(300e6)),
                sample("run_cost", TOTAL_PHASE, spread(0.04)),
            ],
            findings: None,
        }
    }

    fn attribute(tag: &str, name: &str) -> Option<String> {
        Regex::new(&format!(r#"\b{name}="([^"]*)""#))
            .ok()?
            .captures(tag)
            .map(|c| c[1].to_string())
    }

    fn number(tag: &str, name: &str) -> f64 {
        attribute(tag, name)
            .and_then(|v| v.parse().ok())
            .unwrap_or(f64::NAN)
    }

    /// Every chart: one fill colour per series, the legend's box right of everything the
    /// plot area draws, and an axis title naming its unit.
    #[test]
    fn each_chart_has_one_colour_per_series_its_legend_outside_and_units_on_its_axis() {
        let options = ReleaseOptions {
            baseline: GroupSpec::Saved("v1".into()),
            candidate: GroupSpec::Filter(vec![("version".into(), "2".into())]),
            threshold: 0.05,
            metrics: vec![],
            claims: vec![],
            workflows_per_day: 10,
        };
        let r = release_comparison(&options, group(1.0), group(1.2));
        let charts = release_charts(&r).expect("charts");
        let ids: Vec<&str> = charts.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "phases-phase_time",
                "distribution-wall_time",
                "distribution-peak_memory",
                "distribution-run_cost"
            ]
        );
        let rect = Regex::new(r"<rect [^>]*>").expect("regex");
        let line = Regex::new(r"<(?:line|polyline|path) [^>]*>").expect("regex");
        let rotated =
            Regex::new(r#"<text [^>]*rotate\(270[^>]*>\s*([^<]*?)\s*</text>"#).expect("regex");
        let boundary = f64::from(WIDTH - LEGEND_WIDTH);
        for chart in &charts {
            let rects: Vec<&str> = rect.find_iter(&chart.svg).map(|m| m.as_str()).collect();
            let is_swatch = |r: &str| number(r, "width") == 16.0 && number(r, "height") == 16.0;
            let swatches: Vec<&&str> = rects.iter().filter(|r| is_swatch(r)).collect();
            assert_eq!(swatches.len(), 2, "{}: a swatch a series", chart.id);
            let colours: Vec<String> = swatches
                .iter()
                .filter_map(|r| attribute(r, "fill"))
                .collect();
            assert_eq!(colours, ["#003C78", "#E69F00"], "{}", chart.id);
            // The legend's box: the unfilled rectangle around the swatches.
            let (sx, sy) = (number(swatches[0], "x"), number(swatches[0], "y"));
            let inside = |r: &&&str| {
                attribute(r, "fill").as_deref() == Some("none")
                    && number(r, "x") <= sx
                    && sx <= number(r, "x") + number(r, "width")
                    && number(r, "y") <= sy
                    && sy <= number(r, "y") + number(r, "height")
            };
            let legend: Vec<&&str> = rects.iter().filter(inside).collect();
            assert_eq!(legend.len(), 1, "{}: one legend box", chart.id);
            let legend_x = number(legend[0], "x");
            assert!(legend_x >= boundary, "{}: legend at {legend_x}", chart.id);
            // Everything else (bars, boxes) lies left of the legend's column, and the
            // filled ones have one colour a series.
            let data: Vec<&&str> = rects
                .iter()
                .filter(|r| !is_swatch(r) && !std::ptr::eq(**r, *legend[0]))
                .filter(|r| number(r, "width") < f64::from(WIDTH))
                .collect();
            for r in &data {
                let right = number(r, "x") + number(r, "width");
                assert!(right <= boundary, "{}: {r} reaches the legend", chart.id);
            }
            let mut fills: Vec<String> = data
                .iter()
                .filter_map(|r| attribute(r, "fill"))
                .filter(|f| f != "none")
                .collect();
            fills.sort();
            fills.dedup();
            assert_eq!(fills, ["#003C78", "#E69F00"], "{}", chart.id);
            // Nothing of the plot area reaches into the legend's column.
            for l in line.find_iter(&chart.svg) {
                for x in ["x1", "x2"] {
                    if let Some(v) = attribute(l.as_str(), x) {
                        let v: f64 = v.parse().expect("coordinate");
                        assert!(v <= boundary, "{}: {}", chart.id, l.as_str());
                    }
                }
            }
            let title = rotated
                .captures(&chart.svg)
                .map(|c| c[1].to_string())
                .unwrap_or_default();
            assert!(
                ["(s)", "(ms)", "(MiB)", "(USD)", "(tokens)"]
                    .iter()
                    .any(|u| title.contains(u)),
                "{}: y axis title {title:?}",
                chart.id
            );
        }
    }
}
