//! Memory: hybrid search, adding an episode (ingested by a `memory.ingest`
//! job), an entity's facts with their history, forgetting a fact, and an
//! agent's core blocks (read and set).

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use steward_domain::memory::temporal::visible;
use steward_domain::memory::{EpisodeSource, FactKind, ItemKind, NewEpisode, check_core_block, parse_as_of};
use steward_domain::{AgentId, FactId};
use steward_runtime::memory::{Rerank, SearchQuery};

use crate::AppState;
use crate::api::memory::{
    AddEpisodeRequest, CoreBlocksResponse, EntityFactsResponse, EpisodeResponse, FactResponse, ForgetFactRequest,
    MemorySearchQuery, MemorySearchResponse, SetCoreBlockRequest,
};
use crate::api::{ErrorCode, ErrorResponse};
use crate::error::ApiError;
use crate::extract::Caller;
use crate::extract::query::{enum_value, non_empty, page_size, positive_integer};
use crate::extract::{ApiJson, ApiJsonOrEmpty, IdPath, QueryParams};

#[utoipa::path(
    get, path = "/api/v1/memory/search", tag = "memory",
    summary = "Search memory",
    description = "Full text, vector similarity (when the server has an embedding model) and the graph \
                   neighbourhood of the entities the query finds, fused by reciprocal rank. Each result says \
                   why it matched and which episodes it came from. With `as_of`, facts valid then (closed ones \
                   included) and episodes that had happened by then. `rerank` reorders the filtered results: \
                   `mmr` (near-duplicates spread out), `centre` (fewest hops from the entity named by `centre` \
                   first), `mentions` (cited by more episodes first).",
    params(MemorySearchQuery),
    responses((status = 200, body = MemorySearchResponse), (status = 400, body = ErrorResponse))
)]
pub async fn search(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(query): RawQuery,
) -> Result<Json<MemorySearchResponse>, ApiError> {
    let params = QueryParams::parse(
        query.as_deref(),
        &["q", "agent_id", "as_of", "kind", "fact_kind", "limit", "rerank", "centre"],
    )?;
    let text = params.single("q", non_empty)?.ok_or_else(|| ApiError::invalid_parameter("q", "is required"))?;
    let mut search = SearchQuery::new(caller.user, text);
    search.agent = params.single("agent_id", positive_integer)?.map(AgentId);
    search.as_of = params.single("as_of", parse_as_of)?;
    search.kinds = params.list("kind", enum_value::<ItemKind>)?;
    search.fact_kinds = params.list("fact_kind", enum_value::<FactKind>)?;
    search.limit = params.single("limit", page_size(100))?.unwrap_or(10);
    let centre = params.single("centre", non_empty)?;
    search.rerank = match (params.single("rerank", non_empty)?.as_deref(), centre) {
        (None, None) => None,
        (Some("mmr"), None) => Some(Rerank::Mmr),
        (Some("mentions"), None) => Some(Rerank::Mentions),
        (Some("centre") | None, Some(name)) => {
            let entity = state.store.find_entity(caller.user, &name).await?.ok_or_else(|| {
                ApiError::new(ErrorCode::NotFound, format!("no entity named {name:?}")).with_field("centre")
            })?;
            Some(Rerank::Centre(entity.id))
        }
        (Some("centre"), None) => return Err(ApiError::invalid_parameter("centre", "is required with rerank=centre")),
        (Some("mmr" | "mentions"), Some(_)) => {
            return Err(ApiError::invalid_parameter("centre", "goes with rerank=centre only"));
        }
        (Some(_), _) => return Err(ApiError::invalid_parameter("rerank", "must be mmr, centre or mentions")),
    };
    Ok(Json(state.memory().search(&search).await?.into()))
}

#[utoipa::path(
    post, path = "/api/v1/memory/episodes", tag = "memory",
    summary = "Add an episode to memory",
    description = "Stored at once and searchable as text; a `memory.ingest` job extracts its entities and \
                   facts. The same `(source, source_ref)` again returns the first episode, with 200.",
    request_body = AddEpisodeRequest,
    responses((status = 201, body = EpisodeResponse), (status = 200, body = EpisodeResponse), (status = 400, body = ErrorResponse), (status = 404, body = ErrorResponse))
)]
pub async fn add_episode(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(request): ApiJson<AddEpisodeRequest>,
) -> Result<(StatusCode, Json<EpisodeResponse>), ApiError> {
    let source = match request.source.as_deref() {
        Some(source) => source.parse::<EpisodeSource>()?,
        None => EpisodeSource::Note,
    };
    let episode = NewEpisode {
        user_id: caller.user,
        agent_id: request.agent_id.map(AgentId),
        source,
        source_ref: request.source_ref,
        thread: request.thread,
        content: request.content,
        reference_time: request.reference_time,
    };
    let (stored, created) = state.memory().add_episode(episode).await?;
    Ok((if created { StatusCode::CREATED } else { StatusCode::OK }, Json(stored.into())))
}

