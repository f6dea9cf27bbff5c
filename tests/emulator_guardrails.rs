//! Guardrails on the emulator, through the real `aws-sdk-bedrockruntime` client: the
//! configuration checked like Bedrock, `[[intervene]]` replacing the output with the blocked
//! message on every operation, and the trace the SDK parses.

use aws_sdk_bedrockruntime::error::ProvideErrorMetadata;
use aws_sdk_bedrockruntime::operation::converse::ConverseError;
use aws_sdk_bedrockruntime::types::{
    GuardrailConfiguration, GuardrailContentFilterType, GuardrailContentPolicyAction, GuardrailStreamConfiguration,
    GuardrailStreamProcessingMode, GuardrailTrace, StopReason, Trace,
};
use dev::emulator::Emulator;
use dev::emulator::guardrail::BLOCKED_MESSAGE;
use serde_json::{Value, json};
use tests::sdk::{client, invoke, read_stream, text_of, user};

const MODEL: &str = "mistral.mistral-large-2407-v1:0";
const ARN: &str = "arn:aws:bedrock:us-east-1:123456789012:guardrail/gr7abc";

fn guardrail(identifier: &str, version: &str, trace: GuardrailTrace) -> GuardrailConfiguration {
    GuardrailConfiguration::builder().guardrail_identifier(identifier).guardrail_version(version).trace(trace).build()
}

