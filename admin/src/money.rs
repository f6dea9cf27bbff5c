//! Dollars as an operator writes them and nano-dollars as the table keeps them, converted
//! exactly: the decimal digits are read as integers, never through a float, so `50.25` is
//! 50_250_000_000 and `0.000001` is 1_000.

/// Nano-dollars in a dollar.
const NANOS_PER_USD: u64 = 1_000_000_000;
/// Digits after the point a nano-dollar amount can have.
const FRACTION_DIGITS: usize = 9;

/// The nano-dollars of `text`: digits with an optional point, and an optional leading `$` and
/// exponent (`50`, `50.25`, `$0.000001`, `3e-05` as a float prints), to the nano-dollar.
pub fn parse_usd(text: &str) -> Result<u64, String> {
    let trimmed = text.trim();
    let number = trimmed.strip_prefix('$').unwrap_or(trimmed);
    let not_dollars = || format!("`{text}` is not an amount of dollars; write it as 50 or 50.25");
    let (mantissa, exponent) = match number.split_once(['e', 'E']) {
        Some((mantissa, exponent)) => (mantissa, exponent.parse::<i64>().map_err(|_| not_dollars())?),
        None => (number, 0),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let only_digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty()) || !only_digits(whole) || !only_digits(fraction) {
        return Err(not_dollars());
    }
    // The amount is `digits` nano-dollars times 10^shift.
    let digits = format!("{whole}{fraction}");
    let digits = digits.trim_start_matches('0');
    let shift = FRACTION_DIGITS as i64 - fraction.len() as i64 + exponent;
    let (digits, shift) = match usize::try_from(-shift) {
        Ok(below) if below > 0 => {
            let kept = digits.len().saturating_sub(below);
            if digits[kept..].bytes().any(|b| b != b'0') {
                return Err(format!("`{text}` is finer than a nano-dollar (at most {FRACTION_DIGITS} decimals)"));
            }
            (&digits[..kept], 0)
        }
        _ => (digits, shift),
    };
    if digits.is_empty() {
        return Ok(0);
    }
    let too_large = || format!("`{text}` dollars is more than a budget can hold");
    // u64::MAX has 20 digits.
    if digits.len() as i64 + shift > 20 {
        return Err(too_large());
    }
    let value: u64 = digits.parse().map_err(|_| too_large())?;
    10u64.checked_pow(shift as u32).and_then(|scale| value.checked_mul(scale)).ok_or_else(too_large)
}

/// Dollars of a nano-dollar amount, for JSON (`usd` beside the exact `nanos`).
pub fn usd(nanos: u64) -> f64 {
    nanos as f64 / 1e9
}

/// A nano-dollar amount as exact dollars for text: at least two decimals, more only when the
/// amount has them (`$50.25`, `$0.000001`, `$12.00`).
pub fn format_usd(nanos: u64) -> String {
    let fraction = format!("{:0FRACTION_DIGITS$}", nanos % NANOS_PER_USD);
    let fraction = fraction.trim_end_matches('0');
    format!("${}.{fraction:0<2}", nanos / NANOS_PER_USD)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dollars_become_exact_nano_dollars() {
        for (text, nanos) in [
            ("50.25", 50_250_000_000),
            ("0.000001", 1_000),
            ("1.5", 1_500_000_000),
            ("0.1", 100_000_000),
            ("$7", 7_000_000_000),
            (".5", 500_000_000),
            ("3.", 3_000_000_000),
            ("0.000000001", 1),
            ("2.500000000000", 2_500_000_000),
            ("18446744073", 18_446_744_073_000_000_000),
            ("3e-05", 30_000),
            ("1E3", 1_000_000_000_000),
            ("2.5e-8", 25),
            ("0", 0),
            ("0e99", 0),
        ] {
            assert_eq!(parse_usd(text), Ok(nanos), "{text}");
        }
    }

    #[test]
    fn anything_else_is_refused_with_a_reason() {
        for (text, why) in [
            ("", "not an amount"),
            (".", "not an amount"),
            ("-1", "not an amount"),
            ("1e", "not an amount"),
            ("e5", "not an amount"),
            ("1.5e-10", "finer than a nano-dollar"),
            ("1e99", "more than a budget can hold"),
            ("1,5", "not an amount"),
            ("0.0000000001", "finer than a nano-dollar"),
            ("18446744074", "more than a budget can hold"),
        ] {
            let error = parse_usd(text).unwrap_err();
            assert!(error.contains(why), "{text}: {error}");
        }
    }

    #[test]
    fn text_shows_every_digit_the_amount_has() {
        assert_eq!(format_usd(50_250_000_000), "$50.25");
        assert_eq!(format_usd(12_000_000_000), "$12.00");
        assert_eq!(format_usd(1_000), "$0.000001");
        assert_eq!(format_usd(0), "$0.00");
        assert_eq!(format_usd(1_234_500_000), "$1.2345");
        assert_eq!(usd(50_250_000_000), 50.25);
    }
}
