//! `gateway-admin` end to end: the real binary against a DynamoDB-compatible server on loopback
//! (moto, `tests::dynamo`), checked through what it prints and exits with, and through
//! `shared::keys` reading the same table the way the functions do.

use std::process::Command;

use aws_sdk_dynamodb::types::{BillingMode, KeyType};
use serde_json::Value;
use shared::keys::period::Period;
use shared::keys::schema::TABLE_SCHEMA;
use shared::keys::table::Settlement;
use shared::keys::{Budget, KeysTable, token};
use tests::dynamo::{DynamoServer, client};

const TABLE: &str = "gateway-keys";
/// An id no key has.
const UNKNOWN: &str = "0123456789abcdef";

/// A DynamoDB server, and the keys table on it as the functions see it.
struct Admin {
    dynamo: DynamoServer,
    table: KeysTable,
}

/// One run of the binary.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    /// Standard output of a run that succeeded and wrote nothing on standard error.
    fn ok(self) -> String {
        assert_eq!(self.code, 0, "stdout: {}\nstderr: {}", self.stdout, self.stderr);
        assert_eq!(self.stderr, "", "nothing on standard error");
        self.stdout
    }

    fn json(self) -> Value {
        let stdout = self.ok();
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
    }

    /// A failure (exit code 1) explained in one line on standard error, and nothing on standard output.
    fn failure(self) -> String {
        assert_eq!(self.code, 1, "stdout: {}\nstderr: {}", self.stdout, self.stderr);
        assert_eq!(self.stdout, "");
        assert_eq!(self.stderr.lines().count(), 1, "one line: {}", self.stderr);
        assert!(self.stderr.starts_with("error: "), "{}", self.stderr);
        self.stderr
    }
}

impl Admin {
    async fn start() -> Admin {
        let dynamo = DynamoServer::start().await;
        let table = KeysTable::new(client(&dynamo.url()).await, TABLE);
        Admin { dynamo, table }
    }

    /// Starts a server and creates the table with `gateway-admin init`.
    async fn with_table() -> Admin {
        let admin = Admin::start().await;
        admin.run(&["init"]).ok();
        admin
    }

    /// Runs `gateway-admin args` with `KEYS_TABLE` set and nothing else from this environment.
    fn run(&self, args: &[&str]) -> Run {
        self.run_with(args, &[("KEYS_TABLE", TABLE)])
    }

    fn run_with(&self, args: &[&str], vars: &[(&str, &str)]) -> Run {
        let output = Command::new(env!("CARGO_BIN_EXE_gateway-admin"))
            .args(args)
            .env_clear()
            .env("AWS_ENDPOINT_URL_DYNAMODB", self.dynamo.url())
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .envs(vars.iter().copied())
            .output()
            .expect("running gateway-admin");
        Run {
            code: output.status.code().expect("an exit code, not a signal"),
            stdout: String::from_utf8(output.stdout).unwrap(),
            stderr: String::from_utf8(output.stderr).unwrap(),
        }
    }

    /// Creates a key with `--json`; returns its JSON (with `key`).
    fn create(&self, args: &[&str]) -> Value {
        self.run(&[&["--json", "keys", "create"], args].concat()).json()
    }

    async fn hash(&self, id: &str) -> String {
        self.table.key(id).await.unwrap().expect("the key is in the table").hash
    }
}

fn text(value: &Value) -> &str {
    value.as_str().unwrap_or_else(|| panic!("not a string: {value}"))
}

#[tokio::test]
async fn init_creates_the_table_the_template_declares_and_is_idempotent() {
    let admin = Admin::start().await;
    assert!(admin.run(&["init"]).ok().contains(TABLE));
    assert!(admin.run(&["init"]).ok().contains(TABLE), "a second init leaves the table as it is");
    let ready = admin.run(&["init", "--json"]).json();
    assert_eq!(ready["table"], TABLE);

    let client = client(&admin.dynamo.url()).await;
    let described = client.describe_table().table_name(TABLE).send().await.unwrap();
    let table = described.table().unwrap();
    let keys: Vec<(&str, &KeyType)> = table.key_schema().iter().map(|k| (k.attribute_name(), k.key_type())).collect();
    assert_eq!(keys, [(TABLE_SCHEMA.partition_key, &KeyType::Hash), (TABLE_SCHEMA.sort_key, &KeyType::Range)]);
    for attribute in table.attribute_definitions() {
        assert_eq!(attribute.attribute_type().as_str(), TABLE_SCHEMA.key_type, "{attribute:?}");
    }
    assert_eq!(table.attribute_definitions().len(), 2, "only the keys are declared");
    let billing = table.billing_mode_summary().and_then(|b| b.billing_mode()).unwrap();
    assert_eq!(billing, &BillingMode::PayPerRequest);
    assert_eq!(billing.as_str(), TABLE_SCHEMA.billing_mode);
    let ttl = client.describe_time_to_live().table_name(TABLE).send().await.unwrap();
    let ttl = ttl.time_to_live_description().unwrap();
    assert_eq!(ttl.attribute_name(), Some(TABLE_SCHEMA.ttl_attribute));

    admin.run(&["init", "--table", "other-keys"]).ok();
    let tables = client.list_tables().send().await.unwrap();
    assert!(tables.table_names().iter().any(|t| t == "other-keys"), "--table names the table");
}

