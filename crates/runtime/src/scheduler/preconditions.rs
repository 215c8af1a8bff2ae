//! Preconditions: the cheap checks a schedule may ask for before a fire,
//! evaluated without any model call. Each returns whether the fire should
//! start work and what it saw, which the store keeps when the fire passes,
//! so the next check compares against the last fire.
//!
//! - `new_events`: an event of one of the kinds (a kind or a prefix such as
//!   `action.`) appended after the event id seen at the last fire (before
//!   the first fire: after the schedule was created).
//! - `open_actions`: the agent has a defined, scheduled or in-progress action.
//! - `file_changed`: the file's SHA-256 differs from the last fire's (a
//!   missing file counts as content of its own, so its creation and its
//!   removal are changes).
//! - `url_changed`: a GET through the outbound address policy; the ETag
//!   when the server sends one, else the body's SHA-256, differs.

use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};
use steward_domain::schedule::{Precondition, Schedule};
use steward_domain::{ActionState, EventId};
use steward_store::{ActionFilter, EventQuery, PreconditionCheck, Store};

use crate::outbound::{AddressPolicy, GuardedClient, Redirects};

/// The most a URL's body is read for its hash.
const MAX_URL_BYTES: usize = 10 * 1024 * 1024;
const URL_TIMEOUT: Duration = Duration::from_secs(20);

/// Evaluates preconditions; holds the HTTP client URLs are fetched with.
#[derive(Clone)]
pub struct PreconditionChecker {
    store: Arc<dyn Store>,
    policy: Arc<AddressPolicy>,
    client: Option<reqwest::Client>,
}

impl PreconditionChecker {
    /// `policy` is the outbound address policy URL checks keep.
    pub fn new(store: Arc<dyn Store>, policy: Arc<AddressPolicy>) -> Self {
        let client =
            GuardedClient::new(Arc::clone(&policy), concat!("Steward/", env!("CARGO_PKG_VERSION"), " (schedules)"))
                .connect_timeout(URL_TIMEOUT)
                .redirects(Redirects::Follow(5))
                .build()
                .map_err(|error| tracing::warn!(%error, "no HTTP client for URL preconditions"))
                .ok();
        PreconditionChecker { store, policy, client }
    }

    /// The check of `schedule`'s precondition (`None` when it has none). A
    /// check that cannot be made (a store or network error) does not pass:
    /// the fire is recorded as `skipped_no_change` and nothing is spent.
    pub async fn check(&self, schedule: &Schedule) -> Option<PreconditionCheck> {
        let precondition = schedule.precondition.as_ref()?;
        let previous = schedule.precondition_state.as_deref();
        let seen = match self.observe(schedule, precondition, previous).await {
            Ok(seen) => seen,
            Err(error) => {
                tracing::warn!(schedule = %schedule.name, %error, "a precondition could not be checked; not firing");
                return Some(PreconditionCheck { passed: false, state: None });
            }
        };
        Some(seen)
    }

    async fn observe(
        &self,
        schedule: &Schedule,
        precondition: &Precondition,
        previous: Option<&str>,
    ) -> Result<PreconditionCheck, String> {
        let changed =
            |state: String| PreconditionCheck { passed: previous != Some(state.as_str()), state: Some(state) };
        match precondition {
            Precondition::NewEvents { kinds } => self.new_events(schedule, kinds, previous).await,
            Precondition::OpenActions { agent_id } => {
                let filter = ActionFilter {
                    agent_id: Some(*agent_id),
                    states: vec![ActionState::Defined, ActionState::Scheduled, ActionState::InProgress],
                };
                let open = self.store.list_actions(schedule.user_id.into(), filter).await.map_err(|e| e.to_string())?;
                Ok(PreconditionCheck { passed: !open.is_empty(), state: None })
            }
            Precondition::FileChanged { path } => {
                let state = match tokio::fs::read(path).await {
                    Ok(bytes) => format!("sha256:{}", hex(&Sha256::digest(&bytes))),
                    Err(error) if error.kind() == std::io::ErrorKind::NotFound => "missing".to_string(),
                    Err(error) => return Err(format!("cannot read {path}: {error}")),
                };
                Ok(changed(state))
            }
            Precondition::UrlChanged { url } => Ok(changed(self.url_state(url).await?)),
        }
    }

    async fn new_events(
        &self,
        schedule: &Schedule,
        kinds: &[String],
        previous: Option<&str>,
    ) -> Result<PreconditionCheck, String> {
        let after = previous.and_then(|text| text.parse::<i64>().ok()).map(EventId);
        let mut newest = after;
        let mut passed = false;
        let mut cursor = after;
        // Pages through the events since the last fire; stops at the first match.
        loop {
            let query = EventQuery { after: cursor, limit: 500, ..EventQuery::default() };
            let events = self.store.list_events(schedule.user_id, query).await.map_err(|e| e.to_string())?;
            let Some(last) = events.last() else { break };
            cursor = Some(last.id);
            newest = Some(last.id);
            // Before its first fire, a schedule counts events since its creation.
            let new = |event: &steward_domain::Event| after.is_some() || event.occurred_at > schedule.created_at;
            if events.iter().any(|event| new(event) && kinds.iter().any(|kind| event.kind.starts_with(kind.as_str()))) {
                passed = true;
            }
            if events.len() < 500 {
                break;
            }
        }
        Ok(PreconditionCheck { passed, state: newest.map(|id| id.get().to_string()).or(previous.map(str::to_string)) })
    }

    async fn url_state(&self, url: &str) -> Result<String, String> {
        let client = self.client.as_ref().ok_or("no HTTP client")?;
        let parsed = url::Url::parse(url).map_err(|error| format!("{url}: {error}"))?;
        crate::outbound::check_url(&self.policy, &parsed).map_err(|error| error.to_string())?;
        let response = client
            .get(parsed)
            .timeout(URL_TIMEOUT)
            .send()
            .await
            .map_err(|error| format!("{url}: {error}"))?
            .error_for_status()
            .map_err(|error| format!("{url}: {error}"))?;
        if let Some(etag) = response.headers().get(reqwest::header::ETAG).and_then(|value| value.to_str().ok()) {
            return Ok(format!("etag:{etag}"));
        }
        let mut hasher = Sha256::new();
        let mut read = 0usize;
        let mut response = response;
        while let Some(chunk) = response.chunk().await.map_err(|error| format!("{url}: {error}"))? {
            read += chunk.len();
            if read > MAX_URL_BYTES {
                return Err(format!("{url}: the body is over {MAX_URL_BYTES} bytes"));
            }
            hasher.update(&chunk);
        }
        Ok(format!("sha256:{}", hex(&hasher.finalize())))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}
