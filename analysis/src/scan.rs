//! Lazy access to the dataset's tables: one polars `LazyFrame` per table.
//!
//! Each table is scanned with hive partitioning, so the `date` partition column appears
//! and filters on it prune whole folders. A table with no files yet is an empty frame with
//! the table's full schema, so queries over an empty dataset return zero rows instead of
//! failing.
//!
//! A reader lists a table's committed files once, at its first scan of the table, and
//! reuses that plan for every later scan: one command sees one consistent set of files
//! (a commit landing meanwhile is seen by the next command), and the commit log is not
//! listed again for every query.
//!
//! Label columns (`label_<key>`) come from what each file's commit recorded when every row
//! of the file carries the same labels, so such files' `labels` maps are not decoded; the
//! other files' maps are read row by row ([`crate::labels`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use arrow_schema::{DataType as ArrowType, TimeUnit as ArrowTimeUnit};
use polars::prelude::*;
use runlens_ingest::Dataset;
use runlens_ingest::dataset::log::AddedFile;
use runlens_ingest::schema::Table;

use crate::error::{AnalysisError, Result};
use crate::labels::{label_column, with_label_columns};

/// Most scans a labelled scan is split into (one per distinct combination of the wanted
/// labels' values); beyond, every file's labels are read row by row instead.
const MAX_LABEL_SCANS: usize = 64;

/// A dataset opened for reading.
#[derive(Clone)]
pub struct DatasetReader {
    dataset: Dataset,
    /// Each table's scan plan over its committed files, made at its first scan.
    plans: Arc<Mutex<HashMap<Table, LazyFrame>>>,
    /// Each table's committed files, listed at its first scan.
    files: Arc<Mutex<HashMap<Table, Arc<Vec<AddedFile>>>>>,
}

impl std::fmt::Debug for DatasetReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatasetReader")
            .field("dataset", &self.dataset)
            .finish_non_exhaustive()
    }
}

impl DatasetReader {
    /// Reads the dataset in the local directory `root`.
    pub fn new(root: impl Into<std::path::PathBuf>) -> Self {
        DatasetReader::open(Dataset::new(root))
    }

    /// Reads `dataset` (a local directory or an object store).
    pub fn open(dataset: Dataset) -> Self {
        DatasetReader {
            dataset,
            plans: Arc::default(),
            files: Arc::default(),
        }
    }

    /// The dataset read.
    pub fn dataset(&self) -> &Dataset {
        &self.dataset
    }

    /// A lazy scan of `table` (empty, with its schema, when the table has no files).
    ///
    /// `sessions` is read as one row per session (`session_id`, `source_format`), its
    /// agents folded into it (see [`fold_agents`]); [`DatasetReader::scan_agents`] reads one
    /// row per agent, [`DatasetReader::scan_all_versions`] every stored row.
    pub fn scan(&self, table: Table) -> Result<LazyFrame> {
        match table {
            Table::Sessions => fold_agents(self.scan_agents()?),
            _ => self.scan_all_versions(table),
        }
    }

    /// The `sessions` table as one row per agent of a session (`session_id`,
    /// `source_format`, `agent_id`): a transcript ingested again after it grew, or a
    /// resumed session's copy, stores another version of the agent's row, and the most
    /// complete one (most messages, then the latest ingest) is the agent.
    pub fn scan_agents(&self) -> Result<LazyFrame> {
        Ok(self
            .scan_all_versions(Table::Sessions)?
            .sort(
                ["message_count", "ingest_id"],
                SortMultipleOptions::default(),
            )
            .unique_stable_generic(
                Some(vec![
                    col("session_id"),
                    col("source_format"),
                    col("agent_id"),
                ]),
                UniqueKeepStrategy::Last,
            ))
    }