#[tokio::test]
async fn a_key_is_printed_once_and_never_listed_or_shown() {
    let admin = Admin::with_table().await;
    let created = admin.create(&[
        "--name",
        "search team",
        "--models",
        "ministral-3b,auto",
        "--routes",
        "/v1,/stream/v1",
        "--budget-usd",
        "50.25",
        "--period",
        "month",
        "--rpm",
        "60",
        "--tpm",
        "20000",
        "--expires",
        "2030-01-01",
    ]);
    let key = text(&created["key"]).to_owned();
    let id = text(&created["id"]).to_owned();
    assert!(key.starts_with("mgw_"), "{key}");
    assert_eq!(token::key_id(&key), Some(id.as_str()));
    assert_eq!(created["name"], "search team");
    assert_eq!(created["models"], serde_json::json!(["ministral-3b", "auto"]));
    assert_eq!(created["routes"], serde_json::json!(["/v1", "/stream/v1"]));
    assert_eq!(created["budget"], serde_json::json!({"usd": 50.25, "period": "month", "nanos": 50_250_000_000u64}));
    assert_eq!((created["rpm"].as_u64(), created["tpm"].as_u64()), (Some(60), Some(20000)));
    assert_eq!(created["expires_at"], "2030-01-01T00:00:00Z");
    assert_eq!(created["disabled"], false);
    assert!(text(&created["created_at"]).ends_with('Z'));
    assert!(created.get("hash").is_none());
    let hash = admin.hash(&id).await;
    assert_eq!(hash, token::hash(&key), "the table keeps the key's hash");

    let shown = admin.run(&["keys", "create", "--name", "batch jobs"]).ok();
    let other = shown.split_whitespace().find(|word| word.starts_with("mgw_")).expect("the key is printed").to_owned();
    assert_eq!(shown.matches(&other).count(), 1, "printed once: {shown}");
    assert!(shown.contains("only time the key is shown"), "{shown}");
    let other_id = token::key_id(&other).unwrap().to_owned();
    let other_hash = admin.hash(&other_id).await;

    let outputs = [
        admin.run(&["keys", "list"]).ok(),
        admin.run(&["keys", "list", "--json"]).ok(),
        admin.run(&["keys", "show", &id]).ok(),
        admin.run(&["--json", "keys", "show", &id]).ok(),
        admin.run(&["keys", "show", &other_id]).ok(),
    ];
    for output in &outputs {
        for secret in [&key, &other, &hash, &other_hash] {
            assert!(!output.contains(secret.as_str()), "no key and no hash in: {output}");
        }
    }
    assert!(outputs[0].contains("search team") && outputs[0].contains("batch jobs"), "{}", outputs[0]);
    let listed: Value = serde_json::from_str(&outputs[1]).unwrap();
    let ids: Vec<&str> = listed.as_array().unwrap().iter().map(|k| text(&k["id"])).collect();
    assert_eq!(ids.len(), 2);
    assert!(ids.contains(&id.as_str()) && ids.contains(&other_id.as_str()), "{ids:?}");
    let show: Value = serde_json::from_str(&outputs[3]).unwrap();
    assert_eq!(show["budget"]["nanos"], 50_250_000_000u64);
    assert_eq!(show["window"]["period"], "month");
    assert_eq!(show["window"]["spent_nanos"], 0);
    assert!(text(&show["window"]["resets_at"]).ends_with("-01T00:00:00Z"), "{show}");
}

