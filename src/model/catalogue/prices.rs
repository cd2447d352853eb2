//! The price table of the catalogue file (its `prices` member): per model,
//! US dollars per million tokens for each kind of token, the batch
//! discount, and the prices of the service tiers where they are known.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::Citation;
use crate::error::Error;

/// Per-million-token prices in US dollars for one way of calling a model
/// (the standard tier, or one of the [`Price::tiers`]). A rate that is
/// `None` is not known: a cost that needs it is not known either.
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct Rates {
    /// Input (prompt) tokens not read from or written to the cache.
    pub input: f64,
    /// Output tokens.
    pub output: f64,
    /// Prompt tokens read from the cache.
    #[serde(default)]
    pub cache_read: Option<f64>,
    /// Prompt tokens written to the cache with the 5-minute time to live.
    #[serde(default)]
    pub cache_write_5m: Option<f64>,
    /// Prompt tokens written to the cache with the 1-hour time to live.
    #[serde(default)]
    pub cache_write_1h: Option<f64>,
}

/// What one model costs, as the price table gives it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Price {
    /// The model id (foundation model; its inference profiles share it).
    pub model: String,
    /// On-demand prices of the standard tier.
    pub standard: Rates,
    /// The discount of batch inference on `standard` (`0.5`: half price),
    /// when the model has batch inference and the discount is known.
    pub batch_discount: Option<f64>,
    /// Prices of other service tiers by the service's name of the tier
    /// (`"priority"`, `"flex"`), where priced.
    pub tiers: BTreeMap<String, Rates>,
    /// Which source says it (a key of the catalogue's `sources`).
    pub source: String,
    /// Whether the figures were read on the source itself on its `read`
    /// date (`false`: taken from a secondary page, to be checked).
    pub confirmed: bool,
}

#[derive(Deserialize)]
pub(super) struct RawPrice {
    model: String,
    #[serde(flatten)]
    standard: Rates,
    #[serde(default)]
    batch_discount: Option<f64>,
    #[serde(default)]
    tiers: BTreeMap<String, Rates>,
    source: String,
    #[serde(default)]
    confirmed: bool,
}

fn check(rates: &Rates, at: &str) -> Result<(), Error> {
    let all = [
        Some(rates.input),
        Some(rates.output),
        rates.cache_read,
        rates.cache_write_5m,
        rates.cache_write_1h,
    ];
    if all.into_iter().flatten().all(|r| r.is_finite() && r >= 0.0) {
        Ok(())
    } else {
        Err(Error::config(format!(
            "{at}: a price must be a number of dollars, zero or more"
        )))
    }
}

pub(super) fn read(
    raw: Vec<RawPrice>,
    sources: &BTreeMap<String, Citation>,
) -> Result<Vec<Price>, Error> {
    raw.into_iter()
        .map(|p| {
            let at = format!("price of {:?}", p.model);
            if !sources.contains_key(&p.source) {
                return Err(Error::config(format!(
                    "{at} names the source {:?}, which `sources` does not list",
                    p.source
                )));
            }
            check(&p.standard, &at)?;
            for (tier, rates) in &p.tiers {
                check(rates, &format!("{at}, tier {tier:?}"))?;
            }
            if let Some(d) = p.batch_discount {
                if !(0.0..=1.0).contains(&d) {
                    return Err(Error::config(format!(
                        "{at}: batch_discount is a fraction between 0 and 1"
                    )));
                }
            }
            Ok(Price {
                model: p.model,
                standard: p.standard,
                batch_discount: p.batch_discount,
                tiers: p.tiers,
                source: p.source,
                confirmed: p.confirmed,
            })
        })
        .collect()
}
