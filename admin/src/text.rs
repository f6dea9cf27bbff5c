//! What the commands print without `--json`: aligned tables and `label  value` blocks for a
//! person to read. A key's hash is never in them; the key itself only in [`new_key`].

use shared::keys::KeyRecord;
use shared::keys::period::Period;
use time::OffsetDateTime;

use crate::cli::By;
use crate::money::format_usd;
use crate::spend::Line;
use crate::view::{WindowView, timestamp};

/// Columns padded to their widest cell, two spaces apart; numbers right-aligned.
struct Table {
    headers: Vec<&'static str>,
    right: Vec<bool>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A column per `(header, right-aligned)`.
    fn new(columns: &[(&'static str, bool)]) -> Self {
        Table {
            headers: columns.iter().map(|(header, _)| *header).collect(),
            right: columns.iter().map(|(_, right)| *right).collect(),
            rows: Vec::new(),
        }
    }

    fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    fn render(&self) -> String {
        let header: Vec<String> = self.headers.iter().map(|h| (*h).to_owned()).collect();
        let lines: Vec<&Vec<String>> = std::iter::once(&header).chain(&self.rows).collect();
        let width = |column: usize| lines.iter().map(|cells| cells[column].chars().count()).max().unwrap_or(0);
        let widths: Vec<usize> = (0..self.headers.len()).map(width).collect();
        let mut out = String::new();
        for cells in lines {
            let padded: Vec<String> = cells
                .iter()
                .zip(&widths)
                .zip(&self.right)
                .map(
                    |((cell, &width), &right)| {
                        if right { format!("{cell:>width$}") } else { format!("{cell:<width$}") }
                    },
                )
                .collect();
            out.push_str(padded.join("  ").trim_end());
            out.push('\n');
        }
        out
    }
}

/// `label  value` lines, the labels padded to one width.
fn block(pairs: &[(&str, String)]) -> String {
    let width = pairs.iter().map(|(label, _)| label.len()).max().unwrap_or(0);
    pairs.iter().map(|(label, value)| format!("{label:<width$}  {value}\n")).collect()
}

fn status(key: &KeyRecord, now: OffsetDateTime) -> &'static str {
    if key.disabled {
        "revoked"
    } else if key.expires_at.is_some_and(|at| at <= now.unix_timestamp()) {
        "expired"
    } else {
        "active"
    }
}

fn budget(key: &KeyRecord) -> String {
    match key.budget {
        None => "none".to_owned(),
        Some(budget) if budget.period == Period::Total => format!("{} in total", format_usd(budget.nanos)),
        Some(budget) => format!("{} per {}", format_usd(budget.nanos), budget.period.name()),
    }
}

fn list(items: Option<&[String]>, all: &str) -> String {
    items.map_or_else(|| all.to_owned(), |items| items.join(", "))
}

fn limit(limit: Option<u32>, unit: &str) -> String {
    limit.map_or_else(|| "no limit".to_owned(), |n| format!("{n} {unit} per minute"))
}

fn key_pairs(key: &KeyRecord, now: OffsetDateTime) -> Vec<(&'static str, String)> {
    vec![
        ("id", key.id.clone()),
        ("name", key.name.clone()),
        ("status", status(key, now).to_owned()),
        ("models", list(key.models.as_deref(), "every model the deployment allows")),
        ("routes", list(key.routes.as_deref(), "every route")),
        ("budget", budget(key)),
        ("rpm", limit(key.rpm, "requests")),
        ("tpm", limit(key.tpm, "tokens")),
        ("expires", key.expires_at.map_or_else(|| "never".to_owned(), timestamp)),
        ("created", timestamp(key.created_at)),
    ]
}

/// One key's settings.
pub fn key(key: &KeyRecord, now: OffsetDateTime) -> String {
    block(&key_pairs(key, now))
}

/// A key just created or rotated: the key once, and that it will not be shown again.
pub fn new_key(headline: &str, secret: &str, record: &KeyRecord, now: OffsetDateTime) -> String {
    format!(
        "{headline}\n\n    {secret}\n\nThis is the only time the key is shown: store it now (the table keeps only its hash).\n\n{}",
        key(record, now)
    )
}

/// One key with its budget window.
pub fn show(record: &KeyRecord, window: &WindowView, now: OffsetDateTime) -> String {
    let mut pairs = key_pairs(record, now);
    let spent = match record.budget {
        Some(budget) => format!("{} of {}", format_usd(window.spent_nanos), format_usd(budget.nanos)),
        None => format_usd(window.spent_nanos),
    };
    let resets = window.resets_at.clone().unwrap_or_else(|| "never".to_owned());
    pairs.extend([
        ("period", window.period.to_owned()),
        ("spent", spent),
        ("reserved", format!("{} (calls in flight)", format_usd(window.reserved_nanos))),
        ("resets", resets),
    ]);
    block(&pairs)
}

/// Every key, one per line.
pub fn keys(keys: &[KeyRecord], table: &str, now: OffsetDateTime) -> String {
    if keys.is_empty() {
        return format!("No keys in table {table}; create one with `gateway-admin keys create --name NAME`.\n");
    }
    let mut out = Table::new(&[
        ("ID", false),
        ("NAME", false),
        ("STATUS", false),
        ("BUDGET", false),
        ("RPM", true),
        ("TPM", true),
        ("MODELS", false),
        ("ROUTES", false),
        ("EXPIRES", false),
        ("CREATED", false),
    ]);
    let or_dash = |n: Option<u32>| n.map_or_else(|| "-".to_owned(), |n| n.to_string());
    for key in keys {
        out.row(vec![
            key.id.clone(),
            key.name.clone(),
            status(key, now).to_owned(),
            budget(key),
            or_dash(key.rpm),
            or_dash(key.tpm),
            list(key.models.as_deref(), "all"),
            list(key.routes.as_deref(), "all"),
            key.expires_at.map_or_else(|| "never".to_owned(), timestamp),
            timestamp(key.created_at),
        ]);
    }
    out.render()
}

/// The spend report, with a total line.
pub fn spend(lines: &[Line], by: By) -> String {
    let group = match by {
        By::Model => "MODEL",
        By::Day => "DAY",
    };
    let mut out = Table::new(&[
        ("KEY", false),
        (group, false),
        ("REQUESTS", true),
        ("INPUT TOKENS", true),
        ("OUTPUT TOKENS", true),
        ("COST", true),
    ]);
    for line in lines {
        out.row(vec![
            line.key_id.clone(),
            line.group.clone(),
            line.requests.to_string(),
            line.input_tokens.to_string(),
            line.output_tokens.to_string(),
            format_usd(line.cost_nanos),
        ]);
    }
    let sum = |field: fn(&Line) -> u64| lines.iter().map(field).sum::<u64>().to_string();
    out.row(vec![
        "total".to_owned(),
        String::new(),
        sum(|l| l.requests),
        sum(|l| l.input_tokens),
        sum(|l| l.output_tokens),
        format_usd(lines.iter().map(|l| l.cost_nanos).sum()),
    ]);
    out.render()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_columns_and_right_align_numbers() {
        let mut table = Table::new(&[("NAME", false), ("N", true)]);
        table.row(vec!["search team".into(), "7".into()]);
        table.row(vec!["b".into(), "1200".into()]);
        assert_eq!(table.render(), "NAME            N\nsearch team     7\nb            1200\n");
    }
}
