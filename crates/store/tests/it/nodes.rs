//! Nodes: a beat records a node and keeps it alive, its running jobs are
//! counted from its leases, silence past its lease and a stop are told
//! apart, and long-silent nodes are forgotten.

use steward_domain::Clock;
use steward_store::{NodeBeat, NodeState};
use steward_test_support::{TestStore, store_tests};

use crate::helpers::{LEASE, WORKER, claim, enqueue_one, noop};

fn beat(t: &TestStore, id: &str) -> NodeBeat {
    NodeBeat { id: id.into(), address: format!("http://{id}:8080"), started_at: t.clock.now(), lease: LEASE }
}

async fn nodes_beat_count_their_jobs_fall_silent_and_stop(t: TestStore) {
    let store = t.store.as_ref();
    store.beat_node(beat(&t, WORKER)).await.unwrap();
    store.beat_node(beat(&t, "other")).await.unwrap();
    enqueue_one(store, noop()).await;
    enqueue_one(store, noop()).await;
    claim(store, 2).await;
    let nodes = store.list_nodes().await.unwrap();
    let running: Vec<(&str, NodeState, u64)> =
        nodes.iter().map(|node| (node.id.as_str(), node.state, node.running_jobs)).collect();
    assert!(running.contains(&(WORKER, NodeState::Alive, 2)), "{running:?}");
    assert!(running.contains(&("other", NodeState::Alive, 0)), "{running:?}");

    // One keeps beating, the other falls silent past its lease, then stops.
    t.clock.advance(chrono::Duration::from_std(LEASE).unwrap() + chrono::Duration::seconds(1));
    store.beat_node(beat(&t, WORKER)).await.unwrap();
    let nodes = store.list_nodes().await.unwrap();
    assert_eq!((nodes[0].id.as_str(), nodes[0].state), (WORKER, NodeState::Alive), "alive first");
    assert_eq!((nodes[1].id.as_str(), nodes[1].state), ("other", NodeState::Silent));
    assert_eq!(nodes[0].heartbeat_at, t.clock.now());
    store.stop_node("other").await.unwrap();
    let nodes = store.list_nodes().await.unwrap();
    assert_eq!(nodes[1].state, NodeState::Stopped);
    assert_eq!(nodes[1].stopped_at, Some(t.clock.now()));

    // A day of silence later, the next beat forgets it.
    t.clock.advance(chrono::Duration::days(1) + chrono::Duration::seconds(1));
    store.beat_node(beat(&t, WORKER)).await.unwrap();
    let ids: Vec<String> = store.list_nodes().await.unwrap().into_iter().map(|node| node.id).collect();
    assert_eq!(ids, [WORKER]);
}

store_tests!(nodes_beat_count_their_jobs_fall_silent_and_stop);
