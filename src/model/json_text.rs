//! JSON text that shows what it holds: pretty-printed, with every invisible character that could
//! mislead a reader (DEL and C1 controls, bidirectional controls, line and paragraph separators)
//! written as a `\uXXXX` escape rather than raw. The value is unchanged: parsing gives back
//! exactly the strings GitLab sent, while an editor, a terminal or a diff shows no text that
//! reads differently from what it is.

use std::io;

use serde::Serialize;
use serde_json::ser::{Formatter, PrettyFormatter};

/// `value` as pretty JSON, with the invisible characters escaped.
pub fn to_string_pretty<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<String> {
    let mut out = Vec::with_capacity(1024);
    let mut serializer =
        serde_json::Serializer::with_formatter(&mut out, Visible(PrettyFormatter::new()));
    value.serialize(&mut serializer)?;
    Ok(String::from_utf8(out).expect("serde_json writes UTF-8"))
}

/// Characters serde_json writes raw that a reader should see as escapes (it already escapes the
/// C0 controls).
fn must_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{2028}' | '\u{2029}' | '\u{FEFF}'
        )
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// A [`PrettyFormatter`] that escapes [`must_escape`] characters in strings.
struct Visible<'a>(PrettyFormatter<'a>);

impl Formatter for Visible<'_> {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if must_escape(c) {
                writer.write_all(&fragment.as_bytes()[start..i])?;
                write!(writer, "\\u{:04x}", c as u32)?;
                start = i + c.len_utf8();
            }
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }

    fn begin_array<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.begin_array(writer)
    }

    fn end_array<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_array(writer)
    }

    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_array_value(writer, first)
    }

    fn end_array_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_array_value(writer)
    }

    fn begin_object<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.begin_object(writer)
    }

    fn end_object<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_object(writer)
    }

    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_object_key(writer, first)
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.begin_object_value(writer)
    }

    fn end_object_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_object_value(writer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    #[test]
    fn invisible_characters_are_escaped_and_the_value_round_trips() {
        let value = json!({
            "title": "invoice\u{202E}gpj.exe \u{2066}x\u{2069} del\u{7f} c1\u{85} nul\u{0} \u{2028}",
            "plain": "🚀 e\u{301} <script> \"q\"",
        });
        let text = to_string_pretty(&value).unwrap();
        assert!(
            text.contains(r"invoice\u202egpj.exe \u2066x\u2069 del\u007f c1\u0085"),
            "{text}"
        );
        assert!(text.contains("🚀 e\u{301} <script> \\\"q\\\""), "{text}");
        assert!(!text.chars().any(|c| must_escape(c) && c != '\n'), "{text}");
        let back: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, value);
        assert_eq!(
            to_string_pretty(&json!({"a": [1, {"b": null}]})).unwrap(),
            serde_json::to_string_pretty(&json!({"a": [1, {"b": null}]})).unwrap()
        );
    }
}
