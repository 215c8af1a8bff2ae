//! Every job has an owner who exists. On SQLite a foreign key keeps it so;
//! on PostgreSQL (migration 30) triggers do, checking each insert statement
//! once instead of each row. These tests hold both to the foreign key's
//! promise: a job for a missing user is refused, a user who owns jobs stays,
//! and on PostgreSQL neither wins a race with the other.

use std::time::Duration;

use sqlx::{AssertSqlSafe, Connection, PgConnection};
use steward_domain::UserId;
use steward_domain::auth::{NewToken, NewUser, Scope, TokenKind};
use steward_store::{ConflictKind, DatabaseUrl, JobFilter, Store, StoreError};
use steward_test_support::{TestStore, store_tests};

use crate::helpers::{USER, noop};
use crate::shared_database::PATIENCE;

async fn all_jobs_of(store: &dyn Store, user: UserId) -> usize {
    store.list_jobs(user.into(), JobFilter { limit: 100, ..JobFilter::default() }).await.unwrap().len()
}

fn assert_still_owns_records(error: StoreError, name: &str) {
    match error {
        StoreError::Conflict { kind: ConflictKind::IllegalTransition, field, message } => {
            assert_eq!(field.as_deref(), Some("name"));
            assert!(message.contains(&format!("{name:?} still owns jobs")), "{message}");
        }
        other => panic!("expected a refusal naming the records {name} owns, got {other:?}"),
    }
}

async fn a_job_for_a_user_who_does_not_exist_is_refused(test: TestStore) {
    let store = &*test.store;
    let nobody = UserId(4242);
    let refused = store.enqueue(nobody, vec![noop(), noop()]).await;
    assert!(refused.is_err(), "jobs for a missing user were stored: {refused:?}");
    // One call of a single job takes the grouped path on PostgreSQL.
    assert!(store.enqueue(nobody, vec![noop()]).await.is_err());
    assert_eq!(all_jobs_of(store, nobody).await, 0);
}

async fn a_user_who_owns_jobs_is_not_removed(test: TestStore) {
    let store = &*test.store;
    let ada = store.create_user(NewUser { name: "ada".into(), admin: false }, None).await.unwrap();
    let token = NewToken {
        user_id: ada.id,
        kind: TokenKind::Api,
        name: "laptop".into(),
        scope: Scope::Write,
        expires_at: None,
    };
    store.create_token(token, "hash-of-ada".into()).await.unwrap();
    store.enqueue(ada.id, vec![noop()]).await.unwrap();

    assert_still_owns_records(store.remove_user("ada").await.unwrap_err(), "ada");
    // Nothing of the removal is left half done: the user, the token and the
    // job are all still there.
    assert!(store.list_users().await.unwrap().iter().any(|user| user.id == ada.id));
    assert_eq!(store.list_tokens(Some(ada.id), TokenKind::Api).await.unwrap().len(), 1);
    assert_eq!(all_jobs_of(store, ada.id).await, 1);

    // A user who owns nothing is removed.
    store.create_user(NewUser { name: "bo".into(), admin: false }, None).await.unwrap();
    assert_eq!(store.remove_user("bo").await.unwrap().name, "bo");
}

store_tests!(a_job_for_a_user_who_does_not_exist_is_refused, a_user_who_owns_jobs_is_not_removed);

/// A connection to the test's schema, beside the store's pool.
async fn side_connection(test: &TestStore) -> PgConnection {
    let DatabaseUrl::Postgres(url) = &test.database.url else { unreachable!("a PostgreSQL test store") };
    PgConnection::connect(url).await.unwrap()
}

/// A statement run in a transaction left open on a side connection, so the
/// row locks it took are held until [`HeldOpen::commit`].
struct HeldOpen {
    connection: PgConnection,
    watcher: PgConnection,
    /// The open transaction's id, as `pg_locks` shows it to its waiters.
    transaction: String,
}

