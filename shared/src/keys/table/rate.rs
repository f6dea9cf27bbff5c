//! Rate limits: a key's requests and tokens counted per minute, and whether a request fits.

use crate::keys::schema::{TTL_ATTRIBUTE, key_pk, rate_sk};

use super::{KeysTable, StoreError, is_condition_failure, key_of, n, number};

/// What the minute's counters said of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    Admitted,
    OverRequests,
    OverTokens,
}

impl KeysTable {
    /// Counts a request in its minute, if the key's limits allow it: under `rpm` requests and
    /// under `tpm` tokens so far.
    pub async fn admit(
        &self,
        key_id: &str,
        minute: &str,
        rpm: Option<u32>,
        tpm: Option<u32>,
        ttl: i64,
    ) -> Result<Admission, StoreError> {
        let mut conditions = Vec::new();
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_of(key_pk(key_id), rate_sk(minute))))
            .update_expression("ADD requests :one SET #ttl = :ttl")
            .expression_attribute_names("#ttl", TTL_ATTRIBUTE)
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":ttl", n(ttl));
        if let Some(rpm) = rpm {
            conditions.push("(attribute_not_exists(requests) OR requests < :rpm)");
            update = update.expression_attribute_values(":rpm", n(rpm));
        }
        if let Some(tpm) = tpm {
            conditions.push("(attribute_not_exists(tokens) OR tokens < :tpm)");
            update = update.expression_attribute_values(":tpm", n(tpm));
        }
        if !conditions.is_empty() {
            update = update.condition_expression(conditions.join(" AND "));
        }
        match update.send().await {
            Ok(_) => Ok(Admission::Admitted),
            Err(e) if is_condition_failure(&e) => {
                let item = self.item(key_pk(key_id), rate_sk(minute)).await?.unwrap_or_default();
                let over_requests = rpm.is_some_and(|rpm| number(&item, "requests") >= i128::from(rpm));
                Ok(if over_requests { Admission::OverRequests } else { Admission::OverTokens })
            }
            Err(e) => Err(self.fail("updated", e)),
        }
    }
}
