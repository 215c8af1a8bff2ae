//! The MCP server: Steward's agents, actions, approvals, memory, run traces
//! and routine templates for MCP clients, over streamable HTTP at `/mcp`
//! (mounted by the router behind the same guard and authentication as the
//! API) and, through `steward mcp serve --stdio`, over standard I/O.
//!
//! One handler ([`StewardMcp`]) serves both protocol eras rmcp speaks:
//! 2025-11-25 (the `initialize` handshake and `MCP-Session-Id` sessions) and
//! 2026-07-28 (stateless, `server/discover`, `_meta` on each request).
//! Tools (`tools.rs`) answer with the API's JSON (`crate::api`), so an MCP
//! client reads what an HTTP client reads; resources (`resources.rs`) are
//! `steward://` URIs; prompts (`prompts.rs`) are the user's routines and the
//! built-in routine templates; subscriptions to resources (`subscriptions.rs`)
//! follow the event log. With `steward serve --mcp-conformance-fixtures`
//! the conformance suite's fixtures (`fixtures/`) are served beside them.
//! Who a request acts for is the [`Principal`]
//! the authentication middleware put on the HTTP request (rmcp hands the
//! request's parts to the handler), or the local owner over stdio.

mod fixtures;
mod parse_errors;
mod prompts;
mod resources;
mod runs;
mod subscriptions;
mod tools;

use std::sync::{Arc, Mutex};

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CompleteRequestParams, CompleteResult, GetPromptRequestParams,
    GetPromptResponse, Implementation, ListPromptsResult, ListResourceTemplatesResult, ListResourcesResult,
    ListToolsResult, PaginatedRequestParams, ReadResourceRequestParams, ReadResourceResponse, ServerCapabilities,
    ServerConfig, SubscribeRequestParams, SubscriptionFilter, Tool, UnsubscribeRequestParams,
};
use rmcp::service::SubscriptionContext;
use subscriptions::Notifier;
// Logging is of the 2025-11-25 era, which rmcp marks deprecated.
#[allow(deprecated)]
use rmcp::model::{LoggingLevel, SetLevelRequestParams};
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ErrorData, RoleServer, ServerHandler};
use steward_domain::auth::Principal;
use steward_store::actor::acting_as;

use crate::AppState;

pub use crate::access::MCP_PATH;

/// The MCP server's handler: one per session (HTTP) or process (stdio).
#[derive(Clone)]
pub struct StewardMcp {
    state: AppState,
    /// Who requests act for when the transport carries no HTTP request
    /// (stdio): the local owner.
    fallback: Option<Principal>,
    session: Arc<Session>,
}

/// What a session keeps between its requests (2025-11-25 era).
#[derive(Default)]
#[allow(deprecated)]
pub(crate) struct Session {
    /// The level chosen with `logging/setLevel`, if any.
    log_level: Mutex<Option<LoggingLevel>>,
    subscriptions: subscriptions::Subscriptions,
}

