//! A line reader with bounded memory for text inputs of any size.
//!
//! `BufRead::read_line` would allocate the whole of a 200 MB line. This reader keeps at
//! most `max_len` bytes of a line and skips the rest, telling the caller how long the line
//! really was, so one absurd line costs a warning, not the machine's memory. Invalid UTF-8
//! is replaced (U+FFFD) and flagged, never fatal.

use std::borrow::Cow;
use std::io::{self, BufRead};

use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::{ParseError, Rejection, RowSink};

/// Longest line kept whole; longer lines are reported and skipped.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// One line of text, without its line terminator.
#[derive(Debug)]
pub struct Line<'a> {
    /// 1-based line number.
    pub number: u64,
    /// The text, invalid UTF-8 replaced.
    pub text: Cow<'a, str>,
    /// Whether the raw bytes were not valid UTF-8.
    pub invalid_utf8: bool,
    /// `Some(total length)` when the line exceeded the limit and `text` is empty.
    pub too_long: Option<usize>,
}

/// Reads lines of at most `max_len` bytes from a `BufRead`.
pub struct LineReader<R> {
    inner: R,
    buf: Vec<u8>,
    number: u64,
    max_len: usize,
    /// Bytes of the line handed out last, still in `inner`'s buffer: it was lent, not
    /// copied, and is consumed at the next call.
    lent: usize,
    /// Bytes consumed so far (for progress and throughput).
    pub bytes_read: u64,
}

impl<R: BufRead> LineReader<R> {
    /// A reader keeping lines of up to [`MAX_LINE_BYTES`].
    pub fn new(inner: R) -> Self {
        Self::with_limit(inner, MAX_LINE_BYTES)
    }

    /// A reader keeping lines of up to `max_len` bytes.
    pub fn with_limit(inner: R, max_len: usize) -> Self {
        LineReader {
            inner,
            buf: Vec::new(),
            number: 0,
            max_len,
            lent: 0,
            bytes_read: 0,
        }
    }

    /// The next line, or `None` at the end of the input. A line that lies whole in the
    /// reader's buffer is lent from there; one that spans refills is gathered in a buffer
    /// of its own (copying every line was 3 % of a Claude Code ingest's instructions).
    pub fn next_line(&mut self) -> io::Result<Option<Line<'_>>> {
        if self.lent > 0 {
            self.inner.consume(std::mem::take(&mut self.lent));
        }
        let max_len = self.max_len;
        let whole = loop {
            match self.inner.fill_buf() {
                Ok(chunk) => break memchr_newline(chunk).filter(|&end| end <= max_len),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        };
        if let Some(end) = whole {
            self.lent = end + 1;
            self.bytes_read += self.lent as u64;
            self.number += 1;
            // The same bytes as above: nothing was consumed, so nothing is read.
            let line = self.inner.fill_buf()?.get(..end).ok_or_else(|| {
                io::Error::other("the reader's buffer shrank without being consumed")
            })?;
            let (text, invalid_utf8) = decode(without_cr(line));
            return Ok(Some(Line {
                number: self.number,
                text,
                invalid_utf8,
                too_long: None,
            }));
        }
        self.buf.clear();
        let mut total = 0usize;
        let mut saw_any = false;
        loop {
            let chunk = match self.inner.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if chunk.is_empty() {
                break;
            }
            saw_any = true;
            let (take, found_newline) = match memchr_newline(chunk) {
                Some(i) => (i + 1, true),
                None => (chunk.len(), false),
            };
            let content = if found_newline { take - 1 } else { take };
            let room = self.max_len.saturating_sub(self.buf.len());
            self.buf.extend_from_slice(&chunk[..content.min(room)]);
            total += content;
            self.inner.consume(take);
            self.bytes_read += take as u64;
            if found_newline {
                break;
            }
        }
        if !saw_any {
            return Ok(None);
        }
        self.number += 1;
        if self.buf.last() == Some(&b'\r') {
            self.buf.pop();
        }
        if total > self.max_len {
            return Ok(Some(Line {
                number: self.number,
                text: Cow::Borrowed(""),
                invalid_utf8: false,
                too_long: Some(total),
            }));
        }
        let (text, invalid_utf8) = decode(&self.buf);
        Ok(Some(Line {
            number: self.number,
            text,
            invalid_utf8,
            too_long: None,
        }))
    }
}

/// A line's text and whether its bytes were invalid UTF-8. One validation: valid text is
/// borrowed, only invalid bytes take the lossy copy.
fn decode(bytes: &[u8]) -> (Cow<'_, str>, bool) {
    match std::str::from_utf8(bytes) {
        Ok(text) => (Cow::Borrowed(text), false),
        Err(_) => (String::from_utf8_lossy(bytes), true),
    }
}

/// `line` without a final carriage return (a CRLF line end).
fn without_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// The issue reported for a line longer than the limit.
pub fn too_long_issue(number: u64, len: usize) -> super::LineIssue {
    super::LineIssue::at(
        number,
        format!("line of {len} bytes skipped (limit {MAX_LINE_BYTES})"),
    )
}

