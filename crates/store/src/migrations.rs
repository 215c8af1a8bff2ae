//! Schema migrations for both backends: numbered SQL files embedded in the
//! binary, all pending ones applied in order in one transaction (both
//! databases have transactional DDL, so a failed upgrade leaves the old
//! schema intact), each recorded with a checksum so an edited migration is
//! detected instead of silently skipped.

/// One schema change.
#[derive(Clone, Copy, Debug)]
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

impl Migration {
    /// FNV-1a of the SQL text: stable across builds and platforms, enough to
    /// notice an edit (not a security boundary).
    pub fn checksum(&self) -> String {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in self.sql.as_bytes() {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
        format!("{hash:016x}")
    }
}

pub const SQLITE: &[Migration] = &[
    Migration { version: 1, name: "initial", sql: include_str!("../migrations/sqlite/0001_initial.sql") },
    Migration { version: 2, name: "agent_runtime", sql: include_str!("../migrations/sqlite/0002_agent_runtime.sql") },
    Migration { version: 4, name: "schema_parity", sql: include_str!("../migrations/sqlite/0004_schema_parity.sql") },
    Migration { version: 5, name: "agent_names", sql: include_str!("../migrations/sqlite/0005_agent_names.sql") },
    Migration { version: 6, name: "schedules", sql: include_str!("../migrations/sqlite/0006_schedules.sql") },
    Migration { version: 7, name: "routines", sql: include_str!("../migrations/sqlite/0007_routines.sql") },
    Migration { version: 8, name: "memory", sql: include_str!("../migrations/sqlite/0008_memory.sql") },
    Migration { version: 9, name: "auth", sql: include_str!("../migrations/sqlite/0009_auth.sql") },
    Migration { version: 10, name: "security", sql: include_str!("../migrations/sqlite/0010_security.sql") },
    Migration {
        version: 11,
        name: "routine_triggers",
        sql: include_str!("../migrations/sqlite/0011_routine_triggers.sql"),
    },
    Migration {
        version: 12,
        name: "model_calls_in_flight",
        sql: include_str!("../migrations/sqlite/0012_model_calls_in_flight.sql"),
    },
    Migration { version: 13, name: "nodes", sql: include_str!("../migrations/sqlite/0013_nodes.sql") },
    Migration { version: 14, name: "projects", sql: include_str!("../migrations/sqlite/0014_projects.sql") },
    Migration {
        version: 16,
        name: "project_agents",
        sql: include_str!("../migrations/sqlite/0016_project_agents.sql"),
    },
    Migration { version: 17, name: "project_work", sql: include_str!("../migrations/sqlite/0017_project_work.sql") },
    Migration { version: 18, name: "oversight", sql: include_str!("../migrations/sqlite/0018_oversight.sql") },
    Migration {
        version: 20,
        name: "memory_threads",
        sql: include_str!("../migrations/sqlite/0020_memory_threads.sql"),
    },
    Migration {
        version: 21,
        name: "quick_projects",
        sql: include_str!("../migrations/sqlite/0021_quick_projects.sql"),
    },
    Migration {
        version: 22,
        name: "guardian_policy",
        sql: include_str!("../migrations/sqlite/0022_guardian_policy.sql"),
    },
    Migration {
        version: 23,
        name: "duplicate_checks",
        sql: include_str!("../migrations/sqlite/0023_duplicate_checks.sql"),
    },
    Migration {
        version: 24,
        name: "memory_text_log",
        sql: include_str!("../migrations/sqlite/0024_memory_text_log.sql"),
    },
    Migration {
        version: 25,
        name: "gate_approvals",
        sql: include_str!("../migrations/sqlite/0025_gate_approvals.sql"),
    },
    Migration { version: 27, name: "task_replans", sql: include_str!("../migrations/sqlite/0027_task_replans.sql") },
    Migration {
        version: 28,
        name: "job_indexes_off_the_claim_path",
        sql: include_str!("../migrations/sqlite/0028_job_indexes_off_the_claim_path.sql"),
    },
    Migration { version: 29, name: "event_horizon", sql: include_str!("../migrations/sqlite/0029_event_horizon.sql") },
    Migration {
        version: 30,
        name: "job_owner_checked_per_statement",
        sql: include_str!("../migrations/sqlite/0030_job_owner_checked_per_statement.sql"),
    },
];

pub const POSTGRES: &[Migration] = &[
    Migration { version: 1, name: "initial", sql: include_str!("../migrations/postgres/0001_initial.sql") },
    Migration { version: 2, name: "agent_runtime", sql: include_str!("../migrations/postgres/0002_agent_runtime.sql") },
    Migration { version: 4, name: "schema_parity", sql: include_str!("../migrations/postgres/0004_schema_parity.sql") },
    Migration { version: 5, name: "agent_names", sql: include_str!("../migrations/postgres/0005_agent_names.sql") },
    Migration { version: 6, name: "schedules", sql: include_str!("../migrations/postgres/0006_schedules.sql") },
    Migration { version: 7, name: "routines", sql: include_str!("../migrations/postgres/0007_routines.sql") },
    Migration { version: 8, name: "memory", sql: include_str!("../migrations/postgres/0008_memory.sql") },
    Migration { version: 9, name: "auth", sql: include_str!("../migrations/postgres/0009_auth.sql") },
    Migration { version: 10, name: "security", sql: include_str!("../migrations/postgres/0010_security.sql") },
    Migration {
        version: 11,
        name: "routine_triggers",
        sql: include_str!("../migrations/postgres/0011_routine_triggers.sql"),
    },
    Migration {
        version: 12,
        name: "model_calls_in_flight",
        sql: include_str!("../migrations/postgres/0012_model_calls_in_flight.sql"),
    },
    Migration { version: 13, name: "nodes", sql: include_str!("../migrations/postgres/0013_nodes.sql") },
    Migration { version: 14, name: "projects", sql: include_str!("../migrations/postgres/0014_projects.sql") },
    Migration {
        version: 16,
        name: "project_agents",
        sql: include_str!("../migrations/postgres/0016_project_agents.sql"),
    },
    Migration { version: 17, name: "project_work", sql: include_str!("../migrations/postgres/0017_project_work.sql") },
    Migration { version: 18, name: "oversight", sql: include_str!("../migrations/postgres/0018_oversight.sql") },
    Migration {
        version: 20,
        name: "memory_threads",
        sql: include_str!("../migrations/postgres/0020_memory_threads.sql"),
    },
    Migration {
        version: 21,
        name: "quick_projects",
        sql: include_str!("../migrations/postgres/0021_quick_projects.sql"),
    },
    Migration {
        version: 22,
        name: "guardian_policy",
        sql: include_str!("../migrations/postgres/0022_guardian_policy.sql"),
    },
    Migration {
        version: 23,
        name: "duplicate_checks",
        sql: include_str!("../migrations/postgres/0023_duplicate_checks.sql"),
    },
    Migration {
        version: 24,
        name: "memory_text_log",
        sql: include_str!("../migrations/postgres/0024_memory_text_log.sql"),
    },
    Migration {
        version: 25,
        name: "gate_approvals",
        sql: include_str!("../migrations/postgres/0025_gate_approvals.sql"),
    },
    Migration { version: 27, name: "task_replans", sql: include_str!("../migrations/postgres/0027_task_replans.sql") },
    Migration {
        version: 28,
        name: "job_indexes_off_the_claim_path",
        sql: include_str!("../migrations/postgres/0028_job_indexes_off_the_claim_path.sql"),
    },
    Migration {
        version: 29,
        name: "event_horizon",
        sql: include_str!("../migrations/postgres/0029_event_horizon.sql"),
    },
    Migration {
        version: 30,
        name: "job_owner_checked_per_statement",
        sql: include_str!("../migrations/postgres/0030_job_owner_checked_per_statement.sql"),
    },
];

/// What a migration run did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MigrationReport {
    /// `(version, name)` of each migration applied by this run.
    pub applied: Vec<(i64, String)>,
    /// The schema version afterwards.
    pub version: i64,
}

