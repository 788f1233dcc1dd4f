//! `runlens ingest`: expands the inputs, detects each file's format, parses files in
//! parallel and commits their rows with one `ingest_log` row per offered file.
//!
//! Files are handled in chunks; each chunk is one commit (see [`crate::dataset`]), so an
//! interrupted batch keeps every finished chunk and a re-run picks up the rest: files whose
//! content hash is already stored are skipped, never counted twice. A bad file becomes a
//! `rejected` outcome with its reason and the batch goes on; only runlens's own storage
//! failing stops it.
//!
//! Why one file of some 1,200 lines: it is the batch's one sequence (find, identify, hash
//! or read once, claim, parse in parallel, commit, account for every file) and its tests;
//! the parsers, the writer and the accounting types it drives live in their own modules.

use std::collections::HashSet;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use globset::GlobBuilder;
use rayon::prelude::*;

use crate::dataset::log::CommitKind;
use crate::dataset::{Commit, Dataset, Stager, TranscriptIds};
use crate::error::{IngestError, Result};
use crate::formats::{self, Format, LineIssue, ParseContext, ParseError, ParseOptions, RowSink};
use crate::redact::redact_command;
use crate::schema::{IngestLogRow, Labels, Table, TableRows, Timestamp};

/// Files parsed and committed together, at most.
const FILES_PER_COMMIT: usize = 4096;
/// Input bytes parsed and committed together, at most (a single larger file is its own chunk).
/// Memory does not grow with it (rows are staged to files as they add up); the work a crash
/// loses does, and the number of files falls with it: each commit writes its own file per
/// table and day, so a 268 MB Claude Code history in 128 MB commits became three small files
/// per day that every later query opens (docs/benchmarks.md).
const BYTES_PER_COMMIT: u64 = 512 << 20;
/// Rows a parser hands on at a time: once its file has yielded more than [`MERGE_ROWS`],
/// they are appended to its staging files as one Arrow batch. Small: the rows are then
/// still in the core's cache while they are stamped, split by day and converted to Arrow,
/// column by column (`llm_calls` has 37 columns; an `LlmCallRow` is 672 bytes). Measured
/// without the holding back (docs/benchmarks.md): 512 rows ingest the latency CSVs in 2.4 s,
/// 8,192 in 3.0 s, 256 in 2.7 s. (The latency CSV parser now builds Arrow columns itself and
/// hands on batches of its own size; this holds for the parsers that build rows.)
const SPILL_ROWS: usize = 512;
/// A file yielding more rows than this is staged by its own worker; smaller files' rows
/// are merged into part files shared by the files a worker parses, so 10,000 tiny inputs do
/// not become 10,000 tiny Parquet files.
const MERGE_ROWS: usize = 4_096;
/// Input bytes whose rows a worker's merge holds before appending them (rows can be large:
/// a hyperfine result carries every run's time), next to [`SPILL_ROWS`].
const MERGE_BYTES: u64 = 8 << 20;
/// A new file up to this size is read once, into a buffer its worker keeps: hashed from
/// there, and parsed from there unless its hash is stored. Larger files are hashed as they
/// are read, then read again to be parsed, so memory holds at most this much per worker.
const READ_ONCE_BYTES: u64 = 16 << 20;

/// What to ingest and how.
#[derive(Debug, Clone, Default)]
pub struct IngestOptions {
    /// Files, directories (recursive) and glob patterns.
    pub inputs: Vec<String>,
    /// Read every file as this format instead of detecting it.
    pub format: Option<String>,
    /// Labels added to every row written.
    pub labels: Labels,
    /// Parse and report, write nothing.
    pub dry_run: bool,
    /// Format options (phase regex, time format).
    pub parse: ParseOptions,
    /// Files last modified before this are left out unopened (`--since`).
    pub since: Option<crate::schema::Timestamp>,
}

/// The outcome of one offered file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FileStatus {
    /// All of the file was stored.
    Ingested,
    /// The file was stored but some lines or entries were rejected.
    Partial,
    /// Nothing of the file was stored.
    Rejected,
    /// The file's content was already in the dataset (or earlier in this batch).
    Skipped,
}

impl FileStatus {
    /// The status as written in `ingest_log.status`.
    pub fn as_str(self) -> &'static str {
        match self {
            FileStatus::Ingested => "ingested",
            FileStatus::Partial => "partial",
            FileStatus::Rejected => "rejected",
            FileStatus::Skipped => "skipped",
        }
    }
}

/// What happened to one input file.
#[derive(Debug, Clone)]
pub struct FileOutcome {
    /// The file as offered.
    pub path: PathBuf,
    /// Format it was read as, if one applied.
    pub format: Option<&'static str>,
    /// Outcome.
    pub status: FileStatus,
    /// Size, bytes.
    pub size_bytes: u64,
    /// BLAKE3 of the content, hex.
    pub content_hash: Option<String>,
    /// Rows per table.
    pub rows: Vec<(Table, usize)>,
    /// Lines or entries rejected inside the file.
    pub bad_lines: u64,
    /// The first problems (file-level reason first), each with its line.
    pub issues: Vec<LineIssue>,
    /// Transcript rows (LLM calls, tool calls) not stored because their ids were already
    /// stored or read earlier in the batch: a grown transcript, a resumed session's copy.
    pub already_stored_rows: usize,
    /// The file's absolute path, if it could be resolved.
    pub absolute_path: Option<String>,
    /// The file's modification time, if the file system gives one.
    pub modified: Option<Timestamp>,
    /// Skipped without being read: same path, size and modification time as a file already
    /// stored.
    pub unchanged: bool,
    /// Skipped because another writer committed the same content at the same time (it is
    /// stored once, by that writer).
    pub stored_by_another_writer: bool,
}

