//! Local HTTP servers of the tests: any axum router on loopback, counting the connections it
//! accepts, and the stream function's routes over an emulator, as a caller reaches them minus
//! Lambda.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::serve::ListenerExt;
use tokio::net::TcpListener;

use crate::app_state;

/// A router served on loopback until the test's runtime ends.
pub struct Served {
    pub addr: SocketAddr,
    /// TCP connections accepted so far.
    pub connections: Arc<AtomicUsize>,
}

impl Served {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

/// Serves `router` on 127.0.0.1:0, with NODELAY as the dev server does.
pub async fn serve(router: Router) -> Served {
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let connections = Arc::new(AtomicUsize::new(0));
    let counter = connections.clone();
    let listener = listener.tap_io(move |tcp| {
        let _ = tcp.set_nodelay(true);
        counter.fetch_add(1, Ordering::SeqCst);
    });
    tokio::spawn(async move { axum::serve(listener, router).await.expect("test server") });
    Served { addr, connections }
}

/// The stream function's routes over the Bedrock at `bedrock_url`, in the test configuration; returns their base URL.
pub async fn serve_stream_routes(bedrock_url: &str) -> String {
    serve(shared::routes::stream_router(app_state(bedrock_url))).await.url()
}
