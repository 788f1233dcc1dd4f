//! Command-line types (clap derive) and nothing else: each command's flags are turned into
//! the library crates' option structs before any work starts.
//!
//! Why one file of some 650 lines: it is the whole command-line surface, read top to bottom
//! as the reference of every flag, and holds no logic (clap derive types and their value
//! parsers); splitting it per command would scatter the shared arguments.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use runlens_ingest::dataset::DataLocation;
use runlens_ingest::schema::Timestamp;

/// Record, ingest and analyse LLM agent workflow benchmarks as one Parquet dataset.
#[derive(Debug, Parser)]
#[command(name = "runlens", version, about, max_term_width = 100)]
pub struct Cli {
    /// The dataset: a directory (a path, or file:///path), or an object-store URL
    /// (s3://bucket/prefix, gs://bucket/prefix, az://container/prefix; credentials from the
    /// environment, see docs/dataset-format.md).
    #[arg(
        long,
        global = true,
        env = "RUNLENS_DATA",
        default_value = "runlens-data",
        value_parser = DataLocation::parse
    )]
    pub data: DataLocation,

    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// runlens commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read benchmark artifacts (time outputs, run logs, benchmark JSON, latency CSV) into the dataset.
    Ingest(IngestArgs),
    /// Run a command N times (after warm-ups), measuring time, memory, phases and outputs.
    Record(RecordArgs),
    /// Check agent session transcripts for runs that did nothing (zero tool calls, system only, ...).
    Validate(ValidateArgs),
    /// Token totals of the ingested agent sessions, per session or per day.
    Sessions(SessionsArgs),
    /// Statistics of every metric per group and phase: mean, stddev, percentiles, 95% CI, outliers.
    Analyze(AnalyzeArgs),
    /// Baseline vs candidate per metric: medians, ratio with bootstrap CI, Mann-Whitney p, verdict.
    Compare(CompareArgs),
    /// Memory growth across repeated runs and within runs, with a leak verdict.
    Memory(MemoryArgs),
    /// List the price table in use (USD per million tokens per model).
    Prices(PricesArgs),
    /// What a request costs with a model, per day, week, month and year.
    Cost(CostArgs),
    /// Drive an LLM provider directly: TTFT, inter-chunk latency, tokens/s and usage per model.
    Probe(ProbeArgs),
    /// The benchmark report: verdict, findings, per-phase table, targets, costs, configuration.
    Report(ReportArgs),
    /// Run SQL over the dataset's tables (runs, phases, llm_calls, bench_results, ingest_log, ...).
    Query(QueryArgs),
    /// Print the statements that make the dataset's committed tables views in Spark, DuckDB or Trino.
    Sql(SqlArgs),
    /// Rewrite each partition's small files into few large ones (readers see the old set or the new).
    Compact(CompactArgs),
    /// Delete files no commit names and files compaction replaced, after a grace period.
    Vacuum(VacuumArgs),
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

    /// Session validation expectations (stored on `sessions`).
    #[command(flatten)]
    pub expectations: SessionExpectations,

    /// Leave out files last modified before this date (YYYY-MM-DD, YYYYMMDD or ISO 8601)
    /// without opening them; the files read are stored whole.
    #[arg(long, value_name = "DATE", value_parser = parse_since)]
    pub since: Option<Timestamp>,
}

/// `--since` / `--until` of the commands that look at a time window.
#[derive(Debug, Clone, clap::Args)]
pub struct WindowArgs {
    /// Only activity on or after this date (YYYY-MM-DD, YYYYMMDD or ISO 8601, UTC).
    #[arg(long, value_name = "DATE", value_parser = parse_since)]
    pub since: Option<Timestamp>,

    /// Only activity on or before this date (a bare date includes the whole day).
    #[arg(long, value_name = "DATE", value_parser = parse_until)]
    pub until: Option<Timestamp>,
}

impl WindowArgs {
    /// The library's window.
    pub fn to_window(&self) -> runlens_ingest::window::TimeWindow {
        runlens_ingest::window::TimeWindow {
            since: self.since,
            until: self.until,
        }
    }
}

