//! Deliveries: sending a run's output to Slack, webhooks, e-mail and files
//! (the `delivery.send` job kind). Each attempt is recorded before anything
//! leaves (`sending`) and after (`sent`, `retrying`, `dead` with the HTTP
//! status, an excerpt of the answer and the reason); the store's rules are
//! in `steward_store::deliveries`, the classification in
//! `steward_domain::delivery`.
//!
//! Never twice: a sent delivery is not sent again by a retry or a replayed
//! job. An attempt that finds the previous one unfinished (a crash between
//! sending and recording) follows `steward_domain::delivery::in_doubt`:
//! Slack is asked first (our messages carry the key in their metadata),
//! webhooks are sent again with the same `Idempotency-Key` for the receiver
//! to drop, files are rewritten, and incoming webhooks and e-mail are not
//! sent again without a person's `steward delivery retry`.
//!
//! Secrets (the bot token, the signing key, the SMTP password, URLs given
//! as `$NAME`) come from the environment, are masked in everything stored,
//! and never reach logs or events.

pub mod config;
mod content;
mod file;
mod http;
mod mail;
pub mod signature;
mod slack;
mod webhook;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{Value, json};
use steward_domain::delivery::{
    AttemptFailure, AttemptResult, Delivery, Destination, FailureClass, InDoubt, SendPayload, Sent, UrlSource, in_doubt,
};
use steward_domain::{DeliveryId, RunStatus};
use steward_store::{DeliveryAttempt, Store};

pub use self::config::{DeliveriesConfig, SmtpConfig, SmtpTls};
pub use self::content::Content;
pub use self::slack::EVENT_TYPE as SLACK_EVENT_TYPE;
use crate::clock::SharedClock;
use crate::handlers::{JobContext, JobError, JobHandler};
use crate::outbound::{AddressPolicy, GuardedClient, InvalidAllowEntry, Redactor, Redirects};

/// How long a delivery waits when its run has not finished (it paused for
/// an approval after its job completed).
const RUN_NOT_FINISHED_WAIT: Duration = Duration::from_secs(60);

/// Names a delivery's label (its routine's name) from its fire.
#[async_trait]
pub trait DeliveryLabels: Send + Sync {
    async fn label(&self, delivery: &Delivery) -> String;
}

/// `run N` for every delivery: what deliveries of plain runs are called.
struct RunLabels;

#[async_trait]
impl DeliveryLabels for RunLabels {
    async fn label(&self, delivery: &Delivery) -> String {
        format!("run {}", delivery.run_id)
    }
}

/// What sending needs: the configuration, the secrets read from the
/// environment at start, an HTTP client on the outbound policy, the clock.
pub struct Deliverer {
    config: DeliveriesConfig,
    env: BTreeMap<String, String>,
    client: reqwest::Client,
    redactor: Redactor,
    clock: SharedClock,
}

/// A `[deliveries]` setting that cannot work.
#[derive(Debug, thiserror::Error)]
pub enum DeliveriesConfigError {
    #[error("deliveries.allow: {0}")]
    Allow(#[from] InvalidAllowEntry),
    #[error("the HTTP client for deliveries cannot start: {0}")]
    Client(String),
}

impl Deliverer {
    /// `env` is the process environment (tests pass their own).
    pub fn new(
        config: DeliveriesConfig,
        env: impl IntoIterator<Item = (String, String)>,
        clock: SharedClock,
    ) -> Result<Deliverer, DeliveriesConfigError> {
        let policy = AddressPolicy::from_allowlist(&config.allow)?.named("deliveries.allow");
        let client = GuardedClient::new(Arc::new(policy), concat!("steward/", env!("CARGO_PKG_VERSION")))
            .redirects(Redirects::Follow(3))
            .build()
            .map_err(|error| DeliveriesConfigError::Client(error.to_string()))?;
        let env: BTreeMap<String, String> = env.into_iter().collect();
        let secret_names = [&config.slack_token_env, &config.webhook_secret_env, &config.smtp.password_env];
        let secrets = secret_names.iter().filter_map(|name| env.get(name.as_str()).cloned());
        let redactor = Redactor::new(secrets.collect::<Vec<_>>());
        Ok(Deliverer { config, env, client, redactor, clock })
    }

    pub fn config(&self) -> &DeliveriesConfig {
        &self.config
    }

    fn secret(&self, name: &str) -> Option<&str> {
        self.env.get(name).map(String::as_str).filter(|value| !value.is_empty())
    }

    fn url(&self, source: &UrlSource) -> Result<String, AttemptFailure> {
        match source {
            UrlSource::Literal(url) => Ok(url.clone()),
            UrlSource::Env(name) => self
                .secret(name)
                .map(str::to_string)
                .ok_or_else(|| AttemptFailure::permanent(format!("the environment variable {name} is not set"))),
        }
    }

