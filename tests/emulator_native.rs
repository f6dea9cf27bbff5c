//! Mistral's native bodies on the emulator (InvokeModel, InvokeModelWithResponseStream), through
//! the real `aws-sdk-bedrockruntime` client: chat and text completion per model, the bodies a
//! model refuses (the other kind, keys its kind does not take), the scripted model's tool calls,
//! structured output, faults and streams in the native shapes.

use aws_sdk_bedrockruntime::Client;
use aws_sdk_bedrockruntime::operation::invoke_model::InvokeModelError;
use aws_sdk_bedrockruntime::primitives::Blob;
use aws_sdk_bedrockruntime::types::error::ResponseStreamError;
use dev::emulator::Emulator;
use serde_json::{Value, json};
use tests::sdk::{client, invoke, invoke_error, invoke_stream};

const CHAT: &str = "mistral.mistral-large-2407-v1:0";
const TEXT: &str = "mistral.mixtral-8x7b-instruct-v0:1";
const BOTH: &str = "mistral.mistral-large-2402-v1:0";

fn chat(prompt: &str) -> Value {
    json!({ "messages": [{ "role": "user", "content": prompt }], "max_tokens": 512, "temperature": 0.5 })
}

fn text(prompt: &str) -> Value {
    json!({ "prompt": format!("<s>[INST] {prompt} [/INST]"), "max_tokens": 512, "temperature": 0.5 })
}

