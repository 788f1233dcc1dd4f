//! Shared helpers for JSON inputs: reading a document with line-numbered errors, and
//! decoding one entry at a time so a bad entry costs that entry, not the file.

use std::collections::BTreeMap;
use std::io::BufRead;

use serde::Deserialize;
use serde_json::value::RawValue;

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

/// Whether a file's first bytes start a JSON object (after a BOM and white space).
pub fn starts_json_object(head: &str) -> bool {
    head.trim_start_matches('\u{feff}')
        .trim_start()
        .starts_with('{')
}

/// A JSON object document read whole, its top-level fields located but not yet decoded:
/// the benchmark exports (hyperfine, bench suites), whose entries are decoded one by one
/// straight into their typed structs ([`decode_array`]). Going through a `serde_json::Value`
/// tree instead allocated a node per number of every `times` array and then walked the tree
/// again; it was three quarters of the time these files took to parse.
pub struct JsonObjectDocument {
    text: Vec<u8>,
}

/// The top-level fields of a [`JsonObjectDocument`], each still unparsed JSON text. A key
/// given twice keeps its last value, as a `serde_json::Value` would.
pub type TopLevelFields<'d> = BTreeMap<String, &'d RawValue>;

impl JsonObjectDocument {
    /// Reads the whole input; nothing is parsed yet.
    pub fn read(input: &mut dyn BufRead) -> Result<Self, Rejection> {
        let mut text = Vec::new();
        input
            .read_to_end(&mut text)
            .map_err(|e| Rejection::file(format!("read error: {e}")))?;
        Ok(JsonObjectDocument { text })
    }

    /// The document's top-level fields. The whole text is checked here: a syntax error
    /// anywhere (or invalid UTF-8 in a string) rejects the file at its line, and a document
    /// that is not an object is rejected as such.
    pub fn fields(&self) -> Result<TopLevelFields<'_>, Rejection> {
        serde_json::from_slice(&self.text).map_err(|e| {
            let what = if e.is_eof() {
                "JSON ends early (truncated file?)".to_string()
            } else if e.is_data() {
                "not a JSON object".to_string()
            } else {
                format!("invalid JSON: {e}")
            };
            Rejection::at(e.line() as u64, what)
        })
    }

    /// The whole document decoded as `D` in one pass, or None when any part of it does not
    /// decode. The fast path for the usual, well-formed file: a caller that gets None takes
    /// the entry-by-entry path ([`Self::fields`], [`decode_array`]), which keeps the good
    /// entries and says what is wrong with the others, and where.
    pub fn decode_whole<'d, D: Deserialize<'d>>(&'d self) -> Option<D> {
        serde_json::from_slice(&self.text).ok()
    }

    /// The 1-based line on which `value`, a part of this document, starts.
    fn line_of(&self, value: &RawValue) -> u64 {
        let start = (value.get().as_ptr() as usize)
            .saturating_sub(self.text.as_ptr() as usize)
            .min(self.text.len());
        1 + memchr::memchr_iter(b'\n', &self.text[..start]).count() as u64
    }
}

/// Decodes the array under `key` entry by entry as `T`; an entry that does not decode is
/// reported at its line, by its JSON path (`results[3].times[2]: ...`), and skipped.
/// Rejects the file when the array is missing or no entry decodes.
pub fn decode_array<'d, T: Deserialize<'d>>(
    doc: &'d JsonObjectDocument,
    fields: &TopLevelFields<'d>,
    key: &str,
    sink: &mut RowSink<'_>,
) -> Result<Vec<(usize, T)>, Rejection> {
    let missing = || Rejection::file(format!("{key} is missing or not an array"));
    let raw = fields.get(key).ok_or_else(missing)?;
    let entries: Vec<&'d RawValue> = serde_json::from_str(raw.get()).map_err(|_| missing())?;
    let mut decoded = Vec::with_capacity(entries.len());
    for (index, entry) in entries.into_iter().enumerate() {
        let mut deserializer = serde_json::Deserializer::from_str(entry.get());
        match serde_path_to_error::deserialize(&mut deserializer) {
            Ok(value) => decoded.push((index, value)),
            Err(e) => {
                let path = e.path().to_string();
                let inner = e.into_inner();
                let line = doc.line_of(entry) + (inner.line() as u64).saturating_sub(1);
                // serde_json ends its message with the position within the entry; the
                // rejection carries the line in the file instead.
                let message = inner.to_string();
                let position = format!(" at line {} column {}", inner.line(), inner.column());
                let message = message.strip_suffix(&position).unwrap_or(&message);
                let reason = if path == "." {
                    format!("{key}[{index}]: {message}")
                } else {
                    format!("{key}[{index}].{path}: {message}")
                };
                sink.issue(Rejection::at(line, reason));
            }
        }
    }
    if decoded.is_empty() {
        return Err(Rejection::file(format!("{key} holds no readable entry")));
    }
    Ok(decoded)
}

/// Decodes the top-level field `key` as `T`; None when it is absent or of another shape.
pub fn decode_field<'d, T: Deserialize<'d>>(fields: &TopLevelFields<'d>, key: &str) -> Option<T> {
    fields
        .get(key)
        .and_then(|raw| serde_json::from_str(raw.get()).ok())
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
