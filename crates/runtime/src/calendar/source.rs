//! Where a calendar comes from: a file, or an http(s) URL fetched on a
//! `GuardedClient` (the outbound address policy) and kept in a cache
//! folder with its `ETag` and `Last-Modified`, sent back as
//! `If-None-Match` / `If-Modified-Since` so an unchanged feed answers 304.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::outbound::{AddressPolicy, GuardedClient, Redirects, blocked_address_in, check_url};

/// Largest calendar read.
const MAX_BYTES: usize = 10 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum CalendarFetchError {
    #[error("{location}: {problem}")]
    Failed { location: String, problem: String },
}

/// A calendar's text, and whether the feed said it had not changed.
#[derive(Clone, Debug, PartialEq)]
pub struct Fetched {
    pub text: String,
    pub not_modified: bool,
}

#[derive(Default, Serialize, Deserialize)]
struct Validators {
    etag: Option<String>,
    last_modified: Option<String>,
}

pub struct CalendarSource {
    client: reqwest::Client,
    policy: Arc<AddressPolicy>,
    cache: PathBuf,
}

impl CalendarSource {
    pub fn new(policy: AddressPolicy, cache: PathBuf) -> Result<CalendarSource, String> {
        let policy = Arc::new(policy);
        let client = GuardedClient::new(Arc::clone(&policy), concat!("steward/", env!("CARGO_PKG_VERSION")))
            .redirects(Redirects::Follow(5))
            .build()
            .map_err(|error| error.to_string())?;
        Ok(CalendarSource { client, policy, cache })
    }

    /// Reads `source`: a path, or an http(s) URL.
    pub async fn read(&self, source: &str) -> Result<Fetched, CalendarFetchError> {
        let fail = |problem: String| CalendarFetchError::Failed { location: source.to_string(), problem };
        if !(source.starts_with("http://") || source.starts_with("https://")) {
            let path = source.strip_prefix("file://").unwrap_or(source);
            let text = tokio::fs::read_to_string(path).await.map_err(|error| fail(error.to_string()))?;
            return Ok(Fetched { text, not_modified: false });
        }
        let url = reqwest::Url::parse(source).map_err(|error| fail(error.to_string()))?;
        check_url(&self.policy, &url).map_err(|error| fail(error.to_string()))?;
        let key = format!("{:016x}", fnv(source));
        let body_path = self.cache.join(format!("{key}.ics"));
        let meta_path = self.cache.join(format!("{key}.json"));
        let validators: Validators = match tokio::fs::read(&meta_path).await {
            Ok(bytes) if tokio::fs::try_exists(&body_path).await.unwrap_or(false) => {
                serde_json::from_slice(&bytes).unwrap_or_default()
            }
            _ => Validators::default(),
        };
        let mut request = self.client.get(url).timeout(Duration::from_secs(30));
        if let Some(etag) = &validators.etag {
            request = request.header(reqwest::header::IF_NONE_MATCH, etag);
        }
        if let Some(modified) = &validators.last_modified {
            request = request.header(reqwest::header::IF_MODIFIED_SINCE, modified);
        }
        let response = request.send().await.map_err(|error| match blocked_address_in(&error) {
            Some(blocked) => fail(blocked.to_string()),
            None => fail(error.without_url().to_string()),
        })?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_MODIFIED {
            let text = tokio::fs::read_to_string(&body_path).await.map_err(|error| fail(error.to_string()))?;
            return Ok(Fetched { text, not_modified: true });
        }
        if !status.is_success() {
            return Err(fail(format!("HTTP {}", status.as_u16())));
        }
        let header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
                .map(str::to_string)
        };
        let fresh =
            Validators { etag: header(reqwest::header::ETAG), last_modified: header(reqwest::header::LAST_MODIFIED) };
        let bytes = response.bytes().await.map_err(|error| fail(error.without_url().to_string()))?;
        if bytes.len() > MAX_BYTES {
            return Err(fail(format!("larger than {MAX_BYTES} bytes")));
        }
        let text = String::from_utf8_lossy(&bytes).into_owned();
        if fresh.etag.is_some() || fresh.last_modified.is_some() {
            // A cache that cannot be written only costs a full fetch next time.
            let _ = tokio::fs::create_dir_all(&self.cache).await;
            let _ = tokio::fs::write(&body_path, &text).await;
            let _ = tokio::fs::write(&meta_path, serde_json::to_vec(&fresh).unwrap_or_default()).await;
        }
        Ok(Fetched { text, not_modified: false })
    }
}

fn fnv(text: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.as_bytes() {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}
