//! Local stand-ins for outside services, on real loopback sockets, for the
//! deliveries' tests: Slack's Web API and incoming webhooks ([`slack`]), an
//! SMTP sink ([`smtp`]) and a webhook receiver that verifies signatures
//! ([`webhook`]). Each checks what a real service would refuse and records
//! what it accepted.

pub mod slack;
pub mod smtp;
pub mod webhook;

use std::net::SocketAddr;

use tokio::net::TcpListener;

/// Serves `app` on a free loopback port until the returned task is aborted.
pub(crate) async fn serve(app: axum::Router) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
    let address = listener.local_addr()?;
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((address, task))
}