/// Checks the applied migrations recorded in the database against the
/// embedded list and returns the ones still to apply.
pub fn pending<'a>(all: &'a [Migration], applied: &[(i64, String)]) -> Result<Vec<&'a Migration>, crate::StoreError> {
    for (version, checksum) in applied {
        match all.iter().find(|migration| migration.version == *version) {
            None => {
                return Err(crate::StoreError::Migration(format!(
                    "the database has migration {version}, which this binary does not know; \
                     it was written by a newer Steward"
                )));
            }
            Some(migration) if migration.checksum() != *checksum => {
                return Err(crate::StoreError::Migration(format!(
                    "migration {version} ({}) was changed after it was applied (checksum {checksum} in the database, {} in this binary)",
                    migration.name,
                    migration.checksum()
                )));
            }
            Some(_) => {}
        }
    }
    Ok(all.iter().filter(|migration| !applied.iter().any(|(version, _)| *version == migration.version)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_strictly_increasing() {
        for list in [SQLITE, POSTGRES] {
            assert!(list.windows(2).all(|pair| pair[0].version < pair[1].version));
        }
        assert_eq!(SQLITE.len(), POSTGRES.len(), "both backends share one schema history");
    }

    #[test]
    fn an_edited_migration_is_refused() {
        let applied = vec![(1, "0000000000000000".to_string())];
        let error = pending(SQLITE, &applied).unwrap_err().to_string();
        assert!(error.contains("was changed"), "{error}");
    }

    #[test]
    fn unknown_versions_mean_a_newer_binary_wrote_the_database() {
        let applied = vec![(1, SQLITE[0].checksum()), (99, "x".to_string())];
        assert!(pending(SQLITE, &applied).unwrap_err().to_string().contains("newer"));
    }
}
