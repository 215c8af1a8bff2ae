//! The OpenAPI document's frame: its title, tags, the error schema and the
//! table of error codes. The paths come from the handlers' `#[utoipa::path]`
//! annotations as the router collects them (`routes::meta`), so the
//! document cannot drift from the code.

use utoipa::OpenApi;

use crate::api::{ErrorCode, ErrorResponse};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Steward API",
        description = "The REST API of Steward, a self-hosted operating system for AI agents. \
                       Every error has the shape `{\"error\": {\"code\", \"message\", \"field\"}}`; \
                       `code` is stable (see the ErrorCode schema), `field` names the input at fault.",
    ),
    tags(
        (name = "health", description = "Is the server up"),
        (name = "agents", description = "Agents: a goal, success criteria, a timeline"),
        (name = "actions", description = "Actions: the deliverables agents work on, and their lifecycle"),
        (name = "chats", description = "The setup chat that creates an agent, chats with agents and about drafts"),
        (name = "runs", description = "Agent runs: the step loop of model and tool calls, its cost and its trace"),
        (name = "approvals", description = "Tool calls waiting for a person to approve or reject them"),
        (name = "artifacts", description = "The files agents produce"),
        (name = "jobs", description = "The durable job queue"),
        (name = "projects", description = "Spec-driven projects: ideas, phase documents behind gates, and task graphs"),
        (name = "routines", description = "Routines: a trigger, an agent, a prompt template, context sources and deliveries"),
        (name = "schedules", description = "Schedules: a *when* in a time zone, policies, and what each fire starts"),
        (name = "deliveries", description = "Routine and run outputs sent to Slack, webhooks, e-mail and files, once each"),
        (name = "events", description = "The append-only log of state changes, paged or live"),
        (name = "costs", description = "What model calls cost, per day, agent and model"),
        (name = "memory", description = "What agents remember: episodes, entities, facts in time, hybrid search"),
        (name = "sync", description = "Living documentation: architecture documents kept current from git by an agent"),
        (name = "models", description = "The model providers and models the server's agents can use"),
        (name = "auth", description = "Logging in to the dashboard, and who a request acts for"),
        (name = "access", description = "Users and their API tokens"),
        (name = "nodes", description = "The `steward serve` processes sharing the database"),
        (name = "oversight", description = "Duplicate work flagged across actions and project tasks, merged or kept"),
        (name = "meta", description = "This document"),
    ),
    components(schemas(ErrorCode, ErrorResponse))
)]
pub(crate) struct ApiDoc;

/// Appends the table of error codes to the document's description, so the
/// reference says what each code means and which status it comes with.
pub(crate) fn with_error_table(mut document: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    let mut table = String::from("\n\n| code | HTTP status | meaning |\n|---|---|---|\n");
    for code in ErrorCode::ALL {
        table.push_str(&format!("| `{code}` | {} | {} |\n", code.http_status(), code.description()));
    }
    let description = document.info.description.take().unwrap_or_default();
    document.info.description = Some(description + &table);
    document
}
