//! The model catalogue: what Amazon Bedrock documents (or was seen doing)
//! per model, dated and sourced. Plain data, read from one JSON file.
//!
//! The crate bundles `data/models.json` ([`Catalogue::bundled`]); a newer
//! file can be loaded at run time ([`Catalogue::load`]) and made the one the
//! crate consults ([`Catalogue::install`]). Every fact names its source (a
//! key of [`Catalogue::sources`], each with its address and the date it was
//! read); a fact with no entry is not known.
//!
//! The catalogue informs, the service decides: the client never refuses a
//! model it does not know, and uses what the catalogue says only to avoid
//! sending what the service is known to refuse (consecutive turns of one
//! role to a family that needs alternation), and to call Converse instead of
//! ConverseStream for a model that cannot stream (tool use). The bundled
//! local server (`bedrock-local`) answers as the service does from the same
//! facts. The same file carries a dated, sourced price table
//! ([`Catalogue::price`], used by [`Cost`](crate::model::Cost)). Members of
//! the file this version does not know are ignored, so older versions read newer files.

mod prices;
mod raw;

pub use prices::{Price, Rates};

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, OnceLock, RwLock};

use serde::Deserialize;

use crate::error::Error;

/// The bundled catalogue file.
const BUNDLED: &str = include_str!("../../../data/models.json");

/// Where a catalogue fact comes from: a page or a recording, and when it
/// was read (the values of [`Catalogue::sources`]).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Citation {
    /// What it is.
    pub title: String,
    /// Its address.
    pub url: String,
    /// The date (`YYYY-MM-DD`) it was read, if it was re-read for this file.
    #[serde(default)]
    pub read: Option<String>,
}

/// One fact and its source (a key of [`Catalogue::sources`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Fact {
    /// What the source says.
    pub value: bool,
    /// Which source says it.
    pub source: String,
}

/// Rules shared by every model whose id starts with `prefix`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Family {
    /// The start of the model ids of the family, e.g. `"anthropic.claude"`.
    pub prefix: String,
    /// Whether the service refuses two consecutive turns of one role.
    pub alternation: Option<Fact>,
}

/// Where a model is in its life on Bedrock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Status {
    /// Offered and maintained.
    Active,
    /// Still callable; an end-of-life date is set.
    Legacy,
    /// Retired: calls are refused.
    EndOfLife,
}

/// A model's lifecycle, as its source gives it on the day of the copy read
/// (see [`Citation::title`]). Dates are `YYYY-MM-DD`; the catalogue does not
/// move a model to [`Status::EndOfLife`] when a date passes, only when a
/// source says so (see [`ended_by`](Lifecycle::ended_by)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Lifecycle {
    /// The state.
    pub status: Status,
    /// Launch date, when known.
    pub launched: Option<String>,
    /// Date it became legacy, when known.
    pub legacy: Option<String>,
    /// Start of the public extended access part of the legacy period
    /// (provider-set, usually higher prices), when known.
    pub public_extended_access: Option<String>,
    /// End-of-life date, when known.
    pub end_of_life: Option<String>,
    /// The AWS Regions the dates cover, as the source lists them (empty: the
    /// source names none). A model can stay active in other Regions.
    pub regions: Vec<String>,
    /// The date the state was seen (for a state known from a recording).
    pub seen: Option<String>,
    /// Which source says it.
    pub source: String,
}

impl Lifecycle {
    /// Whether the source's end-of-life date is on or before `date`
    /// (`YYYY-MM-DD`): the service has then stopped, or is about to stop,
    /// answering the model in the Regions the dates cover. `false` when no
    /// end-of-life date is known.
    ///
    /// ```
    /// use bedrock_converse::model::catalogue::{Catalogue, Status};
    /// let c = Catalogue::bundled();
    /// let opus = c.lifecycle("us.anthropic.claude-opus-4-1-20250805-v1:0").unwrap();
    /// assert_eq!(opus.status, Status::Legacy);
    /// assert!(!opus.ended_by("2027-01-07"));
    /// assert!(opus.ended_by("2027-01-08"));
    /// ```
    pub fn ended_by(&self, date: &str) -> bool {
        self.end_of_life.as_deref().is_some_and(|eol| eol <= date)
    }
}

