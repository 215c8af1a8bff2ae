// The API's wire types, as crates/server/src/api describes them (the
// OpenAPI document at /api/v1/openapi.json is the reference).

export type AgentStatus = 'active' | 'paused' | 'archived';
export type ActionState = 'draft' | 'defined' | 'scheduled' | 'in_progress' | 'completed' | 'failed' | 'dismissed';
export type ActionPriority = 'low' | 'medium' | 'high' | 'urgent';
export type ActionMode = 'interactive' | 'scheduled';
export type JobState = 'blocked' | 'queued' | 'running' | 'completed' | 'dead' | 'cancelled';
export type RunStatus = 'queued' | 'running' | 'awaiting_approval' | 'finished';
export type RunOutcome =
  | 'completed' | 'max_steps' | 'max_tokens' | 'max_cost' | 'max_wall_time' | 'budget_exceeded' | 'cancelled' | 'failed';
export type StepKind = 'instruction' | 'model_call' | 'tool_call' | 'summary';
export type ApprovalStatus = 'pending' | 'approved' | 'rejected' | 'withdrawn';
export type EventSubject = 'job' | 'agent' | 'action' | 'run' | 'approval' | 'conversation' | 'artifact' | 'schedule';

export interface Limits {
  max_steps: number | null;
  max_tokens: number | null;
  max_cost_usd: number | null;
  max_wall_secs: number | null;
}

export interface Budget {
  daily_usd: number | null;
  total_usd: number | null;
}

export interface Agent {
  id: number;
  name: string;
  goal: string;
  success_criteria: string[];
  timeline: string | null;
  status: AgentStatus;
  model: string | null;
  instructions: string;
  tools: string[] | null;
  limits: Limits;
  budget: Budget;
  created_at: string;
  updated_at: string;
  /** Whether it works now, from its runs' leases (in lists and reads). */
  liveness?: AgentLiveness;
}

export interface AgentLiveness {
  state: 'active' | 'idle' | 'stuck' | 'failed';
  reason: string;
}

export interface AgentMetrics {
  cost_usd_total: number;
  cost_usd_today: number;
  unknown_cost_calls: number;
  unknown_cost_calls_today: number;
  runs: number;
  actions_total: number;
  actions_completed: number;
}

export interface Action {
  id: number;
  agent_id: number;
  title: string;
  description: string;
  priority: ActionPriority;
  mode: ActionMode;
  scheduled_for: string | null;
  state: ActionState;
  state_reason: string | null;
  job_id: number | null;
  created_at: string;
  updated_at: string;
}

export interface RunUsage {
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  cost_usd: number;
  cost_known: boolean;
  unknown_cost_calls: number;
  model_calls: number;
  tool_calls: number;
  estimated_calls: number;
}

export interface Run {
  id: number;
  agent_id: number;
  action_id: number | null;
  job_id: number | null;
  status: RunStatus;
  outcome: RunOutcome | null;
  instruction: string;
  limits: Limits;
  usage: RunUsage;
  steps: number;
  output: string | null;
  error: string | null;
  cancel_requested: boolean;
  created_at: string;
  updated_at: string;
  started_at: string | null;
  finished_at: string | null;
}

export interface ModelCallSpan {
  provider: string;
  model: string;
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  cost_usd: number | null;
  cost_known: boolean;
  time_to_first_token_ms: number | null;
  stop_reason: string | null;
}

export interface ToolCallSpan {
  tool: string;
  call_id: string | null;
  arguments: unknown;
  result_bytes: number | null;
  is_error: boolean;
}

export interface Span {
  sequence: number;
  kind: StepKind;
  name: string;
  started_at: string;
  finished_at: string;
  duration_ms: number;
  model_call: ModelCallSpan | null;
  tool_call: ToolCallSpan | null;
  error: string | null;
  content: unknown;
}

export interface Trace {
  run: Run;
  spans: Span[];
  /** The guardian's looks at the run: model calls for oversight, costed apart. */
  oversight: Assessment[];
}

export interface Assessment {
  id: number;
  run_id: number;
  agent_id: number;
  steps_seen: number;
  tokens_seen: number;
  alignment: number;
  drift_reason: string;
  recommended: 'continue' | 'steer' | 'pause' | 'cancel';
  intervention: 'continue' | 'steer' | 'pause' | 'cancel';
  status: 'recorded' | 'pending' | 'delivered' | 'applied' | 'proposed' | 'dropped';
  message: string;
  needs_person: boolean;
  delivered_before_step: number | null;
  model: string;
  input_tokens: number;
  output_tokens: number;
  cost_usd: number | null;
  created_at: string;
}

/** A tool call waiting for a person, or a project's phase gate (`tool` is `project.gate`, no run). */
export interface Approval {
  id: number;
  run_id: number | null;
  agent_id: number | null;
  step_sequence: number | null;
  call_id: string;
  project_id: number | null;
  tool: string;
  arguments: unknown;
  status: ApprovalStatus;
  reason: string | null;
  created_at: string;
  decided_at: string | null;
}

