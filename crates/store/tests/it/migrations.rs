//! Migrations: applied once, idempotent on every start.

use steward_test_support::{TestStore, store_tests};

async fn migrating_again_changes_nothing(t: TestStore) {
    let report = t.store.migrate().await.unwrap();
    assert!(report.applied.is_empty(), "{report:?}");
    assert_eq!(report.version, steward_store::migrations::SQLITE.last().unwrap().version);
}

store_tests!(migrating_again_changes_nothing);

#[tokio::test]
async fn a_fresh_database_gets_every_migration() {
    let database = steward_test_support::TestDatabase::sqlite();
    let store = steward_store::open(&database.url, steward_store::StoreOptions::default()).await.unwrap();
    let report = store.migrate().await.unwrap();
    assert_eq!(
        report.applied,
        [(1, "initial".to_string()), (2, "agent_runtime".to_string()), (4, "schema_parity".to_string())]
    );
    store.close().await;
}

#[tokio::test]
async fn a_second_process_cannot_open_the_same_sqlite_file() {
    let database = steward_test_support::TestDatabase::sqlite();
    let first = steward_store::open(&database.url, steward_store::StoreOptions::default()).await.unwrap();
    let error = steward_store::open(&database.url, steward_store::StoreOptions::default()).await.err().unwrap();
    assert!(error.to_string().contains("in use by another Steward process"), "{error}");
    first.close().await;
}
