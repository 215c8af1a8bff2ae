//! Listing jobs by state without an index on `state` that every run would
//! rewrite: one way into the table per group of states, each written so
//! that both planners can use it, and the pages merged newest first.
//!
//! A job that runs passes through `queued`, `running` and `completed`, and
//! each change of state rewrites every index that names the state. So those
//! three reach their rows through what the queue needs anyway (the claim
//! index `jobs_ready`, the lease index `jobs_running`: a page costs as much
//! as there are jobs in that state, sorted) or through the table in id
//! order, where completed jobs are the bulk. The states off that path
//! share the partial index `jobs_off_path`, whose predicate a listing
//! repeats word for word: neither planner can use a partial index for a
//! state bound as a parameter, but both see that a query stating the
//! index's own predicate is covered by it.

use steward_domain::{Job, JobState};

/// The predicate of the `jobs_off_path` index (migration 28), repeated in
/// listings so the planners use the index.
pub(crate) const OFF_PATH_CONDITION: &str = "(state = 'blocked' OR state = 'cancelled' OR state = 'dead')";

/// One way into the table: the SQL condition that leads the planner to it,
/// the requested states it serves (bound as a parameter next to it), and
/// the index it is written for, if it must take one (both databases name
/// their indexes alike; SQLite is told to use it, see `jobs/sqlite/admin.rs`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct StatePath {
    pub condition: &'static str,
    pub states: Vec<JobState>,
    pub index: Option<&'static str>,
}

/// The ways into the table that a listing of `requested` states takes, one
/// query each. No states requested means every state, in one query.
pub(crate) fn state_paths(requested: &[JobState]) -> Vec<StatePath> {
    if requested.is_empty() {
        return vec![StatePath { condition: "TRUE", states: JobState::ALL.to_vec(), index: None }];
    }
    let mut paths: Vec<StatePath> = Vec::new();
    for state in JobState::ALL.into_iter().filter(|state| requested.contains(state)) {
        let (condition, index) = match state {
            JobState::Queued => ("state = 'queued'", Some("jobs_ready")),
            JobState::Running => ("state = 'running'", Some("jobs_running")),
            JobState::Completed => ("state = 'completed'", None),
            JobState::Blocked | JobState::Cancelled | JobState::Dead => (OFF_PATH_CONDITION, Some("jobs_off_path")),
        };
        match paths.iter_mut().find(|path| path.condition == condition) {
            Some(path) => path.states.push(state),
            None => paths.push(StatePath { condition, states: vec![state], index }),
        }
    }
    paths
}

/// One page from the pages of each way in, each already newest first and at
/// most `limit` long: the newest `limit` jobs of them all.
pub(crate) fn newest_first(pages: Vec<Vec<Job>>, limit: usize) -> Vec<Job> {
    let mut jobs: Vec<Job> = pages.into_iter().flatten().collect();
    jobs.sort_by_key(|job| std::cmp::Reverse(job.id));
    jobs.truncate(limit);
    jobs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_requested_state_is_served_by_exactly_one_path_named_by_its_condition() {
        // Every subset of the six states.
        for mask in 1u32..(1 << JobState::ALL.len()) {
            let requested: Vec<JobState> = JobState::ALL
                .into_iter()
                .enumerate()
                .filter(|(bit, _)| mask & (1 << bit) != 0)
                .map(|(_, s)| s)
                .collect();
            let paths = state_paths(&requested);
            let mut served: Vec<JobState> = paths.iter().flat_map(|path| path.states.clone()).collect();
            served.sort();
            let mut expected = requested.clone();
            expected.sort();
            assert_eq!(served, expected, "mask {mask:06b}");
            for path in &paths {
                for state in &path.states {
                    assert!(path.condition.contains(&format!("'{}'", state.as_str())), "{path:?}");
                }
            }
            assert!(paths.len() <= 4, "at most one query per way in: {paths:?}");
        }
    }

    #[test]
    fn no_states_means_one_query_for_every_state() {
        let paths = state_paths(&[]);
        assert_eq!(paths.len(), 1);
        assert_eq!(paths[0].states, JobState::ALL.to_vec());
    }

    #[test]
    fn the_off_path_condition_is_the_index_predicate_of_both_migrations() {
        for migration in [
            include_str!("../../migrations/sqlite/0028_job_indexes_off_the_claim_path.sql"),
            include_str!("../../migrations/postgres/0028_job_indexes_off_the_claim_path.sql"),
        ] {
            let index = format!("CREATE INDEX jobs_off_path ON jobs (user_id, id) WHERE {OFF_PATH_CONDITION};");
            assert!(migration.contains(&index), "{migration}");
        }
    }
}
