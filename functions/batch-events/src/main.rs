//! The `batch-events` Lambda function: the target of the EventBridge rule on Bedrock's "Batch
//! Inference Job State Change" events. Each event refreshes the batch its job belongs to, and
//! finalizes it (output and error files, counts, cost) once all of its jobs have ended.

fn main() -> Result<(), lambda_http::Error> {
    shared::runtime::block_on(async {
        shared::logging::init();
        let state = shared::AppState::from_env().await?;
        // Boxed: the finalizer's future is deep (S3, Bedrock, the keys table).
        Box::pin(shared::triggers::batch_events::serve(state)).await
    })
}
