//! Command-line types (clap derive) and nothing else: each command's flags are turned into
//! the library crates' option structs before any work starts.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// Record, ingest and analyse LLM agent workflow benchmarks as one Parquet dataset.
#[derive(Debug, Parser)]
#[command(name = "runlens", version, about, max_term_width = 100)]
pub struct Cli {
    /// Dataset directory.
    #[arg(
        long,
        global = true,
        env = "RUNLENS_DATA",
        default_value = "runlens-data"
    )]
    pub data: PathBuf,

    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// runlens commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read benchmark artifacts (time outputs, run logs, benchmark JSON, latency CSV) into the dataset.
    Ingest(IngestArgs),
    /// Run SQL over the dataset's tables (runs, phases, llm_calls, bench_results, ingest_log, ...).
    Query(QueryArgs),
    /// List the input formats runlens reads.
    Formats,
    /// Print the dataset's column reference (Markdown).
    Schema,
}

/// Arguments of `runlens ingest`.
#[derive(Debug, clap::Args)]
pub struct IngestArgs {
    /// Files, directories (read recursively) and glob patterns ('logs/**/*.log').
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<String>,

    /// Read every file as this format instead of detecting it (see `runlens formats`).
    #[arg(long, value_name = "NAME")]
    pub format: Option<String>,

    /// Label every row written with key=value (repeatable): provider, model, version...
    #[arg(long = "label", value_name = "KEY=VALUE", value_parser = parse_label)]
    pub labels: Vec<(String, String)>,

    /// Regex marking phase starts in run logs; needs a `(?P<name>...)` group, may have
    /// `(?P<ts>...)`, `(?P<number>...)`, `(?P<duration>...)`.
    #[arg(long, value_name = "REGEX")]
    pub phase_regex: Option<String>,

    /// The GNU `time -f` format string the time outputs were written with (e.g. "%e %M %x").
    #[arg(long, value_name = "FORMAT")]
    pub time_format: Option<String>,

    /// Parse and report, but write nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// Arguments of `runlens query`.
#[derive(Debug, clap::Args)]
pub struct QueryArgs {
    /// The SQL statement (polars SQL); tables are named as in docs/schema.md.
    pub sql: String,

    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

/// How a result is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// A terminal table.
    Table,
    /// CSV with a header.
    Csv,
    /// A JSON array of objects.
    Json,
}

fn parse_label(text: &str) -> Result<(String, String), String> {
    runlens_ingest::schema::Labels::parse_pair(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn labels_parse_as_pairs() {
        let cli = Cli::try_parse_from([
            "runlens",
            "ingest",
            "x",
            "--label",
            "provider=ollama",
            "--label",
            "model=a=b",
        ])
        .expect("parses");
        let Command::Ingest(args) = cli.command else {
            panic!("ingest expected");
        };
        assert_eq!(args.labels[1], ("model".to_string(), "a=b".to_string()));
        assert!(Cli::try_parse_from(["runlens", "ingest", "x", "--label", "bad"]).is_err());
    }
}
