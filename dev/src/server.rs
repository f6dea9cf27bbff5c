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

use crate::emulator::Emulator;
use crate::s3::S3Server;
use crate::{batch, callbacks};

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
    /// The batch bucket's S3 server, when batch runs locally.
    s3: Option<S3Server>,
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

    pub fn s3(&self) -> Option<&S3Server> {
        self.s3.as_ref()
    }

    /// Keeps `s3` running as long as the server.
    pub fn with_s3(mut self, s3: S3Server) -> Self {
        self.s3 = Some(s3);
        self
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
    s3_port: u16,
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
    // Batch: with the emulator, a local S3 server and the emulator's control plane (the
    // environment's BATCH_* settings if any, else local ones); with real Bedrock, BATCH_BUCKET's.
    let mut config = config;
    let (s3, batches) = match (&emulator, config.batch.clone()) {
        (Some(emulator), settings) => {
            let settings = settings.unwrap_or_else(batch::local_settings);
            config.batch = Some(settings.clone());
            let (s3, batches) = batch::start(emulator, settings, s3_port).await?;
            (Some(s3), Some(batches))
        }
        (None, Some(settings)) => (None, Some(shared::batch::Batches::from_env(settings).await)),
        (None, None) => (None, None),
    };
    let mut app = AppState::new(config, bedrock.into_shared());
    if let Some(table) = table {
        app = app.with_keys(table);
    }
    if let Some(batches) = batches {
        app = app.with_batch(batches);
    }
    if let Some(emulator) = &emulator {
        batch::deliver_events(emulator, app.clone());
    }
    let server = serve(addr, ToolsState::new(app, tools), emulator).await?;
    Ok(match s3 {
        Some(s3) => server.with_s3(s3),
        None => server,
    })
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
    Ok(DevServer { addr, emulator, s3: None, _shutdown: shutdown })
}
