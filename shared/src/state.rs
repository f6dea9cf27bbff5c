//! What every function builds once per cold start and shares across invocations.
//!
//! The converse and stream functions serve an [`AppState`]; the tools function a [`ToolsState`],
//! which always has its toolbox: a router that serves tools cannot be built without one.

use std::sync::Arc;

use crate::batch::Batches;
use crate::bedrock::{Bedrock, SdkBedrock};
use crate::config::{Config, ConfigError, Env};
use crate::keys::{Keys, KeysTable};
use crate::tools::Toolbox;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub bedrock: Arc<dyn Bedrock>,
    /// Bearer keys, budgets and limits, when `KEYS_TABLE` is set: then every route needs a key.
    pub keys: Option<Arc<Keys>>,
    /// The batch bucket and Bedrock's batch control plane, when `BATCH_BUCKET` is set (the batch
    /// functions only: the others never make these clients).
    pub batch: Option<Arc<Batches>>,
}

impl AppState {
    pub fn new(config: Config, bedrock: Arc<dyn Bedrock>) -> Self {
        AppState { config: Arc::new(config), bedrock, keys: None, batch: None }
    }

    /// The same with keys over `table` (the settings are the configuration's `KEYS_*`).
    pub fn with_keys(mut self, table: KeysTable) -> Self {
        self.keys = self.config.keys.clone().map(|settings| Arc::new(Keys::new(table, settings)));
        self
    }

    /// The same with batch over `batches` (after [`AppState::with_keys`]: batches are charged
    /// to this state's keys).
    pub fn with_batch(mut self, mut batches: Batches) -> Self {
        batches.keys = self.keys.clone();
        self.batch = Some(Arc::new(batches));
        self
    }

    /// Configuration from the environment and the SDK clients, as a Lambda cold start does it.
    pub async fn from_env() -> Result<Self, ConfigError> {
        let config = Config::load(&Env::process())?;
        let bedrock = SdkBedrock::from_env(&config).await.into_shared();
        let table = match &config.keys {
            Some(settings) => Some(KeysTable::from_env(settings.table.clone()).await),
            None => None,
        };
        let batches = match &config.batch {
            Some(settings) => Some(Batches::from_env(settings.clone()).await),
            None => None,
        };
        let mut state = Self::new(config, bedrock);
        if let Some(table) = table {
            state = state.with_keys(table);
        }
        if let Some(batches) = batches {
            state = state.with_batch(batches);
        }
        Ok(state)
    }
}

/// The tools function's state: the chat state plus the tool registry, loop settings and webhook
/// client, which only this function reads (`TOOLS_*`) and pays for at cold start.
#[derive(Clone)]
pub struct ToolsState {
    pub app: AppState,
    pub toolbox: Arc<Toolbox>,
}

impl ToolsState {
    pub fn new(app: AppState, toolbox: Toolbox) -> Self {
        ToolsState { app, toolbox: Arc::new(toolbox) }
    }

    /// The same plus the tool registry from `TOOLS_*`: a bad tool setting fails the cold start too.
    pub async fn from_env() -> Result<Self, ConfigError> {
        let toolbox = Toolbox::load(&Env::process())?;
        Ok(Self::new(AppState::from_env().await?, toolbox))
    }
}
