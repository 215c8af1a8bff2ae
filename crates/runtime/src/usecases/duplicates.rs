//! Duplicate work: a scan flags open actions that say the same thing (any
//! agents') and pending tasks of a project that do, by text similarity
//! and, when memory has an embedding model, by the cosine of the items'
//! embeddings (`steward_domain::oversight::duplicates`, thresholds from
//! `[oversight]`). Close candidates (alike, but not enough) are put to the
//! default model, one structured call each, at most 20 a scan, when the
//! agent runtime is there. Every such call, and every embedding call to a
//! provider, is charged to the agent whose work it looked at (the action's
//! agent, the project's agent) as an oversight cost that counts in its
//! spending: a budget it has spent stops them, and work no agent owns is
//! compared by text only. A pair a model answered is not asked about
//! again until either text changes. A person merges a pair (one action
//! dismissed with a link to the kept one; one task merged into the other
//! with the flag's decision in one store transaction,
//! `ProjectStore::merge_duplicate_tasks`) or keeps both.

use std::collections::BTreeMap;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::Deserialize;
use steward_domain::oversight::duplicates::{
    Closeness, Duplicate, DuplicateKind, DuplicateStatus, DuplicateThresholds, MODEL, NewDuplicate, WorkText,
    similar_pairs,
};
use steward_domain::project::{Phase, TaskState};
use steward_domain::{ActionId, ActionState, AgentId, ProjectId, UserId, ValidationError};
use steward_llm::{ChatRequest, EmbeddingModel, StructuredOptions, complete_typed};
use steward_store::{ActionFilter, NewOversightCall, OversightCallPurpose};

use super::{UseCaseError, UseCases};

/// Close candidates a model is asked about at most, per scan.
const MODEL_CHECKS: usize = 20;

/// What the duplicate scan compares with and how strictly.
#[derive(Clone, Debug, Default)]
pub struct DuplicateSettings {
    pub thresholds: DuplicateThresholds,
    /// Memory's embedding model, when it has one.
    pub embedder: Option<Arc<dyn EmbeddingModel>>,
}

/// The model's answer on a close candidate.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct SameWork {
    /// Whether doing one makes the other unnecessary.
    same: bool,
}

/// One open item of work: its ref and title, the text compared, and the
/// agent its checks are charged to.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkItem {
    pub reference: String,
    pub title: String,
    pub text: String,
    pub owner: Option<AgentId>,
}

/// A group of items compared with each other: the open actions, or one
/// project's pending tasks.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkGroup {
    pub kind: DuplicateKind,
    pub project: Option<ProjectId>,
    pub items: Vec<WorkItem>,
}

/// Everything a scan compares; equal inventories need no second scan.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WorkInventory {
    pub groups: Vec<WorkGroup>,
}

impl WorkInventory {
    /// A fingerprint of every item's ref, text and owner (FNV-1a): the
    /// watermark automatic scans compare.
    pub fn fingerprint(&self) -> u64 {
        let mut text = String::new();
        for group in &self.groups {
            text.push_str(&format!("{}|{:?}\n", group.kind, group.project));
            for item in &group.items {
                text.push_str(&format!("{}\u{1f}{}\u{1f}{:?}\n", item.reference, item.text, item.owner));
            }
        }
        fnv(&text)
    }
}

fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3))
}

/// What the model check of a pair is remembered by: the pair and its texts.
fn check_subject(kind: DuplicateKind, first: &WorkItem, second: &WorkItem) -> String {
    format!(
        "{kind} {} ~ {} #{:016x}",
        first.reference,
        second.reference,
        fnv(&format!("{}\u{1f}{}", first.text, second.text))
    )
}

/// A pair found, before it is flagged or asked about.
struct Found {
    pair: NewDuplicate,
    closeness: Closeness,
    subject: String,
    owner: Option<AgentId>,
}

impl UseCases {
    /// The work a scan compares: open actions (draft, defined, scheduled)
    /// and, for each project planning or executing, its pending tasks.
    pub async fn duplicate_inventory(&self, user: UserId) -> Result<WorkInventory, UseCaseError> {
        let open = vec![ActionState::Draft, ActionState::Defined, ActionState::Scheduled];
        let actions = self.store.list_actions(user.into(), ActionFilter { agent_id: None, states: open }).await?;
        let mut groups = vec![WorkGroup {
            kind: DuplicateKind::Action,
            project: None,
            items: actions
                .iter()
                .map(|action| WorkItem {
                    reference: action.id.to_string(),
                    title: action.title.clone(),
                    text: format!("{} {}", action.title, action.description),
                    owner: Some(action.agent_id),
                })
                .collect(),
        }];
        for project in self.store.list_projects(user).await? {
            if !matches!(project.phase, Phase::Tasks | Phase::Execution) {
                continue;
            }
            let record = self.store.get_project(user, project.id).await?;
            groups.push(WorkGroup {
                kind: DuplicateKind::Task,
                project: Some(project.id),
                items: record
                    .tasks
                    .iter()
                    .filter(|task| task.state == TaskState::Pending)
                    .map(|task| WorkItem {
                        reference: format!("{}/{}", project.id, task.spec.id),
                        title: task.spec.title.clone(),
                        text: format!("{} {}", task.spec.title, task.spec.done_when),
                        owner: project.agent_id,
                    })
                    .collect(),
            });
        }
        groups.retain(|group| group.items.len() > 1);
        Ok(WorkInventory { groups })
    }

