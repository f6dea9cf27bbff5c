//! What `--json` prints: keys, their budget window and the spend report, in snake_case, with
//! money as USD floats beside the exact integer nano-dollars. A key's hash is never in them;
//! the key itself only in [`NewKeyView`] (create and rotate).

use serde::Serialize;
use shared::keys::KeyRecord;
use shared::keys::period::{self, Period};
use shared::keys::table::WindowState;
use time::OffsetDateTime;

use crate::cli::By;
use crate::money::usd;
use crate::spend::Line;

/// A key's settings and state.
#[derive(Debug, Serialize)]
pub struct KeyView<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub models: Option<&'a [String]>,
    pub routes: Option<&'a [String]>,
    pub budget: Option<BudgetView>,
    pub rpm: Option<u32>,
    pub tpm: Option<u32>,
    pub expires_at: Option<String>,
    pub disabled: bool,
    pub created_at: String,
}

#[derive(Debug, Serialize)]
pub struct BudgetView {
    pub usd: f64,
    pub period: &'static str,
    pub nanos: u64,
}

/// A key as created or rotated: the only place the key appears.
#[derive(Debug, Serialize)]
pub struct NewKeyView<'a> {
    #[serde(flatten)]
    pub record: KeyView<'a>,
    pub key: &'a str,
}

/// A key with its current budget window.
#[derive(Debug, Serialize)]
pub struct ShowView<'a> {
    #[serde(flatten)]
    pub record: KeyView<'a>,
    pub window: WindowView,
}

#[derive(Debug, Serialize)]
pub struct WindowView {
    pub period: &'static str,
    pub spent_usd: f64,
    pub spent_nanos: u64,
    pub reserved_usd: f64,
    pub reserved_nanos: u64,
    /// `None` for a total budget (or none), which never resets.
    pub resets_at: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct SpendView<'a> {
    pub rows: Vec<SpendRowView<'a>>,
    pub total_usd: f64,
    pub total_nanos: u64,
    pub total_requests: u64,
}

#[derive(Debug, Serialize)]
pub struct SpendRowView<'a> {
    pub key_id: &'a str,
    #[serde(flatten)]
    pub group: Group<'a>,
    pub requests: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cost_usd: f64,
    pub cost_nanos: u64,
}

/// What a spend row is of: `"model": ...` or `"day": ...`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Group<'a> {
    Model(&'a str),
    Day(&'a str),
}

/// An epoch-seconds time as RFC 3339 (`2026-12-02T11:40:00Z`).
pub fn timestamp(at: i64) -> String {
    OffsetDateTime::from_unix_timestamp(at).map(period::rfc3339).unwrap_or_else(|_| at.to_string())
}

impl<'a> KeyView<'a> {
    pub fn new(key: &'a KeyRecord) -> Self {
        KeyView {
            id: &key.id,
            name: &key.name,
            models: key.models.as_deref(),
            routes: key.routes.as_deref(),
            budget: key.budget.map(|b| BudgetView { usd: usd(b.nanos), period: b.period.name(), nanos: b.nanos }),
            rpm: key.rpm,
            tpm: key.tpm,
            expires_at: key.expires_at.map(timestamp),
            disabled: key.disabled,
            created_at: timestamp(key.created_at),
        }
    }
}

impl WindowView {
    pub fn new(period: Period, state: WindowState, now: OffsetDateTime) -> Self {
        WindowView {
            period: period.name(),
            spent_usd: usd(state.spent),
            spent_nanos: state.spent,
            reserved_usd: usd(state.reserved),
            reserved_nanos: state.reserved,
            resets_at: period.reset(now).map(period::rfc3339),
        }
    }
}

impl<'a> SpendView<'a> {
    pub fn new(lines: &'a [Line], by: By) -> Self {
        let rows = lines
            .iter()
            .map(|line| SpendRowView {
                key_id: &line.key_id,
                group: match by {
                    By::Model => Group::Model(&line.group),
                    By::Day => Group::Day(&line.group),
                },
                requests: line.requests,
                input_tokens: line.input_tokens,
                output_tokens: line.output_tokens,
                cost_usd: usd(line.cost_nanos),
                cost_nanos: line.cost_nanos,
            })
            .collect();
        let total_nanos = lines.iter().map(|line| line.cost_nanos).sum();
        SpendView {
            rows,
            total_usd: usd(total_nanos),
            total_nanos,
            total_requests: lines.iter().map(|line| line.requests).sum(),
        }
    }
}