fn parse_since(text: &str) -> Result<Timestamp, String> {
    runlens_ingest::window::parse_bound(text, false)
}

fn parse_until(text: &str) -> Result<Timestamp, String> {
    runlens_ingest::window::parse_bound(text, true)
}

/// What a session must contain, for validation.
#[derive(Debug, Clone, clap::Args)]
pub struct SessionExpectations {
    /// Flag sessions with fewer structured tool calls than this (`too_few_tool_calls`).
    #[arg(long, value_name = "N")]
    pub min_tool_calls: Option<u32>,

    /// A tool every session must call (repeatable; `missing_expected_tool`).
    #[arg(long = "expect-tool", value_name = "NAME")]
    pub expect_tools: Vec<String>,

    /// Every session is expected to call tools: one that called none is an error
    /// (`zero_tool_calls`) rather than a warning (`no_tool_calls`, tools only available).
    #[arg(long)]
    pub expect_tool_calls: bool,

    /// Sessions labelled KEY=VALUE are expected to call tools (repeatable): labels found in
    /// the input, and at ingest the batch's --label.
    #[arg(long, value_name = "KEY=VALUE", value_parser = parse_label)]
    pub expect_tool_calls_where: Vec<(String, String)>,
}

impl SessionExpectations {
    /// The library's validation options.
    pub fn to_options(&self) -> runlens_ingest::sessions::ValidationOptions {
        runlens_ingest::sessions::ValidationOptions {
            min_tool_calls: self.min_tool_calls,
            expected_tools: self.expect_tools.clone(),
            expect_tool_calls: self.expect_tool_calls,
            expect_tool_calls_where: self.expect_tool_calls_where.clone(),
            batch_labels: Vec::new(),
        }
    }
}

/// Arguments of `runlens validate`.
#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// Transcript files, directories (read recursively) and globs. With none, the agents'
    /// own folders (see --discover).
    #[arg(value_name = "PATH")]
    pub paths: Vec<String>,

    /// Also read the agents' own folders: CLAUDE_CONFIG_DIR (else ~/.config/claude/projects
    /// and ~/.claude/projects) and CODEX_HOME/sessions (else ~/.codex/sessions).
    #[arg(long)]
    pub discover: bool,

    /// Expectations.
    #[command(flatten)]
    pub expectations: SessionExpectations,

    /// Time window: files older than `--since` are not opened, sessions outside are left out.
    #[command(flatten)]
    pub window: WindowArgs,

    /// Under each session, one line per agent (main, sub-agents, compaction and warm-up
    /// agents) with its own counts, status and findings.
    #[arg(long)]
    pub agents: bool,

    /// Output format.
    #[arg(long, value_enum, default_value_t = ValidateFormat::Table)]
    pub format: ValidateFormat,
}

/// How `runlens validate` prints its findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ValidateFormat {
    /// A terminal table, one row per finding.
    Table,
    /// A JSON array, one object per session.
    Json,
}

/// Arguments of `runlens record`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  runlens record --runs 3 --warmup 1 --label provider=ollama \\\n    --expect 'out/*.md' --output-dir . -- ./workflow.sh"
)]
pub struct RecordArgs {
    /// Counted runs.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..))]
    pub runs: u32,

    /// Warm-up runs before the counted ones (written, flagged `is_warmup`, not counted).
    #[arg(long, default_value_t = 0)]
    pub warmup: u32,

    /// Shell command run before each run (a failure stops the recording).
    #[arg(long, value_name = "CMD")]
    pub prepare: Option<String>,

    /// Shell command run after each run, after its outputs were checked.
    #[arg(long, value_name = "CMD")]
    pub cleanup: Option<String>,

    /// Seconds to wait between runs.
    #[arg(long, value_name = "SECS", default_value_t = 0.0, value_parser = parse_seconds)]
    pub cooldown: f64,

    /// Seconds after which a run's process tree is stopped and the run marked timed out.
    #[arg(long, value_name = "SECS", value_parser = parse_seconds)]
    pub timeout: Option<f64>,

    /// Stop at the first failing run (default: record failures and go on).
    #[arg(long)]
    pub fail_fast: bool,

