//! A typed HTTP client of Steward's API for the CLI commands. Requests and
//! responses are the server crate's wire types; failures become messages a
//! person can act on (`name: must not be empty`, or how to reach a server
//! that is not running).

use std::time::Duration;

use anyhow::Context;
use reqwest::{Method, RequestBuilder, StatusCode, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use steward_server::api::ErrorResponse;

use crate::failure::{ApiFailure, CliFailure};

/// How long a request may take before the CLI gives up on it.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Clone, Debug)]
pub struct ApiClient {
    /// The server's base URL, without a trailing slash.
    base: String,
    http: reqwest::Client,
}

/// A successful response: the JSON as sent (printed by `--json`), and the
/// same JSON as a typed value.
#[derive(Debug)]
pub struct Reply<T> {
    pub raw: Value,
    pub body: T,
    /// 201 for something created, 200 for something found or changed.
    pub status: u16,
}

impl ApiClient {
    /// A client of the server at `server` (`http://127.0.0.1:8420`; the
    /// scheme may be left out).
    pub fn new(server: &str) -> anyhow::Result<ApiClient> {
        let server = server.trim();
        let with_scheme = if server.contains("://") { server.to_string() } else { format!("http://{server}") };
        let url = Url::parse(&with_scheme).map_err(|error| {
            CliFailure::invalid(
                "--server",
                format!("--server {server:?} is not a URL ({error}); e.g. http://127.0.0.1:8420"),
            )
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(CliFailure::invalid(
                "--server",
                format!("--server {server:?} must be an http:// or https:// URL"),
            )
            .into());
        }
        let base = url.as_str().trim_end_matches('/').to_string();
        ApiClient::with_credential(base, crate::credentials::token_for(url.as_str().trim_end_matches('/')))
    }

    /// The same server, sending `token` instead of the stored one.
    pub fn with_token(self, token: &str) -> anyhow::Result<ApiClient> {
        ApiClient::with_credential(self.base, Some(token.to_string()))
    }

    fn with_credential(base: String, token: Option<String>) -> anyhow::Result<ApiClient> {
        let mut headers = reqwest::header::HeaderMap::new();
        if let Some(token) = token {
            let mut value = reqwest::header::HeaderValue::from_str(&format!("Bearer {token}"))
                .map_err(|_| CliFailure::invalid("token", "the token has characters a header cannot carry"))?;
            value.set_sensitive(true);
            headers.insert(reqwest::header::AUTHORIZATION, value);
        }
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .user_agent(concat!("steward-cli/", env!("CARGO_PKG_VERSION")))
            .default_headers(headers)
            .build()
            .context("cannot set up the HTTP client")?;
        Ok(ApiClient { base, http })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// The URL of an API path (`/jobs`) with `query`.
    pub fn url(&self, path: &str, query: &[(&str, String)]) -> anyhow::Result<Url> {
        let mut url = Url::parse(&format!("{}/api/v1{path}", self.base)).context("building the request URL")?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query.iter().map(|(name, value)| (*name, value.as_str())));
        }
        Ok(url)
    }

    pub async fn get<T: DeserializeOwned>(&self, path: &str, query: &[(&str, String)]) -> anyhow::Result<Reply<T>> {
        self.send(Method::GET, self.url(path, query)?, None::<&()>).await
    }

    pub async fn post<B: Serialize, T: DeserializeOwned>(&self, path: &str, body: &B) -> anyhow::Result<Reply<T>> {
        self.send(Method::POST, self.url(path, &[])?, Some(body)).await
    }

    /// A POST without a body (archive, cancel, retry).
    pub async fn post_empty<T: DeserializeOwned>(&self, path: &str) -> anyhow::Result<Reply<T>> {
        self.send(Method::POST, self.url(path, &[])?, None::<&()>).await
    }

    pub async fn delete<T: DeserializeOwned>(&self, path: &str) -> anyhow::Result<Reply<T>> {
        self.send(Method::DELETE, self.url(path, &[])?, None::<&()>).await
    }

    pub async fn put<B: Serialize, T: DeserializeOwned>(&self, path: &str, body: &B) -> anyhow::Result<Reply<T>> {
        self.send(Method::PUT, self.url(path, &[])?, Some(body)).await
    }

    pub async fn patch<B: Serialize, T: DeserializeOwned>(&self, path: &str, body: &B) -> anyhow::Result<Reply<T>> {
        self.send(Method::PATCH, self.url(path, &[])?, Some(body)).await
    }

    async fn send<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        url: Url,
        body: Option<&B>,
    ) -> anyhow::Result<Reply<T>> {
        let mut request = self.http.request(method, url).timeout(REQUEST_TIMEOUT);
        if let Some(body) = body {
            request = request.json(body);
        }
        let (status, bytes) = self.read(request).await?;
        let raw: Value = serde_json::from_slice(bytes.as_ref())
            .with_context(|| format!("{} answered {status} with something that is not JSON", self.base))?;
        let body = T::deserialize(&raw).with_context(|| {
            format!("{} answered in a shape this CLI does not understand; are both the same version?", self.base)
        })?;
        Ok(Reply { raw, body, status: status.as_u16() })
    }

    /// Opens the live event stream; the response streams until the server ends it.
    pub async fn open_stream(
        &self,
        query: &[(&str, String)],
        last_event_id: Option<i64>,
    ) -> anyhow::Result<reqwest::Response> {
        let mut request = self.http.get(self.url("/events/stream", query)?).header("Accept", "text/event-stream");
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id.to_string());
        }
        self.open(request).await
    }

    /// POSTs `body` asking for a Server-Sent Events reply (a streamed chat
    /// turn); the response streams until the server ends it.
    pub async fn post_stream<B: Serialize>(&self, path: &str, body: &B) -> anyhow::Result<reqwest::Response> {
        let request = self.http.post(self.url(path, &[])?).header("Accept", "text/event-stream").json(body);
        self.open(request).await
    }

    /// GETs raw bytes (an artifact's content).
    pub async fn get_bytes(&self, path: &str) -> anyhow::Result<Vec<u8>> {
        let request = self.http.get(self.url(path, &[])?).timeout(REQUEST_TIMEOUT);
        let (_, bytes) = self.read(request).await?;
        Ok(bytes.as_ref().to_vec())
    }

    /// Sends `request` and reads the whole reply; a failure status becomes
    /// the API's error.
    async fn read(&self, request: RequestBuilder) -> anyhow::Result<(StatusCode, impl AsRef<[u8]>)> {
        let response = request.send().await.map_err(|error| self.transport_error(&error))?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|error| self.transport_error(&error))?;
        if !status.is_success() {
            return Err(failure(status, &bytes).into());
        }
        Ok((status, bytes))
    }

    /// Sends `request` for a reply that streams: the response as soon as its
    /// headers are in; a failure status becomes the API's error.
    async fn open(&self, request: RequestBuilder) -> anyhow::Result<reqwest::Response> {
        let response = request.send().await.map_err(|error| self.transport_error(&error))?;
        let status = response.status();
        if !status.is_success() {
            let bytes = response.bytes().await.unwrap_or_default();
            return Err(failure(status, &bytes).into());
        }
        Ok(response)
    }

    pub fn transport_error(&self, error: &reqwest::Error) -> anyhow::Error {
        let message = if error.is_connect() {
            format!(
                "cannot reach Steward at {} — is `steward serve` running? (set --server or STEWARD_SERVER)",
                self.base
            )
        } else if error.is_timeout() {
            format!("Steward at {} did not answer in time", self.base)
        } else {
            format!("the request to Steward at {} failed: {error}", self.base)
        };
        CliFailure::unreachable(message).into()
    }
}

