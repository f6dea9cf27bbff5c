//! The Bedrock surface end to end, through the dev server, the real SDK and the emulator:
//! Mistral's native bodies (InvokeModel) for the models a deployment names, reasoning output,
//! guardrails on every operation, and application inference profiles.

use serde_json::{Value, json};
use tests::{Harness, chat};

const LARGE_2407: &str = "mistral.mistral-large-2407-v1:0";
const MIXTRAL: &str = "mistral.mixtral-8x7b-instruct-v0:1";
const PROFILE: &str = "arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/a1b2c3d4e5f6";
const BLOCKED: &str = "Sorry, the model cannot answer this question.";

fn sse_chunks(body: &Value) -> Vec<Value> {
    body.as_str()
        .unwrap_or_else(|| panic!("not an SSE body: {body}"))
        .split("\n\n")
        .filter_map(|event| event.strip_prefix("data: "))
        .filter(|data| *data != "[DONE]")
        .map(|data| serde_json::from_str(data).unwrap())
        .collect()
}

fn streamed(mut body: Value) -> Value {
    body["stream"] = json!(true);
    body
}

#[tokio::test]
async fn native_models_answer_the_same_through_invoke_model() {
    let h = Harness::with_config(&[("BEDROCK_INVOKE_MODELS", "mistral-large,mixtral-8x7b")]).await;
    let reply = h.post_json("/v1/chat/completions", &chat("mistral-large", "Hello native")).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["choices"][0]["message"]["content"], "You said: Hello native");
    assert_eq!(reply.body["model"], LARGE_2407);
    assert!(reply.body["usage"]["prompt_tokens"].as_u64().unwrap() > 0, "token counts come through: {}", reply.body);
    assert!(reply.body["usage"]["cost_usd"].as_f64().unwrap() > 0.0);
    let sent = h.emulator().last_request().unwrap();
    assert_eq!(sent["operation"], "invoke");
    assert_eq!(sent["messages"][0], json!({"role": "user", "content": "Hello native"}));

    // Mixtral takes the text body; a system prompt is folded into the first instruction.
    let body = json!({"model": "mixtral-8x7b", "messages": [{"role": "system", "content": "Be brief."},
                      {"role": "user", "content": "Hi"}], "stop": ["END"]});
    let reply = h.post_json("/v1/chat/completions", &body).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["model"], MIXTRAL);
    let sent = h.emulator().last_request().unwrap();
    assert_eq!(sent["prompt"], "<s>[INST] Be brief.\n\nHi [/INST]");
    assert_eq!(sent["stop"], json!(["END"]));
}

#[tokio::test]
async fn native_streams_arrive_as_the_same_sse_sequence() {
    let h = Harness::with_config(&[("BEDROCK_INVOKE_MODELS", "mistral-large")]).await;
    let reply = h.post_json("/stream/v1/chat/completions", &streamed(chat("mistral-large", "one two three"))).await;
    assert_eq!(reply.status, 200);
    let chunks = sse_chunks(&reply.body);
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    let text: String = chunks.iter().filter_map(|c| c["choices"][0]["delta"]["content"].as_str()).collect();
    assert_eq!(text, "You said: one two three");
    let last = chunks.last().unwrap();
    assert_eq!(last["choices"][0]["finish_reason"], "stop");
    assert!(last["usage"]["completion_tokens"].as_u64().unwrap() > 0, "{last}");
    assert_eq!(h.emulator().last_request().unwrap()["operation"], "invoke-with-response-stream");
}

#[tokio::test]
async fn the_tool_loop_runs_on_a_native_model() {
    let h = Harness::with_config(&[("BEDROCK_INVOKE_MODELS", "mistral-large")]).await;
    let (status, body) = h.ask(&chat("mistral-large", "What's the status of my transaction T1001?")).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["choices"][0]["message"]["content"].as_str().unwrap().contains("Paid"), "{body}");
    assert_eq!(body["tool_runs"][0]["name"], "retrieve_payment_status");
    assert_eq!(h.emulator().last_request().unwrap()["operation"], "invoke");
}

