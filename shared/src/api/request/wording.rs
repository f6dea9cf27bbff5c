//! The shared readers that word every malformed-body error in the API's terms: enum tags and
//! objects read so serde's complaint names the accepted shapes, and serde's errors translated
//! into JSON's vocabulary.

use serde::Deserialize;

use crate::error::ApiError;

/// A string naming one of `names` (an enum's tag). Read as a string first: serde_json refuses a
/// number or `null` where a derived enum is expected as a syntax error, which would read as
/// "not valid JSON".
pub(super) fn one_of<'de, D: serde::Deserializer<'de>, T: Copy>(
    deserializer: D,
    names: &'static [&'static str],
    values: &[T],
) -> Result<T, D::Error> {
    let name = String::deserialize(deserializer)?;
    match names.iter().position(|n| *n == name) {
        Some(i) => Ok(values[i]),
        None => Err(serde::de::Error::unknown_variant(&name, names)),
    }
}
/// A JSON object read as `R`. serde lets a list stand for a struct's fields in order, which
/// would turn a misplaced list into a puzzling complaint about its first element.
pub(super) fn object<'de, D: serde::Deserializer<'de>, R: Deserialize<'de>>(
    deserializer: D,
    expecting: &'static str,
) -> Result<R, D::Error> {
    struct Visitor<R>(&'static str, std::marker::PhantomData<R>);
    impl<'de, R: Deserialize<'de>> serde::de::Visitor<'de> for Visitor<R> {
        type Value = R;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str(self.0)
        }

        fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<R, A::Error> {
            R::deserialize(serde::de::value::MapAccessDeserializer::new(map))
        }
    }
    deserializer.deserialize_map(Visitor(expecting, std::marker::PhantomData))
}
/// A deserialization error as a 400 naming the field (`messages[1].role: unknown variant ...`),
/// in the API's words: serde's names for Rust types become JSON's, and the position in the
/// body is left out (the path already says where).
pub(super) fn field_error(e: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let path = e.path().to_string();
    let inner = e.into_inner();
    if inner.is_syntax() || inner.is_eof() {
        return ApiError::bad_request(format!("request body is not valid JSON: {inner}"));
    }
    let message = in_words(&inner);
    if path == "." || path.is_empty() {
        ApiError::bad_request(format!("invalid request: {message}"))
    } else {
        ApiError::invalid(path, message)
    }
}

fn in_words(error: &serde_json::Error) -> String {
    let text = error.to_string();
    let position = format!(" at line {} column {}", error.line(), error.column());
    let text = text.strip_suffix(&position).unwrap_or(&text);
    // serde lets a list stand for a struct's fields in order; its complaint about the length
    // would only mislead.
    if text.starts_with("invalid length")
        && let Some((_, expected)) = text.split_once(", expected ")
    {
        let expected = expected.rsplit_once(" with ").map_or(expected, |(shape, _)| shape);
        return format!("expected {expected}, not a list");
    }
    const WORDS: &[(&str, &str)] = &[
        ("expected f64", "expected a number"),
        ("expected i64", "expected an integer"),
        ("expected u32", "expected a non-negative integer"),
        ("expected a sequence", "expected a list"),
        ("expected a map", "expected an object"),
        ("invalid type: map", "invalid type: object"),
        ("invalid type: sequence", "invalid type: list"),
        ("invalid type: unit value", "invalid type: null"),
        ("invalid type: floating point", "invalid type: number"),
    ];
    WORDS.iter().fold(text.to_owned(), |text, (rust, json)| text.replace(rust, json))
}