#[tokio::test]
async fn update_revoke_and_rotate_change_the_key_the_functions_read() {
    let admin = Admin::with_table().await;
    let created = admin.create(&[
        "--name",
        "trial",
        "--models",
        "ministral-3b",
        "--budget-usd",
        "5",
        "--period",
        "day",
        "--rpm",
        "10",
        "--expires",
        "2030-01-01",
    ]);
    let id = text(&created["id"]).to_owned();

    let updated = admin
        .run(&[
            "--json",
            "keys",
            "update",
            &id,
            "--name",
            "production",
            "--all-models",
            "--routes",
            "/tools/v1",
            "--no-budget",
            "--no-rpm",
            "--tpm",
            "500",
            "--expires",
            "2031-06-01T12:00:00Z",
        ])
        .json();
    assert_eq!(updated["name"], "production");
    assert_eq!(updated["models"], Value::Null);
    assert_eq!(updated["routes"], serde_json::json!(["/tools/v1"]));
    assert_eq!((&updated["budget"], &updated["rpm"], &updated["tpm"]), (&Value::Null, &Value::Null, &500.into()));
    assert_eq!(updated["expires_at"], "2031-06-01T12:00:00Z");
    let record = admin.table.key(&id).await.unwrap().unwrap();
    assert_eq!((record.name.as_str(), record.models, record.budget, record.rpm), ("production", None, None, None));
    assert_eq!(record.expires_at, Some(1_938_081_600));

    admin.run(&["keys", "update", &id, "--budget-usd", "1.5", "--period", "total", "--no-expiry"]).ok();
    let record = admin.table.key(&id).await.unwrap().unwrap();
    assert_eq!(record.budget, Some(Budget { nanos: 1_500_000_000, period: Period::Total }));
    assert_eq!((record.expires_at, record.tpm), (None, Some(500)), "what was not named stays");

    let revoked = admin.run(&["--json", "keys", "revoke", &id]).json();
    assert_eq!(revoked["disabled"], true);
    assert!(admin.table.key(&id).await.unwrap().unwrap().disabled);
    assert!(admin.run(&["keys", "list"]).ok().contains("revoked"));

    let old_hash = admin.hash(&id).await;
    let rotated = admin.run(&["--json", "keys", "rotate", &id]).json();
    let new_key = text(&rotated["key"]);
    assert_eq!(rotated["id"], id.as_str(), "rotation keeps the id");
    assert_ne!(new_key, text(&created["key"]));
    let new_hash = admin.hash(&id).await;
    assert_ne!(new_hash, old_hash, "the old hash is replaced");
    assert_eq!(new_hash, token::hash(new_key));
    assert!(!token::matches(text(&created["key"]), &new_hash), "the old key no longer matches");
    let shown = admin.run(&["keys", "show", &id]).ok();
    assert!(!shown.contains(new_key) && !shown.contains(&new_hash), "{shown}");

    let rotated_text = admin.run(&["keys", "rotate", &id]).ok();
    let newest = rotated_text.split_whitespace().find(|w| w.starts_with("mgw_")).unwrap();
    assert_eq!(admin.hash(&id).await, token::hash(newest));
}

#[tokio::test]
async fn usage_errors_exit_2_and_failures_exit_1_with_one_clear_line() {
    let admin = Admin::with_table().await;
    let id = text(&admin.create(&["--name", "a"])["id"]).to_owned();
    for args in [
        &["frobnicate"][..],
        &["keys", "create"],
        &["keys", "create", "--name", "a", "--budget-usd", "5"],
        &["keys", "create", "--name", "a", "--period", "day"],
        &["keys", "create", "--name", "a", "--budget-usd", "0", "--period", "day"],
        &["keys", "create", "--name", "a", "--budget-usd", "-1", "--period", "day"],
        &["keys", "create", "--name", "a", "--budget-usd", "0.0000000001", "--period", "day"],
        &["keys", "create", "--name", "a", "--budget-usd", "5", "--period", "week"],
        &["keys", "create", "--name", "a", "--routes", "v1"],
        &["keys", "create", "--name", "a", "--models", "ministral-3b,,auto"],
        &["keys", "create", "--name", "a", "--expires", "tomorrow"],
        &["keys", "create", "--name", "a", "--rpm", "0"],
        &["keys", "update", &id],
        &["keys", "update", &id, "--models", "a", "--all-models"],
        &["keys", "update", &id, "--budget-usd", "5", "--no-budget"],
        &["keys", "show"],
        &["spend", "--by", "week"],
        &["spend", "--since", "2026-02-30"],
    ] {
        let run = admin.run(args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.starts_with("error: "), "{args:?}: {}", run.stderr);
        assert_eq!(run.stdout, "");
    }

    for args in [
        &["keys", "show", UNKNOWN][..],
        &["keys", "update", UNKNOWN, "--name", "b"],
        &["keys", "revoke", UNKNOWN],
        &["keys", "rotate", UNKNOWN],
        &["spend", "--key", UNKNOWN],
    ] {
        let error = admin.run(args).failure();
        assert!(error.contains(&format!("no key {UNKNOWN} in table {TABLE}")), "{args:?}: {error}");
    }
    let error = admin.run(&["keys", "list", "--table", "no-such-table"]).failure();
    assert!(error.contains("no-such-table") && error.contains("gateway-admin init"), "{error}");
    let error = admin.run_with(&["keys", "list"], &[]).failure();
    assert!(error.contains("--table") && error.contains("KEYS_TABLE"), "{error}");
}

