//! What is already stored, read from the committed files' own columns: the content hash
//! of every ingested file and the ids of transcript calls and tool calls.

use super::*;

/// A set of row-id fingerprints ([`fingerprint`]), hashed with foldhash (seeded at random
/// per set): every transcript row of a batch is looked up while the other threads wait for
/// the lock.
pub type IdSet = HashSet<u128, foldhash::fast::RandomState>;

/// The fingerprint of a row id that [`TranscriptIds`] keeps instead of the id: its 128-bit
/// XXH3. Sixteen bytes held in the set's own table, where a `String` took some 100 bytes
/// with its heap copy and its slot, and every growth of the table re-read each id from
/// wherever the heap had put it: an ingest of 2 MB of new transcripts into a dataset of
/// 470,000 stored transcript rows spent most of its time there, and held 90 MB for the ids
/// (docs/benchmarks.md). Two different ids share a fingerprint with a probability of about
/// n² / 2¹²⁹ for n ids (below 10⁻²² for a billion), in which case the second row would be
/// taken for a copy of the first.
pub(super) fn fingerprint(id: &str) -> u128 {
    xxhash_rust::xxh3::xxh3_128(id.as_bytes())
}

pub(super) use crate::schema::TRANSCRIPT_SOURCE;

/// Ids of transcript rows (LLM calls, tool calls) seen so far, as fingerprints (their
/// 128-bit XXH3).
#[derive(Debug, Default)]
pub struct TranscriptIds {
    /// `llm_calls.call_id` of transcript calls.
    pub calls: IdSet,
    /// `tool_calls.tool_call_id` of calls made in sessions.
    pub tool_calls: IdSet,
}

impl TranscriptIds {
    /// Drops from `rows` the transcript calls and session tool calls whose ids were seen
    /// before (stored, or earlier in this batch), remembers the others; returns how many
    /// rows were dropped.
    pub fn drop_seen(&mut self, rows: &mut TableRows) -> usize {
        let before = rows.llm_calls.len() + rows.tool_calls.len();
        rows.llm_calls.retain(|c| {
            c.source != TRANSCRIPT_SOURCE || self.calls.insert(fingerprint(&c.call_id))
        });
        rows.tool_calls.retain(|t| {
            t.session_id.is_none() || self.tool_calls.insert(fingerprint(&t.tool_call_id))
        });
        before - rows.llm_calls.len() - rows.tool_calls.len()
    }
}

/// Reads the columns `names` of the committed Parquet file `key` of `table` (only those
/// columns are decoded), after checking the file's schema version, handing each record
/// batch to `each_batch`. The one reader of what is stored.
pub(super) fn read_columns(
    dataset: &Dataset,
    key: &str,
    table: Table,
    names: &[&str],
    each_batch: &mut dyn FnMut(&RecordBatch),
) -> Result<()> {
    read_file(dataset, key, table, Some(names), each_batch)
}

/// Reads the columns `names` (every column for `None`) of the committed file `key`.
pub(super) fn read_file(
    dataset: &Dataset,
    key: &str,
    table: Table,
    names: Option<&[&str]>,
    each_batch: &mut dyn FnMut(&RecordBatch),
) -> Result<()> {
    read_content(content_of(dataset, key)?, key, table, names, each_batch)
}

/// A committed file as a reader gets it: opened where it lies (a local dataset), or
/// fetched whole (object storage).
pub(super) enum Content {
    Local(PathBuf),
    Fetched(bytes::Bytes),
}

/// The committed file `key`, opened in place or fetched.
fn content_of(dataset: &Dataset, key: &str) -> Result<Content> {
    if let Some(path) = dataset.store().local_path(key) {
        return Ok(Content::Local(path));
    }
    let bytes = dataset.store().get(key)?;
    Ok(Content::Fetched(fetched(dataset, key, bytes)?))
}

/// A fetched file's bytes; an error naming it when the store no longer has it.
fn fetched(dataset: &Dataset, key: &str, bytes: Option<Vec<u8>>) -> Result<bytes::Bytes> {
    bytes
        .map(bytes::Bytes::from)
        .ok_or_else(|| IngestError::Storage {
            location: dataset.location().to_string(),
            action: format!("reading {key}"),
            reason: "a committed file is missing".into(),
        })
}

/// Files fetched together from object storage by [`read_each`], at most, and their bytes
/// (a larger file is fetched alone): a bucket's round trip is paid once per group, and
/// memory holds one group.
pub(super) const FETCH_FILES: usize = 32;
const FETCH_BYTES: u64 = 64 << 20;