#[tokio::test]
async fn an_intervening_guardrail_blocks_the_converse_answer_and_traces_why() {
    let emulator = Emulator::start().await.unwrap();
    let output = client(&emulator)
        .converse()
        .model_id(MODEL)
        .messages(user("Tell me a secret [[intervene]]"))
        .guardrail_config(guardrail(ARN, "3", GuardrailTrace::Enabled))
        .send()
        .await
        .unwrap();
    assert_eq!(text_of(output.output().unwrap().as_message().unwrap()), BLOCKED_MESSAGE);
    assert_eq!(output.stop_reason(), &StopReason::GuardrailIntervened);
    assert_eq!(output.usage().unwrap().output_tokens(), 6, "the model's own answer is still paid for");
    let trace = output.trace().unwrap().guardrail().unwrap();
    assert_eq!(trace.model_output(), ["You said: Tell me a secret"]);
    let blocked = &trace.output_assessments().unwrap()["gr7abc"][0];
    let filter = &blocked.content_policy().unwrap().filters()[0];
    assert_eq!(
        (filter.r#type(), filter.action()),
        (&GuardrailContentFilterType::Violence, &GuardrailContentPolicyAction::Blocked)
    );
    assert!(trace.input_assessment().unwrap()["gr7abc"].invocation_metrics().is_some());

    let recorded = emulator.last_request().unwrap();
    assert_eq!(
        recorded["guardrailConfig"],
        json!({ "guardrailIdentifier": ARN, "guardrailVersion": "3", "trace": "enabled" })
    );
}

#[tokio::test]
async fn a_guardrail_that_does_not_intervene_lets_the_answer_through() {
    let emulator = Emulator::start().await.unwrap();
    let client = client(&emulator);
    let output = client
        .converse()
        .model_id(MODEL)
        .messages(user("Hello"))
        .guardrail_config(guardrail("gr7abc", "DRAFT", GuardrailTrace::EnabledFull))
        .send()
        .await
        .unwrap();
    assert_eq!(text_of(output.output().unwrap().as_message().unwrap()), "You said: Hello");
    assert_eq!(output.stop_reason(), &StopReason::EndTurn);
    let trace = output.trace().unwrap().guardrail().unwrap();
    assert!(trace.model_output().is_empty());
    let filters = trace.output_assessments().unwrap()["gr7abc"][0].content_policy().unwrap().filters();
    assert!(filters.len() > 1 && filters.iter().all(|f| !f.detected().unwrap_or(true)), "full trace: {filters:?}");

    // Without a guardrail, the directive does nothing.
    let output = client.converse().model_id(MODEL).messages(user("Hello [[intervene]]")).send().await.unwrap();
    assert_eq!(text_of(output.output().unwrap().as_message().unwrap()), "You said: Hello");
    assert!(output.trace().is_none());
}

#[tokio::test]
async fn a_streamed_intervention_is_one_delta_then_the_stop_and_the_trace() {
    let emulator = Emulator::start().await.unwrap();
    let config = GuardrailStreamConfiguration::builder()
        .guardrail_identifier("gr7abc")
        .guardrail_version("12")
        .trace(GuardrailTrace::Enabled)
        .stream_processing_mode(GuardrailStreamProcessingMode::Async)
        .build();
    let output = client(&emulator)
        .converse_stream()
        .model_id(MODEL)
        .messages(user("one two three four [[intervene]]"))
        .guardrail_config(config)
        .send()
        .await
        .unwrap();
    let streamed = read_stream(output.stream).await.unwrap();
    assert_eq!(streamed.deltas, [(0, "text")]);
    assert_eq!(streamed.text, BLOCKED_MESSAGE);
    assert_eq!(streamed.stop_reason, Some(StopReason::GuardrailIntervened));
    let trace = streamed.trace.unwrap();
    assert_eq!(trace.guardrail().unwrap().model_output(), ["You said: one two three four"]);
    assert_eq!(emulator.last_request().unwrap()["guardrailConfig"]["streamProcessingMode"], "async");
}

#[tokio::test]
async fn guardrail_configs_are_validated_like_bedrock() {
    let emulator = Emulator::start().await.unwrap();
    let client = client(&emulator);
    for (identifier, version, field) in [
        ("Not_An_Id", "1", "guardrailIdentifier"),
        ("gr7abc", "0", "guardrailVersion"),
        ("gr7abc", "v2", "guardrailVersion"),
    ] {
        let error = client
            .converse()
            .model_id(MODEL)
            .messages(user("Hi"))
            .guardrail_config(guardrail(identifier, version, GuardrailTrace::Disabled))
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        let ConverseError::ValidationException(error) = error else { panic!("{identifier}/{version}: {error:?}") };
        assert!(error.message().unwrap().contains(&format!("guardrailConfig.{field}")), "{error:?}");
    }
}

fn invoke_body(prompt: &str) -> Value {
    json!({ "messages": [{ "role": "user", "content": prompt }] })
}

#[tokio::test]
async fn invoke_guardrails_come_as_headers_and_answer_with_their_action() {
    let emulator = Emulator::start().await.unwrap();
    let client = client(&emulator);
    let call = |prompt: &str| {
        client
            .invoke_model()
            .model_id(MODEL)
            .guardrail_identifier("gr7abc")
            .guardrail_version("1")
            .trace(Trace::Enabled)
            .body(aws_smithy_types::Blob::new(invoke_body(prompt).to_string()))
            .send()
    };
    let body: Value = serde_json::from_slice(call("Hi").await.unwrap().body().as_ref()).unwrap();
    assert_eq!(body["amazon-bedrock-guardrailAction"], "NONE");
    assert_eq!(body["choices"][0]["message"]["content"], "You said: Hi");
    assert!(body["amazon-bedrock-trace"]["guardrail"]["inputAssessment"]["gr7abc"].is_object(), "{body}");

    let body: Value = serde_json::from_slice(call("Hi [[intervene]]").await.unwrap().body().as_ref()).unwrap();
    assert_eq!(body["amazon-bedrock-guardrailAction"], "INTERVENED");
    assert_eq!(body["choices"][0]["message"]["content"], BLOCKED_MESSAGE);
    assert_eq!(body["choices"][0]["stop_reason"], "stop");
    let recorded = emulator.last_request().unwrap();
    assert_eq!(
        recorded["guardrailConfig"],
        json!({ "guardrailIdentifier": "gr7abc", "guardrailVersion": "1", "trace": "ENABLED" })
    );
    assert_eq!(recorded["operation"], "invoke");

    // Without a guardrail, neither the action nor the directive.
    let body = invoke(&client, MODEL, &invoke_body("Hi [[intervene]]")).await;
    assert!(body.get("amazon-bedrock-guardrailAction").is_none());
    assert_eq!(body["choices"][0]["message"]["content"], "You said: Hi");

    let error = client
        .invoke_model()
        .model_id(MODEL)
        .guardrail_identifier("gr7abc")
        .body(aws_smithy_types::Blob::new(invoke_body("Hi").to_string()))
        .send()
        .await
        .unwrap_err();
    assert!(error.into_service_error().message().unwrap().contains("version is required"));
}

#[tokio::test]
async fn a_streamed_invoke_intervention_is_one_chunk_and_the_last_carries_the_action() {
    let emulator = Emulator::start().await.unwrap();
    let output = client(&emulator)
        .invoke_model_with_response_stream()
        .model_id("mistral.mixtral-8x7b-instruct-v0:1")
        .guardrail_identifier("gr7abc")
        .guardrail_version("DRAFT")
        .body(aws_smithy_types::Blob::new(json!({ "prompt": "<s>[INST] Hi there [[intervene]] [/INST]" }).to_string()))
        .send()
        .await
        .unwrap();
    let mut stream = output.body;
    let mut chunks: Vec<Value> = Vec::new();
    while let Some(event) = stream.recv().await.unwrap() {
        let part = event.as_chunk().unwrap();
        chunks.push(serde_json::from_slice(part.bytes().unwrap().as_ref()).unwrap());
    }
    assert_eq!(chunks.len(), 2, "{chunks:#?}");
    assert_eq!(chunks[0]["outputs"][0]["text"], BLOCKED_MESSAGE);
    assert_eq!(chunks[1]["outputs"][0]["stop_reason"], "stop");
    assert_eq!(chunks[1]["amazon-bedrock-guardrailAction"], "INTERVENED");
    assert!(chunks[1].get("amazon-bedrock-trace").is_none(), "no trace unless asked for");
}
