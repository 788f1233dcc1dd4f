//! Integration tests: the `runlens` binary run on `sample-data/` and on files generated
//! in temporary directories, checked against hand-computed values and the dataset itself.

mod analyze;
mod bad_input;
mod capture;
mod common;
mod durability;
mod ingest;
mod query;
mod record;
mod release;
mod report;
mod result_cache;
mod validate;
mod views;
