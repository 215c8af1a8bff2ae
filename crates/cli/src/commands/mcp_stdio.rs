//! `steward mcp serve --stdio`: an MCP server on standard input and output
//! that relays every request to the running server's `/mcp` over streamable
//! HTTP, with this CLI's token. Tools, resources and prompts are the
//! server's, unchanged; progress notifications of a call are relayed back
//! with the caller's progress token. Logs go to standard error only:
//! standard output carries the protocol.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use rmcp::model::{
    CallToolRequest, CallToolRequestParams, CallToolResponse, ClientCapabilities, ClientConfig, ClientRequest,
    GetPromptRequestParams, GetPromptResponse, Implementation, ListPromptsResult, ListResourceTemplatesResult,
    ListResourcesResult, ListToolsResult, PaginatedRequestParams, ProgressNotificationParam, ProgressToken,
    ProtocolVersion, ReadResourceRequestParams, ReadResourceResponse, ServerCapabilities, ServerConfig, ServerResult,
};
use rmcp::service::{
    ClientLifecycleMode, ClientServiceExt, NotificationContext, Peer, PeerRequestOptions, RequestContext,
};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{ClientHandler, ErrorData, RoleClient, RoleServer, ServerHandler, ServiceError, ServiceExt};

use crate::options::GlobalOptions;

/// The stdio client waiting for a call, and its progress token.
type Downstream = (Peer<RoleServer>, ProgressToken);

/// Where progress of the upstream server goes: rmcp gives each upstream
/// request a progress token of its own, so each is mapped back to the stdio
/// client's token for the call.
#[derive(Clone, Default)]
struct ProgressRelay {
    calls: Arc<Mutex<HashMap<ProgressToken, Downstream>>>,
}

impl ClientHandler for ProgressRelay {
    async fn on_progress(&self, mut params: ProgressNotificationParam, _context: NotificationContext<RoleClient>) {
        let target = self.calls.lock().ok().and_then(|calls| calls.get(&params.progress_token).cloned());
        if let Some((peer, token)) = target {
            params.progress_token = token;
            let _ = peer.notify_progress(params).await;
        }
    }

    fn get_info(&self) -> ClientConfig {
        ClientConfig::new(
            ClientCapabilities::default(),
            Implementation::new("steward-mcp-stdio", env!("CARGO_PKG_VERSION")),
        )
    }
}

/// The stdio server: every request goes upstream.
#[derive(Clone)]
struct Relay {
    upstream: Peer<RoleClient>,
    info: ServerConfig,
    progress: ProgressRelay,
}

fn relayed(error: ServiceError) -> ErrorData {
    match error {
        ServiceError::McpError(error) => error,
        other => ErrorData::internal_error(format!("the Steward server did not answer: {other}"), None),
    }
}

impl ServerHandler for Relay {
    fn get_info(&self) -> ServerConfig {
        self.info.clone()
    }

    async fn list_tools(
        &self,
        request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        self.upstream.list_tools(request).await.map_err(relayed)
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let request = ClientRequest::CallToolRequest(CallToolRequest::new(request));
        let handle =
            self.upstream.send_cancellable_request(request, PeerRequestOptions::no_options()).await.map_err(relayed)?;
        let upstream_token = handle.progress_token.clone();
        if let Some(token) = context.meta.get_progress_token()
            && let Ok(mut calls) = self.progress.calls.lock()
        {
            calls.insert(upstream_token.clone(), (context.peer.clone(), token));
        }
        let answer = handle.await_response().await;
        if let Ok(mut calls) = self.progress.calls.lock() {
            calls.remove(&upstream_token);
        }
        match answer.map_err(relayed)? {
            ServerResult::CallToolResult(result) => Ok(result.into()),
            other => {
                Err(ErrorData::internal_error(format!("the Steward server answered a tool call with {other:?}"), None))
            }
        }
    }

    async fn list_resources(
        &self,
        request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        self.upstream.list_resources(request).await.map_err(relayed)
    }

    async fn list_resource_templates(
        &self,
        request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        self.upstream.list_resource_templates(request).await.map_err(relayed)
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        Ok(self.upstream.read_resource(request).await.map_err(relayed)?.into())
    }

    async fn list_prompts(
        &self,
        request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, ErrorData> {
        self.upstream.list_prompts(request).await.map_err(relayed)
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, ErrorData> {
        Ok(self.upstream.get_prompt(request).await.map_err(relayed)?.into())
    }
}

pub async fn serve(global: &GlobalOptions) -> anyhow::Result<()> {
    let server = global.server_url()?;
    let base = server.trim_end_matches('/');
    let mut config = StreamableHttpClientTransportConfig::with_uri(format!("{base}{}", steward_server::mcp::MCP_PATH));
    if let Some(token) = crate::credentials::token_for(base) {
        config = config.auth_header(token);
    }
    let progress = ProgressRelay::default();
    let lifecycle = ClientLifecycleMode::Auto {
        preferred_versions: vec![ProtocolVersion::V_2026_07_28],
        legacy_version: Some(ProtocolVersion::V_2025_11_25),
    };
    let upstream = progress
        .clone()
        .serve_with_lifecycle(StreamableHttpClientTransport::from_config(config), lifecycle)
        .await
        .with_context(|| format!("cannot reach Steward's MCP server at {base}/mcp (is `steward serve` running?)"))?;
    let info = upstream.peer().peer_info().map_or_else(
        || ServerConfig::new(ServerCapabilities::builder().enable_tools().enable_resources().enable_prompts().build()),
        |info| {
            let mut config = ServerConfig::new(info.capabilities.clone());
            if let Some(instructions) = &info.instructions {
                config = config.with_instructions(instructions.clone());
            }
            config.with_server_info(Implementation::new("steward", env!("CARGO_PKG_VERSION")))
        },
    );
    let relay = Relay { upstream: upstream.peer().clone(), info, progress };
    let running = relay.serve(rmcp::transport::stdio()).await.context("the MCP session on standard I/O failed")?;
    running.waiting().await.context("the MCP session on standard I/O ended badly")?;
    drop(upstream);
    Ok(())
}
