//! `runlens compact` and `runlens vacuum`: keeping a dataset that many writers fill in few
//! files, and without the files nobody reads any more.

use runlens_ingest::Dataset;
use runlens_ingest::dataset::{CompactOptions, VacuumOptions};
use runlens_ingest::schema::Table;

use super::{Outcome, UsageError, print_stdout};
use crate::cli::{CompactArgs, VacuumArgs};

/// `runlens compact`.
pub fn compact(dataset: &Dataset, args: CompactArgs) -> anyhow::Result<Outcome> {
    let tables = args
        .tables
        .iter()
        .map(|name| {
            Table::ALL
                .into_iter()
                .find(|t| t.name() == name)
                .ok_or_else(|| {
                    let names: Vec<&str> = Table::ALL.iter().map(|t| t.name()).collect();
                    UsageError(format!(
                        "--table {name}: no such table; tables: {}",
                        names.join(", ")
                    ))
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let summary = dataset.compact(&CompactOptions {
        tables,
        before: args.before,
        target_bytes: args.target_size,
    })?;
    let text = match summary.sequence {
        None => format!(
            "nothing to compact in {}: no partition has two files below the target size.\n",
            dataset.location()
        ),
        Some(sequence) => format!(
            "compacted {} partition(s) of {}: {} files ({}) into {} ({}), {} rows; commit {sequence}.\n\
             The replaced files stay for readers until `runlens vacuum` deletes them.\n",
            summary.partitions,
            dataset.location(),
            summary.files_in,
            runlens_reports::units::format_bytes(summary.bytes_in as i64),
            summary.files_out,
            runlens_reports::units::format_bytes(summary.bytes_out as i64),
            summary.rows,
        ),
    };
    print_stdout(&text)?;
    Ok(Outcome::Success)
}

/// `runlens vacuum`.
pub fn vacuum(dataset: &Dataset, args: VacuumArgs) -> anyhow::Result<Outcome> {
    let summary = dataset.vacuum(&VacuumOptions {
        grace: args.older_than,
        dry_run: args.dry_run,
    })?;
    let verb = if args.dry_run {
        "would delete"
    } else {
        "deleted"
    };
    let text = format!(
        "{verb} {} uncommitted file(s), {} file(s) replaced by compaction and {} leftover(s) of \
         interrupted writers ({}); {} file(s) younger than {}s kept.\n",
        summary.uncommitted,
        summary.replaced,
        summary.staging,
        runlens_reports::units::format_bytes(summary.bytes as i64),
        summary.within_grace,
        args.older_than.as_secs(),
    );
    print_stdout(&text)?;
    Ok(Outcome::Success)
}
