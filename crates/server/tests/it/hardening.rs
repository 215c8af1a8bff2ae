//! The server as an attacker probes it: cross-site requests to every write
//! route of the OpenAPI document, DNS rebinding, oversized heads over a
//! real socket, out-of-range integers and names that display as others.

use axum::body::Body;
use axum::http::{Method, Request};
use serde_json::json;

use crate::support::{TestApp, TestResponse, api_tests, serve};

api_tests!(
    every_write_route_refuses_cross_site_requests,
    foreign_hosts_are_refused_on_loopback,
    oversized_heads_and_bodies_answer_in_the_error_shape,
    integers_out_of_range_are_refused_not_clamped,
    names_refuse_control_and_bidi_characters,
);

const HOST: &str = "127.0.0.1:8420";
const OWN_ORIGIN: &str = "http://127.0.0.1:8420";

/// Every state-changing operation of the document, `{…}` parameters set to
/// 1, and whether it declares a request body.
fn write_routes() -> Vec<(Method, String, bool)> {
    let document = steward_server::openapi_document();
    let mut routes = Vec::new();
    for (path, item) in &document.paths.paths {
        let concrete: String = path
            .split('/')
            .map(|segment| if segment.starts_with('{') { "1" } else { segment })
            .collect::<Vec<_>>()
            .join("/");
        for (method, operation) in [
            (Method::POST, &item.post),
            (Method::PUT, &item.put),
            (Method::PATCH, &item.patch),
            (Method::DELETE, &item.delete),
        ] {
            if let Some(operation) = operation {
                routes.push((method, concrete.clone(), operation.request_body.is_some()));
            }
        }
    }
    routes
}

/// Headers, body, and the status and code expected.
type Probe<'a> = (&'a [(&'a str, &'a str)], &'a str, u16, &'a str);

fn request(method: &Method, path: &str, headers: &[(&str, &str)], body: &str) -> Request<Body> {
    let mut builder = Request::builder().method(method.clone()).uri(path).header("host", HOST);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(Body::from(body.to_string())).unwrap()
}

async fn every_write_route_refuses_cross_site_requests(app: TestApp) {
    let routes = write_routes();
    assert!(routes.len() >= 19, "the document lists only {} write routes", routes.len());
    assert!(routes.iter().any(|(_, path, _)| path == "/api/v1/approvals/1/approve"));
    let form = ("content-type", "application/x-www-form-urlencoded");
    for (method, path, takes_body) in &routes {
        let what = format!("{method} {path}");
        let cases: [Probe; 6] = [
            // The issue's probe: an HTML form on another site.
            (&[("origin", "http://evil.example"), form], "reason=yes", 403, "cross_site_request"),
            (&[("origin", "null"), ("content-type", "application/json")], "{}", 403, "cross_site_request"),
            (
                &[("sec-fetch-site", "cross-site"), ("content-type", "application/json")],
                "{}",
                403,
                "cross_site_request",
            ),
            (&[("sec-fetch-site", "same-site")], "", 403, "cross_site_request"),
            // Simple content types need no preflight, so they are refused
            // even without an Origin and even without a body.
            (&[("content-type", "text/plain")], "", 415, "unsupported_media_type"),
            (&[("content-type", "multipart/form-data; boundary=x")], "--x--", 415, "unsupported_media_type"),
        ];
        for (headers, body, status, code) in cases {
            let response = app.refused(app.send(request(method, path, headers, body))).await;
            assert_eq!(
                (response.status.as_u16(), &response.body["error"]["code"]),
                (status, &json!(code)),
                "{what} {headers:?}: {}",
                response.text
            );
        }
        let json_body = [("content-type", "application/json"), ("origin", OWN_ORIGIN)];
        if !takes_body {
            let response = app.refused(app.send(request(method, path, &json_body, "{}"))).await;
            response.assert_error(400, "unexpected_body", None);
        }
        // The dashboard's own request passes the guard: whatever the handler
        // answers (1 may not exist), it is not the guard's refusal.
        let own = [("origin", OWN_ORIGIN), ("sec-fetch-site", "same-origin")];
        let own_json = [own[0], own[1], ("content-type", "application/json")];
        let response = if *takes_body {
            app.send(request(method, path, &own_json, "{}")).await
        } else {
            app.send(request(method, path, &own, "")).await
        };
        let code = response.body["error"]["code"].as_str().unwrap_or_default().to_string();
        assert!(
            !["cross_site_request", "unsupported_media_type", "unexpected_body", "host_not_allowed"]
                .contains(&code.as_str()),
            "{what}: the dashboard's request was refused by the guard: {}",
            response.text
        );
    }
}

