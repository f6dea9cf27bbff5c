//! The keys table over `aws-sdk-dynamodb`: every read and write a key's life needs, each one
//! DynamoDB call whose condition makes it safe under any concurrency.
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

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    TimeToLiveSpecification, TransactWriteItem, Update,
};

use super::record::KeyRecord;
use super::schema::{
    KEY_SK, PARTITION_KEY, SORT_KEY, SPEND_PREFIX, TABLE_SCHEMA, TTL_ATTRIBUTE, budget_sk, key_pk, rate_sk, spend_sk,
};

/// The prefix of a reservation's attribute in a budget window.
const RESERVATION: &str = "r_";

/// The keys table could not be read or written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the keys table {table} could not be {action} ({detail})")]
pub struct StoreError {
    pub table: String,
    pub action: &'static str,
    pub detail: String,
}

/// What the minute's counters said of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    Admitted,
    OverRequests,
    OverTokens,
}

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
