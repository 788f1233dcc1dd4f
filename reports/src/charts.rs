//! The report's charts (their data: `runlens_analysis::chart_data`), drawn with plotters: as SVG (embedded in the HTML report) and as
//! PNG (`runlens report --charts DIR`). One drawing function per chart, generic over the
//! backend, so both formats show the same picture.
//!
//! - `phases`: mean time per phase, stacked, one bar per group; one panel per workflow
//!   (runs without a phase in common are never stacked together), each with its legend;
//! - `ttft`: the TTFT distribution per model (box: quartiles by linear interpolation, as
//!   everywhere in runlens; whiskers: the last values within 1.5 IQR);
//! - `cost`: cost per workflow (or per call, when no run has captured calls) per group;
//! - `speed`: TTFT p50 against mean output tokens per second, one point per model;
//! - `trend`: mean wall time across versions.
//!
//! Axis labels carry their units; colours differ in lightness as well as hue, so the
//! series stay apart in greyscale; text uses the bundled DejaVu Sans (PNG needs a font and
//! none is assumed on the machine).

use std::sync::Once;

use plotters::coord::Shift;
use plotters::coord::ranged1d::AsRangedCoord;
use plotters::prelude::*;
use plotters::style::FontStyle;
use runlens_analysis::chart_data::{ChartData, PhaseStack};

use runlens_analysis::catalogue::Unit;

use crate::error::{ReportError, Result};
use crate::prices::format_usd;

/// Chart size, pixels.
pub const WIDTH: u32 = 900;
/// Chart size, pixels.
pub const HEIGHT: u32 = 480;

/// Twelve colours, none repeated within a chart: the Okabe–Ito set (ordered to alternate
/// dark and light, so neighbours stay apart in greyscale) and four more of Paul Tol's.
/// A chart with more categories groups the smallest as "other".
pub const PALETTE: [RGBColor; 12] = [
    RGBColor(0, 60, 120),
    RGBColor(230, 159, 0),
    RGBColor(0, 114, 178),
    RGBColor(240, 228, 66),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(213, 94, 0),
    RGBColor(86, 180, 233),
    RGBColor(68, 68, 68),
    RGBColor(153, 153, 51),
    RGBColor(136, 34, 85),
    RGBColor(170, 170, 170),
];

/// Height of one workflow's panel when the phase chart has several, pixels (more when its
/// legend needs it).
const PANEL_HEIGHT: u32 = 300;

/// At most this many workflows' panels in the phase chart; the title says when there were
/// more.
pub const MAX_PANELS: usize = 8;

/// Width of the legend's column right of the plot area, pixels.
pub const LEGEND_WIDTH: u32 = 170;

static FONT: Once = Once::new();

pub(crate) fn register_font() {
    FONT.call_once(|| {
        // The bundled font always parses; a failure would only cost the text.
        let _ = plotters::style::register_font(
            "sans-serif",
            FontStyle::Normal,
            include_bytes!("../fonts/DejaVuSans.ttf"),
        );
    });
}

/// One chart: its file stem and title.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChartKind {
    /// File stem (`phases`, ...).
    pub name: &'static str,
    /// Title.
    pub title: &'static str,
}

/// The charts `data` has data for, in report order.
pub fn available(data: &ChartData) -> Vec<ChartKind> {
    let mut kinds = Vec::new();
    if !data.phases.is_empty() {
        kinds.push(ChartKind {
            name: "phases",
            title: "Time per phase",
        });
    }
    if !data.ttft.is_empty() {
        kinds.push(ChartKind {
            name: "ttft",
            title: "Time to first token per model",
        });
    }
    if !data.cost.is_empty() {
        kinds.push(ChartKind {
            name: "cost",
            title: if data.cost_per_workflow {
                "Cost per workflow"
            } else {
                "Cost per call"
            },
        });
    }
    if !data.speed.is_empty() {
        kinds.push(ChartKind {
            name: "speed",
            title: "TTFT against output tokens per second",
        });
    }
    if data.trend.is_some() {
        kinds.push(ChartKind {
            name: "trend",
            title: "Wall time across versions",
        });
    }
    kinds
}

pub(crate) fn chart_error<E: std::fmt::Debug>(e: E) -> ReportError {
    ReportError::Chart(format!("{e:?}"))
}

