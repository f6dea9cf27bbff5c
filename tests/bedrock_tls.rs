//! The Bedrock client's TLS trust store, through the real SDK over real TLS (a TLS front on
//! loopback whose certificate comes from a test-only authority, relaying to the emulator).
//!
//! With Amazon's roots alone, what the functions trust inside Lambda, the SDK refuses that
//! server during the handshake, before any request is sent; trusting the test authority instead,
//! the same server answers the same call. So the store is in force, and it is the only thing
//! that differs.
//!
//! `fixtures/tls/` holds a throwaway authority's certificate (its key was discarded when it had
//! signed) and a `localhost` certificate with its key: test-only, trusted by nothing else.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use aws_sdk_bedrockruntime::Client;
use aws_sdk_bedrockruntime::config::retry::RetryConfig;
use aws_sdk_bedrockruntime::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_bedrockruntime::error::SdkError;
use aws_sdk_bedrockruntime::types::{ContentBlock, ConversationRole, Message};
use dev::emulator::Emulator;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use shared::bedrock::sdk::trust::{AMAZON_ROOTS, https_client_trusting};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::crypto::aws_lc_rs;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/tls");

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}/{name}")).unwrap_or_else(|e| panic!("{FIXTURES}/{name}: {e}"))
}

/// A TLS front for `upstream` on 127.0.0.1:0 with the test authority's `localhost` certificate;
/// counts the connections whose handshake succeeded.
async fn tls_front(upstream: SocketAddr) -> (SocketAddr, Arc<AtomicUsize>) {
    let chain = CertificateDer::pem_slice_iter(&fixture("server.pem")).collect::<Result<Vec<_>, _>>().unwrap();
    let key = PrivateKeyDer::from_pem_slice(&fixture("server.key")).unwrap();
    let config = ServerConfig::builder_with_provider(Arc::new(aws_lc_rs::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let handshakes = Arc::new(AtomicUsize::new(0));
    let counter = handshakes.clone();
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let (acceptor, counter) = (acceptor.clone(), counter.clone());
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else { return };
                counter.fetch_add(1, Ordering::SeqCst);
                let mut plain = TcpStream::connect(upstream).await.unwrap();
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
            });
        }
    });
    (addr, handshakes)
}

fn client(port: u16, roots: &[u8]) -> Client {
    let config = aws_sdk_bedrockruntime::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(format!("https://localhost:{port}"))
        .credentials_provider(Credentials::new("AKIDTEST", "test-secret", None, None, "test"))
        .retry_config(RetryConfig::disabled())
        .http_client(https_client_trusting(roots))
        .build();
    Client::from_conf(config)
}

async fn say_hello(client: &Client) -> Result<String, String> {
    let message =
        Message::builder().role(ConversationRole::User).content(ContentBlock::Text("Hello".into())).build().unwrap();
    match client.converse().model_id("mistral.mistral-large-2407-v1:0").messages(message).send().await {
        Ok(output) => Ok(format!("{:?}", output.output)),
        Err(SdkError::DispatchFailure(failure)) => Err(format!("dispatch failure: {failure:?}")),
        Err(other) => panic!("expected an answer or a dispatch failure, got {other:?}"),
    }
}

#[tokio::test]
async fn amazon_roots_refuse_a_server_of_another_authority_that_its_own_authority_accepts() {
    let emulator = Emulator::start().await.unwrap();
    let upstream = emulator.url().trim_start_matches("http://").parse::<SocketAddr>().unwrap();
    let (front, handshakes) = tls_front(upstream).await;

    let refused = say_hello(&client(front.port(), AMAZON_ROOTS)).await.unwrap_err();
    assert!(refused.contains("UnknownIssuer"), "refused for its issuer: {refused}");
    assert_eq!(handshakes.load(Ordering::SeqCst), 0, "no handshake completed");
    assert_eq!(emulator.requests(), 0, "nothing reached Bedrock");

    let answered = say_hello(&client(front.port(), &fixture("ca.pem"))).await.unwrap();
    assert!(answered.contains("You said: Hello"), "the emulator's echo: {answered}");
    assert_eq!(handshakes.load(Ordering::SeqCst), 1);
    assert_eq!(emulator.requests(), 1);
}