    /// Milliseconds between samples of the process tree's CPU, memory and threads; 0 turns
    /// sampling off.
    #[arg(long, value_name = "MS", default_value_t = 100)]
    pub sample_interval: u64,

    /// Regex marking phase starts in the command's output; needs a `(?P<name>...)` group.
    /// `::runlens phase NAME` marker lines are always read.
    #[arg(long, value_name = "REGEX")]
    pub phase_regex: Option<String>,

    /// An output each run must produce, as a glob relative to --output-dir (repeatable).
    #[arg(long = "expect", value_name = "GLOB")]
    pub expect: Vec<String>,

    /// Directory the --expect globs are relative to (default: the working directory).
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,

    /// Label every row written with key=value (repeatable): provider, model, version...
    #[arg(long = "label", value_name = "KEY=VALUE", value_parser = parse_label)]
    pub labels: Vec<(String, String)>,

    /// How CPU time and peak RSS are measured.
    #[arg(long, value_enum, default_value_t = AccountingArg::Auto)]
    pub accounting: AccountingArg,

    /// Do not echo the command's output (it is still read for phases).
    #[arg(long)]
    pub hide_output: bool,

    /// Save each run's output, redacted and timestamped, as DIR/<run_id>.log.
    #[arg(long, value_name = "DIR")]
    pub save_output: Option<PathBuf>,

    /// Record every LLM call through a local proxy: the child's OPENAI_BASE_URL,
    /// OPENAI_API_BASE, ANTHROPIC_BASE_URL, OLLAMA_HOST and GOOGLE_GEMINI_BASE_URL point at it.
    #[arg(long)]
    pub capture: bool,

    /// Where the proxy forwards a provider's calls (repeatable), as that provider's base URL:
    /// openai=http://127.0.0.1:8080/v1. Default: the official endpoints.
    #[arg(long = "upstream", value_name = "PROVIDER=URL", value_parser = parse_label, requires = "capture")]
    pub upstreams: Vec<(String, String)>,

    /// The command to record, after `--`.
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<String>,
}

/// `--accounting` choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AccountingArg {
    /// `/usr/bin/time` (GNU -v, BSD -l) when present, else the kernel's rusage.
    Auto,
    /// `/usr/bin/time`; an error if it is missing.
    Time,
    /// The kernel's rusage of the reaped child (wait4).
    Rusage,
}

/// Arguments of `runlens sessions`.
#[derive(Debug, clap::Args)]
pub struct SessionsArgs {
    /// Transcript files or folders to read directly, into a temporary dataset (the --data
    /// dataset is neither read nor changed). With none and no dataset, the agents' own
    /// folders are read (see --discover).
    #[arg(value_name = "PATH")]
    pub paths: Vec<String>,

    /// Also read the agents' own folders: CLAUDE_CONFIG_DIR (else ~/.config/claude/projects
    /// and ~/.claude/projects) and CODEX_HOME/sessions (else ~/.codex/sessions).
    #[arg(long)]
    pub discover: bool,

    /// One row per UTC day instead of one per session.
    #[arg(long)]
    pub daily: bool,

    /// Totals per model, provider, format or label:KEY instead of per session (per day
    /// and value with --daily).
    #[arg(long, value_name = "GROUPING", value_parser = runlens_analysis::sessions::Grouping::parse)]
    pub by: Option<runlens_analysis::sessions::Grouping>,

    /// Time window: sessions whose activity overlaps it; days inside it.
    #[command(flatten)]
    pub window: WindowArgs,

    /// Under each session, one row per agent (the main agent, sub-agents, compaction and
    /// warm-up agents), whose figures add up to the session's.
    #[arg(long, conflicts_with_all = ["daily", "by"])]
    pub agents: bool,

    /// A price file for the cost column instead of the bundled snapshot (runlens TOML or
    /// LiteLLM JSON).
    #[arg(long, value_name = "FILE")]
    pub prices: Option<PathBuf>,

    /// Which engine sums the tokens and lists the sessions.
    #[command(flatten)]
    pub engine: EngineArgs,

    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,