/// How values of a unit are shown on an axis: divided by a factor, under a unit name
/// (durations of two seconds and more in seconds, bytes in MiB).
pub(crate) fn axis_unit(unit: Unit, max: f64) -> (f64, &'static str) {
    match unit {
        Unit::Ms if max >= 2_000.0 => (1_000.0, "s"),
        Unit::Ms => (1.0, "ms"),
        Unit::Bytes => (1024.0 * 1024.0, "MiB"),
        Unit::Usd => (1.0, "USD"),
        Unit::Tokens => (1.0, "tokens"),
        Unit::TokensPerS => (1.0, "tokens/s"),
        Unit::Calls => (1.0, "calls"),
        Unit::Files => (1.0, "files"),
    }
}

/// A tick label of an axis scaled by `divisor`.
fn scaled(divisor: f64) -> impl Fn(&f64) -> String {
    move |v: &f64| {
        let x = v / divisor;
        if x.abs() >= 100.0 || x == x.trunc() {
            format!("{x:.0}")
        } else {
            format!("{x:.1}")
        }
    }
}

/// Where the legend's box starts below the top of its area, pixels.
const LEGEND_TOP: u32 = 60;
/// Height of one legend entry, pixels.
const LEGEND_ROW: u32 = 24;

/// The legend in its own column right of the plot area (`area`): a framed box, a swatch
/// and a name per entry.
pub(crate) fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[(String, RGBColor)],
) -> Result<()> {
    let (x, y) = (12, LEGEND_TOP as i32);
    let row = LEGEND_ROW as i32;
    area.draw(&Rectangle::new(
        [(x, y), (x + 150, y + 12 + row * entries.len() as i32)],
        BLACK.stroke_width(1),
    ))
    .map_err(chart_error)?;
    for (i, (name, colour)) in entries.iter().enumerate() {
        let top = y + 10 + row * i as i32;
        area.draw(&Rectangle::new(
            [(x + 10, top), (x + 26, top + 16)],
            colour.filled(),
        ))
        .map_err(chart_error)?;
        area.draw(&Text::new(
            name.clone(),
            (x + 34, top + 1),
            ("sans-serif", 14),
        ))
        .map_err(chart_error)?;
    }
    Ok(())
}

/// The chart's size, pixels: [`WIDTH`] × [`HEIGHT`], but for a phase chart of several
/// workflows, which is one panel taller per workflow.
pub fn size(data: &ChartData, kind: ChartKind) -> (u32, u32) {
    let panels = data.phases.len().min(MAX_PANELS);
    if kind.name != "phases" || panels < 2 {
        return (WIDTH, HEIGHT);
    }
    let height: u32 = data.phases[..panels]
        .iter()
        .map(|stack| panel_height(stack.phases.len()))
        .sum();
    (WIDTH, TITLE_HEIGHT + height)
}

/// Room for a chart's title above its panels, pixels.
const TITLE_HEIGHT: u32 = 40;

/// A workflow panel's height: [`PANEL_HEIGHT`], or what its legend of `phases` entries needs.
fn panel_height(phases: usize) -> u32 {
    let entries = phases.min(PALETTE.len()) as u32;
    PANEL_HEIGHT.max(LEGEND_TOP + 12 + LEGEND_ROW * entries + 20)
}

/// The chart as an SVG document.
pub fn render_svg(data: &ChartData, kind: ChartKind) -> Result<String> {
    register_font();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size(data, kind)).into_drawing_area();
        draw(&root, data, kind)?;
        root.present().map_err(chart_error)?;
    }
    Ok(svg)
}

/// The chart as a PNG image.
pub fn render_png(data: &ChartData, kind: ChartKind) -> Result<Vec<u8>> {
    register_font();
    let (width, height) = size(data, kind);
    let mut pixels = vec![0u8; (width * height * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, (width, height)).into_drawing_area();
        draw(&root, data, kind)?;
        root.present().map_err(chart_error)?;
    }
    let mut png = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut png, width, height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(chart_error)?;
        writer.write_image_data(&pixels).map_err(chart_error)?;
    }
    Ok(png)
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    data: &ChartData,
    kind: ChartKind,
) -> Result<()> {
    root.fill(&WHITE).map_err(chart_error)?;
    match kind.name {
        "phases" => draw_phases(root, data, kind.title),
        "ttft" => draw_ttft(root, data, kind.title),
        "cost" => draw_cost(root, data, kind.title),
        "speed" => draw_speed(root, data, kind.title),
        _ => draw_trend(root, data, kind.title),
    }
}

