//! The tools a deployment offers, by name, each with its compiled argument schema.

use std::sync::Arc;

use super::Tool;
use crate::api::request::{FunctionDef, ToolDef};
use crate::convert::request::{MAX_TOOL_NAME, valid_tool_name};
use crate::schema::{ArgumentSchema, SchemaError};

/// Why a tool cannot be registered.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RegistryError {
    #[error("tool name `{0}` must be 1 to {MAX_TOOL_NAME} letters, digits, `_` or `-`")]
    BadName(String),
    #[error("tool `{0}` is defined twice")]
    Duplicate(String),
    #[error("tool `{name}`: {error}")]
    Schema { name: String, error: SchemaError },
}

/// A registered tool: the implementation and its validator.
pub struct Entry {
    pub tool: Arc<dyn Tool>,
    /// Shared, so routing checks can validate calls against it without recompiling.
    pub schema: Arc<ArgumentSchema>,
}

impl Entry {
    pub fn name(&self) -> &str {
        self.tool.name()
    }

    /// The chat-completions definition sent to the model: the registry's, whatever the caller
    /// sent, since the server runs the tool.
    pub fn definition(&self) -> ToolDef {
        ToolDef {
            kind: "function".into(),
            function: FunctionDef {
                name: self.tool.name().to_owned(),
                description: Some(self.tool.description().to_owned()),
                parameters: Some(self.schema.schema().clone()),
                strict: None,
            },
        }
    }
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry").field("name", &self.name()).finish_non_exhaustive()
    }
}

/// Tools in registration order (the order the model sees them in).
#[derive(Default)]
pub struct Registry {
    entries: Vec<Entry>,
}

impl Registry {
    /// Adds `tool`, compiling its schema; refuses invalid or duplicate names and bad schemas.
    pub fn register(&mut self, tool: Arc<dyn Tool>) -> Result<(), RegistryError> {
        let name = tool.name();
        if !valid_tool_name(name) {
            return Err(RegistryError::BadName(name.to_owned()));
        }
        if self.get(name).is_some() {
            return Err(RegistryError::Duplicate(name.to_owned()));
        }
        let schema = ArgumentSchema::compile(Some(&tool.parameters()))
            .map_err(|error| RegistryError::Schema { name: name.to_owned(), error })?;
        self.entries.push(Entry { tool, schema: Arc::new(schema) });
        Ok(())
    }

    pub fn get(&self, name: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.name() == name)
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(Entry::name)
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}
