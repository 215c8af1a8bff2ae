//! Hybrid retrieval: full text (BM25 / `ts_rank`) + vector cosine + the
//! graph neighbourhood of the entities the query finds (breadth-first over
//! facts, two hops), fused by reciprocal rank; then filtered by kind, agent
//! and time (`as_of`: what was valid then) and returned with each result's
//! score, why it matched, and the episodes it came from.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use steward_domain::memory::fusion::{RRF_K, Signal, reciprocal_rank_fusion};
use steward_domain::memory::temporal::visible;
use steward_domain::memory::text::query_terms;
use steward_domain::memory::{Entity, Episode, Fact, FactKind, ItemKey, ItemKind};
use steward_domain::{AgentId, EntityId, EpisodeId, FactId, UserId};

use super::Memory;
use crate::usecases::UseCaseError;

/// Candidates each signal contributes before fusion.
const CANDIDATES: usize = 50;
/// Breadth-first hops from the seed entities.
const GRAPH_HOPS: usize = 2;

#[derive(Clone, Debug, PartialEq)]
pub struct SearchQuery {
    pub user: UserId,
    pub text: String,
    /// Only this agent's items and the user's shared ones.
    pub agent: Option<AgentId>,
    /// What was valid then (facts), or had happened by then (episodes).
    pub as_of: Option<DateTime<Utc>>,
    /// Empty: all kinds.
    pub kinds: Vec<ItemKind>,
    /// Empty: all fact kinds.
    pub fact_kinds: Vec<FactKind>,
    pub limit: usize,
}

impl SearchQuery {
    pub fn new(user: UserId, text: impl Into<String>) -> Self {
        SearchQuery {
            user,
            text: text.into(),
            agent: None,
            as_of: None,
            kinds: Vec::new(),
            fact_kinds: Vec::new(),
            limit: 10,
        }
    }
}

/// Where a result came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Provenance {
    pub episode: Episode,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    Episode(Episode),
    Entity(Entity),
    Fact(Fact),
}

#[derive(Clone, Debug, PartialEq)]
pub struct SearchResult {
    pub key: ItemKey,
    /// The fused score (higher is better).
    pub score: f64,
    /// Why it matched, one phrase per signal ("text rank 2").
    pub why: Vec<String>,
    pub item: Item,
    pub provenance: Vec<Provenance>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SearchOutcome {
    pub results: Vec<SearchResult>,
    /// `false` without an embedding model: full text and the graph only.
    pub vectors_used: bool,
}

/// The signals' ranked lists, and notes for "why".
#[derive(Default)]
struct Signals {
    lists: Vec<(Signal, Vec<ItemKey>)>,
    notes: HashMap<(Signal, ItemKey), String>,
}

impl Memory {
    /// Runs `query`; see the module documentation.
    pub async fn search(&self, query: &SearchQuery) -> Result<SearchOutcome, UseCaseError> {
        let kinds = if query.kinds.is_empty() { ItemKind::ALL.to_vec() } else { query.kinds.clone() };
        let terms = query_terms(&query.text);
        let mut signals = Signals::default();
        let mut text = self.store.text_search(query.user, &terms, ItemKind::ALL, CANDIDATES).await?;
        text.sort_by(|a, b| b.1.total_cmp(&a.1));
        signals.lists.push((Signal::Text, text.iter().map(|(key, _)| *key).collect()));

        let mut vectors_used = false;
        if let Some(found) = self.vector_candidates(query.user, &query.text).await? {
            vectors_used = true;
            for (key, similarity) in &found {
                signals.notes.insert((Signal::Vector, *key), format!("cosine {similarity:.2}"));
            }
            signals.lists.push((Signal::Vector, found.into_iter().map(|(key, _)| key).collect()));
        }

        let seeds: Vec<EntityId> = signals
            .lists
            .iter()
            .flat_map(|(_, list)| list.iter().take(10))
            .filter(|key| key.kind == ItemKind::Entity)
            .map(|key| EntityId(key.id))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        self.graph_candidates(query, &seeds, &mut signals).await?;

        let fused = reciprocal_rank_fusion(&signals.lists, RRF_K);
        let hydrated = self.hydrate(query.user, fused.iter().map(|item| item.key)).await?;
        let now = self.clock.now();
        let mut results = Vec::new();
        for candidate in fused {
            let Some(item) = hydrated.get(&candidate.key) else { continue };
            if !kinds.contains(&candidate.key.kind) || !passes(item, query, now) {
                continue;
            }
            let why = candidate
                .ranks
                .iter()
                .map(|(signal, rank)| match signals.notes.get(&(*signal, candidate.key)) {
                    Some(note) => format!("{} rank {rank} ({note})", signal.as_str()),
                    None => format!("{} rank {rank}", signal.as_str()),
                })
                .collect();
            let provenance = self.provenance(query.user, item).await?;
            results.push(SearchResult {
                key: candidate.key,
                score: candidate.score,
                why,
                item: item.clone(),
                provenance,
            });
            if results.len() >= query.limit {
                break;
            }
        }
        Ok(SearchOutcome { results, vectors_used })
    }

