//! Inputs read directly, without a dataset: paths given on the command line (read into a
//! temporary dataset, as `report PATH...` and `sessions PATH...` do), and the places the
//! agents keep their transcripts, for a user who points runlens at nothing (as ccusage does).

use std::path::{Path, PathBuf};

use anyhow::Context;
use runlens_ingest::schema::Labels;
use runlens_ingest::{IngestOptions, ingest};

use crate::progress::Bar;

/// Where Claude Code and Codex keep their transcripts, as they say themselves:
/// `CLAUDE_CONFIG_DIR` (a comma-separated list of folders, each with `projects/`), else
/// `~/.config/claude/projects` and `~/.claude/projects`; `CODEX_HOME/sessions`, else
/// `~/.codex/sessions`. Every candidate, in that order, whether it exists or not.
pub fn agent_homes(env: &dyn Fn(&str) -> Option<String>) -> Vec<PathBuf> {
    let home = env("HOME").map(PathBuf::from);
    let mut places = Vec::new();
    match env("CLAUDE_CONFIG_DIR").filter(|v| !v.trim().is_empty()) {
        Some(dirs) => places.extend(
            dirs.split(',')
                .map(str::trim)
                .filter(|d| !d.is_empty())
                .map(|d| Path::new(d).join("projects")),
        ),
        None => {
            if let Some(home) = &home {
                places.push(home.join(".config/claude/projects"));
                places.push(home.join(".claude/projects"));
            }
        }
    }
    match env("CODEX_HOME").filter(|v| !v.trim().is_empty()) {
        Some(dir) => places.push(Path::new(&dir).join("sessions")),
        None => {
            if let Some(home) = &home {
                places.push(home.join(".codex/sessions"));
            }
        }
    }
    places
}

/// The agents' places that exist on this machine; says on stderr where it looked.
pub fn discovered_inputs() -> Vec<String> {
    let candidates = agent_homes(&|name| std::env::var(name).ok());
    let found: Vec<String> = candidates
        .iter()
        .filter(|p| p.is_dir())
        .map(|p| p.display().to_string())
        .collect();
    let looked: Vec<String> = candidates.iter().map(|p| p.display().to_string()).collect();
    match found.is_empty() {
        true => eprintln!(
            "runlens: no transcripts found: looked in {} (set CLAUDE_CONFIG_DIR or CODEX_HOME, or give paths)",
            looked.join(", ")
        ),
        false => eprintln!(
            "runlens: reading the agents' transcripts in {}",
            found.join(", ")
        ),
    }
    found
}

/// `paths` read into a temporary dataset (the `--data` dataset is neither read nor changed);
/// also whether any input was rejected (named on stderr).
pub fn scratch_dataset(paths: &[String]) -> anyhow::Result<(tempfile::TempDir, bool)> {
    let dir = tempfile::tempdir().context("creating a temporary dataset")?;
    let options = IngestOptions {
        inputs: paths.to_vec(),
        labels: Labels::default(),
        ..IngestOptions::default()
    };
    let summary = ingest(
        &runlens_ingest::Dataset::new(dir.path()),
        &options,
        &Bar::for_stderr(),
    )
    .with_context(|| format!("reading {}", paths.join(", ")))?;
    let rejected = summary.has_rejections();
    if rejected {
        // Every input is accounted for: the rejected ones are named, and exit 1 says so.
        eprint!("{}", runlens_reports::render_ingest_summary(&summary));
    }
    Ok((dir, rejected))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name: &str| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    #[test]
    fn the_agents_say_where_their_transcripts_are() {
        let defaults = agent_homes(&env(&[("HOME", "/home/u")]));
        assert_eq!(
            defaults,
            [
                PathBuf::from("/home/u/.config/claude/projects"),
                PathBuf::from("/home/u/.claude/projects"),
                PathBuf::from("/home/u/.codex/sessions"),
            ]
        );
        let set = agent_homes(&env(&[
            ("HOME", "/home/u"),
            ("CLAUDE_CONFIG_DIR", "/a, /b"),
            ("CODEX_HOME", "/c"),
        ]));
        assert_eq!(
            set,
            [
                PathBuf::from("/a/projects"),
                PathBuf::from("/b/projects"),
                PathBuf::from("/c/sessions"),
            ]
        );
    }
}