    /// Compute the answer even when the same question was asked of the same committed
    /// files before (whose answer is otherwise printed from _runlens/results), and store
    /// nothing.
    #[arg(long, env = "RUNLENS_NO_CACHE")]
    pub no_cache: bool,
}

/// Arguments of `runlens analyze`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  runlens analyze --by provider,model --phase\n  runlens analyze --by version --filter provider=ollama --outliers mad --drop-outliers --format json"
)]
pub struct AnalyzeArgs {
    /// Group by these keys (comma-separated or repeated): a column of the table
    /// (provider, source, ...), model, or a label (version, ...).
    #[arg(long, value_name = "KEY,...", value_delimiter = ',')]
    pub by: Vec<String>,

    /// Also one row per phase for phase times, phase tokens and LLM-call metrics.
    #[arg(long)]
    pub phase: bool,

    /// Keep only observations whose key equals the value (repeatable).
    #[arg(long = "filter", value_name = "KEY=VALUE", value_parser = parse_label)]
    pub filters: Vec<(String, String)>,

    /// How outliers are recognised: sd (beyond 3 standard deviations), iqr (1.5 IQR), mad
    /// (modified z-score above 3.5).
    #[arg(long, value_enum, default_value_t = OutlierArg::Sd)]
    pub outliers: OutlierArg,

    /// Remove the outliers before computing the statistics (they are always counted).
    #[arg(long)]
    pub drop_outliers: bool,

    /// Judge the figures against targets (TOML): PASS / ACCEPTABLE / FAIL per cell, and an
    /// overall verdict (exit 1 when it fails).
    #[arg(long, value_name = "FILE")]
    pub targets: Option<PathBuf>,

    /// A price file for the cost metric instead of the bundled snapshot (runlens TOML or
    /// LiteLLM JSON).
    #[arg(long, value_name = "FILE")]
    pub prices: Option<PathBuf>,

    /// Workflows (recorded runs) a day for the cost projection per day, week, month and year.
    #[arg(long, value_name = "K", default_value_t = 10)]
    pub workflows_per_day: u64,

    /// Which engine computes the statistics.
    #[command(flatten)]
    pub engine: EngineArgs,

    /// With --engine spark: approximate percentiles (percentile_approx, accuracy 10000)
    /// instead of exact ones; the output says so.
    #[arg(long)]
    pub approx: bool,

    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

/// Which engine computes an analysis (docs/cluster.md).
#[derive(Debug, Clone, clap::Args)]
pub struct EngineArgs {
    /// local: the embedded engine (polars, this process); spark: Apache Spark through its
    /// spark-sql command (same figures, computed on the cluster --spark-master names).
    #[arg(long, value_enum, default_value_t = EngineArg::Local, env = "RUNLENS_ENGINE")]
    pub engine: EngineArg,

    /// Spark's master: `local[*]`, `local[2]`, `yarn`, `k8s://https://HOST:PORT`, `spark://HOST:7077`.
    #[arg(
        long,
        value_name = "URL",
        default_value = "local[*]",
        env = "RUNLENS_SPARK_MASTER"
    )]
    pub spark_master: String,

    /// The spark-sql program (default: $SPARK_HOME/bin/spark-sql, else spark-sql on PATH).
    #[arg(long, value_name = "PATH", env = "RUNLENS_SPARK_SQL")]
    pub spark_sql: Option<PathBuf>,

    /// A Spark setting passed as --conf KEY=VALUE (repeatable): executors, the object store's
    /// credentials provider, ...
    #[arg(long = "spark-conf", value_name = "KEY=VALUE", value_parser = parse_conf)]
    pub spark_conf: Vec<(String, String)>,

    /// The dataset's location as Spark names it (default: from --data; s3:// is read as s3a://).
    #[arg(long, value_name = "URL")]
    pub spark_root: Option<String>,
}

/// `--engine`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EngineArg {
    /// The embedded polars engine.
    Local,
    /// Apache Spark, through spark-sql.
    Spark,
}

