//! The `[[...]]` directives a test writes into a user message: parsing them out of the text,
//! and the per-request controls (faults, timing) they select.

use serde_json::Value;

use crate::emulator::models::ModelTraits;

/// A `[[...]]` token in a user message.
#[derive(Debug, Clone, PartialEq)]
pub enum Directive {
    Call {
        name: String,
        args: Option<Value>,
    },
    Then {
        name: String,
        args: Option<Value>,
    },
    Loop {
        name: String,
        args: Option<Value>,
    },
    Words(usize),
    MaxTokens,
    Stop,
    Guardrail,
    Context,
    Fault(String),
    /// `[[fault:NAME@MODEL]]`: the fault, for calls to MODEL only.
    FaultOn {
        name: String,
        model: String,
    },
    Slow(u64),
    Delay(u64),
    Midstream(String),
    Hard,
    BrokenJson,
    Intervene,
}

/// User text with its directives taken out.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Parsed {
    /// The text without directives, whitespace collapsed to single spaces.
    pub text: String,
    pub directives: Vec<Directive>,
}

/// Finds the directives in `input`. Unrecognised `[[...]]` tokens stay in the text as written.
pub fn parse(input: &str) -> Parsed {
    let mut text = String::new();
    let mut directives = Vec::new();
    let mut rest = input;
    while let Some(start) = rest.find("[[") {
        match parse_directive(&rest[start + 2..]) {
            Some((directive, used)) => {
                text.push_str(&rest[..start]);
                text.push(' ');
                directives.push(directive);
                rest = &rest[start + 2 + used..];
            }
            None => {
                text.push_str(&rest[..start + 2]);
                rest = &rest[start + 2..];
            }
        }
    }
    text.push_str(rest);
    Parsed { text: text.split_whitespace().collect::<Vec<_>>().join(" "), directives }
}

/// Upper bound of `[[words:N]]`, so a typo cannot make the emulator build a gigabyte answer.
const MAX_WORDS: u64 = 100_000;

/// Parses what follows `[[`; returns the directive and the bytes used, closing `]]` included.
fn parse_directive(input: &str) -> Option<(Directive, usize)> {
    let keyword_len = input.find(|c: char| !c.is_ascii_alphanumeric() && c != '_' && c != '-').unwrap_or(input.len());
    let keyword = &input[..keyword_len];
    let after = &input[keyword_len..];
    let simple = match keyword {
        "maxtokens" => Some(Directive::MaxTokens),
        "stop" => Some(Directive::Stop),
        "guardrail" => Some(Directive::Guardrail),
        "context" => Some(Directive::Context),
        "hard" => Some(Directive::Hard),
        "broken-json" => Some(Directive::BrokenJson),
        "intervene" => Some(Directive::Intervene),
        _ => None,
    };
    if let Some(directive) = simple {
        return after.starts_with("]]").then_some((directive, keyword_len + 2));
    }
    let argument = after.strip_prefix(':')?;
    let word_len =
        argument.find(|c: char| !c.is_ascii_alphanumeric() && c != '_' && c != '-').unwrap_or(argument.len());
    let word = &argument[..word_len];
    if word.is_empty() {
        return None;
    }
    let mut used = keyword_len + 1 + word_len;
    let tail = &argument[word_len..];
    let number = || word.parse::<u64>().ok();
    let directive = match keyword {
        "words" => Directive::Words(usize::try_from(number()?.min(MAX_WORDS)).ok()?),
        "slow" => Directive::Slow(number()?),
        "delay" => Directive::Delay(number()?),
        "fault" => match tail.strip_prefix('@') {
            Some(scoped) => {
                let model_len = scoped.find(|c: char| c.is_whitespace() || c == ']').unwrap_or(scoped.len());
                if model_len == 0 {
                    return None;
                }
                used += 1 + model_len;
                Directive::FaultOn { name: word.to_owned(), model: scoped[..model_len].to_owned() }
            }
            None => Directive::Fault(word.to_owned()),
        },
        "midstream" => Directive::Midstream(word.to_owned()),
        "call" | "then" | "loop" => {
            let trimmed = tail.trim_start();
            let mut args = None;
            if trimmed.starts_with(['{', '[', '"']) || trimmed.starts_with(|c: char| c.is_ascii_digit()) {
                let mut values = serde_json::Deserializer::from_str(trimmed).into_iter::<Value>();
                args = Some(values.next()?.ok()?);
                used += tail.len() - trimmed.len() + values.byte_offset();
            }
            let name = word.to_owned();
            match keyword {
                "call" => Directive::Call { name, args },
                "then" => Directive::Then { name, args },
                _ => Directive::Loop { name, args },
            }
        }
        _ => return None,
    };
    let closing = &input[used..];
    let spaces = closing.len() - closing.trim_start().len();
    closing.trim_start().starts_with("]]").then_some((directive, used + spaces + 2))
}

