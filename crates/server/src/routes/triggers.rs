//! Inbound triggers, authenticated by a signature instead of a token
//! (`crate::access::signed`): `POST /routines/{name}/trigger` signed with
//! HMAC-SHA256 over timestamp and body (`X-Steward-Timestamp`,
//! `X-Steward-Signature: v1=…`), and Slack's slash commands signed with
//! its signing secret (`v0=`). A timestamp more than five minutes from the
//! server's clock is refused, and the same signed request fires once (its
//! signature is the fire's key).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use serde_json::{Value, json};
use steward_domain::routine::FireTrigger;
use steward_runtime::deliveries::signature::{
    SIGNATURE_HEADER, SLACK_SIGNATURE_HEADER, SLACK_TIMESTAMP_HEADER, TIMESTAMP_HEADER, verify, verify_slack,
};
use steward_runtime::routines::FireRequest;

use super::routines::resolve;
use crate::AppState;
use crate::api::{ErrorCode, ErrorResponse, TriggerResponse};
use crate::error::ApiError;
use crate::extract::RawBody;

/// Signed triggers act for the local owner: a signature names no user.
const USER: steward_domain::UserId = steward_domain::UserId::LOCAL_OWNER;

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers.get(name).and_then(|value| value.to_str().ok()).unwrap_or_default()
}

fn switched_off(variable: &str) -> ApiError {
    ApiError::new(ErrorCode::Forbidden, format!("this endpoint is off: the server has no signing key ({variable})"))
}

#[utoipa::path(
    post, path = "/api/v1/routines/{routine}/trigger", tag = "routines",
    summary = "Fire a routine from a signed webhook",
    description = "Authenticated by its signature, not a token: `X-Steward-Timestamp` (Unix seconds) and \
                   `X-Steward-Signature: v1=<hex HMAC-SHA256(key, \"{timestamp}.{body}\")>`, the key being the \
                   server's `STEWARD_TRIGGER_SECRET`. A timestamp more than 5 minutes off is refused; the same \
                   signed request fires once. The JSON body (optional) is the template's `input`.",
    params(("routine" = String, Path, description = "The routine's id or name")),
    request_body(content = Value, content_type = "application/json"),
    responses(
        (status = 200, body = TriggerResponse),
        (status = 401, body = ErrorResponse, description = "`unauthenticated`: a bad signature or timestamp"),
        (status = 403, body = ErrorResponse, description = "`forbidden`: the server has no key"),
        (status = 404, body = ErrorResponse),
    )
)]
pub async fn trigger_routine(
    State(state): State<AppState>,
    Path(reference): Path<String>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Json<TriggerResponse>, ApiError> {
    let secret = state.trigger_secrets.webhook.clone().ok_or_else(|| switched_off("STEWARD_TRIGGER_SECRET"))?;
    let signature = header(&headers, SIGNATURE_HEADER);
    verify(&secret, header(&headers, TIMESTAMP_HEADER), signature, &body, state.clock.now().timestamp())
        .map_err(|error| ApiError::new(ErrorCode::Unauthenticated, error.to_string()))?;
    let input = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        Some(
            serde_json::from_slice::<Value>(&body)
                .map_err(|error| ApiError::new(ErrorCode::InvalidJson, format!("the body is not JSON: {error}")))?,
        )
    };
    let routine = resolve(&state, USER, &reference).await?;
    let request = FireRequest {
        key: Some(format!("webhook:{}", signature.trim())),
        input,
        ..FireRequest::new(FireTrigger::Webhook)
    };
    let record = state.routines().fire(USER, &routine, request).await?;
    Ok(Json(TriggerResponse { fire: record.fire.id, run_id: record.run.map(|run| run.id), created: record.created }))
}

#[utoipa::path(
    post, path = "/api/v1/slack/commands", tag = "routines",
    summary = "Fire a routine from a Slack slash command",
    description = "Slack posts the command as a form, signed with the app's signing secret (the server's \
                   `SLACK_SIGNING_SECRET`): `X-Slack-Request-Timestamp` and `X-Slack-Signature: v0=…`. The \
                   command's text is the routine's name, then the template's `input`. The answer is a Slack \
                   message only the person who typed the command sees.",
    request_body(content = String, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, body = Object, description = "`{\"response_type\": \"ephemeral\", \"text\": …}`"),
        (status = 401, body = ErrorResponse, description = "`unauthenticated`: a bad signature or timestamp"),
        (status = 403, body = ErrorResponse, description = "`forbidden`: the server has no signing secret"),
    )
)]
pub async fn slack_command(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Json<Value>, ApiError> {
    let secret = state.trigger_secrets.slack.clone().ok_or_else(|| switched_off("SLACK_SIGNING_SECRET"))?;
    let signature = header(&headers, SLACK_SIGNATURE_HEADER);
    verify_slack(&secret, header(&headers, SLACK_TIMESTAMP_HEADER), signature, &body, state.clock.now().timestamp())
        .map_err(|error| ApiError::new(ErrorCode::Unauthenticated, error.to_string()))?;
    let text = form_urlencoded::parse(&body).find(|(name, _)| name == "text").map(|(_, value)| value.into_owned());
    let text = text.unwrap_or_default();
    let (name, input) = match text.trim().split_once(char::is_whitespace) {
        Some((name, input)) => (name.to_string(), Some(Value::String(input.trim().to_string()))),
        None => (text.trim().to_string(), None),
    };
    let reply = |text: String| Json(json!({ "response_type": "ephemeral", "text": text }));
    if name.is_empty() {
        return Ok(reply("Name a routine: `/steward morning-plan`".into()));
    }
    let routine = match state.store.find_routine(USER, &name).await {
        Ok(routine) => routine,
        Err(steward_store::StoreError::NotFound { .. }) => {
            return Ok(reply(format!("There is no routine named {name}.")));
        }
        Err(error) => return Err(error.into()),
    };
    let request =
        FireRequest { key: Some(format!("slack:{}", signature.trim())), input, ..FireRequest::new(FireTrigger::Slack) };
    let record = state.routines().fire(USER, &routine, request).await?;
    Ok(reply(format!("Started {} (fire {}); its output is delivered when it is done.", routine.name, record.fire.id)))
}
