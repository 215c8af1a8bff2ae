//! Authentication: API tokens with scopes, expiry and revocation; the
//! dashboard's password login, its SameSite=Strict HttpOnly cookie and the
//! CSRF token its changes need; answers that do not tell whether a user
//! exists; and rate limits on failed attempts (429 with Retry-After).

use axum::body::Body;
use axum::http::{Method, Request};
use serde_json::{Value, json};
use steward_domain::auth::{NewToken, NewUser, Scope, TokenKind};
use steward_server::auth::secrets;

use crate::support::{TestApp, TestResponse, api_tests};

api_tests!(
    a_server_that_requires_authentication_checks_tokens_and_scopes,
    the_dashboard_logs_in_with_a_strict_cookie_and_csrf_token,
    failed_attempts_are_limited_with_retry_after,
    a_loopback_owner_needs_no_token_but_a_bad_one_is_refused,
);

/// A user and one of their tokens; returns the token.
async fn token(app: &TestApp, user: &str, scope: Scope, expires_in_days: Option<i64>) -> String {
    let found = match app.store.user_with_password(user).await.unwrap() {
        Some((found, _)) => found,
        None => app.store.create_user(NewUser { name: user.into(), admin: scope == Scope::Admin }, None).await.unwrap(),
    };
    let secret = secrets::new_token();
    let expires_at = expires_in_days.map(|days| steward_domain::Clock::now(&*app.clock) + chrono::Duration::days(days));
    let new = NewToken { user_id: found.id, kind: TokenKind::Api, name: format!("{scope} token"), scope, expires_at };
    app.store.create_token(new, secrets::hash_token(&secret)).await.unwrap();
    secret
}

async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> TestResponse {
    let mut builder = Request::builder().method(method).uri(path).header("host", "127.0.0.1:8420");
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let request = match body {
        Some(body) => builder.header("content-type", "application/json").body(Body::from(body.to_string())),
        None => builder.body(Body::empty()),
    };
    app.send(request.unwrap()).await
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

async fn a_server_that_requires_authentication_checks_tokens_and_scopes(mut app: TestApp) {
    app.state.auth.required = true;
    let agent = json!({"name": "Guarded", "goal": "G"});
    let missing = send(&app, Method::GET, "/api/v1/agents", &[], None).await;
    assert!(missing.assert_error(401, "unauthenticated", None).contains("steward token create"));
    send(&app, Method::GET, "/api/v1/openapi.json", &[], None).await.assert_status(200);
    send(&app, Method::GET, "/api/v1/auth/session", &[], None).await.assert_status(200);

    let writer = token(&app, "ada", Scope::Write, None).await;
    let auth = bearer(&writer);
    send(&app, Method::GET, "/api/v1/agents", &[("authorization", &auth)], None).await.assert_status(200);
    send(&app, Method::POST, "/api/v1/agents", &[("authorization", &auth)], Some(agent.clone()))
        .await
        .assert_status(201);
    let session = send(&app, Method::GET, "/api/v1/auth/session", &[("authorization", &auth)], None).await;
    assert_eq!(session.body["user"], "ada");

    let reader = bearer(&token(&app, "ada", Scope::Read, None).await);
    send(&app, Method::GET, "/api/v1/agents", &[("authorization", &reader)], None).await.assert_status(200);
    let refused = app
        .refused(send(&app, Method::POST, "/api/v1/jobs", &[("authorization", &reader)], Some(json!({"kind": "noop"}))))
        .await;
    assert_eq!(refused.assert_error(403, "forbidden", None), "the token's scope is read; this request needs write");

    let expired = bearer(&token(&app, "ada", Scope::Write, Some(1)).await);
    app.clock.advance(chrono::Duration::days(2));
    let response = send(&app, Method::GET, "/api/v1/agents", &[("authorization", &expired)], None).await;
    assert!(response.assert_error(401, "unauthenticated", None).contains("expired"));

    let tokens = app.store.list_tokens(None, TokenKind::Api).await.unwrap();
    app.store.revoke_token(None, tokens[0].id).await.unwrap();
    let response = send(&app, Method::GET, "/api/v1/agents", &[("authorization", &auth)], None).await;
    assert!(response.assert_error(401, "unauthenticated", None).contains("revoked"));
    let unknown = bearer(&secrets::new_token());
    let response = send(&app, Method::GET, "/api/v1/agents", &[("authorization", &unknown)], None).await;
    assert_eq!(response.assert_error(401, "unauthenticated", None), "the credential is not valid");
    assert!(!response.text.contains("ada"));
}

fn cookie_of(response: &TestResponse) -> String {
    let set_cookie = response.headers.get("set-cookie").expect("a session cookie").to_str().unwrap().to_string();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set_cookie.contains(attribute), "{set_cookie}");
    }
    set_cookie.split(';').next().unwrap().to_string()
}