    /// Breadth-first from the seed entities over facts, nearest first.
    async fn graph_candidates(
        &self,
        query: &SearchQuery,
        seeds: &[EntityId],
        signals: &mut Signals,
    ) -> Result<(), UseCaseError> {
        let now = self.clock.now();
        let mut seen: BTreeSet<EntityId> = seeds.iter().copied().collect();
        let mut frontier: Vec<EntityId> = seeds.to_vec();
        let mut ranked: Vec<ItemKey> = Vec::new();
        for hop in 1..=GRAPH_HOPS {
            if frontier.is_empty() || ranked.len() >= CANDIDATES {
                break;
            }
            let mut facts = self.store.facts_touching(query.user, &frontier).await?;
            facts.retain(|fact| visible(fact, query.as_of, now));
            facts.sort_by(|a, b| b.valid_at.cmp(&a.valid_at).then(b.id.cmp(&a.id)));
            let mut next = Vec::new();
            for fact in facts {
                let key = ItemKey { kind: ItemKind::Fact, id: fact.id.get() };
                if !ranked.contains(&key) {
                    ranked.push(key);
                    signals.notes.insert((Signal::Graph, key), format!("{hop} hop{}", if hop == 1 { "" } else { "s" }));
                }
                for end in [Some(fact.subject), fact.object].into_iter().flatten() {
                    if seen.insert(end) {
                        next.push(end);
                    }
                }
            }
            frontier = next;
        }
        ranked.truncate(CANDIDATES);
        if !ranked.is_empty() {
            signals.lists.push((Signal::Graph, ranked));
        }
        Ok(())
    }

    async fn hydrate(
        &self,
        user: UserId,
        keys: impl Iterator<Item = ItemKey>,
    ) -> Result<HashMap<ItemKey, Item>, UseCaseError> {
        let (mut episodes, mut entities, mut facts) = (Vec::new(), Vec::new(), Vec::new());
        for key in keys {
            match key.kind {
                ItemKind::Episode => episodes.push(EpisodeId(key.id)),
                ItemKind::Entity => entities.push(EntityId(key.id)),
                ItemKind::Fact => facts.push(FactId(key.id)),
            }
        }
        let mut items = HashMap::new();
        for episode in self.store.get_episodes(user, &episodes).await? {
            items.insert(ItemKey { kind: ItemKind::Episode, id: episode.id.get() }, Item::Episode(episode));
        }
        for entity in self.store.get_entities(user, &entities).await? {
            items.insert(ItemKey { kind: ItemKind::Entity, id: entity.id.get() }, Item::Entity(entity));
        }
        for fact in self.store.get_facts(user, &facts).await? {
            items.insert(ItemKey { kind: ItemKind::Fact, id: fact.id.get() }, Item::Fact(fact));
        }
        Ok(items)
    }

    async fn provenance(&self, user: UserId, item: &Item) -> Result<Vec<Provenance>, UseCaseError> {
        Ok(match item {
            Item::Episode(episode) => vec![Provenance { episode: episode.clone() }],
            Item::Fact(fact) => self
                .store
                .get_episodes(user, &fact.episodes)
                .await?
                .into_iter()
                .map(|episode| Provenance { episode })
                .collect(),
            Item::Entity(_) => Vec::new(),
        })
    }
}

/// The filters: agent scope, fact kinds, and time.
fn passes(item: &Item, query: &SearchQuery, now: DateTime<Utc>) -> bool {
    let agent_ok = |agent: Option<AgentId>| query.agent.is_none() || agent.is_none() || agent == query.agent;
    match item {
        Item::Episode(episode) => {
            agent_ok(episode.agent_id) && query.as_of.is_none_or(|at| episode.reference_time <= at)
        }
        Item::Entity(_) => true,
        Item::Fact(fact) => {
            agent_ok(fact.agent_id)
                && (query.fact_kinds.is_empty() || query.fact_kinds.contains(&fact.kind))
                && visible(fact, query.as_of, now)
        }
    }
}
