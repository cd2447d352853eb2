//! [`Cost`]: what a call's [`Usage`] costs in US dollars, from the price
//! table of the [model catalogue](super::catalogue).

use super::catalogue::{Catalogue, Price, Rates};
use super::response::{Response, Usage};

/// How a call was billed: the service tier it was served with, or batch
/// inference.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Tier {
    /// The standard (default) on-demand tier.
    #[default]
    Standard,
    /// Batch inference: the standard prices less the model's batch discount.
    Batch,
    /// Another service tier, by the service's name (`"priority"`, `"flex"`).
    Service(String),
}

impl Tier {
    /// The tier for a service tier name as the service writes it
    /// (`"default"` is [`Tier::Standard`]).
    pub fn from_service(name: &str) -> Tier {
        match name {
            "default" | "standard" => Tier::Standard,
            other => Tier::Service(other.to_owned()),
        }
    }
}

/// What a call (or several) cost, in US dollars, by kind of token.
///
/// ```
/// use bedrock_converse::model::{Cost, Tier, Usage};
/// // Claude Haiku 4.5: $1 in, $5 out per million tokens (bundled table).
/// let usage = Usage::new(1_000_000, 200_000, 1_200_000);
/// let cost = Cost::of(&usage, "anthropic.claude-haiku-4-5-20251001-v1:0", &Tier::Standard).unwrap();
/// assert!((cost.total() - 2.0).abs() < 1e-9);
/// // A model the table does not price has no cost, not a zero one.
/// assert!(Cost::of(&usage, "example.unknown-v1:0", &Tier::Standard).is_none());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq)]
#[non_exhaustive]
pub struct Cost {
    /// Input tokens not read from or written to the cache.
    pub input: f64,
    /// Output tokens.
    pub output: f64,
    /// Tokens read from the prompt cache.
    pub cache_read: f64,
    /// Tokens written to the prompt cache (both times to live).
    pub cache_write: f64,
}

impl Cost {
    /// The sum of the parts.
    pub fn total(&self) -> f64 {
        self.input + self.output + self.cache_read + self.cache_write
    }

    /// The cost of `usage` on `model` (a model id, profile id or ARN) in
    /// `tier`, from the [current](Catalogue::current) catalogue's prices.
    /// `None` when the table does not price the model, the tier, or a kind
    /// of token the usage has (say, cache writes of a model with no cache
    /// price): an unknown cost is never reported as zero.
    pub fn of(usage: &Usage, model: &str, tier: &Tier) -> Option<Cost> {
        Cost::from_price(usage, Catalogue::current().price(model)?, tier)
    }

    /// The cost of `usage` at a given price (see [`of`](Cost::of)).
    ///
    /// Bedrock's `inputTokens` counts the prompt tokens that were neither
    /// read from nor written to the cache; those come in their own fields.
    /// Cache writes are priced by their time to live when the usage breaks
    /// them down ([`CacheDetails`](super::CacheDetails)), a TTL this version
    /// does not know at the 1-hour rate (the higher); without a breakdown
    /// at the 5-minute rate (the default TTL).
    pub fn from_price(usage: &Usage, price: &Price, tier: &Tier) -> Option<Cost> {
        let (rates, factor) = match tier {
            Tier::Standard => (&price.standard, 1.0),
            Tier::Batch => (&price.standard, 1.0 - price.batch_discount?),
            Tier::Service(name) => (price.tiers.get(name)?, 1.0),
        };
        Cost::at(usage, rates).map(|c| c.scaled(factor))
    }

    fn at(usage: &Usage, rates: &Rates) -> Option<Cost> {
        let per = |tokens: u32, rate: f64| f64::from(tokens) * rate / 1_000_000.0;
        // A count of zero costs nothing even where its rate is unknown.
        let priced = |tokens: u32, rate: Option<f64>| match (tokens, rate) {
            (0, _) => Some(0.0),
            (n, Some(r)) => Some(per(n, r)),
            (_, None) => None,
        };
        let cache_read = priced(usage.cache_read_input_tokens.unwrap_or(0), rates.cache_read)?;
        let written = usage.cache_write_input_tokens.unwrap_or(0);
        let cache_write = match usage.cache_details {
            Some(d) => {
                let one_hour = rates.cache_write_1h;
                priced(d.five_minutes, rates.cache_write_5m)?
                    + priced(d.one_hour, one_hour)?
                    + priced(d.other, one_hour.or(rates.cache_write_5m))?
                    // Tokens the breakdown does not account for.
                    + priced(written.saturating_sub(d.total()), rates.cache_write_5m)?
            }
            None => priced(written, rates.cache_write_5m)?,
        };
        Some(Cost {
            input: per(usage.input_tokens, rates.input),
            output: per(usage.output_tokens, rates.output),
            cache_read,
            cache_write,
        })
    }

    fn scaled(self, factor: f64) -> Cost {
        Cost {
            input: self.input * factor,
            output: self.output * factor,
            cache_read: self.cache_read * factor,
            cache_write: self.cache_write * factor,
        }
    }

    /// The most a call can cost on `model`: `input_tokens` of plain input
    /// and `max_tokens` of output at the tier's prices (`None`: not priced).
    ///
    /// ```
    /// use bedrock_converse::model::{Cost, Tier};
    /// let worst = Cost::worst_case(1000, 500, "amazon.nova-lite-v1:0", &Tier::Standard).unwrap();
    /// assert!((worst - (1000.0 * 0.06 + 500.0 * 0.24) / 1e6).abs() < 1e-12);
    /// ```
    pub fn worst_case(input_tokens: u32, max_tokens: u32, model: &str, tier: &Tier) -> Option<f64> {
        let usage = Usage::new(
            input_tokens,
            max_tokens,
            input_tokens.saturating_add(max_tokens),
        );
        Cost::of(&usage, model, tier).map(|c| c.total())
    }
}

/// Sums the parts.
impl std::ops::Add for Cost {
    type Output = Cost;

    fn add(self, other: Cost) -> Cost {
        Cost {
            input: self.input + other.input,
            output: self.output + other.output,
            cache_read: self.cache_read + other.cache_read,
            cache_write: self.cache_write + other.cache_write,
        }
    }
}

impl std::ops::AddAssign for Cost {
    fn add_assign(&mut self, other: Cost) {
        *self = *self + other;
    }
}

impl Response {
    /// What this reply cost on `model` (the id the request named; the model
    /// that [answered](Response::answered_by) instead, when a fallback
    /// target did), at the service tier it was served with ([`service_tier`](Response::service_tier);
    /// standard when unset), from the catalogue's price table. `None` when
    /// the reply has no usage or the table does not price the model, the
    /// tier or a kind of token it used: never a zero for an unknown.
    ///
    /// ```
    /// use bedrock_converse::Response;
    /// use bedrock_converse::model::Usage;
    /// let mut r = Response::default();
    /// assert!(r.cost("amazon.nova-lite-v1:0").is_none()); // no usage
    /// r.usage = Some(Usage::new(1_000_000, 0, 1_000_000));
    /// assert!((r.cost("us.amazon.nova-lite-v1:0").unwrap().total() - 0.06).abs() < 1e-9);
    /// ```
    pub fn cost(&self, model: &str) -> Option<Cost> {
        let tier = self
            .service_tier
            .as_ref()
            .map_or(Tier::Standard, |t| Tier::from_service(t.r#type().as_str()));
        let model = self.answered_by.as_ref().map_or(model, |a| &a.model_id);
        Cost::of(self.usage.as_ref()?, model, &tier)
    }
}
