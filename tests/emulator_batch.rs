//! Bedrock batch inference against the emulator's control plane and the loopback S3 server,
//! through the real `aws-sdk-bedrock` and `aws-sdk-s3` clients: jobs move through Bedrock's
//! statuses, read their records from S3, write outputs and a manifest where Bedrock writes
//! them, announce each change as an EventBridge event, and refuse what Bedrock refuses.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_bedrock::types::{
    ModelInvocationJobInputDataConfig, ModelInvocationJobOutputDataConfig, ModelInvocationJobS3InputDataConfig,
    ModelInvocationJobS3OutputDataConfig, ModelInvocationJobStatus, ModelInvocationType,
};
use aws_sdk_s3::primitives::ByteStream;
use dev::emulator::Emulator;
use dev::s3::{S3Server, s3_client};
use serde_json::{Value, json};

const MODEL: &str = "mistral.mistral-large-2407-v1:0";
const ROLE: &str = "arn:aws:iam::123456789012:role/BedrockBatch";

struct Setup {
    emulator: Emulator,
    _store: S3Server,
    s3: aws_sdk_s3::Client,
    bedrock: aws_sdk_bedrock::Client,
    events: Arc<Mutex<Vec<Value>>>,
}

async fn setup(step_ms: u64) -> Setup {
    let store = S3Server::start().await.unwrap();
    let emulator = Emulator::start().await.unwrap();
    emulator.set_s3_endpoint(&store.url());
    emulator.set_batch_step(Duration::from_millis(step_ms));
    emulator.set_batch_min_records(2);
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    emulator.set_job_events(Arc::new(move |event| {
        sink.lock().unwrap().push(event);
        Box::pin(async {})
    }));
    let s3 = s3_client(&store.url()).await;
    for bucket in ["batch-in", "batch-out"] {
        s3.create_bucket().bucket(bucket).send().await.unwrap();
    }
    let config = aws_sdk_bedrock::Config::builder()
        .behavior_version(aws_sdk_bedrock::config::BehaviorVersion::latest())
        .region(aws_sdk_bedrock::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_bedrock::config::Credentials::new("AKIDTEST", "secret", None, None, "test"))
        .endpoint_url(emulator.url())
        .build();
    Setup { emulator, _store: store, s3, bedrock: aws_sdk_bedrock::Client::from_conf(config), events }
}

impl Setup {
    async fn put(&self, key: &str, lines: &[Value]) {
        let body: String = lines.iter().map(|line| format!("{line}\n")).collect();
        self.s3
            .put_object()
            .bucket("batch-in")
            .key(key)
            .body(ByteStream::from(body.into_bytes()))
            .send()
            .await
            .unwrap();
    }

    fn create(
        &self,
        name: &str,
        input: &str,
    ) -> aws_sdk_bedrock::operation::create_model_invocation_job::builders::CreateModelInvocationJobFluentBuilder {
        let input =
            ModelInvocationJobS3InputDataConfig::builder().s3_uri(format!("s3://batch-in/{input}")).build().unwrap();
        let output = ModelInvocationJobS3OutputDataConfig::builder().s3_uri("s3://batch-out/results/").build().unwrap();
        self.bedrock
            .create_model_invocation_job()
            .job_name(name)
            .role_arn(ROLE)
            .model_id(MODEL)
            .input_data_config(ModelInvocationJobInputDataConfig::S3InputDataConfig(input))
            .output_data_config(ModelInvocationJobOutputDataConfig::S3OutputDataConfig(output))
    }

