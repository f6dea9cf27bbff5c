//! The command line, as clap reads it: every argument is checked here (a bad value is a usage
//! error, exit code 2), so the commands get settings that are already valid.

use clap::{ArgGroup, Args, Parser, Subcommand, ValueEnum};
use shared::keys::period::Period;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime};

use crate::money;

/// Operate a gateway's keys table: create the table, manage bearer keys and their budgets,
/// and read the spend ledger.
///
/// AWS settings are read the usual way (AWS_REGION, credentials, AWS_PROFILE;
/// AWS_ENDPOINT_URL_DYNAMODB for a local table).
#[derive(Debug, Parser)]
#[command(name = "gateway-admin", version)]
pub struct Cli {
    /// The keys table [default: the KEYS_TABLE environment variable]
    #[arg(long, global = true, value_name = "NAME", value_parser = table)]
    pub table: Option<String>,
    /// Print JSON instead of text
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the keys table as the template declares it (a table that exists is left as it is)
    Init,
    /// Create, list, show, change, revoke and rotate keys
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Spend per key and model (or day), from the spend ledger
    Spend(SpendArgs),
    /// Batch input files, written to the batch bucket directly (BATCH_BUCKET)
    #[command(subcommand)]
    Files(FilesCommand),
}

#[derive(Debug, Subcommand)]
pub enum FilesCommand {
    /// Upload a batch input file of any size (POST /v1/files takes about 4 MB, what API Gateway
    /// and Lambda carry); prints the file id to create the batch with
    Upload(UploadArgs),
}

#[derive(Debug, Args)]
pub struct UploadArgs {
    /// The JSONL file: one request per line
    pub path: std::path::PathBuf,
    /// The batch bucket [default: the BATCH_BUCKET environment variable]
    #[arg(long, value_name = "NAME")]
    pub bucket: Option<String>,
    /// With keys on: the id of the key that owns the file (only its batches can read it)
    #[arg(long, value_name = "KEY_ID")]
    pub owner: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a key; the key is printed once and never again
    Create(CreateArgs),
    /// Every key (never the key itself, nor its hash)
    List,
    /// One key, with its budget window's spend
    Show {
        /// The key's id (16 hex digits, from `keys list`)
        id: String,
    },
    /// Change a key's settings (its key stays the same)
    Update(UpdateArgs),
    /// Revoke a key: it is kept, with its spend, but refused
    Revoke {
        /// The key's id (16 hex digits, from `keys list`)
        id: String,
    },
    /// Give a key a new secret: the old key stops working; id, settings and spend stay
    Rotate {
        /// The key's id (16 hex digits, from `keys list`)
        id: String,
    },
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The team or app the key is for
    #[arg(long, value_parser = name)]
    pub name: String,
    /// Models the key may use (aliases, ids, `auto`), comma-separated [default: every model
    /// the deployment allows]
    #[arg(long, value_name = "A,B", value_delimiter = ',', value_parser = model)]
    pub models: Option<Vec<String>>,
    /// Route prefixes the key may call, comma-separated (/v1, /stream/v1, /tools/v1) [default: all]
    #[arg(long, value_name = "A,B", value_delimiter = ',', value_parser = route)]
    pub routes: Option<Vec<String>>,
    #[command(flatten)]
    pub budget: BudgetArgs,
    /// Requests per minute [default: no limit]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub rpm: Option<u32>,
    /// Tokens per minute [default: no limit]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub tpm: Option<u32>,
    /// When the key stops working: YYYY-MM-DD (midnight UTC) or RFC 3339 [default: never]
    #[arg(long, value_name = "DATE", value_parser = instant)]
    pub expires: Option<i64>,
}

/// A budget: an amount and its period, always given together.
#[derive(Debug, Args)]
pub struct BudgetArgs {
    /// The budget in USD per period (50, 50.25); needs --period
    #[arg(long = "budget-usd", value_name = "X", value_parser = budget_usd, requires = "period")]
    pub budget_usd: Option<u64>,
    /// The budget's period: a UTC day, a UTC month, or the key's whole life; needs --budget-usd
    #[arg(long, value_enum, requires = "budget_usd")]
    pub period: Option<PeriodArg>,
}

#[derive(Debug, Args)]
#[command(override_usage = "gateway-admin keys update <ID> [--name N] [--models A,B | --all-models] \
    [--routes A,B | --all-routes] [--budget-usd X --period P | --no-budget] [--rpm N | --no-rpm] \
    [--tpm N | --no-tpm] [--expires DATE | --no-expiry]")]
