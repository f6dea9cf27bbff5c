//! What every function builds once per cold start and shares across invocations.

use std::sync::Arc;

use crate::bedrock::{Bedrock, SdkBedrock};
use crate::config::{Config, ConfigError};

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub bedrock: Arc<dyn Bedrock>,
}

impl AppState {
    pub fn new(config: Config, bedrock: Arc<dyn Bedrock>) -> Self {
        AppState { config: Arc::new(config), bedrock }
    }

    /// Configuration from the environment and the SDK client, as a Lambda cold start does it.
    pub async fn from_env() -> Result<Self, ConfigError> {
        let config = Config::from_env()?;
        let bedrock = SdkBedrock::from_env(&config).await.into_shared();
        Ok(Self::new(config, bedrock))
    }
}
