//! Slow and idle clients over real loopback sockets: thousands of half-sent
//! requests do not stop the server answering others, a client that sends
//! its headers too slowly or idles on a kept-alive connection is closed, and
//! one address cannot take more than its share of connections. Clients
//! bind 127.0.0.x source addresses of their own, as separate machines would.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::support::{TestApp, serve_with};
use steward_server::listen::ConnectionLimits;

/// A connection from `source` (a 127.0.0.x address) that sends the start of
/// a request and never finishes it.
async fn half_open(server: SocketAddr, source: [u8; 4]) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::from((source, 0))).unwrap();
    let mut stream = socket.connect(server).await.unwrap();
    stream.write_all(b"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ").await.unwrap();
    stream
}

/// Whether the server closed `stream` (read returns end of file or an error).
async fn closed_by_server(stream: &mut TcpStream, within: Duration) -> bool {
    let mut buffer = [0_u8; 1024];
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buffer)).await {
            Ok(Ok(0) | Err(_)) => return true,
            Ok(Ok(_)) => continue,
            Err(_) => return false,
        }
    }
}

async fn health(url: &str) -> reqwest::StatusCode {
    let client = reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap();
    client.get(format!("{url}/api/v1/health")).send().await.unwrap().status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_half_sent_requests_do_not_stop_health() {
    let app = TestApp::without_runtime(steward_test_support::TestDatabase::sqlite()).await;
    let limits =
        ConnectionLimits { max_connections: 6000, max_per_address: 1000, header_timeout: Duration::from_secs(60) };
    let (url, task) = serve_with(app.state.clone(), limits).await;
    let server: SocketAddr = url.trim_start_matches("http://").parse().unwrap();
    let mut held = Vec::new();
    for source in 2..=5_u8 {
        for _ in 0..1000 {
            held.push(half_open(server, [127, 0, 0, source]).await);
        }
    }
    assert_eq!(held.len(), 4000);
    assert_eq!(health(&url).await, 200, "with 4,000 half-sent requests held open");
    // Over its share, an address's new connections are closed at once, and
    // its held ones stay open.
    let mut extra = half_open(server, [127, 0, 0, 2]).await;
    assert!(closed_by_server(&mut extra, Duration::from_secs(20)).await, "a 1,001st connection from one address");
    assert!(!closed_by_server(&mut held[0], Duration::from_millis(200)).await);
    assert_eq!(health(&url).await, 200);
    app.state.shutdown.cancel();
    drop(held);
    task.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_headers_and_idle_keep_alives_are_closed() {
    let app = TestApp::without_runtime(steward_test_support::TestDatabase::sqlite()).await;
    let limits = ConnectionLimits { header_timeout: Duration::from_secs(1), ..ConnectionLimits::default() };
    let (url, _task) = serve_with(app.state.clone(), limits).await;
    let server: SocketAddr = url.trim_start_matches("http://").parse().unwrap();
    let mut slow = half_open(server, [127, 0, 0, 7]).await;
    assert!(closed_by_server(&mut slow, Duration::from_secs(30)).await, "a request whose headers never end");
    // A connection that answered one request and then idles.
    let mut idle = TcpStream::connect(server).await.unwrap();
    idle.write_all(b"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").await.unwrap();
    let mut buffer = vec![0_u8; 4096];
    let read = idle.read(&mut buffer).await.unwrap();
    assert!(String::from_utf8_lossy(&buffer[..read]).starts_with("HTTP/1.1 200"));
    assert!(closed_by_server(&mut idle, Duration::from_secs(30)).await, "an idle kept-alive connection");
    // A connection that never sends anything.
    let mut silent = TcpStream::connect(server).await.unwrap();
    assert!(closed_by_server(&mut silent, Duration::from_secs(30)).await, "a connection that sends nothing");
    app.state.shutdown.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_body_is_answered_408() {
    let app = TestApp::without_runtime(steward_test_support::TestDatabase::sqlite()).await;
    let state = app.state.clone().with_body_timeout(Duration::from_secs(1));
    let (url, _task) = serve_with(state, ConnectionLimits::default()).await;
    let mut stream = TcpStream::connect(url.trim_start_matches("http://")).await.unwrap();
    let head = "POST /api/v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{";
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut answer)).await;
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains(r#""code":"request_timeout""#), "{text}");
    app.state.shutdown.cancel();
}
