//! The guarded HTTP client other outbound clients build on, against a local
//! server: a name resolving to loopback is refused by the resolver, and a
//! followed redirect to a loopback address literal is refused at the hop,
//! unless the policy allows it.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::response::Redirect;
use axum::routing::get;
use steward_runtime::outbound::{AddressPolicy, GuardedClient, Redirects, blocked_address_in};

async fn start() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let app = Router::new()
        .route("/secret", get(|| async { "the metadata" }))
        .route("/to-literal", get(move || async move { Redirect::to(&format!("http://{address}/secret")) }));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    address
}

fn client(allow: &[&str], redirects: Redirects) -> reqwest::Client {
    let allow: Vec<String> = allow.iter().map(ToString::to_string).collect();
    let policy = Arc::new(AddressPolicy::from_allowlist(&allow).unwrap());
    GuardedClient::new(policy, "steward-test").redirects(redirects).build().unwrap()
}

#[tokio::test]
async fn a_name_resolving_to_loopback_is_refused_by_default() {
    let address = start().await;
    let url = format!("http://localhost:{}/secret", address.port());
    let error = client(&[], Redirects::Follow(3)).get(&url).send().await.unwrap_err();
    let blocked = blocked_address_in(&error).unwrap_or_else(|| panic!("not refused by the policy: {error:?}"));
    assert_eq!(blocked.range, "loopback");
}

#[tokio::test]
async fn a_followed_redirect_to_a_blocked_literal_is_refused_at_the_hop() {
    let address = start().await;
    // The name is allowed, so the first hop connects; the redirect names
    // 127.0.0.1 itself, which no resolver sees.
    let url = format!("http://localhost:{}/to-literal", address.port());
    let error = client(&["localhost"], Redirects::Follow(3)).get(&url).send().await.unwrap_err();
    let blocked = blocked_address_in(&error).unwrap_or_else(|| panic!("not refused by the policy: {error:?}"));
    assert_eq!((blocked.host.as_str(), blocked.range), ("127.0.0.1", "loopback"));

    let allowed = client(&["localhost", "127.0.0.1"], Redirects::Follow(3));
    let response = allowed.get(&url).send().await.unwrap();
    assert_eq!(response.text().await.unwrap(), "the metadata");

    let returned = client(&["localhost"], Redirects::Returned).get(&url).send().await.unwrap();
    assert!(returned.status().is_redirection(), "{}", returned.status());
}
