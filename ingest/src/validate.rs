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
    // One task per file, so that one thread is not left with a run of large files.
    let mut out: Vec<ValidatedFile> = files
        .par_iter()
        .with_max_len(1)
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
    let head = match formats::read_head(&mut reader) {
        Ok(head) => head,
        Err(e) => {
            result
                .problems
                .push(Rejection::file(format!("read error: {e}")));
            return result;
        }
    };
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

/// A session as `validate` reports it: its agents' rows, from whichever files they came,
/// folded into one (as the dataset reader folds them: counts and tokens summed, the worst
/// status, every agent's findings once).
#[derive(Debug, Clone)]
pub struct ValidatedSession {
    /// The file of the session's main agent (of its first agent when the main one was not
    /// read).
    pub path: PathBuf,
    /// The session, its agents folded in; `finding_details` holds every agent's findings,
    /// a sub-agent's with its `agent`.
    pub session: SessionRow,
    /// Each agent's own row and file, the main agent first.
    pub agents: Vec<(PathBuf, SessionRow)>,
}

impl Validation {
    /// Every session found, its agents folded in, in file order.
    pub fn sessions(&self) -> Vec<ValidatedSession> {
        let mut out: Vec<ValidatedSession> = Vec::new();
        for file in &self.files {
            for row in &file.sessions {
                let found = out.iter_mut().find(|s| {
                    s.session.session_id == row.session_id
                        && s.session.source_format == row.source_format
                });
                let agent = (file.path.clone(), row.clone());
                match found {
                    Some(s) => s.agents.push(agent),
                    None => out.push(ValidatedSession {
                        path: file.path.clone(),
                        session: row.clone(),
                        agents: vec![agent],
                    }),
                }
            }
        }
        for s in &mut out {
            // The main agent first, then the others by id.
            s.agents.sort_by(|a, b| {
                (a.1.agent_id.is_some(), &a.1.agent_id)
                    .cmp(&(b.1.agent_id.is_some(), &b.1.agent_id))
            });
            s.path = s.agents[0].0.clone();
            s.session = fold(&s.agents);
        }
        out
    }
}

/// The agents' rows (main first) as one session row.
fn fold(agents: &[(PathBuf, SessionRow)]) -> SessionRow {
    let mut session = agents[0].1.clone();
    let sum = |f: fn(&SessionRow) -> i64| agents.iter().map(|(_, r)| f(r)).sum::<i64>();
    let tokens = |f: fn(&SessionRow) -> Option<i64>| {
        agents.iter().filter_map(|(_, r)| f(r)).reduce(|a, b| a + b)
    };
    session.message_count = sum(|r| r.message_count);
    session.user_messages = sum(|r| r.user_messages);
    session.assistant_messages = sum(|r| r.assistant_messages);
    session.system_messages = sum(|r| r.system_messages);
    session.tool_calls = sum(|r| r.tool_calls);
    session.tool_errors = sum(|r| r.tool_errors);
    session.input_tokens = tokens(|r| r.input_tokens);
    session.output_tokens = tokens(|r| r.output_tokens);
    session.cache_read_input_tokens = tokens(|r| r.cache_read_input_tokens);
    session.cache_creation_input_tokens = tokens(|r| r.cache_creation_input_tokens);
    session.started_ts = agents.iter().filter_map(|(_, r)| r.started_ts).min();
    session.last_activity_ts = agents.iter().filter_map(|(_, r)| r.last_activity_ts).max();
    let rank = |s: Option<&str>| match s {
        Some("error") => 2,
        Some("warning") => 1,
        _ => 0,
    };
    session.validation_status = agents
        .iter()
        .map(|(_, r)| r.validation_status.clone())
        .max_by_key(|s| rank(s.as_deref()))
        .flatten();
    let mut codes: Vec<&str> = Vec::new();
    let mut details: Vec<serde_json::Value> = Vec::new();
    for (_, row) in agents {
        for code in row.findings.iter().flat_map(|f| f.split(',')) {
            if !code.is_empty() && !codes.contains(&code) {
                codes.push(code);
            }
        }
        let own: Vec<serde_json::Value> = row
            .finding_details
            .as_deref()
            .and_then(|d| serde_json::from_str(d).ok())
            .unwrap_or_default();
        for mut detail in own {
            if let (Some(id), Some(object)) = (&row.agent_id, detail.as_object_mut()) {
                object.insert(
                    "agent".into(),
                    serde_json::Value::String(format!("{} {id}", row.agent_kind)),
                );
            }
            details.push(detail);
        }
    }
    session.findings = (!codes.is_empty()).then(|| codes.join(","));
    session.finding_details =
        (!details.is_empty()).then(|| serde_json::Value::Array(details).to_string());
    session
}
