//! The `application/vnd.amazon.eventstream` framing of ConverseStream and
//! InvokeModelWithResponseStream: encoding the emulator's events, chunks and exceptions, and
//! decoding (CRC-checked) frames for tests and fixtures.

use aws_smithy_eventstream::error::Error as FrameError;
use aws_smithy_eventstream::frame::{DecodedFrame, MessageFrameDecoder, write_message_to};
use aws_smithy_types::event_stream::{Header, HeaderValue, Message};
use bytes::{Bytes, BytesMut};
use serde_json::Value;

/// Padding alphabet of the `p` field real Bedrock adds to every event, so that frame sizes do not
/// leak the length of the generated text.
const PADDING: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// Encodes one `:message-type: event` frame. `payload` must be a JSON object; a `p` padding field
/// of `padding` characters (at most 62) is added like the real service does.
pub fn event_frame(event_type: &str, payload: &Value, padding: usize) -> Bytes {
    let mut payload = payload.clone();
    if let Value::Object(map) = &mut payload {
        let len = padding.clamp(1, PADDING.len());
        map.insert("p".to_owned(), Value::String(PADDING[..len].to_owned()));
    }
    encode(
        vec![
            Header::new(":event-type", HeaderValue::String(event_type.to_owned().into())),
            Header::new(":content-type", HeaderValue::String("application/json".into())),
            Header::new(":message-type", HeaderValue::String("event".into())),
        ],
        &payload,
    )
}

/// Encodes one InvokeModelWithResponseStream `chunk` event: the payload is
/// `{"bytes": "<base64 of the JSON>"}`, which the SDKs hand over as the decoded bytes.
pub fn chunk_frame(json: &Value) -> Bytes {
    let bytes = serde_json::to_vec(json).expect("a JSON value always serializes");
    let payload = serde_json::json!({ "bytes": aws_smithy_types::base64::encode(&bytes) });
    encode(
        vec![
            Header::new(":event-type", HeaderValue::String("chunk".into())),
            Header::new(":content-type", HeaderValue::String("application/json".into())),
            Header::new(":message-type", HeaderValue::String("event".into())),
        ],
        &payload,
    )
}

/// Encodes one `:message-type: exception` frame, the way a failure after the stream has started
/// reaches the client (for example `throttlingException` with `{"message": ...}`).
pub fn exception_frame(exception_type: &str, payload: &Value) -> Bytes {
    encode(
        vec![
            Header::new(":exception-type", HeaderValue::String(exception_type.to_owned().into())),
            Header::new(":content-type", HeaderValue::String("application/json".into())),
            Header::new(":message-type", HeaderValue::String("exception".into())),
        ],
        payload,
    )
}

fn encode(headers: Vec<Header>, payload: &Value) -> Bytes {
    let body = serde_json::to_vec(payload).expect("a JSON value always serializes");
    let message = Message::new_from_parts(headers, body);
    let mut buffer = Vec::new();
    write_message_to(&message, &mut buffer).expect("an event with three short string headers always fits in a frame");
    Bytes::from(buffer)
}

/// One decoded frame: its headers (non-string values rendered with `Debug`) and raw payload.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    pub headers: Vec<(String, String)>,
    pub payload: Bytes,
}

impl Frame {
    fn from_message(message: &Message) -> Frame {
        let headers = message
            .headers()
            .iter()
            .map(|header| {
                let value = match header.value() {
                    HeaderValue::String(text) => text.as_str().to_owned(),
                    other => format!("{other:?}"),
                };
                (header.name().as_str().to_owned(), value)
            })
            .collect();
        Frame { headers, payload: message.payload().clone() }
    }

    /// The value of the header `name`, if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
    }

    /// `:event-type` for events, `:exception-type` for exceptions.
    pub fn kind(&self) -> Option<&str> {
        self.header(":event-type").or_else(|| self.header(":exception-type"))
    }

    /// The payload parsed as JSON.
    pub fn json(&self) -> serde_json::Result<Value> {
        serde_json::from_slice(&self.payload)
    }
}

