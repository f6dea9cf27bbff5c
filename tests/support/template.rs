//! `template.yaml` as the drift tests read it: parsed once per test, CloudFormation's short-form
//! tags (`!Ref`, `!Sub`, ...) kept as tagged values.

use std::path::Path;

use serde_yaml_ng::Value;

/// The SAM template at the workspace root.
pub fn template() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../template.yaml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()))
}

/// A value the template must give as a literal string; `what` names it in the failure.
pub fn text<'a>(value: &'a Value, what: &str) -> &'a str {
    value.as_str().unwrap_or_else(|| panic!("{what} is not a literal string: {value:?}"))
}
