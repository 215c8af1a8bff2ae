//! Opening a real-time store for pool tests, and waiting for conditions.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use steward_domain::{Job, JobId, JobState, UserId};
use steward_store::{QueueSettings, Store, StoreOptions};
use steward_test_support::TestDatabase;

pub const USER: UserId = UserId::LOCAL_OWNER;

/// A store on the system clock, with retries capped at 50 ms so tests of
/// retrying finish quickly.
pub async fn open(database: &TestDatabase) -> Arc<dyn Store> {
    let options = StoreOptions {
        queue: QueueSettings { retry_backoff_cap: Duration::from_millis(50) },
        ..StoreOptions::default()
    };
    database.open(options).await
}

/// Polls `condition` until it holds, failing after 20 s.
pub async fn eventually<F, Fut>(what: &str, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !condition().await {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

pub async fn wait_for_state(store: &dyn Store, id: JobId, state: JobState) -> Job {
    eventually(&format!("job {id} is {state}"), || async { store.get_job(USER, id).await.unwrap().state == state })
        .await;
    store.get_job(USER, id).await.unwrap()
}

/// Runs each test (`async fn(Arc<dyn Store>)`) on SQLite and, when
/// configured, PostgreSQL.
macro_rules! pool_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let database = steward_test_support::TestDatabase::sqlite();
                    super::$name(crate::support::open(&database).await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(database) = steward_test_support::TestDatabase::postgres().await {
                        super::$name(crate::support::open(&database).await).await;
                    }
                }
            )*
        }
    };
}
pub(crate) use pool_tests;
