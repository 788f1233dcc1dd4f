//! Splitting a response body that arrives in arbitrary byte chunks into the provider's
//! events, incrementally, without waiting for the end:
//!
//! - [`SseDecoder`]: Server-Sent Events (OpenAI, Anthropic, Gemini with `alt=sse`), per the
//!   WHATWG HTML "event stream" grammar: lines end in CR, LF or CRLF; `data:` lines of one
//!   event are joined with newlines; `event:` names it; a blank line dispatches it; lines
//!   starting with `:` are comments.
//! - [`ObjectSplitter`]: a stream of JSON objects (Ollama's NDJSON, and Gemini's
//!   `streamGenerateContent` without `alt=sse`, which streams one JSON array whose elements
//!   arrive one by one). It tracks nesting and string state byte by byte and yields each
//!   complete top-level object as soon as its closing brace arrives.
//!
//! Both keep only the bytes of the event in progress, so memory is bounded by the largest
//! event, not by the response.

/// One Server-Sent Event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field, if any.
    pub name: Option<String>,
    /// The `data:` lines joined by newlines.
    pub data: String,
}

/// Incremental Server-Sent Events decoder.
#[derive(Debug, Default)]
pub struct SseDecoder {
    line: Vec<u8>,
    /// The previous chunk ended in CR: an LF starting the next one belongs to it.
    after_cr: bool,
    name: Option<String>,
    data: Option<String>,
}

impl SseDecoder {
    /// Feeds bytes; returns the events they completed.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<SseEvent> {
        let mut events = Vec::new();
        for &b in bytes {
            if self.after_cr {
                self.after_cr = false;
                if b == b'\n' {
                    continue;
                }
            }
            match b {
                b'\n' | b'\r' => {
                    self.after_cr = b == b'\r';
                    let line = std::mem::take(&mut self.line);
                    if let Some(event) = self.end_line(&line) {
                        events.push(event);
                    }
                }
                _ => self.line.push(b),
            }
        }
        events
    }

    /// The end of the stream: an event not followed by a blank line still counts.
    pub fn finish(&mut self) -> Option<SseEvent> {
        let line = std::mem::take(&mut self.line);
        if !line.is_empty() {
            let _ = self.end_line(&line);
        }
        self.dispatch()
    }

    fn end_line(&mut self, line: &[u8]) -> Option<SseEvent> {
        if line.is_empty() {
            return self.dispatch();
        }
        let text = String::from_utf8_lossy(line);
        if text.starts_with(':') {
            return None;
        }
        let (field, value) = match text.find(':') {
            Some(i) => {
                let value = &text[i + 1..];
                (&text[..i], value.strip_prefix(' ').unwrap_or(value))
            }
            None => (&text[..], ""),
        };
        match field {
            "data" => match &mut self.data {
                Some(data) => {
                    data.push('\n');
                    data.push_str(value);
                }
                None => self.data = Some(value.to_string()),
            },
            "event" => self.name = Some(value.to_string()),
            _ => {}
        }
        None
    }

    fn dispatch(&mut self) -> Option<SseEvent> {
        let name = self.name.take();
        self.data.take().map(|data| SseEvent { name, data })
    }
}

/// Incremental splitter of a stream of JSON objects (newline-delimited, or the elements of
/// one top-level array).
#[derive(Debug, Default)]
pub struct ObjectSplitter {
    current: Vec<u8>,
    depth: usize,
    in_string: bool,
    escaped: bool,
    /// Bytes outside any object that are not `[`, `]`, `,` or whitespace.
    stray: usize,
}

