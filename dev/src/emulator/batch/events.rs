//! The job state-change events, shaped as EventBridge delivers Bedrock's "Batch Inference Job
//! State Change" events, and where they go.
//!
//! The shape is the sample event of Bedrock's user guide, "Monitor Amazon Bedrock job state
//! changes using Amazon EventBridge" (monitoring-eventbridge-how-it-works, tab "Batch Inference
//! Job State Change"): envelope `version` "0", `id`, `detail-type`, `source` "aws.bedrock",
//! `account`, `time`, `region`, `resources` [job ARN]; `detail` holds exactly `version` "0.0",
//! `accountId`, `batchJobName`, `batchJobArn`, `batchModelId` (a foundation-model ARN in the
//! sample), `status`, `failureMessage` ("" unless the job failed) and `creationTime` (the
//! sample's "Aug 28, 2024, 10:47:53 PM" format). Record counts are not in AWS's sample, so they
//! are not in these events either: a consumer reads them from GetModelInvocationJob or the
//! manifest. The envelope's `time` is ISO 8601 as EventBridge's envelope documents it (the
//! sample shows a `date`-style string there, which no EventBridge event carries).

use std::sync::Arc;

use futures_util::future::BoxFuture;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;

use super::job::{ACCOUNT, Job, REGION};

/// Where state-change events go: called once per status change, awaited before the job moves
/// on, so a job's events arrive in order.
pub type JobEvents = Arc<dyn Fn(Value) -> BoxFuture<'static, ()> + Send + Sync>;

pub const DETAIL_TYPE: &str = "Batch Inference Job State Change";

/// The event for `job` in its current status.
pub(crate) fn state_change(job: &Job, foundation_id: &str, at: OffsetDateTime) -> Value {
    let at = at.replace_nanosecond(0).unwrap_or(at);
    let creation = format_description!(
        "[month repr:short] [day padding:none], [year], [hour repr:12 padding:none]:[minute]:[second] [period]"
    );
    json!({
        "version": "0",
        "id": uuid::Uuid::new_v4().to_string(),
        "detail-type": DETAIL_TYPE,
        "source": "aws.bedrock",
        "account": ACCOUNT,
        "time": at.format(&Rfc3339).unwrap_or_default(),
        "region": REGION,
        "resources": [job.arn],
        "detail": {
            "version": "0.0",
            "accountId": ACCOUNT,
            "batchJobName": job.name,
            "batchJobArn": job.arn,
            "batchModelId": format!("arn:aws:bedrock:{REGION}::foundation-model/{foundation_id}"),
            "status": job.status.as_str(),
            "failureMessage": job.message.clone().unwrap_or_default(),
            "creationTime": job.submit_time.format(creation).unwrap_or_default(),
        },
    })
}

/// A sink that POSTs each event as JSON to `url` (the standalone emulator's
/// `EMULATOR_JOB_EVENTS_URL`); a delivery that fails is logged and dropped, as EventBridge's
/// best-effort delivery may drop one.
pub fn http_sink(url: String) -> JobEvents {
    let client = reqwest::Client::new();
    Arc::new(move |event: Value| {
        let request = client.post(&url).header("content-type", "application/json").body(event.to_string());
        let url = url.clone();
        Box::pin(async move {
            match request.send().await {
                Ok(response) if response.status().is_success() => {}
                Ok(response) => tracing::warn!(%url, status = %response.status(), "job event refused"),
                Err(error) => tracing::warn!(%url, %error, "job event not delivered"),
            }
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::batch::job::{self, Status};

    #[test]
    fn events_have_the_shape_of_aws_sample() {
        let at = OffsetDateTime::from_unix_timestamp(1_724_885_273).unwrap();
        let job = Job {
            id: "abcdefghwxyz".into(),
            arn: job::arn_of("abcdefghwxyz"),
            name: "dummy-batch-job-name".into(),
            model_id: "mistral.mistral-large-2407-v1:0".into(),
            role_arn: "arn:aws:iam::123456789012:role/r".into(),
            client_request_token: None,
            invocation_type: None,
            input_config: json!({}),
            output_config: json!({}),
            input_uri: String::new(),
            output_uri: String::new(),
            vpc_config: None,
            timeout_hours: 24,
            status: Status::Completed,
            message: None,
            submit_time: at,
            last_modified: at,
            end_time: None,
            counts: None,
        };
        let event = state_change(&job, "mistral.mistral-large-2407-v1:0", at);
        assert_eq!(event["detail-type"], DETAIL_TYPE);
        assert_eq!(event["resources"], json!([job.arn]));
        assert_eq!(event["time"], "2024-08-28T22:47:53Z");
        let detail = &event["detail"];
        assert_eq!(detail["creationTime"], "Aug 28, 2024, 10:47:53 PM");
        assert_eq!(detail["failureMessage"], "");
        assert_eq!(
            detail["batchModelId"],
            "arn:aws:bedrock:us-east-1::foundation-model/mistral.mistral-large-2407-v1:0"
        );
        let keys: Vec<&String> = detail.as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), 8, "{keys:?}");
    }

    #[tokio::test]
    async fn the_http_sink_posts_each_event_as_json() {
        use axum::routing::post;
        let received = Arc::new(std::sync::Mutex::new(Vec::<Value>::new()));
        let store = received.clone();
        let app = axum::Router::new().route(
            "/events",
            post(move |axum::Json(event): axum::Json<Value>| {
                let store = store.clone();
                async move { store.lock().unwrap().push(event) }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/events", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        let sink = http_sink(url);
        sink(json!({ "detail": { "status": "Validating" } })).await;
        sink(json!({ "detail": { "status": "Scheduled" } })).await;
        let statuses: Vec<Value> =
            received.lock().unwrap().iter().map(|event| event["detail"]["status"].clone()).collect();
        assert_eq!(statuses, [json!("Validating"), json!("Scheduled")]);
    }
}
