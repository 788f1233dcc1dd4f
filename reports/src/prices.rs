//! What `runlens prices` and `runlens cost` print.

use std::fmt::Write as _;

use runlens_analysis::prices::{ModelPrice, PriceTable, Tokens};

use crate::table::{align_right, new_table};
pub use crate::units::format_usd;

fn rate(v: Option<f64>) -> String {
    v.map(|v| {
        format!("{v:.4}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    })
    .unwrap_or_else(|| "—".into())
}

/// The price table: one row per model, USD per million tokens.
pub fn render_prices(table: &PriceTable) -> String {
    let mut t = new_table(&[
        "provider",
        "model",
        "input",
        "output",
        "cache read",
        "cache write 5m",
        "cache write 1h",
        "above",
    ]);
    for m in &table.models {
        let r = &m.rates;
        t.add_row(vec![
            m.provider.clone().unwrap_or_default(),
            m.name.clone(),
            rate(Some(r.input)),
            rate(Some(r.output)),
            rate(r.cache_read),
            rate(r.cache_write_5m),
            rate(r.cache_write_1h.or(r.cache_write_5m)),
            m.tier
                .map(|tier| {
                    format!(
                        ">{}k: {} / {}",
                        tier.above / 1000,
                        rate(Some(tier.rates.input)),
                        rate(Some(tier.rates.output))
                    )
                })
                .unwrap_or_default(),
        ]);
    }
    align_right(&mut t, &[2, 3, 4, 5, 6]);
    format!(
        "{t}\nUSD per million tokens ({}); a cache read without a rate costs the input rate.\n",
        table.source
    )
}

/// The calculator's answer: one request, then the projections.
pub fn render_cost(price: &ModelPrice, tokens: &Tokens, per_day: u64, source: &str) -> String {
    let one = PriceTable::cost(price, tokens);
    let mut t = new_table(&["requests", "tokens in", "tokens out", "cost"]);
    let total_in = tokens.input + tokens.cache_read + tokens.cache_write;
    for (label, n) in [
        ("1 request".to_string(), 1u64),
        (format!("per day ({per_day}/day)"), per_day),
        ("per week".to_string(), per_day * 7),
        ("per month (30 days)".to_string(), per_day * 30),
        ("per year (365 days)".to_string(), per_day * 365),
    ] {
        t.add_row(vec![
            label,
            (total_in * n).to_string(),
            (tokens.output * n).to_string(),
            format_usd(one * n as f64),
        ]);
    }
    align_right(&mut t, &[1, 2, 3]);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} ({}): prices from {source}",
        price.name,
        price.provider.as_deref().unwrap_or("any provider")
    );
    let _ = writeln!(out, "{t}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dollars_read_well() {
        assert_eq!(format_usd(0.092_26), "$0.0923");
        assert_eq!(format_usd(12.5), "$12.50");
        assert_eq!(format_usd(1234.567), "$1,234.57");
        assert_eq!(format_usd(1_234_567.0), "$1,234,567.00");
        assert_eq!(format_usd(-0.336), "-$0.3360");
        assert_eq!(format_usd(-2.5), "-$2.50");
    }

    #[test]
    fn calculator_table() {
        let table = PriceTable::bundled();
        let sonnet = table
            .find(Some("anthropic"), "claude-sonnet-4-5")
            .expect("sonnet")
            .clone();
        let tokens = Tokens {
            input: 30_000,
            output: 4_000,
            ..Tokens::default()
        };
        // 30,000 × $3 + 4,000 × $15 per million = $0.15 a request; 10 a day = $1.50.
        insta::assert_snapshot!(render_cost(&sonnet, &tokens, 10, &table.source));
    }
}
