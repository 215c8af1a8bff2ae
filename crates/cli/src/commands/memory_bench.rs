//! `steward memory bench`: retrieval quality and speed on a conversation
//! dataset in the LoCoMo JSON format (a list of samples, each with a
//! `conversation` of `session_N` turns `{speaker, dia_id, text}` and their
//! `session_N_date_time`, and `qa` items `{question, answer, evidence,
//! category}`). Every turn goes into a scratch store as an episode (with its
//! embedding when `--embedding-model` is given; no other model calls), each
//! session a thread; each sample's conversation belongs to its own user, as
//! two people's memories would (`--scope dataset` puts every sample in one
//! user's memory, so each question searches them all). Each question is a
//! search, and a hit is a result whose provenance is one of the question's
//! evidence turns (of its own sample).
//! Reports evidence recall@k, MRR, search latency p50/p95 and build time;
//! `--facts N` adds N generated facts first (`memory_bench_facts.rs`).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use chrono::Duration;
use serde_json::{Value, json};
use steward_domain::auth::NewUser;
use steward_domain::memory::{EpisodeSource, NewEpisode};
use steward_llm::EmbeddingModel;
use steward_runtime::SharedClock;
use steward_runtime::memory::{Memory, SearchQuery};
use steward_store::memory::{EmbeddingTarget, IngestionPlan, PlannedEmbedding};
use steward_store::{Store, StoreOptions};

use super::bench_support::{Scratch, USER};
use super::conversation_file::{Sample, session_thread, sessions};
use crate::options::GlobalOptions;
use crate::output::{self, print_json, say};

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// A LoCoMo-format JSON file.
    #[arg(long, value_name = "FILE")]
    pub dataset: PathBuf,
    /// Results per question.
    #[arg(long, default_value_t = 10)]
    pub k: usize,
    /// `provider/model` of an embeddings endpoint, or `local:/dir` (a sentence-transformers folder); without it, full text only.
    #[arg(long, value_name = "MODEL")]
    pub embedding_model: Option<String>,
    /// A database to build in (a new SQLite file, or a PostgreSQL server for a scratch schema).
    #[arg(long, value_name = "URL")]
    pub database: Option<String>,
    /// Also store this many generated facts (between generated entities) before searching, to measure search at scale.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub facts: usize,
    /// Whose memory each sample is: `sample` (each conversation its own user, as in LoCoMo's protocol) or `dataset` (all in one user's memory, so every question searches every conversation).
    #[arg(long, value_enum, default_value_t = Scope::Sample)]
    pub scope: Scope,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Scope {
    Sample,
    Dataset,
}

pub async fn run(args: BenchArgs, global: &GlobalOptions) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&args.dataset)
        .with_context(|| format!("cannot read the dataset {}", args.dataset.display()))?;
    let samples: Vec<Sample> =
        serde_json::from_str(&text).context("the dataset is not a LoCoMo JSON list of samples")?;
    anyhow::ensure!(args.k > 0, "--k must be at least 1");
    anyhow::ensure!(
        args.facts == 0 || args.scope == Scope::Dataset,
        "--facts adds facts to one user's memory, so it needs --scope dataset (every question then searches them)"
    );
    let embedder = match &args.embedding_model {
        Some(name) => Some(embedding_model(name).await?),
        None => None,
    };
    let scratch = Scratch::create(args.database.as_deref()).await?;
    let store = steward_store::open(&scratch.url, StoreOptions::default()).await?;
    store.migrate().await?;
    let result = measure(&args, &samples, store.clone(), embedder).await;
    store.close().await;
    scratch.remove().await;
    let report = result?;
    if global.json {
        print_json(&report);
    } else {
        let mut table = output::record(vec![
            ("turns", report["turns"].to_string()),
            ("facts", report["facts"].to_string()),
            ("questions", report["questions"].to_string()),
            (&*format!("recall@{}", args.k), format!("{:.3}", report["recall_at_k"].as_f64().unwrap_or(0.0))),
            ("MRR", format!("{:.3}", report["mrr"].as_f64().unwrap_or(0.0))),
            ("search p50", format!("{:.2} ms", report["latency_ms"]["p50"].as_f64().unwrap_or(0.0))),
            ("search p95", format!("{:.2} ms", report["latency_ms"]["p95"].as_f64().unwrap_or(0.0))),
            ("build", format!("{:.2} s", report["build_s"].as_f64().unwrap_or(0.0))),
            ("vectors", report["vectors_used"].to_string()),
        ]);
        output::fit(&mut table);
        say!("{table}");
    }
    Ok(())
}

/// The model `--embedding-model` names: `local:/dir` is loaded from that
/// folder (on a blocking thread, once) without reading any configuration;
/// anything else is an endpoint of the configured providers.
async fn embedding_model(name: &str) -> anyhow::Result<Arc<dyn EmbeddingModel>> {
    if let Some(dir) = name.strip_prefix(steward_llm::LOCAL_PREFIX) {
        let dir = PathBuf::from(dir);
        let model = tokio::task::spawn_blocking(move || steward_llm::local_embedding_model(&dir)).await??;
        return Ok(model);
    }
    let config = crate::config::Config::load(&crate::config::Overrides::default())?;
    let models = steward_llm::ModelRegistry::from_process_environment(&config.llm)?;
    Ok(models.embedding_model(name)?)
}