/// Reads each of the committed `files` (key, size in bytes) with `read`, on every thread;
/// the results come back in the order of `files`. A local dataset's files are opened by the
/// reading threads; an object store's are fetched in groups of up to [`FETCH_FILES`] files
/// and [`FETCH_BYTES`] at once, each group read before the next is fetched. What every
/// ingest reads before it parses (the stored files and transcript ids) took a round trip
/// per file, one or two at a time (docs/benchmarks.md).
pub(super) fn read_each<T: Send>(
    dataset: &Dataset,
    files: &[(String, u64)],
    read: impl Fn(&str, Content) -> Result<T> + Sync,
) -> Result<Vec<T>> {
    let local = files
        .first()
        .is_some_and(|(key, _)| dataset.store().local_path(key).is_some());
    if local {
        return files
            .par_iter()
            .with_max_len(1)
            .map(|(key, _)| read(key, content_of(dataset, key)?))
            .collect();
    }
    let mut results = Vec::with_capacity(files.len());
    let mut start = 0;
    while start < files.len() {
        let mut end = start + 1;
        let mut bytes = files[start].1;
        while end < files.len() && end - start < FETCH_FILES && bytes + files[end].1 <= FETCH_BYTES
        {
            bytes += files[end].1;
            end += 1;
        }
        let group = &files[start..end];
        let keys: Vec<String> = group.iter().map(|(key, _)| key.clone()).collect();
        let contents = dataset.store().get_all(&keys)?;
        let read_group: Vec<T> = group
            .par_iter()
            .zip(contents)
            .with_max_len(1)
            .map(|((key, _), bytes)| read(key, Content::Fetched(fetched(dataset, key, bytes)?)))
            .collect::<Result<_>>()?;
        results.extend(read_group);
        start = end;
    }
    Ok(results)
}

/// Reads the columns `names` (every column for `None`) of the committed file `key`, whose
/// content is `content`.
fn read_content(
    content: Content,
    key: &str,
    table: Table,
    names: Option<&[&str]>,
    each_batch: &mut dyn FnMut(&RecordBatch),
) -> Result<()> {
    match content {
        Content::Local(path) => {
            let file = File::open(&path).map_err(|e| IngestError::io("opening", &path, e))?;
            read_columns_from(file, key, table, names, each_batch)
        }
        Content::Fetched(bytes) => read_columns_from(bytes, key, table, names, each_batch),
    }
}

fn read_columns_from<R: parquet::file::reader::ChunkReader + 'static>(
    source: R,
    key: &str,
    table: Table,
    names: Option<&[&str]>,
    each_batch: &mut dyn FnMut(&RecordBatch),
) -> Result<()> {
    let parquet_err = |source| IngestError::Parquet {
        path: PathBuf::from(key),
        source,
    };
    let builder = ParquetRecordBatchReaderBuilder::try_new(source).map_err(parquet_err)?;
    check_schema_version(
        Path::new(key),
        builder.metadata().file_metadata().key_value_metadata(),
    )?;
    let schema = builder.parquet_schema();
    let mask = match names {
        Some(names) => {
            let wanted: Vec<usize> = names
                .iter()
                .filter_map(|name| schema.columns().iter().position(|c| c.name() == *name))
                .collect();
            ProjectionMask::leaves(schema, wanted)
        }
        None => ProjectionMask::all(),
    };
    let reader = builder.with_projection(mask).build().map_err(parquet_err)?;
    for batch in reader {
        let batch = batch.map_err(|source| IngestError::Arrow {
            table: table.name(),
            source,
        })?;
        each_batch(&batch);
    }
    Ok(())
}

/// Reads the string columns `first` and `second` of a committed Parquet file of `table`:
/// calls `each(first, second)` for every row whose `first` is not null (content hashes from
/// `ingest_log`, transcript ids from `llm_calls` and `tool_calls`).
pub(super) fn read_column_pair(
    dataset: &Dataset,
    key: &str,
    table: Table,
    columns: [&str; 2],
    each: &mut dyn FnMut(&str, Option<&str>),
) -> Result<()> {
    read_column_pair_of(content_of(dataset, key)?, key, table, columns, each)
}

/// [`read_column_pair`] of the committed file `key` whose content is `content`.
pub(super) fn read_column_pair_of(
    content: Content,
    key: &str,
    table: Table,
    [first, second]: [&str; 2],
    each: &mut dyn FnMut(&str, Option<&str>),
) -> Result<()> {
    read_content(content, key, table, Some(&[first, second]), &mut |batch| {
        let column = |name: &str| {
            batch
                .column_by_name(name)
                .and_then(|c| c.as_any().downcast_ref::<StringArray>().cloned())
        };
        let (Some(firsts), Some(seconds)) = (column(first), column(second)) else {
            return;
        };
        for i in 0..batch.num_rows() {
            if firsts.is_valid(i) {
                each(
                    firsts.value(i),
                    seconds.is_valid(i).then(|| seconds.value(i)),
                );
            }
        }
    })
}

