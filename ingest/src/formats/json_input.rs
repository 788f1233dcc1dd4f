//! Shared helpers for JSON inputs: reading a document with line-numbered errors, and
//! decoding one entry at a time so a bad entry costs that entry, not the file.

use std::io::BufRead;

use serde::de::DeserializeOwned;

use super::Rejection;

/// Reads one JSON document; a syntax error becomes a rejection at its line.
pub fn read_document(input: &mut dyn BufRead) -> Result<serde_json::Value, Rejection> {
    serde_json::from_reader(input).map_err(|e| {
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