impl FileOutcome {
    fn new(path: PathBuf) -> Self {
        FileOutcome {
            path,
            format: None,
            status: FileStatus::Rejected,
            size_bytes: 0,
            content_hash: None,
            rows: Vec::new(),
            bad_lines: 0,
            issues: Vec::new(),
            already_stored_rows: 0,
            absolute_path: None,
            modified: None,
            unchanged: false,
            stored_by_another_writer: false,
        }
    }

    fn rejected(path: PathBuf, issue: LineIssue) -> Self {
        let mut outcome = FileOutcome::new(path);
        outcome.issues.push(issue);
        outcome
    }

    /// Whether the file gets an `ingest_log` row: every file but one skipped unread, or
    /// one skipped because another writer stored it first. A file skipped after being
    /// read to be recognised (its path, size or modification time were new: a copy, a
    /// `touch`, a checkout) is logged as `skipped` with what it is now, so that the next
    /// ingest knows it unread; without that row it was hashed again on every run.
    pub fn is_logged(&self) -> bool {
        match self.status {
            FileStatus::Skipped => {
                !self.unchanged
                    && !self.stored_by_another_writer
                    && self.content_hash.is_some()
                    && self.absolute_path.is_some()
            }
            _ => true,
        }
    }

    /// Total rows written from the file.
    pub fn row_count(&self) -> usize {
        self.rows.iter().map(|(_, n)| n).sum()
    }

    /// The main problem as `reason` with `:line` where known.
    pub fn first_issue(&self) -> Option<&LineIssue> {
        self.issues.first()
    }
}

/// Everything one ingest did.
#[derive(Debug, Clone)]
pub struct IngestSummary {
    /// Id of this ingest; every row it wrote carries it.
    pub ingest_id: String,
    /// One outcome per offered file, in walk order; inputs that matched nothing last.
    pub outcomes: Vec<FileOutcome>,
    /// Whether this was a dry run.
    pub dry_run: bool,
    /// Files left out unopened because they were last modified before `--since`.
    pub older_than_since: usize,
}

impl IngestSummary {
    /// Whether any file (or line of a file) was rejected: the exit status is then 1.
    pub fn has_rejections(&self) -> bool {
        self.outcomes
            .iter()
            .any(|o| matches!(o.status, FileStatus::Rejected | FileStatus::Partial))
    }
}

/// Progress callbacks (the CLI draws a bar; tests ignore them).
pub trait Progress: Sync {
    /// The batch holds `files` files of `bytes` bytes in all.
    fn start(&self, files: u64, bytes: u64);
    /// One more file of `bytes` bytes is done.
    fn advance(&self, bytes: u64);
    /// A note for the user (waiting for the lock, recovery).
    fn note(&self, message: &str);
    /// The batch is done.
    fn finish(&self);
}

/// Splits the file list into commits of at most [`FILES_PER_COMMIT`] files and
/// [`BYTES_PER_COMMIT`] bytes.
fn chunk_files(files: &[InputFile]) -> Vec<&[InputFile]> {
    let mut chunks = Vec::new();
    let (mut start, mut bytes) = (0, 0u64);
    for (i, file) in files.iter().enumerate() {
        let size = file.identity.size_bytes;
        if i > start && (i - start == FILES_PER_COMMIT || bytes + size > BYTES_PER_COMMIT) {
            chunks.push(&files[start..i]);
            (start, bytes) = (i, 0);
        }
        bytes += size;
    }
    if start < files.len() {
        chunks.push(&files[start..]);
    }
    chunks
}

