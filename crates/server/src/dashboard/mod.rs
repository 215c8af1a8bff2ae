//! The web dashboard at `/`: the single-page app built into `ui/dist`,
//! embedded in the binary so `steward serve` needs nothing else on disk and
//! nothing is fetched from elsewhere.
//!
//! Every path the API does not take is answered here. Files are served with
//! their content type, a pre-compressed copy (brotli or gzip, written by the
//! UI build) when the browser accepts one, and caching that fits them: the
//! build names scripts and styles after their content (`/assets/`), so those
//! are cached for good; everything else, `index.html` first, is revalidated
//! (an ETag answers 304). A path that looks like a page (`/agents/3`) gets
//! `index.html`, whose script then draws that page. `/api/...` (and `/v1/...`) is never the
//! dashboard: an unknown API path keeps the API's error shape, and so does a
//! missing file.
//!
//! Architecture invariant: every dashboard response carries a
//! Content-Security-Policy that allows only this origin, so the page can
//! load no script, style, font or image from anywhere else, nor send data
//! there.

mod encoding;

use std::borrow::Cow;

use axum::body::Body;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_ENCODING, CONTENT_SECURITY_POLICY, CONTENT_TYPE, ETAG, IF_NONE_MATCH, REFERRER_POLICY, VARY,
    X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

use crate::fallback::route_not_found;
use encoding::{Encoding, preferred_encodings};

/// The built dashboard (`npm run build` in `ui/`, committed).
#[derive(RustEmbed)]
#[folder = "../../ui/dist"]
struct Built;

/// Same origin only; `connect-src 'self'` covers the API and the event
/// stream. Styles set from scripts (`element.style`) are not inline styles
/// in CSP's sense, so `style-src 'self'` holds.
pub const CONTENT_SECURITY_POLICY_VALUE: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self'; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";

/// Files whose names carry a hash of their content: they never change.
const IMMUTABLE_PREFIX: &str = "assets/";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Everything else may change with the next release: ask every time (cheap, with the ETag).
const REVALIDATE: &str = "no-cache";

/// Answers every request no API route took.
pub async fn serve(method: Method, uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path();
    if path == "/api"
        || path.starts_with("/api/")
        || path.starts_with(crate::openai::PREFIX)
        || (method != Method::GET && method != Method::HEAD)
    {
        return route_not_found(method, uri).await.into_response();
    }
    let name = path.trim_start_matches('/');
    let name = if name.is_empty() { "index.html" } else { name };
    if is_servable(name)
        && let Some(response) = file_response(name, &headers)
    {
        return response;
    }
    if looks_like_a_page(name)
        && let Some(response) = file_response("index.html", &headers)
    {
        return response;
    }
    route_not_found(method, uri).await.into_response()
}

/// The compressed copies are served in place of their file, never by name.
fn is_servable(name: &str) -> bool {
    !name.ends_with(".br") && !name.ends_with(".gz")
}

/// A path the app draws itself: no file extension in its last segment, and
/// not under the folder of built files (a missing script must not come
/// back as HTML).
fn looks_like_a_page(name: &str) -> bool {
    let last = name.rsplit('/').next().unwrap_or_default();
    !name.starts_with(IMMUTABLE_PREFIX) && !last.contains('.')
}

fn file_response(name: &str, request: &HeaderMap) -> Option<Response> {
    let file = Built::get(name)?;
    let etag = format!("\"{}\"", hex(&file.metadata.sha256_hash()[..16]));
    let cache = if name.starts_with(IMMUTABLE_PREFIX) { IMMUTABLE } else { REVALIDATE };
    let mut response = if etag_matches(request, &etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let (body, encoding) = best_body(name, file.data, request);
        let mut response = Response::new(Body::from(body));
        response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(content_type(name)));
        if let Some(encoding) = encoding {
            response.headers_mut().insert(CONTENT_ENCODING, HeaderValue::from_static(encoding.header_value()));
        }
        response
    };
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(VARY, HeaderValue::from_static("Accept-Encoding"));
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(ETAG, value);
    }
    add_security_headers(headers);
    Some(response)
}

/// The file as the browser prefers it among the copies the build wrote.
fn best_body(name: &str, raw: Cow<'static, [u8]>, request: &HeaderMap) -> (Cow<'static, [u8]>, Option<Encoding>) {
    for encoding in preferred_encodings(request) {
        if let Some(compressed) = Built::get(&format!("{name}.{}", encoding.file_suffix())) {
            return (compressed.data, Some(encoding));
        }
    }
    (raw, None)
}

fn etag_matches(request: &HeaderMap, etag: &str) -> bool {
    request
        .get_all(IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|candidate| candidate.trim().trim_start_matches("W/"))
        .any(|candidate| candidate == etag || candidate == "*")
}

fn add_security_headers(headers: &mut HeaderMap) {
    headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY_VALUE));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
}

/// The content type of the kinds of file the build writes.
fn content_type(name: &str) -> &'static str {
    let extension = name.rsplit_once('.').map(|(_, extension)| extension).unwrap_or_default();
    match extension {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "json" | "map" => "application/json",
        "txt" => "text/plain; charset=utf-8",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "webmanifest" => "application/manifest+json",
        _ => "application/octet-stream",
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_paths_without_an_extension_outside_the_built_files() {
        assert!(looks_like_a_page("agents/3"));
        assert!(looks_like_a_page("runs"));
        assert!(!looks_like_a_page("favicon.ico"));
        assert!(!looks_like_a_page("assets/index-abc.js"));
        assert!(!looks_like_a_page("assets/missing"));
    }

    #[test]
    fn content_types_carry_a_charset_for_text() {
        assert_eq!(content_type("index.html"), "text/html; charset=utf-8");
        assert_eq!(content_type("assets/index-1.js"), "text/javascript; charset=utf-8");
        assert_eq!(content_type("favicon.svg"), "image/svg+xml");
        assert_eq!(content_type("LICENSE"), "application/octet-stream");
    }

    #[test]
    fn the_build_is_embedded_with_its_compressed_copies() {
        let index = Built::get("index.html").expect("ui/dist/index.html is embedded");
        let text = String::from_utf8_lossy(&index.data);
        assert!(text.contains("<div id=\"app\">"), "{text}");
        assert!(Built::get("index.html.br").is_some() && Built::get("index.html.gz").is_some());
    }
}
