//! SSRF attempts through webhook definitions and event callbacks are refused, and no request
//! leaves: local test servers count every TCP connection they accept.

use std::sync::atomic::Ordering;

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{any, post};
use serde_json::json;
use shared::tools::Toolbox;
use shared::triggers::callback;
use tests::tools::{SECRET, SEED_PROMPT, ask, runs};
use tests::{Harness, Served, env, serve};

fn hook(name: &str, url: &str) -> String {
    json!([{"name": name, "url": url, "secret_env": "HOOK_SECRET"}]).to_string()
}

/// Builds a toolbox with one webhook at `url`; returns the startup error message.
fn refused_at_startup(url: &str, allow: &str, extra: &[(&str, &str)]) -> String {
    let hooks = hook("probe", url);
    let mut vars =
        vec![("TOOLS_WEBHOOKS", hooks.as_str()), ("TOOLS_WEBHOOK_ALLOWLIST", allow), ("HOOK_SECRET", SECRET)];
    vars.extend_from_slice(extra);
    let err = Toolbox::load(&env(&vars)).err().unwrap_or_else(|| panic!("{url} was accepted"));
    assert_eq!(err.var, "TOOLS_WEBHOOKS", "{err}");
    err.to_string()
}

#[test]
fn webhooks_to_forbidden_places_fail_the_cold_start() {
    let metadata = refused_at_startup("https://169.254.169.254/latest/meta-data/", "169.254.169.254", &[]);
    assert!(metadata.contains("instance-metadata"), "{metadata}");
    let metadata_v6 = refused_at_startup("https://[fd00:ec2::254]/latest/", "[fd00:ec2::254]", &[]);
    assert!(metadata_v6.contains("instance-metadata"), "{metadata_v6}");
    let private = refused_at_startup("https://10.1.2.3/hook", "10.1.2.3", &[]);
    assert!(private.contains("private-network"), "{private}");
    let link_local = refused_at_startup("https://169.254.10.10/hook", "169.254.10.10", &[]);
    assert!(link_local.contains("link-local"), "{link_local}");
    let plain_http = refused_at_startup("http://hooks.example.com/hook", "hooks.example.com", &[]);
    assert!(plain_http.contains("plain http"), "{plain_http}");
    let unlisted = refused_at_startup("https://evil.example.net/hook", "hooks.example.com", &[]);
    assert!(unlisted.contains("allowlist"), "{unlisted}");
    // IPv6 forms that translate to IPv4, and ranges no webhook is numbered in. Over https, so
    // the address rule refuses them rather than the scheme rule.
    for (host, reason) in [
        ("[::ffff:0:a9fe:a9fe]", "instance-metadata"),
        ("[64:ff9b:1::a9fe:a9fe]", "reserved"),
        ("[64:ff9b:1::5db8:d70e]", "reserved"),
        ("[fec0::1]", "reserved"),
        ("192.88.99.1", "reserved"),
    ] {
        let refused = refused_at_startup(&format!("https://{host}/hook"), host, &[]);
        assert!(refused.contains(reason), "{host}: {refused}");
    }
    // Private ranges may be opened for VPC webhooks; metadata and site-local never.
    let open = [("TOOLS_ALLOW_PRIVATE_NETWORKS", "true")];
    assert!(refused_at_startup("https://169.254.169.254/", "169.254.169.254", &open).contains("instance-metadata"));
    assert!(refused_at_startup("https://[fec0::1]/", "[fec0::1]", &open).contains("reserved"));
}

