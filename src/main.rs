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

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
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