/// A capability of a model in the Converse API, as the columns of the user
/// guide's "Supported models and model features" page (and a few more).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Capability {
    /// ConverseStream at all.
    Streaming,
    /// System prompts.
    SystemPrompts,
    /// Document blocks ("document chat").
    Documents,
    /// Image blocks ("vision").
    Images,
    /// Tools, through Converse.
    ToolUse,
    /// Tools through ConverseStream.
    ToolUseStreaming,
    /// `outputConfig.textFormat` and strict tools.
    StructuredOutput,
    /// Reasoning content.
    Reasoning,
    /// Cache points.
    PromptCaching,
}

/// What is known of one model's capabilities (`None`: not known).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Capabilities {
    /// ConverseStream at all.
    pub streaming: Option<Fact>,
    /// System prompts.
    pub system_prompts: Option<Fact>,
    /// Document blocks.
    pub documents: Option<Fact>,
    /// Image blocks.
    pub images: Option<Fact>,
    /// Tools through Converse.
    pub tool_use: Option<Fact>,
    /// Tools through ConverseStream.
    pub tool_use_streaming: Option<Fact>,
    /// Structured output.
    pub structured_output: Option<Fact>,
    /// Reasoning content.
    pub reasoning: Option<Fact>,
    /// Prompt caching.
    pub prompt_caching: Option<Fact>,
}

impl Capabilities {
    /// The fact for one capability, if known.
    pub fn get(&self, capability: Capability) -> Option<&Fact> {
        match capability {
            Capability::Streaming => self.streaming.as_ref(),
            Capability::SystemPrompts => self.system_prompts.as_ref(),
            Capability::Documents => self.documents.as_ref(),
            Capability::Images => self.images.as_ref(),
            Capability::ToolUse => self.tool_use.as_ref(),
            Capability::ToolUseStreaming => self.tool_use_streaming.as_ref(),
            Capability::StructuredOutput => self.structured_output.as_ref(),
            Capability::Reasoning => self.reasoning.as_ref(),
            Capability::PromptCaching => self.prompt_caching.as_ref(),
        }
    }
}

/// One model: its id, its inference-profile ids, what it can do.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ModelInfo {
    /// The foundation-model id, e.g. `"amazon.nova-lite-v1:0"`.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Inference-profile ids that route to it (`"us.amazon.nova-lite-v1:0"`).
    pub profiles: Vec<String>,
    /// Whether the bare id can be called on demand (`false`: only through a
    /// profile), when known.
    pub on_demand: Option<Fact>,
    /// Its lifecycle, when known.
    pub lifecycle: Option<Lifecycle>,
    /// What it can do.
    pub capabilities: Capabilities,
}

/// How an id was found in the catalogue ([`Catalogue::resolve`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Resolved<'a> {
    /// The model.
    pub model: &'a ModelInfo,
    /// Whether the id named an inference profile rather than the model.
    pub via_profile: bool,
}

/// The model catalogue (see the [module documentation](self)).
///
/// ```
/// use bedrock_converse::model::catalogue::{Capability, Catalogue};
/// let catalogue = Catalogue::bundled();
/// assert!(!catalogue.date.is_empty());
/// let nova = catalogue.model("us.amazon.nova-lite-v1:0").unwrap();
/// assert_eq!(nova.id, "amazon.nova-lite-v1:0");
/// assert_eq!(catalogue.supports("openai.gpt-oss-120b-1:0", Capability::Streaming), Some(false));
/// assert_eq!(catalogue.supports("example.unknown-v1:0", Capability::Streaming), None);
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Catalogue {
    /// The date of the file (`YYYY-MM-DD`): the facts are as of then.
    pub date: String,
    /// The sources facts name, by key.
    pub sources: BTreeMap<String, Citation>,
    /// Rules by family.
    pub families: Vec<Family>,
    /// The prefixes of geographic inference-profile ids (`"us."`, …).
    pub profile_prefixes: Vec<String>,
    /// The models.
    pub models: Vec<ModelInfo>,
    /// The price table (see [`price`](Catalogue::price)).
    pub prices: Vec<Price>,
}