/// Incremental decoder: feed it body chunks as they arrive, get complete frames back.
/// Both CRCs (prelude and message) are verified; a mismatch is an error.
#[derive(Debug, Default)]
pub struct FrameDecoder {
    buffer: BytesMut,
    decoder: MessageFrameDecoder,
    // The inner decoder keeps a frame's 12-byte prelude to itself once read.
    prelude_pending: bool,
}

impl FrameDecoder {
    pub fn new() -> FrameDecoder {
        FrameDecoder::default()
    }

    /// Appends `chunk` and returns every frame it completed.
    pub fn push(&mut self, chunk: &[u8]) -> Result<Vec<Frame>, FrameError> {
        self.buffer.extend_from_slice(chunk);
        let mut frames = Vec::new();
        loop {
            let before = self.buffer.len();
            match self.decoder.decode_frame(&mut self.buffer)? {
                DecodedFrame::Complete(message) => {
                    self.prelude_pending = false;
                    frames.push(Frame::from_message(&message));
                }
                DecodedFrame::Incomplete => {
                    self.prelude_pending |= self.buffer.len() < before;
                    return Ok(frames);
                }
            }
        }
    }

    /// True when no partial frame is pending.
    pub fn is_empty(&self) -> bool {
        self.buffer.is_empty() && !self.prelude_pending
    }
}

/// Decodes a whole event-stream body; trailing bytes that do not form a frame are an error.
pub fn decode_all(bytes: &[u8]) -> Result<Vec<Frame>, FrameError> {
    let mut decoder = FrameDecoder::new();
    let frames = decoder.push(bytes)?;
    if decoder.is_empty() {
        Ok(frames)
    } else {
        Err(FrameError::unmarshalling("the body ends in the middle of a frame"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn event_frames_round_trip_with_padding() {
        let bytes = event_frame("messageStart", &json!({"role": "assistant"}), 5);
        let frames = decode_all(&bytes).unwrap();
        assert_eq!(frames.len(), 1);
        assert_eq!(frames[0].kind(), Some("messageStart"));
        assert_eq!(frames[0].header(":message-type"), Some("event"));
        assert_eq!(frames[0].json().unwrap(), json!({"role": "assistant", "p": "abcde"}));
    }

    #[test]
    fn frames_decode_when_split_across_chunks() {
        let mut body = event_frame("messageStop", &json!({"stopReason": "end_turn"}), 9).to_vec();
        body.extend_from_slice(&exception_frame("throttlingException", &json!({"message": "slow down"})));
        let mut decoder = FrameDecoder::new();
        let mut frames = Vec::new();
        for byte in &body {
            frames.extend(decoder.push(std::slice::from_ref(byte)).unwrap());
        }
        assert!(decoder.is_empty());
        let kinds: Vec<_> = frames.iter().map(|f| f.kind().unwrap()).collect();
        assert_eq!(kinds, ["messageStop", "throttlingException"]);
        assert_eq!(frames[1].header(":message-type"), Some("exception"));
    }

    #[test]
    fn corrupted_payload_fails_the_crc() {
        let mut bytes = event_frame("messageStart", &json!({"role": "assistant"}), 3).to_vec();
        let last_payload_byte = bytes.len() - 5;
        bytes[last_payload_byte] ^= 0x01;
        assert!(decode_all(&bytes).is_err());
    }

    #[test]
    fn truncated_body_is_an_error() {
        let bytes = event_frame("messageStart", &json!({"role": "assistant"}), 3);
        assert!(decode_all(&bytes[..bytes.len() - 1]).is_err());
    }

    #[test]
    fn chunks_carry_their_json_in_base64() {
        let frames = decode_all(&chunk_frame(&json!({"outputs": [{"text": "Hi", "stop_reason": null}]}))).unwrap();
        assert_eq!(frames[0].kind(), Some("chunk"));
        let encoded = frames[0].json().unwrap()["bytes"].as_str().unwrap().to_owned();
        let decoded = aws_smithy_types::base64::decode(&encoded).unwrap();
        assert_eq!(
            serde_json::from_slice::<Value>(&decoded).unwrap(),
            json!({"outputs": [{"text": "Hi", "stop_reason": null}]})
        );
    }
}
