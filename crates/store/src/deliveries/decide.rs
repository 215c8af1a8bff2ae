//! The rules of deliveries, written once for both databases: which rows a
//! request adds, the job that sends each, what an attempt may do given the
//! stored status, and what its outcome changes.

use steward_domain::delivery::{
    self, AttemptResult, Delivery, DeliveryStatus, Destination, FailureClass, NewDeliveries, SendPayload,
    idempotency_key,
};
use steward_domain::{DeliveryId, JobId, JobRef, NewEvent, NewJob, Run};

use crate::deliveries::DeliveryAttempt;
use crate::{ConflictKind, StoreError};

/// A row to insert (unless its key is already recorded).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct NewRow {
    pub destination: Destination,
    pub key: String,
}

/// One row per distinct destination; at least one destination.
pub(crate) fn new_rows(new: &NewDeliveries) -> Result<Vec<NewRow>, StoreError> {
    if new.destinations.is_empty() {
        return Err(StoreError::invalid("destinations", "name at least one destination"));
    }
    let mut rows: Vec<NewRow> = Vec::new();
    for destination in &new.destinations {
        let key = idempotency_key(new.run_id, new.fire_id, destination);
        if !rows.iter().any(|row| row.key == key) {
            rows.push(NewRow { destination: destination.clone(), key });
        }
    }
    Ok(rows)
}

/// The job that sends delivery `id`: after the run's job when it has one.
pub(crate) fn send_job(id: DeliveryId, key: &str, run: &Run) -> NewJob {
    let job = NewJob::new(delivery::JOB_KIND, SendPayload { delivery: id }.to_json())
        .with_queue(delivery::QUEUE)
        .with_key(key)
        .with_max_attempts(delivery::MAX_ATTEMPTS)
        .with_timeout(delivery::JOB_TIMEOUT);
    match run.job_id {
        Some(run_job) => job.depending_on(JobRef::Id(run_job)),
        None => job,
    }
}

/// A person's retry: a new job (its key names the retry, so it is not the
/// old, dead one) with nothing to wait for.
pub(crate) fn retry_job(delivery: &Delivery) -> NewJob {
    NewJob::new(delivery::JOB_KIND, SendPayload { delivery: delivery.id }.to_json())
        .with_queue(delivery::QUEUE)
        .with_key(format!("{}:retry-{}", delivery.idempotency_key, delivery.attempts))
        .with_max_attempts(delivery::MAX_ATTEMPTS)
        .with_timeout(delivery::JOB_TIMEOUT)
}

/// The job of an enqueue answer.
pub(crate) fn job_id(outcomes: &[crate::EnqueueOutcome]) -> Result<JobId, StoreError> {
    outcomes.first().map(|outcome| outcome.job.id).ok_or_else(|| StoreError::Database("enqueue returned no job".into()))
}

/// What starting an attempt does: nothing after a send; otherwise
/// `sending`, in doubt when the last attempt never ended.
pub(crate) fn begin(mut delivery: Delivery) -> DeliveryAttempt {
    match delivery.status {
        DeliveryStatus::Sent => DeliveryAttempt::AlreadySent(delivery),
        status => {
            delivery.status = DeliveryStatus::Sending;
            delivery.attempts += 1;
            DeliveryAttempt::Started { delivery, in_doubt: status == DeliveryStatus::Sending }
        }
    }
}

/// The stored change of an attempt's end, and its event.
pub(crate) fn finish(mut delivery: Delivery, result: AttemptResult) -> (Delivery, NewEvent) {
    let destination = delivery.shown_destination();
    match result {
        AttemptResult::Sent(sent) => {
            delivery.status = DeliveryStatus::Sent;
            delivery.http_status = sent.http_status;
            delivery.response_excerpt = sent.response_excerpt;
            delivery.external_id = sent.external_id;
            delivery.error = None;
            let event = NewEvent::DeliverySent {
                delivery: delivery.id,
                run_id: delivery.run_id,
                destination,
                attempt: delivery.attempts,
            };
            (delivery, event)
        }
        AttemptResult::Failed { failure, final_attempt } => {
            let dead = failure.class == FailureClass::Permanent || final_attempt;
            delivery.status = if dead { DeliveryStatus::Dead } else { DeliveryStatus::Retrying };
            delivery.http_status = failure.http_status;
            delivery.response_excerpt = failure.response_excerpt;
            delivery.error = Some(failure.reason.clone());
            let event = NewEvent::DeliveryFailed {
                delivery: delivery.id,
                run_id: delivery.run_id,
                destination,
                attempt: delivery.attempts,
                status: delivery.status,
                reason: failure.reason,
            };
            (delivery, event)
        }
    }
}

