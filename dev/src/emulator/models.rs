//! Which model a call names: Mistral model ids, inference profiles and ARNs as Bedrock accepts
//! them, application inference profiles registered by the test, and what the catalog says about
//! the foundation model behind them (tier, reasoning, structured output, native body), which the
//! script and the checks act on.

use std::collections::HashMap;
use std::sync::Mutex;

use shared::catalog::{self, NativeBody, Tier};

use super::faults::BedrockError;

/// What the real service answers for an identifier it does not know (see the fixture
/// `test_bedrock_error.yaml`).
pub const INVALID_MODEL_ID: &str = "The provided model identifier is invalid.";

/// Accepts Mistral model and inference-profile IDs (`mistral.mistral-large-2402-v1:0`,
/// `us.mistral.pixtral-large-2502-v1:0`) and ARNs ending in one; returns the bare ID.
pub fn model_id(raw: &str) -> Result<&str, BedrockError> {
    let id = strip_arn(raw);
    if is_mistral_id(id) { Ok(id) } else { Err(BedrockError::validation(INVALID_MODEL_ID)) }
}

/// `^(?:(us|eu|apac|global)\.)?mistral\.[a-z0-9.\-]+(:\d+)?$`
fn is_mistral_id(id: &str) -> bool {
    let id = ["us.", "eu.", "apac.", "global."].iter().find_map(|prefix| id.strip_prefix(prefix)).unwrap_or(id);
    let Some(rest) = id.strip_prefix("mistral.") else {
        return false;
    };
    let name = match rest.split_once(':') {
        Some((name, version)) => {
            if version.is_empty() || !version.bytes().all(|b| b.is_ascii_digit()) {
                return false;
            }
            name
        }
        None => rest,
    };
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
}

/// Mistral Large (24.02) takes both native bodies: AWS documents it on the chat-completion page
/// and on the text-completion page, while the catalog names one body per model.
const BOTH_NATIVE_BODIES: &str = "mistral.mistral-large-2402-v1:0";

/// What the scripted model needs to know about the model a call names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelTraits {
    /// The foundation-model id behind the path's id: profile prefixes, ARNs and registered
    /// application inference profiles resolved.
    pub foundation_id: String,
    /// The catalog tier is below `Large`; models the catalog does not know count as below.
    pub below_large: bool,
    /// The catalog says the model reasons before it answers.
    pub reasoning: bool,
    /// Converse takes `outputConfig` (native JSON-schema output): the catalog's
    /// `capabilities.json_schema`, or for a model it does not know what the gateway assumes of
    /// one (`catalog::UNKNOWN_CAPABILITIES`).
    pub structured_output: bool,
    /// InvokeModel takes `{"messages": ...}`.
    pub chat_body: bool,
    /// InvokeModel takes `{"prompt": ...}`.
    pub text_body: bool,
}

impl ModelTraits {
    /// The traits of a foundation-model id (or an id that resolves to one).
    pub fn of(id: &str) -> ModelTraits {
        let foundation_id = catalog::base_id(id).to_owned();
        let model = catalog::lookup(&foundation_id);
        let native = model.and_then(|m| m.native);
        let both = foundation_id == BOTH_NATIVE_BODIES;
        ModelTraits {
            below_large: model.is_none_or(|m| m.tier < Tier::Large),
            reasoning: model.is_some_and(|m| m.capabilities.reasoning),
            structured_output: model.map_or(catalog::UNKNOWN_CAPABILITIES, |m| m.capabilities).json_schema,
            chat_body: both || native != Some(NativeBody::Text),
            text_body: both || native == Some(NativeBody::Text),
            foundation_id,
        }
    }

    /// True when `spec` (an alias such as `mistral-small`, a model or profile id, or an ARN)
    /// names this model's foundation model.
    pub fn is_named_by(&self, spec: &str) -> bool {
        let named = match catalog::by_name(spec) {
            Some(model) => model.id.to_owned(),
            None => catalog::base_id(strip_arn(spec)).to_owned(),
        };
        named == self.foundation_id
    }
}

fn strip_arn(raw: &str) -> &str {
    if raw.starts_with("arn:") { raw.rsplit_once('/').map_or("", |(_, id)| id) } else { raw }
}

fn is_application_profile(raw: &str) -> bool {
    raw.starts_with("arn:") && raw.contains(":application-inference-profile/")
}

