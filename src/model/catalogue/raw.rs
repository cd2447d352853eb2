//! The catalogue file as written, and its reading into [`Catalogue`]: a
//! capability may be a bare `true`/`false` (its source is then the
//! `capabilities.source` of its model) or `{"value": …, "source": …}`, and
//! every source named must be listed.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{Capabilities, Catalogue, Citation, Fact, Family, Lifecycle, ModelInfo, Status};
use crate::error::Error;

/// The file formats this version reads.
const FORMAT: u32 = 1;

#[derive(Deserialize)]
struct File {
    format: u32,
    date: String,
    #[serde(default)]
    sources: BTreeMap<String, Citation>,
    #[serde(default)]
    families: Vec<RawFamily>,
    #[serde(default)]
    profile_prefixes: Vec<String>,
    #[serde(default)]
    models: Vec<RawModel>,
    #[serde(default)]
    prices: Vec<super::prices::RawPrice>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawFact {
    Bare(bool),
    Sourced { value: bool, source: String },
}

#[derive(Deserialize)]
struct RawFamily {
    prefix: String,
    #[serde(default)]
    alternation: Option<RawFact>,
}

#[derive(Deserialize)]
struct RawLifecycle {
    status: Status,
    #[serde(default)]
    launched: Option<String>,
    #[serde(default)]
    legacy: Option<String>,
    #[serde(default)]
    public_extended_access: Option<String>,
    #[serde(default)]
    end_of_life: Option<String>,
    #[serde(default)]
    regions: Vec<String>,
    #[serde(default)]
    seen: Option<String>,
    source: String,
}

/// A lifecycle date as given, checked to be `YYYY-MM-DD` (dates are compared
/// as text, so any other form would compare wrongly).
fn date(value: Option<String>, at: &str) -> Result<Option<String>, Error> {
    let Some(d) = value else { return Ok(None) };
    let b = d.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    if b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && digits(0..4)
        && digits(5..7)
        && digits(8..10)
    {
        Ok(Some(d))
    } else {
        Err(Error::config(format!(
            "{at} is {d:?}, not a YYYY-MM-DD date"
        )))
    }
}

#[derive(Deserialize, Default)]
struct RawCapabilities {
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    streaming: Option<RawFact>,
    #[serde(default)]
    system_prompts: Option<RawFact>,
    #[serde(default)]
    documents: Option<RawFact>,
    #[serde(default)]
    images: Option<RawFact>,
    #[serde(default)]
    tool_use: Option<RawFact>,
    #[serde(default)]
    tool_use_streaming: Option<RawFact>,
    #[serde(default)]
    structured_output: Option<RawFact>,
    #[serde(default)]
    reasoning: Option<RawFact>,
    #[serde(default)]
    prompt_caching: Option<RawFact>,
}

#[derive(Deserialize)]
struct RawModel {
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    profiles: Vec<String>,
    #[serde(default)]
    on_demand: Option<RawFact>,
    #[serde(default)]
    lifecycle: Option<RawLifecycle>,
    #[serde(default)]
    capabilities: RawCapabilities,
}

/// Turns raw facts into [`Fact`]s, checking every source is listed.
struct Facts<'a> {
    sources: &'a BTreeMap<String, Citation>,
}

impl Facts<'_> {
    fn source(&self, source: &str, at: &str) -> Result<String, Error> {
        if self.sources.contains_key(source) {
            Ok(source.to_owned())
        } else {
            Err(Error::config(format!(
                "{at} names the source {source:?}, which `sources` does not list"
            )))
        }
    }

    fn fact(
        &self,
        raw: Option<RawFact>,
        default: Option<&str>,
        at: &str,
    ) -> Result<Option<Fact>, Error> {
        let (value, source) = match raw {
            None => return Ok(None),
            Some(RawFact::Sourced { value, source }) => (value, source),
            Some(RawFact::Bare(value)) => match default {
                Some(s) => (value, s.to_owned()),
                None => {
                    return Err(Error::config(format!(
                        "{at} has no source: give `{{\"value\": …, \"source\": …}}` or a `source` beside it"
                    )))
                }
            },
        };
        Ok(Some(Fact {
            value,
            source: self.source(&source, at)?,
        }))
    }

    fn capabilities(&self, raw: RawCapabilities, at: &str) -> Result<Capabilities, Error> {
        let d = raw.source.as_deref();
        let f = |fact, name: &str| self.fact(fact, d, &format!("{at}.capabilities.{name}"));
        Ok(Capabilities {
            streaming: f(raw.streaming, "streaming")?,
            system_prompts: f(raw.system_prompts, "system_prompts")?,
            documents: f(raw.documents, "documents")?,
            images: f(raw.images, "images")?,
            tool_use: f(raw.tool_use, "tool_use")?,
            tool_use_streaming: f(raw.tool_use_streaming, "tool_use_streaming")?,
            structured_output: f(raw.structured_output, "structured_output")?,
            reasoning: f(raw.reasoning, "reasoning")?,
            prompt_caching: f(raw.prompt_caching, "prompt_caching")?,
        })
    }

    fn model(&self, raw: RawModel) -> Result<ModelInfo, Error> {
        let at = format!("model {:?}", raw.id);
        let lifecycle = match raw.lifecycle {
            None => None,
            Some(l) => {
                let d = |v, name: &str| date(v, &format!("{at}.lifecycle.{name}"));
                Some(Lifecycle {
                    status: l.status,
                    launched: d(l.launched, "launched")?,
                    legacy: d(l.legacy, "legacy")?,
                    public_extended_access: d(l.public_extended_access, "public_extended_access")?,
                    end_of_life: d(l.end_of_life, "end_of_life")?,
                    regions: l.regions,
                    seen: d(l.seen, "seen")?,
                    source: self.source(&l.source, &format!("{at}.lifecycle"))?,
                })
            }
        };
        Ok(ModelInfo {
            on_demand: self.fact(raw.on_demand, None, &format!("{at}.on_demand"))?,
            capabilities: self.capabilities(raw.capabilities, &at)?,
            id: raw.id,
            name: raw.name,
            profiles: raw.profiles,
            lifecycle,
        })
    }
}

pub(super) fn parse(json: &str) -> Result<Catalogue, Error> {
    let file: File = serde_json::from_str(json)
        .map_err(|e| Error::config(format!("not a model catalogue: {e}")))?;
    if file.format != FORMAT {
        return Err(Error::config(format!(
            "model catalogue format {} (this version reads format {FORMAT})",
            file.format
        )));
    }
    let facts = Facts {
        sources: &file.sources,
    };
    let families = file
        .families
        .into_iter()
        .map(|f| {
            let at = format!("family {:?}.alternation", f.prefix);
            Ok(Family {
                alternation: facts.fact(f.alternation, None, &at)?,
                prefix: f.prefix,
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    let models = file
        .models
        .into_iter()
        .map(|m| facts.model(m))
        .collect::<Result<Vec<_>, Error>>()?;
    let prices = super::prices::read(file.prices, &file.sources)?;
    Ok(Catalogue {
        date: file.date,
        prices,
        families,
        profile_prefixes: file.profile_prefixes,
        models,
        sources: file.sources,
    })
}
