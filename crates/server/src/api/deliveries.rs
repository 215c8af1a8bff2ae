//! Deliveries on the wire: each destination's copy of a run's output, with
//! its status, the service's answer and the reason of a failure. The
//! destination is shown redacted (a webhook URL as its origin only).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use steward_domain::delivery::Delivery;
use steward_domain::{DeliveryId, FireId, JobId, RunId};
use utoipa::{IntoParams, ToSchema};

use super::enums::DeliveryStatus;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DeliveryResponse {
    #[schema(value_type = i64)]
    pub id: DeliveryId,
    #[schema(value_type = i64)]
    pub run_id: RunId,
    #[schema(value_type = Option<i64>)]
    pub fire_id: Option<FireId>,
    /// `slack:#plans`, `mailto:ana@example.com`, `webhook:https://example.com/…`.
    pub destination: String,
    /// `slack-webhook`, `slack`, `webhook`, `mailto` or `file`.
    pub kind: String,
    pub status: DeliveryStatus,
    pub attempts: u32,
    /// The job that sends it.
    #[schema(value_type = Option<i64>)]
    pub job_id: Option<JobId>,
    /// The last answer's HTTP status (none for e-mail and files).
    pub http_status: Option<u16>,
    /// The start of the last answer.
    pub response_excerpt: Option<String>,
    /// Why the last attempt failed.
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

impl From<Delivery> for DeliveryResponse {
    fn from(delivery: Delivery) -> Self {
        DeliveryResponse {
            destination: delivery.shown_destination(),
            id: delivery.id,
            run_id: delivery.run_id,
            fire_id: delivery.fire_id,
            kind: delivery.kind,
            status: delivery.status.into(),
            attempts: delivery.attempts,
            job_id: delivery.job_id,
            http_status: delivery.http_status,
            response_excerpt: delivery.response_excerpt,
            error: delivery.error,
            created_at: delivery.created_at,
            updated_at: delivery.updated_at,
            sent_at: delivery.sent_at,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DeliveryListResponse {
    /// Newest first.
    pub deliveries: Vec<DeliveryResponse>,
    /// Pass as `before` for the next page; absent on the last page.
    #[schema(value_type = Option<i64>)]
    pub next_before: Option<DeliveryId>,
}

#[derive(Clone, Debug, PartialEq, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveryListQuery {
    pub status: Option<DeliveryStatus>,
    #[param(value_type = Option<i64>)]
    pub run_id: Option<RunId>,
    #[param(value_type = Option<i64>)]
    pub fire_id: Option<FireId>,
    #[param(value_type = Option<i64>)]
    pub before: Option<DeliveryId>,
    /// 1…500, default 50.
    pub limit: Option<usize>,
}
