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
        [
            (1, "initial".to_string()),
            (2, "agent_runtime".to_string()),
            (4, "schema_parity".to_string()),
            (5, "agent_names".to_string()),
            (6, "schedules".to_string()),
            (7, "routines".to_string()),
            (8, "memory".to_string()),
            (9, "auth".to_string()),
            (10, "security".to_string()),
            (11, "routine_triggers".to_string()),
            (12, "model_calls_in_flight".to_string()),
            (13, "nodes".to_string()),
            (14, "projects".to_string()),
            (16, "project_agents".to_string()),
            (17, "project_work".to_string()),
            (18, "oversight".to_string()),
            (20, "memory_threads".to_string()),
            (21, "quick_projects".to_string()),
            (22, "guardian_policy".to_string()),
            (23, "duplicate_checks".to_string()),
            (24, "memory_text_log".to_string()),
            (25, "gate_approvals".to_string()),
            (27, "task_replans".to_string()),
            (28, "job_indexes_off_the_claim_path".to_string()),
            (29, "event_horizon".to_string()),
            (30, "job_owner_checked_per_statement".to_string())
        ]
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

/// Migration 5 makes names unique without regard to case; a database that
/// already holds live agents differing only in case keeps all of them, the
/// later ones renamed with their id, and archived agents keep their names.
#[test]
fn the_agent_names_migration_renames_live_agents_that_differ_only_in_case() {
    let connection = rusqlite::Connection::open_in_memory().unwrap();
    let (before, after): (Vec<&steward_store::migrations::Migration>, Vec<_>) =
        steward_store::migrations::SQLITE.iter().partition(|migration| migration.version < 5);
    for migration in before {
        connection.execute_batch(migration.sql).unwrap();
    }
    connection
        .execute_batch(
            "INSERT INTO agents (id, user_id, name, goal, status, created_at, updated_at) VALUES
                 (1, 1, 'Launch', 'g', 'active', 0, 0),
                 (2, 1, 'launch', 'g', 'paused', 0, 0),
                 (3, 1, 'LAUNCH', 'g', 'archived', 0, 0),
                 (4, 1, 'Other', 'g', 'active', 0, 0);",
        )
        .unwrap();
    for migration in after {
        connection.execute_batch(migration.sql).unwrap();
    }
    let names: Vec<String> = connection
        .prepare("SELECT name FROM agents ORDER BY id")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert_eq!(names, ["Launch", "launch (2)", "LAUNCH", "Other"]);
    let duplicate = connection.execute(
        "INSERT INTO agents (user_id, name, goal, status, created_at, updated_at) VALUES (1, 'OTHER', 'g', 'active', 0, 0)",
        [],
    );
    assert!(duplicate.unwrap_err().to_string().contains("UNIQUE constraint failed"));
}

/// Migration 25 puts phase gates in the approvals inbox; a database with
/// documents already waiting gets their approvals: one for a project's
/// waiting document, one for a quick project's three waiting together, none
/// for decided documents.
#[test]
fn the_gate_approvals_migration_puts_waiting_documents_in_the_inbox() {
    let connection = rusqlite::Connection::open_in_memory().unwrap();
    let (before, after): (Vec<&steward_store::migrations::Migration>, Vec<_>) =
        steward_store::migrations::SQLITE.iter().partition(|migration| migration.version < 25);
    for migration in before {
        connection.execute_batch(migration.sql).unwrap();
    }
    connection
        .execute_batch(
            "INSERT INTO projects (id, user_id, title, brief, phase, gates, parallel_limit, layout, quick, created_at,
                                   updated_at) VALUES
                 (1, 1, 'Shop', '', 'design', '{}', 2, 'kiro', 0, 0, 0),
                 (2, 1, 'Dark mode', '', 'requirements', '{}', 2, 'kiro', 1, 0, 0);
             INSERT INTO project_documents (user_id, project_id, phase, version, status, document, created_at) VALUES
                 (1, 1, 'requirements', 1, 'approved', '{}', 5),
                 (1, 1, 'design', 2, 'proposed', '{}', 6),
                 (1, 2, 'requirements', 1, 'proposed', '{}', 7),
                 (1, 2, 'design', 1, 'proposed', '{}', 7),
                 (1, 2, 'tasks', 1, 'proposed', '{}', 7);",
        )
        .unwrap();
    for migration in after {
        connection.execute_batch(migration.sql).unwrap();
    }
    let approvals: Vec<(i64, String, String, serde_json::Value)> = connection
        .prepare("SELECT project_id, call_id, status, arguments FROM approvals WHERE tool = 'project.gate' ORDER BY id")
        .unwrap()
        .query_map([], |row| {
            let arguments: String = row.get(3)?;
            Ok((row.get(0)?, row.get(1)?, row.get(2)?, serde_json::from_str(&arguments).unwrap()))
        })
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    let phases = |list: &[&str]| serde_json::json!(list);
    assert_eq!(
        approvals,
        [
            (
                1,
                "design-v2".into(),
                "pending".into(),
                serde_json::json!({"project_id": 1, "title": "Shop",
                "phase": "design", "version": 2, "phases": phases(&["design"])})
            ),
            (
                2,
                "requirements-v1".into(),
                "pending".into(),
                serde_json::json!({"project_id": 2, "title": "Dark mode",
                "phase": "requirements", "version": 1, "phases": phases(&["requirements", "design", "tasks"])})
            ),
        ]
    );
    let second = connection.execute(
        "INSERT INTO approvals (user_id, call_id, tool, arguments, status, created_at, project_id)
         VALUES (1, 'design-v3', 'project.gate', '{}', 'pending', 0, 1)",
        [],
    );
    assert!(second.unwrap_err().to_string().contains("UNIQUE constraint failed"), "one gate waits per project");
}
