//! The spend report: the ledger's rows (one per key, UTC day and model) summed per key and
//! model, or per key and day.

use std::collections::BTreeMap;

use shared::keys::table::SpendRow;

use crate::cli::By;

/// A key's spend on one model (or one day).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Line {
    pub key_id: String,
    /// The model, or the UTC day (`2026-12-02`).
    pub group: String,
    pub requests: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cost_nanos: u64,
}

/// The rows on `since` (a UTC day) or after, summed per key and `by`, ordered by key and group.
pub fn report(rows: &[SpendRow], by: By, since: Option<&str>) -> Vec<Line> {
    let mut lines: BTreeMap<(&str, &str), Line> = BTreeMap::new();
    // Days are `YYYY-MM-DD`: their order as text is their order in time.
    for row in rows.iter().filter(|row| since.is_none_or(|since| row.day.as_str() >= since)) {
        let group = match by {
            By::Model => row.model.as_str(),
            By::Day => row.day.as_str(),
        };
        let line = lines.entry((&row.key_id, group)).or_insert_with(|| Line {
            key_id: row.key_id.clone(),
            group: group.to_owned(),
            ..Line::default()
        });
        line.requests += row.requests;
        line.input_tokens += row.input_tokens;
        line.output_tokens += row.output_tokens;
        line.cost_nanos += row.cost_nanos;
    }
    lines.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(key_id: &str, day: &str, model: &str, cost_nanos: u64) -> SpendRow {
        SpendRow {
            key_id: key_id.into(),
            day: day.into(),
            model: model.into(),
            requests: 1,
            input_tokens: 10,
            output_tokens: 20,
            cost_nanos,
        }
    }

    #[test]
    fn rows_sum_per_key_and_model_or_day_from_a_day_on() {
        let rows = [
            row("a", "2026-01-01", "large", 5),
            row("a", "2026-01-02", "large", 7),
            row("a", "2026-01-02", "small", 1),
            row("b", "2026-01-02", "large", 100),
        ];
        let by_model = report(&rows, By::Model, None);
        let summary: Vec<_> = by_model.iter().map(|l| (l.key_id.as_str(), l.group.as_str(), l.cost_nanos)).collect();
        assert_eq!(summary, [("a", "large", 12), ("a", "small", 1), ("b", "large", 100)]);
        assert_eq!((by_model[0].requests, by_model[0].input_tokens, by_model[0].output_tokens), (2, 20, 40));

        let by_day = report(&rows, By::Day, Some("2026-01-02"));
        let summary: Vec<_> = by_day.iter().map(|l| (l.key_id.as_str(), l.group.as_str(), l.cost_nanos)).collect();
        assert_eq!(summary, [("a", "2026-01-02", 8), ("b", "2026-01-02", 100)]);
    }
}
