//! Message content: a string or a list of parts (`text`, `image_url`, and Mistral's `thinking`
//! chunks), each part read through a plain struct so an error keeps its path.

use serde::Deserialize;
use serde_json::Value;

use super::wording::{object, one_of};

/// Message content: a string, or a list of typed parts.
#[derive(Debug, Clone)]
pub enum Content {
    Text(String),
    Parts(Vec<ContentPart>),
}

/// The content parts the model is shown.
#[derive(Debug, Clone)]
pub enum ContentPart {
    Text { text: String },
    ImageUrl { image_url: ImageUrl },
}

/// Content as sent: `thinking` parts are still among the others.
pub(super) enum RawContent {
    Text(String),
    Parts(Vec<Part>),
}

impl<'de> Deserialize<'de> for RawContent {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = RawContent;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string or a list of content parts ({\"type\": \"text\", \"text\": \"...\"}, {\"type\": \"image_url\", \"image_url\": ...}, {\"type\": \"thinking\", \"thinking\": [...]})")
            }

            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<RawContent, E> {
                Ok(RawContent::Text(text.to_owned()))
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, seq: A) -> Result<RawContent, A::Error> {
                Vec::deserialize(serde::de::value::SeqAccessDeserializer::new(seq)).map(RawContent::Parts)
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// One content part as sent; read through a plain struct for the same reason as
/// [`RawMessage`](super::message::RawMessage).
pub(super) enum Part {
    Content(ContentPart),
    Thinking(Vec<Value>),
}

impl<'de> Deserialize<'de> for Part {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw: RawPart =
            object(deserializer, "a content part: a JSON object such as {\"type\": \"text\", \"text\": \"...\"}")?;
        Part::try_from(raw).map_err(serde::de::Error::custom)
    }
}

#[derive(Clone, Copy)]
enum PartType {
    Text,
    ImageUrl,
    Thinking,
}

impl<'de> Deserialize<'de> for PartType {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use PartType::*;
        one_of(deserializer, &["text", "image_url", "thinking"], &[Text, ImageUrl, Thinking])
    }
}

#[derive(Deserialize)]
struct RawPart {
    #[serde(rename = "type")]
    kind: PartType,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    image_url: Option<ImageUrl>,
    /// Mistral's reasoning chunks (`[{"type": "text", "text": "..."}, ...]`; text, reference
    /// and tool-reference chunks): kept as they are, since the reasoning is dropped.
    #[serde(default)]
    thinking: Option<Vec<serde_json::Map<String, Value>>>,
}

impl TryFrom<RawPart> for Part {
    type Error = String;

    fn try_from(raw: RawPart) -> Result<Self, String> {
        let missing = |field: &str, shape: &str| format!("missing field `{field}`: a `{field}` part is {shape}");
        Ok(match raw.kind {
            PartType::Text => Part::Content(ContentPart::Text {
                text: raw.text.ok_or_else(|| missing("text", "{\"type\": \"text\", \"text\": \"...\"}"))?,
            }),
            PartType::ImageUrl => Part::Content(ContentPart::ImageUrl {
                image_url: raw.image_url.ok_or_else(|| {
                    missing(
                        "image_url",
                        "{\"type\": \"image_url\", \"image_url\": {\"url\": \"data:image/png;base64,...\"}}",
                    )
                })?,
            }),
            PartType::Thinking => Part::Thinking(
                raw.thinking
                    .ok_or_else(|| {
                        missing(
                            "thinking",
                            "{\"type\": \"thinking\", \"thinking\": [{\"type\": \"text\", \"text\": \"...\"}]}",
                        )
                    })?
                    .into_iter()
                    .map(Value::Object)
                    .collect(),
            ),
        })
    }
}

#[derive(Debug, Clone)]
pub enum ImageUrl {
    Url(String),
    Object { url: String },
}

impl<'de> Deserialize<'de> for ImageUrl {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(expecting = "an object {\"url\": \"data:image/png;base64,...\"}")]
        struct Object {
            url: String,
        }
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = ImageUrl;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an image URL: a string, or an object {\"url\": \"...\"}")
            }

            fn visit_str<E: serde::de::Error>(self, url: &str) -> Result<ImageUrl, E> {
                Ok(ImageUrl::Url(url.to_owned()))
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<ImageUrl, A::Error> {
                let Object { url } = Object::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(ImageUrl::Object { url })
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

impl ImageUrl {
    pub fn url(&self) -> &str {
        match self {
            ImageUrl::Url(u) | ImageUrl::Object { url: u } => u,
        }
    }
}