#[tokio::test]
async fn tool_choice_none_with_tool_calls_in_the_history_needs_the_native_api() {
    let tool = json!({"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}});
    let body = json!({"model": "mistral-large", "tools": [tool], "tool_choice": "none", "messages": [
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": "", "tool_calls": [{"id": "call00001", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}]},
        {"role": "tool", "tool_call_id": "call00001", "content": "sunny"},
        {"role": "user", "content": "Thanks, now just say bye"}
    ]});
    let converse = Harness::start().await;
    let reply = converse.post_json("/v1/chat/completions", &body).await;
    assert_eq!(reply.status, 400, "Converse cannot express it: {}", reply.body);
    assert!(reply.error_message().contains("BEDROCK_INVOKE_MODELS"), "{}", reply.body);

    let native = Harness::with_config(&[("BEDROCK_INVOKE_MODELS", "mistral-large")]).await;
    let reply = native.post_json("/v1/chat/completions", &body).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply.body["choices"][0]["message"].get("tool_calls").is_none());
    let sent = native.emulator().last_request().unwrap();
    assert_eq!(sent["tool_choice"], "none");
    assert_eq!(sent["messages"][2], json!({"role": "tool", "tool_call_id": "call00001", "content": "sunny"}));
}

#[tokio::test]
async fn reasoning_is_passed_apart_from_the_answer() {
    let h = Harness::start().await;
    let reply = h.post_json("/v1/chat/completions", &chat("magistral-small", "Why is the sky blue?")).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let message = &reply.body["choices"][0]["message"];
    assert_eq!(message["content"], "You said: Why is the sky blue?");
    assert!(message["reasoning_content"].as_str().unwrap().starts_with("Thinking about"), "{message}");

    let reply =
        h.post_json("/stream/v1/chat/completions", &streamed(chat("magistral-small", "Why is the sky blue?"))).await;
    let chunks = sse_chunks(&reply.body);
    let first_content = chunks
        .iter()
        .position(|c| c["choices"][0]["delta"]["content"].as_str().is_some_and(|t| !t.is_empty()))
        .unwrap();
    let reasoning: Vec<usize> =
        (0..chunks.len()).filter(|&i| chunks[i]["choices"][0]["delta"].get("reasoning_content").is_some()).collect();
    assert!(!reasoning.is_empty() && reasoning.iter().all(|&i| i < first_content), "reasoning streams first");
    let content: String = chunks.iter().filter_map(|c| c["choices"][0]["delta"]["content"].as_str()).collect();
    assert!(!content.contains("Thinking"), "{content}");

    // Reasoning sent back in the history stays out of the conversation Bedrock sees.
    let body = json!({"model": "magistral-small", "messages": [
        {"role": "user", "content": "First"},
        {"role": "assistant", "content": "An answer", "reasoning_content": "secret thoughts"},
        {"role": "user", "content": "Second"}]});
    assert_eq!(h.post_json("/v1/chat/completions", &body).await.status, 200);
    assert!(!h.emulator().last_request().unwrap().to_string().contains("secret thoughts"));
}

#[tokio::test]
async fn a_reasoning_budget_is_refused_by_name() {
    let h = Harness::start().await;
    for model in ["magistral-small", "mistral-large"] {
        let mut body = chat(model, "Hi");
        body["reasoning_effort"] = json!("high");
        let reply = h.post_json("/v1/chat/completions", &body).await;
        assert_eq!(reply.status, 400, "{model}: {}", reply.body);
        assert_eq!(reply.body["error"]["param"], "reasoning_effort");
    }
    assert_eq!(h.emulator().requests(), 0);
}

#[tokio::test]
async fn a_guardrail_applies_to_every_operation_and_ends_in_content_filter() {
    let h = Harness::with_config(&[
        ("BEDROCK_GUARDRAIL_ID", "gr1abc2def"),
        ("BEDROCK_GUARDRAIL_VERSION", "3"),
        ("BEDROCK_GUARDRAIL_TRACE", "enabled"),
        ("BEDROCK_INVOKE_MODELS", "mistral-large"),
    ])
    .await;
    // Converse.
    let reply = h.post_json("/v1/chat/completions", &chat("mistral-large-3", "Something bad [[intervene]]")).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["choices"][0]["finish_reason"], "content_filter");
    assert_eq!(reply.body["choices"][0]["message"]["content"], BLOCKED);
    let sent = h.emulator().last_request().unwrap();
    assert_eq!(sent["guardrailConfig"]["guardrailIdentifier"], "gr1abc2def");
    assert_eq!(sent["guardrailConfig"]["guardrailVersion"], "3");
    assert_eq!(sent["guardrailConfig"]["trace"], "enabled");
    // ConverseStream, with the stream processing mode.
    let reply =
        h.post_json("/stream/v1/chat/completions", &streamed(chat("mistral-large-3", "Bad [[intervene]]"))).await;
    let chunks = sse_chunks(&reply.body);
    assert_eq!(chunks.last().unwrap()["choices"][0]["finish_reason"], "content_filter");
    let sent = h.emulator().last_request().unwrap();
    assert_eq!(sent["guardrailConfig"]["streamProcessingMode"], "sync");
    // InvokeModel: the guardrail headers.
    let reply = h.post_json("/v1/chat/completions", &chat("mistral-large", "Bad [[intervene]]")).await;
    assert_eq!(reply.body["choices"][0]["finish_reason"], "content_filter", "{}", reply.body);
    assert_eq!(reply.body["choices"][0]["message"]["content"], BLOCKED);
    let sent = h.emulator().last_request().unwrap();
    assert_eq!(sent["operation"], "invoke");
    assert_eq!(sent["guardrailConfig"]["guardrailIdentifier"], "gr1abc2def", "{sent}");
    // Without an intervention the answer is untouched.
    let reply = h.post_json("/v1/chat/completions", &chat("mistral-large-3", "Hello")).await;
    assert_eq!(reply.body["choices"][0]["finish_reason"], "stop");
}