    /// A lazy scan of every row `table`'s committed files hold (the files as listed at this
    /// reader's first scan of the table).
    pub fn scan_all_versions(&self, table: Table) -> Result<LazyFrame> {
        let mut plans = self.plans.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(plan) = plans.get(&table) {
            return Ok(plan.clone());
        }
        let plan = self.plan(table)?;
        plans.insert(table, plan.clone());
        Ok(plan)
    }

    /// `table`'s committed files, as listed at this reader's first look at the table.
    pub(crate) fn files(&self, table: Table) -> Result<Arc<Vec<AddedFile>>> {
        let mut files = self.files.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(listed) = files.get(&table) {
            return Ok(listed.clone());
        }
        let listed: Arc<Vec<AddedFile>> = Arc::new(
            self.dataset
                .snapshot()?
                .table_files(table)
                .into_iter()
                .map(|f| f.file.clone())
                .collect(),
        );
        files.insert(table, listed.clone());
        Ok(listed)
    }

    /// This reader with `table` narrowed to the files that may hold rows whose `source` is
    /// `source`: those whose commit recorded their sources with `source` among them, and
    /// those recorded without sources (older writers). For a report that reads only such
    /// rows (the sessions reports read the transcripts' calls): the files of a million
    /// latency-CSV calls beside them are not opened, nor counted when deciding whether the
    /// calls fit in memory. The kept files may hold rows of other sources too, which the
    /// report still filters out; label keys ([`Self::label_keys`]) are those of the kept
    /// files.
    pub fn narrowed_to_source(&self, table: Table, source: &str) -> Result<DatasetReader> {
        let kept: Vec<AddedFile> = self
            .files(table)?
            .iter()
            .filter(|f| f.sources.as_ref().is_none_or(|s| s.contains(source)))
            .cloned()
            .collect();
        let mut files = self.files.lock().unwrap_or_else(|e| e.into_inner()).clone();
        files.insert(table, Arc::new(kept));
        Ok(DatasetReader {
            dataset: self.dataset.clone(),
            plans: Arc::default(),
            files: Arc::new(Mutex::new(files)),
        })
    }

    /// How many rows `table`'s committed files hold (as their commits recorded).
    pub(crate) fn rows(&self, table: Table) -> Result<u64> {
        Ok(self.files(table)?.iter().map(|f| f.rows).sum())
    }

    /// `columns` of every row of `table`'s committed files, read whole into memory: `None`
    /// when the table holds more than `max_rows` rows (as its commits recorded) or is not on
    /// the local file system, where a lazy scan does better. For a small table that a
    /// command runs several statements over. The files are read in parallel, each by
    /// polars' eager Parquet reader: on 36 small files (33,000 rows) that took half the time
    /// of a scan (docs/benchmarks.md). Rows keep the files' commit order; each file is one
    /// piece of each column (joining them into one cost more than it saved).
    pub(crate) fn read_whole(
        &self,
        table: Table,
        columns: &[&str],
        max_rows: u64,
    ) -> Result<Option<DataFrame>> {
        use rayon::prelude::*;
        let Some(root) = self.dataset.local_root() else {
            return Ok(None);
        };
        let files = self.files(table)?;
        if files.iter().map(|f| f.rows).sum::<u64>() > max_rows {
            return Ok(None);
        }
        let wanted: Vec<String> = columns.iter().map(|c| c.to_string()).collect();
        let read = |path: &std::path::Path| {
            std::fs::File::open(path)
                .map_err(PolarsError::from)
                .and_then(|f| {
                    ParquetReader::new(f)
                        .with_columns(Some(wanted.clone()))
                        .finish()
                })
                // Each file's columns in the order asked, whatever order the file has.
                .and_then(|frame| frame.select(columns.iter().copied()))
                .map_err(AnalysisError::polars(format!("reading {}", path.display())))
        };
        let frames: Vec<DataFrame> = files
            .par_iter()
            .map(|file| read(&root.join(&file.path)))
            .collect::<Result<_>>()?;
        let err = || AnalysisError::polars(format!("reading table {}", table.name()));
        let mut frames = frames.into_iter();
        let mut whole = match frames.next() {
            Some(first) => first,
            None => empty_frame(table)
                .select(columns.iter().copied())
                .map_err(err())?,
        };
        for frame in frames {
            whole.vstack_mut_owned(frame).map_err(err())?;
        }
        Ok(Some(whole))
    }

