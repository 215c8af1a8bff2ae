//! Grouped commits of small enqueues on PostgreSQL, as the SQLite writer
//! does for everything: concurrent `enqueue` calls share one transaction,
//! one event append and one WAL flush.
//!
//! A call of up to [`GROUPED_UP_TO`] jobs is sent to the store's committers
//! (two tasks, so one group runs its statements while the other commits).
//! A committer takes every request waiting. When no job of the group names
//! an idempotency key or a dependency (the common case), the whole group is
//! one statement ([`crate::jobs::postgres::plain`]). Otherwise it joins the
//! requests without dependencies into one batch per user (up to the batch
//! limit, and never two jobs with the same idempotency key in one batch),
//! enqueues each batch, then each request with dependencies on its own, all
//! in one transaction. Either way each caller is answered with its own jobs
//! after the commit.
//!
//! The group is only a faster way to the same result: each request is
//! checked alone first (so its refusal names its own fields), and if the
//! group's transaction fails for any reason that its retries did not
//! resolve, every request of the group is run again in a transaction of its
//! own, which answers exactly as an ungrouped enqueue would. A caller that
//! gives up waiting leaves its jobs enqueued, as it would if it had given up
//! just after an ungrouped COMMIT.

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use steward_domain::access::Actor;
use steward_domain::{Clock, NewJob, UserId};
use tokio::sync::{Mutex, mpsc, oneshot};

use crate::actor::acting_as;
use crate::jobs::EnqueueOutcome;
use crate::jobs::postgres::enqueue;
use crate::jobs::postgres::plain::{self, PlainEnqueue};
use crate::postgres::transaction::Begin;
use crate::postgres::{self, PostgresStore};
use crate::wakeups::Wakeups;
use crate::{Result, StoreError, rules};

use steward_domain::job::limits::MAX_BATCH;

/// Calls of at most this many jobs are grouped; bigger batches already carry
/// many jobs per transaction.
pub(crate) const GROUPED_UP_TO: usize = 16;

/// Transactions of grouped enqueues in flight at once.
const COMMITTERS: usize = 2;

struct Request {
    user: UserId,
    /// Who asked, recorded on the events (see [`crate::actor`]).
    actor: Option<Actor>,
    jobs: Vec<NewJob>,
    reply: oneshot::Sender<Result<Vec<EnqueueOutcome>>>,
}

/// The channel to the committers of one store.
pub(crate) struct EnqueueGroups {
    sender: mpsc::UnboundedSender<Request>,
}

impl EnqueueGroups {
    /// Starts the committers; they end when this is dropped with its store.
    pub fn start(store: &PostgresStore) -> Self {
        let (sender, receiver) = mpsc::unbounded_channel();
        let receiver = Arc::new(Mutex::new(receiver));
        for _ in 0..COMMITTERS {
            let committer =
                Committer { pool: store.pool.clone(), wakeups: store.wakeups.clone(), clock: store.clock.clone() };
            tokio::spawn(committer.run(receiver.clone()));
        }
        EnqueueGroups { sender }
    }

    pub async fn enqueue(&self, user: UserId, jobs: Vec<NewJob>) -> Result<Vec<EnqueueOutcome>> {
        let (reply, answer) = oneshot::channel();
        self.sender
            .send(Request { user, actor: crate::actor::current(), jobs, reply })
            .map_err(|_| StoreError::Database("the enqueue committers have stopped".into()))?;
        answer.await.map_err(|_| StoreError::Database("an enqueue committer stopped before answering".into()))?
    }
}

struct Committer {
    pool: PgPool,
    wakeups: Arc<Wakeups>,
    clock: Arc<dyn Clock>,
}

impl Committer {
    async fn run(self, receiver: Arc<Mutex<mpsc::UnboundedReceiver<Request>>>) {
        loop {
            let group = {
                let mut receiver = receiver.lock().await;
                let Some(first) = receiver.recv().await else { return };
                let mut group = vec![first];
                while let Ok(next) = receiver.try_recv() {
                    group.push(next);
                }
                group
            };
            self.commit(group).await;
        }
    }

    async fn commit(&self, group: Vec<Request>) {
        // Each request checked alone, so a refusal names its own fields.
        let mut accepted = Vec::with_capacity(group.len());
        for request in group {
            match rules::check_batch(&request.jobs) {
                Ok(()) => accepted.push(request),
                Err(error) => {
                    let _ = request.reply.send(Err(error));
                }
            }
        }
        if accepted.is_empty() {
            return;
        }
        let now = self.clock.now();
        let plain: Option<Vec<PlainEnqueue>> =
            accepted.iter().map(|request| PlainEnqueue::new(request.user, request.actor, &request.jobs)).collect();
        let outcome = match plain {
            Some(requests) => plain::enqueue(&self.pool, &self.wakeups, &requests, now).await,
            None => self.commit_planned(&accepted, now).await,
        };
        match outcome {
            Ok(answers) => {
                for (request, own) in accepted.into_iter().zip(answers) {
                    let _ = request.reply.send(Ok(own));
                }
            }
            Err(error) => {
                if accepted.len() > 1 {
                    tracing::debug!(%error, requests = accepted.len(), "a grouped enqueue failed; enqueueing one by one");
                }
                for request in accepted {
                    let answer = acting_as(request.actor, self.alone(request.user, request.jobs)).await;
                    let _ = request.reply.send(answer);
                }
            }
        }
    }

