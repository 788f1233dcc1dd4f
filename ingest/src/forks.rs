//! Codex forks counted once.
//!
//! A forked Codex session (`codex fork`, or a sub-agent spawned by a thread) gets its own
//! rollout file, which starts with its parent's history replayed: the parent's items and
//! `token_count` events again, with rewritten timestamps. Summing the child's calls counts
//! the parent's work a second time (in the real pair in `../shared/realworld`, 38,414 of the
//! child's 55,895 output tokens are the parent's). The child's file does not say where the
//! replay ends: the parent's own history holds the same zero-usage events the fork's resume
//! writes.
//!
//! So the replay is found by comparing with the parent. Ingest reads a fork (its first line,
//! `session_meta`, names the parent in `forked_from_id`, or a sub-agent's in
//! `source.subagent.thread_spawn.parent_thread_id`) after the other files of the batch are
//! committed, and hands the Codex reader the parent's calls from the dataset. The reader
//! matches the child's calls, from its first one, against a contiguous run of the parent's
//! (same uncached input, cache read, output and reasoning tokens, call after call); the
//! longest run is the replayed history and is not stored again, its tool calls with it, and
//! the child's session totals leave it out. A fork of a fork in the same batch waits for its
//! parent's round. When the parent is not in the dataset (nor in the batch), nothing can be
//! told apart: the child is stored whole and its session gets the `fork_replay_unresolved`
//! warning (ingest the parent first, or with it; a file already ingested is not read
//! again).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use crate::schema::LlmCallRow;

/// What identifies a response's usage when matching a replay: uncached input, cache read,
/// output and reasoning tokens.
pub type UsageVector = [Option<i64>; 4];

/// Per parent session, the calls of its line, oldest ancestor first: for a root session its
/// own calls, for a fork its parent's line and then its own stored calls, each in the order
/// its file holds them.
pub type ParentCalls = HashMap<String, Vec<Vec<UsageVector>>>;

/// The session label that names a fork's parent session.
pub const FORKED_FROM: &str = "forked_from";

/// A call's usage vector.
pub fn usage_vector(call: &LlmCallRow) -> UsageVector {
    [
        call.input_tokens,
        call.cache_read_input_tokens,
        call.output_tokens,
        call.reasoning_tokens,
    ]
}

/// The parent a `session_meta` payload names, if the session is a fork.
pub fn parent_of(session_meta: &serde_json::Value) -> Option<&str> {
    session_meta
        .get("forked_from_id")
        .or_else(|| session_meta.pointer("/source/subagent/thread_spawn/parent_thread_id"))
        .and_then(serde_json::Value::as_str)
}

/// A fork named by its file's first line: (its session id, its parent's). Only `.jsonl`
/// files (as Codex writes its rollouts) are opened, and at most their first 64 KiB read;
/// anything else (another format, a root session, an unreadable file) is None.
pub fn fork_in_file(path: &Path) -> Option<(String, String)> {
    if path.extension().and_then(|e| e.to_str()) != Some("jsonl") {
        return None;
    }
    let file = std::fs::File::open(path).ok()?;
    let mut first = String::new();
    BufReader::new(file.take(64 * 1024))
        .read_line(&mut first)
        .ok()?;
    if !first.contains("session_meta") {
        return None;
    }
    let record: serde_json::Value = serde_json::from_str(first.trim()).ok()?;
    let payload = record.get("payload")?;
    let parent = parent_of(payload)?;
    let id = payload.get("id").and_then(serde_json::Value::as_str)?;
    Some((id.to_string(), parent.to_string()))
}

/// How many of the child's first calls replay its parent's line (`line`, oldest ancestor
/// first): the longest run of the oldest ancestor's calls equal to the start of `child`, then
/// the longest run of the next one's equal to what follows, and so on (a fork of a fork
/// replays its grandparent's history, then its parent's own calls).
pub fn replayed_line(child: &[UsageVector], line: &[Vec<UsageVector>]) -> usize {
    line.iter().fold(0, |matched, calls| {
        matched + replayed_prefix(&child[matched..], calls)
    })
}

/// The longest run of `parent` equal to the start of `child`.
pub fn replayed_prefix(child: &[UsageVector], parent: &[UsageVector]) -> usize {
    let Some(first) = child.first() else {
        return 0;
    };
    (0..parent.len())
        .filter(|&start| parent[start] == *first)
        .map(|start| {
            parent[start..]
                .iter()
                .zip(child)
                .take_while(|(p, c)| p == c)
                .count()
        })
        .max()
        .unwrap_or(0)
}

/// The rounds in which the forks `(child, parent)` can be read: a fork whose parent is
/// itself a fork of the batch comes in a later round than its parent. Returns indexes into
/// `forks`, round by round (a cycle, which real files cannot form, ends in the last round).
pub fn rounds(forks: &[(String, String)]) -> Vec<Vec<usize>> {
    let index: HashMap<&str, usize> = forks
        .iter()
        .enumerate()
        .map(|(i, (child, _))| (child.as_str(), i))
        .collect();
    // A fork's round: how many of its ancestors are forks of the batch.
    let round_of: Vec<usize> = (0..forks.len())
        .map(|start| {
            let mut depth = 0;
            let mut at = start;
            while let Some(&up) = index.get(forks[at].1.as_str()) {
                depth += 1;
                at = up;
                if depth >= forks.len() {
                    break;
                }
            }
            depth
        })
        .collect();
    let last = round_of.iter().max().copied().unwrap_or(0);
    (0..=last)
        .map(|r| (0..forks.len()).filter(|&i| round_of[i] == r).collect())
        .filter(|round: &Vec<usize>| !round.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(output: i64) -> UsageVector {
        [Some(10), Some(0), Some(output), None]
    }

    #[test]
    fn the_longest_run_matching_the_child_start_is_the_replay() {
        let parent = [v(1), v(2), v(3), v(4)];
        // The whole parent replayed, then the child's own calls.
        assert_eq!(replayed_prefix(&[v(1), v(2), v(3), v(4), v(9)], &parent), 4);
        // A replay of a later section of the parent (its history cut at a compaction).
        assert_eq!(replayed_prefix(&[v(3), v(4), v(7)], &parent), 2);
        // A child whose first call is its own.
        assert_eq!(replayed_prefix(&[v(8), v(1)], &parent), 0);
        // Of two starts, the longer run wins.
        assert_eq!(
            replayed_prefix(&[v(1), v(1), v(2)], &[v(1), v(5), v(1), v(1), v(2)]),
            3
        );
        assert_eq!(replayed_prefix(&[], &parent), 0);
    }

    #[test]
    fn a_fork_of_a_fork_replays_its_grandparents_history_then_its_parents_calls() {
        let root = vec![v(1), v(2), v(3)];
        let child_own = vec![v(4), v(5)];
        // The grandchild replays the child's history: the root's calls up to the fork,
        // then the child's own; then its own work.
        let grandchild = [v(1), v(2), v(4), v(5), v(6)];
        assert_eq!(replayed_line(&grandchild, &[root.clone(), child_own]), 4);
        assert_eq!(replayed_line(&grandchild, &[root]), 2);
        assert_eq!(replayed_line(&grandchild, &[]), 0);
    }

    #[test]
    fn forks_of_forks_come_after_their_parents() {
        let forks = [
            ("grandchild".to_string(), "child".to_string()),
            ("child".to_string(), "root".to_string()),
            ("sibling".to_string(), "root".to_string()),
        ];
        assert_eq!(rounds(&forks), [vec![1, 2], vec![0]]);
        assert!(rounds(&[]).is_empty());
    }
}
