//! `gateway-admin`: the operator's CLI over the keys table (KEYS_TABLE). It creates the table,
//! creates, changes, revokes and rotates keys, and reports spend, through `shared::keys`, the
//! same code the functions run. A key is printed once, when created or rotated, and never again.
//! It also uploads batch input files too large for the API to the batch bucket (BATCH_BUCKET),
//! through `shared::batch`.
//!
//! Exit codes: 0 done, 1 the command failed (one line on standard error), 2 a usage error.

mod cli;
mod commands;
mod files;
mod money;
mod spend;
mod text;
mod view;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    // A bug must still end in one line, never a stack trace.
    std::panic::set_hook(Box::new(|panic| {
        eprintln!("error: gateway-admin failed unexpectedly: {}", one_line(&panic.to_string()));
    }));
    let cli = cli::Cli::parse();
    match commands::run(cli).await {
        Ok(out) => {
            // A closed pipe (`| head`) is not a failure of the command.
            let _ = std::io::stdout().lock().write_all(out.as_bytes());
            ExitCode::SUCCESS
        }
        Err(failure) => {
            eprintln!("error: {}", one_line(&failure.to_string()));
            ExitCode::FAILURE
        }
    }
}

/// `text` on one line: an SDK's detail may carry line breaks.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
