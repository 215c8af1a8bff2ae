//! Limits on a request's head, answered in the error shape: a request line
//! over [`MAX_URI_BYTES`] is 414, headers over [`MAX_HEADER_BYTES`] in all or
//! more than [`MAX_HEADERS`] of them 431. hyper's own limits sit above these
//! (`listen.rs`), so every request it lets through is answered here.

use axum::extract::Request;

use crate::api::ErrorCode;
use crate::error::ApiError;

pub const MAX_URI_BYTES: usize = 8 * 1024;
pub const MAX_HEADER_BYTES: usize = 32 * 1024;
pub const MAX_HEADERS: usize = 100;

pub(super) fn check(request: &Request) -> Result<(), ApiError> {
    let uri = request.uri().to_string().len();
    if uri > MAX_URI_BYTES {
        return Err(ApiError::new(
            ErrorCode::UriTooLong,
            format!("the request's URI is {uri} bytes long; this server accepts up to {MAX_URI_BYTES}"),
        ));
    }
    let headers = request.headers();
    if headers.len() > MAX_HEADERS {
        return Err(ApiError::new(
            ErrorCode::HeadersTooLarge,
            format!("the request has {} headers; this server accepts up to {MAX_HEADERS}", headers.len()),
        ));
    }
    let bytes: usize = headers.iter().map(|(name, value)| name.as_str().len() + value.len() + 4).sum();
    if bytes > MAX_HEADER_BYTES {
        return Err(ApiError::new(
            ErrorCode::HeadersTooLarge,
            format!("the request's headers are {bytes} bytes; this server accepts up to {MAX_HEADER_BYTES}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use axum::body::Body;

    use super::*;

    #[test]
    fn long_uris_and_large_headers_get_their_codes() {
        let request =
            Request::builder().uri(format!("/api/v1/jobs?x={}", "a".repeat(MAX_URI_BYTES))).body(Body::empty());
        assert_eq!(check(&request.unwrap()).unwrap_err().code, ErrorCode::UriTooLong);
        let request = Request::builder().uri("/").header("x-big", "b".repeat(MAX_HEADER_BYTES)).body(Body::empty());
        assert_eq!(check(&request.unwrap()).unwrap_err().code, ErrorCode::HeadersTooLarge);
        let mut request = Request::builder().uri("/");
        for index in 0..=MAX_HEADERS {
            request = request.header(format!("x-{index}"), "1");
        }
        assert_eq!(check(&request.body(Body::empty()).unwrap()).unwrap_err().code, ErrorCode::HeadersTooLarge);
        assert!(check(&Request::builder().uri("/api/v1/health").body(Body::empty()).unwrap()).is_ok());
    }
}