    /// Polls the job until it ends; returns its last state.
    async fn wait(
        &self,
        arn: &str,
    ) -> aws_sdk_bedrock::operation::get_model_invocation_job::GetModelInvocationJobOutput {
        for _ in 0..500 {
            let job = self.bedrock.get_model_invocation_job().job_identifier(arn).send().await.unwrap();
            let done = matches!(
                job.status(),
                Some(
                    ModelInvocationJobStatus::Completed
                        | ModelInvocationJobStatus::PartiallyCompleted
                        | ModelInvocationJobStatus::Failed
                        | ModelInvocationJobStatus::Stopped
                )
            );
            if done {
                return job;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("job {arn} did not end");
    }

    async fn object(&self, key: &str) -> String {
        let object = self.s3.get_object().bucket("batch-out").key(key).send().await.unwrap();
        String::from_utf8(object.body.collect().await.unwrap().into_bytes().to_vec()).unwrap()
    }

    fn statuses(&self, arn: &str) -> Vec<String> {
        let events = self.events.lock().unwrap();
        events
            .iter()
            .filter(|event| event["detail"]["batchJobArn"] == arn)
            .map(|event| event["detail"]["status"].as_str().unwrap_or_default().to_owned())
            .collect()
    }
}

fn chat(id: &str, prompt: &str) -> Value {
    json!({ "recordId": id, "modelInput": { "messages": [{ "role": "user", "content": prompt }], "max_tokens": 100 } })
}

fn job_id(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap()
}

#[tokio::test]
async fn a_job_answers_every_record_writes_outputs_and_manifest_and_announces_each_status() {
    let setup = setup(5).await;
    let records = [chat("r1", "first question"), chat("r2", "second one here"), chat("r3", "third")];
    setup.put("jobs/input.jsonl", &records).await;
    let arn = setup.create("job-complete", "jobs/input.jsonl").send().await.unwrap().job_arn().to_owned();
    assert!(arn.starts_with("arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/"), "{arn}");
    assert_eq!(job_id(&arn).len(), 12);

    let job = setup.wait(&arn).await;
    assert_eq!(job.status(), Some(&ModelInvocationJobStatus::Completed));
    assert_eq!(
        (job.total_record_count(), job.success_record_count(), job.error_record_count()),
        (Some(3), Some(3), Some(0))
    );
    assert_eq!(job.job_name(), Some("job-complete"));
    assert!(job.end_time().is_some() && job.job_expiration_time().is_some());
    assert_eq!(job.timeout_duration_in_hours(), Some(168));

    let output = setup.object(&format!("results/{}/input.jsonl.out", job_id(&arn))).await;
    let lines: Vec<Value> = output.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    assert_eq!(lines.len(), 3);
    let (mut input_tokens, mut output_tokens) = (0, 0);
    for (record, prompt) in [("r1", "first question"), ("r2", "second one here"), ("r3", "third")] {
        let line = lines.iter().find(|line| line["recordId"] == record).unwrap();
        assert_eq!(line["modelInput"]["messages"][0]["content"], prompt);
        assert_eq!(line["modelOutput"]["choices"][0]["message"]["content"], format!("You said: {prompt}"));
        input_tokens += line["modelOutput"]["usage"]["prompt_tokens"].as_u64().unwrap();
        output_tokens += line["modelOutput"]["usage"]["completion_tokens"].as_u64().unwrap();
    }
    let manifest: Value =
        serde_json::from_str(&setup.object(&format!("results/{}/manifest.json.out", job_id(&arn))).await).unwrap();
    assert_eq!(
        manifest,
        json!({
            "totalRecordCount": 3, "processedRecordCount": 3, "successRecordCount": 3, "errorRecordCount": 0,
            "inputTokenCount": input_tokens, "outputTokenCount": output_tokens,
        })
    );

    assert_eq!(setup.statuses(&arn), ["Submitted", "Validating", "Scheduled", "InProgress", "Completed"]);
    let events = setup.events.lock().unwrap();
    let last = events.last().unwrap();
    assert_eq!(
        (last["source"].as_str(), last["detail-type"].as_str()),
        (Some("aws.bedrock"), Some("Batch Inference Job State Change"))
    );
    assert_eq!(last["resources"], json!([arn]));
    assert_eq!(last["detail"]["batchJobName"], "job-complete");
    assert_eq!(last["detail"]["batchModelId"], format!("arn:aws:bedrock:us-east-1::foundation-model/{MODEL}"));
    assert_eq!(last["detail"]["failureMessage"], "");
}

#[tokio::test]
async fn faulty_records_become_error_lines_and_the_job_partially_completes() {
    let setup = setup(2).await;
    setup.put("faults/a.jsonl", &[chat("ok", "fine"), chat("bad", "boom [[fault:throttle]]")]).await;
    setup.put("faults/b.jsonl", &[chat("ok2", "also fine")]).await;
    // A prefix: every .jsonl under it is input, each with an output file of its own.
    let arn = setup.create("job-faults", "faults/").send().await.unwrap().job_arn().to_owned();
    let job = setup.wait(&arn).await;
    assert_eq!(job.status(), Some(&ModelInvocationJobStatus::PartiallyCompleted));
    let a = setup.object(&format!("results/{}/a.jsonl.out", job_id(&arn))).await;
    let bad: Value = a
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .find(|line| line["recordId"] == "bad")
        .unwrap();
    assert_eq!(bad["error"]["errorCode"], 429);
    assert!(bad["error"]["errorMessage"].as_str().unwrap().contains("Too many requests"));
    assert!(bad.get("modelOutput").is_none());
    let b = setup.object(&format!("results/{}/b.jsonl.out", job_id(&arn))).await;
    assert!(b.contains("You said: also fine"));
    let manifest: Value =
        serde_json::from_str(&setup.object(&format!("results/{}/manifest.json.out", job_id(&arn))).await).unwrap();
    assert_eq!((manifest["successRecordCount"].as_u64(), manifest["errorRecordCount"].as_u64()), (Some(2), Some(1)));
}

#[tokio::test]
async fn converse_jobs_and_text_models_answer_in_their_own_shapes() {
    let setup = setup(2).await;
    let converse = |id: &str| json!({ "recordId": id, "modelInput": { "messages": [{ "role": "user", "content": [{ "text": "hi" }] }] } });
    setup.put("converse.jsonl", &[converse("c1"), converse("c2")]).await;
    let arn = setup
        .create("job-converse", "converse.jsonl")
        .model_invocation_type(ModelInvocationType::Converse)
        .send()
        .await
        .unwrap();
    let arn = arn.job_arn().to_owned();
    let job = setup.wait(&arn).await;
    assert_eq!(job.model_invocation_type(), Some(&ModelInvocationType::Converse));
    let out = setup.object(&format!("results/{}/converse.jsonl.out", job_id(&arn))).await;
    let line: Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert_eq!(line["modelOutput"]["output"]["message"]["content"][0]["text"], "You said: hi");

    let text =
        |id: &str| json!({ "recordId": id, "modelInput": { "prompt": "<s>[INST] tell me [/INST]", "max_tokens": 50 } });
    setup.put("text.jsonl", &[text("t1"), text("t2")]).await;
    let arn =
        setup.create("job-text", "text.jsonl").model_id("mistral.mixtral-8x7b-instruct-v0:1").send().await.unwrap();
    let arn = arn.job_arn().to_owned();
    assert_eq!(setup.wait(&arn).await.status(), Some(&ModelInvocationJobStatus::Completed));
    let out = setup.object(&format!("results/{}/text.jsonl.out", job_id(&arn))).await;
    let line: Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert_eq!(line["modelOutput"]["outputs"][0]["text"], "You said: tell me");
}

#[tokio::test]
async fn a_stopped_job_ends_stopped_and_cannot_be_stopped_again() {
    let setup = setup(300).await;
    setup.put("stop.jsonl", &[chat("a", "x"), chat("b", "y")]).await;
    let arn = setup.create("job-stop", "stop.jsonl").send().await.unwrap().job_arn().to_owned();
    // By id this time: the identifier may be the id or the ARN.
    setup.bedrock.stop_model_invocation_job().job_identifier(job_id(&arn)).send().await.unwrap();
    let job = setup.wait(&arn).await;
    assert_eq!(job.status(), Some(&ModelInvocationJobStatus::Stopped));
    assert_eq!(setup.statuses(&arn), ["Submitted", "Stopping", "Stopped"]);
    let again = setup.bedrock.stop_model_invocation_job().job_identifier(&arn).send().await.unwrap_err();
    assert!(again.into_service_error().is_conflict_exception());
}

#[tokio::test]
async fn bad_inputs_fail_the_job_with_a_message() {
    let setup = setup(2).await;
    setup.put("one.jsonl", &[chat("only", "x")]).await;
    let arn = setup.create("job-few", "one.jsonl").send().await.unwrap().job_arn().to_owned();
    let job = setup.wait(&arn).await;
    assert_eq!(job.status(), Some(&ModelInvocationJobStatus::Failed));
    assert!(job.message().unwrap().contains("minimum number of records"), "{:?}", job.message());
    let failed = setup.events.lock().unwrap().last().cloned().unwrap();
    assert_eq!(failed["detail"]["status"], "Failed");
    assert!(failed["detail"]["failureMessage"].as_str().unwrap().contains("minimum"));

    setup
        .s3
        .put_object()
        .bucket("batch-in")
        .key("broken.jsonl")
        .body(ByteStream::from_static(b"{\"modelInput\":{}}\n{oops\n"))
        .send()
        .await
        .unwrap();
    let arn = setup.create("job-broken", "broken.jsonl").send().await.unwrap().job_arn().to_owned();
    let job = setup.wait(&arn).await;
    assert_eq!(job.status(), Some(&ModelInvocationJobStatus::Failed));
    assert!(job.message().unwrap().contains("line 2"), "{:?}", job.message());

    let arn = setup.create("job-missing", "nothing-here.jsonl").send().await.unwrap().job_arn().to_owned();
    let job = setup.wait(&arn).await;
    assert_eq!(job.status(), Some(&ModelInvocationJobStatus::Failed));
    assert!(job.message().unwrap().contains("nothing-here.jsonl"), "{:?}", job.message());
}

#[tokio::test]
async fn bedrock_refuses_bad_requests_with_typed_errors() {
    let setup = setup(2).await;
    setup.put("in.jsonl", &[chat("a", "x"), chat("b", "y")]).await;
    let error = |result: Result<
        _,
        aws_sdk_bedrock::error::SdkError<
            aws_sdk_bedrock::operation::create_model_invocation_job::CreateModelInvocationJobError,
            _,
        >,
    >| { result.map(drop).unwrap_err().into_service_error() };
    let unknown = error(setup.create("m1", "in.jsonl").model_id("mistral.no-such-model-v1:0").send().await);
    assert!(unknown.is_validation_exception(), "{unknown:?}");
    let not_batch = error(setup.create("m2", "in.jsonl").model_id("mistral.magistral-small-2509").send().await);
    assert!(not_batch.is_validation_exception());
    assert!(not_batch.meta().message().unwrap().contains("batch"));
    let role = error(setup.create("m3", "in.jsonl").role_arn("arn:aws:iam::123:role/x").send().await);
    assert!(role.is_validation_exception() && role.meta().message().unwrap().contains("roleArn"));
    let name = error(setup.create("bad name", "in.jsonl").send().await);
    assert!(name.is_validation_exception());
    let hours = error(setup.create("m4", "in.jsonl").timeout_duration_in_hours(2).send().await);
    assert!(hours.is_validation_exception());
    let no_input = error(setup.create("m5", "in.jsonl").set_input_data_config(None).send().await);
    assert!(no_input.is_validation_exception() && no_input.meta().message().unwrap().contains("inputDataConfig"));

    setup.create("twice", "in.jsonl").send().await.unwrap();
    let twice = error(setup.create("twice", "in.jsonl").send().await);
    assert!(twice.is_conflict_exception(), "{twice:?}");

    let missing = setup.bedrock.get_model_invocation_job().job_identifier("abcdefabcdef").send().await.unwrap_err();
    assert!(missing.into_service_error().is_resource_not_found_exception());
    let malformed = setup.bedrock.get_model_invocation_job().job_identifier("NOT-AN-ID").send().await.unwrap_err();
    assert!(malformed.into_service_error().is_validation_exception());
    // The same token twice is the same job, not a conflict.
    let first = setup.create("token-1", "in.jsonl").client_request_token("tok-1").send().await.unwrap();
    let again = setup.create("token-2", "in.jsonl").client_request_token("tok-1").send().await.unwrap();
    assert_eq!(first.job_arn(), again.job_arn());
}

#[tokio::test]
async fn jobs_list_with_filters_newest_first_and_in_pages() {
    let setup = setup(1000).await;
    setup.put("in.jsonl", &[chat("a", "x"), chat("b", "y")]).await;
    let mut arns = Vec::new();
    for name in ["list-alpha", "list-beta", "other-gamma"] {
        arns.push(setup.create(name, "in.jsonl").send().await.unwrap().job_arn().to_owned());
    }
    setup.bedrock.stop_model_invocation_job().job_identifier(&arns[1]).send().await.unwrap();
    setup.wait(&arns[1]).await;

    let named = setup.bedrock.list_model_invocation_jobs().name_contains("list-").send().await.unwrap();
    let names: Vec<&str> = named.invocation_job_summaries().iter().map(|job| job.job_name()).collect();
    assert_eq!(names, ["list-beta", "list-alpha"]);
    let stopped = setup
        .bedrock
        .list_model_invocation_jobs()
        .status_equals(ModelInvocationJobStatus::Stopped)
        .send()
        .await
        .unwrap();
    assert_eq!(stopped.invocation_job_summaries().len(), 1);
    assert_eq!(stopped.invocation_job_summaries()[0].job_arn(), arns[1]);

    let first = setup
        .bedrock
        .list_model_invocation_jobs()
        .max_results(2)
        .sort_order(aws_sdk_bedrock::types::SortOrder::Ascending)
        .send()
        .await
        .unwrap();
    assert_eq!(
        first.invocation_job_summaries().iter().map(|job| job.job_arn()).collect::<Vec<_>>(),
        [&arns[0], &arns[1]]
    );
    let token = first.next_token().unwrap();
    let second = setup
        .bedrock
        .list_model_invocation_jobs()
        .max_results(2)
        .sort_order(aws_sdk_bedrock::types::SortOrder::Ascending)
        .next_token(token)
        .send()
        .await
        .unwrap();
    assert_eq!(second.invocation_job_summaries().iter().map(|job| job.job_arn()).collect::<Vec<_>>(), [&arns[2]]);
    assert!(second.next_token().is_none());
    drop(setup.emulator);
}

#[tokio::test]
async fn the_s3_server_lists_copies_and_deletes_and_checks_signatures() {
    let store = S3Server::start().await.unwrap();
    let s3 = s3_client(&store.url()).await;
    s3.create_bucket().bucket("files").send().await.unwrap();
    for index in 0..5 {
        s3.put_object()
            .bucket("files")
            .key(format!("p/{index}.txt"))
            .body(ByteStream::from(vec![b'x'; index + 1]))
            .send()
            .await
            .unwrap();
    }
    s3.put_object().bucket("files").key("q/other.txt").body(ByteStream::from_static(b"q")).send().await.unwrap();
    let mut keys = Vec::new();
    let mut pages = s3.list_objects_v2().bucket("files").prefix("p/").max_keys(2).into_paginator().send();
    let mut page_count = 0;
    while let Some(page) = pages.next().await {
        page_count += 1;
        keys.extend(page.unwrap().contents().iter().filter_map(|object| object.key().map(str::to_owned)));
    }
    assert_eq!(keys, ["p/0.txt", "p/1.txt", "p/2.txt", "p/3.txt", "p/4.txt"]);
    assert_eq!(page_count, 3);
    s3.copy_object().bucket("files").key("copy.txt").copy_source("files/p/4.txt").send().await.unwrap();
    let head = s3.head_object().bucket("files").key("copy.txt").send().await.unwrap();
    assert_eq!(head.content_length(), Some(5));
    s3.delete_object().bucket("files").key("copy.txt").send().await.unwrap();
    assert!(s3.head_object().bucket("files").key("copy.txt").send().await.is_err());

    let wrong = aws_sdk_s3::Client::from_conf(
        s3.config()
            .to_builder()
            .credentials_provider(aws_sdk_s3::config::Credentials::new(
                dev::s3::TEST_ACCESS_KEY,
                "wrong-secret",
                None,
                None,
                "t",
            ))
            .build(),
    );
    let refused = wrong.get_object().bucket("files").key("q/other.txt").send().await.unwrap_err();
    assert_eq!(refused.raw_response().map(|response| response.status().as_u16()), Some(403));
    let root = store.root().to_path_buf();
    drop(store);
    assert!(!root.exists(), "the server's directory outlived it");
}
