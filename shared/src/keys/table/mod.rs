//! The keys table over `aws-sdk-dynamodb`: every read and write a key's life needs, each one
//! DynamoDB call whose condition makes it safe under any concurrency (why, for the budget
//! writes, in `budget.rs`).
//!
//! Here: the table's handle, its error, its creation and the helpers its parts share; key items
//! in `keys.rs`, budget windows and settling in `budget.rs`, the minute counters in `rate.rs`,
//! the spend ledger in `spend.rs`.

mod budget;
mod keys;
mod rate;
mod spend;

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    TimeToLiveSpecification,
};

use super::schema::{PARTITION_KEY, SORT_KEY, TABLE_SCHEMA, TTL_ATTRIBUTE};

pub use budget::{Settlement, WindowState};
pub use rate::Admission;
pub use spend::SpendRow;

/// The keys table could not be read or written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the keys table {table} could not be {action} ({detail})")]
pub struct StoreError {
    pub table: String,
    pub action: &'static str,
    pub detail: String,
}

#[derive(Clone, Debug)]
pub struct KeysTable {
    client: Client,
    table: String,
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn number(item: &HashMap<String, AttributeValue>, name: &str) -> i128 {
    item.get(name).and_then(|v| v.as_n().ok()).and_then(|v| v.parse().ok()).unwrap_or_default()
}

fn key_of(pk: String, sk: String) -> HashMap<String, AttributeValue> {
    HashMap::from([(PARTITION_KEY.to_owned(), s(pk)), (SORT_KEY.to_owned(), s(sk))])
}

/// An error and its causes, each as it describes itself (`dispatch failure: io error: client
/// error (Connect): tcp connect error: Connection refused (os error 111)`): what went wrong
/// before DynamoDB answered (no region, no credentials, no connection), in words.
fn causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn is_condition_failure<E: ProvideErrorMetadata>(error: &SdkError<E>) -> bool {
    error.as_service_error().and_then(ProvideErrorMetadata::code) == Some("ConditionalCheckFailedException")
}

impl KeysTable {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        KeysTable { client, table: table.into() }
    }

    /// A client from the usual AWS settings (region, credentials, `AWS_ENDPOINT_URL_DYNAMODB`).
    pub async fn from_env(table: impl Into<String>) -> Self {
        let shared = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        Self::new(Client::new(&shared), table)
    }

    pub fn name(&self) -> &str {
        &self.table
    }

    fn fail<E: std::error::Error + ProvideErrorMetadata + 'static>(
        &self,
        action: &'static str,
        error: SdkError<E>,
    ) -> StoreError {
        let detail = match error.as_service_error() {
            Some(service) => format!("{}: {}", service.code().unwrap_or("error"), service.message().unwrap_or("")),
            None => causes(&error).chars().take(300).collect(),
        };
        StoreError { table: self.table.clone(), action, detail }
    }

    /// Creates the table as the template declares it (on demand, `pk`/`sk`, TTL on `ttl`);
    /// a table that exists already is left as it is.
    pub async fn create(&self) -> Result<(), StoreError> {
        let build = |e: aws_sdk_dynamodb::error::BuildError| StoreError {
            table: self.table.clone(),
            action: "created",
            detail: e.to_string(),
        };
        let attribute = |name: &str| {
            AttributeDefinition::builder().attribute_name(name).attribute_type(ScalarAttributeType::S).build()
        };
        let key = |name: &str, kind| KeySchemaElement::builder().attribute_name(name).key_type(kind).build();
        let created = self
            .client
            .create_table()
            .table_name(&self.table)
            .attribute_definitions(attribute(TABLE_SCHEMA.partition_key).map_err(build)?)
            .attribute_definitions(attribute(TABLE_SCHEMA.sort_key).map_err(build)?)
            .key_schema(key(TABLE_SCHEMA.partition_key, KeyType::Hash).map_err(build)?)
            .key_schema(key(TABLE_SCHEMA.sort_key, KeyType::Range).map_err(build)?)
            .billing_mode(BillingMode::PayPerRequest)
            .send()
            .await;
        match created {
            Ok(_) => {}
            Err(e) if e.as_service_error().and_then(ProvideErrorMetadata::code) == Some("ResourceInUseException") => {
                return Ok(());
            }
            Err(e) => return Err(self.fail("created", e)),
        }
        let ttl =
            TimeToLiveSpecification::builder().enabled(true).attribute_name(TTL_ATTRIBUTE).build().map_err(build)?;
        self.client
            .update_time_to_live()
            .table_name(&self.table)
            .time_to_live_specification(ttl)
            .send()
            .await
            .map_err(|e| self.fail("given its time to live", e))?;
        Ok(())
    }

    /// One item, read consistently (a budget or rate window as it stands now).
    async fn item(&self, pk: String, sk: String) -> Result<Option<HashMap<String, AttributeValue>>, StoreError> {
        let item = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_of(pk, sk)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| self.fail("read", e))?;
        Ok(item.item().cloned())
    }

    /// Every item that passes `filter`, over all pages of the scan (`#sk` names the sort key).
    async fn scan(
        &self,
        filter: &str,
        values: Vec<(&str, AttributeValue)>,
    ) -> Result<Vec<HashMap<String, AttributeValue>>, StoreError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let mut scan = self
                .client
                .scan()
                .table_name(&self.table)
                .filter_expression(filter)
                .expression_attribute_names("#sk", SORT_KEY)
                .set_exclusive_start_key(start.take());
            for (name, value) in &values {
                scan = scan.expression_attribute_values(*name, value.clone());
            }
            let page = scan.send().await.map_err(|e| self.fail("scanned", e))?;
            items.extend(page.items().iter().cloned());
            match page.last_evaluated_key() {
                Some(last) if !last.is_empty() => start = Some(last.clone()),
                _ => return Ok(items),
            }
        }
    }
}