/// Application inference profiles a test registered: ARN → the model id it stands for.
#[derive(Debug, Default)]
pub struct Profiles {
    targets: Mutex<HashMap<String, String>>,
}

impl Profiles {
    pub fn register(&self, arn: &str, model_id: &str) {
        self.targets.lock().unwrap_or_else(|poison| poison.into_inner()).insert(arn.to_owned(), model_id.to_owned());
    }

    fn target(&self, arn: &str) -> Option<String> {
        self.targets.lock().unwrap_or_else(|poison| poison.into_inner()).get(arn).cloned()
    }
}

/// Resolves the model id of a call's path: a registered application inference profile stands
/// for its model; anything else must pass [`model_id`].
pub fn resolve(raw: &str, profiles: &Profiles) -> Result<ModelTraits, BedrockError> {
    if is_application_profile(raw) {
        let target = profiles.target(raw).ok_or_else(|| BedrockError::validation(INVALID_MODEL_ID))?;
        if is_application_profile(&target) {
            return Err(BedrockError::validation(INVALID_MODEL_ID));
        }
        return Ok(ModelTraits::of(model_id(&target)?));
    }
    Ok(ModelTraits::of(model_id(raw)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_mistral_ids_profiles_and_arns() {
        for id in [
            "mistral.mistral-large-2402-v1:0",
            "us.mistral.pixtral-large-2502-v1:0",
            "mistral.mistral-large-3-675b-instruct",
            "global.mistral.x",
        ] {
            assert_eq!(model_id(id), Ok(id), "{id}");
        }
        assert_eq!(
            model_id("arn:aws:bedrock:us-east-1:123456789012:inference-profile/eu.mistral.pixtral-large-2502-v1:0"),
            Ok("eu.mistral.pixtral-large-2502-v1:0")
        );
    }

    #[test]
    fn rejects_other_ids() {
        for id in [
            "us.does-not-exist-model-v1:0",
            "anthropic.claude-v2",
            "mistral.",
            "mistral.Large",
            "mistral.large:",
            "xx.mistral.large",
            "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-micro-v1:0",
        ] {
            assert_eq!(model_id(id).unwrap_err().message, INVALID_MODEL_ID, "{id}");
        }
    }

    #[test]
    fn traits_come_from_the_catalog_behind_profiles() {
        let small = ModelTraits::of("us.mistral.ministral-3-8b-instruct");
        assert_eq!(small.foundation_id, "mistral.ministral-3-8b-instruct");
        assert!(small.below_large && !small.reasoning && small.chat_body && !small.text_body);
        assert!(small.structured_output);
        let magistral = ModelTraits::of("mistral.magistral-small-2509");
        assert!(magistral.reasoning && magistral.below_large);
        let mixtral = ModelTraits::of("mistral.mixtral-8x7b-instruct-v0:1");
        assert!(!mixtral.chat_body && mixtral.text_body);
        let large_2402 = ModelTraits::of("mistral.mistral-large-2402-v1:0");
        assert!(!large_2402.below_large && large_2402.chat_body && large_2402.text_body);
        assert!(!ModelTraits::of("eu.mistral.mistral-large-2407-v1:0").structured_output);
        let unknown = ModelTraits::of("mistral.brand-new-model-v1:0");
        assert!(unknown.below_large && unknown.chat_body && !unknown.text_body && !unknown.structured_output);
    }

    #[test]
    fn models_are_named_by_alias_id_profile_or_arn() {
        let large = ModelTraits::of("us.mistral.mistral-large-2407-v1:0");
        for spec in [
            "mistral-large",
            "mistral.mistral-large-2407-v1:0",
            "eu.mistral.mistral-large-2407-v1:0",
            "arn:aws:bedrock:us-east-1::foundation-model/mistral.mistral-large-2407-v1:0",
        ] {
            assert!(large.is_named_by(spec), "{spec}");
        }
        assert!(!large.is_named_by("mistral-small"));
        assert!(!large.is_named_by("mistral-large-3"));
    }

    #[test]
    fn application_profiles_resolve_only_once_registered() {
        let arn = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3d4e5";
        let profiles = Profiles::default();
        assert_eq!(resolve(arn, &profiles).unwrap_err().message, INVALID_MODEL_ID);
        profiles.register(arn, "us.mistral.magistral-small-2509");
        let traits = resolve(arn, &profiles).unwrap();
        assert_eq!(traits.foundation_id, "mistral.magistral-small-2509");
        assert!(traits.reasoning && traits.structured_output);
    }
}
