//! A fresh, migrated database per test: a SQLite file in a temporary
//! directory, or a new schema in the PostgreSQL database named by
//! `STEWARD_TEST_DATABASE_URL` (dropped again when the test ends).

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use rand::Rng;
use sqlx::{AssertSqlSafe, Connection, PgConnection};
use steward_domain::ManualClock;
use steward_store::{DatabaseUrl, Store, StoreOptions};
use tempfile::TempDir;

/// The variable naming the PostgreSQL server tests may use.
pub const POSTGRES_URL_VARIABLE: &str = "STEWARD_TEST_DATABASE_URL";

/// A database that exists for one test.
pub struct TestDatabase {
    pub url: DatabaseUrl,
    /// Keeps the SQLite file alive.
    directory: Option<TempDir>,
    /// The PostgreSQL server URL and the schema to drop afterwards.
    postgres: Option<(String, String)>,
}

impl TestDatabase {
    pub fn sqlite() -> TestDatabase {
        let directory = tempfile::tempdir().expect("temporary directory");
        let url = DatabaseUrl::Sqlite(directory.path().join("steward.db"));
        TestDatabase { url, directory: Some(directory), postgres: None }
    }

    /// A fresh schema on the test PostgreSQL server, or `None` (with a note on
    /// stderr) when `STEWARD_TEST_DATABASE_URL` is not set.
    pub async fn postgres() -> Option<TestDatabase> {
        let Ok(server) = std::env::var(POSTGRES_URL_VARIABLE) else {
            eprintln!("skipping the PostgreSQL variant: {POSTGRES_URL_VARIABLE} is not set");
            return None;
        };
        let schema = format!("test_{:016x}", rand::rng().random::<u64>());
        let mut connection = PgConnection::connect(&server).await.expect("connect to the test PostgreSQL server");
        // The schema name is generated above, never user input.
        sqlx::query(AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
            .execute(&mut connection)
            .await
            .expect("create schema");
        connection.close().await.ok();
        let separator = if server.contains('?') { '&' } else { '?' };
        let url = format!("{server}{separator}options=-c%20search_path%3D{schema}");
        Some(TestDatabase { url: DatabaseUrl::Postgres(url), directory: None, postgres: Some((server, schema)) })
    }

    /// The SQLite file's directory (for tests that look at files next to it).
    pub fn directory(&self) -> Option<&std::path::Path> {
        self.directory.as_ref().map(TempDir::path)
    }

    /// Opens and migrates the database with `options`.
    pub async fn open(&self, options: StoreOptions) -> Arc<dyn Store> {
        let store = steward_store::open(&self.url, options).await.expect("open the test database");
        store.migrate().await.expect("migrate the test database");
        store
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some((server, schema)) = self.postgres.take() else {
            return;
        };
        // Drop runs outside any runtime we may block, so the schema is
        // dropped from a short-lived thread with its own runtime.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            runtime.block_on(async move {
                let mut connection = PgConnection::connect(&server).await.ok()?;
                sqlx::query(AssertSqlSafe(format!("DROP SCHEMA IF EXISTS {schema} CASCADE")))
                    .execute(&mut connection)
                    .await
                    .ok()?;
                Some(())
            })
        })
        .join();
    }
}

/// A migrated store on a manual clock, with the database it lives in.
pub struct TestStore {
    pub store: Arc<dyn Store>,
    pub clock: Arc<ManualClock>,
    pub database: TestDatabase,
}

impl TestStore {
    /// Opens `database` with a manual clock starting at 2030-01-01T00:00:00Z.
    pub async fn open(database: TestDatabase) -> TestStore {
        let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap()));
        let options = StoreOptions { clock: clock.clone(), ..StoreOptions::default() };
        let store = database.open(options).await;
        TestStore { store, clock, database }
    }

    pub async fn sqlite() -> TestStore {
        TestStore::open(TestDatabase::sqlite()).await
    }

    pub async fn postgres() -> Option<TestStore> {
        Some(TestStore::open(TestDatabase::postgres().await?).await)
    }
}

/// Runs each named test function (`async fn(TestStore)`) against SQLite and,
/// when configured, PostgreSQL, as `sqlite::<name>` and `postgres::<name>`.
#[macro_export]
macro_rules! store_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::TestStore::sqlite().await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(store) = $crate::TestStore::postgres().await {
                        super::$name(store).await;
                    }
                }
            )*
        }
    };
}