/// Only a dead delivery is retried by hand.
pub(crate) fn check_retry(delivery: &Delivery) -> Result<(), StoreError> {
    match delivery.status {
        DeliveryStatus::Dead => Ok(()),
        DeliveryStatus::Sent => Err(StoreError::conflict(
            ConflictKind::IllegalTransition,
            None,
            format!("delivery {} was sent; sending it again needs a replay with --resend", delivery.id),
        )),
        status => Err(StoreError::conflict(
            ConflictKind::IllegalTransition,
            None,
            format!("delivery {} is {status}; only a dead delivery can be retried", delivery.id),
        )),
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use steward_domain::delivery::{AttemptFailure, Sent};
    use steward_domain::{RunId, UserId};

    use super::*;

    fn delivery(status: DeliveryStatus) -> Delivery {
        let now = Utc::now();
        Delivery {
            id: DeliveryId(1),
            user_id: UserId(1),
            run_id: RunId(2),
            fire_id: None,
            destination: "webhook:https://h.example/secret".into(),
            kind: "webhook".into(),
            idempotency_key: "delivery:run-2:webhook:x".into(),
            job_id: None,
            status,
            attempts: 1,
            http_status: None,
            response_excerpt: None,
            error: None,
            external_id: None,
            created_at: now,
            updated_at: now,
            sent_at: None,
        }
    }

    #[test]
    fn an_attempt_after_a_send_does_nothing_and_after_a_crash_is_in_doubt() {
        assert!(matches!(begin(delivery(DeliveryStatus::Sent)), DeliveryAttempt::AlreadySent(_)));
        let DeliveryAttempt::Started { delivery: started, in_doubt } = begin(delivery(DeliveryStatus::Sending)) else {
            panic!("started")
        };
        assert!(in_doubt);
        assert_eq!((started.status, started.attempts), (DeliveryStatus::Sending, 2));
        for status in [DeliveryStatus::Pending, DeliveryStatus::Retrying, DeliveryStatus::Dead] {
            assert!(matches!(begin(delivery(status)), DeliveryAttempt::Started { in_doubt: false, .. }));
        }
    }

    #[test]
    fn outcomes_move_the_status_and_events_never_show_the_url() {
        let (sent, event) = finish(
            delivery(DeliveryStatus::Sending),
            AttemptResult::Sent(Sent {
                http_status: Some(200),
                response_excerpt: Some("ok".into()),
                external_id: None,
            }),
        );
        assert_eq!(sent.status, DeliveryStatus::Sent);
        assert!(!format!("{:?}", event.data()).contains("secret"));
        let transient = AttemptFailure::transient("HTTP 503").with_response(503, "busy");
        let (retrying, _) = finish(
            delivery(DeliveryStatus::Sending),
            AttemptResult::Failed { failure: transient.clone(), final_attempt: false },
        );
        assert_eq!((retrying.status, retrying.http_status), (DeliveryStatus::Retrying, Some(503)));
        let (dead, _) = finish(
            delivery(DeliveryStatus::Sending),
            AttemptResult::Failed { failure: transient, final_attempt: true },
        );
        assert_eq!(dead.status, DeliveryStatus::Dead);
        let (dead, _) = finish(
            delivery(DeliveryStatus::Sending),
            AttemptResult::Failed { failure: AttemptFailure::permanent("slack: invalid_auth"), final_attempt: false },
        );
        assert_eq!((dead.status, dead.error.as_deref()), (DeliveryStatus::Dead, Some("slack: invalid_auth")));
    }

    #[test]
    fn only_dead_deliveries_are_retried_by_hand() {
        assert!(check_retry(&delivery(DeliveryStatus::Dead)).is_ok());
        assert!(check_retry(&delivery(DeliveryStatus::Sent)).unwrap_err().to_string().contains("--resend"));
        assert!(check_retry(&delivery(DeliveryStatus::Pending)).is_err());
    }
}
