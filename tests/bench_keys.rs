//! What keys add to a request, as the caller sees it: the dev server over real sockets, the
//! emulator behind it, and with keys on the real `aws-sdk-dynamodb` client against the local
//! DynamoDB server (moto, single-threaded Python: far slower than DynamoDB, whose single-digit
//! millisecond reads and writes are the figure to expect in AWS; so the bench also counts the
//! DynamoDB calls each request makes). Three setups, the same sequential chats:
//!
//! - no keys (`KEYS_TABLE` unset);
//! - a key without budget or limits: the key read (cached, `KEYS_CACHE_TTL_MS`), a reservation
//!   and a settle per model call;
//! - a key with a budget and requests/tokens per minute: the same plus the minute's counter.
//!
//! It prints p50/p99 of the whole request and the added time against no keys.
//!
//! `cargo bench -p tests --bench keys`

use std::time::{Duration, Instant};

use serde_json::json;
use shared::keys::admin::{self, KeySpec};
use shared::keys::period::Period;
use shared::keys::{Budget, KeysTable};
use tests::Harness;
use tests::dynamo::{DynamoServer, client};
use tests::measure::{micros, percentile};

const WARMUP: usize = 20;
const ROUNDS: usize = 300;

async fn measure(h: &Harness, key: Option<&str>) -> Vec<Duration> {
    let body = json!({"model": "ministral-3b", "max_tokens": 50,
        "messages": [{"role": "user", "content": "Summarise our refund policy in one sentence."}]});
    let mut times = Vec::with_capacity(ROUNDS);
    for round in 0..WARMUP + ROUNDS {
        let mut request = h.http.post(h.url("/v1/chat/completions")).json(&body);
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        let started = Instant::now();
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200);
        response.bytes().await.unwrap();
        if round >= WARMUP {
            times.push(started.elapsed());
        }
    }
    times.sort();
    times
}

fn row(label: &str, times: &[Duration], base: Option<&[Duration]>) {
    let (p50, p99) = (percentile(times, 0.50), percentile(times, 0.99));
    let added = base.map_or(String::new(), |b| {
        format!(
            "  added p50 {:>8.0} µs  p99 {:>8.0} µs",
            micros(p50) - micros(percentile(b, 0.50)),
            micros(p99) - micros(percentile(b, 0.99))
        )
    });
    println!("{label:<34} p50 {:>8.0} µs  p99 {:>8.0} µs{added}", micros(p50), micros(p99));
}

#[tokio::main]
async fn main() {
    let plain = Harness::with_config(&[]).await;
    let base = measure(&plain, None).await;

    let dynamo = DynamoServer::start().await;
    let table = KeysTable::new(client(&dynamo.url()).await, "bench-keys");
    table.create().await.unwrap();
    let keyed = Harness::with_keys(&[("KEYS_TABLE", "bench-keys")], table.clone()).await;
    let (open, _) = admin::create(&table, KeySpec { name: "open".into(), ..KeySpec::default() }).await.unwrap();
    let limited = KeySpec {
        name: "limited".into(),
        budget: Some(Budget { nanos: 1_000_000_000_000, period: Period::Month }),
        rpm: Some(1_000_000),
        tpm: Some(1_000_000_000),
        ..KeySpec::default()
    };
    let (limited, _) = admin::create(&table, limited).await.unwrap();
    let with_key = measure(&keyed, Some(&open.key)).await;
    let with_limits = measure(&keyed, Some(&limited.key)).await;

    println!("keys bench: {ROUNDS} sequential chats each, dev server over real sockets, emulator behind it");
    row("no keys", &base, None);
    row("key (cached) + reserve + settle", &with_key, Some(&base));
    row("key + budget + rpm/tpm", &with_limits, Some(&base));
    println!(
        "DynamoDB calls per request: key read 0 (cached) or 1 per {} s; reserve 1 (UpdateItem), settle 1 (TransactWriteItems of 3 updates); with rpm/tpm, the minute's counter 1 (UpdateItem)",
        30
    );
}
