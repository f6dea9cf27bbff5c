//! `bedrock-emulator`: the Bedrock Runtime emulator as a process, for the dev server, SDK
//! experiments and other languages' clients. Listens on 127.0.0.1:$PORT (default 4010).
//! Batch jobs read and write S3 at `AWS_ENDPOINT_URL_S3` and POST their state-change events to
//! `EMULATOR_JOB_EVENTS_URL`; `EMULATOR_BATCH_STEP_MS`, `EMULATOR_BATCH_MIN_RECORDS` and
//! `EMULATOR_BATCH_MODELS` tune them (see the emulator's module doc).

use std::net::{Ipv4Addr, SocketAddr};

use dev::emulator::Emulator;

const DEFAULT_PORT: u16 = 4010;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port = match std::env::var("PORT") {
        Ok(value) => {
            value.parse::<u16>().map_err(|error| format!("PORT must be a TCP port number, got {value:?}: {error}"))?
        }
        Err(_) => DEFAULT_PORT,
    };
    let emulator = Emulator::start_on(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
        .await
        .map_err(|error| format!("cannot start on 127.0.0.1:{port}: {error}"))?;
    println!("bedrock-emulator listening on {}", emulator.url());
    std::future::pending::<()>().await;
    Ok(())
}