/// `--outliers`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutlierArg {
    /// Beyond 3 sample standard deviations from the mean.
    Sd,
    /// Beyond 1.5 interquartile ranges outside the quartiles.
    Iqr,
    /// Modified z-score (median absolute deviation) above 3.5.
    Mad,
}

/// Arguments of `runlens compare`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  runlens compare --baseline version=1.4 --candidate version=1.5\n  runlens compare --baseline provider=ollama --candidate provider=anthropic --metric ttft\n  runlens compare --baseline cache=off --candidate cache=on --expect-speedup 10x"
)]
pub struct CompareArgs {
    /// The baseline: KEY=VALUE[,KEY=VALUE] (columns, model or labels), or saved:NAME.
    #[arg(long, value_name = "FILTER", value_parser = runlens_analysis::compare::GroupSpec::parse)]
    pub baseline: runlens_analysis::compare::GroupSpec,

    /// The candidate: KEY=VALUE[,KEY=VALUE].
    #[arg(long, value_name = "FILTER", value_parser = runlens_analysis::compare::GroupSpec::parse)]
    pub candidate: Option<runlens_analysis::compare::GroupSpec>,

    /// Only these metrics (repeatable): wall_time, cpu_time, peak_memory, phase_time, ttft, ...
    #[arg(long = "metric", value_name = "NAME")]
    pub metrics: Vec<String>,

    /// Also compare per phase.
    #[arg(long)]
    pub phase: bool,

    /// Smallest change that counts as better or worse, e.g. 5% (or 0.05).
    #[arg(long, value_name = "PERCENT", default_value = "5%", value_parser = parse_percent)]
    pub threshold: f64,

    /// Check a claim: the candidate is this many times faster (e.g. 10x) on the first
    /// --metric (wall_time by default).
    #[arg(long, value_name = "FACTOR", value_parser = parse_factor)]
    pub expect_speedup: Option<f64>,

    /// Save the baseline group's figures under this name (compare later with saved:NAME).
    #[arg(long, value_name = "NAME")]
    pub save_baseline: Option<String>,

    /// A price file for the cost metrics instead of the bundled snapshot (runlens TOML or
    /// LiteLLM JSON). A saved baseline keeps the costs it was saved with.
    #[arg(long, value_name = "FILE")]
    pub prices: Option<PathBuf>,

    /// Which engine measures the groups (Spark sends back each metric's distinct values
    /// and their counts; the statistics are computed here either way).
    #[command(flatten)]
    pub engine: EngineArgs,

    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

fn parse_percent(text: &str) -> Result<f64, String> {
    let t = text.trim();
    let value = match t.strip_suffix('%') {
        Some(p) => p.trim().parse::<f64>().map(|v| v / 100.0),
        None => t.parse::<f64>(),
    }
    .map_err(|_| format!("{text:?}: a percentage like 5% or a fraction like 0.05"))?;
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(format!("{text:?}: must be zero or positive"))
    }
}

fn parse_factor(text: &str) -> Result<f64, String> {
    let t = text.trim();
    let value = t
        .strip_suffix(['x', 'X'])
        .unwrap_or(t)
        .parse::<f64>()
        .map_err(|_| format!("{text:?}: a factor like 10x"))?;
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(format!("{text:?}: must be positive"))
    }
}

/// Arguments of `runlens memory`.
#[derive(Debug, clap::Args)]
pub struct MemoryArgs {
    /// Group by these keys (as `analyze --by`).
    #[arg(long, value_name = "KEY,...", value_delimiter = ',')]
    pub by: Vec<String>,

    /// Keep only runs whose key equals the value (repeatable).
    #[arg(long = "filter", value_name = "KEY=VALUE", value_parser = parse_label)]
    pub filters: Vec<(String, String)>,

    /// Growth from the first to the last run that flags a leak, e.g. 10%.
    #[arg(long, value_name = "PERCENT", default_value = "10%", value_parser = parse_percent)]
    pub threshold: f64,

