//! The Mistral models Bedrock serves: ids, aliases, what each can do and what it costs.
//!
//! Capabilities decide what we refuse before calling Bedrock (a 400 naming the field beats a
//! Bedrock ValidationException the caller cannot act on). Prices are USD per 1M tokens and are
//! only given where published; an unknown price yields no cost figure, never a guessed one.
//! Deployments override prices with `MODEL_PRICES` (see `config`).
//!
//! Prices are Bedrock on-demand list prices in us-east-1, USD per 1M input / output tokens, from
//! <https://aws.amazon.com/bedrock/pricing/>. That page renders its figures client-side, so each
//! was checked against a public mirror of it: the Bedrock price data bundled with the npm package
//! `@earendil-works/pi-ai` 0.84.1 (`dist/providers/data/amazon-bedrock.json`, mirrored
//! 2026-08-20). Mistral 7B, Mixtral 8x7B, Small and Large (24.02) were also checked against
//! `ScrapeGraphAI/Scrapegraph-ai` (`scrapegraphai/utils/model_costs.py`) and the per-1K tables
//! of `Harvard-Pfizer-HECTRE/HECTRE` (`src/models/`). Mistral Large 2 (24.07) is listed at
//! $2/$6, $3/$9 and $4/$12 by different mirrors; the seed's $4/$12 is kept until AWS's page can
//! be read directly (override with `MODEL_PRICES`).

/// Rough size class, used by `auto` routing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Tier {
    Small,
    Medium,
    Large,
}

/// Mistral's native request body that InvokeModel takes for a model (AWS's "Mistral AI chat
/// completion" and "Mistral AI text completion" model-parameter pages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NativeBody {
    /// `{"messages": [...], "tools": [...]}` answered by `choices[].message`.
    Chat,
    /// `{"prompt": "<s>[INST] ... [/INST]"}` answered by `outputs[].text`.
    Text,
}

/// What the Converse API accepts for a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    pub system_prompt: bool,
    pub tools: bool,
    /// Tool use inside ConverseStream; when false the stream route answers from Converse.
    pub streaming_tools: bool,
    pub images: bool,
    /// `outputConfig.textFormat` JSON-schema structured output.
    pub json_schema: bool,
    /// Answers start with reasoning (Converse `reasoningContent` blocks).
    pub reasoning: bool,
}

/// Price in USD per one million tokens.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Price {
    pub input_per_million: f64,
    pub output_per_million: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// Foundation-model id, without any inference-profile prefix.
    pub id: &'static str,
    /// Short name a caller may send instead of the id; settings (`BEDROCK_INVOKE_MODELS`,
    /// `MODEL_FALLBACKS`, `ROUTING_TIERS`, ...) name models by it too, so it never changes target.
    pub alias: &'static str,
    /// Other names a caller may send: Mistral's API names for this model (dated, and the
    /// `-latest` ones that Mistral's API serves this model under), see [`MODELS`].
    pub names: &'static [&'static str],
    pub name: &'static str,
    pub tier: Tier,
    pub capabilities: Capabilities,
    pub price: Option<Price>,
    /// The native body InvokeModel takes, for models AWS documents one for (`None`: Converse only).
    pub native: Option<NativeBody>,
}

const fn caps(
    system_prompt: bool,
    tools: bool,
    streaming_tools: bool,
    images: bool,
    json_schema: bool,
) -> Capabilities {
    Capabilities { system_prompt, tools, streaming_tools, images, json_schema, reasoning: false }
}

const fn reasoning(capabilities: Capabilities) -> Capabilities {
    Capabilities { reasoning: true, ..capabilities }
}

const fn price(input: f64, output: f64) -> Option<Price> {
    Some(Price { input_per_million: input, output_per_million: output })
}

