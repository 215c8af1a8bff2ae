//! [`JobQueue`] on SQLite: writes go through the single writer, reads through
//! the read pool.

pub(crate) mod admin;
pub(crate) mod dependents;
pub(crate) mod enqueue;
pub(crate) mod leases;

use std::time::Duration;
use steward_domain::access::Owners;

use async_trait::async_trait;
use steward_domain::{Event, Job, JobId, NewJob, UserId};

use crate::Result;
use crate::jobs::{
    ClaimRequest, ClaimResponse, EnqueueOutcome, JobCounts, JobFilter, JobQueue, LeaseRef, LeaseStatus, SettleOutcome,
    Settlement,
};
use crate::sqlite::SqliteStore;

#[async_trait]
impl JobQueue for SqliteStore {
    async fn enqueue(&self, user: UserId, jobs: Vec<NewJob>) -> Result<Vec<EnqueueOutcome>> {
        let now = self.now();
        self.writer.write(move |connection, effects| enqueue::enqueue(connection, effects, user, jobs, now)).await
    }

    async fn claim(&self, request: ClaimRequest) -> Result<ClaimResponse> {
        let now = self.now();
        let settings = self.settings.clone();
        self.writer.write(move |connection, effects| leases::claim(connection, effects, request, now, &settings)).await
    }

    async fn settle(&self, settlements: Vec<Settlement>) -> Result<Vec<SettleOutcome>> {
        let now = self.now();
        let settings = self.settings.clone();
        self.writer
            .write(move |connection, effects| leases::settle(connection, effects, &settlements, now, &settings))
            .await
    }

    async fn heartbeat(&self, worker_id: &str, leases: Vec<LeaseRef>, lease: Duration) -> Result<Vec<LeaseStatus>> {
        let now = self.now();
        let worker_id = worker_id.to_string();
        self.writer
            .write(move |connection, _effects| leases::heartbeat(connection, &worker_id, &leases, lease, now))
            .await
    }

    async fn release(&self, worker_id: &str, leases: Vec<LeaseRef>) -> Result<usize> {
        let now = self.now();
        let worker_id = worker_id.to_string();
        self.writer
            .write(move |connection, effects| leases::release(connection, effects, &worker_id, &leases, now))
            .await
    }

    async fn reclaim_expired_leases(&self) -> Result<usize> {
        let now = self.now();
        self.writer
            .write(move |connection, effects| {
                leases::reclaim(connection, effects, Some(now), now, "lease expired: the worker stopped renewing it")
            })
            .await
    }

    async fn recover_abandoned_jobs(&self) -> Result<usize> {
        let now = self.now();
        self.writer
            .write(move |connection, effects| {
                leases::reclaim(connection, effects, None, now, "abandoned: the process running it stopped")
            })
            .await
    }

    async fn cancel_job(&self, user: UserId, id: JobId) -> Result<Job> {
        let now = self.now();
        self.writer.write(move |connection, effects| admin::cancel(connection, effects, user, id, now)).await
    }

    async fn retry_job(&self, user: UserId, id: JobId) -> Result<Job> {
        let now = self.now();
        self.writer.write(move |connection, effects| admin::retry(connection, effects, user, id, now)).await
    }

    async fn get_job(&self, user: UserId, id: JobId) -> Result<Job> {
        self.readers.read(move |connection| admin::load(connection, user, id)).await
    }

    async fn list_jobs(&self, owners: Owners, filter: JobFilter) -> Result<Vec<Job>> {
        self.readers.read(move |connection| admin::list(connection, owners, &filter)).await
    }

    async fn count_jobs(&self, owners: Owners, filter: JobFilter) -> Result<JobCounts> {
        self.readers.read(move |connection| admin::count(connection, owners, &filter)).await
    }

    async fn job_events(&self, user: UserId, id: JobId) -> Result<Vec<Event>> {
        self.readers.read(move |connection| admin::events(connection, user, id)).await
    }
}
