//! Where a request comes from, decided from its head alone.
//!
//! - **DNS rebinding**: a page on `evil.example` whose name is made to
//!   resolve to 127.0.0.1 reaches a loopback server with `Host:
//!   evil.example`. On a loopback bind only loopback names (and those listed
//!   in `server.allowed_hosts`) are served; elsewhere the list, when set.
//! - **Cross-site requests**: a browser attaches an `Origin` to every
//!   cross-origin request and `Sec-Fetch-Site` to every request. An `Origin`
//!   that is not this server's own (or a listed host) is refused, and so is a
//!   state-changing request a browser marks `cross-site` or `same-site`.
//! - **Simple content types**: an HTML form can post
//!   `application/x-www-form-urlencoded`, `multipart/form-data` or
//!   `text/plain` anywhere without a preflight; a state-changing request
//!   with any content type but JSON is refused (415), with a body or without.
//!
//! Clients that send none of these headers (the CLI, scripts) are not
//! browsers and pass; what protects them is authentication.

use axum::extract::Request;
use axum::http::header::{CONTENT_TYPE, HOST, ORIGIN};
use axum::http::{HeaderMap, Method, Uri};

use crate::access::HostPolicy;
use crate::api::ErrorCode;
use crate::error::ApiError;

/// The host part of an authority (`example.com:8420`, `[::1]:8420`).
fn host_of(authority: &str) -> &str {
    if authority.starts_with('[') {
        return authority.split_inclusive(']').next().unwrap_or(authority);
    }
    match authority.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') && port.chars().all(|c| c.is_ascii_digit()) => host,
        _ => authority,
    }
}

fn is_state_changing(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE)
}