/// The Mistral family on Bedrock. Without `BEDROCK_MODEL_IDS` all are allowed and the first is
/// the default; for `auto`, the first allowed model of a tier serves it.
///
/// Names. A `-latest` name means what Mistral's API serves under it, where Bedrock hosts that
/// model: Mistral's models page (<https://docs.mistral.ai/getting-started/models/models_overview/>,
/// found through its mirrors, July 2026) lists `mistral-large-latest` → `mistral-large-2512`
/// (Mistral Large 3), `ministral-3b-latest` / `-8b-latest` / `-14b-latest` → the `-2512` Ministral
/// 3 models, and its reasoning page says `magistral-small-latest` points to
/// `magistral-small-2509`; `pixtral-large-latest` pointed to Pixtral Large until Mistral retired
/// it, and Bedrock's Pixtral Large is that model. A `-latest` name whose Mistral model Bedrock
/// does not host is not given to another model: `mistral-small-latest` (Mistral Small 4,
/// `mistral-small-2603`) is unknown here, a 404, rather than Mistral Small 24.02 at five times
/// the price. Dated names (`mistral-large-2407`, `mistral-large-2512`, ...) pin a version.
/// Bare aliases (`mistral-large`, `mistral-small`, ...) keep naming what they always have (a
/// deployment's settings name models by them, and changing their target would move its traffic
/// to another model unannounced); the gateway's own `-latest` spellings of bare aliases that
/// Mistral's API never used (`mistral-7b-latest`, `mixtral-8x7b-latest`, `mistral-large-3-latest`,
/// `devstral-2-latest`) stay as they were, since they contradict nothing.
pub const MODELS: &[Model] = &[
    Model {
        id: "mistral.mistral-large-2407-v1:0",
        alias: "mistral-large",
        names: &["mistral-large-2407"],
        name: "Mistral Large 2 (24.07)",
        tier: Tier::Large,
        capabilities: caps(true, true, false, false, false),
        price: price(4.0, 12.0),
        native: Some(NativeBody::Chat),
    },
    Model {
        id: "mistral.mistral-7b-instruct-v0:2",
        alias: "mistral-7b",
        names: &["mistral-7b-latest"],
        name: "Mistral 7B Instruct",
        tier: Tier::Small,
        capabilities: caps(false, false, false, false, false),
        price: price(0.15, 0.20),
        native: Some(NativeBody::Text),
    },
    Model {
        id: "mistral.mixtral-8x7b-instruct-v0:1",
        alias: "mixtral-8x7b",
        names: &["mixtral-8x7b-latest"],
        name: "Mixtral 8x7B Instruct",
        tier: Tier::Medium,
        capabilities: caps(false, false, false, false, false),
        price: price(0.45, 0.70),
        native: Some(NativeBody::Text),
    },
    Model {
        id: "mistral.mistral-small-2402-v1:0",
        alias: "mistral-small",
        names: &["mistral-small-2402"],
        name: "Mistral Small (24.02)",
        tier: Tier::Small,
        capabilities: caps(true, true, false, false, false),
        price: price(1.0, 3.0),
        native: Some(NativeBody::Text),
    },
    Model {
        id: "mistral.mistral-large-2402-v1:0",
        alias: "mistral-large-2402",
        names: &[],
        name: "Mistral Large (24.02)",
        tier: Tier::Large,
        capabilities: caps(true, true, false, false, false),
        price: price(4.0, 12.0),
        native: Some(NativeBody::Chat),
    },
    Model {
        id: "mistral.mistral-large-3-675b-instruct",
        alias: "mistral-large-3",
        names: &["mistral-large-latest", "mistral-large-2512", "mistral-large-3-latest"],
        name: "Mistral Large 3",
        tier: Tier::Large,
        capabilities: caps(true, true, true, true, true),
        price: price(0.50, 1.50),
        native: Some(NativeBody::Chat),
    },
    Model {
        id: "mistral.pixtral-large-2502-v1:0",
        alias: "pixtral-large",
        names: &["pixtral-large-latest", "pixtral-large-2502"],
        name: "Pixtral Large (25.02)",
        tier: Tier::Large,
        capabilities: caps(true, true, true, true, false),
        price: price(2.0, 6.0),
        native: None,
    },
    Model {
        id: "mistral.ministral-3-3b-instruct",
        alias: "ministral-3b",
        names: &["ministral-3b-latest", "ministral-3b-2512"],
        name: "Ministral 3 3B",
        tier: Tier::Small,
        capabilities: caps(true, true, true, true, true),
        price: price(0.10, 0.10),
        native: None,
    },
    Model {
        id: "mistral.ministral-3-8b-instruct",
        alias: "ministral-8b",
        names: &["ministral-8b-latest", "ministral-8b-2512"],
        name: "Ministral 3 8B",
        tier: Tier::Small,
        capabilities: caps(true, true, true, true, true),
        price: price(0.15, 0.15),
        native: None,
    },
    Model {
        id: "mistral.ministral-3-14b-instruct",
        alias: "ministral-14b",
        names: &["ministral-14b-latest", "ministral-14b-2512"],
        name: "Ministral 3 14B",
        tier: Tier::Medium,
        capabilities: caps(true, true, true, true, true),
        price: price(0.20, 0.20),
        native: None,
    },
    Model {
        id: "mistral.magistral-small-2509",
        alias: "magistral-small",
        names: &["magistral-small-latest", "magistral-small-2509"],
        name: "Magistral Small (25.09)",
        tier: Tier::Medium,
        capabilities: reasoning(caps(true, true, true, true, true)),
        price: price(0.50, 1.50),
        native: None,
    },
    Model {
        id: "mistral.devstral-2-123b",
        alias: "devstral-2",
        names: &["devstral-2-latest", "devstral-2512"],
        name: "Devstral 2 (123B)",
        tier: Tier::Medium,
        capabilities: caps(true, true, true, false, false),
        price: price(0.40, 2.00),
        native: None,
    },
];

