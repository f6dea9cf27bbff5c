//! Server-side tool use: the tool registry, built-in and webhook tools, and the tool loop.
//!
//! A [`Toolbox`] is built once per cold start from the environment ([`settings`]): the
//! registry of tools with their compiled argument schemas, the limits of the loop, the HTTP
//! client for webhooks and callbacks, and the secrets. [`complete`] is the use case that the
//! HTTP route and the SQS/EventBridge triggers (`crate::triggers`) share: check the request
//! against the registry, run the loop, answer.

pub mod auth;
pub mod builtin;
pub mod registry;
pub mod request;
pub mod runs;
pub mod settings;
pub mod ssrf;
pub mod tool_loop;
pub mod webhook;

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use http::HeaderMap;
use serde_json::Value;

use crate::api::request::ChatRequest;
use crate::bedrock::Bedrock;
use crate::config::{Config, ConfigError, Env};
use crate::error::ApiError;
use crate::keys::Caller;

pub use registry::{Registry, RegistryError};
pub use runs::{LoopFinish, ToolRun, ToolStatus, ToolsCompletion};
pub use settings::ToolSettings;

/// A tool the model may call. Implementations must honour `deadline` where they can; the loop
/// also enforces it, dropping a call that runs past it.
pub trait Tool: Send + Sync + 'static {
    /// `[a-zA-Z0-9_-]{1,64}`, unique in the registry.
    fn name(&self) -> &str;
    fn description(&self) -> &str;
    /// JSON schema of the arguments (an object schema); arguments are validated against it
    /// before `call`.
    fn parameters(&self) -> Value;
    /// How long one call may take; `None` uses `TOOLS_TIMEOUT_MS`.
    fn timeout(&self) -> Option<Duration> {
        None
    }
    /// Runs the tool. The returned JSON becomes the `toolResult` the model reads.
    fn call<'a>(&'a self, invocation: Invocation<'a>) -> BoxFuture<'a, Result<Value, ToolError>>;
}

/// One call of a tool by the model.
#[derive(Debug, Clone, Copy)]
pub struct Invocation<'a> {
    /// Already validated against the tool's schema.
    pub arguments: &'a Value,
    /// Bedrock's `toolUseId`.
    pub call_id: &'a str,
    /// The chat-completion id of the request that runs the loop.
    pub request_id: &'a str,
    pub deadline: tokio::time::Instant,
}

/// Why a tool call produced no result. The message is what the model reads in the error
/// `toolResult`, so it says what to change where that is possible.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ToolError {
    #[error("there is no tool named `{name}`; the available tools are: {available}")]
    Unknown { name: String, available: String },
    #[error("{0}")]
    InvalidArguments(String),
    #[error("the tool did not answer within {} ms", .0.as_millis())]
    TimedOut(Duration),
    #[error("the tool failed: {0}")]
    Failed(String),
    #[error("the tool's reply is unusable: {0}")]
    BadReply(String),
    #[error("the tool's result is larger than {limit} bytes")]
    TooLarge { limit: usize },
    #[error("the tool's URL was refused: {0}")]
    Refused(String),
}

impl ToolError {
    /// A stable code for the trace (`tool_runs[].error_code`).
    pub fn code(&self) -> &'static str {
        match self {
            ToolError::Unknown { .. } => "unknown_tool",
            ToolError::InvalidArguments(_) => "invalid_arguments",
            ToolError::TimedOut(_) => "timeout",
            ToolError::Failed(_) => "failed",
            ToolError::BadReply(_) => "bad_reply",
            ToolError::TooLarge { .. } => "too_large",
            ToolError::Refused(_) => "refused",
        }
    }
}

/// Everything the tool loop needs, built once per cold start.
pub struct Toolbox {
    pub registry: Registry,
    pub settings: ToolSettings,
    /// The client for webhook tools and event callbacks (SSRF-guarded, no redirects).
    pub outbound: Arc<webhook::Outbound>,
}

impl std::fmt::Debug for Toolbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Toolbox")
            .field("tools", &self.registry.names().collect::<Vec<_>>())
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Toolbox {
    /// Settings, built-in and webhook tools from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::load(&Env::process())
    }

    /// The same from `env` (webhook secrets are looked up in it too).
    pub fn load(env: &Env) -> Result<Self, ConfigError> {
        let settings = ToolSettings::load(env)?;
        let outbound = Arc::new(
            webhook::Outbound::new(settings.addresses, settings.max_result_bytes)
                .map_err(|e| ConfigError { var: "TOOLS_WEBHOOKS", reason: e.to_string() })?,
        );
        let mut registry = Registry::default();
        for tool in builtin::enabled(env.get("TOOLS_BUILTIN").as_deref())? {
            registry.register(tool).map_err(|e| ConfigError { var: "TOOLS_BUILTIN", reason: e.to_string() })?;
        }
        let (var, specs) = webhook::specs_from(env)?;
        for tool in webhook::tools(var, specs, &settings, &outbound, env)? {
            registry.register(tool).map_err(|e| ConfigError { var, reason: e.to_string() })?;
        }
        Ok(Toolbox { registry, settings, outbound })
    }

    /// The built-in tools with default settings.
    pub fn builtin() -> Self {
        Self::load(&Env::empty()).expect("the default tool settings are valid")
    }

    /// Adds a tool defined in code (tests, or a deployment's own Rust tools).
    pub fn with_tool(mut self, tool: Arc<dyn Tool>) -> Result<Self, RegistryError> {
        self.registry.register(tool)?;
        Ok(self)
    }

    /// Verifies the incoming signature when `TOOLS_INBOUND_SECRET` is configured.
    pub fn authenticate(&self, headers: &HeaderMap, body: &[u8]) -> Result<(), ApiError> {
        let Some(secret) = &self.settings.inbound_secret else { return Ok(()) };
        auth::verify(secret, headers, body, auth::now()).map_err(|e| {
            tracing::info!(reason = %e, "tool request refused: bad signature");
            ApiError::Unauthorized(e.to_string())
        })
    }
}

/// The tool-loop use case: check a `/tools/v1` request against the registry (and the caller's
/// key, if any), run the loop.
pub async fn run_chat(
    config: &Config,
    bedrock: &dyn Bedrock,
    toolbox: &Toolbox,
    request: ChatRequest,
    caller: Option<&Caller>,
) -> Result<tool_loop::ToolsAnswer, ApiError> {
    let call = request::prepare(config, toolbox, request, caller)?;
    tool_loop::run(config, bedrock, toolbox, call).await
}
