//! `GET /v1/key`: the caller's own key as the caller may see it (never its secret or hash).

use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct KeyView {
    pub object: &'static str,
    pub id: String,
    pub name: String,
    /// The models the key may use; absent: every model the deployment allows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub models: Option<Vec<String>>,
    /// The route prefixes the key may call; absent: all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub routes: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub budget: Option<BudgetView>,
    /// Settled spend in the current window (the budget's, or all time without a budget).
    pub spent_usd: f64,
    /// Held by calls in flight.
    pub reserved_usd: f64,
    pub limits: LimitsView,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct BudgetView {
    pub usd: f64,
    /// `day`, `month` (UTC) or `total`.
    pub period: &'static str,
    pub remaining_usd: f64,
    /// When the period ends; absent for `total`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resets_at: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LimitsView {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requests_per_minute: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tokens_per_minute: Option<u32>,
}
