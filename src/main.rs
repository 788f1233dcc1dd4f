//! The `runlens` binary: parse the command line, run the command, map the outcome to the
//! documented exit status (docs/exit-codes.md).

mod app;
mod capture;
mod cli;
mod commands;
mod probe;
mod progress;
mod record;
mod result_cache;

use std::process::ExitCode;

use clap::Parser;

// Parsing allocates many small values (strings, label maps) on every thread; with mimalloc
// peak memory is lower and steadier than with glibc's malloc (docs/benchmarks.md). Built
// without transparent huge pages (Cargo.toml's `no_thp`): faster analyses, less memory.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Keeps memory freed to the C library's heap for reuse instead of handing it back to the
/// kernel at every free. zstd, which compresses the Parquet files, allocates a context for
/// every column chunk written through the C `malloc` (not mimalloc), and glibc trimmed the
/// top of its heap whenever 128 KiB lay free there: the next context faulted fresh zeroed
/// pages in again, a third of ingest's page faults (docs/benchmarks.md). Up to 256 MiB
/// stay mapped; what zstd holds at once is a few MiB, and peak RSS did not change.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn keep_freed_c_heap() {
    // SAFETY: mallopt only sets an allocator tunable; called before any thread starts.
    unsafe {
        libc::mallopt(libc::M_TRIM_THRESHOLD, 256 << 20);
    }
}

/// How many files of a dataset on object storage polars reads at once: the footers it
/// fetches ahead (`POLARS_NUM_READERS_PRE_INIT`) and the files it scans together
/// (`POLARS_MAX_CONCURRENT_SCANS`). Polars sizes both from the core count (5 and 2 on two
/// cores), which suits local files; on a bucket every file costs three round trips (`HEAD`,
/// footer, columns), and waiting on them two files at a time made `sessions --daily` over
/// 71 files 30 ms away take 1.4 s instead of 0.8 s, with the same peak memory
/// (docs/benchmarks.md, "Reading a dataset on object storage").
const OBJECT_STORE_READERS: [(&str, &str); 2] = [
    ("POLARS_NUM_READERS_PRE_INIT", "32"),
    ("POLARS_MAX_CONCURRENT_SCANS", "16"),
];

/// Sets [`OBJECT_STORE_READERS`] when the dataset is on object storage, unless the user set
/// them. Polars reads them from the environment at every scan; there is no other setting.
fn read_object_storage_files_concurrently(data: &runlens_ingest::dataset::DataLocation) {
    if !matches!(data, runlens_ingest::dataset::DataLocation::Object { .. }) {
        return;
    }
    for (name, value) in OBJECT_STORE_READERS {
        if std::env::var_os(name).is_none() {
            // SAFETY: called from `main` before any thread starts: nothing reads the
            // environment concurrently.
            unsafe { std::env::set_var(name, value) };
        }
    }
}

fn main() -> ExitCode {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    keep_freed_c_heap();
    let cli = cli::Cli::parse();
    read_object_storage_files_concurrently(&cli.data);
    match app::run(cli) {
        Ok(commands::Outcome::Success) => ExitCode::SUCCESS,
        Ok(commands::Outcome::Rejected) => ExitCode::from(1),
        Ok(commands::Outcome::Interrupted(signal)) => {
            ExitCode::from(u8::try_from(128 + signal).unwrap_or(130))
        }
        Err(error) => {
            eprintln!("runlens: error: {error:#}");
            if error.downcast_ref::<commands::UsageError>().is_some() {
                ExitCode::from(2)
            } else {
                ExitCode::from(3)
            }
        }
    }
}
