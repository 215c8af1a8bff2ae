//! `steward memory`: search what agents remember (with why each result
//! matched and where it came from), add an episode, an entity's facts with
//! their history, forget a fact, `import` a conversation file
//! (`memory_import.rs`) and `bench` (`memory_bench.rs`).

use steward_server::api::memory::{
    AddEpisodeRequest, EntityFactsResponse, EpisodeResponse, FactResponse, ForgetFactRequest, MemorySearchResponse,
};

use crate::client::ApiClient;
use crate::input::parse_id;
use crate::options::GlobalOptions;
use crate::output::{self, local_time, optional_time, print_json, say, truncate};

#[derive(Debug, clap::Subcommand)]
pub enum MemoryCommand {
    /// Hybrid search: full text, vectors (with an embedding model) and the graph.
    Search {
        query: String,
        /// Only this agent's memory and the user's shared memory.
        #[arg(long, value_parser = parse_id, value_name = "ID")]
        agent: Option<i64>,
        /// What was valid then: a date (2026-03-01) or an RFC 3339 time.
        #[arg(long, value_name = "DATE")]
        as_of: Option<String>,
        /// Only `episode`, `entity` or `fact` results (repeatable).
        #[arg(long)]
        kind: Vec<String>,
        #[arg(long, default_value_t = 10)]
        limit: usize,
        /// Reorder the results: `mmr` (spread near-duplicates), `centre` (needs --centre), `mentions`.
        #[arg(long)]
        rerank: Option<String>,
        /// Nearest to this entity first (graph hops).
        #[arg(long, value_name = "ENTITY")]
        centre: Option<String>,
    },
    /// Add an episode (a note, feedback, a document); its facts are extracted in the background.
    Add {
        content: String,
        /// `note`, `feedback`, `correction`, `document`, `message`, `run_output`.
        #[arg(long, default_value = "note")]
        source: String,
        /// Only this agent's memory.
        #[arg(long, value_parser = parse_id, value_name = "ID")]
        agent: Option<i64>,
    },
    /// An entity's facts; --history includes closed and forgotten ones.
    Facts {
        entity: String,
        #[arg(long)]
        history: bool,
    },
    /// Forget a fact: close it now (never deleted; --as-of still finds it).
    Forget {
        #[arg(value_parser = parse_id)]
        id: i64,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Import a conversation file (LoCoMo JSON, or JSON Lines of {"speaker", "text", "time"?, "id"?}), one episode a turn.
    Import(super::memory_import::ImportArgs),
    /// Measure retrieval on a LoCoMo-format dataset (no server, no model calls).
    Bench(super::memory_bench::BenchArgs),
}

pub async fn run(command: MemoryCommand, global: &GlobalOptions) -> anyhow::Result<()> {
    if let MemoryCommand::Bench(args) = command {
        return super::memory_bench::run(args, global).await;
    }
    let client = ApiClient::new(&global.server_url()?)?;
    if let MemoryCommand::Import(args) = command {
        return super::memory_import::run(args, &client, global).await;
    }
    match command {
        MemoryCommand::Search { query, agent, as_of, kind, limit, rerank, centre } => {
            let mut parameters = vec![("q", query), ("limit", limit.to_string())];
            parameters.extend(rerank.map(|rerank| ("rerank", rerank)));
            parameters.extend(centre.map(|centre| ("centre", centre)));
            parameters.extend(agent.map(|agent| ("agent_id", agent.to_string())));
            parameters.extend(as_of.map(|at| ("as_of", at)));
            parameters.extend(kind.into_iter().map(|kind| ("kind", kind)));
            let reply = client.get::<MemorySearchResponse>("/memory/search", &parameters).await?;
            if global.json {
                print_json(&reply.raw);
            } else {
                print_results(&reply.body);
            }
        }
        MemoryCommand::Add { content, source, agent } => {
            let request =
                AddEpisodeRequest { content, source: Some(source), agent_id: agent, ..AddEpisodeRequest::default() };
            let reply = client.post::<_, EpisodeResponse>("/memory/episodes", &request).await?;
            if global.json {
                print_json(&reply.raw);
            } else {
                say!(
                    "Added episode {}: searchable as text now; its entities and facts are extracted if the server \
                     has an extraction model ([memory] extraction_model).",
                    reply.body.id
                );
            }
        }
        MemoryCommand::Facts { entity, history } => {
            let parameters = [("entity", entity), ("history", history.to_string())];
            let reply = client.get::<EntityFactsResponse>("/memory/facts", &parameters).await?;
            if global.json {
                print_json(&reply.raw);
            } else {
                print_facts(&reply.body, history);
            }
        }
        MemoryCommand::Forget { id, reason } => {
            let reply = client
                .post::<_, FactResponse>(&format!("/memory/facts/{id}/forget"), &ForgetFactRequest { reason })
                .await?;
            if global.json {
                print_json(&reply.raw);
            } else {
                say!("Forgot fact {id}: {} (closed {}).", reply.body.fact, optional_time(reply.body.invalid_at));
            }
        }
        MemoryCommand::Bench(_) | MemoryCommand::Import(_) => unreachable!("handled above"),
    }
    Ok(())
}

fn print_results(reply: &MemorySearchResponse) {
    if !reply.vectors_used {
        say!("(no embedding model: full text and the graph only)");
    }
    if reply.results.is_empty() {
        say!("Nothing found.");
        return;
    }
    let mut table = output::table(["KIND", "ID", "SCORE", "TEXT", "WHY", "FROM"]);
    for result in &reply.results {
        let from: Vec<String> = result
            .provenance
            .iter()
            .map(|episode| format!("{} {} ({})", episode.source, episode.id, local_time(episode.reference_time)))
            .collect();
        table.add_row([
            result.kind.clone(),
            result.id.to_string(),
            format!("{:.4}", result.score),
            truncate(&result.text, 70),
            result.why.join("; "),
            from.join(", "),
        ]);
    }
    say!("{table}");
}

fn print_facts(reply: &EntityFactsResponse, history: bool) {
    say!("{} (entity {})", reply.name, reply.entity_id);
    if reply.facts.is_empty() {
        say!("{}", if history { "No facts." } else { "No facts are believed now; try --history." });
        return;
    }
    let mut table = output::table(["ID", "KIND", "FACT", "VALID FROM", "UNTIL", "LEARNED", "CLOSED"]);
    for fact in &reply.facts {
        table.add_row([
            fact.id.to_string(),
            fact.kind.clone(),
            truncate(&fact.fact, 70),
            local_time(fact.valid_at),
            optional_time(fact.invalid_at),
            local_time(fact.created_at),
            optional_time(fact.expired_at),
        ]);
    }
    say!("{table}");
}
