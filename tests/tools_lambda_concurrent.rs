//! The tools function as Lambda Managed Instances run it: `shared::triggers::serve` (what
//! `functions/tools/src/main.rs` runs) with `AWS_LAMBDA_MAX_CONCURRENCY=4` serves four API
//! Gateway requests at once through its trigger handler (see `tests::concurrent`).

use shared::ToolsState;
use shared::tools::Toolbox;
use tests::concurrent::served_at_once;
use tests::{app_state, env};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_tool_requests_are_served_at_once_and_each_answered_in_full() {
    served_at_once("tools", "rest-chat.json", 4, |bedrock| async move {
        let toolbox = Toolbox::load(&env(&[])).expect("test tool configuration");
        shared::triggers::serve(ToolsState::new(app_state(&bedrock), toolbox)).await
    })
    .await;
}