    /// Flags the user's duplicate work not flagged before; returns the new flags.
    pub async fn scan_duplicates(&self, user: UserId) -> Result<Vec<Duplicate>, UseCaseError> {
        let inventory = self.duplicate_inventory(user).await?;
        self.scan_inventory(user, &inventory).await
    }

    /// Flags the duplicates among `inventory`'s items.
    pub async fn scan_inventory(
        &self,
        user: UserId,
        inventory: &WorkInventory,
    ) -> Result<Vec<Duplicate>, UseCaseError> {
        let thresholds = self.duplicates.thresholds;
        let mut pairs = Vec::new();
        let mut candidates = Vec::new();
        for group in &inventory.groups {
            let vectors = self.embeddings_of(user, &group.items).await;
            let texts: Vec<WorkText<usize>> = group
                .items
                .iter()
                .enumerate()
                .map(|(index, item)| WorkText { key: index, text: item.text.clone() })
                .collect();
            for pair in similar_pairs(&texts, vectors.as_deref(), thresholds) {
                let (a, b) = (&group.items[pair.first], &group.items[pair.second]);
                let (first, second) = if a.reference <= b.reference { (a, b) } else { (b, a) };
                let found = Found {
                    pair: NewDuplicate {
                        kind: group.kind,
                        project_id: group.project,
                        first: first.reference.clone(),
                        second: second.reference.clone(),
                        first_title: first.title.clone(),
                        second_title: second.title.clone(),
                        similarity: pair.similarity,
                        method: pair.method.into(),
                        text_similarity: pair.text,
                        embedding_similarity: pair.embedding,
                    },
                    closeness: pair.closeness,
                    subject: check_subject(group.kind, first, second),
                    owner: first.owner.or(second.owner),
                };
                match found.closeness {
                    Closeness::Duplicate => pairs.push(found.pair),
                    Closeness::Candidate => candidates.push(found),
                }
            }
        }
        // Pairs flagged before, or answered before with these texts, are not asked about again.
        let flagged = self.store.list_duplicates(user, None).await?;
        let answered = self.store.oversight_outcomes(user, OversightCallPurpose::DuplicateCheck).await?;
        candidates.retain(|candidate| {
            !answered.contains_key(&candidate.subject)
                && !flagged.iter().any(|known| {
                    known.kind == candidate.pair.kind
                        && known.first == candidate.pair.first
                        && known.second == candidate.pair.second
                })
        });
        candidates.truncate(MODEL_CHECKS);
        pairs.extend(self.confirmed_by_model(user, candidates).await?);
        Ok(self.store.flag_duplicates(user, pairs).await?)
    }

    /// The items' embeddings, one batch per owning agent, when memory has
    /// an embedding model; `None` without one. Items no agent owns, or
    /// whose agent's budget is spent, or whose batch failed, get no vector
    /// (they are compared by text). A provider's batch is recorded as an
    /// oversight call of the agent; a local model's costs nothing and is not.
    async fn embeddings_of(&self, user: UserId, items: &[WorkItem]) -> Option<Vec<Option<Vec<f32>>>> {
        let embedder = self.duplicates.embedder.as_ref()?;
        let local = embedder.id().provider() == "local";
        let mut by_owner: BTreeMap<AgentId, Vec<usize>> = BTreeMap::new();
        for (index, item) in items.iter().enumerate() {
            if let Some(owner) = item.owner {
                by_owner.entry(owner).or_default().push(index);
            }
        }
        let mut vectors: Vec<Option<Vec<f32>>> = vec![None; items.len()];
        for (owner, indexes) in by_owner {
            if !local && !self.may_spend(user, owner, embedder.id()).await {
                continue;
            }
            let texts: Vec<String> = indexes.iter().map(|index| items[*index].text.clone()).collect();
            match embedder.embed(&texts).await {
                Ok(embedded) if embedded.vectors.len() == texts.len() => {
                    if !local {
                        let call = NewOversightCall {
                            agent_id: owner,
                            purpose: OversightCallPurpose::DuplicateEmbedding,
                            subject: format!("{} work items", texts.len()),
                            outcome: format!("{} vectors", embedded.vectors.len()),
                            model: embedded.model.to_string(),
                            input_tokens: embedded.input_tokens,
                            output_tokens: 0,
                            cost_usd: embedded.cost_usd,
                        };
                        tracing::info!(
                            purpose = "oversight",
                            check = "duplicate_embedding",
                            agent = %owner,
                            model = %call.model,
                            cost_usd = ?call.cost_usd,
                            "work items embedded for a duplicate scan"
                        );
                        if let Err(error) = self.store.record_oversight_call(user, call).await {
                            tracing::warn!(%error, "could not record the cost of a duplicate scan's embeddings");
                        }
                    }
                    for (index, vector) in indexes.into_iter().zip(embedded.vectors) {
                        vectors[index] = Some(vector);
                    }
                }
                Ok(embedded) => tracing::warn!(
                    asked = texts.len(),
                    got = embedded.vectors.len(),
                    "the embedding model answered another number of vectors; comparing by text"
                ),
                Err(error) => tracing::warn!(%error, "could not embed work items; comparing them by text"),
            }
        }
        Some(vectors)
    }

