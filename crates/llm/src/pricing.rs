//! What a call costs: a price table per `provider/model` (USD per million
//! tokens for input, output, cache reads and cache writes), built-in for the
//! well-known models and overridable from config. A model not in the table
//! has an unknown cost — `None`, never $0.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::event::Usage;

/// Prices in USD per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelPrice {
    pub input: f64,
    pub output: f64,
    /// Defaults to the input price when a config entry leaves it out.
    #[serde(default)]
    pub cache_read: Option<f64>,
    /// Defaults to the input price when a config entry leaves it out.
    #[serde(default)]
    pub cache_write: Option<f64>,
}

const PER_MILLION: f64 = 1_000_000.0;

impl ModelPrice {
    pub const fn new(input: f64, output: f64, cache_read: f64, cache_write: f64) -> Self {
        ModelPrice { input, output, cache_read: Some(cache_read), cache_write: Some(cache_write) }
    }

    /// The cost of the given usage in USD.
    pub fn cost_usd(&self, usage: &Usage) -> f64 {
        let per_token = |price_per_million: f64, tokens: u64| price_per_million * tokens as f64 / PER_MILLION;
        per_token(self.input, usage.input_tokens)
            + per_token(self.output, usage.output_tokens)
            + per_token(self.cache_read.unwrap_or(self.input), usage.cache_read_tokens)
            + per_token(self.cache_write.unwrap_or(self.input), usage.cache_write_tokens)
    }
}

/// Published list prices (USD per million tokens) of the built-in providers'
/// common models. Anthropic cache writes cost 1.25× input and reads 0.1×;
/// OpenAI has no cache-write surcharge, so its write price is the input price.
const BUILT_IN_PRICES: &[(&str, ModelPrice)] = &[
    ("anthropic/claude-opus-4-1", ModelPrice::new(15.0, 75.0, 1.50, 18.75)),
    ("anthropic/claude-opus-4", ModelPrice::new(15.0, 75.0, 1.50, 18.75)),
    ("anthropic/claude-sonnet-4-5", ModelPrice::new(3.0, 15.0, 0.30, 3.75)),
    ("anthropic/claude-sonnet-4", ModelPrice::new(3.0, 15.0, 0.30, 3.75)),
    ("anthropic/claude-3-7-sonnet", ModelPrice::new(3.0, 15.0, 0.30, 3.75)),
    ("anthropic/claude-haiku-4-5", ModelPrice::new(1.0, 5.0, 0.10, 1.25)),
    ("anthropic/claude-3-5-haiku", ModelPrice::new(0.80, 4.0, 0.08, 1.0)),
    ("openai/gpt-5", ModelPrice::new(1.25, 10.0, 0.125, 1.25)),
    ("openai/gpt-5-mini", ModelPrice::new(0.25, 2.0, 0.025, 0.25)),
    ("openai/gpt-5-nano", ModelPrice::new(0.05, 0.40, 0.005, 0.05)),
    ("openai/gpt-4.1", ModelPrice::new(2.0, 8.0, 0.50, 2.0)),
    ("openai/gpt-4.1-mini", ModelPrice::new(0.40, 1.60, 0.10, 0.40)),
    ("openai/gpt-4.1-nano", ModelPrice::new(0.10, 0.40, 0.025, 0.10)),
    ("openai/gpt-4o", ModelPrice::new(2.50, 10.0, 1.25, 2.50)),
    ("openai/gpt-4o-mini", ModelPrice::new(0.15, 0.60, 0.075, 0.15)),
    ("openai/text-embedding-3-small", ModelPrice::new(0.02, 0.0, 0.02, 0.02)),
    ("openai/text-embedding-3-large", ModelPrice::new(0.13, 0.0, 0.13, 0.13)),
];

/// Prices by `provider/model`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PriceTable {
    prices: BTreeMap<String, ModelPrice>,
}

impl PriceTable {
    /// No prices at all: every cost is unknown.
    pub fn empty() -> Self {
        PriceTable::default()
    }