/// The API's error, or a description of whatever else came back.
fn failure(status: StatusCode, bytes: &[u8]) -> ApiFailure {
    match serde_json::from_slice::<ErrorResponse>(bytes) {
        Ok(response) => ApiFailure {
            code: response.error.code.as_str().to_string(),
            message: response.error.message,
            field: response.error.field,
        },
        Err(_) => {
            let text = String::from_utf8_lossy(bytes);
            let text = text.trim();
            ApiFailure {
                code: crate::failure::FAILED.to_string(),
                message: if text.is_empty() {
                    format!("the server answered {status}")
                } else {
                    format!("the server answered {status}: {}", text.chars().take(300).collect::<String>())
                },
                field: None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_urls_are_normalised() {
        let client = ApiClient::new("127.0.0.1:9000/").unwrap();
        assert_eq!(client.base(), "http://127.0.0.1:9000");
        let url = client.url("/jobs", &[("state", "dead,cancelled".to_string())]).unwrap();
        assert_eq!(url.as_str(), "http://127.0.0.1:9000/api/v1/jobs?state=dead%2Ccancelled");
        assert!(ApiClient::new("ftp://example.com").is_err());
    }

    #[test]
    fn failures_read_like_field_colon_message() {
        let body = br#"{"error": {"code": "invalid_field", "message": "must not be empty", "field": "name"}}"#;
        let failure = failure(StatusCode::UNPROCESSABLE_ENTITY, body);
        assert_eq!(failure.to_string(), "name: must not be empty");
        assert_eq!(failure.code, "invalid_field");
        let failure = super::failure(StatusCode::BAD_GATEWAY, b"upstream down");
        assert_eq!(failure.to_string(), "the server answered 502 Bad Gateway: upstream down");
    }
}