/// Reserves and settles one call on `key_id` the way the router does.
async fn settle(table: &KeysTable, key_id: &str, day: &str, model: &str, tokens: (u64, u64), cost: u64) {
    let reservation = format!("{day}{model}{cost}").replace(['-', '.'], "");
    assert!(table.reserve(key_id, "total", None, &reservation, cost * 2, 4_000_000_000).await.unwrap());
    let call = Settlement {
        key_id: key_id.to_owned(),
        window: "total".into(),
        reservation,
        reserved: cost * 2,
        cost,
        day: day.into(),
        minute: format!("{day}T12:00"),
        model: model.into(),
        input_tokens: tokens.0,
        output_tokens: tokens.1,
        rate_ttl: 4_000_000_000,
    };
    assert!(table.settle(&call).await.unwrap());
}

#[tokio::test]
async fn spend_sums_the_ledger_per_model_or_per_day() {
    let admin = Admin::with_table().await;
    let id = text(&admin.create(&["--name", "spender"])["id"]).to_owned();
    let other = text(&admin.create(&["--name", "other"])["id"]).to_owned();
    let (large, small) = ("mistral.mistral-large-3-675b-instruct", "mistral.ministral-3-3b-instruct");
    settle(&admin.table, &id, "2026-03-01", large, (100, 200), 1_250_000).await;
    settle(&admin.table, &id, "2026-03-02", large, (10, 20), 125_000).await;
    settle(&admin.table, &id, "2026-03-02", small, (1_000, 2_000), 300).await;
    settle(&admin.table, &other, "2026-03-02", small, (5, 5), 7).await;
    let total = 1_250_000 + 125_000 + 300;

    let by_model = admin.run(&["spend", "--json", "--key", &id]).json();
    assert_eq!(by_model["total_nanos"], total);
    assert_eq!(by_model["total_requests"], 3);
    assert!((by_model["total_usd"].as_f64().unwrap() - total as f64 / 1e9).abs() < 1e-15, "{by_model}");
    let rows = by_model["rows"].as_array().unwrap();
    let summary: Vec<(&str, &str, u64, u64, u64, u64)> = rows
        .iter()
        .map(|r| {
            let n = |field: &str| r[field].as_u64().unwrap();
            (
                text(&r["key_id"]),
                text(&r["model"]),
                n("requests"),
                n("input_tokens"),
                n("output_tokens"),
                n("cost_nanos"),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [(id.as_str(), small, 1, 1_000, 2_000, 300), (id.as_str(), large, 2, 110, 220, 1_375_000)],
        "one row per key and model, by model name"
    );
    assert_eq!(rows[1]["cost_usd"], 0.001375);

    let by_day = admin.run(&["spend", "--json", "--key", &id, "--by", "day"]).json();
    let days: Vec<(&str, u64, u64)> = by_day["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            assert!(r.get("model").is_none(), "{r}");
            (text(&r["day"]), r["requests"].as_u64().unwrap(), r["cost_nanos"].as_u64().unwrap())
        })
        .collect();
    assert_eq!(days, [("2026-03-01", 1, 1_250_000), ("2026-03-02", 2, 125_300)]);
    assert_eq!(by_day["total_nanos"], total);

    let since = admin.run(&["spend", "--json", "--key", &id, "--since", "2026-03-02"]).json();
    assert_eq!(since["total_nanos"], 125_300);
    assert_eq!(since["total_requests"], 2);

    let everyone = admin.run(&["spend", "--json"]).json();
    assert_eq!(everyone["total_nanos"], total + 7);
    assert_eq!(everyone["rows"].as_array().unwrap().len(), 3);

    let table = admin.run(&["spend", "--key", &id]).ok();
    assert!(table.contains(large) && table.contains("$0.001375") && table.contains("$0.0000003"), "{table}");
    let last = table.lines().last().unwrap();
    assert!(last.starts_with("total") && last.ends_with("$0.0013753"), "{table}");

    let shown = admin.run(&["--json", "keys", "show", &id]).json();
    assert_eq!(shown["window"]["period"], "total", "a key without a budget counts in its total window");
    assert_eq!(shown["window"]["spent_nanos"], total);
    assert_eq!(shown["window"]["reserved_nanos"], 0);
    assert_eq!(shown["window"]["resets_at"], Value::Null);
}

#[tokio::test]
async fn budgets_in_dollars_become_exact_nano_dollars() {
    let admin = Admin::with_table().await;
    for (usd, nanos) in [("0.000001", 1_000u64), ("1.5", 1_500_000_000), ("50.25", 50_250_000_000)] {
        let created = admin.create(&["--name", usd, "--budget-usd", usd, "--period", "day"]);
        assert_eq!(created["budget"]["nanos"], nanos, "{usd}");
        assert_eq!(created["budget"]["period"], "day");
        let record = admin.table.key(text(&created["id"])).await.unwrap().unwrap();
        assert_eq!(record.budget, Some(Budget { nanos, period: Period::Day }), "{usd}");
    }
}
