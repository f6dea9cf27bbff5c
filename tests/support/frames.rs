//! ConverseStream frames that tests and benches queue on the Bedrock emulator
//! (`Reply::frames(..).hold_at(n)`) when they must release Bedrock's answer step by step, so they
//! can assert the order in which things happen instead of timing them.

use axum::body::Bytes;
use dev::emulator::frames;
use serde_json::json;

/// ConverseStream frames, produced one at a time as the body is sent.
pub type Frames = Box<dyn Iterator<Item = Bytes> + Send>;

/// Real ConverseStream frames of a text answer, word by word: messageStart, one delta per
/// word, contentBlockStop, messageStop, metadata.
pub fn text_frames(words: &[&str]) -> Frames {
    let words: Vec<String> = words.iter().map(|w| w.to_string()).collect();
    let count = words.len();
    answer_frames(count, move |i| words[i].clone())
}

/// A text answer of `count` words (`word1 word2 ...`), each frame encoded only when it is sent,
/// so even a long answer costs the sender no memory.
pub fn word_frames(count: usize) -> Frames {
    answer_frames(count, |i| format!("word{}", i + 1))
}

fn answer_frames(count: usize, word: impl Fn(usize) -> String + Send + 'static) -> Frames {
    let start = std::iter::once_with(|| frames::event_frame("messageStart", &json!({"role": "assistant"}), 7));
    let deltas = (0..count).map(move |i| {
        let text = if i == 0 { word(i) } else { format!(" {}", word(i)) };
        frames::event_frame("contentBlockDelta", &json!({"contentBlockIndex": 0, "delta": {"text": text}}), 1 + i % 40)
    });
    let end = std::iter::once_with(move || {
        [
            frames::event_frame("contentBlockStop", &json!({"contentBlockIndex": 0}), 5),
            frames::event_frame("messageStop", &json!({"stopReason": "end_turn"}), 9),
            frames::event_frame(
                "metadata",
                &json!({"usage": {"inputTokens": 3, "outputTokens": count, "totalTokens": 3 + count},
                        "metrics": {"latencyMs": 1}}),
                11,
            ),
        ]
    })
    .flatten();
    Box::new(start.chain(deltas).chain(end))
}
