//! This process as a node of the database: a task that records it at start
//! and beats at the heartbeat interval while it runs, and says it stopped
//! at a graceful shutdown (`steward nodes` reads the rows). A beat that
//! fails is only logged: leases, not these rows, decide who holds a job.

use std::sync::Arc;
use std::time::Duration;

use steward_store::{NodeBeat, Store};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub struct NodeBeacon {
    store: Arc<dyn Store>,
    id: String,
    stop: CancellationToken,
    task: JoinHandle<()>,
}

impl NodeBeacon {
    pub fn start(store: Arc<dyn Store>, beat: NodeBeat, interval: Duration) -> NodeBeacon {
        let stop = CancellationToken::new();
        let id = beat.id.clone();
        let task = tokio::spawn({
            let (store, stop) = (store.clone(), stop.clone());
            async move {
                loop {
                    if let Err(error) = store.beat_node(beat.clone()).await {
                        tracing::warn!(%error, "recording this node's heartbeat failed; will try again");
                    }
                    tokio::select! {
                        () = stop.cancelled() => return,
                        () = tokio::time::sleep(interval) => {}
                    }
                }
            }
        });
        NodeBeacon { store, id, stop, task }
    }

    /// Stops beating and records that the node stopped.
    pub async fn stop(self) {
        self.stop.cancel();
        let _ = self.task.await;
        if let Err(error) = self.store.stop_node(&self.id).await {
            tracing::warn!(%error, "recording that this node stopped failed");
        }
    }
}
