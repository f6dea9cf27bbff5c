//! The emulator's side of model routing, through the real `aws-sdk-bedrockruntime` client: the
//! escalation marker and the triage verdict of the gateway's protocol, broken JSON from small
//! models, structured output refused to models without it, faults aimed at one model, and
//! application inference profiles.

use aws_sdk_bedrockruntime::error::ProvideErrorMetadata;
use aws_sdk_bedrockruntime::operation::converse::ConverseError;
use aws_sdk_bedrockruntime::operation::converse_stream::ConverseStreamError;
use aws_sdk_bedrockruntime::types::{
    JsonSchemaDefinition, OutputConfig, OutputFormat, OutputFormatStructure, OutputFormatType, StopReason,
    SystemContentBlock,
};
use dev::emulator::Emulator;
use dev::emulator::validate::NO_STRUCTURED_OUTPUT;
use serde_json::{Value, json};
use shared::catalog;
use shared::convert::request::JSON_OBJECT_INSTRUCTION;
use shared::model_choice::protocol::{
    ESCALATION_INSTRUCTION, ESCALATION_MARKER, TRIAGE_INSTRUCTION, TRIAGE_SCHEMA_NAME, read_triage, triage_schema,
};
use tests::sdk::{client, converse_text, invoke, invoke_error, read_stream, text_of, user, user_blocks};

const SMALL: &str = "mistral.ministral-3-8b-instruct";
const SMALL_PROFILE: &str = "us.mistral.ministral-3-8b-instruct";
const LARGE: &str = "mistral.mistral-large-3-675b-instruct";

fn structured(name: &str, schema: &Value) -> OutputConfig {
    let definition = JsonSchemaDefinition::builder().name(name).schema(schema.to_string()).build().unwrap();
    let format = OutputFormat::builder()
        .r#type(OutputFormatType::JsonSchema)
        .structure(OutputFormatStructure::JsonSchema(definition))
        .build()
        .unwrap();
    OutputConfig::builder().text_format(format).build()
}

#[tokio::test]
async fn a_small_tier_answers_the_marker_for_hard_questions_and_the_top_tier_answers() {
    let emulator = Emulator::start().await.unwrap();
    let client = client(&emulator);
    let hard = || vec![user_blocks(&["Prove the Riemann hypothesis [[hard]]", ESCALATION_INSTRUCTION])];

    let output = client.converse().model_id(SMALL_PROFILE).set_messages(Some(hard())).send().await.unwrap();
    assert_eq!(text_of(output.output().unwrap().as_message().unwrap()), ESCALATION_MARKER);
    assert_eq!(output.stop_reason(), &StopReason::EndTurn);
    let note_words = ESCALATION_INSTRUCTION.split_whitespace().count() as i32;
    assert_eq!(output.usage().unwrap().input_tokens(), 5 + note_words, "the note is paid for");

    // Streamed the same way.
    let streamed = client.converse_stream().model_id(SMALL).set_messages(Some(hard())).send().await.unwrap();
    assert_eq!(read_stream(streamed.stream).await.unwrap().text, ESCALATION_MARKER);

    // The top tier answers, and never reads the note.
    let answer = converse_text(&client, LARGE, hard()).await;
    assert_eq!(answer, "You said: Prove the Riemann hypothesis");
    // An easy question on the small tier is answered too.
    let easy = converse_text(&client, SMALL, vec![user_blocks(&["What is 2+2?", ESCALATION_INSTRUCTION])]).await;
    assert_eq!(easy, "You said: What is 2+2?");
}

#[tokio::test]
async fn triage_calls_are_answered_with_the_difficulty_the_prompt_asks_for() {
    let emulator = Emulator::start().await.unwrap();
    let client = client(&emulator);
    for (conversation, expected) in [("user: hello", "easy"), ("user: prove this theorem [[hard]]", "hard")] {
        let output = client
            .converse()
            .model_id(SMALL)
            .messages(user(&format!("{TRIAGE_INSTRUCTION}{conversation}")))
            .output_config(structured(TRIAGE_SCHEMA_NAME, &triage_schema()))
            .send()
            .await
            .unwrap();
        let answer = text_of(output.output().unwrap().as_message().unwrap());
        assert_eq!(read_triage(&answer).map(|d| d.label()), Some(expected), "{answer}");
    }
}

