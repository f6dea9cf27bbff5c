//! End to end over real HTTP (dev server → aws-sdk → emulator): requests as the popular clients
//! send them, which Mistral's and OpenAI's own services accept (issue #18): Mistral's `thinking`
//! chunks sent back, parallel tool calls sent one assistant message per call, malformed bodies
//! refused in the API's words, and `-latest` names meaning what Mistral's API serves.

use serde_json::{Value, json};
use tests::{Harness, chat};

/// A Magistral answer sent back as litellm's `mistral/` provider does: its reasoning as a
/// `thinking` chunk of the assistant content.
#[tokio::test]
async fn thinking_chunks_sent_back_are_accepted_and_kept_from_the_model() {
    let h = Harness::start().await;
    let first = h.post_json("/v1/chat/completions", &chat("magistral-small-latest", "What is 2+2?")).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let reasoning = first.body["choices"][0]["message"]["reasoning_content"].as_str().unwrap().to_owned();
    let answer = first.body["choices"][0]["message"]["content"].as_str().unwrap().to_owned();
    assert!(!reasoning.is_empty());

    let body = json!({"model": "magistral-small-latest", "messages": [
        {"role": "user", "content": "What is 2+2?"},
        {"role": "assistant", "content": [
            {"type": "thinking", "thinking": [{"type": "text", "text": reasoning}], "closed": true},
            {"type": "text", "text": answer}
        ]},
        {"role": "user", "content": "And 3+3?"}
    ]});
    let second = h.post_json("/v1/chat/completions", &body).await;
    assert_eq!(second.status, 200, "{}", second.body);
    let sent = h.emulator().last_request().unwrap();
    assert_eq!(sent["messages"][1]["content"], json!([{"text": answer}]), "the reasoning is not sent back: {sent}");
    assert!(!sent.to_string().contains(&reasoning), "{sent}");
}

/// Older Codex releases send parallel calls as one assistant message per call, then the tool
/// messages: Bedrock gets one assistant turn with both calls and one turn with both results.
#[tokio::test]
async fn parallel_calls_in_consecutive_assistant_messages_make_one_bedrock_turn() {
    let h = Harness::start().await;
    let call = |id: &str, city: &str| {
        json!({"role": "assistant", "content": null, "tool_calls": [
            {"id": id, "type": "function", "function": {"name": "get_weather", "arguments": json!({"city": city}).to_string()}}]})
    };
    let body = json!({"model": "mistral-large-3", "tools": [
        {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}
    ], "messages": [
        {"role": "user", "content": "Weather in Paris and Lyon?"},
        call("call_paris", "Paris"),
        call("call_lyon", "Lyon"),
        {"role": "tool", "tool_call_id": "call_paris", "content": "21C"},
        {"role": "tool", "tool_call_id": "call_lyon", "content": "19C"}
    ]});
    for route in ["/v1/chat/completions", "/stream/v1/chat/completions"] {
        let reply = h.post_json(route, &body).await;
        assert_eq!(reply.status, 200, "{route}: {}", reply.body);
        let sent = h.emulator().last_request().unwrap();
        let turns = sent["messages"].as_array().unwrap();
        assert_eq!(turns.len(), 3, "{sent}");
        let ids = |turn: &Value, block: &str| -> Vec<String> {
            turn["content"]
                .as_array()
                .unwrap()
                .iter()
                .map(|b| b[block]["toolUseId"].as_str().unwrap().to_owned())
                .collect()
        };
        assert_eq!(ids(&turns[1], "toolUse"), ["call_paris", "call_lyon"]);
        assert_eq!(ids(&turns[2], "toolResult"), ["call_paris", "call_lyon"]);
    }

    // Text between the calls of one turn has no meaning Bedrock could keep: still a 400, by name.
    let mut ambiguous = body.clone();
    ambiguous["messages"][2]["content"] = json!("Now Lyon.");
    let reply = h.post_json("/v1/chat/completions", &ambiguous).await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert_eq!(reply.body["error"]["param"], "messages[2].content");
}