/// A chart's drawing context over the coordinates `X` and `Y` stand for.
pub(crate) type Chart<'a, DB, X, Y> = ChartContext<
    'a,
    DB,
    Cartesian2d<<X as AsRangedCoord>::CoordDescType, <Y as AsRangedCoord>::CoordDescType>,
>;

/// A chart with the report's look: title, margins, room for the axis labels.
pub(crate) fn titled<'a, DB: DrawingBackend, X: AsRangedCoord, Y: AsRangedCoord>(
    root: &'a DrawingArea<DB, Shift>,
    title: &str,
    x: X,
    y: Y,
    x_label_area: u32,
) -> Result<Chart<'a, DB, X, Y>> {
    ChartBuilder::on(root)
        .caption(title, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(x_label_area)
        .y_label_area_size(80)
        .build_cartesian_2d(x, y)
        .map_err(chart_error)
}

/// Category labels on an f64 axis whose categories sit at 0, 1, 2, ...
pub(crate) fn category<'a>(labels: &'a [String]) -> impl Fn(&f64) -> String + 'a {
    move |x: &f64| {
        let i = x.round();
        if (x - i).abs() < 1e-6 && i >= 0.0 {
            labels.get(i as usize).cloned().unwrap_or_default()
        } else {
            String::new()
        }
    }
}

fn top(max: f64) -> f64 {
    if max > 0.0 { max * 1.15 } else { 1.0 }
}

/// The phases to draw and their means `[group][phase]`: all of them up to the palette's
/// size, else the largest (by total mean) in their order and the rest summed as "other".
fn phases_within_palette(phases: &[String], mean_ms: &[Vec<f64>]) -> (Vec<String>, Vec<Vec<f64>>) {
    if phases.len() <= PALETTE.len() {
        return (phases.to_vec(), mean_ms.to_vec());
    }
    let total = |p: usize| mean_ms.iter().map(|row| row[p]).sum::<f64>();
    let mut by_size: Vec<usize> = (0..phases.len()).collect();
    by_size.sort_by(|&a, &b| total(b).total_cmp(&total(a)));
    let mut kept: Vec<usize> = by_size[..PALETTE.len() - 1].to_vec();
    kept.sort_unstable();
    let mut names: Vec<String> = kept.iter().map(|&p| phases[p].clone()).collect();
    names.push("other".into());
    let means = mean_ms
        .iter()
        .map(|row| {
            let mut out: Vec<f64> = kept.iter().map(|&p| row[p]).collect();
            out.push(
                (0..phases.len())
                    .filter(|p| !kept.contains(p))
                    .map(|p| row[p])
                    .sum(),
            );
            out
        })
        .collect();
    (names, means)
}

/// The phase chart: one stacked panel per workflow (the first [`MAX_PANELS`]), under one
/// title when there are several.
fn draw_phases<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    data: &ChartData,
    title: &str,
) -> Result<()> {
    match data.phases.as_slice() {
        [] => Ok(()),
        [only] => draw_phase_stack(root, only, title),
        several => {
            let shown = several.len().min(MAX_PANELS);
            let heading = match several.len() > shown {
                true => format!(
                    "{title}: {} workflows (the first {shown} shown)",
                    several.len()
                ),
                false => format!("{title}: {} workflows", several.len()),
            };
            let (top, mut rest) = root.split_vertically(TITLE_HEIGHT);
            top.titled(&heading, ("sans-serif", 22))
                .map_err(chart_error)?;
            for stack in &several[..shown] {
                let (panel, below) = rest.split_vertically(panel_height(stack.phases.len()));
                draw_phase_stack(&panel, stack, &stack.workflow)?;
                rest = below;
            }
            Ok(())
        }
    }
}

