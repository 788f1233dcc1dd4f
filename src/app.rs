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
        Command::Ingest(args) => commands::ingest::run(&dataset()?, args),
        Command::Record(args) => commands::record::run(&dataset()?, args),
        Command::Validate(args) => commands::validate::run(args),
        Command::Sessions(args) => commands::query::sessions(&dataset()?, args),
        Command::Analyze(args) => commands::analyze::run(&dataset()?, args),
        Command::Compare(args) => commands::compare::run(&dataset()?, args),
        Command::Memory(args) => commands::memory::run(&dataset()?, args),
        Command::Prices(args) => commands::prices::list(args),
        Command::Cost(args) => commands::prices::cost(args),
        Command::Probe(args) => commands::probe::run(&dataset()?, args),
        Command::Report(args) => commands::report::run(&dataset()?, args),
        Command::Query(args) => commands::query::run(&dataset()?, args),
        Command::Sql(args) => commands::query::views(&dataset()?, args),
        Command::Compact(args) => commands::maintenance::compact(&dataset()?, args),
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
