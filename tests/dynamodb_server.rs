//! The keys tests' DynamoDB (moto, one request at a time: `tests/support/dynamo.rs`) keeps the
//! promises the budget code relies on, checked through the real `aws-sdk-dynamodb` client: a
//! conditional update is atomic under concurrency, a transaction whose condition fails writes
//! nothing, and `ADD` on numbers and `REMOVE` of a map entry work. A server that broke one of
//! these would make the budget tests pass or fail for its own reasons.

use std::collections::HashMap;
use std::sync::Arc;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType, ReturnValue, ScalarAttributeType,
    TransactWriteItem, Update,
};
use tests::dynamo::{DynamoServer, client};
use tokio::sync::Barrier;

const TABLE: &str = "keys";
const PK: &str = "key#team-a";

/// The keys table's shape: string `pk` and `sk`, on demand.
async fn create_table(client: &Client) {
    let mut request = client.create_table().table_name(TABLE).billing_mode(BillingMode::PayPerRequest);
    for (name, key_type) in [("pk", KeyType::Hash), ("sk", KeyType::Range)] {
        request = request
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name(name)
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .unwrap(),
            )
            .key_schema(KeySchemaElement::builder().attribute_name(name).key_type(key_type).build().unwrap());
    }
    request.send().await.expect("create the table");
}

async fn started() -> (DynamoServer, Client) {
    let server = DynamoServer::start().await;
    let client = client(&server.url()).await;
    create_table(&client).await;
    (server, client)
}

fn n(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

fn key(sk: &str) -> HashMap<String, AttributeValue> {
    HashMap::from([("pk".to_owned(), s(PK)), ("sk".to_owned(), s(sk))])
}

fn reservation(amount: i64, expires: i64) -> AttributeValue {
    AttributeValue::M(HashMap::from([("amount".to_owned(), n(amount)), ("expires".to_owned(), n(expires))]))
}

/// The item at `sk`, `None` when there is none (a strongly consistent read).
async fn get(client: &Client, sk: &str) -> Option<HashMap<String, AttributeValue>> {
    let output = client.get_item().table_name(TABLE).set_key(Some(key(sk))).consistent_read(true).send().await;
    output.expect("get_item").item
}

async fn put(client: &Client, item: HashMap<String, AttributeValue>) {
    client.put_item().table_name(TABLE).set_item(Some(item)).send().await.expect("put_item");
}

fn number(item: &HashMap<String, AttributeValue>, name: &str) -> i64 {
    match item.get(name) {
        Some(AttributeValue::N(value)) => value.parse().unwrap(),
        other => panic!("{name} is {other:?}, not a number, in {item:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn concurrent_conditional_updates_admit_exactly_what_the_budget_allows() {
    const BUDGET: i64 = 1_000;
    const AMOUNT: i64 = 70;
    const CALLS: usize = 40;
    let (_server, client) = started().await;
    // All 40 leave together, the first ones to an item that does not exist yet.
    let barrier = Arc::new(Barrier::new(CALLS));
    let calls: Vec<_> = (0..CALLS)
        .map(|_| {
            let (client, barrier) = (client.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                client
                    .update_item()
                    .table_name(TABLE)
                    .set_key(Some(key("budget#total")))
                    .update_expression("SET committed = if_not_exists(committed, :zero) + :amt")
                    .condition_expression("attribute_not_exists(committed) OR committed <= :max")
                    .expression_attribute_values(":zero", n(0))
                    .expression_attribute_values(":amt", n(AMOUNT))
                    .expression_attribute_values(":max", n(BUDGET - AMOUNT))
                    .return_values(ReturnValue::UpdatedNew)
                    .send()
                    .await
            })
        })
        .collect();

    let mut committed_after = Vec::new();
    let mut refused = 0;
    for call in calls {
        match call.await.unwrap() {
            Ok(output) => {
                committed_after.push(number(output.attributes.as_ref().unwrap(), "committed"));
            }
            Err(error) => match error.into_service_error() {
                UpdateItemError::ConditionalCheckFailedException(_) => refused += 1,
                other => panic!("expected only ConditionalCheckFailedException, got {other:?}"),
            },
        }
    }

    let admitted = (BUDGET / AMOUNT) as usize;
    assert_eq!((committed_after.len(), refused), (admitted, CALLS - admitted));
    // Each admitted update saw the one before it: 70, 140, ..., 980, none twice.
    committed_after.sort();
    assert_eq!(committed_after, (1..=admitted as i64).map(|k| k * AMOUNT).collect::<Vec<_>>());
    assert_eq!(number(&get(&client, "budget#total").await.unwrap(), "committed"), admitted as i64 * AMOUNT);
}

#[tokio::test]
async fn a_transaction_whose_condition_fails_writes_nothing() {
    let (_server, client) = started().await;
    let budget = HashMap::from([
        ("pk".to_owned(), s(PK)),
        ("sk".to_owned(), s("budget#total")),
        ("committed".to_owned(), n(500)),
        ("spent".to_owned(), n(0)),
        (
            "reservations".to_owned(),
            AttributeValue::M(HashMap::from([("r1".to_owned(), reservation(500, 1_900_000_000))])),
        ),
    ]);
    put(&client, budget.clone()).await;
    // Settle reservation `id` at a cost of 300: record the spend, release the reservation.
    let settle = |id: &str| {
        let ledger = Update::builder()
            .table_name(TABLE)
            .set_key(Some(key("spend#2026-12-02#mistral-large")))
            .update_expression("ADD requests :one, cost_micros :cost")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":cost", n(300))
            .build()
            .unwrap();
        let release = Update::builder()
            .table_name(TABLE)
            .set_key(Some(key("budget#total")))
            .update_expression("ADD spent :cost, committed :delta REMOVE reservations.#id")
            .condition_expression("attribute_exists(reservations.#id)")
            .expression_attribute_names("#id", id)
            .expression_attribute_values(":cost", n(300))
            .expression_attribute_values(":delta", n(300 - 500))
            .build()
            .unwrap();
        client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().update(ledger).build())
            .transact_items(TransactWriteItem::builder().update(release).build())
            .send()
    };

    match settle("r-unknown").await.expect_err("the condition fails").into_service_error() {
        TransactWriteItemsError::TransactionCanceledException(cancelled) => {
            let codes: Vec<_> = cancelled.cancellation_reasons().iter().map(|reason| reason.code()).collect();
            assert_eq!(codes, [Some("None"), Some("ConditionalCheckFailed")]);
        }
        other => panic!("expected TransactionCanceledException, got {other:?}"),
    }
    assert_eq!(get(&client, "spend#2026-12-02#mistral-large").await, None, "the ledger update was written");
    assert_eq!(get(&client, "budget#total").await, Some(budget), "the budget item changed");

    // The same transaction on a reservation that exists commits both updates.
    settle("r1").await.expect("the transaction commits");
    let ledger = get(&client, "spend#2026-12-02#mistral-large").await.unwrap();
    assert_eq!((number(&ledger, "requests"), number(&ledger, "cost_micros")), (1, 300));
    let budget = get(&client, "budget#total").await.unwrap();
    assert_eq!((number(&budget, "committed"), number(&budget, "spent")), (300, 300));
    assert_eq!(budget["reservations"], AttributeValue::M(HashMap::new()));
}