/// Calls `each` with every line of `input` (the one line loop of the line-based parsers): a
/// read error rejects the file; a line over [`MAX_LINE_BYTES`] is reported and skipped.
pub fn for_each_line(
    input: &mut dyn BufRead,
    sink: &mut RowSink<'_>,
    each: &mut dyn FnMut(&Line<'_>, &mut RowSink<'_>) -> Result<(), ParseError>,
) -> Result<(), ParseError> {
    let mut reader = LineReader::new(input);
    while let Some(line) = reader
        .next_line()
        .map_err(|e| Rejection::file(format!("read error: {e}")))?
    {
        if let Some(len) = line.too_long {
            sink.issue(too_long_issue(line.number, len));
            continue;
        }
        each(&line, sink)?;
    }
    Ok(())
}

/// Calls `each` with every non-blank line of `input` read as a JSON `T`, with its line
/// number; a line that is not one is reported (`not {what}: ...`) and skipped. Returns how
/// many lines were read.
pub fn for_each_json_line<T: DeserializeOwned>(
    input: &mut dyn BufRead,
    sink: &mut RowSink<'_>,
    what: &str,
    each: &mut dyn FnMut(T, u64, &mut RowSink<'_>) -> Result<(), ParseError>,
) -> Result<u64, ParseError> {
    let mut read = 0u64;
    for_each_line(input, sink, &mut |line, sink| {
        let text = line.text.trim();
        if text.is_empty() {
            return Ok(());
        }
        match json_line::<T>(text, line.number, sink, what) {
            Some(value) => {
                read += 1;
                each(value, line.number, sink)
            }
            None => Ok(()),
        }
    })?;
    Ok(read)
}

/// Reads the JSON `text` of line `number` as `T`, which may borrow from it; a line that is
/// not `what` is reported and gives `None`.
pub fn json_line<'a, T: Deserialize<'a>>(
    text: &'a str,
    number: u64,
    sink: &mut RowSink<'_>,
    what: &str,
) -> Option<T> {
    match serde_json::from_str::<T>(text) {
        Ok(value) => Some(value),
        Err(e) => {
            sink.issue(Rejection::at(number, format!("not {what}: {e}")));
            None
        }
    }
}

fn memchr_newline(bytes: &[u8]) -> Option<usize> {
    memchr::memchr(b'\n', bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    type Collected = Vec<(u64, String, bool, Option<usize>)>;

    fn collect(input: &[u8], limit: usize) -> Collected {
        collect_with_buffer(input, limit, 4).0
    }

    /// The lines of `input` read through a buffer of `capacity` bytes, and the bytes the
    /// reader counted.
    fn collect_with_buffer(input: &[u8], limit: usize, capacity: usize) -> (Collected, u64) {
        let mut reader =
            LineReader::with_limit(io::BufReader::with_capacity(capacity, input), limit);
        let mut out = Vec::new();
        while let Some(line) = reader.next_line().expect("read") {
            out.push((
                line.number,
                line.text.into_owned(),
                line.invalid_utf8,
                line.too_long,
            ));
        }
        (out, reader.bytes_read)
    }

    #[test]
    fn lines_lent_from_the_buffer_equal_lines_gathered_across_refills() {
        // Lines at, under and over the limit (10), CRLF, blank lines, invalid UTF-8, a
        // multi-byte letter cut by small buffers, and no newline at the end.
        let input: &[u8] = b"0123456789\n01234567890\nshort\r\n\n\r\nbad \xff\n\
            h\xc3\xa9llo\r\nxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\nlast";
        let (expected, expected_bytes) = collect_with_buffer(input, 10, 1);
        assert_eq!(expected_bytes, input.len() as u64);
        let texts: Vec<&str> = expected.iter().map(|l| l.1.as_str()).collect();
        assert_eq!(
            texts,
            [
                "0123456789",
                "",
                "short",
                "",
                "",
                "bad \u{fffd}",
                "h\u{e9}llo",
                "",
                "last"
            ]
        );
        assert_eq!(expected[1].3, Some(11));
        assert_eq!(expected[7].3, Some(32));
        for capacity in [2, 3, 7, 16, 64, 1 << 16] {
            assert_eq!(
                collect_with_buffer(input, 10, capacity),
                (expected.clone(), expected_bytes),
                "buffer of {capacity} bytes"
            );
        }
    }

    #[test]
    fn splits_lines_across_small_buffers_and_strips_crlf() {
        let lines = collect(b"alpha\r\nbeta\ngamma", 100);
        let texts: Vec<_> = lines.iter().map(|l| l.1.as_str()).collect();
        assert_eq!(texts, ["alpha", "beta", "gamma"]);
        assert_eq!(lines[2].0, 3);
    }

    #[test]
    fn overlong_line_is_skipped_and_measured() {
        let mut input = vec![b'x'; 50];
        input.extend_from_slice(b"\nnext\n");
        let lines = collect(&input, 10);
        assert_eq!(lines[0].3, Some(50));
        assert_eq!(lines[1].1, "next");
        assert_eq!(lines[1].0, 2);
    }

    #[test]
    fn invalid_utf8_is_replaced_and_flagged() {
        let lines = collect(b"ok\nbad \xff byte\n", 100);
        assert!(!lines[0].2);
        assert!(lines[1].2);
        assert_eq!(lines[1].1, "bad \u{fffd} byte");
    }
}