impl ObjectSplitter {
    /// Feeds bytes; returns the objects they completed (raw JSON text).
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<Vec<u8>> {
        let mut objects = Vec::new();
        for &b in bytes {
            if self.depth == 0 {
                match b {
                    b'{' => {
                        self.depth = 1;
                        self.current.push(b);
                    }
                    b'[' | b']' | b',' | b' ' | b'\t' | b'\r' | b'\n' => {}
                    _ => self.stray += 1,
                }
                continue;
            }
            self.current.push(b);
            if self.in_string {
                match (self.escaped, b) {
                    (true, _) => self.escaped = false,
                    (false, b'\\') => self.escaped = true,
                    (false, b'"') => self.in_string = false,
                    _ => {}
                }
                continue;
            }
            match b {
                b'"' => self.in_string = true,
                b'{' | b'[' => self.depth += 1,
                b'}' | b']' => {
                    self.depth -= 1;
                    if self.depth == 0 {
                        objects.push(std::mem::take(&mut self.current));
                    }
                }
                _ => {}
            }
        }
        objects
    }

    /// Whether an object was begun and not finished (the stream was cut inside it).
    pub fn is_mid_object(&self) -> bool {
        self.depth > 0
    }

    /// Bytes seen outside any object that do not belong to an array or NDJSON framing.
    pub fn stray_bytes(&self) -> usize {
        self.stray
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed_in_pieces(text: &str, piece: usize) -> Vec<SseEvent> {
        let mut decoder = SseDecoder::default();
        let mut events = Vec::new();
        for chunk in text.as_bytes().chunks(piece) {
            events.extend(decoder.feed(chunk));
        }
        events.extend(decoder.finish());
        events
    }

    #[test]
    fn sse_events_survive_any_chunking_and_line_ending() {
        let text = "event: message_start\ndata: {\"a\":1}\n\n: keep-alive\n\ndata: x\ndata: y\r\n\r\ndata:[DONE]\r\r";
        for piece in [1, 2, 3, 7, 1000] {
            let events = feed_in_pieces(text, piece);
            assert_eq!(
                events,
                vec![
                    SseEvent {
                        name: Some("message_start".into()),
                        data: "{\"a\":1}".into()
                    },
                    SseEvent {
                        name: None,
                        data: "x\ny".into()
                    },
                    SseEvent {
                        name: None,
                        data: "[DONE]".into()
                    },
                ],
                "piece size {piece}"
            );
        }
    }

    #[test]
    fn sse_event_without_final_blank_line_is_kept() {
        assert_eq!(
            feed_in_pieces("data: last", 4),
            vec![SseEvent {
                name: None,
                data: "last".into()
            }]
        );
    }

    #[test]
    fn objects_from_ndjson_and_from_a_streamed_array() {
        let ndjson = "{\"a\":\"}\\\"{\"}\n{\"b\":[1,{\"c\":2}]}\n";
        let array = "[{\"a\":1}\n,\r\n{\"b\":{\"c\":\"]\"}}]";
        for (text, expected) in [
            (ndjson, vec!["{\"a\":\"}\\\"{\"}", "{\"b\":[1,{\"c\":2}]}"]),
            (array, vec!["{\"a\":1}", "{\"b\":{\"c\":\"]\"}}"]),
        ] {
            for piece in [1, 2, 5, 100] {
                let mut splitter = ObjectSplitter::default();
                let mut objects = Vec::new();
                for chunk in text.as_bytes().chunks(piece) {
                    objects.extend(splitter.feed(chunk));
                }
                let objects: Vec<String> = objects
                    .into_iter()
                    .map(|o| String::from_utf8(o).expect("utf-8"))
                    .collect();
                assert_eq!(objects, expected);
                assert!(!splitter.is_mid_object());
                assert_eq!(splitter.stray_bytes(), 0);
            }
        }
    }

    #[test]
    fn a_cut_object_and_garbage_are_noticed() {
        let mut splitter = ObjectSplitter::default();
        assert!(splitter.feed(b"{\"a\": {\"b\"").is_empty());
        assert!(splitter.is_mid_object());
        let mut garbage = ObjectSplitter::default();
        assert!(garbage.feed(b"<html>oops</html>").is_empty());
        assert!(garbage.stray_bytes() > 0);
    }
}