    /// Readers that each see a part of `table`'s committed files (whole files, about
    /// `rows` rows per part, at least one file each), and every other table as this
    /// reader does: for a computation done part by part, its state merged across parts,
    /// so that memory holds one part's rows at a time. This reader alone when the table
    /// fits in one part, and for `sessions` (whose rows are folded across files).
    pub(crate) fn parts(&self, table: Table, rows: u64) -> Result<Vec<DatasetReader>> {
        let files = self.files(table)?;
        let total: u64 = files.iter().map(|f| f.rows).sum();
        if table == Table::Sessions || total <= rows || files.len() < 2 {
            return Ok(vec![self.clone()]);
        }
        let listed = self.files.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let mut parts = Vec::new();
        let mut part: Vec<AddedFile> = Vec::new();
        let mut part_rows = 0u64;
        let mut close = |part: Vec<AddedFile>| {
            let mut files = listed.clone();
            files.insert(table, Arc::new(part));
            parts.push(DatasetReader {
                dataset: self.dataset.clone(),
                plans: Arc::default(),
                files: Arc::new(Mutex::new(files)),
            });
        };
        for file in files.iter() {
            if !part.is_empty() && part_rows + file.rows > rows {
                close(std::mem::take(&mut part));
                part_rows = 0;
            }
            part_rows += file.rows;
            part.push(file.clone());
        }
        if !part.is_empty() {
            close(part);
        }
        Ok(parts)
    }

    /// The scan of `table`'s committed files, as of the dataset's snapshot.
    fn plan(&self, table: Table) -> Result<LazyFrame> {
        let files = self.files(table)?;
        self.scan_files(table, &files.iter().collect::<Vec<_>>())
    }

    /// A scan of `files` of `table`.
    fn scan_files(&self, table: Table, files: &[&AddedFile]) -> Result<LazyFrame> {
        let committed: Vec<PlRefPath> = files
            .iter()
            .map(|f| PlRefPath::new(self.dataset.reader_path(&f.path).as_str()))
            .collect();
        if committed.is_empty() {
            return Ok(empty_frame(table).lazy());
        }
        // Partitions (`date=...`) are read from the path below the table's folder only.
        let table_dir = self.dataset.table_reader_path(table);
        let cloud_options = match CloudScheme::from_path(&table_dir) {
            Some(scheme) if !matches!(scheme, CloudScheme::File | CloudScheme::FileNoHostname) => {
                Some(
                    polars::io::cloud::CloudOptions::from_untyped_config(
                        Some(scheme),
                        self.dataset.reader_options(),
                    )
                    .map_err(AnalysisError::polars(format!(
                        "configuring the reader of {}",
                        self.dataset.location()
                    )))?,
                )
            }
            _ => None,
        };
        let args = ScanArgsParquet {
            hive_options: HiveOptions {
                hive_start_idx: table_dir.len(),
                ..HiveOptions::new_enabled()
            },
            cloud_options,
            ..ScanArgsParquet::default()
        };
        LazyFrame::scan_parquet_files(committed.into_iter().collect(), args).map_err(
            AnalysisError::polars(format!("scanning table {}", table.name())),
        )
    }

