//! `hello-lambda`: the baseline of the cold-start bench, the smallest Lambda function in Rust as
//! the runtime's own examples write it (`#[tokio::main]`, `lambda_runtime::run`, a closure that
//! answers a fixed API Gateway response), built with the same release profile as the functions.
//! Whatever a function's init takes beyond this one's is the function's own doing.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(|_: LambdaEvent<Value>| async {
        Ok::<_, Error>(json!({"statusCode": 200, "headers": {"content-type": "text/plain"}, "body": "hello"}))
    }))
    .await
}