/// One workflow's phases stacked per group, its legend beside it.
fn draw_phase_stack<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    stack: &PhaseStack,
    title: &str,
) -> Result<()> {
    let (phases, mean_ms) = phases_within_palette(&stack.phases, &stack.mean_ms);
    let totals: Vec<f64> = mean_ms.iter().map(|row| row.iter().sum()).collect();
    let max = totals.iter().copied().fold(0.0, f64::max);
    let (divisor, unit) = axis_unit(Unit::Ms, max);
    let n = stack.groups.len();
    let (plot, legend_area) = area.split_horizontally(WIDTH - LEGEND_WIDTH);
    let mut chart = titled(&plot, title, -0.5..(n as f64 - 0.5), 0.0..top(max), 40)?;
    let labels = stack.groups.clone();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n.max(1))
        .x_label_formatter(&category(&labels))
        .y_label_formatter(&scaled(divisor))
        .y_desc(format!("mean time per run ({unit})"))
        .x_desc(stack.grouped_by.as_str())
        .draw()
        .map_err(chart_error)?;
    let mut entries = Vec::new();
    for (p, phase) in phases.iter().enumerate() {
        let color = PALETTE[p];
        let bars = (0..n).map(|g| {
            let below: f64 = mean_ms[g][..p].iter().sum();
            let x = g as f64;
            Rectangle::new(
                [(x - 0.3, below), (x + 0.3, below + mean_ms[g][p])],
                color.filled(),
            )
        });
        chart.draw_series(bars).map_err(chart_error)?;
        entries.push((phase.clone(), color));
    }
    draw_legend(&legend_area, &entries)
}

fn draw_ttft<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    data: &ChartData,
    title: &str,
) -> Result<()> {
    let labels: Vec<String> = data.ttft.iter().map(|d| d.label.clone()).collect();
    let max = data
        .ttft
        .iter()
        .flat_map(|d| d.values.iter().copied())
        .fold(0.0, f64::max);
    let n = labels.len();
    let (divisor, unit) = axis_unit(Unit::Ms, max);
    let mut chart = titled(
        root,
        title,
        -0.5..(n as f64 - 0.5),
        0.0f32..top(max) as f32,
        40,
    )?;
    let ticks = scaled(divisor);
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n.max(1))
        .x_label_formatter(&category(&labels))
        .y_label_formatter(&|v| ticks(&f64::from(*v)))
        .y_desc(format!("time to first token ({unit})"))
        .x_desc("model")
        .draw()
        .map_err(chart_error)?;
    let boxes = data.ttft.iter().enumerate().map(|(i, d)| {
        Boxplot::new_vertical(i as f64, &Quartiles::new(&d.values))
            .width(40)
            .style(PALETTE[0])
    });
    chart.draw_series(boxes).map_err(chart_error)?;
    Ok(())
}

fn draw_cost<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    data: &ChartData,
    title: &str,
) -> Result<()> {
    let labels: Vec<String> = data.cost.iter().map(|c| c.label.clone()).collect();
    let max = data.cost.iter().map(|c| c.x).fold(0.0, f64::max);
    let n = labels.len();
    let mut chart = titled(root, title, -0.5..(n as f64 - 0.5), 0.0..top(max), 60)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n.max(1))
        .x_label_formatter(&category(&labels))
        .x_label_style(("sans-serif", 11))
        .y_label_formatter(&|v| format_usd(*v))
        .y_desc(if data.cost_per_workflow {
            "USD per workflow (run)"
        } else {
            "USD per call (mean)"
        })
        .draw()
        .map_err(chart_error)?;
    let bars = data.cost.iter().enumerate().map(|(i, c)| {
        let x = i as f64;
        Rectangle::new(
            [(x - 0.3, 0.0), (x + 0.3, c.x)],
            PALETTE[i % PALETTE.len()].filled(),
        )
    });
    chart.draw_series(bars).map_err(chart_error)?;
    Ok(())
}

fn draw_speed<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    data: &ChartData,
    title: &str,
) -> Result<()> {
    let max_x = data.speed.iter().map(|p| p.x).fold(0.0, f64::max);
    let max_y = data.speed.iter().map(|p| p.y).fold(0.0, f64::max);
    let (divisor, unit) = axis_unit(Unit::Ms, max_x);
    let (plot, legend_area) = root.split_horizontally(WIDTH - LEGEND_WIDTH);
    let mut chart = titled(&plot, title, 0.0..top(max_x), 0.0..top(max_y), 40)?;
    chart
        .configure_mesh()
        .x_label_formatter(&scaled(divisor))
        .x_desc(format!("TTFT p50 ({unit})"))
        .y_desc("output tokens/s (mean)")
        .draw()
        .map_err(chart_error)?;
    // One colour a model; past the palette's size the rest share the last as "other".
    let mut entries: Vec<(String, RGBColor)> = Vec::new();
    for (i, p) in data.speed.iter().enumerate() {
        let color = PALETTE[i.min(PALETTE.len() - 1)];
        chart
            .draw_series(std::iter::once(Circle::new((p.x, p.y), 6, color.filled())))
            .map_err(chart_error)?;
        if i < PALETTE.len() - 1 || data.speed.len() == PALETTE.len() {
            entries.push((p.label.clone(), color));
        } else if i == PALETTE.len() - 1 {
            entries.push(("other".into(), color));
        }
    }
    draw_legend(&legend_area, &entries)
}

