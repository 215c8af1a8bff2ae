//! Hybrid retrieval: full text (BM25 in process, `text_index`, each matching turn's
//! score shared with its neighbours in its thread: `context`) + vector
//! cosine + the graph neighbourhood of the entities the query finds
//! (breadth-first over facts, two hops), fused by reciprocal rank; then filtered by kind, agent
//! and time (`as_of`: what was valid then), optionally reranked (MMR,
//! distance from a centre entity, episode mentions), and returned with each
//! result's score, why it matched, and the episodes it came from.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use steward_domain::memory::bm25::search_terms;
use steward_domain::memory::context::{CONTEXT_ANCHORS, CONTEXT_TURNS, with_context};
use steward_domain::memory::fusion::{RRF_K, Signal, reciprocal_rank_fusion};
use steward_domain::memory::rerank::{self, RerankCandidate};
use steward_domain::memory::temporal::visible;
use steward_domain::memory::text::query_terms;
use steward_domain::memory::{Entity, Episode, Fact, FactKind, ItemKey, ItemKind};
use steward_domain::{AgentId, EntityId, EpisodeId, FactId, UserId};

use super::Memory;

/// Candidates each signal contributes before fusion.
const CANDIDATES: usize = 50;
/// Breadth-first hops from the seed entities.
const GRAPH_HOPS: usize = 2;
/// Fused candidates read from the store at a time, at least.
const HYDRATE_AT_LEAST: usize = 20;

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
    /// Reorders the filtered results before the limit.
    pub rerank: Option<Rerank>,
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
            rerank: None,
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
    pub async fn search(&self, query: &SearchQuery) -> steward_store::Result<SearchOutcome> {
        let kinds = if query.kinds.is_empty() { ItemKind::ALL.to_vec() } else { query.kinds.clone() };
        let terms = search_terms(&query.text);
        let mut signals = Signals::default();
        let text = self.text.search(self.store.as_ref(), query.user, &terms, ItemKind::ALL, CANDIDATES).await?;
        let text = self.with_thread_context(query.user, text, Signal::Text, &mut signals).await?;
        signals.lists.push((Signal::Text, text));

        let mut vectors_used = false;
        if let Some(found) = self.vector_candidates(query.user, &query.text).await? {
            vectors_used = true;
            for (key, similarity) in &found {
                signals.notes.insert((Signal::Vector, *key), format!("cosine {similarity:.2}"));
            }
            let found = found.into_iter().map(|(key, similarity)| (key, f64::from(similarity))).collect();
            let found = self.with_thread_context(query.user, found, Signal::Vector, &mut signals).await?;
            signals.lists.push((Signal::Vector, found));
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
        let now = self.clock.now();
        // A reranker chooses among more than it returns.
        let wanted = if query.rerank.is_some() { (query.limit * 3).max(CANDIDATES) } else { query.limit };
        let mut results = Vec::new();
        // Read the items best first, a few more than wanted at a time (the
        // filters may drop some), not every candidate of every signal.
        for chunk in fused.chunks((wanted * 2).max(HYDRATE_AT_LEAST)) {
            let hydrated = self.hydrate(query.user, chunk.iter().map(|item| item.key)).await?;
            for candidate in chunk {
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
                results.push(SearchResult {
                    key: candidate.key,
                    score: candidate.score,
                    why,
                    item: item.clone(),
                    provenance: Vec::new(),
                });
                if results.len() >= wanted {
                    break;
                }
            }
            if results.len() >= wanted {
                break;
            }
        }
        self.fill_provenance(query.user, &mut results).await?;
        if let Some(rerank) = &query.rerank {
            results = self.rerank(query, rerank, results).await?;
        }
        Ok(SearchOutcome { results, vectors_used })
    }

    /// A signal's list once each episode it found has shared its score
    /// with its thread neighbours (`context::with_context`), best first;
    /// entities and facts keep their own scores on the same scale.
    async fn with_thread_context(
        &self,
        user: UserId,
        text: Vec<(ItemKey, f64)>,
        signal: Signal,
        signals: &mut Signals,
    ) -> steward_store::Result<Vec<ItemKey>> {
        let mut episode_scores: Vec<(EpisodeId, f64)> = text
            .iter()
            .filter(|(key, _)| key.kind == ItemKind::Episode)
            .map(|(key, score)| (EpisodeId(key.id), *score))
            .collect();
        episode_scores.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let anchors: Vec<EpisodeId> = episode_scores.iter().take(CONTEXT_ANCHORS).map(|(id, _)| *id).collect();
        let neighbours = self.store.episode_context(user, &anchors, CONTEXT_TURNS).await?;
        let mut scored: Vec<(ItemKey, f64)> =
            text.into_iter().filter(|(key, _)| key.kind != ItemKind::Episode).collect();
        for item in with_context(&episode_scores, &neighbours) {
            let key = ItemKey { kind: ItemKind::Episode, id: item.key.get() };
            if let Some(of) = item.context_of {
                signals.notes.insert((signal, key), format!("context of episode {of}"));
            }
            scored.push((key, item.score));
        }
        scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        Ok(scored.into_iter().map(|(key, _)| key).collect())
    }

    /// Breadth-first from the seed entities over facts, nearest first.
    async fn graph_candidates(
        &self,
        query: &SearchQuery,
        seeds: &[EntityId],
        signals: &mut Signals,
    ) -> steward_store::Result<()> {
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
    ) -> steward_store::Result<HashMap<ItemKey, Item>> {
        let (mut episodes, mut entities, mut facts) = (Vec::new(), Vec::new(), Vec::new());
        for key in keys {
            match key.kind {
                ItemKind::Episode => episodes.push(EpisodeId(key.id)),
                ItemKind::Entity => entities.push(EntityId(key.id)),
                ItemKind::Fact => facts.push(FactId(key.id)),
            }
        }
        let mut items = HashMap::new();
        if !episodes.is_empty() {
            for episode in self.store.get_episodes(user, &episodes).await? {
                items.insert(ItemKey { kind: ItemKind::Episode, id: episode.id.get() }, Item::Episode(episode));
            }
        }
        if !entities.is_empty() {
            for entity in self.store.get_entities(user, &entities).await? {
                items.insert(ItemKey { kind: ItemKind::Entity, id: entity.id.get() }, Item::Entity(entity));
            }
        }
        if !facts.is_empty() {
            for fact in self.store.get_facts(user, &facts).await? {
                items.insert(ItemKey { kind: ItemKind::Fact, id: fact.id.get() }, Item::Fact(fact));
            }
        }
        Ok(items)
    }

    /// Each result's provenance: an episode is its own; a fact's episodes
    /// are read for all results at once.
    async fn fill_provenance(&self, user: UserId, results: &mut [SearchResult]) -> steward_store::Result<()> {
        let wanted: BTreeSet<EpisodeId> = results
            .iter()
            .filter_map(|result| match &result.item {
                Item::Fact(fact) => Some(fact.episodes.iter().copied()),
                _ => None,
            })
            .flatten()
            .collect();
        let episodes: HashMap<EpisodeId, Episode> = if wanted.is_empty() {
            HashMap::new()
        } else {
            let wanted: Vec<EpisodeId> = wanted.into_iter().collect();
            self.store.get_episodes(user, &wanted).await?.into_iter().map(|episode| (episode.id, episode)).collect()
        };
        for result in results {
            result.provenance = match &result.item {
                Item::Episode(episode) => vec![Provenance { episode: episode.clone() }],
                Item::Fact(fact) => fact
                    .episodes
                    .iter()
                    .filter_map(|id| episodes.get(id))
                    .map(|episode| Provenance { episode: episode.clone() })
                    .collect(),
                Item::Entity(_) => Vec::new(),
            };
        }
        Ok(())
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

/// An optional reordering of the filtered results (`domain::memory::rerank`).
#[derive(Clone, Debug, PartialEq)]
pub enum Rerank {
    /// Maximal marginal relevance: near-duplicates spread out.
    Mmr,
    /// Fewest graph hops from the entity with this id first.
    Centre(EntityId),
    /// Cited by more episodes first.
    Mentions,
}

/// Hops from the centre entity this far at most.
const CENTRE_HOPS: usize = 3;

impl Memory {
    /// Reorders `results` by `rerank`, each gaining a reason.
    async fn rerank(
        &self,
        query: &SearchQuery,
        rerank: &Rerank,
        results: Vec<SearchResult>,
    ) -> steward_store::Result<Vec<SearchResult>> {
        let hops = match rerank {
            Rerank::Centre(centre) => self.hops_from(query, *centre).await?,
            _ => HashMap::new(),
        };
        let candidates: Vec<RerankCandidate> = results
            .iter()
            .map(|result| RerankCandidate {
                score: result.score,
                words: query_terms(&item_text(&result.item)).into_iter().collect(),
                hops: item_hops(&result.item, &hops),
                mentions: match &result.item {
                    Item::Fact(fact) => fact.episodes.len(),
                    Item::Episode(_) => 1,
                    Item::Entity(_) => 0,
                },
            })
            .collect();
        let order = match rerank {
            Rerank::Mmr => rerank::mmr(&candidates, rerank::MMR_LAMBDA),
            Rerank::Centre(_) => rerank::by_centre_distance(&candidates),
            Rerank::Mentions => rerank::by_mentions(&candidates),
        };
        let mut slots: Vec<Option<SearchResult>> = results.into_iter().map(Some).collect();
        let mut reordered = Vec::with_capacity(order.len());
        for (position, index) in order.into_iter().enumerate() {
            let Some(mut result) = slots[index].take() else { continue };
            result.why.push(match rerank {
                Rerank::Mmr => format!("mmr rank {}", position + 1),
                Rerank::Centre(_) => match candidates[index].hops {
                    Some(hops) => format!("centre {hops} hop{}", if hops == 1 { "" } else { "s" }),
                    None => "centre not reached".to_string(),
                },
                Rerank::Mentions => format!("mentioned by {} episode(s)", candidates[index].mentions),
            });
            reordered.push(result);
        }
        reordered.truncate(query.limit);
        Ok(reordered)
    }

    /// Hops from `centre` to each entity it reaches, breadth-first.
    async fn hops_from(
        &self,
        query: &SearchQuery,
        centre: EntityId,
    ) -> steward_store::Result<HashMap<EntityId, usize>> {
        let now = self.clock.now();
        let mut hops = HashMap::from([(centre, 0)]);
        let mut frontier = vec![centre];
        for hop in 1..=CENTRE_HOPS {
            if frontier.is_empty() {
                break;
            }
            let mut facts = self.store.facts_touching(query.user, &frontier).await?;
            facts.retain(|fact| visible(fact, query.as_of, now));
            let mut next = Vec::new();
            for fact in facts {
                for end in [Some(fact.subject), fact.object].into_iter().flatten() {
                    if let std::collections::hash_map::Entry::Vacant(entry) = hops.entry(end) {
                        entry.insert(hop);
                        next.push(end);
                    }
                }
            }
            frontier = next;
        }
        Ok(hops)
    }
}

fn item_text(item: &Item) -> String {
    match item {
        Item::Episode(episode) => episode.content.clone(),
        Item::Entity(entity) => format!("{} {}", entity.name, entity.summary),
        Item::Fact(fact) => fact.statement.clone(),
    }
}

fn item_hops(item: &Item, hops: &HashMap<EntityId, usize>) -> Option<usize> {
    match item {
        Item::Entity(entity) => hops.get(&entity.id).copied(),
        Item::Fact(fact) => {
            [Some(fact.subject), fact.object].into_iter().flatten().filter_map(|end| hops.get(&end).copied()).min()
        }
        Item::Episode(_) => None,
    }
}
