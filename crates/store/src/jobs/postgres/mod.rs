//! [`JobQueue`] on PostgreSQL: each write is one transaction through
//! [`PostgresStore::write`]; reads use a pooled connection.

pub(crate) mod admin;
pub(crate) mod claims;
pub(crate) mod dependents;
pub(crate) mod enqueue;
pub(crate) mod grouped;
pub(crate) mod leases;
pub(crate) mod settlements;

use std::time::Duration;
use steward_domain::access::Owners;

use async_trait::async_trait;
use steward_domain::{Event, Job, JobId, NewJob, UserId};

use crate::Result;
use crate::jobs::{
    ClaimRequest, ClaimResponse, EnqueueOutcome, JobCounts, JobFilter, JobQueue, LeaseRef, LeaseStatus, SettleOutcome,
    Settlement,
};
use crate::postgres::PostgresStore;
use crate::postgres::transaction::Begin;

/// What a lease that was never renewed is recorded as. On PostgreSQL other
/// nodes may be alive, so start-up recovery also takes back only expired
/// leases, and says so in the same words.
const LEASE_EXPIRED: &str = "lease expired: the worker stopped renewing it";

#[async_trait]
impl JobQueue for PostgresStore {
    async fn enqueue(&self, user: UserId, jobs: Vec<NewJob>) -> Result<Vec<EnqueueOutcome>> {
        if jobs.len() <= grouped::GROUPED_UP_TO {
            return self.area_state(grouped::EnqueueGroups::start).enqueue(user, jobs).await;
        }
        let now = self.now();
        self.write(Begin::Plain, |transaction| {
            let jobs = jobs.clone();
            Box::pin(enqueue::enqueue(transaction, user, jobs, now))
        })
        .await
    }

    async fn claim(&self, request: ClaimRequest) -> Result<ClaimResponse> {
        let now = self.now();
        let settings = &self.settings;
        let begin = if request.settlements.is_empty() { Begin::ClaimOnly } else { Begin::Claim };
        self.write(begin, |transaction| {
            let request = request.clone();
            let settings = settings.clone();
            Box::pin(async move { claims::claim(transaction, request, now, &settings).await })
        })
        .await
    }

    async fn settle(&self, settlements: Vec<Settlement>) -> Result<Vec<SettleOutcome>> {
        let now = self.now();
        let settings = &self.settings;
        self.write(Begin::Plain, |transaction| {
            let settlements = settlements.clone();
            let settings = settings.clone();
            Box::pin(async move { settlements::settle(transaction, &settlements, now, &settings).await })
        })
        .await
    }

    async fn heartbeat(&self, worker_id: &str, leases: Vec<LeaseRef>, lease: Duration) -> Result<Vec<LeaseStatus>> {
        let now = self.now();
        self.write(Begin::LeaseRenewal, |transaction| {
            let (worker_id, leases) = (worker_id.to_string(), leases.clone());
            Box::pin(async move { leases::heartbeat(transaction, &worker_id, &leases, lease, now).await })
        })
        .await
    }

    async fn release(&self, worker_id: &str, leases: Vec<LeaseRef>) -> Result<usize> {
        let now = self.now();
        self.write(Begin::Plain, |transaction| {
            let (worker_id, leases) = (worker_id.to_string(), leases.clone());
            Box::pin(async move { leases::release(transaction, &worker_id, &leases, now).await })
        })
        .await
    }

    async fn reclaim_expired_leases(&self) -> Result<usize> {
        let now = self.now();
        self.write(Begin::Plain, |transaction| Box::pin(leases::reclaim_expired(transaction, now, LEASE_EXPIRED))).await
    }

    async fn recover_abandoned_jobs(&self) -> Result<usize> {
        self.reclaim_expired_leases().await
    }

    async fn cancel_job(&self, user: UserId, id: JobId) -> Result<Job> {
        let now = self.now();
        self.write(Begin::Plain, |transaction| Box::pin(admin::cancel(transaction, user, id, now))).await
    }

    async fn retry_job(&self, user: UserId, id: JobId) -> Result<Job> {
        let now = self.now();
        self.write(Begin::Plain, |transaction| Box::pin(admin::retry(transaction, user, id, now))).await
    }

    async fn get_job(&self, user: UserId, id: JobId) -> Result<Job> {
        admin::load(&mut *self.pool.acquire().await?, user, id).await
    }

    async fn list_jobs(&self, owners: Owners, filter: JobFilter) -> Result<Vec<Job>> {
        admin::list(&mut *self.pool.acquire().await?, owners, &filter).await
    }

    async fn count_jobs(&self, owners: Owners, filter: JobFilter) -> Result<JobCounts> {
        admin::count(&mut *self.pool.acquire().await?, owners, &filter).await
    }

    async fn job_events(&self, user: UserId, id: JobId) -> Result<Vec<Event>> {
        admin::events(&mut *self.pool.acquire().await?, user, id).await
    }
}
