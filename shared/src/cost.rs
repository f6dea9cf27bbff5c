//! Token usage → cost in USD, from the catalog's (or configured) prices.

use crate::catalog::Price;

/// Cost of one call. Rounded to 1e-9 USD so sums of many calls stay readable.
pub fn usd(input_tokens: u64, output_tokens: u64, price: &Price) -> f64 {
    let raw = (input_tokens as f64 * price.input_per_million + output_tokens as f64 * price.output_per_million) / 1e6;
    (raw * 1e9).round() / 1e9
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
}
