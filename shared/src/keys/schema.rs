//! The keys table: one DynamoDB table, on demand, whose items a key's whole life reads and
//! writes. `template.yaml` declares the same table (a test compares them) and `gateway-admin
//! init` creates it locally from [`TABLE_SCHEMA`].
//!
//! | item | `pk` | `sk` | attributes |
//! | --- | --- | --- | --- |
//! | key | `key#<id>` | `key` | `hash` (SHA-256 of the key, hex), `name`, `models`?, `routes`?, `budget_nanos`?, `period`?, `rpm`?, `tpm`?, `expires_at`?, `disabled`, `created_at` |
//! | budget window | `key#<id>` | `budget#<window>` (`2026-12-02`, `2026-12` or `total`) | `committed` (spent + reserved), `spent`, one `r_<id>` per open reservation (`{amount, expires}`) |
//! | spend ledger | `key#<id>` | `spend#<yyyy-mm-dd>#<model>` | `requests`, `input_tokens`, `output_tokens`, `cost_nanos` |
//! | rate window | `key#<id>` | `rate#<yyyy-mm-ddThh:mm>` | `requests`, `tokens`, `ttl` |
//!
//! Money is integer nano-dollars (1e-9 USD; `*_nanos`, `committed`, `spent`). `ttl` (epoch
//! seconds) lets DynamoDB drop rate windows.

/// The partition key attribute (string).
pub const PARTITION_KEY: &str = "pk";
/// The sort key attribute (string).
pub const SORT_KEY: &str = "sk";
/// The attribute DynamoDB's time to live reads (epoch seconds).
pub const TTL_ATTRIBUTE: &str = "ttl";

/// The table as the template declares it: key schema, attribute types, billing, TTL.
pub struct TableSchema {
    pub partition_key: &'static str,
    pub sort_key: &'static str,
    /// Both keys are strings (`S`).
    pub key_type: &'static str,
    pub billing_mode: &'static str,
    pub ttl_attribute: &'static str,
}

pub const TABLE_SCHEMA: TableSchema = TableSchema {
    partition_key: PARTITION_KEY,
    sort_key: SORT_KEY,
    key_type: "S",
    billing_mode: "PAY_PER_REQUEST",
    ttl_attribute: TTL_ATTRIBUTE,
};

/// The DynamoDB actions the functions call on the table, and nothing more (the template's
/// policy grants exactly these; a test checks it).
pub const FUNCTION_ACTIONS: &[&str] = &["dynamodb:GetItem", "dynamodb:UpdateItem"];

/// The partition key of everything about key `id`.
pub fn key_pk(id: &str) -> String {
    format!("key#{id}")
}

/// The sort key of the key item itself.
pub const KEY_SK: &str = "key";

/// The sort key of a budget window (`2026-12-02`, `2026-12`, `total`).
pub fn budget_sk(window: &str) -> String {
    format!("budget#{window}")
}

/// The sort key of a spend-ledger row: a UTC day and a model.
pub fn spend_sk(day: &str, model: &str) -> String {
    format!("spend#{day}#{model}")
}

/// The prefix of every spend-ledger row's sort key.
pub const SPEND_PREFIX: &str = "spend#";

/// The sort key of a rate window: a UTC minute (`2026-12-02T11:40`).
pub fn rate_sk(minute: &str) -> String {
    format!("rate#{minute}")
}