/// The usage of the stored calls of `sessions` in a committed `llm_calls` file: per
/// session, (source line, usage vector) of each call.
pub(super) fn read_session_usage(
    dataset: &Dataset,
    key: &str,
    sessions: &HashSet<String>,
    out: &mut HashMap<String, Vec<(i64, UsageVector)>>,
) -> Result<()> {
    let columns = [
        "session_id",
        "source_line",
        "input_tokens",
        "cache_read_input_tokens",
        "output_tokens",
        "reasoning_tokens",
    ];
    read_columns(dataset, key, Table::LlmCalls, &columns, &mut |batch| {
        let ints = |name: &str| {
            batch
                .column_by_name(name)
                .and_then(|c| c.as_any().downcast_ref::<Int64Array>().cloned())
        };
        let Some(ids) = batch
            .column_by_name("session_id")
            .and_then(|c| c.as_any().downcast_ref::<StringArray>().cloned())
        else {
            return;
        };
        let (Some(lines), Some(input), Some(read), Some(output), Some(reasoning)) = (
            ints("source_line"),
            ints("input_tokens"),
            ints("cache_read_input_tokens"),
            ints("output_tokens"),
            ints("reasoning_tokens"),
        ) else {
            return;
        };
        let value = |a: &Int64Array, i: usize| a.is_valid(i).then(|| a.value(i));
        for i in 0..batch.num_rows() {
            if ids.is_valid(i) && sessions.contains(ids.value(i)) {
                out.entry(ids.value(i).to_string()).or_default().push((
                    value(&lines, i).unwrap_or(0),
                    [
                        value(&input, i),
                        value(&read, i),
                        value(&output, i),
                        value(&reasoning, i),
                    ],
                ));
            }
        }
    })
}
/// A stored file as it was when read: size, modification time, content hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownFile {
    /// Size, bytes.
    pub size_bytes: i64,
    /// Modification time, microseconds since the epoch (UTC).
    pub modified_us: i64,
    /// BLAKE3 of the content, hex.
    pub content_hash: String,
}

/// The stored files of one `ingest_log` file, by absolute path, in the file's row order
/// (see [`super::Dataset::known_files`]).
pub(super) fn read_known_files(
    content: Content,
    key: &str,
    out: &mut Vec<(String, KnownFile)>,
) -> Result<()> {
    let columns = [
        "absolute_path",
        "size_bytes",
        "file_modified_ts",
        "content_hash",
        "status",
    ];
    read_content(
        content,
        key,
        Table::IngestLog,
        Some(&columns),
        &mut |batch| {
            let text = |name: &str| {
                batch
                    .column_by_name(name)
                    .and_then(|c| c.as_any().downcast_ref::<StringArray>().cloned())
            };
            let (Some(paths), Some(hashes), Some(status)) =
                (text("absolute_path"), text("content_hash"), text("status"))
            else {
                return;
            };
            let Some(sizes) = batch
                .column_by_name("size_bytes")
                .and_then(|c| c.as_any().downcast_ref::<Int64Array>().cloned())
            else {
                return;
            };
            let Some(times) = batch.column_by_name("file_modified_ts").and_then(|c| {
                c.as_any()
                    .downcast_ref::<arrow_array::TimestampMicrosecondArray>()
                    .cloned()
            }) else {
                return;
            };
            for i in 0..batch.num_rows() {
                // `skipped`: a file read again, whose content was already stored; its row
                // records the path, size and time it had then.
                let stored = status.is_valid(i)
                    && matches!(status.value(i), "ingested" | "partial" | "skipped");
                if stored
                    && paths.is_valid(i)
                    && hashes.is_valid(i)
                    && sizes.is_valid(i)
                    && times.is_valid(i)
                {
                    out.push((
                        paths.value(i).to_string(),
                        KnownFile {
                            size_bytes: sizes.value(i),
                            modified_us: times.value(i),
                            content_hash: hashes.value(i).to_string(),
                        },
                    ));
                }
            }
        },
    )
}

pub(super) fn check_schema_version(path: &Path, metadata: Option<&Vec<KeyValue>>) -> Result<()> {
    let found = metadata
        .and_then(|kv| kv.iter().find(|k| k.key == SCHEMA_VERSION_KEY))
        .and_then(|k| k.value.clone())
        .unwrap_or_else(|| "none".into());
    if found == SCHEMA_VERSION.to_string() {
        Ok(())
    } else {
        Err(IngestError::SchemaVersion {
            path: path.to_path_buf(),
            found,
            expected: SCHEMA_VERSION,
        })
    }
}