/// Ingests `options.inputs` into `dataset`.
pub fn ingest(
    dataset: &Dataset,
    options: &IngestOptions,
    progress: &dyn Progress,
) -> Result<IngestSummary> {
    let forced = options
        .format
        .as_deref()
        .map(formats::by_name)
        .transpose()?;
    let ingest_id = new_ingest_id();
    let (mut files, missing) = input_files(dataset, &options.inputs);
    let window = crate::window::TimeWindow {
        since: options.since,
        until: None,
    };
    let offered = files.len();
    files.retain(|f| window.may_contain_modified(f.identity.modified));
    let older_than_since = offered - files.len();
    // No writer for a dry run: nothing is written.
    let session = (!options.dry_run).then(|| dataset.writer()).transpose()?;
    let mut known = match &session {
        Some(writer) => writer.known_hashes(),
        None => dataset.known_hashes()?,
    };
    let known_files = dataset.known_files()?;
    let seen = SeenIds::new(dataset);
    let total_bytes = files.iter().map(|f| f.identity.size_bytes).sum();
    progress.start(files.len() as u64, total_bytes);

    // Codex forks are read after the rest of the batch is committed, their parents first
    // (crate::forks).
    // (A file stored before and unchanged is not read again, not even its first line.)
    let forks: Vec<(InputFile, (String, String))> = files
        .par_iter()
        .filter(|file| file.identity.stored_unchanged(&known_files).is_none())
        .filter_map(|file| Some((file.clone(), crate::forks::fork_in_file(&file.path)?)))
        .collect();
    let deferred: HashSet<&PathBuf> = forks.iter().map(|(file, _)| &file.path).collect();
    let (first, _): (Vec<InputFile>, Vec<InputFile>) = files
        .iter()
        .cloned()
        .partition(|f| !deferred.contains(&f.path));
    let mut batches: Vec<(Vec<InputFile>, IngestOptions)> = vec![(first, options.clone())];
    let pairs: Vec<(String, String)> = forks.iter().map(|(_, pair)| pair.clone()).collect();
    let rounds = crate::forks::rounds(&pairs);
    let mut outcomes = Vec::with_capacity(files.len() + missing.len());
    let mut chunk_index = 0;
    let mut round = 0;
    while let Some((batch, batch_options)) = batches.pop() {
        for chunk in chunk_files(&batch) {
            let commit = session
                .as_ref()
                .map(|s| s.begin(&format!("{ingest_id}-c{chunk_index}"), CommitKind::Ingest))
                .transpose()?;
            chunk_index += 1;
            let ctx = ChunkContext {
                forced,
                known_files: &known_files,
                options: &batch_options,
                ingest_id: &ingest_id,
                commit: commit.as_ref(),
                progress,
                seen: &seen,
            };
            let mut chunk_outcomes = process_chunk(chunk, &mut known, &ctx)?;
            if let Some(commit) = commit {
                let lost = commit_chunk(commit, &chunk_outcomes, &ingest_id, &options.labels)?;
                for outcome in &mut chunk_outcomes {
                    if outcome
                        .content_hash
                        .as_ref()
                        .is_some_and(|h| lost.contains(h))
                    {
                        outcome.status = FileStatus::Skipped;
                        outcome.stored_by_another_writer = true;
                        outcome.rows.clear();
                        outcome.already_stored_rows = 0;
                    }
                }
                known.extend(lost);
            }
            outcomes.extend(chunk_outcomes);
        }
        // The next round of forks, with their parents' calls as now committed.
        if let Some(members) = rounds.get(round) {
            round += 1;
            // Each parent's line: its ancestors among the batch's forks, oldest first.
            let parent_of: std::collections::HashMap<&str, &str> = pairs
                .iter()
                .map(|(child, parent)| (child.as_str(), parent.as_str()))
                .collect();
            let lines: Vec<(String, Vec<String>)> = members
                .iter()
                .map(|&i| {
                    let parent = forks[i].1.1.clone();
                    let mut line = vec![parent.clone()];
                    while let Some(up) = line.last().and_then(|s| parent_of.get(s.as_str())) {
                        if line.iter().any(|s| s == up) {
                            break;
                        }
                        line.push(up.to_string());
                    }
                    line.reverse();
                    (parent, line)
                })
                .collect();
            let wanted: HashSet<String> = lines.iter().flat_map(|(_, l)| l.clone()).collect();
            let stored = dataset.stored_session_usage(&wanted)?;
            let parent_calls: crate::forks::ParentCalls = lines
                .into_iter()
                .filter(|(parent, _)| stored.contains_key(parent))
                .map(|(parent, line)| {
                    let calls = line.iter().filter_map(|s| stored.get(s).cloned()).collect();
                    (parent, calls)
                })
                .collect();
            let mut round_options = options.clone();
            round_options.parse.fork_parents = std::sync::Arc::new(parent_calls);
            batches.push((
                members.iter().map(|&i| forks[i].0.clone()).collect(),
                round_options,
            ));
        }
    }
    if let Some(session) = &session
        && !missing.is_empty()
    {
        let commit = session.begin(&format!("{ingest_id}-missing"), CommitKind::Ingest)?;
        commit_chunk(commit, &missing, &ingest_id, &options.labels)?;
    }
    // Outcomes in walk order, forks included.
    let order: std::collections::HashMap<&PathBuf, usize> = files
        .iter()
        .enumerate()
        .map(|(i, f)| (&f.path, i))
        .collect();
    outcomes.sort_by_key(|o| order.get(&o.path).copied().unwrap_or(usize::MAX));
    outcomes.extend(missing);
    progress.finish();
    Ok(IngestSummary {
        ingest_id,
        outcomes,
        dry_run: options.dry_run,
        older_than_since,
    })
}

/// The files to offer, in walk order, each with its identity, without the dataset's own
/// files; inputs that matched nothing come back as rejected outcomes.
fn input_files(dataset: &Dataset, inputs: &[String]) -> (Vec<InputFile>, Vec<FileOutcome>) {
    let (paths, missing) = expand_inputs(inputs);
    let mut files = InputFile::identify(paths);
    // `runlens ingest .` next to the dataset must not read the dataset itself.
    if let Some(root) = dataset.local_root().and_then(|r| r.canonicalize().ok()) {
        files.retain(|f| {
            f.identity
                .absolute_path
                .as_ref()
                .is_none_or(|p| !Path::new(p).starts_with(&root))
        });
    }
    (files, missing)
}

/// Commits a chunk: its staged rows, then one `ingest_log` row per file
/// [`FileOutcome::is_logged`]. Returns the content hashes another writer committed first (those files' rows
/// were left out).
fn commit_chunk(
    commit: Commit<'_>,
    outcomes: &[FileOutcome],
    ingest_id: &str,
    labels: &Labels,
) -> Result<HashSet<String>> {
    let now = Timestamp::now();
    let log: Vec<IngestLogRow> = outcomes
        .iter()
        .filter(|o| o.is_logged())
        .map(|o| log_row(o, ingest_id, labels, now))
        .collect();
    if log.is_empty() {
        commit.finish_empty()?;
        return Ok(HashSet::new());
    }
    Ok(commit.finish(&log, now)?.stored_by_another_writer)
}

struct ChunkContext<'a> {
    forced: Option<&'static dyn Format>,
    /// The files already stored, by absolute path, as they were when read.
    known_files: &'a std::collections::HashMap<String, crate::dataset::KnownFile>,
    options: &'a IngestOptions,
    ingest_id: &'a str,
    commit: Option<&'a Commit<'a>>,
    progress: &'a dyn Progress,
    /// Ids of transcript rows stored or read so far, shared by the parsing threads.
    seen: &'a SeenIds<'a>,
}

