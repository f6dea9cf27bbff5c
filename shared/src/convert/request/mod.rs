//! Chat-completions request → the request each model is called with, in two steps.
//!
//! [`Conversation::from_chat`] checks and converts what is the same for every model (messages,
//! sampling, tool specs, the requested format) once. [`Conversation::finish`] makes one model's
//! request from it: the operation (Converse, or InvokeModel with the model's native body), the
//! output config or the JSON instruction, the tool choice its operation can express. Every
//! model call of every route is made by `finish`, so a fallback or a stronger tier never
//! inherits another model's body. [`Conversation::fit`] is `finish`'s refusals without the
//! building: what the router asks before it puts a model on a request's ladder.
//!
//! Everything Bedrock would reject, and everything the chosen model cannot do, is refused with a
//! 400 that names the field, before any Bedrock call: the caller learns what to change, and a
//! bad request costs no tokens. Nothing a caller sends is silently dropped. One file per part of
//! the request: [`params`], [`tools`], [`messages`], [`output_format`].

mod messages;
mod output_format;
mod params;
mod tools;

use aws_sdk_bedrockruntime::types::{InferenceConfiguration, Message, SystemContentBlock};

use crate::api::request::{ChatRequest, ResponseFormat};
use crate::bedrock::ModelRequest;
use crate::config::{AllowedModel, Config};
use crate::error::ApiError;

pub use messages::parse_arguments;
pub use output_format::{OUTPUT_TOOL_DESCRIPTION, OUTPUT_TOOL_NAME};
pub use tools::{Choice as ToolChoice, MAX_TOOL_NAME, ToolSet, valid_tool_name};

use output_format::Output;
use tools::ToolMode;

/// Instruction used for `json_object` on models without native structured output (the emulator
/// recognises it as a JSON request).
pub const JSON_OBJECT_INSTRUCTION: &str = "Reply with a single valid JSON object and nothing else.";

/// The model-independent request: checked once, finished for each model that is called.
#[derive(Debug, Clone)]
pub struct Conversation {
    /// Alternating Converse turns; the tool loop appends its own.
    pub messages: Vec<Message>,
    pub system: Vec<SystemContentBlock>,
    pub inference: InferenceConfiguration,
    pub tools: Option<ToolSet>,
    pub response_format: Option<ResponseFormat>,
    /// The conversation holds tool calls or results (then every model must be given the tools).
    pub has_tool_blocks: bool,
    /// Where the first system message is; models without a system prompt are refused.
    system_at: Option<String>,
    /// Where the first image is; models without vision are refused.
    image_at: Option<String>,
    /// The caller asked for a reasoning budget, which no Mistral model on Bedrock takes.
    reasoning_budget: bool,
}

impl Conversation {
    /// Checks and converts everything of `req` that does not depend on the model.
    pub fn from_chat(req: &ChatRequest, config: &Config) -> Result<Self, ApiError> {
        params::refuse_unsupported_fields(req)?;
        let inference = params::inference_config(req, config)?;
        let tools = tools::tool_set(req.tools.as_deref(), req.tool_choice.as_ref())?;
        let messages::Turns { system, messages, has_tool_blocks, system_at, image_at } =
            messages::turns(&req.messages, config)?;
        output_format::check(req.response_format.as_ref())?;
        Ok(Conversation {
            messages,
            system,
            inference,
            tools,
            response_format: req.response_format.clone(),
            has_tool_blocks,
            system_at,
            image_at,
            reasoning_budget: params::asks_reasoning_budget(req),
        })
    }

    /// A conversation of `messages` alone (the gateway's own calls, such as triage).
    pub fn of_messages(messages: Vec<Message>) -> Self {
        Conversation {
            messages,
            system: Vec::new(),
            inference: InferenceConfiguration::builder().build(),
            tools: None,
            response_format: None,
            has_tool_blocks: false,
            system_at: None,
            image_at: None,
            reasoning_budget: false,
        }
    }

    /// Whether `model` can take this request; the error says why not, naming the field.
    pub fn fit(&self, model: &AllowedModel) -> Result<(), ApiError> {
        self.decide(model).map(drop)
    }

    /// The request `model` is called with.
    pub fn finish(&self, model: &AllowedModel) -> Result<ModelRequest, ApiError> {
        let Decisions { tools, output } = self.decide(model)?;
        let mut system = self.system.clone();
        let output_config = match &output {
            Output::Plain => None,
            Output::Native(config) => Some(config.clone()),
            Output::Instruction => {
                system.push(SystemContentBlock::Text(JSON_OBJECT_INSTRUCTION.into()));
                None
            }
            Output::Tool(_) => None,
        };
        let (tool_config, output_tool) = match (output, &self.tools, tools) {
            (Output::Tool(tool), set, mode) => {
                let set = tools::with_output_tool(set.as_ref().filter(|_| mode == ToolMode::Send), tool.spec);
                (Some(tools::tool_configuration(&set)?), Some(tool.name))
            }
            (_, Some(set), ToolMode::Send | ToolMode::SendNone) => (Some(tools::tool_configuration(set)?), None),
            _ => (None, None),
        };
        Ok(ModelRequest {
            model_id: model.id.clone(),
            messages: self.messages.clone(),
            system,
            inference: self.inference.clone(),
            tool_config,
            output_config,
            native: model.native,
            tool_choice_none: tools == ToolMode::SendNone && output_tool.is_none(),
            output_tool,
        })
    }

    /// A forced tool choice (`any`, a named tool) applies to the first turn only: kept, it would
    /// make the model call tools forever.
    pub fn relax_tool_choice(&mut self) {
        if let Some(set) = &mut self.tools
            && matches!(set.choice, ToolChoice::Any | ToolChoice::Named(_))
        {
            set.choice = ToolChoice::Auto;
        }
    }

    /// Every refusal of `finish`, in the order a caller fixes them.
    fn decide(&self, model: &AllowedModel) -> Result<Decisions, ApiError> {
        params::refuse_reasoning_budget(self.reasoning_budget, model)?;
        params::refuse_stop_sequences(&self.inference, model)?;
        if let Some(at) = &self.system_at
            && !model.capabilities.system_prompt
        {
            return Err(ApiError::unsupported(
                at.clone(),
                format!(
                    "{} does not accept system prompts on Bedrock; put the instructions in the first user message or choose another model",
                    model.id
                ),
            ));
        }
        if let Some(at) = &self.image_at
            && !model.capabilities.images
        {
            return Err(ApiError::unsupported(
                at.clone(),
                format!("{} does not accept images on Bedrock; use a vision model such as Pixtral Large", model.id),
            ));
        }
        let tools = ToolMode::for_model(self.tools.as_ref(), self.has_tool_blocks, model)?;
        let taken = |name: &str| self.tools.as_ref().is_some_and(|set| set.names().any(|n| n == name));
        let output = output_format::output_for(self.response_format.as_ref(), model, taken)?;
        Ok(Decisions { tools, output })
    }
}

/// What `finish` decided for one model.
struct Decisions {
    tools: ToolMode,
    output: Output,
}

/// A request ready for Bedrock, plus what the route needs to know about it.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub request: ModelRequest,
    pub stream: bool,
}

/// Checks `req` and makes `model`'s request from it: [`Conversation::from_chat`], then
/// [`Conversation::finish`].
pub fn prepare(req: &ChatRequest, model: &AllowedModel, config: &Config) -> Result<Prepared, ApiError> {
    let request = Conversation::from_chat(req, config)?.finish(model)?;
    Ok(Prepared { request, stream: req.stream.unwrap_or(false) })
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::Internal(format!("could not build the Bedrock request: {e}"))
}
