//! Each command: read the table through `shared::keys` (the code the functions run), and
//! return what to print, as text or JSON.

use serde::Serialize;
use shared::keys::admin::{self, KeySpec};
use shared::keys::period::Period;
use shared::keys::{Budget, KeyRecord, KeysTable, StoreError};
use time::OffsetDateTime;

use crate::cli::{BudgetArgs, Cli, Command, CreateArgs, FilesCommand, KeysCommand, SpendArgs, UpdateArgs};
use crate::view::{KeyView, NewKeyView, ShowView, SpendView, WindowView};
use crate::{spend, text};

/// Why a command failed, in one line for the operator.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error("no keys table given: pass --table NAME or set the KEYS_TABLE environment variable")]
    NoTable,
    #[error("no key {id} in table {table}; `gateway-admin keys list` shows every key")]
    NoKey { id: String, table: String },
    #[error("{0}{hint}", hint = store_hint(.0))]
    Store(#[from] StoreError),
    #[error("the output could not be written as JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("no batch bucket given: pass --bucket NAME or set the BATCH_BUCKET environment variable")]
    NoBucket,
    #[error("cannot read {path}: {error}")]
    Read { path: String, error: std::io::Error },
    #[error("{0}")]
    Batch(String),
}

/// What the operator can do about a store error, when its cause is a common one.
fn store_hint(error: &StoreError) -> &'static str {
    let detail = error.detail.as_str();
    if detail.contains("ResourceNotFoundException") {
        "; create the table with `gateway-admin init`, or check --table, KEYS_TABLE and the region"
    } else if detail.contains("Missing Region") {
        "; set AWS_REGION (or a profile's region)"
    } else if detail.contains("provided credentials") {
        "; set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
    } else if ["connect error", "dns error", "timeout"].iter().any(|cause| detail.contains(cause)) {
        "; check the network and AWS_REGION (and AWS_ENDPOINT_URL_DYNAMODB for a local table)"
    } else {
        ""
    }
}

/// The table the command works on, and how it prints.
struct Context {
    table: KeysTable,
    json: bool,
    now: OffsetDateTime,
}

/// Runs the command; returns what to print on standard output.
pub async fn run(cli: Cli) -> Result<String, Failure> {
    // Files need the batch bucket, not the keys table.
    if let Command::Files(FilesCommand::Upload(args)) = cli.command {
        return crate::files::upload(args, cli.json).await;
    }
    let name = match cli.table {
        Some(name) => name,
        None => std::env::var("KEYS_TABLE").ok().filter(|name| !name.trim().is_empty()).ok_or(Failure::NoTable)?,
    };
    let context = Context { table: KeysTable::from_env(name).await, json: cli.json, now: OffsetDateTime::now_utc() };
    match cli.command {
        Command::Init => init(&context).await,
        Command::Keys(KeysCommand::Create(args)) => create(&context, args).await,
        Command::Keys(KeysCommand::List) => list(&context).await,
        Command::Keys(KeysCommand::Show { id }) => show(&context, &id).await,
        Command::Keys(KeysCommand::Update(args)) => update(&context, args).await,
        Command::Keys(KeysCommand::Revoke { id }) => revoke(&context, &id).await,
        Command::Keys(KeysCommand::Rotate { id }) => rotate(&context, &id).await,
        Command::Spend(args) => spend(&context, args).await,
        Command::Files(_) => unreachable!("files commands are run above"),
    }
}

fn json(value: &impl Serialize) -> Result<String, Failure> {
    Ok(serde_json::to_string_pretty(value)? + "\n")
}

async fn init(cx: &Context) -> Result<String, Failure> {
    cx.table.create().await?;
    let name = cx.table.name();
    if cx.json {
        #[derive(Serialize)]
        struct Ready<'a> {
            table: &'a str,
            ready: bool,
        }
        return json(&Ready { table: name, ready: true });
    }
    Ok(format!("Table {name} is ready (pk and sk strings, on demand, time to live on `ttl`).\n"))
}

fn budget(args: BudgetArgs) -> Option<Budget> {
    Some(Budget { nanos: args.budget_usd?, period: Period::from(args.period?) })
}

async fn create(cx: &Context, args: CreateArgs) -> Result<String, Failure> {
    let spec = KeySpec {
        name: args.name,
        models: args.models,
        routes: args.routes,
        budget: budget(args.budget),
        rpm: args.rpm,
        tpm: args.tpm,
        expires_at: args.expires,
    };
    let (new, record) = admin::create(&cx.table, spec).await?;
    if cx.json {
        return json(&NewKeyView { record: KeyView::new(&record), key: &new.key });
    }
    let headline = format!("Created key {} ({}).", record.id, record.name);
    Ok(text::new_key(&headline, &new.key, &record, cx.now))
}