#[utoipa::path(
    get, path = "/api/v1/memory/facts", tag = "memory",
    summary = "An entity's facts",
    description = "The facts whose subject or object is the entity, oldest first: those believed now, or with \
                   `history=true` every one, closed and forgotten ones included.",
    params(("entity" = String, Query, description = "The entity's name (compared normalised)"),
           ("history" = Option<bool>, Query, description = "Include closed facts")),
    responses((status = 200, body = EntityFactsResponse), (status = 404, body = ErrorResponse))
)]
pub async fn entity_facts(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(query): RawQuery,
) -> Result<Json<EntityFactsResponse>, ApiError> {
    let params = QueryParams::parse(query.as_deref(), &["entity", "history"])?;
    let name =
        params.single("entity", non_empty)?.ok_or_else(|| ApiError::invalid_parameter("entity", "is required"))?;
    let history = params.single("history", |text| text.parse::<bool>().map_err(|_| "must be true or false".into()))?;
    let entity =
        state.store.find_entity(caller.user, &name).await?.ok_or_else(|| {
            ApiError::new(ErrorCode::NotFound, format!("no entity named {name:?}")).with_field("entity")
        })?;
    let now = state.clock.now();
    let facts = state.store.facts_touching(caller.user, &[entity.id]).await?;
    let facts = facts.into_iter().filter(|fact| history.unwrap_or(false) || visible(fact, None, now));
    Ok(Json(EntityFactsResponse {
        entity_id: entity.id.get(),
        name: entity.name,
        summary: entity.summary,
        facts: facts.map(Into::into).collect(),
    }))
}

#[utoipa::path(
    post, path = "/api/v1/memory/facts/{id}/forget", tag = "memory",
    summary = "Forget a fact",
    description = "Closes it now (`invalid_at` and `expired_at`), never deletes it, and records the reason in \
                   a `memory.fact_invalidated` event; `as_of` searches still find it.",
    params(("id" = i64, Path, description = "The fact's id")),
    request_body(content = Option<ForgetFactRequest>),
    responses((status = 200, body = FactResponse), (status = 404, body = ErrorResponse))
)]
pub async fn forget_fact(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<FactId>,
    ApiJsonOrEmpty(request): ApiJsonOrEmpty<ForgetFactRequest>,
) -> Result<Json<FactResponse>, ApiError> {
    let reason = request.reason.unwrap_or_else(|| "forgotten on request".into());
    Ok(Json(state.store.invalidate_fact(caller.user, id, reason).await?.into()))
}

#[utoipa::path(
    get, path = "/api/v1/agents/{id}/memory/core-blocks", tag = "memory",
    summary = "An agent's core memory blocks",
    description = "The small blocks in every prompt of the agent (the user's standing preferences, the agent's \
                   notes on its goal), by label.",
    params(("id" = i64, Path, description = "The agent's id")),
    responses((status = 200, body = CoreBlocksResponse), (status = 404, body = ErrorResponse))
)]
pub async fn core_blocks(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<AgentId>,
) -> Result<Json<CoreBlocksResponse>, ApiError> {
    state.store.get_agent(caller.user, id).await?;
    let blocks = state.store.core_blocks(caller.user, id).await?;
    Ok(Json(CoreBlocksResponse { blocks: blocks.into_iter().map(Into::into).collect() }))
}

#[utoipa::path(
    post, path = "/api/v1/agents/{id}/memory/core-blocks", tag = "memory",
    summary = "Set one of an agent's core memory blocks",
    description = "Replaces the block's value (an empty value removes the block). The agent edits the same \
                   blocks with its `memory.core_update` tool.",
    params(("id" = i64, Path, description = "The agent's id")),
    request_body = SetCoreBlockRequest,
    responses((status = 200, body = CoreBlocksResponse), (status = 404, body = ErrorResponse),
              (status = 422, body = ErrorResponse))
)]
pub async fn set_core_block(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<AgentId>,
    ApiJson(request): ApiJson<SetCoreBlockRequest>,
) -> Result<Json<CoreBlocksResponse>, ApiError> {
    state.store.get_agent(caller.user, id).await?;
    check_core_block(&request.label, &request.value)?;
    state.store.set_core_block(caller.user, id, request.label, request.value).await?;
    let blocks = state.store.core_blocks(caller.user, id).await?;
    Ok(Json(CoreBlocksResponse { blocks: blocks.into_iter().map(Into::into).collect() }))
}
