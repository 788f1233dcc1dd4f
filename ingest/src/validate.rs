//! `runlens validate`: reads transcripts without writing anything and returns every session
//! with its validation verdict (the same rules ingest applies, see [`crate::sessions`]).

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::formats::{self, ParseContext, ParseError, ParseOptions, Rejection, RowSink};
use crate::pipeline::expand_inputs;
use crate::schema::SessionRow;
use crate::window::TimeWindow;

/// The sessions found in one file, or why the file could not be read.
#[derive(Debug, Clone)]
pub struct ValidatedFile {
    /// The file.
    pub path: PathBuf,
    /// Its format, if recognised.
    pub format: Option<&'static str>,
    /// Its sessions, each with `validation_status`, `findings` and `finding_details`.
    pub sessions: Vec<SessionRow>,
    /// Why the file (or some of its lines) could not be read.
    pub problems: Vec<Rejection>,
}

/// What `runlens validate` found.
#[derive(Debug, Clone, Default)]
pub struct Validation {
    /// Every file read (or that could not be), with its sessions.
    pub files: Vec<ValidatedFile>,
    /// Files left out unopened: last modified before the window's start.
    pub older_than_since: usize,
}

/// Validates every session in `inputs` (files, directories, globs) that overlaps `window`,
/// in parallel across files; files older than the window are not opened.
pub fn validate(inputs: &[String], options: &ParseOptions, window: &TimeWindow) -> Validation {
    let (mut files, missing) = expand_inputs(inputs);
    let offered = files.len();
    files.retain(|f| window.may_contain_file(f));
    let older_than_since = offered - files.len();
    let mut out: Vec<ValidatedFile> = files
        .par_iter()
        .filter_map(|path| {
            let mut file = validate_file(path, options);
            let found = file.sessions.len();
            file.sessions.retain(|s| window.keeps_session(s));
            // A readable file whose sessions all fall outside the window is not shown.
            let outside = found > 0 && file.sessions.is_empty() && file.problems.is_empty();
            (!outside).then_some(file)
        })
        .collect();
    out.extend(missing.into_iter().map(|m| ValidatedFile {
        path: m.path,
        format: None,
        sessions: Vec::new(),
        problems: m.issues,
    }));
    Validation {
        files: out,
        older_than_since,
    }
}

fn validate_file(path: &Path, options: &ParseOptions) -> ValidatedFile {
    let mut result = ValidatedFile {
        path: path.to_path_buf(),
        format: None,
        sessions: Vec::new(),
        problems: Vec::new(),
    };
    let mut reader = match File::open(path) {
        Ok(f) => BufReader::with_capacity(256 * 1024, f),
        Err(e) => {
            result
                .problems
                .push(Rejection::file(format!("cannot open: {e}")));
            return result;
        }
    };
    let mut head = Vec::with_capacity(formats::SNIFF_BYTES);
    if let Err(e) = (&mut reader)
        .take(formats::SNIFF_BYTES as u64)
        .read_to_end(&mut head)
    {
        result
            .problems
            .push(Rejection::file(format!("read error: {e}")));
        return result;
    }
    let format = match formats::detect(&head, path, options) {
        Ok(f) => f,
        Err(rejection) => {
            result.problems.push(rejection);
            return result;
        }
    };
    result.format = Some(format.name());
    let mut input = std::io::Cursor::new(head).chain(reader);
    let ctx = ParseContext {
        file_id: "validate",
        path,
        options,
    };
    let mut sessions: Vec<SessionRow> = Vec::new();
    let mut keep_sessions = |rows: crate::schema::TableRows| {
        sessions.extend(rows.sessions);
        Ok(())
    };
    let mut sink = RowSink::new(&mut keep_sessions, 8192);
    let parsed = format.parse(&mut input, &ctx, &mut sink);
    let (rows, issues, _) = sink.finish();
    result.problems.extend(issues);
    match parsed {
        Ok(()) => {}
        Err(ParseError::Rejected(r)) => result.problems.push(r),
        Err(ParseError::Dataset(e)) => result.problems.push(Rejection::file(e.to_string())),
    }
    sessions.extend(rows.sessions);
    result.sessions = sessions;
    result
}
