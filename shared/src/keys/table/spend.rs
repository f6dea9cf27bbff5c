//! The spend ledger as the operator reads it: one row per key, UTC day and model.

use crate::keys::schema::{PARTITION_KEY, SORT_KEY, SPEND_PREFIX, key_pk};

use super::{KeysTable, StoreError, number, s};

/// One row of the spend ledger: a key's calls of one model on one UTC day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpendRow {
    pub key_id: String,
    pub day: String,
    pub model: String,
    pub requests: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cost_nanos: u64,
}

impl KeysTable {
    /// Spend-ledger rows, of one key or of all.
    pub async fn spend(&self, key_id: Option<&str>) -> Result<Vec<SpendRow>, StoreError> {
        let mut values = vec![(":spend", s(SPEND_PREFIX))];
        let filter = match key_id {
            Some(id) => {
                values.push((":pk", s(key_pk(id))));
                "begins_with(#sk, :spend) AND pk = :pk"
            }
            None => "begins_with(#sk, :spend)",
        };
        let items = self.scan(filter, values).await?;
        let mut rows: Vec<SpendRow> = items
            .iter()
            .filter_map(|item| {
                let pk = item.get(PARTITION_KEY)?.as_s().ok()?;
                let sk = item.get(SORT_KEY)?.as_s().ok()?;
                let (day, model) = sk.strip_prefix(SPEND_PREFIX)?.split_once('#')?;
                let count = |name| u64::try_from(number(item, name)).unwrap_or_default();
                Some(SpendRow {
                    key_id: pk.strip_prefix("key#")?.to_owned(),
                    day: day.to_owned(),
                    model: model.to_owned(),
                    requests: count("requests"),
                    input_tokens: count("input_tokens"),
                    output_tokens: count("output_tokens"),
                    cost_nanos: count("cost_nanos"),
                })
            })
            .collect();
        rows.sort_by(|a, b| (&a.key_id, &a.day, &a.model).cmp(&(&b.key_id, &b.day, &b.model)));
        Ok(rows)
    }
}
