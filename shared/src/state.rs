//! What every function builds once per cold start and shares across invocations.

use std::sync::Arc;

use crate::bedrock::{Bedrock, SdkBedrock};
use crate::config::{Config, ConfigError};
use crate::tools::Toolbox;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub bedrock: Arc<dyn Bedrock>,
    /// The tool registry, loop settings and webhook client: only the `tools` function (and the
    /// dev server) builds one, so the other functions neither read `TOOLS_*` nor pay for an
    /// HTTP client at cold start.
    pub tools: Option<Arc<Toolbox>>,
}

impl AppState {
    /// Without tools: the converse and stream functions.
    pub fn new(config: Config, bedrock: Arc<dyn Bedrock>) -> Self {
        AppState { config: Arc::new(config), bedrock, tools: None }
    }

    pub fn with_tools(config: Config, bedrock: Arc<dyn Bedrock>, tools: Toolbox) -> Self {
        AppState { config: Arc::new(config), bedrock, tools: Some(Arc::new(tools)) }
    }

    /// Configuration from the environment and the SDK client, as a Lambda cold start does it.
    pub async fn from_env() -> Result<Self, ConfigError> {
        let config = Config::from_env()?;
        let bedrock = SdkBedrock::from_env(&config).await.into_shared();
        Ok(Self::new(config, bedrock))
    }

    /// The same plus the tool registry from `TOOLS_*` (the `tools` function): a bad tool setting
    /// fails the cold start too.
    pub async fn from_env_with_tools() -> Result<Self, ConfigError> {
        let config = Config::from_env()?;
        let tools = Toolbox::from_env()?;
        let bedrock = SdkBedrock::from_env(&config).await.into_shared();
        Ok(Self::with_tools(config, bedrock, tools))
    }
}