impl HeldOpen {
    async fn run(test: &TestStore, statement: &str, user: UserId) -> HeldOpen {
        let mut connection = side_connection(test).await;
        sqlx::query("BEGIN").execute(&mut connection).await.unwrap();
        sqlx::query(AssertSqlSafe(statement)).bind(user.get()).execute(&mut connection).await.unwrap();
        let transaction = sqlx::query_scalar("SELECT (pg_current_xact_id()::text::bigint % 4294967296)::text")
            .fetch_one(&mut connection)
            .await
            .unwrap();
        HeldOpen { connection, watcher: side_connection(test).await, transaction }
    }

    /// Waits until another session waits for this transaction.
    async fn until_someone_waits(&mut self) {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let waiting: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM pg_locks \
                 WHERE NOT granted AND locktype = 'transactionid' AND transactionid::text = $1",
            )
            .bind(&self.transaction)
            .fetch_one(&mut self.watcher)
            .await
            .unwrap();
            if waiting > 0 {
                return;
            }
            assert!(tokio::time::Instant::now() < deadline, "nobody waited for the open transaction's row lock");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    async fn commit(mut self) {
        sqlx::query("COMMIT").execute(&mut self.connection).await.unwrap();
    }
}

const INSERT_A_JOB: &str = "INSERT INTO jobs (user_id, queue, kind, payload, priority, state, run_at, max_attempts, \
     timeout_ms, created_at, updated_at) VALUES ($1, 'default', 'noop', '{}', 0, 'queued', now(), 1, 1000, now(), now())";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removing_a_user_waits_for_their_jobs_being_inserted_and_then_refuses() {
    let Some(test) = TestStore::postgres().await else { return };
    let ada = test.store.create_user(NewUser { name: "ada".into(), admin: false }, None).await.unwrap();
    let mut inserting = HeldOpen::run(&test, INSERT_A_JOB, ada.id).await;

    let store = test.store.clone();
    let removal = tokio::spawn(async move { store.remove_user("ada").await });
    inserting.until_someone_waits().await;
    assert!(!removal.is_finished(), "the removal went ahead of a job naming the user");
    inserting.commit().await;

    assert_still_owns_records(removal.await.unwrap().unwrap_err(), "ada");
    assert_eq!(all_jobs_of(&*test.store, ada.id).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_for_a_user_being_removed_waits_and_is_refused() {
    let Some(test) = TestStore::postgres().await else { return };
    let bo = test.store.create_user(NewUser { name: "bo".into(), admin: false }, None).await.unwrap();
    let mut removing = HeldOpen::run(&test, "DELETE FROM users WHERE id = $1", bo.id).await;

    let store = test.store.clone();
    let enqueue = tokio::spawn(async move { store.enqueue(bo.id, vec![noop(), noop()]).await });
    removing.until_someone_waits().await;
    assert!(!enqueue.is_finished(), "jobs were stored for a user whose removal is in flight");
    removing.commit().await;

    let refused = enqueue.await.unwrap();
    assert!(refused.is_err(), "jobs were stored for a removed user: {refused:?}");
    assert_eq!(all_jobs_of(&*test.store, bo.id).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_statement_naming_several_owners_checks_each() {
    let Some(test) = TestStore::postgres().await else { return };
    let ada = test.store.create_user(NewUser { name: "ada".into(), admin: false }, None).await.unwrap();
    let mut connection = side_connection(&test).await;
    let insert = |owners: Vec<i64>| {
        sqlx::query(
            "INSERT INTO jobs (user_id, queue, kind, payload, priority, state, run_at, max_attempts, timeout_ms, \
                 created_at, updated_at) \
             SELECT owner, 'default', 'noop', '{}', 0, 'queued', now(), 1, 1000, now(), now() \
             FROM unnest($1::bigint[]) AS owner",
        )
        .bind(owners)
    };
    let refused = insert(vec![USER.get(), 4242, ada.id.get()]).execute(&mut connection).await.unwrap_err();
    let error = refused.as_database_error().expect("a database error");
    assert!(error.is_foreign_key_violation(), "{error}");
    assert_eq!(error.message(), "jobs.user_id: user 4242 does not exist");

    insert(vec![USER.get(), ada.id.get(), ada.id.get()]).execute(&mut connection).await.unwrap();
    assert_eq!(all_jobs_of(&*test.store, ada.id).await, 2);
    assert_eq!(all_jobs_of(&*test.store, USER).await, 1);
}
