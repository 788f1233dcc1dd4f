//! Shared helpers for JSON inputs: reading a document with line-numbered errors, and
//! decoding one entry at a time so a bad entry costs that entry, not the file.

use std::io::BufRead;

use serde::de::DeserializeOwned;

use super::lines::for_each_json_line;
use super::{ParseError, Rejection, RowSink};

/// Reads one JSON document; a syntax error becomes a rejection at its line.
///
/// The text is read whole, then parsed from memory: serde_json reading from a `Read` takes
/// it one byte at a time (here a dynamic call per byte), which was half the time of
/// ingesting hyperfine exports. The document's `Value` is several times the text's size,
/// so holding the text as well adds a fraction to the peak, not a multiple.
pub fn read_document(input: &mut dyn BufRead) -> Result<serde_json::Value, Rejection> {
    let mut text = Vec::new();
    input
        .read_to_end(&mut text)
        .map_err(|e| Rejection::file(format!("read error: {e}")))?;
    serde_json::from_slice(&text).map_err(|e| {
        let what = if e.is_eof() {
            "JSON ends early (truncated file?)".to_string()
        } else {
            format!("invalid JSON: {e}")
        };
        Rejection::at(e.line() as u64, what)
    })
}

/// Decodes `value` as `T`; the error names the JSON path of the offending field.
pub fn decode_entry<T: DeserializeOwned>(
    value: serde_json::Value,
    what: &str,
) -> Result<T, String> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." {
            format!("{what}: {inner}")
        } else {
            format!("{what}.{path}: {inner}")
        }
    })
}

/// Whether a file's first bytes start a JSON object (after a BOM and white space).
pub fn starts_json_object(head: &str) -> bool {
    head.trim_start_matches('\u{feff}')
        .trim_start()
        .starts_with('{')
}

/// Takes the array under `key` and decodes each entry as `T`; an entry that does not decode
/// is reported (by its JSON path) and skipped. Rejects the file when the array is missing
/// or no entry decodes.
pub fn decode_array<T: DeserializeOwned>(
    doc: &mut serde_json::Value,
    key: &str,
    sink: &mut RowSink<'_>,
) -> Result<Vec<(usize, T)>, Rejection> {
    let entries = match doc.get_mut(key).map(serde_json::Value::take) {
        Some(serde_json::Value::Array(entries)) => entries,
        _ => return Err(Rejection::file(format!("{key} is missing or not an array"))),
    };
    let mut decoded = Vec::with_capacity(entries.len());
    for (index, value) in entries.into_iter().enumerate() {
        match decode_entry(value, &format!("{key}[{index}]")) {
            Ok(entry) => decoded.push((index, entry)),
            Err(reason) => sink.issue(Rejection::file(reason)),
        }
    }
    if decoded.is_empty() {
        return Err(Rejection::file(format!("{key} holds no readable entry")));
    }
    Ok(decoded)
}

/// Whether `head` has a field `"key": "value"` (any spacing around the colon): a cheap
/// detection test that needs no complete document.
pub fn has_string_field(head: &str, key: &str, value: &str) -> bool {
    let quoted_key = format!("\"{key}\"");
    let quoted_value = format!("\"{value}\"");
    head.match_indices(&quoted_key).any(|(at, _)| {
        let rest = head[at + quoted_key.len()..].trim_start();
        rest.strip_prefix(':')
            .is_some_and(|r| r.trim_start().starts_with(&quoted_value))
    })
}

/// Whether to read the input as JSONL: its first non-blank line is a whole JSON value by
/// itself, or runs past what is buffered (a pretty-printed document breaks its first line
/// early; one-line documents read the same either way). Looks only at buffered bytes.
pub fn first_line_is_a_document(input: &mut dyn BufRead) -> bool {
    let Ok(buffered) = input.fill_buf() else {
        return false;
    };
    let text = String::from_utf8_lossy(buffered);
    let text = text.trim_start_matches('\u{feff}').trim_start();
    match text.find('\n') {
        Some(end) => serde_json::from_str::<serde_json::Value>(text[..end].trim()).is_ok(),
        None => !text.is_empty(),
    }
}

/// What [`for_each_document`] calls with each document, its line (None for a whole-file
/// document) and the sink.
pub type DocumentHandler<'a> =
    dyn FnMut(serde_json::Value, Option<u64>, &mut RowSink<'_>) -> Result<(), ParseError> + 'a;

/// Calls `each` with every JSON document of the input: the one document of a JSON file
/// (line None), or each line of JSONL (line Some(n)), streaming with bounded memory. Bad
/// lines (not JSON, too long) are reported and skipped; `what` names a document in their
/// reasons. A broken single document rejects the file. Returns the documents read.
pub fn for_each_document(
    input: &mut dyn BufRead,
    sink: &mut RowSink<'_>,
    what: &str,
    each: &mut DocumentHandler<'_>,
) -> Result<u64, ParseError> {
    if !first_line_is_a_document(input) {
        let doc = read_document(input)?;
        each(doc, None, sink)?;
        return Ok(1);
    }
    for_each_json_line(
        input,
        sink,
        what,
        &mut |doc: serde_json::Value, number, sink| {
            each(doc, Some(number), sink)?;
            Ok(sink.checkpoint()?)
        },
    )
}

/// Whether one of the first 20 lines of `head` is a JSON object (a BOM and leading blanks
/// aside) that `test` accepts: how the JSONL transcript formats recognise themselves.
pub fn any_object_line(head: &str, test: impl Fn(&str) -> bool) -> bool {
    head.lines().take(20).any(|line| {
        let line = line.trim_start_matches('\u{feff}').trim_start();
        line.starts_with('{') && test(line)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_fields_match_with_any_spacing() {
        assert!(has_string_field(r#"{"type":"message"}"#, "type", "message"));
        assert!(has_string_field(
            r#"{"a": 1, "type" :  "message"}"#,
            "type",
            "message"
        ));
        assert!(!has_string_field(
            r#"{"type": "messages"}"#,
            "type",
            "message"
        ));
        assert!(!has_string_field(
            r#"{"kind": "message"}"#,
            "type",
            "message"
        ));
    }
}