    /// The distinct label keys of `table`'s rows, sorted: from the commit records for files
    /// whose rows all share their labels, from the `labels` column for the rest.
    pub fn label_keys(&self, table: Table) -> Result<Vec<String>> {
        if table == Table::Sessions {
            // Every agent's row: a superset of the folded sessions' keys.
            return crate::labels::label_keys(&self.scan_all_versions(table)?);
        }
        let files = self.files(table)?;
        let mut keys = std::collections::BTreeSet::new();
        let mut unknown = Vec::new();
        for file in files.iter() {
            match &file.labels {
                Some(labels) => keys.extend(labels.keys().cloned()),
                None => unknown.push(file),
            }
        }
        if !unknown.is_empty() {
            keys.extend(crate::labels::label_keys(
                &self.scan_files(table, &unknown)?,
            )?);
        }
        Ok(keys.into_iter().collect())
    }

    /// A scan of `table` (as [`DatasetReader::scan`]) with a `label_<key>` column for each
    /// of `keys` (the first key wins when two give the same column name).
    ///
    /// Files whose rows all carry the same labels (recorded in their commit) are scanned
    /// together with each wanted label a constant, one scan per combination of values; the
    /// other files' `labels` maps are read row by row. Row order may differ from
    /// [`DatasetReader::scan`]'s.
    pub fn scan_labelled(&self, table: Table, keys: &[String]) -> Result<LazyFrame> {
        self.scan_labelled_where(table, keys, &[])
    }

    /// [`DatasetReader::scan_labelled`], leaving out files whose recorded labels show that
    /// none of their rows has label `key` equal to `value` for each of `equal` (the caller
    /// still filters the rows: files without a record are all read).
    pub fn scan_labelled_where(
        &self,
        table: Table,
        keys: &[String],
        equal: &[(String, String)],
    ) -> Result<LazyFrame> {
        if keys.is_empty() {
            return self.scan(table);
        }
        if table == Table::Sessions {
            // One row per session folded from its agents' rows: read the folded maps.
            return Ok(with_label_columns(self.scan(table)?, keys));
        }
        let mut wanted: Vec<(&String, String)> = Vec::new();
        for key in keys {
            let name = label_column(key);
            if !wanted.iter().any(|(_, n)| *n == name) {
                wanted.push((key, name));
            }
        }
        let files = self.files(table)?;
        // Files by the values they give the wanted labels (`None`: not recorded).
        let mut groups: std::collections::BTreeMap<Option<Vec<Option<&String>>>, Vec<&AddedFile>> =
            std::collections::BTreeMap::new();
        for file in files.iter() {
            let values = file
                .labels
                .as_ref()
                .map(|labels| wanted.iter().map(|(key, _)| labels.get(*key)).collect());
            groups.entry(values).or_default().push(file);
        }
        let known = groups.keys().filter(|values| values.is_some()).count();
        if known == 0 || groups.len() > MAX_LABEL_SCANS {
            return Ok(with_label_columns(self.scan(table)?, keys));
        }
        // A group whose constant value of a filtered label is another value has no row to keep.
        let excluded = |values: &Vec<Option<&String>>| {
            equal.iter().any(|(key, value)| {
                wanted
                    .iter()
                    .zip(values)
                    .any(|((k, _), v)| *k == key && v.map(String::as_str) != Some(value.as_str()))
            })
        };
        let mut parts = Vec::with_capacity(groups.len());
        for (values, group) in &groups {
            if values.as_ref().is_some_and(excluded) {
                continue;
            }
            let scan = self.scan_files(table, group)?;
            parts.push(match values {
                Some(values) => scan.with_columns(
                    wanted
                        .iter()
                        .zip(values)
                        .map(|((_, name), value)| {
                            let value = match value {
                                Some(v) => lit(v.as_str()),
                                None => lit(NULL).cast(DataType::String),
                            };
                            value.alias(name.as_str())
                        })
                        .collect::<Vec<_>>(),
                ),
                None => with_label_columns(scan, keys),
            });
        }
        if parts.is_empty() {
            return Ok(with_label_columns(empty_frame(table).lazy(), keys));
        }
        polars::prelude::concat(parts, UnionArgs::default()).map_err(AnalysisError::polars(
            format!("scanning table {}", table.name()),
        ))
    }
}

