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
//! built-in routine templates. Who a request acts for is the [`Principal`]
//! the authentication middleware put on the HTTP request (rmcp hands the
//! request's parts to the handler), or the local owner over stdio.

mod parse_errors;
mod prompts;
mod resources;
mod runs;
mod tools;

use std::sync::Arc;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CompleteRequestParams, CompleteResult, GetPromptRequestParams,
    GetPromptResponse, Implementation, ListPromptsResult, ListResourceTemplatesResult, ListResourcesResult,
    ListToolsResult, PaginatedRequestParams, ReadResourceRequestParams, ReadResourceResponse, ServerCapabilities,
    ServerConfig, Tool,
};
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
}

impl StewardMcp {
    /// A handler for HTTP: each request acts for the principal its HTTP
    /// request was authenticated as.
    pub fn for_http(state: AppState) -> Self {
        StewardMcp { state, fallback: None }
    }

    /// A handler for a transport without HTTP requests (stdio): everything
    /// acts for the local owner, as the CLI on the home does.
    pub fn for_local_owner(state: AppState) -> Self {
        StewardMcp { state, fallback: Some(Principal::local_owner()) }
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
    let handler = StewardMcp::for_http(state);
    StreamableHttpService::new(move || Ok(handler.clone()), Arc::new(LocalSessionManager::default()), config)
}

impl ServerHandler for StewardMcp {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_resources()
                .enable_prompts()
                .enable_completions()
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
        Ok(ListToolsResult::with_all_items(tools::definitions()))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        tools::definitions().into_iter().find(|tool| tool.name == name)
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
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
        resources::list(&self.state, &principal).await
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        Ok(ListResourceTemplatesResult::with_all_items(resources::templates()))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let principal = self.principal(&context)?;
        Ok(resources::read(&self.state, &principal, &request.uri).await?.into())
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, ErrorData> {
        let principal = self.principal(&context)?;
        prompts::list(&self.state, &principal).await
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, ErrorData> {
        let principal = self.principal(&context)?;
        Ok(prompts::get(&self.state, &principal, request).await?.into())
    }
}