/// Every malformed body is a 400 naming the field and the shapes it takes, in words, and none
/// reaches Bedrock.
#[tokio::test]
async fn malformed_bodies_are_refused_in_the_apis_words() {
    let h = Harness::start().await;
    let cases: &[(&str, Option<&str>, &str)] = &[
        (r#"[{"role": "user"}]"#, None, "must be a JSON object"),
        (r#"{"messages": "hi"}"#, Some("messages"), "expected a list"),
        (
            r#"{"messages": [{"role": "user", "content": 5}]}"#,
            Some("messages[0].content"),
            "a string or a list of content parts",
        ),
        (
            r#"{"messages": [{"role": "user", "content": [{"type": "video"}]}]}"#,
            Some("messages[0].content[0].type"),
            "`image_url`",
        ),
        (
            r#"{"messages": [{"role": "user", "content": [{"type": "text", "text": 5}]}]}"#,
            Some("messages[0].content[0].text"),
            "expected a string",
        ),
        (
            r#"{"messages": [{"role": "user", "content": [{"type": "thinking", "thinking": []}]}]}"#,
            Some("messages[0]"),
            "only accepted in assistant messages",
        ),
        (
            r#"{"messages": [{"role": "assistant", "tool_calls": [{"id": "a", "function": {"name": 1}}]}]}"#,
            Some("messages[0].tool_calls[0].function.name"),
            "expected a string",
        ),
        (
            r#"{"messages": [{"role": "user", "content": "hi"}], "stop": 5}"#,
            Some("stop"),
            "a stop sequence (a string) or a list of them",
        ),
        (
            r#"{"messages": [{"role": "user", "content": "hi"}], "tool_choice": 5}"#,
            Some("tool_choice"),
            "\"required\", or {\"type\": \"function\"",
        ),
        (
            r#"{"messages": [{"role": "user", "content": "hi"}], "temperature": "warm"}"#,
            Some("temperature"),
            "expected a number",
        ),
        (
            r#"{"messages": [{"role": "user", "content": "hi"}], "tools": [{"function": "f"}]}"#,
            Some("tools[0].function"),
            "a function definition {\"name\"",
        ),
        (
            r#"{"messages": [{"role": "user", "content": "hi"}], "response_format": {"type": "json_schema", "json_schema": {"name": 1}}}"#,
            Some("response_format.json_schema.name"),
            "expected a string",
        ),
    ];
    let calls = h.emulator().requests();
    for (body, param, words) in cases {
        let reply = h.post_raw("/v1/chat/completions", body.as_bytes().to_vec()).await;
        assert_eq!(reply.status, 400, "{body}: {}", reply.body);
        assert_eq!(reply.body["error"]["param"].as_str(), *param, "{body}: {}", reply.body);
        let message = reply.error_message();
        assert!(message.contains(words), "{body}: `{message}` lacks `{words}`");
        for parser in ["untagged enum", "internally tagged", "struct ", "f64", "line 1 column"] {
            assert!(!message.contains(parser), "{body}: `{message}` speaks the parser's `{parser}`");
        }
    }
    assert_eq!(h.emulator().requests(), calls, "no malformed body reaches Bedrock");
}

/// `-latest` names mean what Mistral's API serves under them (Mistral Large 3 for
/// `mistral-large-latest`); dated names pin the older models; bare aliases keep their targets.
#[tokio::test]
async fn latest_names_answer_with_the_model_mistrals_api_serves() {
    let h = Harness::start().await;
    for (name, id) in [
        ("mistral-large-latest", "mistral.mistral-large-3-675b-instruct"),
        ("mistral-large-2512", "mistral.mistral-large-3-675b-instruct"),
        ("ministral-8b-latest", "mistral.ministral-3-8b-instruct"),
        ("magistral-small-latest", "mistral.magistral-small-2509"),
        ("mistral-large-2407", "mistral.mistral-large-2407-v1:0"),
        ("mistral-large", "mistral.mistral-large-2407-v1:0"),
    ] {
        let reply = h.post_json("/v1/chat/completions", &chat(name, "Hello")).await;
        assert_eq!(reply.status, 200, "{name}: {}", reply.body);
        assert_eq!(reply.body["model"], id, "{name}");
        assert_eq!(h.emulator().last_request().unwrap()["modelId"], id, "{name}");
    }
    // Mistral Large 3's price, not Large 2's: 2 tokens in, 2 out at $0.50/$1.50 per 1M.
    let reply = h.post_json("/v1/chat/completions", &chat("mistral-large-latest", "Hello")).await;
    let usage = &reply.body["usage"];
    let (input, output) = (usage["prompt_tokens"].as_f64().unwrap(), usage["completion_tokens"].as_f64().unwrap());
    assert_eq!(usage["cost_usd"].as_f64().unwrap(), (input * 0.5 + output * 1.5) / 1e6);

    // Mistral Small 4 is what Mistral's API serves as `mistral-small-latest`; Bedrock has none.
    let reply = h.post_json("/v1/chat/completions", &chat("mistral-small-latest", "Hello")).await;
    assert_eq!(reply.status, 404, "{}", reply.body);

    let models = h.get("/v1/models").await;
    let large_3 = models.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == "mistral.mistral-large-3-675b-instruct")
        .unwrap();
    let aliases: Vec<&str> = large_3["aliases"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect();
    assert!(aliases.contains(&"mistral-large-latest"), "{aliases:?}");
}

/// A deployment that allows Mistral Large 2 but not Large 3 does not lend it the name.
#[tokio::test]
async fn a_latest_name_whose_model_is_not_allowed_is_a_404() {
    let h = Harness::with_config(&[("BEDROCK_MODEL_IDS", "mistral.mistral-large-2407-v1:0")]).await;
    let reply = h.post_json("/v1/chat/completions", &chat("mistral-large-latest", "Hello")).await;
    assert_eq!(reply.status, 404, "{}", reply.body);
    let reply = h.post_json("/v1/chat/completions", &chat("mistral-large", "Hello")).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
}
