//! Built-in tools: the payment example of the Mistral function-calling guide, over its five
//! transactions. They show the shape of a Rust tool and drive the end-to-end tests.

use std::sync::Arc;

use futures_util::future::BoxFuture;
use serde_json::{Value, json};

use super::{Invocation, Tool, ToolError};
use crate::config::ConfigError;

/// (transaction id, status, amount, payment date) of the Mistral seed example.
const TRANSACTIONS: [(&str, &str, f64, &str); 5] = [
    ("T1001", "Paid", 125.50, "2021-10-05"),
    ("T1002", "Unpaid", 89.99, "2021-10-06"),
    ("T1003", "Paid", 120.00, "2021-10-07"),
    ("T1004", "Paid", 54.30, "2021-10-05"),
    ("T1005", "Pending", 210.20, "2021-10-08"),
];

/// Names of every built-in tool, in registration order.
pub const NAMES: [&str; 2] = ["retrieve_payment_status", "retrieve_payment_date"];

/// Which payment fact a tool answers.
#[derive(Debug, Clone, Copy)]
enum Fact {
    Status,
    Date,
}

/// `retrieve_payment_status` or `retrieve_payment_date`.
#[derive(Debug, Clone, Copy)]
pub struct Payment {
    fact: Fact,
}

impl Payment {
    pub fn status() -> Self {
        Payment { fact: Fact::Status }
    }

    pub fn date() -> Self {
        Payment { fact: Fact::Date }
    }

    /// The tool's answer for `transaction_id`, as the Mistral guide's Python functions give it.
    pub fn answer(&self, transaction_id: &str) -> Value {
        match TRANSACTIONS.iter().find(|(id, ..)| *id == transaction_id) {
            None => json!({"error": "transaction id not found."}),
            Some((_, status, _, date)) => match self.fact {
                Fact::Status => json!({"status": status}),
                Fact::Date => json!({"date": date}),
            },
        }
    }
}

impl Tool for Payment {
    fn name(&self) -> &str {
        match self.fact {
            Fact::Status => NAMES[0],
            Fact::Date => NAMES[1],
        }
    }

    fn description(&self) -> &str {
        match self.fact {
            Fact::Status => "Get payment status of a transaction",
            Fact::Date => "Get payment date of a transaction",
        }
    }

    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "transaction_id": {"type": "string", "description": "The transaction id."}
            },
            "required": ["transaction_id"]
        })
    }

    fn call<'a>(&'a self, invocation: Invocation<'a>) -> BoxFuture<'a, Result<Value, ToolError>> {
        Box::pin(async move {
            // The schema guarantees a string; this only guards against a registry bug.
            let id = invocation.arguments["transaction_id"]
                .as_str()
                .ok_or_else(|| ToolError::InvalidArguments("transaction_id must be a string".into()))?;
            Ok(self.answer(id))
        })
    }
}

/// The built-in tools `TOOLS_BUILTIN` enables: `all` (the default), `none`, or a comma list.
pub fn enabled(setting: Option<&str>) -> Result<Vec<Arc<dyn Tool>>, ConfigError> {
    let all = || -> Vec<Arc<dyn Tool>> { vec![Arc::new(Payment::status()), Arc::new(Payment::date())] };
    match setting.map(str::trim) {
        None | Some("" | "all") => Ok(all()),
        Some("none") => Ok(Vec::new()),
        Some(list) => {
            let mut chosen = Vec::new();
            for name in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                let tool = all().into_iter().find(|t| t.name() == name).ok_or_else(|| ConfigError {
                    var: "TOOLS_BUILTIN",
                    reason: format!("`{name}` is not a built-in tool; use all, none, or some of {}", NAMES.join(", ")),
                })?;
                chosen.push(tool);
            }
            Ok(chosen)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_like_the_mistral_example() {
        assert_eq!(Payment::status().answer("T1001"), json!({"status": "Paid"}));
        assert_eq!(Payment::status().answer("T1005"), json!({"status": "Pending"}));
        assert_eq!(Payment::date().answer("T1002"), json!({"date": "2021-10-06"}));
        assert_eq!(Payment::date().answer("T9999"), json!({"error": "transaction id not found."}));
    }

    #[test]
    fn the_setting_selects_tools_by_name() {
        assert_eq!(enabled(None).unwrap().len(), 2);
        assert!(enabled(Some("none")).unwrap().is_empty());
        let one = enabled(Some("retrieve_payment_date")).unwrap();
        assert_eq!(one[0].name(), "retrieve_payment_date");
        assert_eq!(enabled(Some("delete_everything")).err().map(|e| e.var), Some("TOOLS_BUILTIN"));
    }
}
