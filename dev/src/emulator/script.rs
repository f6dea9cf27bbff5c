//! The scripted model: reads a (validated) Converse request and decides, deterministically, what
//! the "model" answers. The rules are documented in the module doc of [`crate::emulator`].

use serde_json::{Map, Value, json};

/// A `[[...]]` token in a user message.
#[derive(Debug, Clone, PartialEq)]
pub enum Directive {
    Call { name: String, args: Option<Value> },
    Then { name: String, args: Option<Value> },
    Loop { name: String, args: Option<Value> },
    Words(usize),
    MaxTokens,
    Stop,
    Guardrail,
    Context,
    Fault(String),
    Slow(u64),
    Delay(u64),
    Midstream(String),
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
    let keyword_len = input.find(|c: char| !c.is_ascii_alphanumeric() && c != '_').unwrap_or(input.len());
    let keyword = &input[..keyword_len];
    let after = &input[keyword_len..];
    let simple = match keyword {
        "maxtokens" => Some(Directive::MaxTokens),
        "stop" => Some(Directive::Stop),
        "guardrail" => Some(Directive::Guardrail),
        "context" => Some(Directive::Context),
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
        "fault" => Directive::Fault(word.to_owned()),
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
    pub fault: Option<String>,
    pub slow_ms: Option<u64>,
    pub delay_ms: Option<u64>,
    pub midstream: Option<String>,
}

/// Reads the fault and timing directives of the last user message.
pub fn controls(body: &Value) -> Controls {
    let mut controls = Controls::default();
    for directive in last_user(body).directives {
        match directive {
            Directive::Fault(name) => controls.fault = Some(name),
            Directive::Slow(ms) => controls.slow_ms = Some(ms),
            Directive::Delay(ms) => controls.delay_ms = Some(ms),
            Directive::Midstream(kind) => controls.midstream = Some(kind),
            _ => {}
        }
    }
    controls
}

/// One block of the assistant message.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    Text(String),
    ToolUse { id: String, name: String, input: Value },
}

/// What the model answers.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub content: Vec<Block>,
    pub stop_reason: &'static str,
    pub input_tokens: u64,
    pub output_tokens: u64,
}

impl Reply {
    /// The Converse response body.
    pub fn converse_json(&self, latency_ms: u64) -> Value {
        let content: Vec<Value> = self
            .content
            .iter()
            .map(|block| match block {
                Block::Text(text) => json!({ "text": text }),
                Block::ToolUse { id, name, input } => {
                    json!({ "toolUse": { "toolUseId": id, "name": name, "input": input } })
                }
            })
            .collect();
        json!({
            "output": { "message": { "role": "assistant", "content": content } },
            "stopReason": self.stop_reason,
            "usage": self.usage_json(),
            "metrics": { "latencyMs": latency_ms },
        })
    }

    /// The ConverseStream events up to and including `messageStop`, as (event type, payload).
    /// The `metadata` event comes from [`Reply::metadata_json`] once the latency is known.
    pub fn stream_events(&self) -> Vec<(&'static str, Value)> {
        let mut events = vec![("messageStart", json!({ "role": "assistant" }))];
        for (index, block) in self.content.iter().enumerate() {
            match block {
                Block::Text(text) => {
                    for piece in word_pieces(text) {
                        events.push((
                            "contentBlockDelta",
                            json!({ "contentBlockIndex": index, "delta": { "text": piece } }),
                        ));
                    }
                }
                Block::ToolUse { id, name, input } => {
                    events.push((
                        "contentBlockStart",
                        json!({
                            "contentBlockIndex": index,
                            "start": { "toolUse": { "toolUseId": id, "name": name } }
                        }),
                    ));
                    let arguments = input.to_string();
                    for fragment in json_fragments(&arguments) {
                        events.push((
                            "contentBlockDelta",
                            json!({
                                "contentBlockIndex": index,
                                "delta": { "toolUse": { "input": fragment } }
                            }),
                        ));
                    }
                }
            }
            events.push(("contentBlockStop", json!({ "contentBlockIndex": index })));
        }
        events.push(("messageStop", json!({ "stopReason": self.stop_reason })));
        events
    }

