//! What each command does, in one table of contents.

use anyhow::Context;

use crate::cli::{Cli, Command};
use crate::commands::{self, Outcome, print_stdout};

/// Runs the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<Outcome> {
    // The dataset is only configured here; commands that never touch it do not open it.
    let location = cli.data;
    let dataset = || {
        location
            .open()
            .with_context(|| format!("opening the dataset {location}"))
    };
    match cli.command {
        Command::Ingest(args) => reading(dataset()?, |d| commands::ingest::run(d, args)),
        Command::Record(args) => commands::record::run(&dataset()?, args),
        Command::Validate(args) => commands::validate::run(args),
        Command::Sessions(args) => reading(dataset()?, |d| commands::query::sessions(d, args)),
        Command::Analyze(args) => reading(dataset()?, |d| commands::analyze::run(d, args)),
        Command::Compare(args) => reading(dataset()?, |d| commands::compare::run(d, args)),
        Command::Memory(args) => reading(dataset()?, |d| commands::memory::run(d, args)),
        Command::Prices(args) => commands::prices::list(args),
        Command::Cost(args) => commands::prices::cost(args),
        Command::Probe(args) => reading(dataset()?, |d| commands::probe::run(d, args)),
        Command::Report(args) => reading(dataset()?, |d| commands::report::run(d, args)),
        Command::Query(args) => reading(dataset()?, |d| commands::query::run(d, args)),
        Command::Sql(args) => commands::query::views(&dataset()?, args),
        Command::Compact(args) => reading(dataset()?, |d| commands::maintenance::compact(d, args)),
        Command::Vacuum(args) => commands::maintenance::vacuum(&dataset()?, args),
        Command::Formats => {
            let mut text = String::new();
            for format in runlens_ingest::formats::REGISTRY {
                text.push_str(&format!("{:<17} {}\n", format.name(), format.description()));
            }
            print_stdout(&text)?;
            Ok(Outcome::Success)
        }
        Command::Schema => {
            print_stdout(&runlens_ingest::schema::schema_markdown())?;
            Ok(Outcome::Success)
        }
    }
}

/// Runs a command that reads `dataset`; a failed read names the damaged files, when some
/// are the cause.
fn reading(
    dataset: runlens_ingest::Dataset,
    run: impl FnOnce(&runlens_ingest::Dataset) -> anyhow::Result<Outcome>,
) -> anyhow::Result<Outcome> {
    run(&dataset).map_err(|error| explain_read_error(&dataset, error))
}

/// `error`, from a command reading `dataset`, replaced by the list of the dataset's damaged
/// files when it came from reading Parquet and such files exist (the reader's own message
/// names no file). Only then are the files' footers checked: nothing is spent on success.
fn explain_read_error(dataset: &runlens_ingest::Dataset, error: anyhow::Error) -> anyhow::Error {
    if !format!("{error:#}").to_lowercase().contains("parquet") {
        return error;
    }
    match dataset.damaged_files() {
        Ok(damaged) if !damaged.is_empty() => {
            let files: Vec<String> = damaged
                .iter()
                .map(|d| format!("\n  {}: {}", d.key, d.reason))
                .collect();
            anyhow::anyhow!(
                "the dataset {} has {} damaged file(s), which no command can read; restore \
                 them from a copy (the commit record in _runlens/commits that names a file \
                 says which ingest wrote it):{}",
                dataset.location(),
                damaged.len(),
                files.concat()
            )
        }
        _ => error,
    }
}
