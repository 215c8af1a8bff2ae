//! Schema parity: both databases' migrations must build the same schema.
//!
//! A fresh SQLite database and a fresh PostgreSQL schema are migrated by the
//! store and read back from their catalogs into one model (`model.rs`):
//! tables; columns with their type (paired through [`TYPE_MAPPING`]),
//! nullability, default and collation; primary keys; UNIQUE constraints;
//! indexes with their keys, order, collation, uniqueness and WHERE clause;
//! CHECK constraints; foreign keys. Expressions are compared by meaning (`expression.rs`). Every
//! difference fails the test with a line saying what differs, unless it is
//! in [`DELIBERATE_DIFFERENCES`] with its reason, which makes that list the
//! record of how the two schemas differ on purpose.
//!
//! Without `STEWARD_TEST_DATABASE_URL` the PostgreSQL half is skipped (and
//! says so); the migration lists and files are still compared, so a
//! migration added to one database only fails everywhere.

mod compare;
mod expression;
mod model;
mod postgres;
mod sqlite;

use std::collections::BTreeSet;
use std::path::PathBuf;

use sqlx::{Connection, PgConnection};
use steward_store::migrations::{Migration, POSTGRES, SQLITE};
use steward_store::{DatabaseUrl, StoreOptions};
use steward_test_support::TestDatabase;
use steward_test_support::database::POSTGRES_URL_VARIABLE;

/// How a column's SQLite type pairs with its PostgreSQL type: a column
/// matches when its two types are a row of [`TYPE_MAPPING`].
#[derive(Debug)]
pub struct TypePair {
    /// The declared type of a STRICT table.
    pub sqlite: &'static str,
    /// As PostgreSQL's `format_type` prints it.
    pub postgres: &'static str,
    pub meaning: &'static str,
    pub columns: PairedColumns,
}

#[derive(Debug, PartialEq, Eq)]
pub enum PairedColumns {
    Any,
    /// Only columns named `*_at`, or listed in [`TIME_COLUMNS_NOT_NAMED_AT`]:
    /// an INTEGER paired with a timestamp anywhere else is a mistake.
    TimesOnly,
}

/// The type mapping: the only (SQLite, PostgreSQL) type pairs a column may
/// have. SQLite's tables are STRICT, so their declared types are exact.
pub const TYPE_MAPPING: &[TypePair] = &[
    TypePair { sqlite: "INTEGER", postgres: "bigint", meaning: "integer", columns: PairedColumns::Any },
    TypePair {
        sqlite: "INTEGER",
        postgres: "integer",
        meaning: "integer known to fit 32 bits; SQLite's INTEGER is always 64-bit",
        columns: PairedColumns::Any,
    },
    TypePair {
        sqlite: "INTEGER",
        postgres: "boolean",
        meaning: "boolean, 0 or 1 on SQLite",
        columns: PairedColumns::Any,
    },
    TypePair {
        sqlite: "INTEGER",
        postgres: "timestamp with time zone",
        meaning: "UTC instant; microseconds since the Unix epoch on SQLite",
        columns: PairedColumns::TimesOnly,
    },
    TypePair { sqlite: "REAL", postgres: "double precision", meaning: "floating point", columns: PairedColumns::Any },
    TypePair { sqlite: "TEXT", postgres: "text", meaning: "text", columns: PairedColumns::Any },
    TypePair { sqlite: "BLOB", postgres: "bytea", meaning: "bytes", columns: PairedColumns::Any },
    TypePair {
        sqlite: "TEXT",
        postgres: "jsonb",
        meaning: "JSON document; its text on SQLite",
        columns: PairedColumns::Any,
    },
];

/// Time columns whose names do not end in `_at`, as (table, column).
pub const TIME_COLUMNS_NOT_NAMED_AT: &[(&str, &str)] = &[("actions", "scheduled_for")];

/// A difference between the schemas that is meant, with the reason.
#[derive(Debug)]
pub struct DeliberateDifference {
    /// The difference exactly as the comparison reports it.
    pub difference: &'static str,
    pub reason: &'static str,
}

/// The differences between the two schemas that are on purpose. An entry
/// that no longer matches a difference fails the test too, so the list
/// stays true.
pub const DELIBERATE_DIFFERENCES: &[DeliberateDifference] = &[
    DeliberateDifference {
        difference: "table `steward_migrations`: column `version` has a generated key in sqlite, no default in postgres",
        reason: "SQLite makes every INTEGER PRIMARY KEY the rowid, which it assigns when an insert leaves it out; \
                 the migration runner always gives the version, so neither database ever picks one",
    },
    DeliberateDifference {
        difference: "table `memory_text` only in sqlite",
        reason: "memory's full text on SQLite is one FTS5 table over episodes, entities and facts; PostgreSQL \
                 indexes each table's text with a GIN index on to_tsvector instead (the three below)",
    },
    DeliberateDifference {
        difference: "table `memory_episodes`: index `memory_episodes_text` only in postgres",
        reason: "full text on PostgreSQL; memory_text on SQLite",
    },
    DeliberateDifference {
        difference: "table `memory_entities`: index `memory_entities_text` only in postgres",
        reason: "full text on PostgreSQL; memory_text on SQLite",
    },
    DeliberateDifference {
        difference: "table `memory_facts`: index `memory_facts_text` only in postgres",
        reason: "full text on PostgreSQL; memory_text on SQLite",
    },
    DeliberateDifference {
        difference: "table `jobs`: foreign key (user_id) references users (id) on update no action on delete no action \
                     only in sqlite",
        reason: "PostgreSQL checks a job's owner with statement triggers (migration 30): its foreign key ran one query \
                 per inserted job, more than the insert itself; SQLite's is a primary-key lookup in process",
    },
];