/// Inference-profile prefixes Bedrock puts before a foundation-model id.
const PROFILE_PREFIXES: &[&str] = &["us.", "eu.", "apac.", "global.", "us-gov.", "jp.", "au.", "ca."];

/// The foundation-model id behind a model or inference-profile id (`us.mistral.x` → `mistral.x`).
pub fn base_id(id: &str) -> &str {
    PROFILE_PREFIXES.iter().find_map(|p| id.strip_prefix(p)).filter(|rest| rest.contains('.')).unwrap_or(id)
}

/// Looks a model or inference-profile id up in the catalog.
pub fn lookup(id: &str) -> Option<&'static Model> {
    let base = base_id(id);
    MODELS.iter().find(|m| m.id == base)
}

/// What we assume of a Mistral model the catalog does not know yet (a new release allowed by
/// configuration): the common denominator, so we never promise what Bedrock may refuse.
pub const UNKNOWN_CAPABILITIES: Capabilities = caps(true, true, false, false, false);

/// Looks a catalog model up by alias (`mistral-large`), another of its names
/// (`mistral-large-latest`, `mistral-large-2407`) or id.
pub fn by_name(name: &str) -> Option<&'static Model> {
    MODELS.iter().find(|m| m.alias == name || m.names.contains(&name)).or_else(|| lookup(name))
}

impl Model {
    /// Every name a caller may send for this model besides its id: the alias first.
    pub fn all_names(&self) -> impl Iterator<Item = &'static str> + use<> {
        std::iter::once(self.alias).chain(self.names.iter().copied())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inference_profiles_resolve_to_their_foundation_model() {
        assert_eq!(base_id("us.mistral.pixtral-large-2502-v1:0"), "mistral.pixtral-large-2502-v1:0");
        assert_eq!(base_id("mistral.mistral-small-2402-v1:0"), "mistral.mistral-small-2402-v1:0");
        assert_eq!(lookup("eu.mistral.pixtral-large-2502-v1:0").unwrap().alias, "pixtral-large");
        assert!(lookup("mistral.unknown").is_none());
    }

