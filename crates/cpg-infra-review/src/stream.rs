//! Writing review output as it is produced rather than as one string: JSON lists
//! serialized one element at a time, and text written through [`std::fmt::Write`]
//! onto a byte stream. A review of a large organisation then needs memory for its
//! analysis, not for its output too.

use std::fmt;
use std::io;

use serde::{Serialize, Serializer};
use serde_json::Value as Json;

/// A JSON list whose elements are made one at a time, when serialized, by the
/// closure: each element's [`Json`] lives only while it is written. Elements are
/// values (objects with sorted keys), so the output is byte for byte that of the
/// whole list built as one [`Json`] first.
pub struct Each<F>(pub F);

impl<F, I> Serialize for Each<F>
where
    F: Fn() -> I,
    I: Iterator<Item = Json>,
{
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq((self.0)())
    }
}

/// Each of `items` as the JSON value serde makes of it, one at a time.
pub fn each_value<'a, T: Serialize>(items: &'a [T]) -> Each<impl Fn() -> ItemValues<'a, T>> {
    Each(move || ItemValues {
        items: items.iter(),
    })
}

/// The JSON values of a list's items, made as they are asked for.
pub struct ItemValues<'a, T> {
    items: std::slice::Iter<'a, T>,
}

impl<T: Serialize> Iterator for ItemValues<'_, T> {
    type Item = Json;

    fn next(&mut self) -> Option<Json> {
        // A value that serde cannot represent becomes null, as `serde_json::json!`
        // turns it; the review types have none.
        self.items
            .next()
            .map(|item| serde_json::to_value(item).unwrap_or(Json::Null))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.items.size_hint()
    }
}

/// Writes `document` as pretty JSON and a newline to `out`, as
/// `serde_json::to_string_pretty` would print it.
pub fn write_json_pretty(out: &mut impl io::Write, document: &impl Serialize) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, document)?;
    out.write_all(b"\n")
}

/// A [`fmt::Write`] over an [`io::Write`]: text written to it goes straight on to
/// the stream, and the stream's first error is kept for [`Text::finish`].
pub struct Text<W: io::Write> {
    out: W,
    error: Option<io::Error>,
}

impl<W: io::Write> Text<W> {
    /// Text onto `out`.
    pub fn new(out: W) -> Text<W> {
        Text { out, error: None }
    }

    /// The stream back, or its first error; `written` is what the writer of the
    /// text returned (an error there without one of the stream's is reported as
    /// [`io::ErrorKind::Other`]).
    pub fn finish(self, written: fmt::Result) -> io::Result<W> {
        match (self.error, written) {
            (Some(error), _) => Err(error),
            (None, Err(fmt::Error)) => Err(io::Error::other("cannot format the text")),
            (None, Ok(())) => Ok(self.out),
        }
    }
}

impl<W: io::Write> fmt::Write for Text<W> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        if self.error.is_some() {
            return Err(fmt::Error);
        }
        self.out.write_all(text.as_bytes()).map_err(|error| {
            self.error = Some(error);
            fmt::Error
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fmt::Write as _;

    #[test]
    fn each_writes_what_the_whole_value_would() {
        #[derive(Serialize)]
        struct Item {
            zeta: u32,
            alpha: &'static str,
        }
        let items = [
            Item {
                zeta: 1,
                alpha: "a",
            },
            Item {
                zeta: 2,
                alpha: "b",
            },
        ];
        let whole = serde_json::json!({ "items": items, "count": 2 });
        let expected = serde_json::to_string_pretty(&whole).expect("json") + "\n";
        // Fields in sorted order, as a JSON value holds its keys.
        let mut streamed = Vec::new();
        #[derive(Serialize)]
        struct Document<L> {
            count: u32,
            items: L,
        }
        let document = Document {
            count: 2,
            items: each_value(&items),
        };
        write_json_pretty(&mut streamed, &document).expect("written");
        assert_eq!(String::from_utf8(streamed).expect("utf-8"), expected);
    }

    #[test]
    fn text_goes_to_the_stream_and_keeps_its_error() {
        let mut text = Text::new(Vec::new());
        let written = writeln!(text, "one {}", 1).and_then(|()| text.write_str("two\n"));
        assert_eq!(text.finish(written).expect("written"), b"one 1\ntwo\n");

        struct Broken;
        impl io::Write for Broken {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::Error::from(io::ErrorKind::BrokenPipe))
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let mut text = Text::new(Broken);
        let written = writeln!(text, "lost");
        let error = text.finish(written).err().expect("an error");
        assert_eq!(error.kind(), io::ErrorKind::BrokenPipe);
    }
}
