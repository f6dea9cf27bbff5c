//! Test support for every test and bench of this crate, in one place: the settings every test
//! starts from ([`env`]), the dev server over the Bedrock emulator driven over real HTTP
//! ([`Harness`]), and the local servers and tools of the tool-loop tests ([`tools`]).

mod harness;
pub mod tools;

pub use harness::{Harness, Reply, chat, env};