async fn list(cx: &Context) -> Result<String, Failure> {
    let keys = cx.table.keys().await?;
    if cx.json {
        return json(&keys.iter().map(KeyView::new).collect::<Vec<_>>());
    }
    Ok(text::keys(&keys, cx.table.name(), cx.now))
}

/// Key `id`, or a failure that says it does not exist.
async fn existing(cx: &Context, id: &str) -> Result<KeyRecord, Failure> {
    cx.table.key(id).await?.ok_or_else(|| Failure::NoKey { id: id.to_owned(), table: cx.table.name().to_owned() })
}

async fn show(cx: &Context, id: &str) -> Result<String, Failure> {
    let record = existing(cx, id).await?;
    // A key without a budget still counts its spend, in the `total` window (as the router does).
    let period = record.budget.map_or(Period::Total, |b| b.period);
    let state = cx.table.window(&record.id, &period.window(cx.now)).await?;
    let window = WindowView::new(period, state, cx.now);
    if cx.json {
        return json(&ShowView { record: KeyView::new(&record), window });
    }
    Ok(text::show(&record, &window, cx.now))
}

/// A changed key, as JSON or as text under `headline`.
fn changed(cx: &Context, record: &KeyRecord, headline: &str) -> Result<String, Failure> {
    if cx.json {
        return json(&KeyView::new(record));
    }
    Ok(format!("{headline}\n\n{}", text::key(record, cx.now)))
}

/// `field` cleared (`clear`), replaced (`value`), or as it was.
fn change<T>(field: &mut Option<T>, clear: bool, value: Option<T>) {
    if clear {
        *field = None;
    } else if value.is_some() {
        *field = value;
    }
}

async fn update(cx: &Context, args: UpdateArgs) -> Result<String, Failure> {
    let UpdateArgs {
        id,
        name,
        models,
        all_models,
        routes,
        all_routes,
        budget: new_budget,
        no_budget,
        rpm,
        no_rpm,
        tpm,
        no_tpm,
        expires,
        no_expiry,
    } = args;
    existing(cx, &id).await?;
    let record = admin::update(&cx.table, &id, |key| {
        if let Some(name) = name {
            key.name = name;
        }
        change(&mut key.models, all_models, models);
        change(&mut key.routes, all_routes, routes);
        change(&mut key.budget, no_budget, budget(new_budget));
        change(&mut key.rpm, no_rpm, rpm);
        change(&mut key.tpm, no_tpm, tpm);
        change(&mut key.expires_at, no_expiry, expires);
    })
    .await?;
    let headline = format!(
        "Updated key {} ({}); the gateway sees the change within its key cache TTL (KEYS_CACHE_TTL_MS).",
        record.id, record.name
    );
    changed(cx, &record, &headline)
}

async fn revoke(cx: &Context, id: &str) -> Result<String, Failure> {
    existing(cx, id).await?;
    let record = admin::revoke(&cx.table, id).await?;
    let headline = format!(
        "Revoked key {} ({}): it is refused from now on (within the gateway's key cache TTL); its spend stays.",
        record.id, record.name
    );
    changed(cx, &record, &headline)
}

async fn rotate(cx: &Context, id: &str) -> Result<String, Failure> {
    existing(cx, id).await?;
    let (new, record) = admin::rotate(&cx.table, id).await?;
    if cx.json {
        return json(&NewKeyView { record: KeyView::new(&record), key: &new.key });
    }
    let mut headline = format!(
        "Rotated key {} ({}): the old key stops working (within the gateway's key cache TTL); id, settings and spend stay.",
        record.id, record.name
    );
    if record.disabled {
        headline.push_str(" The key is revoked: the new key is refused too.");
    }
    Ok(text::new_key(&headline, &new.key, &record, cx.now))
}

async fn spend(cx: &Context, args: SpendArgs) -> Result<String, Failure> {
    if let Some(id) = &args.key {
        existing(cx, id).await?;
    }
    let rows = cx.table.spend(args.key.as_deref()).await?;
    let lines = spend::report(&rows, args.by, args.since.as_deref());
    if cx.json {
        return json(&SpendView::new(&lines, args.by));
    }
    Ok(text::spend(&lines, args.by))
}