#[tokio::test]
async fn add_counts_numbers_and_remove_drops_one_map_entry() {
    let (_server, client) = started().await;
    put(
        &client,
        HashMap::from([
            ("pk".to_owned(), s(PK)),
            ("sk".to_owned(), s("budget#2026-12")),
            ("committed".to_owned(), n(0)),
            ("reservations".to_owned(), AttributeValue::M(HashMap::new())),
        ]),
    )
    .await;
    let update = |expression: &str| {
        client
            .update_item()
            .table_name(TABLE)
            .set_key(Some(key("budget#2026-12")))
            .update_expression(expression)
            .return_values(ReturnValue::AllNew)
    };

    // Reserve twice: a map entry each, committed counts both.
    for (id, amount) in [("r1", 400), ("r2", 250)] {
        update("SET reservations.#id = :reservation ADD committed :amount")
            .expression_attribute_names("#id", id)
            .expression_attribute_values(":reservation", reservation(amount, 1_900_000_000))
            .expression_attribute_values(":amount", n(amount))
            .send()
            .await
            .expect("reserve");
    }
    // Settle r1 at 150: ADD a negative number to committed, ADD to an absent `spent`, drop r1.
    let item = update("ADD committed :delta, spent :cost REMOVE reservations.#id")
        .condition_expression("attribute_exists(reservations.#id)")
        .expression_attribute_names("#id", "r1")
        .expression_attribute_values(":delta", n(150 - 400))
        .expression_attribute_values(":cost", n(150))
        .send()
        .await
        .expect("settle")
        .attributes
        .unwrap();
    assert_eq!((number(&item, "committed"), number(&item, "spent")), (400, 150));
    let reservations = item["reservations"].as_m().unwrap();
    assert_eq!(reservations.keys().collect::<Vec<_>>(), ["r2"]);
    assert_eq!(reservations["r2"], reservation(250, 1_900_000_000));

    // ADD on an item that does not exist creates it, counting from zero.
    let output = client
        .update_item()
        .table_name(TABLE)
        .set_key(Some(key("spend#2026-12-02#mistral-large")))
        .update_expression("ADD requests :one, input_tokens :input")
        .expression_attribute_values(":one", n(1))
        .expression_attribute_values(":input", n(1_234))
        .return_values(ReturnValue::AllNew)
        .send()
        .await
        .expect("add to a new item");
    let ledger = output.attributes.unwrap();
    assert_eq!((number(&ledger, "requests"), number(&ledger, "input_tokens")), (1, 1_234));
}
