//! The local dev server: every function's routes on one port, as API Gateway routes them,
//! backed by the built-in Bedrock emulator (default) or by real Bedrock.

use std::net::SocketAddr;

use axum::serve::ListenerExt;
use shared::bedrock::SdkBedrock;
use shared::keys::KeysTable;
use shared::tools::Toolbox;
use shared::{AppState, Config, ToolsState};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::callbacks;
use crate::emulator::Emulator;

/// Where Bedrock calls go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The in-process emulator: no AWS account needed.
    Emulator,
    /// Real Bedrock, with the usual AWS credentials, region and endpoint settings.
    Aws,
}

impl Backend {
    /// `BEDROCK_BACKEND=emulator|aws`, default `emulator`.
    pub fn from_env() -> Result<Self, String> {
        match std::env::var("BEDROCK_BACKEND").as_deref().map(str::trim) {
            Err(_) | Ok("") | Ok("emulator") => Ok(Backend::Emulator),
            Ok("aws") => Ok(Backend::Aws),
            Ok(other) => Err(format!("BEDROCK_BACKEND: `{other}` is neither `emulator` nor `aws`")),
        }
    }
}

/// A running dev server; dropping it stops the server and its emulator.
pub struct DevServer {
    addr: SocketAddr,
    emulator: Option<Emulator>,
    _shutdown: oneshot::Sender<()>,
}

impl DevServer {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn emulator(&self) -> Option<&Emulator> {
        self.emulator.as_ref()
    }
}

/// Binds `addr` and serves all routes; returns once connections are accepted. The emulator
/// listens on `emulator_port` when it is free (so `cargo lambda watch` can be pointed at it),
/// else on any free port.
pub async fn start(
    addr: SocketAddr,
    backend: Backend,
    config: Config,
    tools: Toolbox,
    emulator_port: u16,
) -> std::io::Result<DevServer> {
    let (emulator, bedrock) = match backend {
        Backend::Emulator => {
            let fixed = SocketAddr::from(([127, 0, 0, 1], emulator_port));
            let emulator = match Emulator::start_on(fixed).await {
                Ok(emulator) => emulator,
                Err(_) => Emulator::start().await?,
            };
            let bedrock = SdkBedrock::for_endpoint(&emulator.url(), &config);
            (Some(emulator), bedrock)
        }
        Backend::Aws => (None, SdkBedrock::from_env(&config).await),
    };
    // With KEYS_TABLE, keys live in that DynamoDB table (AWS_ENDPOINT_URL_DYNAMODB for a local one).
    let table = match &config.keys {
        Some(settings) => {
            let table = KeysTable::from_env(settings.table.clone()).await;
            // A local DynamoDB (dev/keys.env) starts empty: give it the table, as `gateway-admin
            // init` would. A real table is the template's, and is left alone.
            if std::env::var_os("AWS_ENDPOINT_URL_DYNAMODB").is_some() {
                table.create().await.map_err(std::io::Error::other)?;
            }
            Some(table)
        }
        None => None,
    };
    let mut app = AppState::new(config, bedrock.into_shared());
    if let Some(table) = table {
        app = app.with_keys(table);
    }
    serve(addr, ToolsState::new(app, tools), emulator).await
}

/// Serves all routes over `state` (tests pass their own state).
pub async fn serve(addr: SocketAddr, state: ToolsState, emulator: Option<Emulator>) -> std::io::Result<DevServer> {
    if let Some(emulator) = &emulator {
        // The emulator cannot know which model an application inference profile stands for:
        // the configuration says it (`ARN#model`), so it is told the same.
        for model in &state.app.config.models {
            if let Some(entry) = model.catalog.filter(|_| model.id.contains(":application-inference-profile/")) {
                emulator.register_profile(&model.id, entry.id);
            }
        }
    }
    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let (shutdown, stopped) = oneshot::channel::<()>();
    // Streamed events are small writes: without NODELAY they wait on delayed ACKs.
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let app = shared::routes::all_routes(state).merge(callbacks::routes(callbacks::Received::default()));
    tokio::spawn(async move {
        let served = axum::serve(listener, app).with_graceful_shutdown(async {
            let _ = stopped.await;
        });
        if let Err(e) = served.await {
            tracing::error!(error = %e, "dev server stopped");
        }
    });
    Ok(DevServer { addr, emulator, _shutdown: shutdown })
}