    /// The last ConverseStream event: usage and latency.
    pub fn metadata_json(&self, latency_ms: u64) -> Value {
        json!({ "usage": self.usage_json(), "metrics": { "latencyMs": latency_ms } })
    }

    fn usage_json(&self) -> Value {
        json!({
            "inputTokens": self.input_tokens,
            "outputTokens": self.output_tokens,
            "totalTokens": self.input_tokens + self.output_tokens,
            "serverToolUsage": {},
        })
    }
}

/// Splits text the way models stream it: one word per piece, each piece after the first keeping
/// its leading whitespace. Empty text is one empty piece (real models send that too).
pub fn word_pieces(text: &str) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut previous_was_space = true;
    for (at, c) in text.char_indices() {
        if c.is_whitespace() && !previous_was_space && at > start {
            pieces.push(&text[start..at]);
            start = at;
        }
        previous_was_space = c.is_whitespace();
    }
    pieces.push(&text[start..]);
    pieces
}

/// Splits JSON text into fragments of 6 to 10 characters, so arguments arrive in pieces.
pub fn json_fragments(json: &str) -> Vec<&str> {
    let mut fragments = Vec::new();
    let mut rest = json;
    let mut size = 6;
    while !rest.is_empty() {
        let cut = rest.char_indices().nth(size).map_or(rest.len(), |(at, _)| at);
        fragments.push(&rest[..cut]);
        rest = &rest[cut..];
        size = if size == 10 { 6 } else { size + 1 };
    }
    if fragments.is_empty() {
        fragments.push("");
    }
    fragments
}

/// Runs the script on a validated request.
pub fn reply(body: &Value) -> Reply {
    let messages = messages(body);
    let last = last_user(body);
    let tools = tools(body);
    let input_tokens = count_input_tokens(body).max(1);

    let results = tool_results(body);
    let calls = if !results.is_empty() {
        let first_prompt = parse(&text_of(messages.first().unwrap_or(&Value::Null)));
        let tool_turns =
            messages.iter().filter(|m| m["role"] == "user" && !blocks_of(m, "toolResult").is_empty()).count();
        let mut chain = Vec::new();
        if tool_turns == 1 {
            chain = requested(&first_prompt, |d| match d {
                Directive::Then { name, args } => Some((name, args)),
                _ => None,
            });
        }
        if chain.is_empty() {
            chain = requested(&first_prompt, |d| match d {
                Directive::Loop { name, args } => Some((name, args)),
                _ => None,
            });
        }
        if chain.is_empty() {
            return text_reply(body, tool_results_text(&results), input_tokens);
        }
        with_arguments(chain, &tools, &first_prompt.text)
    } else if !tools.is_empty() {
        choose_calls(body, &tools, &last)
    } else {
        Vec::new()
    };

    if calls.is_empty() {
        let text = if let Some(schema) = output_schema(body) {
            generate(&schema, &schema, None, None, 0).to_string()
        } else if let Some(words) = last.directives.iter().find_map(|d| match d {
            Directive::Words(n) => Some(*n),
            _ => None,
        }) {
            (1..=words).map(|i| format!("word{i}")).collect::<Vec<_>>().join(" ")
        } else {
            echo(body, &last)
        };
        return text_reply(body, text, input_tokens);
    }

    let conversation_len = messages.len();
    let mut output_tokens = 0;
    let content = calls
        .into_iter()
        .enumerate()
        .map(|(index, (name, input))| {
            output_tokens += word_count(&input.to_string()) + 1;
            Block::ToolUse { id: tool_use_id(conversation_len, index, &name), name, input }
        })
        .collect();
    Reply { content, stop_reason: "tool_use", input_tokens, output_tokens }
}

