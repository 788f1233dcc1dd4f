//! The release comparison report as one self-contained HTML page: the verdict and its
//! reasons, the totals, then the details in `<details>` sections (as the Markdown has them)
//! and the comparison charts as inline SVG. No script and no fetch; every string from the
//! data is escaped.

use std::fmt::Write as _;

use runlens_analysis::compare::{Change, Comparison};
use runlens_analysis::projections::PERIODS;
use runlens_analysis::release::{ReleaseComparison, ReleaseVerdict};

use crate::compare::method_line;
use crate::html::escape;
use crate::release::{
    COMPARISON_HEADER, change_text, claim_text, finding_status, metric_words, p_text, ratio_text,
};
use crate::release_charts::ReleaseChart;
use crate::units::{format_usd, format_value};

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2rem auto;max-width:1100px;color:#1b1b1b;padding:0 1rem}\
table{border-collapse:collapse;margin:.5rem 0 1rem;font-size:.9rem}\
th,td{border:1px solid #c8c8c8;padding:.3rem .6rem}th{background:#eef1f5;text-align:left}\
td.num{text-align:right;font-variant-numeric:tabular-nums}\
.verdict{font-size:1.4rem;font-weight:700;padding:.4rem .8rem;display:inline-block;border-radius:4px;color:#fff}\
.regression{background:#8b0000}.improvement{background:#0b5d1e}.no-significant-change{background:#555}\
tr.worse td{background:#fde8e8}tr.better td{background:#e6f4ea}\
details{margin:.8rem 0}summary{font-weight:600;cursor:pointer}\
figure{margin:1rem 0}figcaption{font-weight:600}p.note{color:#444;font-size:.9rem}";

fn verdict_class(verdict: ReleaseVerdict) -> &'static str {
    match verdict {
        ReleaseVerdict::Regression => "regression",
        ReleaseVerdict::Improvement => "improvement",
        ReleaseVerdict::NoSignificantChange => "no-significant-change",
    }
}

/// A table row: its class (`worse`, `better`) and its cells, each with whether it is a
/// number (right-aligned).
type Row = (Option<&'static str>, Vec<(String, bool)>);

fn table(out: &mut String, header: &[&str], rows: &[Row]) {
    out.push_str("<table>\n<thead><tr>");
    for h in header {
        let _ = write!(out, "<th>{}</th>", escape(h));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for (class, cells) in rows {
        match class {
            Some(c) => {
                let _ = write!(out, "<tr class=\"{c}\">");
            }
            None => out.push_str("<tr>"),
        }
        for (text, numeric) in cells {
            let class = if *numeric { " class=\"num\"" } else { "" };
            let _ = write!(out, "<td{class}>{}</td>", escape(text));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table>\n");
}

fn comparison_rows(rows: &[&Comparison], with_phase: bool) -> Vec<Row> {
    rows.iter()
        .map(|c| {
            let class = match c.verdict {
                Change::Worse => Some("worse"),
                Change::Better => Some("better"),
                Change::NoSignificantDifference => None,
            };
            let mut cells = Vec::new();
            if with_phase {
                cells.push((c.phase.clone(), false));
            }
            cells.extend([
                (metric_words(c.metric.name), false),
                (
                    format!(
                        "{} (n = {})",
                        format_value(c.baseline_median, c.unit),
                        c.baseline_n
                    ),
                    true,
                ),
                (
                    format!(
                        "{} (n = {})",
                        format_value(c.candidate_median, c.unit),
                        c.candidate_n
                    ),
                    true,
                ),
                (change_text(c), true),
                (ratio_text(c), true),
                (p_text(c.p_value), true),
                (c.verdict.label().to_string(), false),
            ]);
            (class, cells)
        })
        .collect()
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// The page. Verdicts are words on coloured backgrounds (no emoji: a machine without an
/// emoji font would show boxes).
pub fn render_html(r: &ReleaseComparison, charts: &[ReleaseChart]) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>runlens release comparison</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <h1>Release comparison: {} against {}</h1>\n",
        escape(&r.candidate),
        escape(&r.baseline)
    );
    let _ = writeln!(
        out,
        "<p><span class=\"verdict {}\" id=\"verdict\">{}</span></p>",
        verdict_class(r.verdict),
        escape(&capitalized(r.verdict.label()))
    );
    if !r.reasons.is_empty() {
        out.push_str("<ul class=\"reasons\">\n");
        for reason in &r.reasons {
            let _ = writeln!(out, "<li>{}</li>", escape(reason));
        }
        out.push_str("</ul>\n");
    }
    let (totals, phases) = r.totals_and_phases();
    if !totals.is_empty() {
        table(
            &mut out,
            &COMPARISON_HEADER,
            &comparison_rows(&totals, false),
        );
    }
    if !r.findings.is_empty() {
        let new = r.findings.iter().filter(|f| f.new_in_candidate).count();
        let _ = writeln!(
            out,
            "<details open id=\"findings\">\n<summary>Validation findings ({new} new in the candidate)</summary>"
        );
        let rows: Vec<_> = r
            .findings
            .iter()
            .map(|f| {
                (
                    f.regression.then_some("worse"),
                    vec![
                        (f.finding.replace('_', " "), false),
                        (
                            match (f.baseline_sessions, r.baseline_sessions) {
                                (Some(n), Some(total)) => format!("{n} of {total}"),
                                _ => "not recorded".into(),
                            },
                            true,
                        ),
                        (
                            format!("{} of {}", f.candidate_sessions, r.candidate_sessions),
                            true,
                        ),
                        (
                            finding_status(f)
                                .trim_start_matches(['🔴', '🟢', ' '])
                                .to_string(),
                            false,
                        ),
                    ],
                )
            })
            .collect();
        table(
            &mut out,
            &[
                "Finding",
                "Baseline sessions",
                "Candidate sessions",
                "Status",
            ],
            &rows,
        );
        out.push_str("</details>\n");
    }
    if !phases.is_empty() {
        let worse = phases.iter().filter(|c| c.verdict == Change::Worse).count();
        let _ = writeln!(
            out,
            "<details id=\"phases\">\n<summary>Per phase: {} comparisons, {worse} worse</summary>",
            phases.len()
        );
        let mut header = vec!["Phase"];
        header.extend(COMPARISON_HEADER);
        table(&mut out, &header, &comparison_rows(&phases, true));
        out.push_str("</details>\n");
    }
    if !r.claims.is_empty() {
        let held = r.claims.iter().filter(|c| c.holds).count();
        let _ = writeln!(
            out,
            "<details open id=\"claims\">\n<summary>Speed-up claims: {held} of {} hold</summary>\n<ul>",
            r.claims.len()
        );
        for c in &r.claims {
            let _ = writeln!(out, "<li>{}</li>", escape(&claim_text(c)));
        }
        out.push_str("</ul>\n</details>\n");
    }
    if r.baseline_cost.is_some() || r.candidate_cost.is_some() {
        let _ = writeln!(
            out,
            "<details id=\"cost\">\n<summary>Cost per workflow and projection ({} workflows a day)</summary>",
            r.workflows_per_day
        );
        let sides = [r.baseline_cost.as_ref(), r.candidate_cost.as_ref()];
        let mut rows = vec![(
            None,
            std::iter::once(("cost per workflow (mean)".to_string(), false))
                .chain(sides.iter().map(|w| {
                    (
                        w.map_or("–".into(), |w| format_usd(w.cost_per_run_usd)),
                        true,
                    )
                }))
                .collect(),
        )];
        for (i, (period, _)) in PERIODS.iter().enumerate() {
            rows.push((
                None,
                std::iter::once((format!("per {period}"), false))
                    .chain(sides.iter().map(|w| {
                        (
                            w.map_or("–".into(), |w| format_usd(w.per_period_usd[i])),
                            true,
                        )
                    }))
                    .collect(),
            ));
        }
        table(&mut out, &["", "Baseline", "Candidate"], &rows);
        out.push_str("</details>\n");
    }
    if !charts.is_empty() {
        out.push_str("<h2 id=\"charts\">Charts</h2>\n");
        for chart in charts {
            let _ = writeln!(
                out,
                "<figure class=\"chart\" id=\"chart-{}\">\n<figcaption>{}</figcaption>\n{}\n</figure>",
                escape(&chart.id),
                escape(&chart.title),
                chart
                    .svg
                    .trim_start_matches("<?xml version=\"1.0\" encoding=\"UTF-8\"?>")
                    .trim()
            );
        }
    }
    let _ = writeln!(
        out,
        "<p class=\"note\">{}</p>\n</body>\n</html>",
        escape(&method_line(r.threshold))
    );
    out
}
