//! The tools a deployment offers, by name, each with its compiled argument schema.

use std::sync::Arc;

use serde_json::{Value, json};

use super::Tool;
use super::schema::ArgumentSchema;

/// Bedrock's tool-name rule: `[a-zA-Z0-9_-]{1,64}`.
const MAX_NAME: usize = 64;

/// A registered tool: the implementation and its validator.
pub struct Entry {
    pub tool: Arc<dyn Tool>,
    pub schema: ArgumentSchema,
}

impl Entry {
    pub fn name(&self) -> &str {
        self.tool.name()
    }

    /// The chat-completions definition (`{"type": "function", "function": {...}}`) sent to
    /// the model.
    pub fn definition(&self) -> Value {
        json!({
            "type": "function",
            "function": {
                "name": self.tool.name(),
                "description": self.tool.description(),
                "parameters": self.schema.schema(),
            }
        })
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
    pub fn register(&mut self, tool: Arc<dyn Tool>) -> Result<(), String> {
        let name = tool.name();
        if !(1..=MAX_NAME).contains(&name.len())
            || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err(format!("tool name `{name}` must be 1 to {MAX_NAME} letters, digits, `_` or `-`"));
        }
        if self.get(name).is_some() {
            return Err(format!("tool `{name}` is defined twice"));
        }
        let schema = ArgumentSchema::compile(Some(&tool.parameters())).map_err(|e| format!("tool `{name}`: {e}"))?;
        self.entries.push(Entry { tool, schema });
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