/// Hashes, de-duplicates, parses and stages one chunk of files; returns their outcomes.
fn process_chunk(
    chunk: &[InputFile],
    known: &mut HashSet<String>,
    ctx: &ChunkContext<'_>,
) -> Result<Vec<FileOutcome>> {
    // One task per file: rayon otherwise folds runs of a few hundred files in one task, and
    // a run holding the chunk's large files kept one thread hashing while the other waited
    // (docs/benchmarks.md).
    let read_once = read_once_files(chunk, ctx.known_files);
    let hashed: Vec<(FileOutcome, Hash)> = chunk
        .par_iter()
        .zip(&read_once)
        .with_max_len(1)
        .map(|(file, &once)| {
            if once {
                (outcome_of(file), Hash::WhenRead)
            } else {
                hash_file(file, ctx.known_files)
            }
        })
        .collect();
    let mut to_parse = Vec::new();
    let mut outcomes: Vec<Option<FileOutcome>> = Vec::with_capacity(chunk.len());
    for (i, (mut outcome, hash)) in hashed.into_iter().enumerate() {
        match hash {
            Hash::WhenRead => {
                to_parse.push((i, outcome));
                outcomes.push(None);
            }
            Hash::Known(h) if known.contains(&h) => {
                outcome.status = FileStatus::Skipped;
                outcome.content_hash = Some(h);
                ctx.progress.advance(outcome.size_bytes);
                outcomes.push(Some(outcome));
            }
            Hash::Known(h) => {
                known.insert(h.clone());
                outcome.content_hash = Some(h);
                to_parse.push((i, outcome));
                outcomes.push(None);
            }
            Hash::Unreadable => {
                ctx.progress.advance(outcome.size_bytes);
                outcomes.push(Some(outcome));
            }
        }
    }
    // Files read once are hashed by the parsing workers: their hashes are checked against
    // those stored and those of this chunk so far, which none of them can share (its size is
    // its own in the chunk), and added after.
    let stored: &HashSet<String> = known;
    // Small files' rows go to one merge stager per worker thread, appended as they add up:
    // memory holds a few thousand rows per worker, whatever the chunk's size.
    let workers = rayon::current_num_threads().max(1);
    let merges: Vec<Mutex<Merge<'_>>> = (0..workers)
        .map(|_| {
            Mutex::new(Merge {
                pending: TableRows::default(),
                pending_input: 0,
                stager: ctx.commit.map(Commit::stager),
            })
        })
        .collect();
    if !to_parse.is_empty() {
        ctx.seen.load()?;
    }
    let now = Timestamp::now();
    // Largest first, each file taken by the next free thread: a large file started last
    // would keep one thread busy while the others wait for the chunk to end.
    to_parse.sort_by_key(|(_, outcome)| std::cmp::Reverse(outcome.size_bytes));
    let parsed: Vec<Result<(usize, FileOutcome)>> = to_parse
        .into_iter()
        .par_bridge()
        .map(|(i, outcome)| {
            let size = outcome.size_bytes;
            let result = parse_file(outcome, stored, ctx).and_then(|(outcome, rows)| {
                if !rows.is_empty() {
                    let worker = rayon::current_thread_index().unwrap_or(0) % workers;
                    // Each worker has its own merge: the lock is not contended.
                    let mut merge = merges[worker].lock().unwrap_or_else(|p| p.into_inner());
                    merge.add(rows, size, now)?;
                }
                Ok((i, outcome))
            });
            ctx.progress.advance(size);
            result
        })
        .collect();
    // Each worker's last rows are written out beside the others'.
    merges.into_par_iter().try_for_each(|merge| {
        merge
            .into_inner()
            .unwrap_or_else(|p| p.into_inner())
            .finish(now)
    })?;
    let mut new_hashes = Vec::new();
    for result in parsed {
        let (i, outcome) = result?;
        if outcome.status != FileStatus::Skipped {
            new_hashes.extend(outcome.content_hash.clone());
        }
        outcomes[i] = Some(outcome);
    }
    known.extend(new_hashes);
    Ok(outcomes.into_iter().flatten().collect())
}

/// Small files' rows on their way to one worker's shared part files.
struct Merge<'c> {
    pending: TableRows,
    /// Bytes of the input files the pending rows came from.
    pending_input: u64,
    /// `None` on a dry run: rows are counted, not written.
    stager: Option<Stager<'c>>,
}

impl Merge<'_> {
    /// Adds the rows of one file of `input_bytes`; appends all pending rows once they
    /// reach [`SPILL_ROWS`] or come from [`MERGE_BYTES`] of input.
    fn add(&mut self, rows: TableRows, input_bytes: u64, now: Timestamp) -> Result<()> {
        if self.stager.is_none() {
            return Ok(());
        }
        self.pending.append(rows);
        self.pending_input += input_bytes;
        if self.pending.len() >= SPILL_ROWS || self.pending_input >= MERGE_BYTES {
            self.flush(now)?;
        }
        Ok(())
    }

    fn flush(&mut self, now: Timestamp) -> Result<()> {
        let rows = std::mem::take(&mut self.pending);
        self.pending_input = 0;
        if let Some(stager) = self.stager.as_mut() {
            stager.append_all(&rows, now)?;
        }
        Ok(())
    }

    /// Appends what is left and hands the files to the commit.
    fn finish(mut self, now: Timestamp) -> Result<()> {
        self.flush(now)?;
        if let Some(stager) = self.stager {
            stager.finish()?;
        }
        Ok(())
    }
}

/// One offered file and its identity, read once when the batch starts.
#[derive(Debug, Clone)]
struct InputFile {
    /// The file as offered.
    path: PathBuf,
    identity: FileIdentity,
}

