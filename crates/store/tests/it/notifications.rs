//! Wake-ups across nodes: a commit on one PostgreSQL node wakes the workers
//! and event streams of the others through LISTEN/NOTIFY, also after the
//! listening connection was lost. Skipped without `STEWARD_TEST_DATABASE_URL`.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::{Connection, PgConnection};
use steward_store::{DatabaseUrl, StoreOptions};
use steward_test_support::TestDatabase;

use crate::helpers::{USER, noop};
use crate::shared_database::{PATIENCE, two_nodes};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_enqueue_on_one_node_wakes_the_others() {
    let Some((_database, first, second)) = two_nodes().await else { return };
    let mut jobs_ready = second.wakeups().subscribe_jobs();
    let mut events_appended = second.wakeups().subscribe_events();
    jobs_ready.mark_unchanged();
    events_appended.mark_unchanged();
    first.enqueue(USER, vec![noop()]).await.unwrap();
    tokio::time::timeout(PATIENCE, jobs_ready.changed())
        .await
        .expect("the other node's workers were not woken")
        .unwrap();
    tokio::time::timeout(PATIENCE, events_appended.changed())
        .await
        .expect("the other node's event streams were not woken")
        .unwrap();
}

/// The backend process of the LISTEN connection of the node named `name`.
async fn listening(admin: &mut PgConnection, name: &str) -> Result<Option<i32>, sqlx::Error> {
    sqlx::query_scalar("SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'LISTEN%'")
        .bind(name)
        .fetch_optional(admin)
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_hears_the_others_again_after_losing_its_listen_connection() {
    let Some(database) = TestDatabase::postgres().await else { return };
    let DatabaseUrl::Postgres(url) = &database.url else { unreachable!("a PostgreSQL test database") };
    // A name of its own, to find the second node's LISTEN connection.
    let name = format!("steward-listen-test-{}", std::process::id());
    let first = database.open(StoreOptions::default()).await;
    let second_url = DatabaseUrl::Postgres(format!("{url}&application_name={name}"));
    let second = steward_store::open(&second_url, StoreOptions::default()).await.unwrap();
    let mut admin = PgConnection::connect(url).await.unwrap();
    let killed = listening(&mut admin, &name).await.unwrap().expect("the second node listens");
    sqlx::query("SELECT pg_terminate_backend($1)").bind(killed).execute(&mut admin).await.unwrap();
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while listening(&mut admin, &name).await.unwrap().is_none_or(|pid| pid == killed) {
        assert!(tokio::time::Instant::now() < deadline, "the second node never listened again");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // After reconnecting the node wakes everything once, in case it missed
    // something; that can satisfy one of these rounds but not both.
    let mut jobs_ready = second.wakeups().subscribe_jobs();
    for round in 0..2 {
        jobs_ready.mark_unchanged();
        first.enqueue(USER, vec![noop()]).await.unwrap();
        tokio::time::timeout(PATIENCE, jobs_ready.changed())
            .await
            .unwrap_or_else(|_| panic!("round {round}: the second node was not woken"))
            .unwrap();
    }
    second.close().await;
}

/// A TCP proxy to the test server that can refuse connections for a while,
/// as a server restarting or a network partition would.
struct FlakyProxy {
    address: std::net::SocketAddr,
    up: Arc<AtomicBool>,
    refused: Arc<AtomicUsize>,
    connections: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl FlakyProxy {
    async fn start(server: String) -> FlakyProxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let proxy = FlakyProxy {
            address: listener.local_addr().unwrap(),
            up: Arc::new(AtomicBool::new(true)),
            refused: Arc::default(),
            connections: Arc::default(),
        };
        let (up, refused, connections) = (proxy.up.clone(), proxy.refused.clone(), proxy.connections.clone());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !up.load(Ordering::SeqCst) {
                    refused.fetch_add(1, Ordering::SeqCst);
                    continue;
                }
                let server = server.clone();
                connections.lock().unwrap().push(tokio::spawn(async move {
                    if let Ok(mut upstream) = tokio::net::TcpStream::connect(server).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                    }
                }));
            }
        });
        proxy
    }

    /// Cuts every connection and refuses new ones until [`FlakyProxy::restore`].
    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        for connection in self.connections.lock().unwrap().drain(..) {
            connection.abort();
        }
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_listens_again_after_the_database_was_unreachable() {
    let Some(database) = TestDatabase::postgres().await else { return };
    let DatabaseUrl::Postgres(url) = &database.url else { unreachable!("a PostgreSQL test database") };
    let server = url.parse::<sqlx::postgres::PgConnectOptions>().unwrap();
    let server = format!("{}:{}", server.get_host(), server.get_port());
    let Some((before, after)) = url.split_once(&server) else {
        eprintln!("skipping: the test database URL does not name {server} literally");
        return;
    };
    let first = database.open(StoreOptions::default()).await;
    let proxy = FlakyProxy::start(server.clone()).await;
    let name = format!("steward-unreachable-test-{}", std::process::id());
    let second_url = DatabaseUrl::Postgres(format!("{before}{}{after}&application_name={name}", proxy.address));
    let second = steward_store::open(&second_url, StoreOptions::default()).await.unwrap();
    let mut admin = PgConnection::connect(url).await.unwrap();
    let killed = listening(&mut admin, &name).await.unwrap().expect("the second node listens");

    proxy.cut();
    // Reconnecting fails a few times (with growing pauses) before the
    // database is reachable again.
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while proxy.refused.load(Ordering::SeqCst) < 3 {
        assert!(tokio::time::Instant::now() < deadline, "the second node stopped trying to reconnect");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    proxy.restore();
    while listening(&mut admin, &name).await.unwrap().is_none_or(|pid| pid == killed) {
        assert!(tokio::time::Instant::now() < deadline, "the second node never listened again");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut jobs_ready = second.wakeups().subscribe_jobs();
    for round in 0..2 {
        jobs_ready.mark_unchanged();
        first.enqueue(USER, vec![noop()]).await.unwrap();
        tokio::time::timeout(PATIENCE, jobs_ready.changed())
            .await
            .unwrap_or_else(|_| panic!("round {round}: the second node was not woken"))
            .unwrap();
    }
    second.close().await;
}
