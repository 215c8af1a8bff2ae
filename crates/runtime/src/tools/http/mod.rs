//! `http.fetch`: GET or POST a URL and show the model the status, a few
//! headers and the body as text — within a size and a time limit, to public
//! addresses only unless the configuration allows more (the outbound policy,
//! [`crate::outbound`]), following redirects one checked hop at a time.
//!
//! Every request carries the call's idempotency key in `Idempotency-Key`, so
//! a server that honours it performs a POST once even when a crash makes the
//! run execute the call again.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

use async_trait::async_trait;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode, Url};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

use super::config::{HttpToolConfig, ToolsConfigError};
use super::{Tool, ToolContext, ToolError, ToolOutput, parse_input, schema_of};
use crate::outbound::{AddressPolicy, GuardedClient, UrlRefused, blocked_address_in, check_url};

/// Response headers shown to the model; the rest is noise to it.
const SHOWN_RESPONSE_HEADERS: &[&str] = &[
    "content-type",
    "content-length",
    "content-language",
    "last-modified",
    "etag",
    "location",
    "retry-after",
    "cache-control",
];

/// Request headers the model cannot set: the client frames the request
/// itself, and the idempotency key is the run's, not the model's.
const RESERVED_REQUEST_HEADERS: &[&str] =
    &["host", "content-length", "transfer-encoding", "connection", "upgrade", "te", "idempotency-key"];

/// Headers that carry credentials; not sent on to another origin by a redirect.
const CREDENTIAL_HEADERS: &[&str] = &["authorization", "proxy-authorization", "cookie"];

pub struct HttpFetch {
    client: reqwest::Client,
    policy: Arc<AddressPolicy>,
    config: HttpToolConfig,
}

// Inlined: some providers do not follow `$ref` in tool schemas.
#[derive(Clone, Copy, Debug, Default, Deserialize, JsonSchema, PartialEq)]
#[serde(rename_all = "UPPERCASE")]
#[schemars(inline)]
enum FetchMethod {
    #[default]
    Get,
    Post,
}

/// Fetches a URL.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct FetchArguments {
    /// An http or https URL.
    url: String,
    /// GET (the default) or POST.
    #[serde(default)]
    method: FetchMethod,
    /// Request headers, by name.
    #[serde(default)]
    headers: BTreeMap<String, String>,
    /// The request body, for POST.
    body: Option<String>,
}

/// One request, as sent to one hop of a redirect chain.
#[derive(Debug)]
struct HopRequest {
    method: Method,
    url: Url,
    headers: HeaderMap,
    body: Option<String>,
}

impl HttpFetch {
    pub fn new(config: HttpToolConfig) -> Result<HttpFetch, ToolsConfigError> {
        let policy = Arc::new(AddressPolicy::from_allowlist(&config.allow)?);
        // Redirects come back to `fetch`, which follows them one checked hop
        // at a time and drops credentials on a change of origin.
        let client =
            GuardedClient::new(Arc::clone(&policy), concat!("Steward/", env!("CARGO_PKG_VERSION"), " (http.fetch)"))
                .connect_timeout(config.timeout())
                .build()
                .map_err(|error| ToolsConfigError::HttpClient(error.to_string()))?;
        Ok(HttpFetch { client, policy, config })
    }

    /// Refuses a URL whose scheme is not HTTP or whose host is a disallowed
    /// address literal (names are checked by the resolver as they connect).
    fn refuse_unless_allowed(&self, url: &Url) -> Result<(), ToolError> {
        check_url(&self.policy, url).map_err(|refused| match refused {
            UrlRefused::Blocked(blocked) => ToolError::Refused(blocked.to_string()),
            other => ToolError::InvalidInput(other.to_string()),
        })
    }

    /// Sends the request, following redirects, and describes the response.
    async fn fetch(&self, mut request: HopRequest, idempotency_key: &str) -> Result<String, ToolError> {
        let mut redirects = 0;
        loop {
            self.refuse_unless_allowed(&request.url)?;
            let mut builder = self
                .client
                .request(request.method.clone(), request.url.clone())
                .headers(request.headers.clone())
                .header("idempotency-key", idempotency_key);
            if let Some(body) = &request.body {
                builder = builder.body(body.clone());
            }
            let response = builder.send().await.map_err(|error| explain_send_error(&request.url, &error))?;
            let location = response.headers().get(reqwest::header::LOCATION).cloned();
            match (response.status(), location) {
                (status, Some(location)) if status.is_redirection() && status != StatusCode::NOT_MODIFIED => {
                    if redirects >= self.config.max_redirects {
                        return Err(ToolError::Failed(format!(
                            "more than {} redirects (tools.http.max_redirects); the last pointed to {}",
                            self.config.max_redirects,
                            String::from_utf8_lossy(location.as_bytes())
                        )));
                    }
                    redirects += 1;
                    request = next_hop(request, status, &location)?;
                }
                _ => return self.describe(response, redirects).await,
            }
        }
    }

