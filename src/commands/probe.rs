//! `runlens probe`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use runlens_analysis::probe::{ToolCheck, classify_tool_answer, summarize_calls};
use runlens_ingest::recorded::{RecordedSource, write_recorded};
use runlens_ingest::redact::Redactor;
use runlens_ingest::schema::{Labels, TableRows};
use runlens_ingest::wire::Provider;

use super::{Outcome, UsageError, print_stdout};
use crate::capture::upstream::Upstream;
use crate::cli::{OutputFormat, ProbeArgs};
use crate::probe::{CHECK_TOOL, DEFAULT_PROMPT, ProbeOptions, TOOL_PROMPTS, probe};

/// Prompts from a file: one per line, or JSONL lines with a `prompt` field (or a JSON
/// string); blank lines skipped.
fn read_prompts(path: &std::path::Path) -> anyhow::Result<Vec<String>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| UsageError(format!("reading prompts {}: {e}", path.display())))?;
    let mut prompts = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if line.starts_with('{') || line.starts_with('"') {
            let value: serde_json::Value = serde_json::from_str(line)
                .map_err(|e| UsageError(format!("{}:{}: not JSON: {e}", path.display(), n + 1)))?;
            let prompt = value
                .as_str()
                .or_else(|| value.get("prompt").and_then(|p| p.as_str()))
                .ok_or_else(|| {
                    UsageError(format!(
                        "{}:{}: a JSON line needs a \"prompt\" string",
                        path.display(),
                        n + 1
                    ))
                })?;
            prompts.push(prompt.to_string());
        } else {
            prompts.push(line.to_string());
        }
    }
    if prompts.is_empty() {
        return Err(UsageError(format!("{}: no prompts", path.display())).into());
    }
    Ok(prompts)
}

fn options(args: &ProbeArgs) -> anyhow::Result<ProbeOptions> {
    let provider = Provider::parse(&args.provider)
        .ok_or_else(|| UsageError(format!("unknown provider {}", args.provider)))?;
    let base = Upstream::parse(
        args.base_url
            .as_deref()
            .unwrap_or(provider.default_base_url()),
    )
    .map_err(UsageError)?;
    let prompts = match (&args.prompts, args.prompt.is_empty()) {
        (Some(path), _) => read_prompts(path)?,
        (None, false) => args.prompt.clone(),
        (None, true) if args.check_tools => TOOL_PROMPTS.iter().map(|p| p.to_string()).collect(),
        (None, true) => vec![DEFAULT_PROMPT.to_string()],
    };
    Ok(ProbeOptions {
        provider,
        base,
        model: args.model.clone(),
        prompts,
        requests: args.requests as usize,
        concurrency: args.concurrency as usize,
        max_tokens: args.max_tokens,
        stream: !args.no_stream,
        check_tools: args.check_tools,
        timeout: Duration::from_secs_f64(args.timeout),
    })
}

/// Runs the command.
pub fn run(dataset: &runlens_ingest::Dataset, args: ProbeArgs) -> anyhow::Result<Outcome> {
    let options = options(&args)?;
    let redactor = Arc::new(Redactor::from_env());
    let id = format!(
        "probe-{}-{:x}",
        chrono::Utc::now().format("%Y%m%dT%H%M%S%6fZ"),
        std::process::id()
    );
    let target = format!(
        "{} {} at {}{}",
        options.provider.name(),
        options.model,
        options.base.origin,
        options.base.base_path
    );
    eprintln!(
        "runlens: probing {target}: {} request(s), {} at once, {}",
        options.requests,
        options.concurrency,
        if options.stream {
            "streamed"
        } else {
            "not streamed"
        }
    );
    let calls = probe(&options, &id, Arc::clone(&redactor))?;
    let mut rows = TableRows::default();
    for call in &calls {
        rows.llm_calls.push(call.row.clone());
        rows.tool_calls.extend(call.tools.iter().cloned());
    }
    let labels = Labels(args.labels.iter().cloned().collect());
    let description = redactor.redact(&format!("runlens probe {target}"));
    write_recorded(
        dataset,
        rows,
        &RecordedSource {
            producer: "probe",
            description: &description,
            labels: &labels,
        },
    )
    .with_context(|| format!("writing the probe's calls into {}", dataset.location()))?;
    let rows: Vec<_> = calls.iter().map(|c| c.row.clone()).collect();
    let summaries = summarize_calls(&rows);
    let mut checks: BTreeMap<(String, String), ToolCheck> = BTreeMap::new();
    if options.check_tools {
        for call in &calls {
            let row = &call.row;
            let provider = row.provider.clone().unwrap_or_default();
            let model = row
                .response_model
                .clone()
                .or_else(|| row.request_model.clone())
                .unwrap_or_default();
            let check = checks
                .entry((provider.clone(), model.clone()))
                .or_insert_with(|| ToolCheck {
                    provider,
                    model,
                    ..ToolCheck::default()
                });
            check.add(classify_tool_answer(
                row.error_kind.is_some(),
                call.tools.len(),
                call.text.as_deref().unwrap_or(""),
                CHECK_TOOL,
            ));
        }
    }
    let checks: Vec<ToolCheck> = checks.into_values().collect();
    let text = match args.format {
        OutputFormat::Json => {
            runlens_reports::probe::probe_json(&summaries, &checks).to_string() + "\n"
        }
        _ => {
            let mut text = runlens_reports::probe::render_probe(&summaries);
            if options.check_tools {
                text.push('\n');
                text.push_str(&runlens_reports::probe::render_tool_checks(
                    &checks, CHECK_TOOL,
                ));
            }
            text
        }
    };
    print_stdout(&text)?;
    eprintln!(
        "runlens: {} call(s) written to {} (llm_calls, source = probe)",
        calls.len(),
        dataset.location()
    );
    let mut errors: BTreeMap<String, usize> = BTreeMap::new();
    for row in calls.iter().map(|c| &c.row) {
        if let Some(kind) = &row.error_kind {
            let text = format!("{kind}: {}", row.error.as_deref().unwrap_or(""));
            *errors.entry(text).or_default() += 1;
        }
    }
    let mut errors: Vec<(String, usize)> = errors.into_iter().collect();
    errors.sort_by_key(|e| std::cmp::Reverse(e.1));
    for (text, n) in errors.iter().take(3) {
        eprintln!("runlens: {n} request(s) failed with {text}");
    }
    let all_failed = calls.iter().all(|c| c.row.error_kind.is_some());
    let unfit = checks.iter().any(|c| !c.fit());
    Ok(if all_failed || unfit {
        Outcome::Rejected
    } else {
        Outcome::Success
    })
}