/// A text answer, with the stop-reason directives and `maxTokens` applied.
fn text_reply(body: &Value, mut text: String, input_tokens: u64) -> Reply {
    let last = last_user(body);
    let mut stop_reason = "end_turn";
    for directive in &last.directives {
        match directive {
            Directive::MaxTokens => stop_reason = "max_tokens",
            Directive::Stop => stop_reason = "stop_sequence",
            Directive::Guardrail => stop_reason = "guardrail_intervened",
            Directive::Context => stop_reason = "model_context_window_exceeded",
            _ => {}
        }
    }
    if let Some(max) = body["inferenceConfig"]["maxTokens"].as_u64() {
        let words: Vec<&str> = text.split_whitespace().collect();
        if (words.len() as u64) > max {
            text = words[..max as usize].join(" ");
            stop_reason = "max_tokens";
        }
    }
    Reply { output_tokens: word_count(&text), content: vec![Block::Text(text)], stop_reason, input_tokens }
}

/// `You said: ...`, with the system prompt and turn number when there are any.
fn echo(body: &Value, last: &Parsed) -> String {
    let system: Vec<&str> =
        body["system"].as_array().into_iter().flatten().filter_map(|block| block["text"].as_str()).collect();
    let mut text = String::new();
    if !system.is_empty() {
        text.push_str(&format!("[system: {}] ", system.join(" ")));
    }
    text.push_str("You said: ");
    text.push_str(&last.text);
    let user_turns = messages(body).iter().filter(|m| m["role"] == "user").count();
    if user_turns > 1 {
        text.push_str(&format!(" (turn {user_turns})"));
    }
    text.trim_end().to_owned()
}

/// A tool the request offers: its name and input JSON schema.
#[derive(Debug, Clone)]
struct Tool {
    name: String,
    schema: Value,
}

fn tools(body: &Value) -> Vec<Tool> {
    body["toolConfig"]["tools"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|tool| {
            let spec = &tool["toolSpec"];
            Some(Tool { name: spec["name"].as_str()?.to_owned(), schema: spec["inputSchema"]["json"].clone() })
        })
        .collect()
}

fn requested(
    parsed: &Parsed,
    pick: impl Fn(&Directive) -> Option<(&String, &Option<Value>)>,
) -> Vec<(String, Option<Value>)> {
    parsed.directives.iter().filter_map(|d| pick(d).map(|(name, args)| (name.clone(), args.clone()))).collect()
}

/// Rule 2: which tools the model calls on a turn without tool results.
fn choose_calls(body: &Value, tools: &[Tool], last: &Parsed) -> Vec<(String, Value)> {
    let directed = requested(last, |d| match d {
        Directive::Call { name, args } | Directive::Loop { name, args } => Some((name, args)),
        _ => None,
    });
    let choice = &body["toolConfig"]["toolChoice"];
    if let Some(forced) = choice["tool"]["name"].as_str() {
        let args = directed.into_iter().find(|(name, _)| name == forced).and_then(|(_, args)| args);
        return with_arguments(vec![(forced.to_owned(), args)], tools, &last.text);
    }
    if !directed.is_empty() {
        return with_arguments(directed, tools, &last.text);
    }
    let prompt = last.text.to_lowercase();
    let mut matched: Vec<(String, Option<Value>)> =
        tools.iter().filter(|tool| matches_prompt(&tool.name, &prompt)).map(|tool| (tool.name.clone(), None)).collect();
    if matched.is_empty() && choice.get("any").is_some() {
        matched.extend(tools.first().map(|tool| (tool.name.clone(), None)));
    }
    with_arguments(matched, tools, &last.text)
}

/// Words of a tool name that say nothing about what it is for.
const GENERIC_WORDS: [&str; 9] = ["get", "retrieve", "fetch", "find", "lookup", "list", "search", "query", "the"];

fn matches_prompt(tool_name: &str, prompt_lowercase: &str) -> bool {
    tool_name
        .split(['_', '-'])
        .map(str::to_lowercase)
        .filter(|word| word.len() >= 3 && !GENERIC_WORDS.contains(&word.as_str()))
        .any(|word| prompt_lowercase.contains(&word))
}