    /// The group as batches per user ([`plan`]) in one transaction; the
    /// answers in request order.
    async fn commit_planned(&self, accepted: &[Request], now: DateTime<Utc>) -> Result<Vec<Vec<EnqueueOutcome>>> {
        let units = plan(accepted);
        let answers = postgres::write(&self.pool, &self.wakeups, Begin::Plain, |transaction| {
            let units: Vec<(UserId, Option<Actor>, Vec<NewJob>)> = units
                .iter()
                .map(|unit| {
                    let jobs = unit.members.iter().flat_map(|&index| accepted[index].jobs.clone()).collect();
                    (unit.user, unit.actor, jobs)
                })
                .collect();
            Box::pin(async move {
                let mut answers = Vec::with_capacity(units.len());
                for (user, actor, jobs) in units {
                    answers.push(acting_as(actor, enqueue::enqueue(transaction, user, jobs, now)).await?);
                }
                Ok(answers)
            })
        })
        .await?;
        let mut replies: Vec<Vec<EnqueueOutcome>> = vec![Vec::new(); accepted.len()];
        for (unit, outcomes) in units.iter().zip(answers) {
            let mut outcomes = outcomes.into_iter();
            for &index in &unit.members {
                replies[index] = outcomes.by_ref().take(accepted[index].jobs.len()).collect();
            }
        }
        Ok(replies)
    }

    /// One request in a transaction of its own: the ungrouped enqueue.
    async fn alone(&self, user: UserId, jobs: Vec<NewJob>) -> Result<Vec<EnqueueOutcome>> {
        let now = self.clock.now();
        postgres::write(&self.pool, &self.wakeups, Begin::Plain, |transaction| {
            let jobs = jobs.clone();
            Box::pin(enqueue::enqueue(transaction, user, jobs, now))
        })
        .await
    }
}

/// Requests enqueued by one `enqueue` call in the group's transaction.
#[derive(Debug, PartialEq)]
struct Unit {
    user: UserId,
    actor: Option<Actor>,
    /// Indexes of the requests, in order; their jobs are concatenated.
    members: Vec<usize>,
}

/// Joins the requests without dependencies into batches per user and actor
/// (within the batch limit, each idempotency key once per batch); each
/// request with dependencies is a unit of its own, after the batches, so a
/// dependency on a job enqueued by the same group is found stored.
fn plan(requests: &[Request]) -> Vec<Unit> {
    let requests: Vec<(UserId, Option<Actor>, &[NewJob])> =
        requests.iter().map(|request| (request.user, request.actor, request.jobs.as_slice())).collect();
    plan_of(&requests)
}

fn plan_of(requests: &[(UserId, Option<Actor>, &[NewJob])]) -> Vec<Unit> {
    struct Open {
        unit: Unit,
        jobs: usize,
        keys: HashSet<String>,
    }
    let mut open: Vec<Open> = Vec::new();
    let mut joined = Vec::new();
    let mut alone = Vec::new();
    for (index, (user, actor, jobs)) in requests.iter().enumerate() {
        if jobs.iter().any(|job| !job.depends_on.is_empty()) {
            alone.push(Unit { user: *user, actor: *actor, members: vec![index] });
            continue;
        }
        let keys: Vec<&str> = jobs.iter().filter_map(|job| job.idempotency_key.as_deref()).collect();
        let position = match open.iter().position(|batch| batch.unit.user == *user && batch.unit.actor == *actor) {
            Some(position)
                if open[position].jobs + jobs.len() <= MAX_BATCH
                    && keys.iter().all(|key| !open[position].keys.contains(*key)) =>
            {
                position
            }
            found => {
                // A full batch is closed and a new one opened in its place.
                if let Some(position) = found {
                    joined.push(open.remove(position).unit);
                }
                let unit = Unit { user: *user, actor: *actor, members: Vec::new() };
                open.push(Open { unit, jobs: 0, keys: HashSet::new() });
                open.len() - 1
            }
        };
        let batch = &mut open[position];
        batch.unit.members.push(index);
        batch.jobs += jobs.len();
        batch.keys.extend(keys.iter().map(|key| key.to_string()));
    }
    joined.extend(open.into_iter().map(|batch| batch.unit));
    joined.extend(alone);
    joined
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use steward_domain::JobRef;

    use super::*;

    fn job() -> NewJob {
        NewJob::new("noop", json!({}))
    }

    #[test]
    fn joins_requests_per_user_and_actor_keeps_keys_apart_and_runs_dependent_ones_alone() {
        let (alice, bob) = (UserId(1), UserId(2));
        let keyed = vec![job().with_key("k")];
        let dependent = vec![NewJob { depends_on: vec![JobRef::Key("k".into())], ..job() }];
        let plain = vec![job()];
        let token = Some(Actor { user: alice, token_id: Some(7) });
        let requests: Vec<(UserId, Option<Actor>, &[NewJob])> = vec![
            (alice, None, &plain),
            (bob, None, &plain),
            (alice, None, &keyed),
            (alice, None, &dependent),
            (alice, token, &plain),
            (alice, None, &keyed),
            (alice, None, &plain),
        ];
        let unit = |user, actor, members: &[usize]| Unit { user, actor, members: members.to_vec() };
        assert_eq!(
            plan_of(&requests),
            [
                unit(alice, None, &[0, 2]),
                unit(bob, None, &[1]),
                unit(alice, token, &[4]),
                unit(alice, None, &[5, 6]),
                unit(alice, None, &[3]),
            ]
        );
    }
}
