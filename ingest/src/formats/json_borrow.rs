//! Reading JSON lines without copying what is only looked at: strings borrowed from the
//! line when they hold no escape, values measured or skipped as they are read instead of
//! built as `serde_json::Value` trees (whose objects, with `preserve_order`, are hashed
//! index maps). Used by the parsers of large transcripts, where tool inputs and results are
//! most of the bytes.

use std::borrow::Cow;
use std::fmt;
use std::ops::Deref;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// A JSON string borrowed from the input when it holds no escape sequence, copied otherwise
/// (`Option<Cow<str>>` never borrows under serde's derive; this does).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Str<'a>(pub Cow<'a, str>);

impl Deref for Str<'_> {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Str<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct StrVisitor;

        impl<'de> Visitor<'de> for StrVisitor {
            type Value = Str<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }

            fn visit_borrowed_str<E: de::Error>(self, text: &'de str) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Borrowed(text)))
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Owned(text.to_owned())))
            }

            fn visit_string<E: de::Error>(self, text: String) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Owned(text)))
            }
        }

        deserializer.deserialize_str(StrVisitor)
    }
}

/// A value that is text when it is a JSON string; any other value (array, object, number,
/// ...) is skipped unread, as `Other`. A tool result's content: only its text is ever used.
#[derive(Debug, PartialEq, Eq)]
pub enum TextOrOther<'a> {
    Text(Cow<'a, str>),
    Other,
}

impl<'de: 'a, 'a> Deserialize<'de> for TextOrOther<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;

        impl<'de> Visitor<'de> for TextVisitor {
            type Value = TextOrOther<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }

            fn visit_borrowed_str<E: de::Error>(self, t: &'de str) -> Result<Self::Value, E> {
                Ok(TextOrOther::Text(Cow::Borrowed(t)))
            }

            fn visit_str<E: de::Error>(self, t: &str) -> Result<Self::Value, E> {
                Ok(TextOrOther::Text(Cow::Owned(t.to_owned())))
            }

            fn visit_string<E: de::Error>(self, t: String) -> Result<Self::Value, E> {
                Ok(TextOrOther::Text(Cow::Owned(t)))
            }

            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(TextOrOther::Other)
            }

            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(TextOrOther::Other)
            }

            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(TextOrOther::Other)
            }

            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(TextOrOther::Other)
            }

            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(TextOrOther::Other)
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(TextOrOther::Other)
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(TextOrOther::Other)
            }
        }

        deserializer.deserialize_any(TextVisitor)
    }
}

/// The length in bytes of a JSON value as `serde_json` writes it compactly
/// (`Value::to_string().len()`: no white space, the same escapes and number forms),
/// measured while it is read: nothing is built or copied. A tool call's `arguments_bytes`.
/// (An object with a repeated key counts every copy; a `Value` would keep one.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompactLength(pub usize);

impl<'de> Deserialize<'de> for CompactLength {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_any(LengthVisitor)
            .map(CompactLength)
    }
}

struct LengthVisitor;

impl<'de> Visitor<'de> for LengthVisitor {
    type Value = usize;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<usize, E> {
        Ok(if value { 4 } else { 5 })
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<usize, E> {
        Ok(itoa::Buffer::new().format(value).len())
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<usize, E> {
        Ok(itoa::Buffer::new().format(value).len())
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<usize, E> {
        // Rare in tool inputs: written the way serde_json writes it.
        Ok(serde_json::to_string(&value).map_or(4, |s| s.len()))
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<usize, E> {
        Ok(escaped_len(text))
    }

    fn visit_unit<E: de::Error>(self) -> Result<usize, E> {
        Ok(4)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<usize, A::Error> {
        let (mut len, mut count) = (2, 0usize);
        while let Some(CompactLength(element)) = seq.next_element()? {
            len += element;
            count += 1;
        }
        Ok(len + count.saturating_sub(1))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<usize, A::Error> {
        let (mut len, mut count) = (2, 0usize);
        while let Some((CompactLength(key), CompactLength(value))) = map.next_entry()? {
            len += key + 1 + value;
            count += 1;
        }
        Ok(len + count.saturating_sub(1))
    }
}

/// The length of `text` written as a JSON string by serde_json: quotes, `\"`, `\\`, the
/// short escapes of five control characters, `\u00XX` for the other control characters.
fn escaped_len(text: &str) -> usize {
    2 + text
        .bytes()
        .map(|b| match b {
            b'"' | b'\\' | b'\x08' | b'\x0c' | b'\n' | b'\r' | b'\t' => 2,
            0..=0x1f => 6,
            _ => 1,
        })
        .sum::<usize>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_length_is_the_length_serde_json_writes() {
        for text in [
            r#"{"path": "a b", "n": 3}"#,
            r#"{ "command" : "ls -la\n\t\"x\"", "neg": -12, "big": 18446744073709551615 }"#,
            r#"[1.5, 1e3, -0.0, 2.5e-8, 1.0, true, false, null, {}, [], "", "\u00e9\u0001\/"]"#,
            r#"{"nested": {"deep": [[{"a": "\b\f"}]]}, "k": "ünïcödé ✓"}"#,
            r#""just a string""#,
            "42",
            "[]",
        ] {
            let measured: CompactLength = serde_json::from_str(text).expect(text);
            let value: serde_json::Value = serde_json::from_str(text).expect(text);
            assert_eq!(measured.0, value.to_string().len(), "{text}");
        }
    }

    #[test]
    fn strings_are_borrowed_unless_escaped() {
        let plain: Str<'_> = serde_json::from_str(r#""plain""#).expect("plain");
        assert!(matches!(plain.0, Cow::Borrowed("plain")));
        let escaped: Str<'_> = serde_json::from_str(r#""a\"b""#).expect("escaped");
        assert!(matches!(escaped.0, Cow::Owned(ref s) if s == "a\"b"));
        assert!(serde_json::from_str::<Str<'_>>("3").is_err());
    }

    #[test]
    fn text_or_other_keeps_only_a_string() {
        let read = |t: &'static str| serde_json::from_str::<TextOrOther<'static>>(t).expect(t);
        assert_eq!(read(r#""err""#), TextOrOther::Text(Cow::Borrowed("err")));
        assert_eq!(
            read(r#""e\nr""#),
            TextOrOther::Text(Cow::Owned("e\nr".into()))
        );
        for other in [
            r#"[{"type": "text", "text": "x"}]"#,
            r#"{"a": [1]}"#,
            "1",
            "true",
        ] {
            assert_eq!(read(other), TextOrOther::Other, "{other}");
        }
        assert!(serde_json::from_str::<TextOrOther<'_>>("[1,").is_err());
    }
}
