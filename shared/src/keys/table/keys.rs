//! Key items: read one, write a new or changed one, list them all.

use crate::keys::record::KeyRecord;
use crate::keys::schema::{KEY_SK, key_pk};

use super::{KeysTable, StoreError, is_condition_failure, key_of, s};

impl KeysTable {
    /// The key with this id.
    pub async fn key(&self, id: &str) -> Result<Option<KeyRecord>, StoreError> {
        let item = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_of(key_pk(id), KEY_SK.to_owned())))
            .send()
            .await
            .map_err(|e| self.fail("read", e))?;
        Ok(item.item().and_then(KeyRecord::from_item))
    }

    /// Writes a key: a new one (`create`: refused if the id exists) or a changed one (refused if
    /// it does not).
    pub async fn put_key(&self, record: &KeyRecord, create: bool) -> Result<(), StoreError> {
        let condition = if create { "attribute_not_exists(pk)" } else { "attribute_exists(pk)" };
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(record.to_item()))
            .condition_expression(condition)
            .send()
            .await
            .map(drop)
            .map_err(
                |e| if is_condition_failure(&e) { self.missing(&record.id, create) } else { self.fail("written", e) },
            )
    }

    fn missing(&self, id: &str, create: bool) -> StoreError {
        let detail = if create { format!("key {id} exists already") } else { format!("no key {id}") };
        StoreError { table: self.table.clone(), action: "written", detail }
    }

    /// Every key (for the operator).
    pub async fn keys(&self) -> Result<Vec<KeyRecord>, StoreError> {
        let items = self.scan("#sk = :key", vec![(":key", s(KEY_SK))]).await?;
        let mut keys: Vec<KeyRecord> = items.iter().filter_map(KeyRecord::from_item).collect();
        keys.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
        Ok(keys)
    }
}