#[test]
fn both_databases_have_the_same_migration_history() {
    let history = |migrations: &[Migration]| {
        migrations.iter().map(|migration| (migration.version, migration.name)).collect::<Vec<_>>()
    };
    assert_eq!(
        history(SQLITE),
        history(POSTGRES),
        "every migration must exist for both databases, with the same version and name"
    );
}

#[test]
fn every_migration_file_has_a_twin_and_is_registered() {
    let directory = |dialect: &str| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("migrations").join(dialect);
    let files = |dialect: &str| -> BTreeSet<String> {
        std::fs::read_dir(directory(dialect))
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    };
    let (sqlite_files, postgres_files) = (files("sqlite"), files("postgres"));
    assert_eq!(
        sqlite_files.difference(&postgres_files).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "migrations/sqlite has files without a twin in migrations/postgres"
    );
    assert_eq!(
        postgres_files.difference(&sqlite_files).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "migrations/postgres has files without a twin in migrations/sqlite"
    );
    for (dialect, migrations, files) in [("sqlite", SQLITE, &sqlite_files), ("postgres", POSTGRES, &postgres_files)] {
        let registered: BTreeSet<String> =
            migrations.iter().map(|migration| format!("{:04}_{}.sql", migration.version, migration.name)).collect();
        assert_eq!(&registered, files, "migrations/{dialect} and the list in src/migrations.rs differ");
        for migration in migrations {
            let file = directory(dialect).join(format!("{:04}_{}.sql", migration.version, migration.name));
            assert_eq!(
                migration.sql,
                std::fs::read_to_string(&file).unwrap(),
                "migration {} of {dialect} does not embed {}",
                migration.version,
                file.display()
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_migrated_schemas_match() {
    let sqlite_database = TestDatabase::sqlite();
    sqlite_database.open(StoreOptions::default()).await.close().await;
    let DatabaseUrl::Sqlite(path) = &sqlite_database.url else { unreachable!("a SQLite test database") };
    let sqlite_schema = sqlite::introspect(path);
    assert!(
        ["jobs", "runs", "steward_migrations"].iter().all(|table| sqlite_schema.tables.contains_key(*table)),
        "the SQLite schema was not read: {:?}",
        sqlite_schema.tables.keys().collect::<Vec<_>>()
    );

    let Some(postgres_database) = TestDatabase::postgres().await else {
        eprintln!(
            "schema parity: the PostgreSQL half was SKIPPED because {POSTGRES_URL_VARIABLE} is not set; \
             only the migration lists and files were compared"
        );
        return;
    };
    postgres_database.open(StoreOptions::default()).await.close().await;
    let DatabaseUrl::Postgres(url) = &postgres_database.url else { unreachable!("a PostgreSQL test database") };
    let mut connection = PgConnection::connect(url).await.unwrap();
    let postgres_schema = postgres::introspect(&mut connection).await;
    connection.close().await.unwrap();

    let differences = compare::differences(&sqlite_schema, &postgres_schema);
    let unexplained: Vec<&String> = differences
        .iter()
        .filter(|difference| !DELIBERATE_DIFFERENCES.iter().any(|deliberate| deliberate.difference == *difference))
        .collect();
    let stale: Vec<&str> = DELIBERATE_DIFFERENCES
        .iter()
        .map(|deliberate| deliberate.difference)
        .filter(|deliberate| !differences.iter().any(|difference| difference == deliberate))
        .collect();
    for deliberate in DELIBERATE_DIFFERENCES {
        eprintln!("schema parity: deliberate: {} ({})", deliberate.difference, deliberate.reason);
    }
    let mut report = String::new();
    if !unexplained.is_empty() {
        report.push_str("the SQLite and PostgreSQL schemas differ:\n");
        for difference in &unexplained {
            report.push_str(&format!("  - {difference}\n"));
        }
        report.push_str(
            "fix the side that is wrong with a new migration (never edit an applied one), or, if the \
             difference is meant, add it to DELIBERATE_DIFFERENCES in schema_parity.rs with the reason\n",
        );
        if unexplained.iter().any(|difference| difference.contains("type mapping")) {
            report.push_str("the type mapping (sqlite = postgres: meaning):\n");
            for pair in TYPE_MAPPING {
                report.push_str(&format!("  {} = {}: {}\n", pair.sqlite, pair.postgres, pair.meaning));
            }
        }
    }
    if !stale.is_empty() {
        report.push_str("these DELIBERATE_DIFFERENCES no longer exist; remove them:\n");
        for difference in &stale {
            report.push_str(&format!("  - {difference}\n"));
        }
    }
    assert!(report.is_empty(), "{report}");
}