impl InputFile {
    /// The identities of `paths`, in order. A file that is not a symbolic link is one
    /// `lstat`; its absolute path is its folder's, resolved once per folder, and its name
    /// (10,000 files of one folder cost 10,000 calls, not the 60,000 of resolving each path
    /// component by component).
    fn identify(paths: Vec<PathBuf>) -> Vec<InputFile> {
        let mut folders: std::collections::HashMap<&Path, Option<PathBuf>> =
            std::collections::HashMap::new();
        for path in &paths {
            let folder = path.parent().unwrap_or(Path::new(""));
            folders.entry(folder).or_insert_with(|| {
                let folder = if folder.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    folder
                };
                folder.canonicalize().ok()
            });
        }
        let identities: Vec<FileIdentity> = paths
            .par_iter()
            .with_min_len(64)
            .map(|path| {
                let folder = path.parent().unwrap_or(Path::new(""));
                let folder = folders.get(folder).and_then(Option::as_deref);
                FileIdentity::of(path, folder)
            })
            .collect();
        paths
            .into_iter()
            .zip(identities)
            .map(|(path, identity)| InputFile { path, identity })
            .collect()
    }
}

/// What tells a file offered again from the one stored: its absolute path, size and
/// modification time (microseconds), as read when the batch started.
#[derive(Debug, Clone)]
struct FileIdentity {
    absolute_path: Option<String>,
    size_bytes: u64,
    modified: Option<Timestamp>,
}

impl FileIdentity {
    /// The identity of `path`, whose folder resolves to `folder` (if it could be resolved).
    /// A symbolic link is followed: its target's absolute path, size and time.
    fn of(path: &Path, folder: Option<&Path>) -> FileIdentity {
        let own = path.symlink_metadata().ok();
        let (absolute, metadata) = match (&own, folder, path.file_name()) {
            (Some(m), Some(folder), Some(name)) if !m.file_type().is_symlink() => {
                (Some(folder.join(name)), own)
            }
            _ => (path.canonicalize().ok(), path.metadata().ok()),
        };
        FileIdentity {
            absolute_path: absolute.map(|p| p.display().to_string()),
            size_bytes: metadata.as_ref().map_or(0, |m| m.len()),
            modified: metadata
                .and_then(|m| m.modified().ok())
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map(|d| Timestamp(d.as_micros() as i64)),
        }
    }

    /// The stored file this one is, unchanged (same absolute path, size and modification
    /// time): it need not be read again.
    fn stored_unchanged<'k>(
        &self,
        known_files: &'k std::collections::HashMap<String, crate::dataset::KnownFile>,
    ) -> Option<&'k crate::dataset::KnownFile> {
        self.absolute_path
            .as_ref()
            .and_then(|p| known_files.get(p))
            .filter(|k| {
                k.size_bytes == self.size_bytes as i64
                    && Some(k.modified_us) == self.modified.map(|m| m.0)
            })
    }
}

/// A file's content hash before it is parsed.
enum Hash {
    /// Known: stored and unread, or read to be hashed.
    Known(String),
    /// To be computed as the file is read to be parsed ([`read_once_files`]).
    WhenRead,
    /// The file could not be read (the outcome says why).
    Unreadable,
}

/// Which of `chunk`'s files are read once, hashed and parsed from the same bytes: new
/// files of at most [`READ_ONCE_BYTES`] whose size no other file of the chunk has (two
/// files can only be copies of each other if their sizes match, and of copies the first
/// in walk order must be the one ingested). Hashed first, then read again if new: a file
/// stored from the same path with the same size (touched, most likely unchanged: hashing
/// is cheaper than parsing), and larger files.
fn read_once_files(
    chunk: &[InputFile],
    known_files: &std::collections::HashMap<String, crate::dataset::KnownFile>,
) -> Vec<bool> {
    let mut sizes: std::collections::HashMap<u64, usize> = std::collections::HashMap::new();
    for file in chunk {
        *sizes.entry(file.identity.size_bytes).or_default() += 1;
    }
    chunk
        .iter()
        .map(|file| {
            let identity = &file.identity;
            let same_path_and_size = identity
                .absolute_path
                .as_ref()
                .and_then(|p| known_files.get(p))
                .is_some_and(|k| k.size_bytes == identity.size_bytes as i64);
            identity.size_bytes <= READ_ONCE_BYTES
                && sizes.get(&identity.size_bytes) == Some(&1)
                && !same_path_and_size
        })
        .collect()
}

/// The outcome of `input` before it is read: its identity.
fn outcome_of(input: &InputFile) -> FileOutcome {
    let mut outcome = FileOutcome::new(input.path.clone());
    let identity = &input.identity;
    outcome.size_bytes = identity.size_bytes;
    outcome.modified = identity.modified;
    outcome.absolute_path = identity.absolute_path.clone();
    outcome
}

/// The file's content hash: the stored one, unread, when the file is where it was stored
/// from with the same size and modification time; else BLAKE3 of its bytes.
fn hash_file(
    input: &InputFile,
    known_files: &std::collections::HashMap<String, crate::dataset::KnownFile>,
) -> (FileOutcome, Hash) {
    let mut outcome = outcome_of(input);
    if let Some(known) = input.identity.stored_unchanged(known_files) {
        outcome.unchanged = true;
        return (outcome, Hash::Known(known.content_hash.clone()));
    }
    let file = match File::open(&input.path) {
        Ok(f) => f,
        Err(e) => {
            outcome
                .issues
                .push(LineIssue::file(format!("cannot open: {e}")));
            return (outcome, Hash::Unreadable);
        }
    };
    outcome.size_bytes = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut hasher = blake3::Hasher::new();
    match hasher.update_reader(file) {
        Ok(_) => (outcome, Hash::Known(content_hash(&hasher))),
        Err(e) => {
            outcome
                .issues
                .push(LineIssue::file(format!("read error: {e}")));
            (outcome, Hash::Unreadable)
        }
    }
}

