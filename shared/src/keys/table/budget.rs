//! Budget windows and the ledger writes: reserve a call's worst case, release what crashed
//! calls left, settle the real cost, and read a window as it stands. Each is one DynamoDB call
//! whose condition makes it safe under any concurrency:
//!
//! - **Reserve**: one conditional `UpdateItem` on the budget window: `committed` (spent plus
//!   what open reservations hold) grows by the reservation only if it stays within the budget,
//!   and the reservation is kept as its own attribute `r_<id>` with an expiry.
//! - **Settle**: one transaction: the reservation is removed (only if it is still there: a
//!   retried settle finds it gone and changes nothing), `committed` and `spent` move by the real
//!   cost, and the spend ledger and the minute's token count grow.
//! - **Expired reservations** (a crash between reserve and settle) are released when a reserve
//!   is refused, so they hold nothing for long and are never charged.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};

use crate::keys::schema::{TTL_ATTRIBUTE, budget_sk, key_pk, rate_sk, spend_sk};

use super::{KeysTable, StoreError, is_condition_failure, key_of, n, number};

/// The prefix of a reservation's attribute in a budget window.
const RESERVATION: &str = "r_";

/// A budget window as it stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WindowState {
    /// Settled spend, nano-dollars.
    pub spent: u64,
    /// What open reservations hold, nano-dollars.
    pub reserved: u64,
}

/// One settled call, as the ledger counts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settlement {
    pub key_id: String,
    /// The budget window the reservation was made in.
    pub window: String,
    pub reservation: String,
    pub reserved: u64,
    /// The real cost, nano-dollars.
    pub cost: u64,
    pub day: String,
    pub minute: String,
    pub model: String,
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// Epoch seconds after which the minute's counters may go.
    pub rate_ttl: i64,
}

impl KeysTable {
    /// Reserves `amount` in a budget window if what is committed stays within `limit` (no limit:
    /// always); false when it would not.
    pub async fn reserve(
        &self,
        key_id: &str,
        window: &str,
        limit: Option<u64>,
        reservation: &str,
        amount: u64,
        expires: i64,
    ) -> Result<bool, StoreError> {
        let entry =
            AttributeValue::M(HashMap::from([("amount".to_owned(), n(amount)), ("expires".to_owned(), n(expires))]));
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_of(key_pk(key_id), budget_sk(window))))
            .update_expression("SET committed = if_not_exists(committed, :zero) + :amount, spent = if_not_exists(spent, :zero), #r = :entry")
            .expression_attribute_names("#r", format!("{RESERVATION}{reservation}"))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":amount", n(amount))
            .expression_attribute_values(":entry", entry);
        if let Some(limit) = limit {
            let Some(room) = limit.checked_sub(amount) else { return Ok(false) };
            update = update
                .condition_expression("attribute_not_exists(committed) OR committed <= :room")
                .expression_attribute_values(":room", n(room));
        }
        match update.send().await {
            Ok(_) => Ok(true),
            Err(e) if is_condition_failure(&e) => Ok(false),
            Err(e) => Err(self.fail("updated", e)),
        }
    }

    /// Releases the reservations of a window that expired before `now` (their calls never
    /// settled); returns how much they held.
    pub async fn release_expired(&self, key_id: &str, window: &str, now: i64) -> Result<u64, StoreError> {
        let Some(item) = self.item(key_pk(key_id), budget_sk(window)).await? else { return Ok(0) };
        let expired: Vec<(&String, i128)> = item
            .iter()
            .filter(|(name, _)| name.starts_with(RESERVATION))
            .filter_map(|(name, value)| {
                let entry = value.as_m().ok()?;
                let field = |f: &str| entry.get(f)?.as_n().ok()?.parse::<i128>().ok();
                (field("expires")? < i128::from(now)).then_some((name, field("amount")?))
            })
            .collect();
        if expired.is_empty() {
            return Ok(0);
        }
        let held: i128 = expired.iter().map(|(_, amount)| amount).sum();
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_of(key_pk(key_id), budget_sk(window))))
            .expression_attribute_values(":release", n(-held));
        let mut names = Vec::new();
        for (i, (name, _)) in expired.iter().enumerate() {
            let alias = format!("#r{i}");
            update = update.expression_attribute_names(&alias, name.as_str());
            names.push(alias);
        }
        let exist: Vec<String> = names.iter().map(|a| format!("attribute_exists({a})")).collect();
        let result = update
            .update_expression(format!("SET committed = committed + :release REMOVE {}", names.join(", ")))
            .condition_expression(exist.join(" AND "))
            .send()
            .await;
        match result {
            Ok(_) => Ok(u64::try_from(held).unwrap_or_default()),
            // Another request settled or released one of them first: nothing released here.
            Err(e) if is_condition_failure(&e) => Ok(0),
            Err(e) => Err(self.fail("updated", e)),
        }
    }

    /// Settles a reservation at the call's real cost and writes the ledger; false when it was
    /// settled (or released) already, and nothing changed.
    pub async fn settle(&self, call: &Settlement) -> Result<bool, StoreError> {
        let delta = i128::from(call.cost) - i128::from(call.reserved);
        let budget = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key_of(key_pk(&call.key_id), budget_sk(&call.window))))
            .update_expression("SET committed = committed + :delta, spent = spent + :cost REMOVE #r")
            .condition_expression("attribute_exists(#r)")
            .expression_attribute_names("#r", format!("{RESERVATION}{}", call.reservation))
            .expression_attribute_values(":delta", n(delta))
            .expression_attribute_values(":cost", n(call.cost));
        let ledger = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key_of(key_pk(&call.key_id), spend_sk(&call.day, &call.model))))
            .update_expression("ADD requests :one, input_tokens :input, output_tokens :output, cost_nanos :cost")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":input", n(call.input_tokens))
            .expression_attribute_values(":output", n(call.output_tokens))
            .expression_attribute_values(":cost", n(call.cost));
        let rate = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key_of(key_pk(&call.key_id), rate_sk(&call.minute))))
            .update_expression("ADD tokens :tokens SET #ttl = :ttl")
            .expression_attribute_names("#ttl", TTL_ATTRIBUTE)
            .expression_attribute_values(":tokens", n(call.input_tokens + call.output_tokens))
            .expression_attribute_values(":ttl", n(call.rate_ttl));
        let mut transaction = self.client.transact_write_items();
        for update in [budget, ledger, rate] {
            let update = update.build().map_err(|e| StoreError {
                table: self.table.clone(),
                action: "updated",
                detail: e.to_string(),
            })?;
            transaction = transaction.transact_items(TransactWriteItem::builder().update(update).build());
        }
        match transaction.send().await {
            Ok(_) => Ok(true),
            Err(e) => {
                let cancelled_by_condition = e.as_service_error().is_some_and(|service| {
                    service.is_transaction_canceled_exception()
                        && matches!(
                            service,
                            aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(c)
                                if c.cancellation_reasons().first().and_then(|r| r.code()) == Some("ConditionalCheckFailed")
                        )
                });
                if cancelled_by_condition { Ok(false) } else { Err(self.fail("updated", e)) }
            }
        }
    }

    /// A budget window's settled spend and open reservations.
    pub async fn window(&self, key_id: &str, window: &str) -> Result<WindowState, StoreError> {
        let Some(item) = self.item(key_pk(key_id), budget_sk(window)).await? else { return Ok(WindowState::default()) };
        let spent = u64::try_from(number(&item, "spent")).unwrap_or_default();
        let committed = u64::try_from(number(&item, "committed")).unwrap_or_default();
        Ok(WindowState { spent, reserved: committed.saturating_sub(spent) })
    }
}