/// `application/json`, with or without parameters, or any `application/…+json`.
pub(crate) fn is_json(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

fn header(headers: &HeaderMap, name: impl axum::http::header::AsHeaderName) -> Option<&str> {
    headers.get(name).map(|value| value.to_str().unwrap_or("\u{FFFD}"))
}

pub(super) fn check(policy: &HostPolicy, request: &Request) -> Result<(), ApiError> {
    check_head(policy, request.method(), request.uri(), request.headers())
}

fn check_head(policy: &HostPolicy, method: &Method, uri: &Uri, headers: &HeaderMap) -> Result<(), ApiError> {
    let authority = header(headers, HOST).or_else(|| uri.authority().map(|authority| authority.as_str()));
    if let Some(authority) = authority
        && !policy.allows(host_of(authority))
    {
        return Err(ApiError::new(
            ErrorCode::HostNotAllowed,
            format!(
                "this server does not answer to the name {:?}; if it is yours, add it to server.allowed_hosts \
                 in the configuration",
                host_of(authority)
            ),
        ));
    }
    if let Some(origin) = header(headers, ORIGIN) {
        let origin_authority = origin.parse::<Uri>().ok().and_then(|uri| uri.authority().cloned());
        let own = match (&origin_authority, authority) {
            (Some(origin), Some(authority)) => origin.as_str().eq_ignore_ascii_case(authority),
            _ => false,
        };
        let listed = origin_authority.as_ref().is_some_and(|origin| policy.listed(&origin.host().to_ascii_lowercase()));
        if !own && !listed {
            return Err(ApiError::new(
                ErrorCode::CrossSiteRequest,
                format!(
                    "requests from the web page at {origin:?} are refused: only this server's own pages may call \
                     its API (add a trusted host to server.allowed_hosts)"
                ),
            ));
        }
    }
    if !is_state_changing(method) {
        return Ok(());
    }
    if let Some(site) = header(headers, "sec-fetch-site")
        && matches!(site, "cross-site" | "same-site")
    {
        return Err(ApiError::new(
            ErrorCode::CrossSiteRequest,
            format!("the browser marks this request {site}; only this server's own pages may change anything"),
        ));
    }
    if let Some(content_type) = header(headers, CONTENT_TYPE)
        && !is_json(content_type)
        // Signed by a service (Slack posts a form), never by a browser's cookie.
        && !crate::access::signed::is_signed(method, uri.path())
    {
        return Err(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            format!(
                "the request is sent as {content_type:?}; send JSON with the header Content-Type: application/json, \
                 or no body and no Content-Type"
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn verdict(policy: &HostPolicy, method: Method, headers: &[(&'static str, &str)]) -> Result<(), ErrorCode> {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        check_head(policy, &method, &Uri::from_static("/api/v1/jobs"), &map).map_err(|error| error.code)
    }

    #[test]
    fn loopback_servers_answer_only_to_loopback_names() {
        let policy = HostPolicy::for_bind("127.0.0.1".parse().unwrap(), Vec::new());
        for host in ["127.0.0.1:8420", "localhost:8420", "LOCALHOST", "app.localhost:1", "[::1]:8420", "127.0.0.2"] {
            assert_eq!(verdict(&policy, Method::GET, &[("host", host)]), Ok(()), "{host}");
        }
        for host in ["evil.example", "evil.example:8420", "localhost.evil.example", "10.0.0.1:8420"] {
            assert_eq!(verdict(&policy, Method::GET, &[("host", host)]), Err(ErrorCode::HostNotAllowed), "{host}");
        }
        let policy = HostPolicy::for_bind("127.0.0.1".parse().unwrap(), vec!["Steward.Home.Arpa.".into()]);
        assert_eq!(verdict(&policy, Method::GET, &[("host", "steward.home.arpa:8420")]), Ok(()));
    }

    #[test]
    fn public_binds_check_hosts_only_when_listed() {
        let open = HostPolicy::for_bind("0.0.0.0".parse().unwrap(), Vec::new());
        assert_eq!(verdict(&open, Method::GET, &[("host", "steward.example.com")]), Ok(()));
        let listed = HostPolicy::for_bind("0.0.0.0".parse().unwrap(), vec!["steward.example.com".into()]);
        assert_eq!(verdict(&listed, Method::GET, &[("host", "steward.example.com")]), Ok(()));
        assert_eq!(verdict(&listed, Method::GET, &[("host", "evil.example")]), Err(ErrorCode::HostNotAllowed));
    }

    #[test]
    fn foreign_origins_and_cross_site_writes_are_refused() {
        let policy = HostPolicy::default();
        let host = ("host", "127.0.0.1:8420");
        let own = [host, ("origin", "http://127.0.0.1:8420"), ("sec-fetch-site", "same-origin")];
        assert_eq!(verdict(&policy, Method::POST, &own), Ok(()));
        for origin in ["http://evil.example", "null", "http://127.0.0.1:9999", "http://localhost:8420"] {
            let headers = [host, ("origin", origin)];
            assert_eq!(verdict(&policy, Method::POST, &headers), Err(ErrorCode::CrossSiteRequest), "{origin}");
            assert_eq!(verdict(&policy, Method::GET, &headers), Err(ErrorCode::CrossSiteRequest), "{origin}");
        }
        for site in ["cross-site", "same-site"] {
            let headers = [host, ("sec-fetch-site", site)];
            assert_eq!(verdict(&policy, Method::DELETE, &headers), Err(ErrorCode::CrossSiteRequest), "{site}");
            assert_eq!(verdict(&policy, Method::GET, &headers), Ok(()), "a link followed from elsewhere: {site}");
        }
        assert_eq!(verdict(&policy, Method::POST, &[host, ("sec-fetch-site", "none")]), Ok(()));
    }

    #[test]
    fn writes_must_be_json_or_bodiless() {
        let policy = HostPolicy::default();
        for simple in ["application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "text/plain"] {
            let headers = [("content-type", simple)];
            assert_eq!(verdict(&policy, Method::POST, &headers), Err(ErrorCode::UnsupportedMediaType), "{simple}");
            assert_eq!(verdict(&policy, Method::GET, &headers), Ok(()), "{simple}");
        }
        assert_eq!(verdict(&policy, Method::PATCH, &[("content-type", "application/json; charset=utf-8")]), Ok(()));
        assert_eq!(verdict(&policy, Method::POST, &[]), Ok(()));
    }

    #[test]
    fn json_content_types_are_recognised() {
        assert!(is_json("application/json"));
        assert!(is_json("Application/JSON; charset=utf-8"));
        assert!(is_json("application/merge-patch+json"));
        assert!(!is_json("application/x-www-form-urlencoded"));
        assert!(!is_json("text/plain"));
    }
}
