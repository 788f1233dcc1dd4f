//! The release comparison report (`runlens report --baseline … --candidate …`) as Markdown
//! written for GitHub pull request comments and release notes (the verdict and its reasons
//! first, the totals in one short table, the details in collapsible `<details>` sections,
//! arrows for the direction of a change, people's words instead of column names), as JSON
//! (the comparison rows exactly as `runlens compare --format json` writes them) and as CSV.
//! The HTML page is `release_html`'s.

use std::fmt::Write as _;

use runlens_analysis::catalogue::Unit;
use runlens_analysis::compare::{Change, Comparison, SpeedupClaim};
use runlens_analysis::projections::PERIODS;
use runlens_analysis::release::{FindingChange, ReleaseComparison, ReleaseVerdict, WorkflowCost};

use crate::compare::{comparison_objects, method_line};
use crate::error::{ReportError, Result};
use crate::units::{format_usd, format_value};

/// The verdict with its sign, as the headline shows it.
pub fn verdict_badge(verdict: ReleaseVerdict) -> &'static str {
    match verdict {
        ReleaseVerdict::Regression => "🔴 Regression",
        ReleaseVerdict::Improvement => "🟢 Improvement",
        ReleaseVerdict::NoSignificantChange => "⚪ No significant change",
    }
}

/// A change's verdict with its sign.
pub fn change_badge(change: Change) -> &'static str {
    match change {
        Change::Better => "🟢 better",
        Change::Worse => "🔴 worse",
        Change::NoSignificantDifference => "⚪ no significant difference",
    }
}

/// A metric's name in words (`phase_time` → "phase time").
pub fn metric_words(name: &str) -> String {
    name.replace("_per_s", " per second").replace('_', " ")
}

/// The relative change with an arrow: "▲ +20.0 %", "▼ −4.2 %", "= 0.0 %"; from a median of
/// 0, the absolute change.
pub fn change_text(c: &Comparison) -> String {
    match c.ratio {
        Some(r) => {
            let percent = (r - 1.0) * 100.0;
            if percent.abs() < 0.05 {
                "= 0.0 %".to_string()
            } else if percent > 0.0 {
                format!("▲ +{percent:.1} %")
            } else {
                format!("▼ −{:.1} %", -percent)
            }
        }
        None if c.candidate_median == c.baseline_median => "= 0.0 %".to_string(),
        None => format!("▲ from 0 to {}", format_value(c.candidate_median, c.unit)),
    }
}

/// The ratio and its 95 % CI: "1.201 (1.150 … 1.260)".
pub fn ratio_text(c: &Comparison) -> String {
    match (c.ratio, c.ratio_ci95_low, c.ratio_ci95_high) {
        (Some(r), Some(lo), Some(hi)) => format!("{r:.3} ({lo:.3} … {hi:.3})"),
        (Some(r), _, _) => format!("{r:.3}"),
        _ => "–".to_string(),
    }
}

/// A p-value as shown.
pub fn p_text(p: Option<f64>) -> String {
    match p {
        Some(p) if p < 0.0001 => "< 0.0001".to_string(),
        Some(p) => format!("{p:.4}"),
        None => "–".to_string(),
    }
}

/// Where a finding stands: "new in the candidate", "also in the baseline", "gone".
pub fn finding_status(f: &FindingChange) -> &'static str {
    match (
        f.new_in_candidate,
        f.baseline_sessions,
        f.candidate_sessions,
    ) {
        (true, _, _) if f.regression => "🔴 new in the candidate",
        (true, _, _) => "new in the candidate",
        (false, Some(b), 0) if b > 0 => "🟢 gone in the candidate",
        _ => "in both",
    }
}

/// A claim's answer in words.
pub fn claim_text(c: &SpeedupClaim) -> String {
    format!(
        "{} {}x: measured {}{} — {}",
        metric_words(&c.metric),
        c.expected,
        c.measured.map_or("–".into(), |m| format!("{m:.2}x")),
        c.ci95
            .map(|(lo, hi)| format!(" (95 % CI {lo:.2}x … {hi:.2}x)"))
            .unwrap_or_default(),
        if c.holds { "holds" } else { "does not hold" }
    )
}

/// The headers of a comparison table (after `Phase`, in the per-phase one).
pub const COMPARISON_HEADER: [&str; 7] = [
    "Metric",
    "Baseline median",
    "Candidate median",
    "Change",
    "Ratio (95 % CI)",
    "p",
    "Verdict",
];

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

fn row(out: &mut String, cells: &[String]) {
    out.push('|');
    for c in cells {
        let _ = write!(out, " {} |", cell(c));
    }
    out.push('\n');
}

fn header(out: &mut String, names: &[&str], right: &[usize]) {
    row(
        out,
        &names.iter().map(|n| n.to_string()).collect::<Vec<_>>(),
    );
    out.push('|');
    for i in 0..names.len() {
        out.push_str(if right.contains(&i) {
            " --: |"
        } else {
            " --- |"
        });
    }
    out.push('\n');
}

fn details(out: &mut String, summary: &str, body: &str) {
    let _ = write!(
        out,
        "<details>\n<summary>{}</summary>\n\n{}\n</details>\n\n",
        crate::html::escape(summary),
        body.trim_end()
    );
}

fn median_cell(median: f64, n: usize, unit: Unit) -> String {
    format!("{} (n = {n})", format_value(median, unit))
}