    /// Which engine reads the runs and reduces the samples to each run's slope.
    #[command(flatten)]
    pub engine: EngineArgs,

    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

/// Arguments of `runlens prices`.
#[derive(Debug, clap::Args)]
pub struct PricesArgs {
    /// A price file instead of the bundled snapshot: runlens TOML or LiteLLM's
    /// model_prices_and_context_window.json.
    #[arg(long, value_name = "FILE")]
    pub prices: Option<PathBuf>,
}

/// Arguments of `runlens cost`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  runlens cost --model claude-sonnet-4-5 --input-tokens 30000 --output-tokens 4000 --per-day 10"
)]
pub struct CostArgs {
    /// The model (normalised: provider prefixes and date suffixes are ignored).
    #[arg(long)]
    pub model: String,

    /// Its provider, when the name alone is ambiguous.
    #[arg(long)]
    pub provider: Option<String>,

    /// Uncached input tokens per request.
    #[arg(long, value_name = "N")]
    pub input_tokens: u64,

    /// Output tokens per request (reasoning included).
    #[arg(long, value_name = "N")]
    pub output_tokens: u64,

    /// Input tokens read from the prompt cache per request.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub cache_read_tokens: u64,

    /// Input tokens written to the prompt cache per request (5-minute lifetime).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub cache_write_tokens: u64,

    /// Of the cache writes, those with a 1-hour lifetime.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub cache_write_1h_tokens: u64,

    /// Requests (workflows) per day, for the projections.
    #[arg(long, value_name = "K", default_value_t = 10)]
    pub per_day: u64,

    /// A price file instead of the bundled snapshot.
    #[arg(long, value_name = "FILE")]
    pub prices: Option<PathBuf>,
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

/// Arguments of `runlens sql`.
#[derive(Debug, clap::Args)]
pub struct SqlArgs {
    /// The engine the statements are for.
    #[arg(long, value_enum)]
    pub dialect: SqlDialect,

    /// The dataset's location as the engine names it, when it differs from --data (a
    /// cluster's mount, abfss://container@account.dfs.core.windows.net/path, ...).
    #[arg(long, value_name = "URL")]
    pub root: Option<String>,

    /// Trino: the catalog.schema (a Hive catalog) the tables and views are created in.
    #[arg(long, value_name = "CATALOG.SCHEMA", default_value = "hive.runlens")]
    pub trino_schema: String,
}

/// An engine `runlens sql` writes statements for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SqlDialect {
    /// Apache Spark SQL (temporary views).
    Spark,
    /// DuckDB (views over read_parquet).
    Duckdb,
    /// Trino with a Hive catalog (external tables, views of the committed files).
    Trino,
}

/// Arguments of `runlens compact`.
#[derive(Debug, clap::Args)]
pub struct CompactArgs {
    /// Only this table (repeatable; default: every table).
    #[arg(long = "table", value_name = "TABLE")]
    pub tables: Vec<String>,

    /// Only partitions of days before this one (YYYY-MM-DD, UTC).
    #[arg(long, value_name = "DATE", value_parser = parse_day)]
    pub before: Option<String>,

    /// Size of the files to write (128MB, 1GB, ...): small files are merged into files of
    /// about this size; files at least this large are left alone.
    #[arg(long, value_name = "SIZE", default_value = "128MB", value_parser = parse_size)]
    pub target_size: u64,
}

/// Arguments of `runlens vacuum`.
#[derive(Debug, clap::Args)]
pub struct VacuumArgs {
    /// Keep files younger than this (30s, 10m, 1h, 2d): a writer may be about to commit
    /// them, a reader may still be reading files a compaction replaced.
    #[arg(long, value_name = "AGE", default_value = "1h", value_parser = parse_age)]
    pub older_than: std::time::Duration,

    /// Only say what would be deleted.
    #[arg(long)]
    pub dry_run: bool,
}

/// `YYYY-MM-DD`.
fn parse_day(value: &str) -> Result<String, String> {
    chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .map(|d| d.format("%Y-%m-%d").to_string())
        .map_err(|_| format!("{value}: not a day (YYYY-MM-DD)"))
}

