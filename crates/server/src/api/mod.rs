//! The API's wire types: every request and response body of `/api/v1`, with
//! their OpenAPI schemas and conversions from and to the domain types. The
//! CLI reuses them, so client and server cannot drift apart.
//!
//! Request types deny unknown fields, so a typo is an error instead of being
//! silently ignored; response types accept unknown fields, so an older client
//! keeps working with a newer server.

pub mod access;
pub mod actions;
pub mod agents;
pub mod approvals;
pub mod artifacts;
pub mod auth;
pub mod chats;
pub mod costs;
pub mod deliveries;
pub mod enums;
pub mod error;
pub mod events;
mod fields;
pub mod health;
pub mod job_history;
pub mod jobs;
pub mod mcp;
pub mod memory;
pub mod models;
pub mod nodes;
pub mod oversight;
pub mod projects;
pub mod routines;
pub mod runs;
pub mod schedules;
pub mod sync;

pub use access::{
    CreateTokenRequest, CreatedTokenResponse, TokenListResponse, TokenResponse, UserListResponse, UserResponse,
};
pub use actions::{
    ActionListQuery, ActionListResponse, ActionResponse, CreateActionRequest, TransitionActionRequest,
    UpdateActionRequest,
};
pub use agents::{
    AgentListQuery, AgentListResponse, AgentMetricsResponse, AgentResponse, BudgetBody, CreateAgentRequest, LimitsBody,
    LivenessBody, UpdateAgentRequest,
};
pub use approvals::{ApprovalListQuery, ApprovalListResponse, ApprovalResponse, ApproveRequest, RejectRequest};
pub use artifacts::{ArtifactListResponse, ArtifactResponse};
pub use auth::{LoginRequest, SessionResponse};
pub use chats::{
    AgentProposalBody, ChatDeltaEvent, ChatDoneEvent, ChatDraftEvent, ChatMessageRequest, ChatMessageResponse,
    ChatReplyResponse, ChatStreamEvent, ConfirmSetupRequest, MessageCostBody, MessageListQuery, MessageListResponse,
    SetupChatRequest, SetupChatResponse,
};
pub use deliveries::{DeliveryListQuery, DeliveryListResponse, DeliveryResponse};
pub use enums::{
    ActionMode, ActionPriority, ActionState, AgentStatus, ApprovalStatus, ChatRole, DeliveryStatus, EventSubject,
    JobState, RunOutcome, RunStatus, StepKind,
};
pub use error::{ErrorBody, ErrorCode, ErrorResponse};
pub use events::{EventActor, EventListResponse, EventQuery, EventResponse};
pub use health::HealthResponse;
pub use job_history::{AttemptOutcome, JobAttempt, JobTimings};
pub use jobs::{
    EnqueueBatchRequest, EnqueueBatchResponse, EnqueueJobRequest, EnqueuedJob, JobCounts, JobDetailResponse,
    JobListQuery, JobListResponse, JobReference, JobResponse,
};
pub use models::{ModelBody, ModelsResponse, PriceBody, ProviderBody};
pub use nodes::{NodeListResponse, NodeResponse};
pub use oversight::{
    AssessmentListResponse, AssessmentResponse, DuplicateListQuery, DuplicateListResponse, DuplicateResponse,
    GuardianPolicyBody, MergeDuplicateRequest,
};
pub use routines::{
    CreateRoutineRequest, MissingSource, ReplayRequest, RepoBody, RoutineFireListResponse, RoutineFireResponse,
    RoutineListResponse, RoutinePreviewResponse, RoutineResponse, RunRoutineRequest, RunRoutineResponse,
    TemplateListResponse, TemplateResponse, TriggerResponse, UpdateRoutineRequest,
};
pub use runs::{
    CreateRunRequest, InterveneRequest, InterveneResponse, ModelCallSpan, RunListQuery, RunListResponse, RunResponse,
    RunUsageBody, ScheduleActionRequest, ScheduleActionResponse, SpanResponse, ToolCallSpan, TraceResponse,
};
pub use schedules::{
    BackfillRequest, CreateScheduleRequest, FireListResponse, FireResponse, PreviewRequest, PreviewResponse,
    ScheduleListResponse, ScheduleResponse, TargetBody,
};
pub use sync::{DocumentSyncBody, StartSyncRequest, SyncStatusQuery, SyncStatusResponse};