#[tokio::test]
async fn a_hostname_resolving_to_loopback_is_refused_before_connecting() {
    let Served { addr, connections } = serve(Router::new().route("/{*p}", any(|| async { "reached" }))).await;
    let hooks = hook("probe", &format!("https://localhost:{}/hook", addr.port()));
    let stack = Harness::with_config(&[
        ("TOOLS_WEBHOOKS", &hooks),
        ("TOOLS_WEBHOOK_ALLOWLIST", "localhost"),
        ("HOOK_SECRET", SECRET),
    ])
    .await;
    let (status, body) = stack.ask(&ask("[[call:probe {}]]")).await;
    assert_eq!(status, 200, "{body}");
    let run = &runs(&body)[0];
    assert_eq!(run["error_code"], "refused", "{run}");
    assert!(run["error"].as_str().unwrap().contains("loopback"), "{run}");
    assert_eq!(connections.load(Ordering::SeqCst), 0, "a connection reached the server");
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let Served { addr: target, connections: target_connections } =
        serve(Router::new().route("/{*p}", any(|| async { "reached" }))).await;
    let to_private = "http://10.0.0.1/internal";
    let to_loopback = format!("http://{target}/internal");
    let Served { addr, .. } = serve(
        Router::new()
            .route(
                "/private",
                post(move || async move { (StatusCode::FOUND, [(header::LOCATION, to_private)]).into_response() }),
            )
            .route(
                "/loopback",
                post(move || async move {
                    (StatusCode::TEMPORARY_REDIRECT, [(header::LOCATION, to_loopback)]).into_response()
                }),
            ),
    )
    .await;
    let hooks = json!([
        {"name": "to_private", "url": format!("http://{addr}/private"), "secret_env": "HOOK_SECRET"},
        {"name": "to_loopback", "url": format!("http://{addr}/loopback"), "secret_env": "HOOK_SECRET"},
    ])
    .to_string();
    let stack = Harness::with_config(&[
        ("TOOLS_WEBHOOKS", &hooks),
        ("TOOLS_WEBHOOK_ALLOWLIST", "127.0.0.1"),
        ("TOOLS_ALLOW_LOOPBACK", "true"),
        ("HOOK_SECRET", SECRET),
    ])
    .await;
    let (status, body) = stack.ask(&ask("[[call:to_private {}]] [[call:to_loopback {}]]")).await;
    assert_eq!(status, 200, "{body}");
    for run in runs(&body) {
        assert_eq!(run["error_code"], "bad_reply", "{run}");
        assert!(run["error"].as_str().unwrap().contains("redirect, which is not followed"), "{run}");
    }
    assert_eq!(target_connections.load(Ordering::SeqCst), 0, "the redirect was followed");
}

#[tokio::test]
async fn callbacks_to_forbidden_places_are_refused_without_a_request() {
    let Served { addr, connections } = serve(Router::new().route("/{*p}", any(|| async { "reached" }))).await;
    let stack = Harness::with_config(&[
        (
            "TOOLS_CALLBACK_ALLOWLIST",
            "169.254.169.254 10.0.0.9 127.0.0.1 localhost hooks.example.com \
             [::ffff:0:a9fe:a9fe] [64:ff9b:1::a9fe:a9fe] [fec0::1] 192.88.99.1",
        ),
        ("TOOLS_CALLBACK_SECRET", SECRET),
    ])
    .await;
    // A forbidden address can never be right; a host missing from the allowlist is this
    // deployment's setting, and the failure names it.
    let cases = [
        ("https://169.254.169.254/latest/meta-data/", "instance-metadata", "MalformedEvent"),
        ("https://10.0.0.9/answers", "private-network", "MalformedEvent"),
        ("https://[::ffff:0:a9fe:a9fe]/answers", "instance-metadata", "MalformedEvent"),
        ("https://[64:ff9b:1::a9fe:a9fe]/answers", "reserved", "MalformedEvent"),
        ("https://[fec0::1]/answers", "reserved", "MalformedEvent"),
        ("https://192.88.99.1/answers", "reserved", "MalformedEvent"),
        (&*format!("http://127.0.0.1:{}/answers", addr.port()), "plain http", "MalformedEvent"),
        (&*format!("https://127.0.0.1:{}/answers", addr.port()), "loopback", "MalformedEvent"),
        (&*format!("https://localhost:{}/answers", addr.port()), "loopback", "MalformedEvent"),
        ("https://evil.example.net/answers", "allowlist (TOOLS_CALLBACK_ALLOWLIST)", "Misconfigured"),
    ];
    for (url, reason, kind) in cases {
        let payload = json!({"callback_url": url, "request": ask(SEED_PROMPT)});
        let failure = callback::from_detail(&stack.state, "evt-1", payload).await.unwrap_err();
        assert_eq!(failure.kind(), kind, "{url}: {failure}");
        assert!(failure.to_string().contains(reason), "{url}: {failure}");
    }
    assert_eq!(connections.load(Ordering::SeqCst), 0, "a callback reached the server");
}