    /// Sends `content` to `destination`; `look_first` when an earlier
    /// attempt may have sent part of it.
    pub async fn send(
        &self,
        destination: &Destination,
        content: &Content,
        key: &str,
        delivery: DeliveryId,
        look_first: bool,
    ) -> Result<Sent, AttemptFailure> {
        let client = &self.client;
        let timeout = self.config.timeout();
        let sending = async {
            match destination {
                Destination::SlackChannel(channel) | Destination::SlackUser(channel) => {
                    let token = self.secret(&self.config.slack_token_env).ok_or_else(|| {
                        AttemptFailure::permanent(format!(
                            "the Slack bot token is not set (environment variable {})",
                            self.config.slack_token_env
                        ))
                    })?;
                    let api = slack::SlackApi { client, base: &self.config.slack_api_base, token };
                    let user = matches!(destination, Destination::SlackUser(_)).then_some(channel.as_str());
                    api.post(user, channel, content, key, look_first).await
                }
                Destination::SlackWebhook(source) => slack::post_webhook(client, &self.url(source)?, content).await,
                Destination::Webhook(source) => {
                    let secret = self.secret(&self.config.webhook_secret_env);
                    let hook = webhook::Webhook { client, secret, now: self.clock.now().timestamp() };
                    hook.post(&self.url(source)?, content, key, delivery.get()).await
                }
                Destination::Mail(address) => {
                    let password = self.secret(&self.config.smtp.password_env);
                    mail::Mailer { config: &self.config.smtp, password, timeout }.send(address, content, key).await
                }
                Destination::File(path) => file::write(path, content).await,
            }
        };
        // Mail and Slack's several calls get the limit as a whole.
        match tokio::time::timeout(timeout * 4, sending).await {
            Ok(result) => result.map_err(|failure| self.redacted(failure)),
            Err(_) => Err(AttemptFailure::transient(format!("{}: timed out", destination.kind()))),
        }
    }

    fn redacted(&self, mut failure: AttemptFailure) -> AttemptFailure {
        failure.reason = self.redactor.text(&failure.reason);
        failure.response_excerpt = failure.response_excerpt.map(|text| self.redactor.text(&text));
        failure
    }
}

/// The `delivery.send` job kind.
pub struct DeliveryHandler {
    store: Arc<dyn Store>,
    deliverer: Arc<Deliverer>,
    labels: Arc<dyn DeliveryLabels>,
}

impl DeliveryHandler {
    pub fn new(store: Arc<dyn Store>, deliverer: Arc<Deliverer>) -> Self {
        DeliveryHandler { store, deliverer, labels: Arc::new(RunLabels) }
    }

    /// Names deliveries after their routine.
    pub fn with_labels(mut self, labels: Arc<dyn DeliveryLabels>) -> Self {
        self.labels = labels;
        self
    }
}

fn store_error(error: steward_store::StoreError) -> JobError {
    JobError::retryable(format!("the store failed: {error}"))
}

#[async_trait]
impl JobHandler for DeliveryHandler {
    async fn run(&self, context: JobContext) -> Result<Value, JobError> {
        let job = &context.job;
        let id = serde_json::from_value::<SendPayload>(job.payload.clone()).map(|payload| payload.delivery).map_err(
            |error| JobError::permanent(format!("the payload names no delivery (`{{\"delivery\": ID}}`): {error}")),
        )?;
        let delivery = self.store.get_delivery(job.user_id, id).await.map_err(store_error)?;
        let run = self.store.get_run(job.user_id, delivery.run_id).await.map_err(store_error)?;
        if run.status != RunStatus::Finished && delivery.status != steward_domain::delivery::DeliveryStatus::Sent {
            return Err(JobError::Retryable {
                message: format!("run {} has not finished", run.id),
                retry_after: Some(RUN_NOT_FINISHED_WAIT),
            });
        }
        let (delivery, was_in_doubt) = match self.store.begin_delivery_attempt(id).await.map_err(store_error)? {
            DeliveryAttempt::AlreadySent(_) => return Ok(json!({ "delivery": id, "status": "sent", "repeat": true })),
            DeliveryAttempt::Started { delivery, in_doubt } => (delivery, in_doubt),
        };
        let destination = delivery.parsed().map_err(|error| JobError::permanent(error.to_string()))?;
        let label = self.labels.label(&delivery).await;
        let content =
            Content::of_run(&run, label, &self.deliverer.config.public_url, delivery.fire_id.map(|f| f.get()));
        let outcome = match (was_in_doubt, in_doubt(&destination)) {
            (true, InDoubt::GiveUp) => Err(AttemptFailure::permanent(
                "an earlier attempt may have sent this before it could be recorded, and this destination cannot \
                 be asked; not sent again (`steward delivery retry` sends it)",
            )),
            (doubt, _) => {
                let look_first = doubt || delivery.attempts > 1;
                self.deliverer.send(&destination, &content, &delivery.idempotency_key, id, look_first).await
            }
        };
        let final_attempt = job.attempt >= job.max_attempts;
        let result = match &outcome {
            Ok(sent) => AttemptResult::Sent(sent.clone()),
            Err(failure) => AttemptResult::Failed { failure: failure.clone(), final_attempt },
        };
        let recorded = self.store.finish_delivery_attempt(id, result).await.map_err(store_error)?;
        match outcome {
            Ok(_) => Ok(json!({ "delivery": id, "status": recorded.status.as_str() })),
            Err(failure) if failure.class == FailureClass::Permanent => Err(JobError::permanent(failure.reason)),
            Err(failure) => Err(JobError::Retryable { message: failure.reason, retry_after: failure.retry_after }),
        }
    }
}
