//! The arithmetic every answer's `routing` and `usage` must satisfy, for the routing tests.

use serde_json::Value;
use shared::catalog::Price;
use shared::cost;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

fn tokens(call: &Value) -> (u64, u64) {
    (call["usage"]["prompt_tokens"].as_u64().unwrap(), call["usage"]["completion_tokens"].as_u64().unwrap())
}

/// Checks a `routing` object against the `usage` beside it: every call's tokens and cost sum to
/// the usage, each call's cost is its tokens at its model's `price`, a skipped model used no
/// tokens, and (when the top tier's price is known) the saving is the answer's tokens (every
/// answered call's) on the top tier minus what every call cost.
pub fn assert_accounts(routing: &Value, usage: &Value, price: impl Fn(&str) -> Option<Price>, top: Option<Price>) {
    let attempts = routing["attempts"].as_array().unwrap_or_else(|| panic!("no attempts: {routing}"));
    let calls: Vec<&Value> = attempts.iter().chain(routing.get("triage")).collect();
    for field in ["prompt_tokens", "completion_tokens", "total_tokens"] {
        let sum: u64 = calls.iter().map(|c| c["usage"][field].as_u64().unwrap()).sum();
        assert_eq!(sum, usage[field].as_u64().unwrap(), "{field} is the sum over the calls: {routing}");
    }
    let mut paid = 0.0;
    for call in &calls {
        let (input, output) = tokens(call);
        let expected = price(call["model"].as_str().unwrap()).map_or(0.0, |p| cost::usd(input, output, &p));
        assert!(close(call["cost_usd"].as_f64().unwrap(), expected), "{call}: cost at its model's price");
        assert!(close(call["usage"]["cost_usd"].as_f64().unwrap(), expected), "{call}");
        if call.get("outcome").is_some_and(|o| o == "skipped") {
            assert_eq!((input, output), (0, 0), "a skipped model was not called: {call}");
        }
        paid += expected;
    }
    assert!(close(usage["cost_usd"].as_f64().unwrap(), paid), "cost is the sum over the calls: {usage} vs {paid}");
    let answered: Vec<&Value> = attempts.iter().filter(|a| a["outcome"] == "answered").collect();
    assert!(!answered.is_empty(), "an answer has an answered attempt: {routing}");
    if let Some(top) = top {
        let on_top: f64 = answered.iter().map(|a| tokens(a)).map(|(i, o)| cost::usd(i, o, &top)).sum();
        assert!(
            close(routing["savings_usd"].as_f64().unwrap(), on_top - paid),
            "savings follow the formula: {routing}"
        );
    }
}
