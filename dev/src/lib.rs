//! Local development support: the Bedrock Runtime emulator that tests and the dev server talk to
//! instead of AWS.

pub mod batch;
pub mod callbacks;
pub mod emulator;
pub mod s3;
pub mod server;
