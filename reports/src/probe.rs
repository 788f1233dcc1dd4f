//! What `runlens probe` prints: the per-model latency and token table, and the tool check's
//! verdicts; JSON of the same for scripts.

use std::fmt::Write as _;

use runlens_analysis::probe::{ProbeSummary, ToolCheck};

use crate::table::{align_right, new_table};
use crate::units::format_duration_ms;

fn pair(p: Option<(f64, f64)>) -> (String, String) {
    match p {
        Some((a, b)) => (format_duration_ms(a), format_duration_ms(b)),
        None => (String::new(), String::new()),
    }
}

/// The per-model table, with a note on calls whose tokens were not reported.
pub fn render_probe(summaries: &[ProbeSummary]) -> String {
    let mut table = new_table(&[
        "provider",
        "model",
        "requests",
        "errors",
        "TTFT p50",
        "TTFT p95",
        "gap mean",
        "gap p50",
        "gap p95",
        "tokens/s (mean)",
        "tokens in",
        "tokens out",
    ]);
    let mut notes = String::new();
    for s in summaries {
        let (ttft50, ttft95) = pair(s.ttft_ms);
        let (gap50, gap95) = pair(s.chunk_gap_ms);
        table.add_row(vec![
            s.provider.clone(),
            s.model.clone(),
            s.requests.to_string(),
            s.errors.to_string(),
            ttft50,
            ttft95,
            s.chunk_gap_mean_ms
                .map(format_duration_ms)
                .unwrap_or_default(),
            gap50,
            gap95,
            s.output_tokens_per_s
                .map(|r| format!("{r:.1}/s"))
                .unwrap_or_default(),
            s.input_tokens.to_string(),
            s.output_tokens.to_string(),
        ]);
        if s.usage_missing > 0 {
            let _ = writeln!(
                notes,
                "{} {}: {} answered call(s) reported no token counts (not counted as 0)",
                s.provider, s.model, s.usage_missing
            );
        }
    }
    align_right(&mut table, &(2..12).collect::<Vec<_>>());
    format!(
        "{table}\nTTFT: to the first content chunk; gap: between content chunks; percentiles interpolate linearly.\n{notes}"
    )
}

/// The tool check: how each model answered prompts that needed the tool, and the verdict.
pub fn render_tool_checks(checks: &[ToolCheck], tool_name: &str) -> String {
    let mut table = new_table(&[
        "provider",
        "model",
        "structured call",
        "call as text",
        "prose",
        "failed",
        "verdict",
    ]);
    let mut out = String::new();
    for c in checks {
        table.add_row(vec![
            c.provider.clone(),
            c.model.clone(),
            c.structured.to_string(),
            c.as_text.to_string(),
            c.prose.to_string(),
            c.failed.to_string(),
            if c.fit() { "fit" } else { "NOT FIT" }.to_string(),
        ]);
    }
    align_right(&mut table, &[2, 3, 4, 5]);
    let _ = writeln!(out, "{table}");
    for c in checks.iter().filter(|c| !c.fit()) {
        let _ = writeln!(
            out,
            "{} is NOT FIT for a tool-using workflow: {} of {} answered prompts that needed `{tool_name}` got a structured tool call ({} wrote the call as text, {} answered in prose). A workflow on it can \"complete\" every phase without calling a tool.",
            c.model,
            c.structured,
            c.answered(),
            c.as_text,
            c.prose
        );
    }
    out
}

/// The probe's result as JSON: `{"models": [...], "tool_check": [...]}`.
pub fn probe_json(summaries: &[ProbeSummary], checks: &[ToolCheck]) -> serde_json::Value {
    let models: Vec<serde_json::Value> = summaries
        .iter()
        .map(|s| {
            serde_json::json!({
                "provider": s.provider,
                "model": s.model,
                "requests": s.requests,
                "errors": s.errors,
                "ttft_p50_ms": s.ttft_ms.map(|p| p.0),
                "ttft_p95_ms": s.ttft_ms.map(|p| p.1),
                "chunk_gap_mean_ms": s.chunk_gap_mean_ms,
                "chunk_gap_p50_ms": s.chunk_gap_ms.map(|p| p.0),
                "chunk_gap_p95_ms": s.chunk_gap_ms.map(|p| p.1),
                "output_tokens_per_s_mean": s.output_tokens_per_s,
                "input_tokens": s.input_tokens,
                "output_tokens": s.output_tokens,
                "usage_missing": s.usage_missing,
            })
        })
        .collect();
    let checks: Vec<serde_json::Value> = checks
        .iter()
        .map(|c| {
            serde_json::json!({
                "provider": c.provider,
                "model": c.model,
                "structured": c.structured,
                "as_text": c.as_text,
                "prose": c.prose,
                "failed": c.failed,
                "fit": c.fit(),
            })
        })
        .collect();
    serde_json::json!({"models": models, "tool_check": checks})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_table_and_tool_verdicts() {
        let summary = ProbeSummary {
            provider: "ollama".into(),
            model: "llama3.2:3b".into(),
            requests: 20,
            errors: 1,
            ttft_ms: Some((180.5, 420.0)),
            chunk_gap_ms: Some((21.0, 48.5)),
            chunk_gap_mean_ms: Some(24.75),
            output_tokens_per_s: Some(46.25),
            input_tokens: 520,
            output_tokens: 2400,
            usage_missing: 2,
        };
        insta::assert_snapshot!(render_probe(&[summary]));
        let checks = [
            ToolCheck {
                provider: "ollama".into(),
                model: "llama3.2:3b".into(),
                structured: 0,
                as_text: 3,
                prose: 7,
                failed: 0,
            },
            ToolCheck {
                provider: "ollama".into(),
                model: "qwen3:8b".into(),
                structured: 10,
                ..ToolCheck::default()
            },
        ];
        insta::assert_snapshot!(render_tool_checks(&checks, "get_weather"));
        let json = probe_json(&[], &checks);
        assert_eq!(json["tool_check"][0]["fit"], false);
        assert_eq!(json["tool_check"][1]["fit"], true);
    }
}
