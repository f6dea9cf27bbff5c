//! The converse function as Lambda Managed Instances run it: `shared::runtime::serve` (what
//! `functions/converse/src/main.rs` runs) with `AWS_LAMBDA_MAX_CONCURRENCY=4` serves four chats
//! at once (see `tests::concurrent`).

use tests::app_state;
use tests::concurrent::served_at_once;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_chats_are_served_at_once_and_each_answered_in_full() {
    served_at_once("converse", "rest-chat.json", 4, |bedrock| async move {
        shared::runtime::serve(shared::routes::converse_router(app_state(&bedrock))).await
    })
    .await;
}
