//! Server-side tool use: the tool registry, built-in and webhook tools, and the tool loop.
