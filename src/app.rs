//! What each command does, in one table of contents.

use crate::cli::{Cli, Command};
use crate::commands::{self, Outcome, print_stdout};

/// Runs the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<Outcome> {
    match cli.command {
        Command::Ingest(args) => commands::ingest::run(&cli.data, args),
        Command::Record(args) => commands::record::run(&cli.data, args),
        Command::Validate(args) => commands::validate::run(args),
        Command::Sessions(args) => commands::query::sessions(&cli.data, args),
        Command::Analyze(args) => commands::analyze::run(&cli.data, args),
        Command::Compare(args) => commands::compare::run(&cli.data, args),
        Command::Memory(args) => commands::memory::run(&cli.data, args),
        Command::Prices(args) => commands::prices::list(args),
        Command::Cost(args) => commands::prices::cost(args),
        Command::Probe(args) => commands::probe::run(&cli.data, args),
        Command::Report(args) => commands::report::run(&cli.data, args),
        Command::Query(args) => commands::query::run(&cli.data, args),
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
