//! The `batch` Lambda function: files (`/v1/files`), OpenAI's batches (`/v1/batches`) and
//! Mistral's batch jobs (`/v1/batch/jobs`) behind API Gateway, over the batch bucket
//! (`BATCH_BUCKET`) and Bedrock's batch jobs. Its own function: only it links the S3 and
//! Bedrock control-plane clients into a cold start, and only its role may create jobs and
//! pass the batch service role.

fn main() -> Result<(), lambda_http::Error> {
    shared::runtime::block_on(async {
        shared::logging::init();
        let state = shared::AppState::from_env().await?;
        if state.batch.is_none() {
            return Err("BATCH_BUCKET is not set: the batch function keeps files and batches in that bucket".into());
        }
        shared::runtime::serve(shared::routes::batch_router(state)).await
    })
}