/// The comparison rows of `phases` (the totals, or every phase) as a Markdown table.
fn comparison_table(rows: &[&Comparison], with_phase: bool) -> String {
    let mut out = String::new();
    let mut names = vec![];
    if with_phase {
        names.push("Phase");
    }
    names.extend(COMPARISON_HEADER);
    let offset = usize::from(with_phase);
    header(
        &mut out,
        &names,
        &[offset + 1, offset + 2, offset + 3, offset + 4, offset + 5],
    );
    for c in rows {
        let mut cells = vec![];
        if with_phase {
            cells.push(c.phase.clone());
        }
        cells.extend([
            metric_words(c.metric.name),
            median_cell(c.baseline_median, c.baseline_n, c.unit),
            median_cell(c.candidate_median, c.candidate_n, c.unit),
            change_text(c),
            ratio_text(c),
            p_text(c.p_value),
            change_badge(c.verdict).to_string(),
        ]);
        row(&mut out, &cells);
    }
    out
}

fn cost_cell(cost: Option<&WorkflowCost>, pick: impl Fn(&WorkflowCost) -> String) -> String {
    cost.map_or("–".to_string(), pick)
}

/// The release comparison as Markdown.
pub fn render_markdown(r: &ReleaseComparison) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "## Release comparison: `{}` against `{}`\n",
        r.candidate, r.baseline
    );
    let _ = writeln!(out, "**{}**\n", verdict_badge(r.verdict));
    for reason in &r.reasons {
        let _ = writeln!(out, "- {reason}");
    }
    if !r.reasons.is_empty() {
        out.push('\n');
    }
    let (totals, phases) = r.totals_and_phases();
    if totals.is_empty() && phases.is_empty() {
        out.push_str("No metric was measured by both the baseline and the candidate.\n\n");
    } else if !totals.is_empty() {
        out.push_str(&comparison_table(&totals, false));
        out.push('\n');
    }
    if !r.findings.is_empty() {
        let mut body = String::new();
        header(
            &mut body,
            &[
                "Finding",
                "Baseline sessions",
                "Candidate sessions",
                "Status",
            ],
            &[1, 2],
        );
        for f in &r.findings {
            row(
                &mut body,
                &[
                    f.finding.replace('_', " "),
                    match (f.baseline_sessions, r.baseline_sessions) {
                        (Some(n), Some(total)) => format!("{n} of {total}"),
                        _ => "not recorded".into(),
                    },
                    format!("{} of {}", f.candidate_sessions, r.candidate_sessions),
                    finding_status(f).to_string(),
                ],
            );
        }
        let new = r.findings.iter().filter(|f| f.new_in_candidate).count();
        details(
            &mut out,
            &format!("Validation findings ({new} new in the candidate)"),
            &body,
        );
    }
    if !phases.is_empty() {
        let worse = phases.iter().filter(|c| c.verdict == Change::Worse).count();
        details(
            &mut out,
            &format!("Per phase: {} comparisons, {worse} worse", phases.len()),
            &comparison_table(&phases, true),
        );
    }
    if !r.claims.is_empty() {
        let body: String = r
            .claims
            .iter()
            .map(|c| format!("- {}\n", claim_text(c)))
            .collect();
        let held = r.claims.iter().filter(|c| c.holds).count();
        details(
            &mut out,
            &format!("Speed-up claims: {held} of {} hold", r.claims.len()),
            &body,
        );
    }
    if r.baseline_cost.is_some() || r.candidate_cost.is_some() {
        let mut body = String::new();
        header(&mut body, &["", "Baseline", "Candidate"], &[1, 2]);
        let (b, c) = (r.baseline_cost.as_ref(), r.candidate_cost.as_ref());
        row(
            &mut body,
            &[
                "cost per workflow (mean)".into(),
                cost_cell(b, |w| format_usd(w.cost_per_run_usd)),
                cost_cell(c, |w| format_usd(w.cost_per_run_usd)),
            ],
        );
        row(
            &mut body,
            &[
                "95 % CI".into(),
                cost_cell(b, ci_text),
                cost_cell(c, ci_text),
            ],
        );
        row(
            &mut body,
            &[
                "runs".into(),
                cost_cell(b, |w| w.runs.to_string()),
                cost_cell(c, |w| w.runs.to_string()),
            ],
        );
        for (i, (period, _)) in PERIODS.iter().enumerate() {
            row(
                &mut body,
                &[
                    format!("per {period}"),
                    cost_cell(b, |w| format_usd(w.per_period_usd[i])),
                    cost_cell(c, |w| format_usd(w.per_period_usd[i])),
                ],
            );
        }
        details(
            &mut out,
            &format!(
                "Cost per workflow and projection ({} workflows a day)",
                r.workflows_per_day
            ),
            &body,
        );
    }
    let _ = writeln!(
        out,
        "<sub>{}</sub>",
        crate::html::escape(&method_line(r.threshold))
    );
    out
}

fn ci_text(w: &WorkflowCost) -> String {
    w.ci95_usd.map_or("–".into(), |(lo, hi)| {
        format!("{} … {}", format_usd(lo), format_usd(hi))
    })
}

/// The release comparison as JSON: its fields, with `comparisons` written exactly as
/// `runlens compare --format json` writes its rows.
pub fn render_json(r: &ReleaseComparison) -> Result<String> {
    let mut value = serde_json::to_value(r).map_err(ReportError::Json)?;
    value["method"] = method_line(r.threshold).into();
    value["comparisons"] = comparison_objects(&r.comparisons)?.into();
    Ok(serde_json::to_string_pretty(&value).map_err(ReportError::Json)? + "\n")
}

/// The comparison rows as CSV (as `runlens compare --format csv`).
pub fn render_csv(r: &ReleaseComparison) -> Result<String> {
    crate::compare::render_csv(&r.comparisons)
}