/** What a phase gate's approval names. */
export interface GateArguments {
  project_id: number;
  title: string;
  phase: string;
  version: number;
  /** The phases the decision decides: the light path's three wait together. */
  phases: string[];
}

export interface Job {
  id: number;
  queue: string;
  kind: string;
  payload: unknown;
  priority: number;
  state: JobState;
  state_reason: string | null;
  run_at: string;
  attempts: number;
  max_attempts: number;
  timeout_ms: number;
  idempotency_key: string | null;
  depends_on: number[];
  pending_dependencies: number;
  lease_owner: string | null;
  lease_expires_at: string | null;
  result: unknown;
  last_error: string | null;
  created_at: string;
  updated_at: string;
  started_at: string | null;
  finished_at: string | null;
}

export interface JobCounts {
  blocked: number;
  queued: number;
  running: number;
  completed: number;
  dead: number;
  cancelled: number;
  total: number;
}

export interface JobAttempt {
  attempt: number;
  worker: string | null;
  started_at: string;
  ended_at: string | null;
  duration_ms: number | null;
  outcome: 'running' | 'completed' | 'failed' | 'died' | 'lease_expired' | 'released' | 'cancelled';
  error: string | null;
  retry_at: string | null;
}

export interface JobDetail extends Job {
  attempt_history: JobAttempt[];
  timings: { wait_ms: number | null; run_ms: number | null; total_ms: number | null };
}

export interface StewardEvent {
  id: number;
  occurred_at: string;
  kind: string;
  subject: EventSubject;
  subject_id: number;
  data: Record<string, unknown>;
}

export interface ChatMessage {
  id: number;
  role: 'user' | 'assistant';
  text: string;
  cost: { model_calls: number; cost_usd: number; cost_known: boolean; unknown_cost_calls: number };
  /** The run that wrote the reply (a completion from an OpenAI client); its trace holds the cost. */
  run_id: number | null;
  created_at: string;
}

export interface AgentProposal {
  name: string;
  goal: string;
  success_criteria: string[];
  timeline: string | null;
}

export interface SetupChatResponse {
  conversation_id: number;
  message: ChatMessage;
  ready: boolean;
  proposal: AgentProposal | null;
}

export interface Artifact {
  id: number;
  run_id: number;
  action_id: number | null;
  path: string;
  bytes: number;
  created_at: string;
  updated_at: string;
}

export interface Health {
  status: string;
  version: string;
  database: string;
  uptime_seconds: number;
  job_kinds: string[] | null;
  jobs: JobCounts;
}

/** `GET /api/v1/costs`: spending per UTC day, agent and model. */
export interface CostEntry {
  day: string;
  agent_id: number;
  /** `provider/model`; null for chat replies, whose model is not recorded. */
  model: string | null;
  model_calls: number;
  cost_usd: number;
  unknown_cost_calls: number;
  input_tokens: number;
  output_tokens: number;
  /** `work` (runs and chat replies) or `oversight` (the guardian's looks). */
  purpose: 'work' | 'oversight';
}

export interface CostReport {
  since: string;
  days: number;
  entries: CostEntry[];
}

// Schedules (server/src/api/schedules.rs).
export type ScheduleTarget =
  | { kind: 'agent'; agent_id: number; instruction: string }
  | { kind: 'action'; action_id: number; instruction: string }
  | { kind: 'routine'; routine: string }
  | { kind: 'job'; job: string; payload: unknown };

export interface Schedule {
  id: number;
  name: string;
  when: string;
  tz: string;
  target: ScheduleTarget;
  missed: string;
  catchup_window_secs: number;
  overlap: string;
  jitter_secs: number;
  pause_on_failures: number | null;
  consecutive_failures: number;
  paused: boolean;
  precondition: unknown;
  next_fire_at: string | null;
  next_fire_local: string | null;
  handled_through: string;
  created_at: string;
  updated_at: string;
}

export interface ScheduleFire {
  slot: string;
  fired_at: string;
  status: string;
  job_id: number | null;
  run_id: number | null;
  outcome: string | null;
  detail: string | null;
}

export type MemoryKind = 'episode' | 'entity' | 'fact';
export type FactKind = 'relation' | 'preference' | 'decision';

export interface MemoryEpisode {
  id: number;
  agent_id: number | null;
  source: string;
  source_ref: string | null;
  content: string;
  reference_time: string;
  created_at: string;
  ingested_at: string | null;
}

/** Valid in the world on [valid_at, invalid_at), believed from created_at until expired_at. */
export interface MemoryFact {
  id: number;
  kind: FactKind;
  relation: string;
  fact: string;
  subject_id: number;
  object_id: number | null;
  agent_id: number | null;
  valid_at: string;
  invalid_at: string | null;
  created_at: string;
  expired_at: string | null;
  episodes: number[];
}

