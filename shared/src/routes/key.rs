//! `GET /v1/key`: the caller's key, its budget and what it has spent, read from the table (never
//! from a cache), so it matches the spend ledger.

use axum::Json;
use axum::extract::Extension;
use time::OffsetDateTime;

use crate::api::key::{BudgetView, KeyView, LimitsView};
use crate::error::ApiError;
use crate::keys::Caller;
use crate::keys::period::{self, Period};

pub async fn get_key(caller: Option<Extension<Caller>>) -> Result<Json<KeyView>, ApiError> {
    let Some(Extension(caller)) = caller else {
        return Err(ApiError::NotFound(
            "this deployment has no API keys (KEYS_TABLE is not set), so there is no key to show".into(),
        ));
    };
    let key = &caller.key;
    let now = OffsetDateTime::now_utc();
    let period = key.budget.map_or(Period::Total, |b| b.period);
    let state =
        caller.keys.table.window(&key.id, &period.window(now)).await.map_err(|e| caller.keys.unavailable(&e))?;
    let usd = |nanos: u64| nanos as f64 / 1e9;
    let budget = key.budget.map(|b| BudgetView {
        usd: usd(b.nanos),
        period: b.period.name(),
        remaining_usd: usd(b.nanos.saturating_sub(state.spent + state.reserved)),
        resets_at: b.period.reset(now).map(period::rfc3339),
    });
    Ok(Json(KeyView {
        object: "key",
        id: key.id.clone(),
        name: key.name.clone(),
        models: key.models.clone(),
        routes: key.routes.clone(),
        budget,
        spent_usd: usd(state.spent),
        reserved_usd: usd(state.reserved),
        limits: LimitsView { requests_per_minute: key.rpm, tokens_per_minute: key.tpm },
        expires_at: key.expires_at.and_then(|at| OffsetDateTime::from_unix_timestamp(at).ok()).map(period::rfc3339),
    }))
}