async fn measure(
    args: &BenchArgs,
    samples: &[Sample],
    store: Arc<dyn Store>,
    embedder: Option<Arc<dyn EmbeddingModel>>,
) -> anyhow::Result<Value> {
    let started = Instant::now();
    let mut turns = 0usize;
    let mut users = Vec::new();
    for (index, sample) in samples.iter().enumerate() {
        let sample_id = sample.sample_id.clone().unwrap_or_else(|| format!("sample-{index}"));
        let user = match args.scope {
            Scope::Dataset => USER,
            Scope::Sample => {
                let name = format!("bench-{index}");
                store.create_user(NewUser { name, admin: false }, None).await?.id
            }
        };
        users.push(user);
        for (number, date, session) in sessions(&sample.conversation)? {
            let vectors = match &embedder {
                Some(model) => {
                    let texts: Vec<String> = session.iter().map(|turn| turn.content()).collect();
                    model.embed(&texts).await.with_context(|| format!("embedding session {number}"))?.vectors
                }
                None => Vec::new(),
            };
            for (position, turn) in session.iter().enumerate() {
                let episode = NewEpisode {
                    user_id: user,
                    agent_id: None,
                    source: EpisodeSource::Document,
                    source_ref: Some(format!("{sample_id}:{}", turn.dia_id)),
                    thread: Some(session_thread(&sample_id, number)),
                    content: turn.content(),
                    // Turns a minute apart, so their order survives.
                    reference_time: Some(date + Duration::minutes(position as i64)),
                };
                let (stored, _) = store.add_episode(episode).await?;
                let mut plan = IngestionPlan::default();
                if let (Some(model), Some(vector)) = (&embedder, vectors.get(position)) {
                    plan.embedding_model = Some(model.id().to_string());
                    plan.embeddings =
                        vec![PlannedEmbedding { target: EmbeddingTarget::Episode, vector: vector.clone() }];
                }
                store.apply_ingestion(user, stored.id, plan).await?;
                turns += 1;
            }
        }
    }
    super::memory_bench_facts::store_facts(store.as_ref(), args.facts).await?;
    let build_s = started.elapsed().as_secs_f64();

    let memory = Memory::new(store, SharedClock::system(), None, embedder);
    let (mut hits, mut reciprocal_ranks, mut latencies) = (0usize, 0f64, Vec::new());
    let mut by_category: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut vectors_used = false;
    for (index, sample) in samples.iter().enumerate() {
        let sample_id = sample.sample_id.clone().unwrap_or_else(|| format!("sample-{index}"));
        for question in sample.qa.iter().filter(|question| !question.evidence.is_empty()) {
            let gold: Vec<String> = question.evidence.iter().map(|dia| format!("{sample_id}:{dia}")).collect();
            let mut query = SearchQuery::new(users[index], question.question.clone());
            query.limit = args.k;
            let started = Instant::now();
            let outcome = memory.search(&query).await?;
            latencies.push(started.elapsed().as_secs_f64() * 1000.0);
            vectors_used |= outcome.vectors_used;
            let rank = outcome.results.iter().position(|result| {
                result.provenance.iter().any(|provenance| {
                    provenance.episode.source_ref.as_ref().is_some_and(|reference| gold.contains(reference))
                })
            });
            let category = by_category.entry(question.category.to_string()).or_default();
            category.1 += 1;
            if let Some(rank) = rank {
                hits += 1;
                category.0 += 1;
                reciprocal_ranks += 1.0 / (rank as f64 + 1.0);
            }
        }
    }
    let questions = latencies.len();
    latencies.sort_by(f64::total_cmp);
    let percentile = |p: f64| {
        if latencies.is_empty() { 0.0 } else { latencies[((latencies.len() - 1) as f64 * p).round() as usize] }
    };
    let ratio = |part: usize, whole: usize| if whole == 0 { 0.0 } else { part as f64 / whole as f64 };
    let categories: BTreeMap<String, f64> =
        by_category.into_iter().map(|(name, (hit, all))| (name, ratio(hit, all))).collect();
    Ok(json!({
        "k": args.k,
        "turns": turns,
        "facts": args.facts,
        "questions": questions,
        "recall_at_k": ratio(hits, questions),
        "mrr": if questions == 0 { 0.0 } else { reciprocal_ranks / questions as f64 },
        "latency_ms": { "p50": percentile(0.5), "p95": percentile(0.95) },
        "build_s": build_s,
        "vectors_used": vectors_used,
        "recall_by_category": categories,
        "scope": match args.scope { Scope::Sample => "sample", Scope::Dataset => "dataset" },
    }))
}