#[tokio::test]
async fn an_application_inference_profile_is_the_model_behind_it() {
    let ids = format!("{PROFILE}#mistral-large-3,mistral.ministral-3-3b-instruct");
    let h =
        Harness::with_config(&[("BEDROCK_MODEL_IDS", &ids), ("BEDROCK_MODEL_ALIASES", &format!("team-a={PROFILE}"))])
            .await;
    for name in [PROFILE, "team-a", "mistral-large-3"] {
        let reply = h.post_json("/v1/chat/completions", &chat(name, "Hello profile")).await;
        assert_eq!(reply.status, 200, "{name}: {}", reply.body);
        assert_eq!(reply.body["model"], PROFILE);
        assert_eq!(h.emulator().last_request().unwrap()["modelId"], PROFILE, "Bedrock is sent the ARN");
        let cost = reply.body["usage"]["cost_usd"].as_f64().unwrap();
        let usage = &reply.body["usage"];
        let expected =
            (usage["prompt_tokens"].as_f64().unwrap() * 0.5 + usage["completion_tokens"].as_f64().unwrap() * 1.5) / 1e6;
        assert!((cost - expected).abs() < 1e-9, "priced as Mistral Large 3: {usage}");
    }
    // Capabilities are the model's: Large 3 has native JSON-schema output.
    let mut body = chat("team-a", "A city as JSON");
    body["response_format"] = json!({"type": "json_schema", "json_schema": {"name": "c", "schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}});
    let reply = h.post_json("/v1/chat/completions", &body).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let models = h.get("/v1/models").await;
    assert_eq!(models.body["data"][0]["id"], PROFILE);
    assert!(models.body["data"][0]["aliases"].as_array().unwrap().contains(&json!("team-a")));
}
