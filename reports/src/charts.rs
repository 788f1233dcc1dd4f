//! The report's charts (their data: `runlens_analysis::chart_data`), drawn with plotters: as SVG (embedded in the HTML report) and as
//! PNG (`runlens report --charts DIR`). One drawing function per chart, generic over the
//! backend, so both formats show the same picture.
//!
//! - `phases`: mean time per phase, stacked, one bar per group;
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
use runlens_analysis::chart_data::ChartData;

use crate::error::{ReportError, Result};
use crate::prices::format_usd;
use crate::units::format_duration_ms;

/// Chart size, pixels.
pub const WIDTH: u32 = 900;
/// Chart size, pixels.
pub const HEIGHT: u32 = 480;

/// Dark to light, alternating hue (Okabe–Ito colours ordered by lightness).
const PALETTE: [RGBColor; 6] = [
    RGBColor(0, 60, 120),
    RGBColor(230, 159, 0),
    RGBColor(0, 114, 178),
    RGBColor(240, 228, 66),
    RGBColor(86, 180, 233),
    RGBColor(204, 121, 167),
];

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
    if data.phases.is_some() {
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

/// The chart as an SVG document.
pub fn render_svg(data: &ChartData, kind: ChartKind) -> Result<String> {
    register_font();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        draw(&root, data, kind)?;
        root.present().map_err(chart_error)?;
    }
    Ok(svg)
}

/// The chart as a PNG image.
pub fn render_png(data: &ChartData, kind: ChartKind) -> Result<Vec<u8>> {
    register_font();
    let mut pixels = vec![0u8; (WIDTH * HEIGHT * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, (WIDTH, HEIGHT)).into_drawing_area();
        draw(&root, data, kind)?;
        root.present().map_err(chart_error)?;
    }
    let mut png = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut png, WIDTH, HEIGHT);
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
type Chart<'a, DB, X, Y> = ChartContext<
    'a,
    DB,
    Cartesian2d<<X as AsRangedCoord>::CoordDescType, <Y as AsRangedCoord>::CoordDescType>,
>;

/// A chart with the report's look: title, margins, room for the axis labels.
fn titled<'a, DB: DrawingBackend, X: AsRangedCoord, Y: AsRangedCoord>(
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

fn draw_phases<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    data: &ChartData,
    title: &str,
) -> Result<()> {
    let Some(stack) = &data.phases else {
        return Ok(());
    };
    let totals: Vec<f64> = stack.mean_ms.iter().map(|row| row.iter().sum()).collect();
    let max = totals.iter().copied().fold(0.0, f64::max);
    let n = stack.groups.len();
    let mut chart = titled(root, title, -0.5..(n as f64 - 0.5), 0.0..top(max), 40)?;
    let labels = stack.groups.clone();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n.max(1))
        .x_label_formatter(&category(&labels))
        .y_label_formatter(&|v| format_duration_ms(*v))
        .y_desc("mean time per run")
        .x_desc(stack.grouped_by.as_str())
        .draw()
        .map_err(chart_error)?;
    for (p, phase) in stack.phases.iter().enumerate() {
        let color = PALETTE[p % PALETTE.len()];
        let bars = (0..n).map(|g| {
            let below: f64 = stack.mean_ms[g][..p].iter().sum();
            let x = g as f64;
            Rectangle::new(
                [(x - 0.3, below), (x + 0.3, below + stack.mean_ms[g][p])],
                color.filled(),
            )
        });
        chart
            .draw_series(bars)
            .map_err(chart_error)?
            .label(phase.as_str())
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], color.filled()));
    }
    legend(&mut chart, SeriesLabelPosition::UpperRight)
}

fn legend<'a, DB: DrawingBackend + 'a, X: Ranged, Y: Ranged>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
    position: SeriesLabelPosition,
) -> Result<()> {
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 14))
        .draw()
        .map_err(chart_error)
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
    let mut chart = titled(
        root,
        title,
        -0.5..(n as f64 - 0.5),
        0.0f32..top(max) as f32,
        40,
    )?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n.max(1))
        .x_label_formatter(&category(&labels))
        .y_label_formatter(&|v| format_duration_ms(f64::from(*v)))
        .y_desc("time to first token")
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
    let mut chart = titled(root, title, 0.0..top(max_x), 0.0..top(max_y), 40)?;
    chart
        .configure_mesh()
        .x_label_formatter(&|v| format_duration_ms(*v))
        .x_desc("TTFT p50")
        .y_desc("output tokens/s (mean)")
        .draw()
        .map_err(chart_error)?;
    for (i, p) in data.speed.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        chart
            .draw_series(std::iter::once(Circle::new((p.x, p.y), 6, color.filled())))
            .map_err(chart_error)?
            .label(p.label.as_str())
            .legend(move |(x, y)| Circle::new((x + 6, y), 5, color.filled()));
    }
    // Fast models sit top left: the legend goes where points are rarest.
    legend(&mut chart, SeriesLabelPosition::LowerRight)
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
    let mut chart = titled(root, title, -0.5..(n as f64 - 0.5), 0.0..top(max), 40)?;
    chart
        .configure_mesh()
        .x_labels(n.max(1))
        .x_label_formatter(&category(&labels))
        .y_label_formatter(&|v| format_duration_ms(*v))
        .x_desc("version")
        .y_desc(format!("mean {}", trend.metric))
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
    use runlens_analysis::chart_data::{Distribution, Labelled, PhaseStack, Trend};

    fn data() -> ChartData {
        ChartData {
            phases: Some(PhaseStack {
                groups: vec!["ollama".into(), "anthropic".into()],
                grouped_by: "provider".into(),
                phases: vec!["plan".into(), "build".into()],
                mean_ms: vec![vec![1200.0, 3400.0], vec![800.0, 2100.0]],
            }),
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

    #[test]
    fn nothing_to_draw_means_no_chart() {
        assert!(available(&ChartData::default()).is_empty());
    }
}