/// The content hash as stored: BLAKE3, in hex.
fn content_hash(hasher: &blake3::Hasher) -> String {
    hasher.finalize().to_hex().to_string()
}

thread_local! {
    /// The bytes of the file a worker reads once, kept between files (up to twice
    /// [`READ_ONCE_BYTES`]) so that each file does not fault in fresh pages.
    static READ_BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Reads and parses one file (hashing it first when it is read once: a file whose hash
/// is in `stored` is skipped unparsed); see [`parse_input`].
fn parse_file(
    outcome: FileOutcome,
    stored: &HashSet<String>,
    ctx: &ChunkContext<'_>,
) -> Result<(FileOutcome, TableRows)> {
    let path = outcome.path.clone();
    let file = match File::open(&path) {
        Ok(f) => f,
        Err(e) => return unreadable(outcome, format!("cannot open: {e}")),
    };
    if outcome.content_hash.is_some() {
        let mut reader = BufReader::with_capacity(256 * 1024, file);
        let head = match formats::read_head(&mut reader) {
            Ok(head) => head,
            Err(e) => return unreadable(outcome, format!("read error: {e}")),
        };
        let mut input = std::io::Cursor::new(&head).chain(reader);
        return parse_input(outcome, &head, &mut input, ctx);
    }
    // Taken out of the worker's slot, not borrowed: while this file's staging files are
    // closed in parallel, the worker may be lent another file to parse.
    let mut bytes = READ_BUFFER.take();
    bytes.clear();
    let parsed = parse_read_once(outcome, &file, &mut bytes, stored, ctx);
    if bytes.capacity() as u64 <= 2 * READ_ONCE_BYTES {
        READ_BUFFER.set(bytes);
    }
    parsed
}

/// Reads the file whole into `bytes` (even if it grew past [`READ_ONCE_BYTES`] since it
/// was listed), hashes it, and parses it unless the hash is in `stored`.
fn parse_read_once(
    mut outcome: FileOutcome,
    mut file: &File,
    bytes: &mut Vec<u8>,
    stored: &HashSet<String>,
    ctx: &ChunkContext<'_>,
) -> Result<(FileOutcome, TableRows)> {
    if let Err(e) = file.read_to_end(bytes) {
        return unreadable(outcome, format!("read error: {e}"));
    }
    let mut hasher = blake3::Hasher::new();
    hasher.update(bytes);
    let hash = content_hash(&hasher);
    outcome.size_bytes = bytes.len() as u64;
    let known = stored.contains(&hash);
    outcome.content_hash = Some(hash);
    if known {
        outcome.status = FileStatus::Skipped;
        return Ok((outcome, TableRows::default()));
    }
    let head = &bytes[..bytes.len().min(formats::SNIFF_BYTES)];
    let mut input: &[u8] = bytes;
    parse_input(outcome, head, &mut input, ctx)
}

/// The outcome of a file that could not be read: `reason`, no rows.
fn unreadable(mut outcome: FileOutcome, reason: String) -> Result<(FileOutcome, TableRows)> {
    outcome.issues.push(LineIssue::file(reason));
    Ok((outcome, TableRows::default()))
}

/// Detects the format of the file `head` begins and parses `input` (the whole file); rows
/// are stamped with provenance. Rows staged early (large files) are discarded again if the
/// file ends up rejected.
fn parse_input(
    mut outcome: FileOutcome,
    head: &[u8],
    input: &mut dyn BufRead,
    ctx: &ChunkContext<'_>,
) -> Result<(FileOutcome, TableRows)> {
    let path = outcome.path.clone();
    let display = path.display().to_string();
    let file_id = outcome
        .content_hash
        .as_deref()
        .map(|h| h[..16].to_string())
        .unwrap_or_default();
    let format = match ctx.forced {
        Some(f) => f,
        None => match formats::detect(head, &path, &ctx.options.parse) {
            Ok(f) => f,
            Err(rejection) => {
                outcome.issues.push(rejection);
                return Ok((outcome, TableRows::default()));
            }
        },
    };
    outcome.format = Some(format.name());
    let parse_ctx = ParseContext {
        file_id: &file_id,
        path: &path,
        options: &ctx.options.parse,
    };
    // Rows of a large file go to its own open staging files as they are parsed.
    let now = Timestamp::now();
    let mut stager = ctx.commit.map(Commit::stager);
    let mut spilled: Vec<(Table, usize)> = Vec::new();
    let mut already_stored = 0usize;
    // Until the file has yielded more than MERGE_ROWS rows they are held back: a small
    // file's rows are merged with other small files' by the caller.
    let mut held = TableRows::default();
    let mut spill = |mut rows: TableRows| -> Result<()> {
        already_stored += ctx.seen.drop_seen(&mut rows)?;
        stamp(&mut rows, &display, ctx)?;
        let Some(stager) = stager.as_mut() else {
            spilled.extend(rows.counts());
            return Ok(());
        };
        if stager.is_empty() && held.len() + rows.len() <= MERGE_ROWS {
            held.append(rows);
            return Ok(());
        }
        if !held.is_empty() {
            let earlier = std::mem::take(&mut held);
            spilled.extend(earlier.counts());
            stager.append_all(&earlier, now)?;
        }
        spilled.extend(rows.counts());
        stager.append_all(&rows, now)
    };
    let mut sink = RowSink::new(&mut spill, SPILL_ROWS);
    let result = format.parse(input, &parse_ctx, &mut sink);
    let (mut rows, mut issues, issue_count) = sink.finish();
    outcome.bad_lines = issue_count;
    // Reasons quote input text (a cell, a field): keep secrets out of the log and summary.
    for issue in &mut issues {
        issue.reason = redact_command(&issue.reason);
    }
    match result {
        Ok(()) => {
            outcome.already_stored_rows = already_stored + ctx.seen.drop_seen(&mut rows)?;
            stamp(&mut rows, &display, ctx)?;
            held.append(rows);
            let mut rows = held;
            outcome.rows = merge_counts(spilled, rows.counts());
            if let Some(mut stager) = stager {
                // A file that spilled, or is large, stays in its own files; small files'
                // rows are merged into the chunk's shared files by the caller.
                if !stager.is_empty() || rows.len() > MERGE_ROWS {
                    stager.append_all(&rows, now)?;
                    rows = TableRows::default();
                }
                stager.finish()?;
            }
            outcome.issues = issues;
            outcome.status = if issue_count > 0 {
                FileStatus::Partial
            } else {
                FileStatus::Ingested
            };
            Ok((outcome, rows))
        }
        Err(ParseError::Rejected(mut rejection)) => {
            rejection.reason = redact_command(&rejection.reason);
            if let (Some(stager), Some(commit)) = (stager, ctx.commit) {
                commit.discard(&stager.finish()?)?;
            }
            outcome.issues = std::iter::once(rejection).chain(issues).collect();
            outcome.status = FileStatus::Rejected;
            Ok((outcome, TableRows::default()))
        }
        Err(ParseError::Dataset(e)) => Err(e),
    }
}

/// Ids of the transcript rows stored or read so far (see [`TranscriptIds`]), shared by the
/// parsing threads. The stored ones are read from the dataset once a chunk has files to
/// parse ([`SeenIds::load`]): a run in which every file is unchanged never reads them.
struct SeenIds<'d> {
    dataset: &'d Dataset,
    ids: std::sync::OnceLock<Mutex<TranscriptIds>>,
}

impl<'d> SeenIds<'d> {
    fn new(dataset: &'d Dataset) -> Self {
        SeenIds {
            dataset,
            ids: std::sync::OnceLock::new(),
        }
    }

    /// Reads the stored ids unless read already. Called before a chunk's files are handed
    /// to the parsing threads, from the thread that hands them out: the read is parallel
    /// itself, and a parsing thread waiting for its parts could be lent another file to
    /// parse, which would start the same read again.
    fn load(&self) -> Result<&Mutex<TranscriptIds>> {
        if let Some(ids) = self.ids.get() {
            return Ok(ids);
        }
        // Should two threads get here, both read them; the first to finish is kept.
        let stored = self.dataset.stored_transcript_ids()?;
        Ok(self.ids.get_or_init(|| Mutex::new(stored)))
    }

    /// Drops the transcript rows whose ids were seen before; returns how many.
    fn drop_seen(&self, rows: &mut TableRows) -> Result<usize> {
        // A poisoned lock means a parsing thread panicked: its ids are still valid.
        let mut ids = self
            .load()?
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Ok(ids.drop_seen(rows))
    }
}

/// Sets the provenance of a file's rows: its displayed path, the batch's ingest id and
/// the user's labels.
fn stamp(rows: &mut TableRows, display: &str, ctx: &ChunkContext<'_>) -> Result<()> {
    rows.stamp(display, ctx.ingest_id, &ctx.options.labels)
        .map_err(|source| IngestError::Arrow {
            table: Table::LlmCalls.name(),
            source,
        })
}

fn merge_counts(a: Vec<(Table, usize)>, b: Vec<(Table, usize)>) -> Vec<(Table, usize)> {
    let mut merged: std::collections::BTreeMap<Table, usize> = Default::default();
    for (t, n) in a.into_iter().chain(b) {
        *merged.entry(t).or_default() += n;
    }
    merged.into_iter().collect()
}

fn log_row(
    outcome: &FileOutcome,
    ingest_id: &str,
    labels: &Labels,
    now: Timestamp,
) -> IngestLogRow {
    let issue = outcome.first_issue();
    IngestLogRow {
        ingested_ts: Some(now),
        content_hash: outcome.content_hash.clone(),
        size_bytes: Some(outcome.size_bytes as i64),
        format: outcome.format.map(str::to_string),
        status: outcome.status.as_str().to_string(),
        rows: outcome.row_count() as i64,
        rows_by_table: (!outcome.rows.is_empty()).then(|| {
            outcome
                .rows
                .iter()
                .map(|(t, n)| format!("{}={n}", t.name()))
                .collect::<Vec<_>>()
                .join(",")
        }),
        bad_lines: outcome.bad_lines as i64,
        error: issue.map(|i| i.reason.clone()),
        error_line: issue.and_then(|i| i.line.map(|l| l as i64)),
        runlens_version: env!("CARGO_PKG_VERSION").to_string(),
        absolute_path: outcome.absolute_path.clone(),
        file_modified_ts: outcome.modified,
        source_path: Some(outcome.path.display().to_string().into()),
        ingest_id: ingest_id.into(),
        labels: labels.clone(),
    }
}

pub(crate) fn new_ingest_id() -> String {
    // Unique among every writer of the dataset, on any machine: time to the microsecond,
    // 32 random bits (the standard library's randomly seeded hasher), the process, and a
    // counter for several commits of one process within the same microsecond.
    use std::hash::{BuildHasher, Hasher};
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(n);
    let random = hasher.finish() as u32;
    let now = chrono::Utc::now();
    format!(
        "{}-{random:08x}-{:x}-{n}",
        now.format("%Y%m%dT%H%M%S%.6fZ"),
        std::process::id()
    )
    .replace('.', "")
}

/// Expands files, directories and globs into a sorted, de-duplicated file list; inputs
/// that match nothing come back as rejected outcomes.
pub fn expand_inputs(inputs: &[String]) -> (Vec<PathBuf>, Vec<FileOutcome>) {
    let mut files = Vec::new();
    let mut missing = Vec::new();
    let mut seen = HashSet::new();
    let mut push = |p: PathBuf, files: &mut Vec<PathBuf>| {
        if seen.insert(p.clone()) {
            files.push(p);
        }
    };
    for input in inputs {
        let path = PathBuf::from(input);
        if path.is_file() {
            push(path, &mut files);
        } else if path.is_dir() {
            for p in walk(&path) {
                push(p, &mut files);
            }
        } else if input.contains(['*', '?', '[', '{']) {
            let matched = expand_glob(input);
            if matched.is_empty() {
                missing.push(FileOutcome::rejected(
                    path,
                    LineIssue::file("glob matched no file"),
                ));
            }
            for p in matched {
                push(p, &mut files);
            }
        } else {
            missing.push(FileOutcome::rejected(
                path,
                LineIssue::file("no such file or directory"),
            ));
        }
    }
    (files, missing)
}

/// Name of the per-directory file listing inputs to leave out (gitignore syntax).
pub const IGNORE_FILE: &str = ".runlensignore";

/// Regular files under `dir`, recursively, sorted. Hidden entries (`.name`) and paths
/// matched by a `.runlensignore` file (gitignore syntax) are skipped; `.gitignore` is not
/// consulted, since benchmark outputs are often git-ignored on purpose.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = ignore::WalkBuilder::new(dir)
        .standard_filters(false)
        .hidden(true)
        .add_custom_ignore_filename(IGNORE_FILE)
        .build()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_some_and(|t| t.is_file()))
        .map(|e| e.into_path())
        .collect();
    files.sort();
    files
}