fn draw_trend<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    data: &ChartData,
    title: &str,
) -> Result<()> {
    let Some(trend) = &data.trend else {
        return Ok(());
    };
    let labels: Vec<String> = trend.points.iter().map(|p| p.0.clone()).collect();
    let max = trend.points.iter().map(|p| p.1).fold(0.0, f64::max);
    let n = labels.len();
    let (divisor, unit) = axis_unit(Unit::Ms, max);
    let mut chart = titled(root, title, -0.5..(n as f64 - 0.5), 0.0..top(max), 40)?;
    chart
        .configure_mesh()
        .x_labels(n.max(1))
        .x_label_formatter(&category(&labels))
        .y_label_formatter(&scaled(divisor))
        .x_desc("version")
        .y_desc(format!("mean {} ({unit})", trend.metric.replace('_', " ")))
        .draw()
        .map_err(chart_error)?;
    let points: Vec<(f64, f64)> = trend
        .points
        .iter()
        .enumerate()
        .map(|(i, p)| (i as f64, p.1))
        .collect();
    chart
        .draw_series(LineSeries::new(points.clone(), PALETTE[0].stroke_width(3)))
        .map_err(chart_error)?;
    chart
        .draw_series(
            points
                .into_iter()
                .map(|p| Circle::new(p, 5, PALETTE[0].filled())),
        )
        .map_err(chart_error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use runlens_analysis::chart_data::{Distribution, Labelled, Trend};

    fn data() -> ChartData {
        ChartData {
            phases: vec![PhaseStack {
                workflow: "plan → build".into(),
                groups: vec!["ollama".into(), "anthropic".into()],
                grouped_by: "provider".into(),
                phases: vec!["plan".into(), "build".into()],
                mean_ms: vec![vec![1200.0, 3400.0], vec![800.0, 2100.0]],
            }],
            ttft: vec![Distribution {
                label: "llama3.2:3b".into(),
                values: vec![120.0, 180.0, 240.0, 900.0],
            }],
            cost: vec![Labelled {
                label: "anthropic".into(),
                x: 0.42,
                y: 0.0,
            }],
            cost_per_workflow: true,
            speed: vec![Labelled {
                label: "llama3.2:3b".into(),
                x: 180.0,
                y: 46.0,
            }],
            trend: Some(Trend {
                metric: "wall_time".into(),
                points: vec![("1.4".into(), 300_000.0), ("1.5".into(), 240_000.0)],
            }),
        }
    }

    #[test]
    fn every_chart_renders_as_svg_with_labels_and_as_a_png_of_the_size() {
        let data = data();
        let kinds = available(&data);
        assert_eq!(kinds.len(), 5);
        for kind in kinds {
            let svg = render_svg(&data, kind).expect("svg");
            assert!(svg.starts_with("<svg"), "{}", kind.name);
            assert!(svg.contains(kind.title), "{} title", kind.name);
            let png = render_png(&data, kind).expect("png");
            let decoder = png::Decoder::new(png.as_slice());
            let reader = decoder.read_info().expect("a PNG");
            let info = reader.info();
            assert_eq!((info.width, info.height), (WIDTH, HEIGHT), "{}", kind.name);
        }
        let phases = render_svg(&data, available(&data)[0]).expect("svg");
        assert!(phases.contains("plan") && phases.contains("ollama"));
        assert!(phases.contains("time per run"));
    }

    /// Fourteen phases: twelve colours, none repeated (the two smallest phases as
    /// "other"), the legend right of the plot area, and a unit in every y-axis title.
    #[test]
    fn colours_never_repeat_legends_sit_outside_and_axes_name_their_units() {
        let mut data = data();
        let phases: Vec<String> = (0..14).map(|i| format!("phase {i}")).collect();
        // Phases 3 and 7 are the smallest: they become "other".
        let means: Vec<f64> = (0..14)
            .map(|i| {
                if i == 3 || i == 7 {
                    10.0
                } else {
                    1000.0 + i as f64
                }
            })
            .collect();
        data.phases = vec![PhaseStack {
            workflow: "phase 0 → … → phase 13".into(),
            groups: vec!["all".into()],
            grouped_by: "runs".into(),
            phases,
            mean_ms: vec![means],
        }];
        let svg = render_svg(&data, available(&data)[0]).expect("svg");
        let rect = regex::Regex::new(r#"<rect x="(\d+)" y="\d+" width="(\d+)" height="\d+" opacity="1" fill="(#[0-9A-F]{6})""#)
            .expect("regex");
        let boundary = (WIDTH - LEGEND_WIDTH) as i64;
        let (mut bars, mut swatches) = (Vec::new(), Vec::new());
        for c in rect.captures_iter(&svg) {
            let (x, width): (i64, i64) = (c[1].parse().expect("x"), c[2].parse().expect("w"));
            let fill = c[3].to_string();
            if fill == "#FFFFFF" {
                continue;
            }
            if x >= boundary {
                swatches.push(fill);
            } else {
                assert!(x + width <= boundary, "a bar reaches into the legend");
                bars.push(fill);
            }
        }
        let mut distinct = bars.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!((bars.len(), distinct.len()), (12, 12), "{bars:?}");
        assert_eq!(
            swatches, bars,
            "the legend shows the bars' colours in order"
        );
        assert!(svg.contains(">\nother\n<") && !svg.contains(">\nphase 3\n<"));
        let rotated = regex::Regex::new(r#"rotate\(270[^>]*>\s*([^<]*?)\s*<"#).expect("regex");
        for kind in available(&data) {
            let svg = render_svg(&data, kind).expect("svg");
            let title = rotated
                .captures(&svg)
                .map(|c| c[1].to_string())
                .unwrap_or_default();
            assert!(
                ["(s)", "(ms)", "USD", "tokens/s"]
                    .iter()
                    .any(|u| title.contains(u)),
                "{}: {title:?}",
                kind.name
            );
        }
    }

    /// Two workflows without a phase in common: two panels, one above the other, each
    /// with its own bars and legend; no bar holds the other workflow's phases.
    #[test]
    fn unrelated_workflows_get_a_panel_each() {
        let mut data = data();
        data.phases.push(PhaseStack {
            workflow: "scan → report → publish".into(),
            groups: vec!["ollama".into()],
            grouped_by: "provider".into(),
            phases: vec!["scan".into(), "report".into(), "publish".into()],
            mean_ms: vec![vec![500.0, 700.0, 900.0]],
        });
        let kind = available(&data)[0];
        let (width, height) = size(&data, kind);
        assert_eq!(width, WIDTH);
        assert_eq!(height, TITLE_HEIGHT + 2 * PANEL_HEIGHT);
        let svg = render_svg(&data, kind).expect("svg");
        assert!(
            svg.contains(&format!(r#"height="{height}""#)),
            "the SVG's size"
        );
        assert!(svg.contains("Time per phase: 2 workflows"));
        assert!(svg.contains("plan → build") && svg.contains("scan → report → publish"));
        let rect = regex::Regex::new(
            r#"<rect x="(\d+)" y="(\d+)" width="\d+" height="(\d+)" opacity="1" fill="(#[0-9A-F]{6})""#,
        )
        .expect("regex");
        let boundary = (WIDTH - LEGEND_WIDTH) as i64;
        let split = i64::from(TITLE_HEIGHT + PANEL_HEIGHT);
        // (bars, swatches) per panel.
        let mut counts = [(0, 0), (0, 0)];
        for c in rect.captures_iter(&svg) {
            let x: i64 = c[1].parse().expect("x");
            let (y, h): (i64, i64) = (c[2].parse().expect("y"), c[3].parse().expect("h"));
            if &c[4] == "#FFFFFF" || h == 0 {
                continue;
            }
            assert!(
                y >= split || y + h <= split,
                "a rectangle crosses the panels"
            );
            let panel = &mut counts[usize::from(y >= split)];
            match x >= boundary {
                true => panel.1 += 1,
                false => panel.0 += 1,
            }
        }
        assert_eq!(
            counts,
            [(4, 2), (3, 3)],
            "two groups × two phases, then one × three"
        );
        let png = render_png(&data, kind).expect("png");
        let decoder = png::Decoder::new(png.as_slice());
        let info = decoder.read_info().expect("a PNG").info().clone();
        assert_eq!((info.width, info.height), (width, height));
    }

    #[test]
    fn nothing_to_draw_means_no_chart() {
        assert!(available(&ChartData::default()).is_empty());
    }
}