async fn the_dashboard_logs_in_with_a_strict_cookie_and_csrf_token(mut app: TestApp) {
    app.state.auth.required = true;
    let hash = secrets::hash_password("correct horse battery").unwrap();
    app.store.create_user(NewUser { name: "Grace".into(), admin: true }, Some(hash)).await.unwrap();
    let wrong =
        send(&app, Method::POST, "/api/v1/auth/login", &[], Some(json!({"name": "grace", "password": "nope"}))).await;
    let nobody =
        send(&app, Method::POST, "/api/v1/auth/login", &[], Some(json!({"name": "nobody", "password": "nope"}))).await;
    assert_eq!(wrong.assert_error(401, "unauthenticated", None), "wrong user name or password");
    assert_eq!(wrong.text, nobody.text, "a wrong password and a missing user look the same");
    assert!(wrong.headers.get("set-cookie").is_none());

    let login = json!({"name": "grace", "password": "correct horse battery"});
    let logged_in = send(&app, Method::POST, "/api/v1/auth/login", &[], Some(login)).await;
    logged_in.assert_status(200);
    let cookie = cookie_of(&logged_in);
    let csrf = logged_in.body["csrf_token"].as_str().unwrap().to_string();
    assert_eq!(logged_in.body["user"], "Grace");

    let session = send(&app, Method::GET, "/api/v1/auth/session", &[("cookie", &cookie)], None).await;
    assert_eq!(
        (session.body["user"].as_str(), session.body["csrf_token"].as_str()),
        (Some("Grace"), Some(csrf.as_str()))
    );
    send(&app, Method::GET, "/api/v1/agents", &[("cookie", &cookie)], None).await.assert_status(200);
    let agent = json!({"name": "Cookie", "goal": "G"});
    let refused =
        app.refused(send(&app, Method::POST, "/api/v1/agents", &[("cookie", &cookie)], Some(agent.clone()))).await;
    assert!(refused.assert_error(403, "forbidden", None).contains("X-CSRF-Token"));
    let wrong_csrf = [("cookie", cookie.as_str()), ("x-csrf-token", "forged")];
    app.refused(send(&app, Method::POST, "/api/v1/agents", &wrong_csrf, Some(agent.clone()))).await.assert_error(
        403,
        "forbidden",
        None,
    );
    let with_csrf = [("cookie", cookie.as_str()), ("x-csrf-token", csrf.as_str())];
    send(&app, Method::POST, "/api/v1/agents", &with_csrf, Some(agent)).await.assert_status(201);

    let logout = send(&app, Method::POST, "/api/v1/auth/logout", &with_csrf, None).await;
    assert_eq!(logout.status.as_u16(), 204);
    assert!(logout.headers.get("set-cookie").unwrap().to_str().unwrap().contains("Max-Age=0"));
    let after = send(&app, Method::GET, "/api/v1/agents", &[("cookie", &cookie)], None).await;
    assert!(after.assert_error(401, "unauthenticated", None).contains("revoked"));
    // A stale cookie does not hide the dashboard or the session endpoint.
    let page = send(&app, Method::GET, "/", &[("cookie", &cookie)], None).await;
    page.assert_status(200);
    let session = send(&app, Method::GET, "/api/v1/auth/session", &[("cookie", &cookie)], None).await;
    assert_eq!(session.body["user"], Value::Null);
}

async fn failed_attempts_are_limited_with_retry_after(app: TestApp) {
    let hash = secrets::hash_password("right").unwrap();
    app.store.create_user(NewUser { name: "lin".into(), admin: false }, Some(hash)).await.unwrap();
    for _ in 0..5 {
        let wrong =
            send(&app, Method::POST, "/api/v1/auth/login", &[], Some(json!({"name": "lin", "password": "x"}))).await;
        wrong.assert_error(401, "unauthenticated", None);
    }
    let limited =
        send(&app, Method::POST, "/api/v1/auth/login", &[], Some(json!({"name": "LIN", "password": "right"}))).await;
    limited.assert_error(429, "rate_limited", None);
    let wait: u64 = limited.headers.get("retry-after").unwrap().to_str().unwrap().parse().unwrap();
    assert!((1..=300).contains(&wait), "{wait}");
    // The address has 5 failures already (the logins); 20 is its limit.
    for _ in 0..15 {
        let bad = bearer(&secrets::new_token());
        send(&app, Method::GET, "/api/v1/agents", &[("authorization", &bad)], None).await.assert_error(
            401,
            "unauthenticated",
            None,
        );
    }
    let bad = bearer(&secrets::new_token());
    let limited = send(&app, Method::GET, "/api/v1/agents", &[("authorization", &bad)], None).await;
    limited.assert_error(429, "rate_limited", None);
    assert!(limited.headers.contains_key("retry-after"));
}

async fn a_loopback_owner_needs_no_token_but_a_bad_one_is_refused(app: TestApp) {
    send(&app, Method::GET, "/api/v1/agents", &[], None).await.assert_status(200);
    let session = send(&app, Method::GET, "/api/v1/auth/session", &[], None).await;
    assert_eq!((session.body["authentication_required"].as_bool(), &session.body["user"]), (Some(false), &Value::Null));
    let bad = bearer("stw_not-a-token");
    send(&app, Method::GET, "/api/v1/agents", &[("authorization", &bad)], None).await.assert_error(
        401,
        "unauthenticated",
        None,
    );
}