/// Fills in arguments that the directives did not give, from each tool's schema.
fn with_arguments(calls: Vec<(String, Option<Value>)>, tools: &[Tool], prompt: &str) -> Vec<(String, Value)> {
    let id = identifier_in(prompt);
    calls
        .into_iter()
        .map(|(name, args)| {
            let input = args.unwrap_or_else(|| match tools.iter().find(|tool| tool.name == name) {
                Some(tool) => generate(&tool.schema, &tool.schema, None, id, 0),
                None => json!({}),
            });
            (name, input)
        })
        .collect()
}

/// The first token shaped like an identifier (`T1001`, `INV42`): capitals, then digits.
fn identifier_in(text: &str) -> Option<&str> {
    text.split(|c: char| !c.is_ascii_alphanumeric()).find(|token| {
        let digits = token.trim_start_matches(|c: char| c.is_ascii_uppercase());
        digits.len() < token.len() && !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit())
    })
}

/// A value that satisfies `schema`: strings "example" (or the prompt's identifier for properties
/// whose name contains "id"), numbers 1 (within minimum/maximum), booleans true, enums their first
/// value, objects with every property, arrays empty unless `minItems` asks for items.
fn generate(schema: &Value, root: &Value, property: Option<&str>, id: Option<&str>, depth: usize) -> Value {
    if depth > 16 {
        return Value::Null;
    }
    if let Some(target) = schema["$ref"].as_str() {
        let resolved = target.strip_prefix('#').and_then(|pointer| root.pointer(pointer)).unwrap_or(&Value::Null);
        return generate(resolved, root, property, id, depth + 1);
    }
    if let Some(value) = schema.get("const") {
        return value.clone();
    }
    if let Some(first) = schema["enum"].as_array().and_then(|values| values.first()) {
        return first.clone();
    }
    for combinator in ["anyOf", "oneOf", "allOf"] {
        if let Some(variants) = schema[combinator].as_array() {
            let variant = variants.iter().find(|v| v["type"] != "null").or(variants.first());
            if let Some(variant) = variant {
                return generate(variant, root, property, id, depth + 1);
            }
        }
    }
    let kind = match &schema["type"] {
        Value::String(kind) => kind.as_str(),
        Value::Array(kinds) => kinds.iter().filter_map(Value::as_str).find(|kind| *kind != "null").unwrap_or("null"),
        _ if schema.get("properties").is_some() => "object",
        _ => "string",
    };
    match kind {
        "object" => {
            let mut object = Map::new();
            if let Some(properties) = schema["properties"].as_object() {
                for (name, property_schema) in properties {
                    let value = generate(property_schema, root, Some(name), id, depth + 1);
                    object.insert(name.clone(), value);
                }
            }
            Value::Object(object)
        }
        "array" => {
            let wanted = schema["minItems"].as_u64().unwrap_or(0).min(8);
            let items = &schema["items"];
            Value::Array((0..wanted).map(|_| generate(items, root, property, id, depth + 1)).collect())
        }
        "integer" | "number" => {
            let mut number = 1.0_f64;
            if let Some(minimum) = schema["minimum"].as_f64() {
                number = number.max(minimum.ceil());
            }
            if let Some(maximum) = schema["maximum"].as_f64() {
                number = number.min(maximum.floor());
            }
            json!(number as i64)
        }
        "boolean" => Value::Bool(true),
        "null" => Value::Null,
        _ => {
            let wants_id = property.is_some_and(|name| name.to_lowercase().contains("id"));
            match id {
                Some(id) if wants_id => Value::String(id.to_owned()),
                _ => Value::String("example".to_owned()),
            }
        }
    }
}

