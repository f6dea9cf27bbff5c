//! Time windows in UTC: a budget's period (`day`, `month`, `total`) and its reset, the spend
//! ledger's day, and the rate limits' minute.

use time::{Date, Month, OffsetDateTime, Time};

/// The period a budget applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Day,
    Month,
    Total,
}

impl Period {
    pub const NAMES: [&str; 3] = ["day", "month", "total"];

    pub fn parse(name: &str) -> Option<Period> {
        match name {
            "day" => Some(Period::Day),
            "month" => Some(Period::Month),
            "total" => Some(Period::Total),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }

    /// The window `now` falls in: `2026-12-02`, `2026-12` or `total`.
    pub fn window(self, now: OffsetDateTime) -> String {
        match self {
            Period::Day => day(now),
            Period::Month => format!("{:04}-{:02}", now.year(), now.month() as u8),
            Period::Total => "total".to_owned(),
        }
    }

    /// When the window `now` falls in ends; `None` for `total`, which never resets.
    pub fn reset(self, now: OffsetDateTime) -> Option<OffsetDateTime> {
        let midnight = |date: Date| date.with_time(Time::MIDNIGHT).assume_utc();
        match self {
            Period::Day => now.date().next_day().map(midnight),
            Period::Month => {
                let (year, month) = match now.month() {
                    Month::December => (now.year() + 1, Month::January),
                    other => (now.year(), other.next()),
                };
                Date::from_calendar_date(year, month, 1).ok().map(midnight)
            }
            Period::Total => None,
        }
    }
}

/// The UTC day of `now`: `2026-12-02`.
pub fn day(now: OffsetDateTime) -> String {
    format!("{:04}-{:02}-{:02}", now.year(), now.month() as u8, now.day())
}

/// The UTC minute of `now`: `2026-12-02T11:40`.
pub fn minute(now: OffsetDateTime) -> String {
    format!("{}T{:02}:{:02}", day(now), now.hour(), now.minute())
}

/// Seconds from `now` to the next minute, at least 1 (a `Retry-After` for a rate limit).
pub fn to_next_minute(now: OffsetDateTime) -> u32 {
    60u32.saturating_sub(u32::from(now.second())).max(1)
}

/// `2026-12-02T11:40:00Z`.
pub fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339).unwrap_or_else(|_| at.unix_timestamp().to_string())
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn windows_and_resets_are_utc_days_and_months() {
        let now = datetime!(2026-12-31 23:59:30 UTC);
        assert_eq!(Period::Day.window(now), "2026-12-31");
        assert_eq!(Period::Month.window(now), "2026-12");
        assert_eq!(Period::Total.window(now), "total");
        assert_eq!(Period::Day.reset(now), Some(datetime!(2027-01-01 00:00 UTC)));
        assert_eq!(Period::Month.reset(now), Some(datetime!(2027-01-01 00:00 UTC)));
        assert_eq!(Period::Month.reset(datetime!(2026-02-10 08:00 UTC)), Some(datetime!(2026-03-01 00:00 UTC)));
        assert_eq!(Period::Total.reset(now), None);
        assert_eq!(minute(now), "2026-12-31T23:59");
        assert_eq!(to_next_minute(now), 30);
        assert_eq!(rfc3339(datetime!(2027-01-01 00:00 UTC)), "2027-01-01T00:00:00Z");
        for name in Period::NAMES {
            assert_eq!(Period::parse(name).unwrap().name(), name);
        }
    }
}