impl Session {
    #[allow(deprecated)] // logging is of the 2025-11-25 era
    fn log_level(&self) -> Option<LoggingLevel> {
        *self.log_level.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl StewardMcp {
    /// A handler for HTTP: each request acts for the principal its HTTP
    /// request was authenticated as.
    pub fn for_http(state: AppState) -> Self {
        StewardMcp { state, fallback: None, session: Arc::default() }
    }

    /// A handler for a transport without HTTP requests (stdio): everything
    /// acts for the local owner, as the CLI on the home does.
    pub fn for_local_owner(state: AppState) -> Self {
        StewardMcp { state, fallback: Some(Principal::local_owner()), session: Arc::default() }
    }

    fn fixtures(&self) -> bool {
        self.state.mcp_conformance_fixtures
    }

    /// The principal of the request: from its HTTP request, else the fallback.
    fn principal(&self, context: &RequestContext<RoleServer>) -> Result<Principal, ErrorData> {
        context
            .extensions
            .get::<axum::http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<Principal>().cloned())
            .or_else(|| self.fallback.clone())
            .ok_or_else(|| ErrorData::invalid_request("this request needs a credential", None))
    }
}

/// What the router mounts at `/mcp`: rmcp's streamable-HTTP service, after
/// a check that a posted body is JSON at all (`parse_errors.rs`).
pub fn routes(state: AppState) -> axum::Router {
    let max_body_bytes = state.max_body_bytes;
    axum::Router::new()
        .fallback_service(http_service(state))
        .layer(axum::middleware::from_fn_with_state(max_body_bytes, parse_errors::refuse_malformed))
}

/// The streamable-HTTP service for `/mcp`. Host and Origin are checked by
/// the router's guard, and bodies limited to the API's limit, before rmcp
/// sees a request, so rmcp's own host and origin lists are off.
pub fn http_service(state: AppState) -> StreamableHttpService<StewardMcp, LocalSessionManager> {
    let config = StreamableHttpServerConfig::default()
        .disable_allowed_hosts()
        .disable_allowed_origins()
        .with_sse_keep_alive(Some(state.keep_alive))
        .with_max_request_body_bytes(state.max_body_bytes)
        .with_cancellation_token(state.shutdown.child_token());
    // A handler per session: each keeps its own log level and subscriptions.
    StreamableHttpService::new(
        move || Ok(StewardMcp::for_http(state.clone())),
        Arc::new(LocalSessionManager::default()),
        config,
    )
}

impl StewardMcp {
    /// Steward's tools, and the fixtures' when they are served.
    fn tools(&self) -> Vec<Tool> {
        let mut tools = tools::definitions();
        if self.fixtures() {
            tools.extend(fixtures::tools());
        }
        tools
    }
}

impl ServerHandler for StewardMcp {
    #[allow(deprecated)] // logging: served for clients of the 2025-11-25 era
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_resources()
                .enable_resources_subscribe()
                .enable_prompts()
                .enable_completions()
                .enable_logging()
                .build(),
        )
        .with_server_info(Implementation::new("steward", env!("CARGO_PKG_VERSION")))
        .with_instructions(
            "Steward runs AI agents. List agents with agents.list, give one an instruction with runs.start \
                 (it answers with the run's final answer), chat with agents.chat, and manage actions and \
                 approvals. Resources: steward://agents/{name}, steward://actions/{id}, steward://runs/{id}/trace.",
        )
    }

    /// No argument of Steward's prompts or resource templates has values to
    /// suggest (names and ids are listed by `agents.list` and the resources),
    /// so completions are always empty.
    async fn complete(
        &self,
        _request: CompleteRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CompleteResult, ErrorData> {
        Ok(CompleteResult::default())
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(self.tools()))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.tools().into_iter().find(|tool| tool.name == name)
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        if self.fixtures() && fixtures::is_fixture_name(&request.name) {
            return fixtures::call_tool(&self.session, request, context).await;
        }
        let principal = self.principal(&context)?;
        let actor = principal.actor();
        let call = tools::call(&self.state, principal, request, context);
        Ok(acting_as(Some(actor), call).await?.into())
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        let principal = self.principal(&context)?;
        let mut list = resources::list(&self.state, &principal).await?;
        if self.fixtures() {
            list.resources.extend(fixtures::resources());
        }
        Ok(list)
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        let mut templates = resources::templates();
        if self.fixtures() {
            templates.extend(fixtures::templates());
        }
        Ok(ListResourceTemplatesResult::with_all_items(templates))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        if self.fixtures() && fixtures::is_fixture_uri(&request.uri) {
            return Ok(fixtures::read_resource(&request.uri)?.into());
        }
        let principal = self.principal(&context)?;
        Ok(resources::read(&self.state, &principal, &request.uri).await?.into())
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, ErrorData> {
        let principal = self.principal(&context)?;
        let mut list = prompts::list(&self.state, &principal).await?;
        if self.fixtures() {
            list.prompts.extend(fixtures::prompts());
        }
        Ok(list)
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, ErrorData> {
        if self.fixtures() && fixtures::is_fixture_name(&request.name) {
            return fixtures::get_prompt(request);
        }
        let principal = self.principal(&context)?;
        Ok(prompts::get(&self.state, &principal, request).await?.into())
    }

    #[allow(deprecated)] // logging is of the 2025-11-25 era
    async fn set_level(
        &self,
        request: SetLevelRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        *self.session.log_level.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(request.level);
        Ok(())
    }

    #[allow(deprecated)] // subscriptions/listen replaces this in the 2026-07-28 era
    async fn subscribe(
        &self,
        request: SubscribeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        let watched = if self.fixtures() && fixtures::is_fixture_uri(&request.uri) {
            fixtures::read_resource(&request.uri)?;
            None
        } else {
            let principal = self.principal(&context)?;
            Some(resources::watched(&self.state, &principal, &request.uri).await?)
        };
        self.session.subscriptions.subscribe(&self.state, request.uri, watched, Notifier::Session(context.peer)).await
    }

    /// `subscriptions/listen` (2026-07-28): resource subscriptions only, as
    /// on the older wire; the SDK drops whatever else was asked for.
    fn accepted_subscription_filter(&self, requested: &SubscriptionFilter) -> Option<SubscriptionFilter> {
        Some(requested.clone())
    }

    async fn listen(&self, context: SubscriptionContext) -> Result<(), ErrorData> {
        let principal = self.principal(context.request_context())?;
        let listening = subscriptions::Subscriptions::default();
        for uri in context.accepted().resource_subscriptions.clone().unwrap_or_default() {
            let watched = if self.fixtures() && fixtures::is_fixture_uri(&uri) {
                None
            } else {
                Some(resources::watched(&self.state, &principal, &uri).await?)
            };
            listening.subscribe(&self.state, uri, watched, Notifier::Listen(context.sink().clone())).await?;
        }
        context.cancelled().await;
        // Dropping `listening` stops its watches.
        Ok(())
    }

    #[allow(deprecated)] // subscriptions/listen replaces this in the 2026-07-28 era
    async fn unsubscribe(
        &self,
        request: UnsubscribeRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        self.session.subscriptions.unsubscribe(&request.uri);
        Ok(())
    }
}