    #[test]
    fn seed_prices_match_the_published_table() {
        let p = |alias: &str| MODELS.iter().find(|m| m.alias == alias).unwrap().price.unwrap();
        assert_eq!(p("mistral-7b"), Price { input_per_million: 0.15, output_per_million: 0.20 });
        assert_eq!(p("mixtral-8x7b"), Price { input_per_million: 0.45, output_per_million: 0.70 });
        assert_eq!(p("mistral-small"), Price { input_per_million: 1.0, output_per_million: 3.0 });
        assert_eq!(p("mistral-large"), Price { input_per_million: 4.0, output_per_million: 12.0 });
    }

    #[test]
    fn the_current_family_has_published_prices() {
        let p = |alias: &str| MODELS.iter().find(|m| m.alias == alias).unwrap().price.unwrap();
        assert_eq!(p("mistral-large-3"), Price { input_per_million: 0.5, output_per_million: 1.5 });
        assert_eq!(p("magistral-small"), Price { input_per_million: 0.5, output_per_million: 1.5 });
        assert_eq!(p("ministral-3b"), Price { input_per_million: 0.1, output_per_million: 0.1 });
        assert_eq!(p("ministral-14b"), Price { input_per_million: 0.2, output_per_million: 0.2 });
        assert_eq!(p("pixtral-large"), Price { input_per_million: 2.0, output_per_million: 6.0 });
        assert_eq!(p("devstral-2"), Price { input_per_million: 0.4, output_per_million: 2.0 });
        assert!(MODELS.iter().all(|m| m.price.is_some()), "every catalog model has a price");
    }

    #[test]
    fn models_are_found_by_alias_or_id() {
        assert_eq!(by_name("ministral-3b").unwrap().id, "mistral.ministral-3-3b-instruct");
        assert_eq!(by_name("mistral-large-2407").unwrap().id, "mistral.mistral-large-2407-v1:0");
        assert_eq!(by_name("us.mistral.pixtral-large-2502-v1:0").unwrap().alias, "pixtral-large");
        assert!(by_name("gpt-4o").is_none());
    }

    #[test]
    fn ids_and_names_are_unique() {
        let mut names: Vec<&str> = MODELS.iter().flat_map(Model::all_names).collect();
        let count = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), count, "a name designates one model");
        for (i, a) in MODELS.iter().enumerate() {
            for b in &MODELS[i + 1..] {
                assert_ne!(a.id, b.id);
            }
        }
    }

    /// What Mistral's API serves under each `-latest` name, where Bedrock hosts it (the sources
    /// are cited at [`MODELS`]); the bare aliases keep their targets.
    #[test]
    fn latest_names_mean_what_mistrals_api_serves() {
        let id = |name: &str| by_name(name).map(|m| m.id);
        assert_eq!(id("mistral-large-latest"), Some("mistral.mistral-large-3-675b-instruct"));
        assert_eq!(id("mistral-large-2512"), Some("mistral.mistral-large-3-675b-instruct"));
        assert_eq!(id("ministral-3b-latest"), Some("mistral.ministral-3-3b-instruct"));
        assert_eq!(id("ministral-8b-latest"), Some("mistral.ministral-3-8b-instruct"));
        assert_eq!(id("ministral-14b-latest"), Some("mistral.ministral-3-14b-instruct"));
        assert_eq!(id("magistral-small-latest"), Some("mistral.magistral-small-2509"));
        assert_eq!(id("pixtral-large-latest"), Some("mistral.pixtral-large-2502-v1:0"));
        // Mistral Small 4 is not on Bedrock: the name is not lent to Small 24.02.
        assert_eq!(id("mistral-small-latest"), None);
        // Dated names pin the older models; bare aliases keep their targets.
        assert_eq!(id("mistral-large-2407"), Some("mistral.mistral-large-2407-v1:0"));
        assert_eq!(id("mistral-large"), Some("mistral.mistral-large-2407-v1:0"));
        assert_eq!(id("mistral-small"), Some("mistral.mistral-small-2402-v1:0"));
        assert_eq!(id("mistral-small-2402"), Some("mistral.mistral-small-2402-v1:0"));
        assert_eq!(id("mistral-large-2402-latest"), None);
    }
}