/// `sessions` columns summed over a session's agents.
pub(crate) const SUMMED: [&str; 6] = [
    "message_count",
    "user_messages",
    "assistant_messages",
    "system_messages",
    "tool_calls",
    "tool_errors",
];

/// `sessions` token columns summed over a session's agents (null when no agent reported any).
pub(crate) const TOKENS: [&str; 4] = [
    "input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
];

/// One row per session from one row per agent (`agents`, as [`DatasetReader::scan_agents`]
/// reads them), with the `sessions` columns: the main agent's id, kind, provider, model,
/// finding details, path, ingest and labels (a session whose main agent was not ingested
/// takes its first agent's); messages, tool calls, tool errors and tokens summed over the
/// agents (tokens null when no agent reported any); the earliest start and latest activity;
/// the worst status; every agent's finding codes, each once, the main agent's first.
///
/// Collected here: a dataset holds few sessions next to its calls, and the codes are
/// merged in Rust.
pub fn fold_agents(agents: LazyFrame) -> Result<LazyFrame> {
    const MAIN_AGENTS: [&str; 9] = [
        "agent_id",
        "agent_kind",
        "provider",
        "model",
        "finding_details",
        "source_path",
        "ingest_id",
        "labels",
        "date",
    ];
    let err = || AnalysisError::polars("folding the sessions' agents");
    let mut aggregates: Vec<Expr> = Vec::new();
    aggregates.extend(SUMMED.map(|c| col(c).sum()));
    aggregates.extend(TOKENS.map(|c| {
        when(col(c).is_not_null().any(true))
            .then(col(c).sum())
            .otherwise(lit(NULL).cast(DataType::Int64))
            .alias(c)
    }));
    aggregates.push(col("started_ts").min());
    aggregates.push(col("last_activity_ts").max());
    aggregates.extend(MAIN_AGENTS.map(|c| col(c).first()));
    let status = |v: &str| col("validation_status").eq(lit(v)).any(true);
    aggregates.push(
        when(status("error"))
            .then(lit("error"))
            .when(status("warning"))
            .then(lit("warning"))
            .otherwise(col("validation_status").first())
            .alias("validation_status"),
    );
    aggregates.push(col("findings"));
    let mut frame = agents
        // The main agent (no agent id) first in each session.
        .sort(
            ["agent_id"],
            SortMultipleOptions::default()
                .with_nulls_last(false)
                .with_maintain_order(true),
        )
        .group_by_stable([col("session_id"), col("source_format")])
        .agg(aggregates)
        .collect()
        .map_err(err())?;
    let lists = frame
        .column("findings")
        .and_then(|c| c.list().cloned())
        .map_err(err())?;
    let codes: Vec<Option<String>> = (0..lists.len())
        .map(|i| {
            let agents = lists.get_as_series(i);
            let mut codes: Vec<String> = Vec::new();
            if let Some(values) = agents.as_ref().and_then(|s| s.str().ok()) {
                for code in values.iter().flatten().flat_map(|v| v.split(',')) {
                    if !code.is_empty() && !codes.iter().any(|c| c == code) {
                        codes.push(code.to_string());
                    }
                }
            }
            (!codes.is_empty()).then(|| codes.join(","))
        })
        .collect();
    frame
        .with_column(Column::new("findings".into(), codes))
        .map_err(err())?;
    let mut order: Vec<Expr> = Table::Sessions
        .schema()
        .fields()
        .iter()
        .map(|f| col(f.name().as_str()))
        .collect();
    order.push(col("date"));
    Ok(frame.lazy().select(order))
}

/// An empty frame with `table`'s columns, the `date` partition column included.
fn empty_frame(table: Table) -> DataFrame {
    let mut columns: Vec<Column> = table
        .schema()
        .fields()
        .iter()
        .map(|f| Column::new_empty(f.name().as_str().into(), &polars_type(f.data_type())))
        .collect();
    columns.push(Column::new_empty("date".into(), &DataType::Date));
    DataFrame::new_infer_height(columns).unwrap_or_default()
}