export interface MemoryResult {
  kind: MemoryKind;
  id: number;
  score: number;
  why: string[];
  text: string;
  fact: MemoryFact | null;
  provenance: MemoryEpisode[];
}

export interface MemorySearch {
  results: MemoryResult[];
  vectors_used: boolean;
}

export interface EntityFacts {
  entity_id: number;
  name: string;
  summary: string;
  facts: MemoryFact[];
}

export interface CoreBlock {
  agent_id: number;
  label: string;
  value: string;
  updated_at: string;
}

// Routines (server/src/api/routines.rs).
export interface RoutineDelivery {
  id: number;
  destination: string;
  kind: string;
  status: string;
  attempts: number;
  http_status: number | null;
  error: string | null;
  sent_at: string | null;
}

export interface MissingSource {
  source: string;
  reason: string;
}

export interface RoutineFire {
  id: number;
  routine_id: number;
  trigger: string;
  replay_of: number | null;
  run_id: number | null;
  run_status: string | null;
  run_outcome: string | null;
  missing: MissingSource[];
  inputs: unknown;
  prompt: string;
  deliveries: RoutineDelivery[];
  created: boolean;
  created_at: string;
}

export interface Routine {
  id: number;
  name: string;
  agent_id: number;
  template: string;
  sources: Record<string, unknown>;
  deliver: string[];
  tz: string;
  after: string | null;
  schedules: string[];
  // False when every schedule that fires it is paused.
  enabled: boolean;
  last_fire: RoutineFire | null;
  created_at: string;
}

export interface RoutinePreview {
  inputs: unknown;
  missing: MissingSource[];
  prompt: string;
  destinations: string[];
}

// Living documentation (`/sync`).
export interface DocumentSync {
  document: string;
  exists: boolean;
  last_sync: string | null;
  last_commit: string | null;
  commits_since_sync: number | null;
  pending_commits: number;
  proposal_pending: boolean;
}

export interface SyncStatus {
  repo: string;
  head: string | null;
  hook_installed: boolean;
  hook_path: string;
  changelog_entries: number;
  documents: DocumentSync[];
}

export type ProjectPhase = 'requirements' | 'design' | 'tasks' | 'execution' | 'validation' | 'done';

export interface ProjectDocument {
  phase: string;
  version: number;
  /** `proposed` (waiting at its gate), `approved` or `rejected`. */
  status: 'proposed' | 'approved' | 'rejected';
  document: Record<string, unknown>;
  comment?: string | null;
  created_at: string;
  decided_at?: string | null;
}

export interface ProjectTask {
  id: string;
  title: string;
  state: string;
  parallel: boolean;
  depends_on: string[];
  requirements: string[];
  done_when: string;
  rounds: number;
  feedback?: string | null;
  job_id?: number | null;
  run_id?: number | null;
}

export interface Project {
  id: number;
  title: string;
  brief: string;
  repository?: string | null;
  phase: ProjectPhase;
  gates: Record<string, unknown>;
  parallel_limit: number;
  layout: string;
  agent_id?: number | null;
  validator_id?: number | null;
  max_rounds: number;
  /** `approve` (a person approves each task an agent discovers) or `allow`. */
  discovered_tasks: string;
  /** Commands run in a task's workspace after the validator passes it. */
  checks: string[];
  failure?: string | null;
  /** The light path: the three documents written in one go and reviewed together. */
  quick?: boolean;
  /** What the project changes of the guardian's policy for its tasks' runs; `{}` changes nothing. */
  guardian: GuardianPolicy;
  created_at: string;
  updated_at: string;
  documents: ProjectDocument[];
  tasks: ProjectTask[];
}

/**
 * A project's guardian policy: each field left out falls back to the
 * agent's, then the configured policy (project > agent > global).
 */
export interface GuardianPolicy {
  guardian?: boolean;
  /** Alignment thresholds, 0 to 1, `cancel_below <= pause_below <= steer_below`; all three or none. */
  steer_below?: number;
  pause_below?: number;
  cancel_below?: number;
  /** A pause is applied without asking anyone (else only proposed). */
  auto_pause?: boolean;
  /** A cancel is applied without asking anyone (else a person approves it). */
  auto_cancel?: boolean;
}

/** What `POST /runs/{id}/intervene` did: the run as it is now, and the assessment it applied. */
export interface Intervened {
  run: Run;
  assessment: Assessment | null;
}

/** Two open work items that say the same thing. */
export interface Duplicate {
  id: number;
  /** `action` (refs are action ids) or `task` (refs are `PROJECT/TASK`). */
  kind: string;
  project_id?: number | null;
  first: string;
  second: string;
  first_title: string;
  second_title: string;
  similarity: number;
  /** `text`, `embedding` or `model`. */
  method: string;
  text_similarity?: number | null;
  embedding_similarity?: number | null;
  /** Why it was flagged, with its scores. */
  why: string;
  /** `open`, `merged` or `kept_both`. */
  status: string;
  kept?: string | null;
  created_at: string;
  decided_at?: string | null;
}