#[tokio::test]
async fn broken_json_comes_from_small_models_and_parses_from_large_ones() {
    let emulator = Emulator::start().await.unwrap();
    let client = client(&emulator);
    let schema = json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]});
    for model in [SMALL, LARGE] {
        let output = client
            .converse()
            .model_id(model)
            .messages(user("Capital of France? [[broken-json]]"))
            .output_config(structured("City", &schema))
            .send()
            .await
            .unwrap();
        let answer = text_of(output.output().unwrap().as_message().unwrap());
        let parsed = serde_json::from_str::<Value>(&answer);
        assert_eq!(parsed.is_ok(), model == LARGE, "{model}: {answer}");

        // JSON asked for by the gateway's instruction, on a model without structured output.
        let output = client
            .converse()
            .model_id(model)
            .system(SystemContentBlock::Text(JSON_OBJECT_INSTRUCTION.into()))
            .messages(user("Capital of France? [[broken-json]]"))
            .send()
            .await
            .unwrap();
        let answer = text_of(output.output().unwrap().as_message().unwrap());
        match serde_json::from_str::<Value>(&answer) {
            Ok(value) => {
                assert_eq!(model, LARGE, "{answer}");
                assert_eq!(value, json!({"answer": "You said: Capital of France?"}));
            }
            Err(_) => assert_eq!(model, SMALL, "{answer}"),
        }
    }
}

#[tokio::test]
async fn structured_output_is_a_validation_error_for_a_model_without_it() {
    let emulator = Emulator::start().await.unwrap();
    let client = client(&emulator);
    // Mistral Large 2 has no native structured output in the catalog; Ministral 3 3B has.
    let without = "mistral.mistral-large-2407-v1:0";
    let with = "mistral.ministral-3-3b-instruct";
    assert!(!catalog::lookup(without).unwrap().capabilities.json_schema);
    assert!(catalog::lookup(with).unwrap().capabilities.json_schema);
    let schema = json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]});
    let question = || user("Capital of France?");
    let profile = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/l4rg3tw0";
    emulator.register_profile(profile, "us.mistral.mistral-large-2407-v1:0");

    let converse =
        |model: &str| client.converse().model_id(model).messages(question()).output_config(structured("City", &schema));
    let converse_stream = |model: &str| {
        client.converse_stream().model_id(model).messages(question()).output_config(structured("City", &schema))
    };

    for model in [without, "eu.mistral.mistral-large-2407-v1:0", profile] {
        let error = converse(model).send().await.unwrap_err();
        assert_eq!(error.raw_response().map(|raw| raw.status().as_u16()), Some(400), "{model}");
        let ConverseError::ValidationException(error) = error.into_service_error() else { panic!("{model}") };
        assert_eq!(error.message(), Some(NO_STRUCTURED_OUTPUT), "{model}");

        let error = converse_stream(model).send().await.unwrap_err();
        assert_eq!(error.raw_response().map(|raw| raw.status().as_u16()), Some(400), "{model}");
        let ConverseStreamError::ValidationException(error) = error.into_service_error() else { panic!("{model}") };
        assert_eq!(error.message(), Some(NO_STRUCTURED_OUTPUT), "{model}");
    }
    // Without `outputConfig` the same model answers.
    assert_eq!(converse_text(&client, without, vec![question()]).await, "You said: Capital of France?");

    // The same request to a model with structured output is answered with JSON that fits.
    let output = converse(with).send().await.unwrap();
    let answer = text_of(output.output().unwrap().as_message().unwrap());
    assert_eq!(serde_json::from_str::<Value>(&answer).unwrap(), json!({"city": "example"}));
    let streamed = read_stream(converse_stream(with).send().await.unwrap().stream).await.unwrap();
    assert_eq!(serde_json::from_str::<Value>(&streamed.text).unwrap(), json!({"city": "example"}));
}

#[tokio::test]
async fn a_fault_aimed_at_one_model_spares_the_others() {
    let emulator = Emulator::start().await.unwrap();
    let client = client(&emulator);
    let prompt = "Hi [[fault:throttle@ministral-8b]] [[fault:unavailable@mistral.mistral-large-2407-v1:0]]";
    for model in [SMALL, SMALL_PROFILE, &format!("arn:aws:bedrock:us-east-1::foundation-model/{SMALL}")] {
        let error = client.converse().model_id(model).messages(user(prompt)).send().await.unwrap_err();
        assert!(matches!(error.into_service_error(), ConverseError::ThrottlingException(_)), "{model}");
    }
    let error = client
        .converse_stream()
        .model_id("eu.mistral.mistral-large-2407-v1:0")
        .messages(user(prompt))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(error.code(), Some("ServiceUnavailableException"));
    assert_eq!(converse_text(&client, LARGE, vec![user(prompt)]).await, "You said: Hi");
    // Unscoped faults still hit every model.
    let error = client.converse().model_id(LARGE).messages(user("Hi [[fault:internal]]")).send().await.unwrap_err();
    assert!(matches!(error.into_service_error(), ConverseError::InternalServerException(_)));
}

