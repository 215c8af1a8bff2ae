//! The router: every endpoint of `/api/v1`, the OpenAPI document and the API
//! reference, the dashboard (which answers every other path, and unknown API
//! paths in the error shape), the fallback for wrong methods, and the layers
//! every request passes (the guard, body limit, panic catcher, tracing).

mod access;
mod actions;
mod agents;
mod approvals;
pub(crate) mod artifacts;
mod auth;
pub(crate) mod chats;
mod costs;
mod deliveries;
mod duplicates;
mod events;
mod health;
mod jobs;
mod memory;
pub(crate) mod meta;
mod metrics;
mod models;
mod no_body;
mod nodes;
mod projects;
mod routines;
mod runs;
mod schedules;
mod setup;
mod stream;
mod sync;
mod triggers;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::openapi::ApiDoc;
use crate::{fallback, guard};

/// The documented routes; the OpenAPI document is collected from them.
pub(crate) fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health::health))
        .routes(routes!(agents::list_agents, agents::create_agent))
        .routes(routes!(setup::setup_chat))
        .routes(routes!(setup::confirm_setup))
        .routes(routes!(setup::agent_setup_chat))
        .routes(routes!(chats::agent_chat, chats::agent_chat_history))
        .routes(routes!(agents::get_agent, agents::update_agent))
        .routes(routes!(agents::archive_agent))
        .routes(routes!(agents::agent_metrics))
        .routes(routes!(agents::agent_mcp_servers))
        .routes(routes!(runs::create_run))
        .routes(routes!(actions::list_actions, actions::create_action))
        .routes(routes!(actions::get_action, actions::update_action))
        .routes(routes!(actions::transition_action))
        .routes(routes!(actions::schedule_action))
        .routes(routes!(chats::action_chat, chats::action_chat_history))
        .routes(routes!(artifacts::action_artifacts))
        .routes(routes!(memory::search))
        .routes(routes!(memory::add_episode))
        .routes(routes!(memory::entity_facts))
        .routes(routes!(memory::forget_fact))
        .routes(routes!(memory::core_blocks, memory::set_core_block))
        .routes(routes!(runs::list_runs))
        .routes(routes!(runs::get_run))
        .routes(routes!(runs::cancel_run))
        .routes(routes!(runs::run_trace))
        .routes(routes!(runs::run_assessments))
        .routes(routes!(runs::intervene_run))
        .routes(routes!(duplicates::list_duplicates))
        .routes(routes!(duplicates::scan_duplicates))
        .routes(routes!(duplicates::merge_duplicate))
        .routes(routes!(duplicates::keep_duplicate))
        .routes(routes!(artifacts::run_artifacts))
        .routes(routes!(artifacts::artifact_content))
        .routes(routes!(approvals::list_approvals))
        .routes(routes!(approvals::get_approval))
        .routes(routes!(approvals::approve))
        .routes(routes!(approvals::reject))
        .routes(routes!(jobs::list_jobs, jobs::enqueue_job))
        .routes(routes!(sync::sync_status))
        .routes(routes!(sync::start_sync))
        .routes(routes!(jobs::enqueue_batch))
        .routes(routes!(jobs::get_job))
        .routes(routes!(jobs::cancel_job))
        .routes(routes!(jobs::retry_job))
        .routes(routes!(schedules::list_schedules, schedules::create_schedule))
        .routes(routes!(schedules::preview_schedule))
        .routes(routes!(schedules::get_schedule, schedules::delete_schedule))
        .routes(routes!(schedules::pause_schedule))
        .routes(routes!(schedules::resume_schedule))
        .routes(routes!(schedules::run_schedule_now))
        .routes(routes!(schedules::backfill_schedule))
        .routes(routes!(schedules::schedule_fires))
        .routes(routes!(routines::list_routines, routines::create_routine))
        .routes(routes!(routines::get_routine, routines::update_routine, routines::delete_routine))
        .routes(routes!(routines::run_routine))
        .routes(routes!(routines::routine_fires))
        .routes(routes!(routines::get_fire))
        .routes(routes!(routines::replay_fire))
        .routes(routes!(routines::list_templates))
        .routes(routes!(projects::list_projects, projects::create_project))
        .routes(routes!(projects::get_project, projects::update_project))
        .routes(routes!(projects::propose_document))
        .routes(routes!(projects::edit_document))
        .routes(routes!(projects::approve_project))
        .routes(routes!(projects::reject_project))
        .routes(routes!(projects::run_project))
        .routes(routes!(projects::set_project_guardian))
        .routes(routes!(projects::list_ideas, projects::create_idea))
        .routes(routes!(projects::update_idea))
        .routes(routes!(triggers::trigger_routine))
        .routes(routes!(triggers::slack_command))
        .routes(routes!(deliveries::list_deliveries))
        .routes(routes!(deliveries::get_delivery))
        .routes(routes!(deliveries::retry_delivery))
        .routes(routes!(events::list_events))
        .routes(routes!(stream::stream_events))
        .routes(routes!(costs::latest_event))
        .routes(routes!(costs::cost_report))
        .routes(routes!(meta::openapi_json))
        .routes(routes!(models::list_models))
        .routes(routes!(auth::login))
        .routes(routes!(auth::logout))
        .routes(routes!(auth::session))
        .routes(routes!(access::list_users))
        .routes(routes!(access::list_tokens, access::create_token))
        .routes(routes!(access::revoke_token))
        .routes(routes!(nodes::list_nodes))
}

/// The whole router; `mcp` is the MCP server's router, mounted at `/mcp`
/// behind the same layers (passed in so this module does not import it).
pub(crate) fn router(state: AppState, mcp: Router) -> Router {
    let (api, _document) = api_routes().split_for_parts();
    let max_body_bytes = state.max_body_bytes;
    let state_for_metrics = state.clone();
    api.route_layer(middleware::from_fn(no_body::refuse_unexpected_body))
        .route_layer(middleware::from_fn_with_state(state.clone(), guard::route_limits::check))
        .merge(crate::api_reference::routes())
        .merge(crate::openai::routes(state.clone()))
        .route("/metrics", axum::routing::get(metrics::scrape))
        .nest_service(crate::access::MCP_PATH, mcp)
        .method_not_allowed_fallback(fallback::method_not_allowed)
        .fallback(crate::dashboard::serve)
        .with_state(state.clone())
        .layer(middleware::from_fn(metrics::mark_route))
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .layer(middleware::from_fn_with_state(state.clone(), crate::auth::authenticate))
        .layer(middleware::from_fn_with_state(state, guard::check))
        .layer(middleware::from_fn(crate::openai::openai_error_shape))
        .layer(CatchPanicLayer::custom(fallback::panic_response))
        .layer(TraceLayer::new_for_http())
        .layer(middleware::from_fn_with_state(state_for_metrics, metrics::record))
}