#[tokio::test]
async fn chat_bodies_get_chat_completions() {
    let emulator = Emulator::start().await.unwrap();
    let body = invoke(&client(&emulator), CHAT, &chat("Describe a 'hello world' program")).await;
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["model"], CHAT);
    assert!(body["id"].as_str().unwrap().starts_with("cmpl-"));
    assert!(body["created"].as_u64().unwrap() > 1_700_000_000);
    let choice = &body["choices"][0];
    assert_eq!(choice["index"], 0);
    assert_eq!(
        choice["message"],
        json!({ "role": "assistant", "content": "You said: Describe a 'hello world' program" })
    );
    assert_eq!(choice["stop_reason"], "stop");
    assert_eq!(body["usage"], json!({ "prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12 }));
    let last = emulator.last_request().unwrap();
    assert_eq!((last["operation"].as_str(), last["modelId"].as_str()), (Some("invoke"), Some(CHAT)));
    assert_eq!(last["max_tokens"], 512);
}

#[tokio::test]
async fn text_bodies_get_outputs_and_multi_turn_prompts_echo_the_last_turn() {
    let emulator = Emulator::start().await.unwrap();
    let client = client(&emulator);
    let body = invoke(&client, TEXT, &text("What is your favourite condiment?")).await;
    assert_eq!(
        body,
        json!({ "outputs": [{ "text": "You said: What is your favourite condiment?", "stop_reason": "stop" }] })
    );
    let turns = json!({ "prompt": "<s>[INST] Hi [/INST] Hello!</s>[INST] Any recipes? [/INST]", "max_tokens": 3 });
    let body = invoke(&client, TEXT, &turns).await;
    assert_eq!(body["outputs"][0], json!({ "text": "You said: Any", "stop_reason": "length" }));
    // Mistral Large (24.02) takes both bodies.
    assert_eq!(invoke(&client, BOTH, &text("Hi")).await["outputs"][0]["text"], "You said: Hi");
    assert_eq!(invoke(&client, BOTH, &chat("Hi")).await["choices"][0]["message"]["content"], "You said: Hi");
}

/// A native body the emulator must refuse: the call fails with `400 ValidationException`, whose
/// message (Bedrock's schema-check words) names every one of `problems`.
async fn assert_refused(client: &Client, model: &str, body: &Value, problems: &[&str]) {
    let error = client
        .invoke_model()
        .model_id(model)
        .body(Blob::new(body.to_string()))
        .send()
        .await
        .expect_err("the body is refused");
    assert_eq!(error.raw_response().map(|raw| raw.status().as_u16()), Some(400), "{model}");
    let InvokeModelError::ValidationException(error) = error.into_service_error() else { panic!("{model}") };
    let message = error.message().unwrap();
    assert!(message.starts_with("Malformed input request: "), "{model}: {message}");
    for problem in problems {
        assert!(message.contains(problem), "{model}: {problem} not in {message}");
    }
}

#[tokio::test]
async fn a_chat_body_to_a_text_completion_model_is_refused() {
    let emulator = Emulator::start().await.unwrap();
    let client = client(&emulator);
    let problems = ["#: required key [prompt] not found", "#: extraneous key [messages] is not permitted"];
    for model in [TEXT, "mistral.mistral-small-2402-v1:0"] {
        assert_refused(&client, model, &chat("Hi"), &problems).await;
    }
}

#[tokio::test]
async fn a_text_body_to_a_chat_only_model_is_refused() {
    let emulator = Emulator::start().await.unwrap();
    let client = client(&emulator);
    // Ministral 3 is Converse-only in the catalog: InvokeModel takes the chat body alone.
    let problems = ["#: required key [messages] not found", "#: extraneous key [prompt] is not permitted"];
    for model in [CHAT, "mistral.ministral-3-14b-instruct"] {
        assert_refused(&client, model, &text("Hi"), &problems).await;
    }
}

#[tokio::test]
async fn stop_in_a_chat_body_is_refused() {
    let emulator = Emulator::start().await.unwrap();
    let client = client(&emulator);
    // The text body takes `stop`; the chat body does not.
    let mut with_stop = text("Hi");
    with_stop["stop"] = json!(["\n\n"]);
    assert_eq!(invoke(&client, TEXT, &with_stop).await["outputs"][0]["text"], "You said: Hi");
    let mut with_stop = chat("Hi");
    with_stop["stop"] = json!(["\n\n"]);
    for model in [CHAT, BOTH] {
        assert_refused(&client, model, &with_stop, &["#: extraneous key [stop] is not permitted"]).await;
    }
    let empty = json!({ "messages": [], "top_p": 0 });
    assert_refused(&client, CHAT, &empty, &["#/messages: expected minimum item count: 1"]).await;
}

#[tokio::test]
async fn native_tool_calls_round_trip() {
    let emulator = Emulator::start().await.unwrap();
    let client = client(&emulator);
    let tools = json!([{ "type": "function", "function": { "name": "get_weather", "description": "Weather",
        "parameters": { "type": "object", "properties": { "city": { "type": "string" } }, "required": ["city"] } } }]);
    let mut request = json!({ "messages": [{ "role": "user", "content": "Weather in Paris? [[call:get_weather {\"city\":\"Paris\"}]]" }],
        "tools": tools, "tool_choice": "auto" });
    let body = invoke(&client, CHAT, &request).await;
    let choice = &body["choices"][0];
    assert_eq!(choice["stop_reason"], "tool_calls");
    let call = &choice["message"]["tool_calls"][0];
    let id = call["id"].as_str().unwrap();
    assert!(id.len() == 9 && id.chars().all(|c| c.is_ascii_alphanumeric()), "{id}");
    assert_eq!(call["type"], "function");
    assert_eq!(call["function"]["name"], "get_weather");
    assert_eq!(
        serde_json::from_str::<Value>(call["function"]["arguments"].as_str().unwrap()).unwrap(),
        json!({ "city": "Paris" })
    );

    let messages = request["messages"].as_array_mut().unwrap();
    messages.push(choice["message"].clone());
    messages.push(json!({ "role": "tool", "tool_call_id": id, "content": "{\"temp_c\": 21}" }));
    let body = invoke(&client, CHAT, &request).await;
    assert_eq!(body["choices"][0]["message"]["content"], "Tool results: name=get_weather -> {\"temp_c\": 21}");
}

#[tokio::test]
async fn native_response_formats_answer_json() {
    let emulator = Emulator::start().await.unwrap();
    let client = client(&emulator);
    let schema = json!({ "type": "object", "properties": { "city": { "type": "string" } }, "required": ["city"] });
    let mut request = chat("Capital of France?");
    request["response_format"] = json!({ "type": "json_schema", "json_schema": { "name": "City", "schema": schema } });
    let content =
        invoke(&client, CHAT, &request).await["choices"][0]["message"]["content"].as_str().unwrap().to_owned();
    assert_eq!(serde_json::from_str::<Value>(&content).unwrap(), json!({ "city": "example" }));
    request["response_format"] = json!({ "type": "json_object" });
    let content =
        invoke(&client, CHAT, &request).await["choices"][0]["message"]["content"].as_str().unwrap().to_owned();
    assert!(serde_json::from_str::<Value>(&content).unwrap().is_object(), "{content}");
}

#[tokio::test]
async fn chat_streams_send_word_chunks_then_the_stop_and_metrics() {
    let emulator = Emulator::start().await.unwrap();
    let (chunks, error) = invoke_stream(&client(&emulator), CHAT, &chat("Hello there")).await;
    assert!(error.is_none(), "{error:?}");
    let pieces: Vec<&str> = chunks.iter().map(|c| c["choices"][0]["message"]["content"].as_str().unwrap()).collect();
    assert_eq!(pieces, ["You", " said:", " Hello", " there", ""]);
    assert!(
        chunks[..4]
            .iter()
            .all(|c| c["choices"][0]["stop_reason"].is_null() && c["choices"][0]["message"]["role"] == "assistant")
    );
    let last = chunks.last().unwrap();
    assert_eq!(last["choices"][0]["stop_reason"], "stop");
    let metrics = &last["amazon-bedrock-invocationMetrics"];
    assert_eq!((metrics["inputTokenCount"].as_u64(), metrics["outputTokenCount"].as_u64()), (Some(2), Some(4)));
    assert!(metrics["invocationLatency"].is_u64() && metrics["firstByteLatency"].is_u64());
    assert_eq!(emulator.last_request().unwrap()["operation"], "invoke-with-response-stream");
}

#[tokio::test]
async fn text_streams_and_streamed_tool_calls_use_their_native_chunks() {
    let emulator = Emulator::start().await.unwrap();
    let client = client(&emulator);
    let (chunks, _) = invoke_stream(&client, TEXT, &text("Hi there")).await;
    let pieces: Vec<&str> = chunks.iter().map(|c| c["outputs"][0]["text"].as_str().unwrap()).collect();
    assert_eq!(pieces, ["You", " said:", " Hi", " there", ""]);
    assert_eq!(chunks.last().unwrap()["outputs"][0]["stop_reason"], "stop");
    assert!(chunks.last().unwrap()["amazon-bedrock-invocationMetrics"]["outputTokenCount"].is_u64());

    let tools = json!([{ "type": "function", "function": { "name": "get_time", "parameters": { "type": "object" } } }]);
    let request = json!({ "messages": [{ "role": "user", "content": "[[call:get_time]]" }], "tools": tools });
    let (chunks, _) = invoke_stream(&client, CHAT, &request).await;
    assert_eq!(chunks.len(), 2, "the calls whole in one chunk, then the stop: {chunks:#?}");
    assert_eq!(chunks[0]["choices"][0]["message"]["tool_calls"][0]["function"]["name"], "get_time");
    assert_eq!(chunks[1]["choices"][0]["stop_reason"], "tool_calls");
}

#[tokio::test]
async fn faults_reach_native_calls_before_and_during_the_stream() {
    let emulator = Emulator::start().await.unwrap();
    let client = client(&emulator);
    let error = invoke_error(&client, TEXT, &text("Hi [[fault:throttle]]")).await;
    assert!(matches!(error, InvokeModelError::ThrottlingException(_)), "{error:?}");
    let (chunks, error) =
        invoke_stream(&client, CHAT, &chat("one two three [[midstream:modelStreamErrorException]]")).await;
    assert_eq!(chunks.len(), 2, "two chunks before the exception");
    assert!(matches!(error, Some(ResponseStreamError::ModelStreamErrorException(_))), "{error:?}");
    let (_, error) = invoke_stream(&client, TEXT, &text("one two three [[midstream:throttle]]")).await;
    assert!(matches!(error, Some(ResponseStreamError::ThrottlingException(_))), "{error:?}");
}

#[tokio::test]
async fn invoke_answers_carry_token_count_headers() {
    let emulator = Emulator::start().await.unwrap();
    let response = reqwest::Client::new()
        .post(format!("{}/model/{}/invoke", emulator.url(), CHAT))
        .body(chat("Hello there").to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let headers = response.headers();
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(headers["x-amzn-bedrock-input-token-count"], "2");
    assert_eq!(headers["x-amzn-bedrock-output-token-count"], "4");
    assert!(headers["x-amzn-bedrock-invocation-latency"].to_str().unwrap().parse::<u64>().is_ok());
}