#[tokio::test]
async fn a_registered_application_profile_behaves_like_its_model() {
    let emulator = Emulator::start().await.unwrap();
    let client = client(&emulator);
    let arn = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/k2v9x7q4m1z8";
    let hard = || vec![user_blocks(&["Explain quantum gravity [[hard]]", ESCALATION_INSTRUCTION])];

    let error = client.converse().model_id(arn).set_messages(Some(hard())).send().await.unwrap_err();
    let ConverseError::ValidationException(error) = error.into_service_error() else { panic!("invalid id") };
    assert_eq!(error.message(), Some("The provided model identifier is invalid."));

    emulator.register_profile(arn, SMALL_PROFILE);
    assert!(catalog::lookup(SMALL).is_some_and(|m| m.tier < catalog::Tier::Large));
    assert_eq!(converse_text(&client, arn, hard()).await, ESCALATION_MARKER, "a small model's tier");
    assert_eq!(emulator.last_request().unwrap()["modelId"], arn);
    let error = client.converse().model_id(arn).messages(user("x [[fault:throttle@ministral-8b]]")).send().await;
    assert!(matches!(error.unwrap_err().into_service_error(), ConverseError::ThrottlingException(_)));

    let reasoning = "arn:aws:bedrock:eu-west-1:123456789012:application-inference-profile/r3a5s0n1ng";
    emulator.register_profile(reasoning, "mistral.magistral-small-2509");
    let output = client.converse().model_id(reasoning).messages(user("Why?")).send().await.unwrap();
    let content = output.output().unwrap().as_message().unwrap().content();
    assert!(content[0].is_reasoning_content(), "{content:?}");
}

#[tokio::test]
async fn native_bodies_follow_the_same_routing_protocol() {
    let emulator = Emulator::start().await.unwrap();
    let client = client(&emulator);
    // Mistral Small (24.02) takes the text body; the gateway's note ends the last turn.
    let prompt = format!("<s>[INST] Prove the Riemann hypothesis [[hard]]\n\n{ESCALATION_INSTRUCTION} [/INST]");
    let body = invoke(&client, "mistral.mistral-small-2402-v1:0", &json!({ "prompt": prompt })).await;
    assert_eq!(body["outputs"][0]["text"], ESCALATION_MARKER);

    let chat = |content: Value| json!({ "messages": [{ "role": "user", "content": content }] });
    let parts =
        json!([{ "type": "text", "text": "Prove it [[hard]]" }, { "type": "text", "text": ESCALATION_INSTRUCTION }]);
    let body = invoke(&client, SMALL, &chat(parts.clone())).await;
    assert_eq!(body["choices"][0]["message"]["content"], ESCALATION_MARKER);
    let body = invoke(&client, LARGE, &chat(parts)).await;
    assert_eq!(body["choices"][0]["message"]["content"], "You said: Prove it");

    let mut json_mode = chat(json!("Capital of France? [[broken-json]]"));
    json_mode["response_format"] = json!({ "type": "json_object" });
    let broken = invoke(&client, SMALL, &json_mode).await;
    assert!(serde_json::from_str::<Value>(broken["choices"][0]["message"]["content"].as_str().unwrap()).is_err());
    let fine = invoke(&client, LARGE, &json_mode).await;
    assert!(serde_json::from_str::<Value>(fine["choices"][0]["message"]["content"].as_str().unwrap()).is_ok());

    let arn = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/mixtral01";
    emulator.register_profile(arn, "mistral.mixtral-8x7b-instruct-v0:1");
    let body =
        invoke(&client, arn, &json!({ "prompt": "<s>[INST] Hi [[fault:throttle@mistral-large]] [/INST]" })).await;
    assert_eq!(body["outputs"][0]["text"], "You said: Hi", "the fault names another model");
    let error =
        invoke_error(&client, arn, &json!({ "prompt": "[INST] Hi [[fault:throttle@mixtral-8x7b]] [/INST]" })).await;
    assert_eq!(error.code(), Some("ThrottlingException"));
}