async fn foreign_hosts_are_refused_on_loopback(app: TestApp) {
    for host in ["evil.example", "evil.example:8420", "127.0.0.1.evil.example"] {
        let get = Request::builder().uri("/api/v1/agents").header("host", host).body(Body::empty()).unwrap();
        let response = app.send(get).await;
        let message = response.assert_error(403, "host_not_allowed", None);
        assert!(message.contains("server.allowed_hosts"), "{message}");
        let page = Request::builder().uri("/").header("host", host).body(Body::empty()).unwrap();
        app.send(page).await.assert_error(403, "host_not_allowed", None);
    }
    for host in ["localhost:8420", "127.0.0.1:8420", "[::1]:8420"] {
        let get = Request::builder().uri("/api/v1/health").header("host", host).body(Body::empty()).unwrap();
        app.send(get).await.assert_status(200);
    }
    // A rebound page's reads carry its own origin too.
    let get = request(&Method::GET, "/api/v1/agents", &[("origin", "http://evil.example")], "");
    app.send(get).await.assert_error(403, "cross_site_request", None);
}

/// Sends raw bytes over a socket and reads the whole answer.
async fn raw_http(url: &str, bytes: &[u8]) -> (u16, serde_json::Value, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream.write_all(bytes).await.unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text.get(9..12).and_then(|status| status.parse().ok()).unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|(_, body)| body).unwrap_or_default();
    (status, serde_json::from_str(body).unwrap_or_default(), text)
}

async fn oversized_heads_and_bodies_answer_in_the_error_shape(app: TestApp) {
    let (url, _task) = serve(app.state.clone()).await;
    let long_uri = format!(
        "GET /api/v1/jobs?state={} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
        "x".repeat(10_000)
    );
    let big_header = format!(
        "GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: {}\r\nConnection: close\r\n\r\n",
        "y".repeat(40_000)
    );
    let many_headers = format!(
        "GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n{}Connection: close\r\n\r\n",
        (0..150).map(|index| format!("X-H{index}: 1\r\n")).collect::<String>()
    );
    // The declared length is refused before the body is read, so the test
    // need not send megabytes the server will not read.
    let big_body = format!(
        "POST /api/v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{{}}",
        steward_server::DEFAULT_MAX_BODY_BYTES + 1
    );
    let wrong_method = "DELETE /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".to_string();
    let unknown = "GET /api/v1/nowhere HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".to_string();
    for (request, status, code) in [
        (long_uri, 414, "uri_too_long"),
        (big_header, 431, "headers_too_large"),
        (many_headers, 431, "headers_too_large"),
        (big_body, 413, "payload_too_large"),
        (wrong_method, 405, "method_not_allowed"),
        (unknown, 404, "route_not_found"),
    ] {
        let (answered, body, text) = raw_http(&url, request.as_bytes()).await;
        assert_eq!((answered, &body["error"]["code"]), (status, &json!(code)), "{}", &text[..text.len().min(400)]);
        assert!(body["error"]["message"].as_str().is_some_and(|message| !message.is_empty()), "{text}");
    }
    app.state.shutdown.cancel();
}

fn refused_field(response: &TestResponse, field: &str) -> String {
    response.assert_error(422, "invalid_field", Some(field)).to_string()
}

async fn integers_out_of_range_are_refused_not_clamped(app: TestApp) {
    let too_big = r#"{"name": "Big", "goal": "G", "limits": {"max_tokens": 9223372036854775808}}"#;
    let response = app.refused(app.raw(Method::POST, "/api/v1/agents", Some("application/json"), too_big)).await;
    let message = refused_field(&response, "limits.max_tokens");
    assert!(message.contains("9223372036854775807"), "{message}");
    let wall = r#"{"name": "Wall", "goal": "G", "limits": {"max_wall_secs": 18446744073709551615}}"#;
    let response = app.refused(app.raw(Method::POST, "/api/v1/agents", Some("application/json"), wall)).await;
    refused_field(&response, "limits.max_wall_secs");
    let agent = app.agent("Fits").await;
    let patch = json!({"limits": {"max_tokens": 9_223_372_036_854_775_808_u64}});
    let response = app.refused(app.patch(&format!("/api/v1/agents/{agent}"), patch)).await;
    refused_field(&response, "limits.max_tokens");
    let fits = json!({"limits": {"max_tokens": 9_223_372_036_854_775_807_u64}});
    let body = app.patch(&format!("/api/v1/agents/{agent}"), fits).await.assert_status(200).clone();
    assert_eq!(body["limits"]["max_tokens"], json!(9_223_372_036_854_775_807_u64));
}

async fn names_refuse_control_and_bidi_characters(app: TestApp) {
    for name in ["invoice\u{202E}fdp.exe", "a\u{2067}b", "tab\there", "bell\u{7}"] {
        let response = app.refused(app.post("/api/v1/agents", json!({"name": name, "goal": "G"}))).await;
        refused_field(&response, "name");
    }
    let agent = app.agent("Plain").await;
    let response = app.refused(app.post("/api/v1/actions", json!({"agent_id": agent, "title": "x\u{202D}y"}))).await;
    refused_field(&response, "title");
    let response = app.refused(app.post("/api/v1/agents", json!({"name": "PLAIN", "goal": "G"}))).await;
    response.assert_error(409, "already_exists", Some("name"));
}