    /// Whether `agent`'s budget allows another call of `model` (a missing
    /// agent or a failed look-up allows none).
    async fn may_spend(&self, user: UserId, agent: AgentId, model: &steward_llm::ModelId) -> bool {
        let Some(runtime) = self.agents.as_ref() else { return true };
        let Ok(agent) = self.store.get_agent(user, agent).await else { return false };
        match runtime.budget_stop(user, &agent, model).await {
            Ok(None) => true,
            Ok(Some(stop)) => {
                tracing::info!(agent = %agent.name, reason = %stop.reason, "a duplicate check waits for budget");
                false
            }
            Err(error) => {
                tracing::warn!(%error, "could not read an agent's spending for a duplicate check");
                false
            }
        }
    }

    /// The close candidates a model says are the same work (with the agent
    /// runtime's default model; none without one). Each answer is recorded
    /// as an oversight call charged to the pair's agent; a pair no agent
    /// owns, or whose agent's budget is spent, is not asked. A call that
    /// fails leaves its pair unflagged: the next scan asks again.
    async fn confirmed_by_model(
        &self,
        user: UserId,
        candidates: Vec<Found>,
    ) -> Result<Vec<NewDuplicate>, UseCaseError> {
        let Some(runtime) = self.agents.as_ref() else { return Ok(Vec::new()) };
        let Ok(model) = runtime.models().default_chat_model() else { return Ok(Vec::new()) };
        let mut confirmed = Vec::new();
        for candidate in candidates {
            let Some(owner) = candidate.owner else { continue };
            if !self.may_spend(user, owner, model.id()).await {
                continue;
            }
            let mut pair = candidate.pair;
            let text = format!(
                "Two items of planned work:\nA: {}\nB: {}\nWould doing one make the other unnecessary?",
                pair.first_title, pair.second_title
            );
            let request = ChatRequest::from_user_text(text)
                .with_system(
                    "You spot duplicate work in a team's plan. Answer only whether the two items are the same work.",
                )
                .with_max_tokens(256);
            match complete_typed::<SameWork>(model.as_ref(), request, StructuredOptions::default()).await {
                Ok(reply) => {
                    let call = NewOversightCall {
                        agent_id: owner,
                        purpose: OversightCallPurpose::DuplicateCheck,
                        subject: candidate.subject,
                        outcome: if reply.value.same { "same" } else { "different" }.into(),
                        model: reply.response.model.to_string(),
                        input_tokens: reply.total_usage.total_input_tokens(),
                        output_tokens: reply.total_usage.output_tokens,
                        cost_usd: reply.total_cost_usd,
                    };
                    tracing::info!(
                        purpose = "oversight",
                        check = "duplicate",
                        agent = %owner,
                        model = %call.model,
                        cost_usd = ?call.cost_usd,
                        outcome = %call.outcome,
                        "a model checked a close pair of work items"
                    );
                    self.store.record_oversight_call(user, call).await?;
                    if reply.value.same {
                        pair.method = MODEL.into();
                        confirmed.push(pair);
                    }
                }
                Err(error) => tracing::warn!(%error, "could not ask the model about a close duplicate"),
            }
        }
        Ok(confirmed)
    }

    /// A person's decision on a flag: `keep` one of its two items (the
    /// other action is dismissed, its reason linking the kept one; the
    /// other task is merged into the kept one), or `None` to keep both.
    pub async fn decide_duplicate(
        &self,
        user: UserId,
        id: steward_domain::DuplicateId,
        keep: Option<String>,
    ) -> Result<Duplicate, UseCaseError> {
        let duplicate = self.store.get_duplicate(user, id).await?;
        // A decided flag is refused by the store before anything is dismissed.
        if duplicate.status != DuplicateStatus::Open {
            return Ok(self.store.decide_duplicate(user, id, keep).await?);
        }
        if let Some(kept) = &keep {
            if *kept != duplicate.first && *kept != duplicate.second {
                return Err(ValidationError::new(
                    "keep",
                    format!("{kept:?} is neither {:?} nor {:?}", duplicate.first, duplicate.second),
                )
                .into());
            }
            if duplicate.kind == DuplicateKind::Task {
                // The flag's decision and the tasks document's edit, in one transaction.
                return Ok(self.store.merge_duplicate_tasks(user, id, kept).await?);
            }
            let dropped = if *kept == duplicate.first { &duplicate.second } else { &duplicate.first };
            let dropped: ActionId = dropped
                .parse()
                .map_err(|_| ValidationError::new("keep", format!("{dropped:?} is not an action id")))?;
            self.store
                .transition_action(user, dropped, ActionState::Dismissed, Some(format!("duplicate of action {kept}")))
                .await?;
        }
        Ok(self.store.decide_duplicate(user, id, keep).await?)
    }
}
