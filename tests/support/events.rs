//! The sample Lambda events of `events/<function>/`, as the tests hand them to a function.

use std::path::PathBuf;

use lambda_http::request::LambdaRequest;

fn dir(function: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../events")).join(function)
}

/// One sample event's JSON text.
pub fn sample_event(function: &str, name: &str) -> String {
    let path = dir(function).join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every sample event of `function`, by file name, in name order.
pub fn sample_events(function: &str) -> Vec<(String, String)> {
    let dir = dir(function);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".json"))
        .collect();
    names.sort();
    names.into_iter().map(|name| (name.clone(), sample_event(function, &name))).collect()
}

/// Every sample event of `function` as lambda_http reads it (API Gateway REST or HTTP API,
/// Function URL), by file name.
pub fn sample_requests(function: &str) -> Vec<(String, LambdaRequest)> {
    let parse = |(name, text): (String, String)| {
        let request = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: not a Lambda HTTP event: {e}"));
        (name, request)
    };
    sample_events(function).into_iter().map(parse).collect()
}