/// The polars type a column of Arrow type `dt` is read as.
fn polars_type(dt: &ArrowType) -> DataType {
    match dt {
        ArrowType::Boolean => DataType::Boolean,
        ArrowType::Int32 => DataType::Int32,
        ArrowType::Int64 => DataType::Int64,
        ArrowType::Float64 => DataType::Float64,
        ArrowType::Utf8 => DataType::String,
        ArrowType::Timestamp(ArrowTimeUnit::Microsecond, _) => {
            DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
        }
        ArrowType::List(item) => DataType::List(Box::new(polars_type(item.data_type()))),
        ArrowType::Map(_, _) => DataType::List(Box::new(DataType::Struct(vec![
            Field::new("key".into(), DataType::String),
            Field::new("value".into(), DataType::String),
        ]))),
        _ => DataType::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use runlens_ingest::recorded::{RecordedSource, write_recorded};
    use runlens_ingest::schema::{Labels, RunRow, TableRows};

    #[test]
    fn a_small_table_is_read_whole_with_the_columns_asked_and_a_large_one_is_not() {
        let dir = crate::test_support::sample_dataset();
        let reader = DatasetReader::new(dir.path());
        let rows = reader.rows(Table::LlmCalls).expect("rows");
        assert!(reader.files(Table::LlmCalls).expect("files").len() > 1);
        let columns = ["output_tokens", "call_id", "start_ts"];
        let whole = reader
            .read_whole(Table::LlmCalls, &columns, rows)
            .expect("read")
            .expect("small enough");
        let names: Vec<&str> = whole
            .get_column_names()
            .iter()
            .map(|n| n.as_str())
            .collect();
        assert_eq!(names, columns);
        let scanned = reader
            .scan(Table::LlmCalls)
            .and_then(|lf| {
                lf.select([col("call_id")])
                    .collect()
                    .map_err(AnalysisError::polars("scan"))
            })
            .expect("scanned");
        assert_eq!(whole.height() as u64, rows);
        assert_eq!(whole.height(), scanned.height());
        let too_many = reader
            .read_whole(Table::LlmCalls, &columns, rows - 1)
            .expect("read");
        assert!(too_many.is_none());
        // A table without files: no rows, the columns asked.
        let nothing = tempfile::tempdir().expect("temp dir");
        let empty = DatasetReader::new(nothing.path())
            .read_whole(Table::LlmCalls, &["call_id"], 10)
            .expect("read")
            .expect("empty");
        assert_eq!((empty.height(), empty.width()), (0, 1));
    }

    #[test]
    fn files_a_crash_left_without_a_commit_are_not_read() {
        let dir = tempfile::tempdir().expect("temp dir");
        let rows = TableRows {
            runs: vec![RunRow {
                run_id: "r1".into(),
                ..RunRow::default()
            }],
            ..TableRows::default()
        };
        let labels = Labels::default();
        let source = RecordedSource {
            producer: "test",
            description: "test",
            labels: &labels,
        };
        write_recorded(&Dataset::new(dir.path()), rows, &source).expect("written");
        let count = |reader: &DatasetReader| {
            reader
                .scan(Table::Runs)
                .expect("scan")
                .collect()
                .expect("collect")
                .height()
        };
        assert_eq!(count(&DatasetReader::new(dir.path())), 1);
        // What a writer killed after publishing its files, before its record, leaves.
        let dataset = Dataset::new(dir.path());
        let key = dataset.table_files(Table::Runs).expect("files")[0].clone();
        let file = dir.path().join(&key);
        let orphan = file.with_file_name("part-crashedcommit-0.parquet");
        std::fs::copy(&file, &orphan).expect("copy");
        assert_eq!(count(&DatasetReader::new(dir.path())), 1);
    }

    #[test]
    fn label_columns_from_recorded_labels_equal_the_ones_read_from_the_maps() {
        use runlens_ingest::dataset::log::CommitKind;
        use runlens_ingest::schema::{IngestLogRow, Timestamp};
        let dir = tempfile::tempdir().expect("temp dir");
        let dataset = Dataset::new(dir.path());
        let writer = dataset.writer().expect("writer");
        let run = |id: &str, pairs: &[(&str, &str)]| RunRow {
            run_id: id.into(),
            labels: Labels(
                pairs
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ),
            ..RunRow::default()
        };
        let commits: [(&str, Vec<RunRow>); 4] = [
            (
                "a",
                vec![
                    run("a1", &[("vendor", "ollama")]),
                    run("a2", &[("vendor", "ollama")]),
                ],
            ),
            ("b", vec![run("b1", &[("vendor", "openai"), ("Set", "x")])]),
            (
                "c",
                vec![
                    run("c1", &[("vendor", "gemini")]),
                    run("c2", &[("other", "1")]),
                ],
            ),
            ("d", vec![run("d1", &[])]),
        ];
        for (id, rows) in &commits {
            let commit = writer.begin(id, CommitKind::Ingest).expect("begin");
            commit.stage(rows, Timestamp(0)).expect("stage");
            let log = IngestLogRow {
                content_hash: Some(id.to_string()),
                status: "ingested".into(),
                ..IngestLogRow::default()
            };
            commit.finish(&[log], Timestamp(0)).expect("finish");
        }
        let reader = DatasetReader::new(dir.path());
        assert_eq!(
            reader.label_keys(Table::Runs).expect("keys"),
            ["Set", "other", "vendor"]
        );
        let keys = vec![
            "vendor".to_string(),
            "Set".to_string(),
            "absent".to_string(),
        ];
        let rows = |lf: LazyFrame| -> Vec<String> {
            let df = lf
                .select([
                    col("run_id"),
                    col("label_vendor"),
                    col("label_set"),
                    col("label_absent"),
                ])
                .sort(["run_id"], SortMultipleOptions::default())
                .collect()
                .expect("collect");
            (0..df.height())
                .map(|i| {
                    df.get_row(i)
                        .expect("row")
                        .0
                        .iter()
                        .map(|v| v.to_string())
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .collect()
        };
        let from_records = rows(reader.scan_labelled(Table::Runs, &keys).expect("scan"));
        let from_maps = rows(with_label_columns(
            reader.scan(Table::Runs).expect("scan"),
            &keys,
        ));
        assert_eq!(from_records, from_maps);
        assert_eq!(
            from_records,
            [
                r#""a1" "ollama" null null"#,
                r#""a2" "ollama" null null"#,
                r#""b1" "openai" "x" null"#,
                r#""c1" "gemini" null null"#,
                r#""c2" null null null"#,
                r#""d1" null null null"#,
            ]
        );
        // Filtering on vendor = ollama: files recorded with another vendor (or none) are
        // not read; the file with mixed rows is.
        let kept = reader
            .scan_labelled_where(
                Table::Runs,
                &keys[..1],
                &[("vendor".to_string(), "ollama".to_string())],
            )
            .expect("scan")
            .select([col("run_id")])
            .sort(["run_id"], SortMultipleOptions::default())
            .collect()
            .expect("collect");
        let ids: Vec<Option<&str>> = kept
            .column("run_id")
            .expect("run_id")
            .str()
            .expect("str")
            .iter()
            .collect();
        assert_eq!(ids, [Some("a1"), Some("a2"), Some("c1"), Some("c2")]);
        let none = reader
            .scan_labelled_where(
                Table::Runs,
                &keys[..1],
                &[("vendor".to_string(), "nobody".to_string())],
            )
            .expect("scan")
            .collect()
            .expect("collect");
        assert_eq!(none.height(), 2, "only the mixed file is read");
    }
}