/// The schema of `outputConfig.textFormat` when it asks for JSON.
fn output_schema(body: &Value) -> Option<Value> {
    let format = &body["outputConfig"]["textFormat"];
    if format["type"] != "json_schema" {
        return None;
    }
    serde_json::from_str(format["structure"]["jsonSchema"]["schema"].as_str()?).ok()
}

/// A tool result of the last user message, with the name of the tool that asked for it.
struct ToolResult {
    name: String,
    content: String,
    error: bool,
}

fn tool_results(body: &Value) -> Vec<ToolResult> {
    let messages = messages(body);
    let Some(index) = messages.iter().rposition(|m| m["role"] == "user") else {
        return Vec::new();
    };
    let calls: Vec<&Value> =
        index.checked_sub(1).map(|previous| blocks_of(&messages[previous], "toolUse")).unwrap_or_default();
    blocks_of(&messages[index], "toolResult")
        .into_iter()
        .map(|result| {
            let name = calls
                .iter()
                .find(|call| call["toolUseId"] == result["toolUseId"])
                .and_then(|call| call["name"].as_str())
                .unwrap_or("unknown")
                .to_owned();
            ToolResult { name, content: result_content(&result["content"]), error: result["status"] == "error" }
        })
        .collect()
}

fn result_content(content: &Value) -> String {
    content
        .as_array()
        .into_iter()
        .flatten()
        .map(|block| {
            if let Some(text) = block["text"].as_str() {
                text.to_owned()
            } else if let Some(json) = block.get("json") {
                json.to_string()
            } else if block.get("image").is_some() {
                "[image]".to_owned()
            } else if block.get("document").is_some() {
                "[document]".to_owned()
            } else {
                block.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn tool_results_text(results: &[ToolResult]) -> String {
    let rendered: Vec<String> = results
        .iter()
        .map(|result| {
            let marker = if result.error { "error: " } else { "" };
            format!("name={} -> {marker}{}", result.name, result.content)
        })
        .collect();
    format!("Tool results: {}", rendered.join("; "))
}

/// `tooluse_` and 22 letters or digits, derived from the call's place in the conversation.
pub fn tool_use_id(conversation_len: usize, block_index: usize, name: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut state = 0xcbf2_9ce4_8422_2325_u64;
    for byte in format!("{conversation_len}/{block_index}/{name}").bytes() {
        state = (state ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    let mut id = String::from("tooluse_");
    for _ in 0..22 {
        // splitmix64: spreads the FNV hash over every character.
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        id.push(char::from(ALPHABET[(z % ALPHABET.len() as u64) as usize]));
    }
    id
}

fn messages(body: &Value) -> &[Value] {
    body["messages"].as_array().map_or(&[], Vec::as_slice)
}

/// The last user message's text, parsed.
fn last_user(body: &Value) -> Parsed {
    messages(body).iter().rev().find(|m| m["role"] == "user").map(|m| parse(&text_of(m))).unwrap_or_default()
}

/// The message's text blocks, joined with spaces.
fn text_of(message: &Value) -> String {
    message["content"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|block| block["text"].as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

fn blocks_of<'a>(message: &'a Value, kind: &str) -> Vec<&'a Value> {
    message["content"].as_array().into_iter().flatten().filter_map(|block| block.get(kind)).collect()
}

fn word_count(text: &str) -> u64 {
    text.split_whitespace().count() as u64
}

/// Words in the system prompt and every message: text, tool inputs and tool results.
fn count_input_tokens(body: &Value) -> u64 {
    let system: u64 = body["system"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|block| block["text"].as_str())
        .map(word_count)
        .sum();
    let conversation: u64 = messages(body)
        .iter()
        .flat_map(|m| m["content"].as_array().into_iter().flatten())
        .map(|block| {
            if let Some(text) = block["text"].as_str() {
                word_count(text)
            } else if let Some(call) = block.get("toolUse") {
                word_count(&call["input"].to_string())
            } else if let Some(result) = block.get("toolResult") {
                word_count(&result_content(&result["content"]))
            } else {
                0
            }
        })
        .sum();
    system + conversation
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(text: &str) -> Value {
        json!({ "role": "user", "content": [{ "text": text }] })
    }

    fn text(reply: &Reply) -> &str {
        match &reply.content[0] {
            Block::Text(text) => text,
            other => panic!("expected text, got {other:?}"),
        }
    }

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
    fn echoes_with_system_prompt_and_turn_number() {
        let body = json!({
            "system": [{ "text": "Be brief." }],
            "messages": [
                user("first"),
                { "role": "assistant", "content": [{ "text": "ok" }] },
                user("second [[stop]]"),
            ]
        });
        let reply = reply(&body);
        assert_eq!(text(&reply), "[system: Be brief.] You said: second (turn 2)");
        assert_eq!(reply.stop_reason, "stop_sequence");
        assert_eq!(reply.output_tokens, 8);
        assert_eq!(reply.input_tokens, 2 + 1 + 1 + 2);
    }

    #[test]
    fn max_tokens_truncates_the_answer() {
        let body = json!({
            "messages": [user("[[words:50]]")],
            "inferenceConfig": { "maxTokens": 3 }
        });
        let reply = reply(&body);
        assert_eq!(text(&reply), "word1 word2 word3");
        assert_eq!(reply.stop_reason, "max_tokens");
    }

    #[test]
    fn matching_tools_are_called_with_schema_arguments() {
        let schema = json!({
            "type": "object",
            "properties": { "transaction_id": { "type": "string" } },
            "required": ["transaction_id"]
        });
        let body = json!({
            "messages": [user("What's the status and date of my transaction T1001?")],
            "toolConfig": { "tools": [
                { "toolSpec": { "name": "retrieve_payment_status", "inputSchema": { "json": schema } } },
                { "toolSpec": { "name": "retrieve_payment_date", "inputSchema": { "json": schema } } },
                { "toolSpec": { "name": "get_weather", "inputSchema": { "json": {} } } }
            ]}
        });
        let reply = reply(&body);
        assert_eq!(reply.stop_reason, "tool_use");
        let calls: Vec<_> = reply
            .content
            .iter()
            .map(|block| match block {
                Block::ToolUse { id, name, input } => (id.clone(), name.clone(), input.clone()),
                other => panic!("expected a tool call, got {other:?}"),
            })
            .collect();
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[0].1, "retrieve_payment_status");
        assert_eq!(calls[1].1, "retrieve_payment_date");
        assert_eq!(calls[0].2, json!({ "transaction_id": "T1001" }));
        assert_ne!(calls[0].0, calls[1].0);
        assert_eq!(calls[0].0.len(), "tooluse_".len() + 22);
    }

    #[test]
    fn tool_results_are_reported_back() {
        let body = json!({
            "messages": [
                user("status of T1001?"),
                { "role": "assistant", "content": [
                    { "toolUse": { "toolUseId": "a", "name": "status", "input": {} } },
                    { "toolUse": { "toolUseId": "b", "name": "date", "input": {} } }
                ]},
                { "role": "user", "content": [
                    { "toolResult": { "toolUseId": "a", "content": [{ "json": { "s": "paid" } }] } },
                    { "toolResult": { "toolUseId": "b", "status": "error", "content": [{ "text": "boom" }] } }
                ]}
            ],
            "toolConfig": { "tools": [] }
        });
        let reply = reply(&body);
        assert_eq!(text(&reply), r#"Tool results: name=status -> {"s":"paid"}; name=date -> error: boom"#);
    }

    #[test]
    fn streamed_text_keeps_leading_spaces() {
        assert_eq!(word_pieces("You said: hi  there"), ["You", " said:", " hi", "  there"]);
        assert_eq!(word_pieces(""), [""]);
        let json = r#"{"transaction_id":"T1001","x":1}"#;
        let fragments = json_fragments(json);
        assert!(fragments.len() > 3);
        assert!(fragments.iter().all(|f| (1..=10).contains(&f.chars().count())));
        assert_eq!(fragments.concat(), json);
    }
}