static INSTALLED: RwLock<Option<Arc<Catalogue>>> = RwLock::new(None);

impl Catalogue {
    /// Reads a catalogue from the JSON of a catalogue file (the format of
    /// `data/models.json`).
    ///
    /// ```
    /// use bedrock_converse::model::catalogue::Catalogue;
    /// let c = Catalogue::from_json(r#"{"format": 1, "date": "2027-01-01", "sources": {},
    ///     "models": [{"id": "example.model-v1:0", "name": "Example"}]}"#)?;
    /// assert_eq!(c.model("example.model-v1:0").unwrap().name, "Example");
    /// # Ok::<(), bedrock_converse::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when the text is not a catalogue: not JSON, a
    /// format this version cannot read, or a fact naming a source the file
    /// does not list.
    pub fn from_json(json: &str) -> Result<Catalogue, Error> {
        raw::parse(json)
    }

    /// Reads a catalogue file.
    ///
    /// ```no_run
    /// use bedrock_converse::model::catalogue::Catalogue;
    /// Catalogue::load("models.json")?.install();
    /// # Ok::<(), bedrock_converse::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::File`] when the file cannot be read, else as
    /// [`from_json`](Catalogue::from_json).
    pub fn load(path: impl AsRef<Path>) -> Result<Catalogue, Error> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| Error::File {
            path: path.to_path_buf(),
            source,
        })?;
        Catalogue::from_json(&text).map_err(|e| match e {
            Error::Config { message } => Error::config(format!("{}: {message}", path.display())),
            other => other,
        })
    }

    /// The catalogue bundled with this version of the crate.
    pub fn bundled() -> Arc<Catalogue> {
        static BUNDLED_CATALOGUE: OnceLock<Arc<Catalogue>> = OnceLock::new();
        BUNDLED_CATALOGUE
            .get_or_init(|| {
                // The bundled file is checked by the crate's tests; a broken
                // one still must not take a program down.
                Arc::new(Catalogue::from_json(BUNDLED).unwrap_or_else(|e| {
                    log::error!("the bundled model catalogue is unreadable: {e}");
                    Catalogue::empty()
                }))
            })
            .clone()
    }

    /// A catalogue that knows nothing.
    pub fn empty() -> Catalogue {
        Catalogue {
            date: String::new(),
            sources: BTreeMap::new(),
            families: Vec::new(),
            profile_prefixes: Vec::new(),
            models: Vec::new(),
            prices: Vec::new(),
        }
    }

    /// The catalogue the crate consults: the one [installed](Catalogue::install)
    /// last, else the [bundled](Catalogue::bundled) one.
    pub fn current() -> Arc<Catalogue> {
        let installed = INSTALLED.read().unwrap_or_else(|p| p.into_inner());
        installed.clone().unwrap_or_else(Catalogue::bundled)
    }

    /// Makes this catalogue the one the whole process consults from now on
    /// (validation, conversations, streaming fallbacks).
    pub fn install(self) {
        *INSTALLED.write().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(self));
    }

    /// The id without an ARN's prefix: a foundation-model ARN gives the model
    /// id, an inference-profile ARN the profile id.
    fn strip_arn(id: &str) -> &str {
        if !id.starts_with("arn:") {
            return id;
        }
        for kind in ["foundation-model/", "inference-profile/"] {
            if let Some((_, rest)) = id.split_once(kind) {
                return rest;
            }
        }
        id
    }

    /// The id without a geographic profile prefix (`us.`, `eu.`, …), if it
    /// has one.
    fn strip_profile<'a>(&self, id: &'a str) -> Option<&'a str> {
        self.profile_prefixes
            .iter()
            .find_map(|p| id.strip_prefix(p.as_str()))
    }

    /// Finds a model by its id, one of its profile ids, an ARN of either, or
    /// a geographic profile id (`us.` + its id) the file does not list.
    pub fn resolve(&self, id: &str) -> Option<Resolved<'_>> {
        let id = Catalogue::strip_arn(id);
        if let Some(model) = self.models.iter().find(|m| m.id == id) {
            return Some(Resolved {
                model,
                via_profile: false,
            });
        }
        let listed = self
            .models
            .iter()
            .find(|m| m.profiles.iter().any(|p| p == id));
        let model = listed.or_else(|| {
            let base = self.strip_profile(id)?;
            self.models.iter().find(|m| m.id == base)
        })?;
        Some(Resolved {
            model,
            via_profile: true,
        })
    }

    /// The model an id names (see [`resolve`](Catalogue::resolve)).
    pub fn model(&self, id: &str) -> Option<&ModelInfo> {
        self.resolve(id).map(|r| r.model)
    }

    /// The family of a model id, known model or not (by the id's prefix,
    /// after any ARN or profile prefix).
    pub fn family(&self, id: &str) -> Option<&Family> {
        let id = Catalogue::strip_arn(id);
        let base = self.strip_profile(id).unwrap_or(id);
        self.families
            .iter()
            .find(|f| base.starts_with(f.prefix.as_str()))
    }

    /// Whether the model's family refuses consecutive turns of one role
    /// (`None`: not known).
    pub fn needs_alternation(&self, id: &str) -> Option<bool> {
        self.family(id)?.alternation.as_ref().map(|f| f.value)
    }

    /// The price of the model an id names: its foundation-model id, one of
    /// its inference-profile ids or an ARN of either (a geographic profile
    /// costs what its model costs), or `None` when the table does not price
    /// it.
    ///
    /// ```
    /// use bedrock_converse::model::catalogue::Catalogue;
    /// let c = Catalogue::bundled();
    /// let haiku = c.price("us.anthropic.claude-haiku-4-5-20251001-v1:0").unwrap();
    /// assert_eq!(haiku.model, "anthropic.claude-haiku-4-5-20251001-v1:0");
    /// assert!(c.price("example.unknown-v1:0").is_none());
    /// ```
    pub fn price(&self, id: &str) -> Option<&Price> {
        let id = Catalogue::strip_arn(id);
        let find = |m: &str| self.prices.iter().find(|p| p.model == m);
        find(id)
            .or_else(|| self.resolve(id).and_then(|r| find(&r.model.id)))
            .or_else(|| find(self.strip_profile(id)?))
    }

    /// The lifecycle of the model an id names (see
    /// [`resolve`](Catalogue::resolve)): `None` when the model is not in the
    /// catalogue or no source gives its state. The client never refuses a
    /// model for it; the service decides.
    ///
    /// ```
    /// use bedrock_converse::model::catalogue::{Catalogue, Status};
    /// let c = Catalogue::bundled();
    /// let jamba = c.lifecycle("ai21.jamba-1-5-mini-v1:0").unwrap();
    /// assert_eq!(jamba.status, Status::Legacy);
    /// assert_eq!(jamba.end_of_life.as_deref(), Some("2026-11-26"));
    /// assert!(c.sources.contains_key(&jamba.source));
    /// assert!(c.lifecycle("example.unknown-v1:0").is_none());
    /// ```
    pub fn lifecycle(&self, id: &str) -> Option<&Lifecycle> {
        self.model(id)?.lifecycle.as_ref()
    }

    /// Whether the model has a capability (`None`: not known).
    pub fn supports(&self, id: &str, capability: Capability) -> Option<bool> {
        self.model(id)?
            .capabilities
            .get(capability)
            .map(|f| f.value)
    }
}

#[cfg(test)]
mod tests;
