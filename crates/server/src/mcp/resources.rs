//! The MCP server's resources: `steward://` URIs for agents (by name),
//! actions, artifacts and run traces, with a template for each. Reading one
//! answers with the API's JSON for it (an artifact: its file, as text when
//! it is UTF-8, else base64); the list names the user's agents and open
//! actions.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rmcp::ErrorData;
use rmcp::model::{ListResourcesResult, ReadResourceResult, Resource, ResourceContents, ResourceTemplate};
use steward_domain::auth::Principal;
use steward_domain::event::EventSubject;
use steward_domain::{ActionId, ArtifactId, RunId, UserId};
use steward_store::{ActionFilter, AgentFilter};

use super::subscriptions::{Watched, not_watchable};
use super::tools::find_agent;
use crate::AppState;
use crate::api::{ActionResponse, AgentResponse, ErrorCode, SpanResponse, TraceResponse};
use crate::error::ApiError;
use crate::routes::artifacts::{content_type_of, read_artifact};

const JSON: &str = "application/json";

/// The URI templates clients can fill in.
pub(super) fn templates() -> Vec<ResourceTemplate> {
    vec![
        ResourceTemplate::new("steward://agents/{name}", "agent")
            .with_description("An agent: goal, criteria, model, tools, limits, budget, status.")
            .with_mime_type(JSON),
        ResourceTemplate::new("steward://actions/{id}", "action")
            .with_description("An action (a deliverable) and where it is in its lifecycle.")
            .with_mime_type(JSON),
        ResourceTemplate::new("steward://runs/{id}/trace", "run trace")
            .with_description("A run and its steps: model calls (tokens, cost) and tool calls (arguments, results).")
            .with_mime_type(JSON),
        ResourceTemplate::new("steward://artifacts/{id}", "artifact")
            .with_description("A file a run wrote (an artifact)."),
    ]
}

/// The user's agents and open actions.
pub(super) async fn list(state: &AppState, principal: &Principal) -> Result<ListResourcesResult, ErrorData> {
    let user = principal.user;
    let agents = state.store.list_agents(user.into(), AgentFilter::default()).await.map_err(internal)?;
    let actions = state.store.list_actions(user.into(), ActionFilter::default()).await.map_err(internal)?;
    let mut resources: Vec<Resource> = agents
        .into_iter()
        .map(|agent| {
            Resource::new(format!("steward://agents/{}", agent.name), agent.name.clone())
                .with_description(agent.goal.clone())
                .with_mime_type(JSON)
        })
        .collect();
    resources.extend(actions.into_iter().filter(|action| !action.state.is_final()).map(|action| {
        Resource::new(format!("steward://actions/{}", action.id), format!("action {}", action.id))
            .with_title(action.title.clone())
            .with_mime_type(JSON)
    }));
    Ok(ListResourcesResult::with_all_items(resources))
}

/// Reads one resource; an unknown URI or a missing resource is
/// `resource_not_found` (-32002) naming it.
pub(super) async fn read(state: &AppState, principal: &Principal, uri: &str) -> Result<ReadResourceResult, ErrorData> {
    let user = principal.user;
    let target = parse(uri).ok_or_else(|| {
        ErrorData::resource_not_found(
            format!(
                "unknown resource {uri:?}: Steward serves steward://agents/{{name}}, steward://actions/{{id}}, \
                 steward://runs/{{id}}/trace and steward://artifacts/{{id}}"
            ),
            None,
        )
    })?;
    let contents = contents(state, user, target, uri).await.map_err(|error| match error.code {
        ErrorCode::NotFound => ErrorData::resource_not_found(format!("{uri}: {}", error.message), None),
        _ => ErrorData::internal_error(error.to_string(), None),
    })?;
    Ok(ReadResourceResult::new(vec![contents]))
}

/// What a subscription to `uri` watches: the events about the resource it
/// names, which must exist and be the user's.
pub(super) async fn watched(state: &AppState, principal: &Principal, uri: &str) -> Result<Watched, ErrorData> {
    let user = principal.user;
    let target = parse(uri).ok_or_else(|| not_watchable(uri, "Steward serves no such resource"))?;
    let found = match target {
        Target::Agent(name) => find_agent(state, user, &name).await.map(|agent| (EventSubject::Agent, agent.id.0)),
        Target::Action(id) => {
            state.store.get_action(user, ActionId(id)).await.map(|_| (EventSubject::Action, id)).map_err(ApiError::from)
        }
        Target::Trace(id) => {
            state.store.get_run(user, RunId(id)).await.map(|_| (EventSubject::Run, id)).map_err(ApiError::from)
        }
        Target::Artifact(id) => state
            .store
            .get_artifact(user, ArtifactId(id))
            .await
            .map(|_| (EventSubject::Artifact, id))
            .map_err(ApiError::from),
    };
    let (subject, id) = found.map_err(|error| not_watchable(uri, error.message))?;
    Ok(Watched { user, subject, id })
}