#[command(group(ArgGroup::new("change").required(true).multiple(true).args([
    "name", "models", "all_models", "routes", "all_routes", "budget_usd", "no_budget",
    "rpm", "no_rpm", "tpm", "no_tpm", "expires", "no_expiry",
])))]
pub struct UpdateArgs {
    /// The key's id (16 hex digits, from `keys list`)
    pub id: String,
    /// A new name
    #[arg(long, value_parser = name)]
    pub name: Option<String>,
    /// Only these models, comma-separated
    #[arg(long, value_name = "A,B", value_delimiter = ',', value_parser = model, conflicts_with = "all_models")]
    pub models: Option<Vec<String>>,
    /// Every model the deployment allows
    #[arg(long)]
    pub all_models: bool,
    /// Only these route prefixes, comma-separated
    #[arg(long, value_name = "A,B", value_delimiter = ',', value_parser = route, conflicts_with = "all_routes")]
    pub routes: Option<Vec<String>>,
    /// Every route
    #[arg(long)]
    pub all_routes: bool,
    #[command(flatten)]
    pub budget: BudgetArgs,
    /// No budget
    #[arg(long, conflicts_with_all = ["budget_usd", "period"])]
    pub no_budget: bool,
    /// Requests per minute
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..), conflicts_with = "no_rpm")]
    pub rpm: Option<u32>,
    /// No requests-per-minute limit
    #[arg(long)]
    pub no_rpm: bool,
    /// Tokens per minute
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..), conflicts_with = "no_tpm")]
    pub tpm: Option<u32>,
    /// No tokens-per-minute limit
    #[arg(long)]
    pub no_tpm: bool,
    /// When the key stops working: YYYY-MM-DD (midnight UTC) or RFC 3339
    #[arg(long, value_name = "DATE", value_parser = instant, conflicts_with = "no_expiry")]
    pub expires: Option<i64>,
    /// The key never expires
    #[arg(long)]
    pub no_expiry: bool,
}

#[derive(Debug, Args)]
pub struct SpendArgs {
    /// Only this key
    #[arg(long, value_name = "ID")]
    pub key: Option<String>,
    /// Only spend on this UTC day and after
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = day)]
    pub since: Option<String>,
    /// One row per key and model, or per key and UTC day
    #[arg(long, value_enum, default_value_t = By::Model)]
    pub by: By,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PeriodArg {
    Day,
    Month,
    Total,
}

impl From<PeriodArg> for Period {
    fn from(period: PeriodArg) -> Period {
        match period {
            PeriodArg::Day => Period::Day,
            PeriodArg::Month => Period::Month,
            PeriodArg::Total => Period::Total,
        }
    }
}

/// How `spend` groups a key's ledger rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum By {
    Model,
    Day,
}

fn table(text: &str) -> Result<String, String> {
    let table = text.trim();
    if table.is_empty() { Err("a table name cannot be empty".into()) } else { Ok(table.to_owned()) }
}

fn name(text: &str) -> Result<String, String> {
    let name = text.trim();
    if name.is_empty() { Err("a key's name cannot be empty".into()) } else { Ok(name.to_owned()) }
}

fn model(text: &str) -> Result<String, String> {
    let model = text.trim();
    if model.is_empty() {
        Err("a model name cannot be empty (check for a stray comma)".into())
    } else {
        Ok(model.to_owned())
    }
}

fn route(text: &str) -> Result<String, String> {
    let route = text.trim();
    if route.starts_with('/') && !route.contains(char::is_whitespace) {
        Ok(route.to_owned())
    } else {
        Err(format!("`{route}` is not a route prefix; a route starts with / (/v1, /stream/v1, /tools/v1)"))
    }
}

fn budget_usd(text: &str) -> Result<u64, String> {
    match money::parse_usd(text)? {
        0 => Err("a budget must be more than $0; use --no-budget on `keys update` for none".into()),
        nanos => Ok(nanos),
    }
}

/// Epoch seconds of `YYYY-MM-DD` (midnight UTC) or an RFC 3339 time.
fn instant(text: &str) -> Result<i64, String> {
    if let Ok(at) = OffsetDateTime::parse(text, &Rfc3339) {
        return Ok(at.unix_timestamp());
    }
    let date = Date::parse(text, format_description!("[year]-[month]-[day]")).map_err(|_| {
        format!("`{text}` is not a date; write YYYY-MM-DD (midnight UTC) or RFC 3339 (2026-12-31T18:00:00Z)")
    })?;
    Ok(date.midnight().assume_utc().unix_timestamp())
}

/// A UTC day, as the ledger names it (`2026-12-02`).
fn day(text: &str) -> Result<String, String> {
    let format = format_description!("[year]-[month]-[day]");
    let date = Date::parse(text, format).map_err(|_| format!("`{text}` is not a day; write YYYY-MM-DD"))?;
    date.format(format).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn dates_are_midnight_utc_or_rfc_3339() {
        assert_eq!(instant("2023-11-14"), Ok(1_699_920_000));
        assert_eq!(instant("2023-11-14T22:13:20Z"), Ok(1_700_000_000));
        assert_eq!(instant("2023-11-15T00:13:20+02:00"), Ok(1_700_000_000));
        assert!(instant("14/11/2023").unwrap_err().contains("YYYY-MM-DD"));
        assert_eq!(day("2026-02-03"), Ok("2026-02-03".into()));
        assert!(day("2026-02-30").is_err());
    }

    #[test]
    fn budgets_are_exact_and_more_than_zero() {
        assert_eq!(budget_usd("0.000001"), Ok(1_000));
        assert_eq!(budget_usd("1.5"), Ok(1_500_000_000));
        assert!(budget_usd("0.00").is_err());
    }
}
