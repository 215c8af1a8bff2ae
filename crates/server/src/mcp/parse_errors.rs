//! A posted MCP message that is not JSON is answered as JSON-RPC says, a
//! parse error (-32700) with a null id and HTTP 400, before rmcp, which
//! would answer 415 with a line of text. The body is read once, within the
//! API's body limit, and handed on unchanged.

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

pub(super) async fn refuse_malformed(State(max_body_bytes): State<usize>, request: Request, next: Next) -> Response {
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let bytes = match to_bytes(body, max_body_bytes).await {
        Ok(bytes) => bytes,
        Err(_) => {
            let message = format!("the message is larger than {max_body_bytes} bytes (server.max_body_bytes)");
            return jsonrpc_error(StatusCode::PAYLOAD_TOO_LARGE, -32600, &message);
        }
    };
    if let Err(error) = serde_json::from_slice::<serde_json::Value>(&bytes) {
        return jsonrpc_error(StatusCode::BAD_REQUEST, -32700, &format!("Parse error: the body is not JSON: {error}"));
    }
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}

fn jsonrpc_error(status: StatusCode, code: i64, message: &str) -> Response {
    let body = json!({ "jsonrpc": "2.0", "id": null, "error": { "code": code, "message": message } });
    (status, axum::Json(body)).into_response()
}
