//! `runlens prices` and `runlens cost`.

use runlens_analysis::prices::{PriceTable, Tokens, normalize_model};

use super::{Outcome, UsageError, print_stdout};
use crate::cli::{CostArgs, PricesArgs};

fn table(path: Option<&std::path::Path>) -> anyhow::Result<PriceTable> {
    Ok(super::price_file(path)?.unwrap_or_else(PriceTable::bundled))
}

/// `runlens prices`: the table in use.
pub fn list(args: PricesArgs) -> anyhow::Result<Outcome> {
    let table = table(args.prices.as_deref())?;
    print_stdout(&runlens_reports::prices::render_prices(&table))?;
    Ok(Outcome::Success)
}

/// `runlens cost`: one request and its projections; an unknown model is a usage error.
pub fn cost(args: CostArgs) -> anyhow::Result<Outcome> {
    let table = table(args.prices.as_deref())?;
    let Some(price) = table.find(args.provider.as_deref(), &args.model) else {
        let known: Vec<&str> = table.models.iter().map(|m| m.name.as_str()).collect();
        return Err(UsageError(format!(
            "no price for model {:?} (looked up as {:?}) in {}; known models: {}",
            args.model,
            normalize_model(&args.model),
            table.source,
            known.join(", ")
        ))
        .into());
    };
    let tokens = Tokens {
        input: args.input_tokens,
        output: args.output_tokens,
        cache_read: args.cache_read_tokens,
        cache_write: args.cache_write_tokens + args.cache_write_1h_tokens,
        cache_write_1h: args.cache_write_1h_tokens,
    };
    print_stdout(&runlens_reports::prices::render_cost(
        price,
        &tokens,
        args.per_day,
        &table.source,
    ))?;
    Ok(Outcome::Success)
}