/// A size with a unit: `128MB`, `1GB`, `512KB`, `4096` (bytes); units are powers of 1024.
fn parse_size(value: &str) -> Result<u64, String> {
    let upper = value.trim().to_ascii_uppercase();
    let digits = upper.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let factor: u64 = match upper[digits.len()..]
        .trim_end_matches("IB")
        .trim_end_matches('B')
    {
        "" => 1,
        "K" => 1 << 10,
        "M" => 1 << 20,
        "G" => 1 << 30,
        _ => return Err(format!("{value}: not a size (128MB, 1GB, ...)")),
    };
    match digits.trim().parse::<u64>() {
        Ok(n) if n > 0 => Ok(n * factor),
        _ => Err(format!("{value}: not a size (128MB, 1GB, ...)")),
    }
}

/// An age with a unit: `30s`, `10m`, `1h`, `2d`.
fn parse_age(value: &str) -> Result<std::time::Duration, String> {
    let value = value.trim();
    let split = value.len().saturating_sub(1);
    let (digits, unit) = value.split_at(split);
    let seconds: u64 = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("{value}: not an age (30s, 10m, 1h, 2d)")),
    };
    digits
        .parse::<u64>()
        .map(|n| std::time::Duration::from_secs(n * seconds))
        .map_err(|_| format!("{value}: not an age (30s, 10m, 1h, 2d)"))
}

#[cfg(test)]
mod maintenance_arg_tests {
    use super::*;

    #[test]
    fn sizes_and_ages_read_their_units() {
        assert_eq!(parse_size("128MB"), Ok(128 << 20));
        assert_eq!(parse_size("1gb"), Ok(1 << 30));
        assert_eq!(parse_size("64KiB"), Ok(64 << 10));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert!(parse_size("12XB").is_err() && parse_size("0MB").is_err());
        assert_eq!(parse_age("1h"), Ok(std::time::Duration::from_secs(3600)));
        assert_eq!(parse_age("0s"), Ok(std::time::Duration::ZERO));
        assert!(parse_age("1w").is_err() && parse_age("h").is_err());
        assert_eq!(parse_day("2026-11-30"), Ok("2026-11-30".into()));
        assert!(parse_day("30/11/2026").is_err());
    }
}

/// Arguments of `runlens probe`.
#[derive(Debug, clap::Args)]
pub struct ProbeArgs {
    /// The provider's wire format.
    #[arg(long, value_parser = ["openai", "anthropic", "ollama", "gemini"])]
    pub provider: String,

    /// Its base URL, as the provider's base-URL variable takes it
    /// (http://127.0.0.1:8080/v1 for an OpenAI-compatible server). Default: the official one.
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,

    /// The model to ask.
    #[arg(long, value_name = "MODEL")]
    pub model: String,

    /// A prompt (repeatable); requests use the prompts in turn.
    #[arg(long, value_name = "TEXT", conflicts_with = "prompts")]
    pub prompt: Vec<String>,

    /// A file of prompts: one per line, or JSONL lines with a "prompt" field.
    #[arg(long, value_name = "FILE")]
    pub prompts: Option<PathBuf>,

    /// Requests in all.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    pub requests: u32,

    /// Requests in flight at once.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub concurrency: u32,

    /// Output token limit per request.
    #[arg(long, default_value_t = 256)]
    pub max_tokens: u32,

    /// Ask for streamed replies (the default; TTFT needs them).
    #[arg(long, overrides_with = "no_stream")]
    pub stream: bool,

    /// Ask for whole replies.
    #[arg(long)]
    pub no_stream: bool,

    /// Offer a tool with prompts that need it and report how often the model made a
    /// structured call, wrote the call as text, or answered in prose (exit 1 when unfit).
    #[arg(long)]
    pub check_tools: bool,

    /// Give up on one request after this many seconds.
    #[arg(long, value_name = "SECS", default_value_t = 300.0, value_parser = parse_seconds)]
    pub timeout: f64,

    /// Label every row written with key=value (repeatable).
    #[arg(long = "label", value_name = "KEY=VALUE", value_parser = parse_label)]
    pub labels: Vec<(String, String)>,

    /// Output format of the summary (table or json).
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

/// Arguments of `runlens report`.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// Input files or directories to report on directly: they are ingested into a
    /// temporary dataset (the --data dataset is neither read nor changed).
    #[arg(value_name = "PATH")]
    pub paths: Vec<String>,

