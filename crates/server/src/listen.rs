//! Serving connections, with the limits that keep slow and idle clients
//! from taking the server down: a cap on connections in all and per client
//! address (over it, a new connection is closed at once), a deadline for a
//! request's headers that also closes idle keep-alive connections (hyper
//! starts it whenever a connection waits for a request), and hyper's buffer
//! and header-count limits above the guard's, so oversized heads get the
//! guard's answers in the error shape. Bodies have their own deadline
//! (`server.body_timeout_secs`, in `extract/json.rs`).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

/// What one process serves at once, and how long it waits for a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Open connections in all; more are closed as they arrive.
    pub max_connections: usize,
    /// Open connections from one client address.
    pub max_per_address: usize,
    /// Time to send a request's headers, counted from the connection's
    /// opening or its previous response: also the idle keep-alive timeout.
    pub header_timeout: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits { max_connections: 8192, max_per_address: 512, header_timeout: Duration::from_secs(10) }
    }
}

/// hyper's own ceilings, above the guard's (`guard/limits.rs`): what the
/// guard can answer must first be read.
const READ_BUFFER_BYTES: usize = 128 * 1024;
const HYPER_MAX_HEADERS: usize = 200;

/// Serves `app` on `listener` until `shutdown` is cancelled, then lets open
/// connections finish their requests (the caller bounds how long).
pub async fn serve(listener: TcpListener, app: Router, limits: ConnectionLimits, shutdown: CancellationToken) {
    let slots = Slots::new(limits);
    let graceful = GracefulShutdown::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_buf_size(READ_BUFFER_BYTES)
        .max_headers(HYPER_MAX_HEADERS);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = shutdown.cancelled() => break,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                // Out of file descriptors or a connection reset before it
                // was accepted: wait a moment instead of spinning.
                tracing::warn!(%error, "cannot accept a connection");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Some(slot) = slots.take(peer.ip()) else {
            tracing::debug!(%peer, "connection refused: over the connection cap");
            continue;
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            app.clone().oneshot(request.map(axum::body::Body::new))
        });
        let connection = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            let _slot = slot;
            if let Err(error) = connection.await {
                tracing::debug!(%peer, %error, "connection ended with an error");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// The connection counts, taken and given back by [`Slot`].
struct Slots {
    limits: ConnectionLimits,
    open: AtomicUsize,
    per_address: Mutex<HashMap<IpAddr, usize>>,
}

impl Slots {
    fn new(limits: ConnectionLimits) -> Arc<Slots> {
        Arc::new(Slots { limits, open: AtomicUsize::new(0), per_address: Mutex::new(HashMap::new()) })
    }

    fn take(self: &Arc<Self>, address: IpAddr) -> Option<Slot> {
        let mut per_address = self.per_address.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let count = per_address.entry(address).or_default();
        if *count >= self.limits.max_per_address || self.open.load(Ordering::Relaxed) >= self.limits.max_connections {
            if *count == 0 {
                per_address.remove(&address);
            }
            return None;
        }
        *count += 1;
        self.open.fetch_add(1, Ordering::Relaxed);
        Some(Slot { slots: self.clone(), address })
    }
}

/// One open connection's place; given back when the connection ends.
struct Slot {
    slots: Arc<Slots>,
    address: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut per_address = self.slots.per_address.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(count) = per_address.get_mut(&self.address) {
            *count -= 1;
            if *count == 0 {
                per_address.remove(&self.address);
            }
        }
        self.slots.open.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Where a connection comes from, as the server saw it.
pub type PeerAddress = ConnectInfo<SocketAddr>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_cap_connections_in_all_and_per_address() {
        let limits = ConnectionLimits { max_connections: 3, max_per_address: 2, ..ConnectionLimits::default() };
        let slots = Slots::new(limits);
        let (one, two): (IpAddr, IpAddr) = ("127.0.0.2".parse().unwrap(), "127.0.0.3".parse().unwrap());
        let first = slots.take(one).unwrap();
        let _second = slots.take(one).unwrap();
        assert!(slots.take(one).is_none(), "a third from one address");
        let _third = slots.take(two).unwrap();
        assert!(slots.take(two).is_none(), "a fourth in all");
        drop(first);
        assert!(slots.take(one).is_some(), "a closed connection gives its place back");
        assert_eq!(slots.per_address.lock().unwrap().len(), 2);
    }
}
