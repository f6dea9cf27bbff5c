//! Token usage → cost in USD, from the catalog's (or configured) prices.

use crate::catalog::Price;

/// Cost of one call. Rounded to 1e-9 USD so sums of many calls stay readable: exactly
/// [`nanos`] in dollars, so what a caller is told and what a budget is charged agree.
pub fn usd(input_tokens: u64, output_tokens: u64, price: &Price) -> f64 {
    nanos(input_tokens, output_tokens, price) as f64 / 1e9
}

/// Cost of one call in integer nano-dollars (1e-9 USD), the unit budgets and the spend ledger
/// count in. A price per 1M tokens is micro-dollars per token, so catalog prices (at most three
/// decimals) are whole nano-dollars per token.
pub fn nanos(input_tokens: u64, output_tokens: u64, price: &Price) -> u64 {
    let per_token = |usd_per_million: f64| (usd_per_million * 1000.0).round() as u64;
    input_tokens
        .saturating_mul(per_token(price.input_per_million))
        .saturating_add(output_tokens.saturating_mul(per_token(price.output_per_million)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_are_per_million_tokens() {
        let large = Price { input_per_million: 4.0, output_per_million: 12.0 };
        assert_eq!(usd(1_000_000, 0, &large), 4.0);
        assert_eq!(usd(1000, 500, &large), 0.01);
        assert_eq!(usd(0, 0, &large), 0.0);
    }

    #[test]
    fn nano_dollars_are_exact_for_catalog_prices() {
        let ministral = Price { input_per_million: 0.15, output_per_million: 0.15 };
        assert_eq!(nanos(1000, 500, &ministral), 225_000);
        assert_eq!(usd(1000, 500, &ministral), 0.000225);
        assert_eq!(nanos(u64::MAX, 1, &ministral), u64::MAX, "saturates, never wraps");
    }
}