    /// Group by these keys (comma-separated or repeated), as `analyze --by`.
    #[arg(long, value_name = "KEY,...", value_delimiter = ',')]
    pub by: Vec<String>,

    /// Keep only observations whose key equals the value (repeatable).
    #[arg(long = "filter", value_name = "KEY=VALUE", value_parser = parse_label)]
    pub filters: Vec<(String, String)>,

    /// Judge against targets (TOML, as `analyze --targets`).
    #[arg(long, value_name = "FILE")]
    pub targets: Option<PathBuf>,

    /// A price file instead of the bundled snapshot (runlens TOML or LiteLLM JSON).
    #[arg(long, value_name = "FILE")]
    pub prices: Option<PathBuf>,

    /// Workflows a day for the cost projections.
    #[arg(long, value_name = "K", default_value_t = 10)]
    pub workflows_per_day: u64,

    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Md)]
    pub format: ReportFormat,

    /// Write the report to this file instead of stdout.
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,

    /// Also write each chart as a PNG image into this directory (created if needed).
    #[arg(long, value_name = "DIR")]
    pub charts: Option<PathBuf>,

    /// A release comparison instead: the baseline, KEY=VALUE[,KEY=VALUE] or saved:NAME
    /// (a baseline saved by `compare --save-baseline`). Needs --candidate.
    #[arg(long, value_name = "FILTER", value_parser = runlens_analysis::compare::GroupSpec::parse, requires = "candidate")]
    pub baseline: Option<runlens_analysis::compare::GroupSpec>,

    /// The release comparison's candidate: KEY=VALUE[,KEY=VALUE].
    #[arg(long, value_name = "FILTER", value_parser = runlens_analysis::compare::GroupSpec::parse, requires = "baseline")]
    pub candidate: Option<runlens_analysis::compare::GroupSpec>,

    /// Release comparison: smallest change that counts as better or worse, e.g. 5%.
    #[arg(long, value_name = "PERCENT", default_value = "5%", value_parser = parse_percent)]
    pub threshold: f64,

    /// Release comparison: only these metrics (repeatable; default every metric).
    #[arg(long = "metric", value_name = "NAME")]
    pub metrics: Vec<String>,

    /// Release comparison: check a claimed speed-up, METRIC=FACTOR (e.g. phase_time=3x,
    /// or 10x for wall_time); repeatable. A claim that does not hold exits 1.
    #[arg(long, value_name = "METRIC=FACTORx", value_parser = runlens_analysis::release::ClaimSpec::parse)]
    pub expect_speedup: Vec<runlens_analysis::release::ClaimSpec>,

    /// Which engine computes the analysis or measures the compared groups (the sections
    /// of runs, sessions and ingested files are read here).
    #[command(flatten)]
    pub engine: EngineArgs,
}

/// Formats of `runlens report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// Markdown.
    Md,
    /// One self-contained HTML page with the charts as SVG.
    Html,
    /// Each table as CSV, headed by `# section`.
    Csv,
    /// JSON.
    Json,
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

fn parse_seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!("'{text}' is not a number of seconds (>= 0)")),
    }
}

fn parse_conf(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.trim().is_empty() => {
            Ok((key.trim().to_string(), value.to_string()))
        }
        _ => Err(format!("{text:?}: expected KEY=VALUE")),
    }
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

    #[test]
    fn record_takes_the_command_after_double_dash() {
        let cli = Cli::try_parse_from([
            "runlens", "record", "--runs", "2", "--", "sh", "-c", "echo hi", "--runs",
        ])
        .expect("parses");
        let Command::Record(args) = cli.command else {
            panic!("record expected");
        };
        assert_eq!(args.runs, 2);
        assert_eq!(args.command, ["sh", "-c", "echo hi", "--runs"]);
        assert!(Cli::try_parse_from(["runlens", "record", "--runs", "0", "--", "x"]).is_err());
        assert!(Cli::try_parse_from(["runlens", "record", "--timeout", "-1", "--", "x"]).is_err());
    }
}