/// The per-request controls a test puts in the last user message.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Controls {
    /// The fault that applies to this call's model (the last one given, when several do).
    pub fault: Option<String>,
    pub slow_ms: Option<u64>,
    pub delay_ms: Option<u64>,
    pub midstream: Option<String>,
    /// A configured guardrail intervenes.
    pub intervene: bool,
}

/// Reads the fault, timing and guardrail directives of the last user message, for a call to
/// `model`.
pub fn controls(body: &Value, model: &ModelTraits) -> Controls {
    let mut controls = Controls::default();
    for directive in super::last_user(body).directives {
        match directive {
            Directive::Fault(name) => controls.fault = Some(name),
            Directive::FaultOn { name, model: named } if model.is_named_by(&named) => controls.fault = Some(name),
            Directive::Intervene => controls.intervene = true,
            Directive::Slow(ms) => controls.slow_ms = Some(ms),
            Directive::Delay(ms) => controls.delay_ms = Some(ms),
            Directive::Midstream(kind) => controls.midstream = Some(kind),
            _ => {}
        }
    }
    controls
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn directives_are_parsed_and_removed() {
        let parsed = parse(r#"Hi [[slow:250]] there [[call:get_x {"a": [[1]]}]] [[fault:throttle]] [[nope]] end"#);
        assert_eq!(parsed.text, "Hi there [[nope]] end");
        assert_eq!(
            parsed.directives,
            vec![
                Directive::Slow(250),
                Directive::Call { name: "get_x".into(), args: Some(json!({"a": [[1]]})) },
                Directive::Fault("throttle".into()),
            ]
        );
    }

    #[test]
    fn faults_can_name_the_model_they_apply_to() {
        let parsed = parse("go [[fault:throttle@mistral-small]] [[fault:internal@us.mistral.x-v1:0]] [[broken-json]]");
        assert_eq!(parsed.text, "go");
        assert_eq!(
            parsed.directives,
            vec![
                Directive::FaultOn { name: "throttle".into(), model: "mistral-small".into() },
                Directive::FaultOn { name: "internal".into(), model: "us.mistral.x-v1:0".into() },
                Directive::BrokenJson,
            ]
        );
        let body = |text: &str| json!({ "messages": [{ "role": "user", "content": [{ "text": text }] }] });
        let small = ModelTraits::of("mistral.mistral-small-2402-v1:0");
        let large = ModelTraits::of("mistral.mistral-large-2407-v1:0");
        let scoped = body("hi [[fault:throttle@mistral-small]]");
        assert_eq!(controls(&scoped, &small).fault.as_deref(), Some("throttle"));
        assert_eq!(controls(&scoped, &large).fault, None);
        let plain = body("hi [[fault:unavailable]] [[intervene]]");
        assert_eq!(controls(&plain, &large).fault.as_deref(), Some("unavailable"));
        assert!(controls(&plain, &large).intervene);
    }
}