fn expand_glob(pattern: &str) -> Vec<PathBuf> {
    let Ok(glob) = GlobBuilder::new(pattern).literal_separator(true).build() else {
        return Vec::new();
    };
    let matcher = glob.compile_matcher();
    // Walk from the longest directory prefix without glob characters.
    let literal: PathBuf = Path::new(pattern)
        .components()
        .take_while(|c| {
            !c.as_os_str()
                .to_string_lossy()
                .contains(['*', '?', '[', '{'])
        })
        .collect();
    let base = if literal.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        literal
    };
    walk(&base)
        .into_iter()
        .filter(|p| {
            let relative = p.strip_prefix("./").unwrap_or(p);
            matcher.is_match(relative) || matcher.is_match(p)
        })
        .collect()
}

/// Errors for a `--format` name, exposed for the CLI's validation.
pub fn check_format(name: &str) -> std::result::Result<(), IngestError> {
    formats::by_name(name).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The identity read once per batch resolves paths as `canonicalize` does: through a
    /// linked folder, and a linked file to its target (whose size and time it takes).
    #[cfg(unix)]
    #[test]
    fn identities_resolve_linked_folders_and_files_like_canonicalize() {
        let dir = tempfile::tempdir().expect("temp dir");
        let real = dir.path().join("real");
        std::fs::create_dir(&real).expect("folder");
        std::fs::write(real.join("a.txt"), b"twelve bytes").expect("file");
        std::os::unix::fs::symlink(&real, dir.path().join("linked")).expect("folder link");
        std::os::unix::fs::symlink(real.join("a.txt"), dir.path().join("b.txt"))
            .expect("file link");
        let paths = vec![
            real.join("a.txt"),
            dir.path().join("linked").join("a.txt"),
            dir.path().join("b.txt"),
            dir.path().join("gone.txt"),
        ];
        let files = InputFile::identify(paths.clone());
        let target = real
            .join("a.txt")
            .canonicalize()
            .expect("canonical")
            .display()
            .to_string();
        for file in &files[..3] {
            assert_eq!(
                file.identity.absolute_path.as_deref(),
                Some(target.as_str())
            );
            assert_eq!(file.identity.size_bytes, 12);
            assert!(file.identity.modified.is_some());
        }
        assert_eq!(files[3].identity.absolute_path, None);
        assert_eq!(files[3].identity.size_bytes, 0);
        let offered: Vec<&PathBuf> = files.iter().map(|f| &f.path).collect();
        assert_eq!(offered, paths.iter().collect::<Vec<_>>());
    }

    /// A new file of its own size is read once; a file that may be a copy of another in
    /// the chunk (same size), one stored from the same path with the same size (touched,
    /// hashing is cheaper than parsing) and one over the limit are hashed first.
    #[test]
    fn files_read_once_are_new_small_and_of_a_size_of_their_own() {
        let file = |name: &str, size_bytes: u64| InputFile {
            path: PathBuf::from(name),
            identity: FileIdentity {
                absolute_path: Some(format!("/in/{name}")),
                size_bytes,
                modified: None,
            },
        };
        let chunk = [
            file("new.jsonl", 10),
            file("copy-a.jsonl", 20),
            file("copy-b.jsonl", 20),
            file("touched.jsonl", 30),
            file("grown.jsonl", 40),
            file("large.jsonl", READ_ONCE_BYTES + 1),
        ];
        let stored = |size_bytes: i64| crate::dataset::KnownFile {
            size_bytes,
            modified_us: 0,
            content_hash: "h".into(),
        };
        let known_files = std::collections::HashMap::from([
            ("/in/touched.jsonl".to_string(), stored(30)),
            ("/in/grown.jsonl".to_string(), stored(35)),
        ]);
        assert_eq!(
            read_once_files(&chunk, &known_files),
            [true, false, false, false, true, false]
        );
    }
}
