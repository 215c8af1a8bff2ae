//! Deliveries: one row per (fire or run, destination), the job that sends
//! it, and each attempt's outcome (status, HTTP status, response excerpt,
//! reason). The rules are in `decide.rs`, written once for both databases.

pub(crate) mod decide;
pub(crate) mod postgres;
pub(crate) mod sqlite;

use async_trait::async_trait;
use steward_domain::access::Owners;
use steward_domain::delivery::{AttemptResult, Delivery, DeliveryStatus, NewDeliveries};
use steward_domain::{DeliveryId, FireId, RunId, UserId};

use crate::Result;

/// Most deliveries one list returns.
pub const MAX_PAGE: usize = 500;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct DeliveryFilter {
    pub status: Option<DeliveryStatus>,
    pub run_id: Option<RunId>,
    pub fire_id: Option<FireId>,
    /// Only deliveries with a smaller id (newest first paging).
    pub before: Option<DeliveryId>,
    /// At most this many (capped at [`MAX_PAGE`]; 0 means the cap).
    pub limit: usize,
}

/// What a worker may do when it starts an attempt.
#[derive(Clone, Debug, PartialEq)]
pub enum DeliveryAttempt {
    /// Sent earlier (a retried or replayed job): nothing to do.
    AlreadySent(Delivery),
    /// Marked `sending` (attempt counted). `in_doubt`: an earlier attempt
    /// started and never recorded its end, so it may have sent.
    Started { delivery: Delivery, in_doubt: bool },
}

#[async_trait]
pub trait DeliveryStore {
    /// Records one delivery per destination of `new.run_id` and enqueues
    /// its job (kind `delivery.send`, depending on the run's job, keyed by
    /// the delivery's idempotency key), in one transaction. A destination
    /// already recorded for the same fire (or run) returns the existing
    /// delivery: asking twice sends once.
    async fn create_deliveries(&self, user: UserId, new: NewDeliveries) -> Result<Vec<Delivery>>;

    async fn get_delivery(&self, user: UserId, id: DeliveryId) -> Result<Delivery>;

    /// Deliveries matching `filter`, newest first.
    async fn list_deliveries(&self, owners: Owners, filter: DeliveryFilter) -> Result<Vec<Delivery>>;

    /// For the worker: marks an attempt started (`sending`, attempts + 1),
    /// committed before anything is sent.
    async fn begin_delivery_attempt(&self, id: DeliveryId) -> Result<DeliveryAttempt>;

    /// For the worker: records how the attempt ended (event
    /// `delivery.sent` or `delivery.failed`).
    async fn finish_delivery_attempt(&self, id: DeliveryId, result: AttemptResult) -> Result<Delivery>;

    /// A person's retry of a dead delivery: `pending` again, with a new job.
    /// A sent one is refused (`illegal_transition`).
    async fn retry_delivery(&self, user: UserId, id: DeliveryId) -> Result<Delivery>;
}