/// What a `steward://` URI names.
#[derive(Clone, Debug, PartialEq)]
enum Target {
    Agent(String),
    Action(i64),
    Trace(i64),
    Artifact(i64),
}

fn parse(uri: &str) -> Option<Target> {
    let path = uri.strip_prefix("steward://")?;
    let id = |text: &str| text.parse::<i64>().ok().filter(|id| *id > 0);
    match path.split('/').collect::<Vec<_>>().as_slice() {
        ["agents", name] if !name.is_empty() => Some(Target::Agent(percent_decoded(name))),
        ["actions", text] => id(text).map(Target::Action),
        ["runs", text, "trace"] => id(text).map(Target::Trace),
        ["artifacts", text] => id(text).map(Target::Artifact),
        _ => None,
    }
}

/// Agent names may hold spaces, which a URI carries as `%20`.
fn percent_decoded(text: &str) -> String {
    url_decode(text).unwrap_or_else(|| text.to_string())
}

fn url_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' {
            let hex = text.get(index + 1..index + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            index += 3;
        } else {
            out.push(bytes[index]);
            index += 1;
        }
    }
    String::from_utf8(out).ok()
}

async fn contents(state: &AppState, user: UserId, target: Target, uri: &str) -> Result<ResourceContents, ApiError> {
    let json = |value: serde_json::Value| {
        let text = serde_json::to_string_pretty(&value).unwrap_or_default();
        ResourceContents::text(text, uri).with_mime_type(JSON)
    };
    let to_value = |value: Result<serde_json::Value, serde_json::Error>| {
        value.map_err(|error| ApiError::internal(error.to_string()))
    };
    match target {
        Target::Agent(name) => {
            let agent = find_agent(state, user, &name).await?;
            Ok(json(to_value(serde_json::to_value(AgentResponse::from(agent)))?))
        }
        Target::Action(id) => {
            let action = state.store.get_action(user, ActionId(id)).await?;
            Ok(json(to_value(serde_json::to_value(ActionResponse::from(action)))?))
        }
        Target::Trace(id) => {
            let run = state.store.get_run(user, RunId(id)).await?;
            let steps = state.store.list_steps(user, run.id).await?;
            let oversight = state.store.list_assessments(user, run.id).await?;
            let trace = TraceResponse {
                run: run.into(),
                spans: steps.into_iter().map(SpanResponse::from).collect(),
                oversight: oversight.into_iter().map(crate::api::AssessmentResponse::from).collect(),
            };
            Ok(json(to_value(serde_json::to_value(trace))?))
        }
        Target::Artifact(id) => {
            let (artifact, bytes) = read_artifact(state, user, ArtifactId(id)).await?;
            let mime = content_type_of(&artifact.path);
            Ok(match String::from_utf8(bytes) {
                Ok(text) => ResourceContents::text(text, uri).with_mime_type(mime),
                Err(error) => ResourceContents::blob(STANDARD.encode(error.into_bytes()), uri).with_mime_type(mime),
            })
        }
    }
}

fn internal(error: steward_store::StoreError) -> ErrorData {
    ErrorData::internal_error(ApiError::from(error).to_string(), None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_name_what_they_read() {
        assert_eq!(parse("steward://agents/writer"), Some(Target::Agent("writer".into())));
        assert_eq!(parse("steward://agents/my%20agent"), Some(Target::Agent("my agent".into())));
        assert_eq!(parse("steward://actions/12"), Some(Target::Action(12)));
        assert_eq!(parse("steward://runs/3/trace"), Some(Target::Trace(3)));
        assert_eq!(parse("steward://artifacts/9"), Some(Target::Artifact(9)));
        for unknown in ["steward://actions/x", "steward://actions/0", "steward://runs/3", "file:///etc/passwd", ""] {
            assert_eq!(parse(unknown), None, "{unknown}");
        }
    }
}
