//! Opening and closing SQLite stores from several threads at once must never
//! hang. SQLite 3.51.1 can deadlock when one connection to a WAL database
//! closes while another opens or closes (see `LIFECYCLE` in
//! `sqlite/connection.rs`); dropping a store closes its reader connections
//! on one thread while its writer thread closes the writer connection, so
//! this test drops many stores that have readers, concurrently.

use std::sync::mpsc;
use std::time::Duration;

use steward_domain::{NewAgent, UserId};
use steward_store::{AgentFilter, StoreOptions};

const THREADS: usize = 4;
const ROUNDS: usize = 300;

#[test]
fn stores_open_and_close_concurrently_without_hanging() {
    let (done, finished) = mpsc::channel();
    for thread in 0..THREADS {
        let done = done.clone();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
            for round in 0..ROUNDS {
                let directory = tempfile::tempdir().unwrap();
                let url = steward_store::DatabaseUrl::Sqlite(directory.path().join("steward.db"));
                runtime.block_on(async {
                    let store = steward_store::open(&url, StoreOptions::default()).await.unwrap();
                    store.migrate().await.unwrap();
                    let agent =
                        NewAgent { name: format!("a{thread}-{round}"), goal: "g".into(), ..NewAgent::default() };
                    store.create_agent(UserId::LOCAL_OWNER, agent).await.unwrap();
                    // Several concurrent reads, so the pool holds several connections.
                    let reads = (0..4).map(|_| store.list_agents(UserId::LOCAL_OWNER.into(), AgentFilter::default()));
                    for agents in futures::future::join_all(reads).await {
                        assert_eq!(agents.unwrap().len(), 1);
                    }
                    // Dropped without close(): readers close here, the writer on its thread.
                    drop(store);
                });
            }
            let _ = done.send(thread);
        });
    }
    drop(done);
    for _ in 0..THREADS {
        finished
            .recv_timeout(Duration::from_secs(120))
            .expect("opening and closing stores hung (the SQLite close deadlock is back)");
    }
}
