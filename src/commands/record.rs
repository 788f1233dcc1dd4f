//! `runlens record`.

use std::time::Duration;

use runlens_ingest::formats::run_log::compile_phase_regex;
use runlens_ingest::schema::Labels;

use super::{Outcome, UsageError, print_stdout};
use crate::cli::{AccountingArg, RecordArgs};
use crate::record::{
    Accounting, AccountingChoice, Expectations, Interrupt, RecordOptions, check_program, record,
};

/// Turns the flags into [`RecordOptions`]; every mistake is a usage error.
fn options(args: RecordArgs) -> Result<RecordOptions, UsageError> {
    let program = args
        .command
        .first()
        .ok_or_else(|| UsageError("no command given after --".into()))?;
    check_program(program).map_err(UsageError)?;
    let phase_regex = args
        .phase_regex
        .as_deref()
        .map(compile_phase_regex)
        .transpose()
        .map_err(|e| UsageError(e.to_string()))?;
    let base = match args.output_dir {
        Some(dir) => dir,
        None => {
            std::env::current_dir().map_err(|e| UsageError(format!("working directory: {e}")))?
        }
    };
    let expectations = Expectations {
        globs: args.expect,
        base,
    };
    expectations.validate().map_err(UsageError)?;
    let choice = match args.accounting {
        AccountingArg::Auto => AccountingChoice::Auto,
        AccountingArg::Time => AccountingChoice::Time,
        AccountingArg::Rusage => AccountingChoice::Rusage,
    };
    Ok(RecordOptions {
        command: args.command,
        runs: args.runs,
        warmup: args.warmup,
        prepare: args.prepare,
        cleanup: args.cleanup,
        cooldown: Duration::from_secs_f64(args.cooldown),
        timeout: args.timeout.map(Duration::from_secs_f64),
        fail_fast: args.fail_fast,
        sample_interval: (args.sample_interval > 0)
            .then(|| Duration::from_millis(args.sample_interval)),
        phase_regex,
        expectations,
        labels: Labels(args.labels.into_iter().collect()),
        accounting: Accounting::choose(choice).map_err(UsageError)?,
        echo: !args.hide_output,
        save_output: args.save_output,
        capture: match args.capture {
            true => Some(
                crate::capture::upstream::Upstreams::resolve(&args.upstreams, |v| {
                    std::env::var(v).ok()
                })
                .map_err(UsageError)?,
            ),
            false => None,
        },
    })
}

/// Runs the command.
pub fn run(dataset: &runlens_ingest::Dataset, args: RecordArgs) -> anyhow::Result<Outcome> {
    let options = options(args)?;
    let interrupt = Interrupt::install()?;
    let note = |line: &str| eprintln!("runlens: {line}");
    note(&format!(
        "recording {} counted run(s) after {} warm-up(s) into {}; resources from {}",
        options.runs,
        options.warmup,
        dataset.location(),
        options.accounting.name()
    ));
    let result = record(dataset, &options, &interrupt, &note)?;
    print_stdout(&runlens_reports::render_record_summary(&result.summary))?;
    note(&format!(
        "runs are in {} as run_id {}-r*",
        dataset.location(),
        result.recording_id
    ));
    Ok(match result.interrupted_by {
        Some(signal) => {
            note(&format!(
                "interrupted by signal {signal}: what was recorded so far is written"
            ));
            Outcome::Interrupted(signal)
        }
        None if result.has_failures() => Outcome::Rejected,
        None => Outcome::Success,
    })
}
