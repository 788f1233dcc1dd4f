//! `runlens validate`.

use runlens_ingest::formats::ParseOptions;
use runlens_ingest::validate::validate;

use super::{Outcome, print_stdout};
use crate::cli::{ValidateArgs, ValidateFormat};

/// Runs the command: exit 1 when any session (its sub-agents folded in) has an error
/// finding or a file is unreadable.
pub fn run(args: ValidateArgs) -> anyhow::Result<Outcome> {
    let options = ParseOptions {
        validation: args.expectations.to_options(),
        ..ParseOptions::default()
    };
    let window = args.window.to_window();
    let mut paths = args.paths.clone();
    if args.discover || paths.is_empty() {
        paths.extend(super::inputs::discovered_inputs());
        if paths.is_empty() {
            return Err(super::UsageError(
                "no transcripts in the agents' folders: give paths, or set CLAUDE_CONFIG_DIR / \
                 CODEX_HOME"
                    .into(),
            )
            .into());
        }
    }
    let mut validation = validate(&paths, &options, &window);
    validation.files.sort_by(|a, b| a.path.cmp(&b.path));
    let sessions = validation.sessions();
    let files = &validation.files;
    let text = match args.format {
        ValidateFormat::Table => {
            runlens_reports::validation::render_table(&sessions, files, args.agents)
        }
        ValidateFormat::Json => runlens_reports::validation::render_json(&sessions),
    };
    print_stdout(&text)?;
    if validation.older_than_since > 0 {
        eprintln!(
            "{} file(s) left out unopened: last modified before --since",
            validation.older_than_since
        );
    }
    let unreadable = files.iter().any(|f| f.sessions.is_empty());
    let failed = sessions
        .iter()
        .any(|s| s.session.validation_status.as_deref() == Some("error"));
    Ok(if failed || unreadable {
        Outcome::Rejected
    } else {
        Outcome::Success
    })
}
