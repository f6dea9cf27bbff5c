//! What every function builds once per cold start and shares across invocations.

use std::sync::Arc;

use crate::bedrock::{Bedrock, SdkBedrock};
use crate::config::{Config, ConfigError};
use crate::tools::Toolbox;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub bedrock: Arc<dyn Bedrock>,
    /// The tool registry and loop settings (used by the `tools` function).
    pub tools: Arc<Toolbox>,
}

impl AppState {
    /// With the built-in tools and default tool settings.
    pub fn new(config: Config, bedrock: Arc<dyn Bedrock>) -> Self {
        Self::with_tools(config, bedrock, Toolbox::builtin())
    }

    pub fn with_tools(config: Config, bedrock: Arc<dyn Bedrock>, tools: Toolbox) -> Self {
        AppState { config: Arc::new(config), bedrock, tools: Arc::new(tools) }
    }

    /// Configuration from the environment and the SDK client, as a Lambda cold start does it.
    /// Tool settings (`TOOLS_*`) are validated here too, so a bad one fails the cold start.
    pub async fn from_env() -> Result<Self, ConfigError> {
        let config = Config::from_env()?;
        let tools = Toolbox::from_env()?;
        let bedrock = SdkBedrock::from_env(&config).await.into_shared();
        Ok(Self::with_tools(config, bedrock, tools))
    }
}