    /// The built-in prices.
    pub fn built_in() -> Self {
        PriceTable { prices: BUILT_IN_PRICES.iter().map(|(name, price)| ((*name).to_owned(), *price)).collect() }
    }

    /// The built-in prices with `overrides` (from `[llm.prices]`) on top.
    pub fn built_in_with(overrides: &BTreeMap<String, ModelPrice>) -> Self {
        let mut table = PriceTable::built_in();
        for (name, price) in overrides {
            table.prices.insert(name.clone(), *price);
        }
        table
    }

    pub fn insert(&mut self, model: impl Into<String>, price: ModelPrice) {
        self.prices.insert(model.into(), price);
    }

    /// The price of `provider/model`; a dated snapshot name
    /// (`claude-sonnet-4-5-20250929`, `gpt-4.1-mini-2025-04-14`) or a
    /// `-latest` alias falls back to its family's price.
    pub fn price_of(&self, provider: &str, model: &str) -> Option<ModelPrice> {
        let exact = format!("{provider}/{model}");
        if let Some(price) = self.prices.get(&exact) {
            return Some(*price);
        }
        let family = strip_snapshot_suffix(model)?;
        self.prices.get(&format!("{provider}/{family}")).copied()
    }
}

/// `name-YYYYMMDD`, `name-YYYY-MM-DD` or `name-latest` → `name`.
fn strip_snapshot_suffix(model: &str) -> Option<&str> {
    if let Some(family) = model.strip_suffix("-latest") {
        return Some(family);
    }
    let (family, suffix) = model.rsplit_once('-')?;
    if suffix.len() == 8 && suffix.bytes().all(|byte| byte.is_ascii_digit()) {
        return Some(family);
    }
    // Dashed dates split into three pieces: take off "-MM-DD", then "-YYYY".
    let (rest, day) = model.rsplit_once('-')?;
    let (rest, month) = rest.rsplit_once('-')?;
    let (family, year) = rest.rsplit_once('-')?;
    let is_digits = |text: &str, length: usize| text.len() == length && text.bytes().all(|byte| byte.is_ascii_digit());
    (is_digits(year, 4) && is_digits(month, 2) && is_digits(day, 2)).then_some(family)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cost_counts_every_kind_of_token_at_its_own_price() {
        let price = ModelPrice::new(3.0, 15.0, 0.30, 3.75);
        let usage = Usage {
            input_tokens: 1_000_000,
            output_tokens: 100_000,
            cache_read_tokens: 2_000_000,
            cache_write_tokens: 400_000,
        };
        // 3.00 + 1.50 + 0.60 + 1.50
        assert!((price.cost_usd(&usage) - 6.60).abs() < 1e-9);
    }

    #[test]
    fn unknown_models_have_no_price_and_snapshots_use_their_family() {
        let table = PriceTable::built_in();
        assert!(table.price_of("ollama", "llama3.2").is_none());
        assert_eq!(
            table.price_of("anthropic", "claude-sonnet-4-5-20250929"),
            table.price_of("anthropic", "claude-sonnet-4-5")
        );
        assert_eq!(table.price_of("openai", "gpt-4.1-mini-2025-04-14"), table.price_of("openai", "gpt-4.1-mini"));
        assert!(table.price_of("openai", "gpt-4.1-mini").is_some());
        assert!(table.price_of("openai", "gpt-4.1-mystery").is_none());
    }

    #[test]
    fn config_overrides_win_and_missing_cache_prices_default_to_input() {
        let overrides = BTreeMap::from([(
            "ollama/llama3.2".to_owned(),
            ModelPrice { input: 0.0, output: 0.0, cache_read: None, cache_write: None },
        )]);
        let table = PriceTable::built_in_with(&overrides);
        let price = table.price_of("ollama", "llama3.2").unwrap();
        assert_eq!(
            price.cost_usd(&Usage {
                input_tokens: 10,
                output_tokens: 10,
                cache_read_tokens: 10,
                cache_write_tokens: 10
            }),
            0.0
        );
    }
}