    async fn describe(&self, mut response: reqwest::Response, redirects: usize) -> Result<String, ToolError> {
        let mut content = format!("HTTP {}\n", response.status());
        if redirects > 0 {
            let _ = writeln!(content, "url: {} (after {redirects} redirects)", response.url());
        }
        for name in SHOWN_RESPONSE_HEADERS {
            if let Some(value) = response.headers().get(*name) {
                let _ = writeln!(content, "{name}: {}", String::from_utf8_lossy(value.as_bytes()));
            }
        }
        let limit = usize::try_from(self.config.max_response_bytes).unwrap_or(usize::MAX);
        let mut body = Vec::new();
        let mut truncated = false;
        while let Some(chunk) = response.chunk().await.map_err(|error| explain_send_error(response.url(), &error))? {
            let room = limit - body.len();
            if chunk.len() > room {
                body.extend_from_slice(&chunk[..room]);
                truncated = true;
                break;
            }
            body.extend_from_slice(&chunk);
        }
        content.push('\n');
        match body_text(body, truncated) {
            Some(text) => content.push_str(&text),
            None => {
                let _ = write!(content, "[a binary body, not shown]");
            }
        }
        if truncated {
            let _ = write!(
                content,
                "\n[body cut at {limit} bytes (tools.http.max_response_bytes); the response is longer]"
            );
        }
        Ok(content)
    }
}

/// The request for the hop a redirect points to: 303 (and 301/302 after a
/// POST, as browsers do) turn into a GET without body; credentials are not
/// carried to another origin.
fn next_hop(request: HopRequest, status: StatusCode, location: &HeaderValue) -> Result<HopRequest, ToolError> {
    let location_text =
        location.to_str().map_err(|_| ToolError::Failed("a redirect's Location header is not text".into()))?;
    let url = request
        .url
        .join(location_text)
        .map_err(|error| ToolError::Failed(format!("a redirect points to `{location_text}`, not a URL: {error}")))?;
    let becomes_get = status == StatusCode::SEE_OTHER
        || (matches!(status, StatusCode::MOVED_PERMANENTLY | StatusCode::FOUND) && request.method == Method::POST);
    let (method, body) = if becomes_get { (Method::GET, None) } else { (request.method, request.body) };
    let mut headers = request.headers;
    if url.origin() != request.url.origin() {
        for name in CREDENTIAL_HEADERS {
            headers.remove(*name);
        }
    }
    if becomes_get {
        headers.remove(reqwest::header::CONTENT_TYPE);
    }
    Ok(HopRequest { method, url, headers, body })
}

/// The body as text, or `None` for a binary body. A character cut by the
/// size limit is dropped.
fn body_text(body: Vec<u8>, truncated: bool) -> Option<String> {
    let text = match String::from_utf8(body) {
        Ok(text) => text,
        Err(error) if truncated && error.utf8_error().error_len().is_none() => {
            let valid = error.utf8_error().valid_up_to();
            let mut bytes = error.into_bytes();
            bytes.truncate(valid);
            String::from_utf8(bytes).ok()?
        }
        Err(_) => return None,
    };
    (!text.contains('\0')).then_some(text)
}

/// Names why a request failed: a refused address, a time-out, no connection.
fn explain_send_error(url: &Url, error: &reqwest::Error) -> ToolError {
    if let Some(blocked) = blocked_address_in(error) {
        return ToolError::Refused(blocked.to_string());
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    let mut chain = Vec::new();
    while let Some(current) = source {
        chain.push(current.to_string());
        source = current.source();
    }
    chain.dedup();
    let host = url.host_str().unwrap_or_default();
    if error.is_timeout() {
        return ToolError::Failed(format!("`{host}` did not answer in time"));
    }
    if error.is_connect() {
        return ToolError::Failed(format!("cannot connect to `{host}`: {}", chain.join(": ")));
    }
    ToolError::Failed(format!("fetching {url} failed: {}", chain.join(": ")))
}

fn parse_arguments(arguments: FetchArguments) -> Result<HopRequest, ToolError> {
    let url = Url::parse(&arguments.url)
        .map_err(|error| ToolError::InvalidInput(format!("url `{}` is not a URL: {error}", arguments.url)))?;
    let method = match arguments.method {
        FetchMethod::Get => Method::GET,
        FetchMethod::Post => Method::POST,
    };
    if method == Method::GET && arguments.body.is_some() {
        return Err(ToolError::InvalidInput("a GET request has no body; use POST to send one".into()));
    }
    let mut headers = HeaderMap::new();
    for (name, value) in &arguments.headers {
        let header_name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| ToolError::InvalidInput(format!("header `{name}` is not a valid header name")))?;
        if RESERVED_REQUEST_HEADERS.contains(&header_name.as_str()) {
            return Err(ToolError::InvalidInput(format!("header `{name}` is set by http.fetch itself")));
        }
        let header_value = HeaderValue::from_str(value)
            .map_err(|_| ToolError::InvalidInput(format!("the value of header `{name}` is not valid")))?;
        headers.insert(header_name, header_value);
    }
    Ok(HopRequest { method, url, headers, body: arguments.body })
}

#[async_trait]
impl Tool for HttpFetch {
    fn name(&self) -> &str {
        "http.fetch"
    }

    fn description(&self) -> &str {
        "Fetch a URL with GET or POST; returns the status, main headers and the body as text (long bodies are cut). Only public addresses can be reached."
    }

    fn input_schema(&self) -> Arc<Value> {
        schema_of::<FetchArguments>()
    }

    async fn call(&self, context: &ToolContext, input: Value) -> Result<ToolOutput, ToolError> {
        let request = parse_arguments(parse_input(input)?)?;
        let time_limit = self.config.timeout();
        tokio::select! {
            () = context.cancel.cancelled() => Err(ToolError::Failed("the run was cancelled".into())),
            outcome = tokio::time::timeout(time_limit, self.fetch(request, &context.idempotency_key)) => match outcome {
                Ok(described) => described.map(ToolOutput::text),
                Err(_) => Err(ToolError::Failed(format!(
                    "no complete response within {} s (tools.http.timeout_secs)",
                    self.config.timeout_secs
                ))),
            },
        }
    }
}
