//! Journey J4 through the binary: `steward serve` with extraction on, its
//! model provider the fake. An agent's first deliverable gets feedback in
//! its action's thread (`steward action refine`); the `memory.ingest` job
//! turns it into a preference; the next run's prompt, as the fake receives
//! it, carries that preference; a later contradicting preference closes it,
//! and `steward memory search --as-of` still finds the old one. The
//! consolidation schedule folds the feedback once, and costs nothing the
//! second time.

use serde_json::json;
use steward_domain::{Clock, SystemClock};
use steward_fake_llm::{FakeLlm, ReceivedRequest, Reply, Script};

use crate::support::{ServerOptions, eventually, steward};

const KEY: &str = "sk-ant-memory-0123456789abcdef";
/// The tool the Anthropic client uses for structured replies.
const STRUCTURED: &str = "structured_output";
const FEEDBACK: &str = "never use exclamation marks; our brand voice is plain";
const PLAIN: &str = "Never use exclamation marks; the brand voice is plain.";
const LATER_FEEDBACK: &str = "actually, one exclamation mark in a headline is fine";
const ONE_ALLOWED: &str = "One exclamation mark is fine in a headline.";

/// The fake as an extraction model would answer: entities, then facts
/// (the second preference contradicts the fact it is shown by id), and a
/// deliverable with exclamation marks for anything else.
fn answer(request: &ReceivedRequest) -> Option<Script> {
    let system = request.system_text().unwrap_or_default();
    if system.contains("You extract the entities") {
        let entities = json!({"entities": [{"name": "the user", "labels": ["Person"]}]});
        return Some(Reply::tool_call(STRUCTURED, &entities).into());
    }
    if system.contains("You consolidate") {
        let folded = json!([{"subject": "the user", "relation": "prefers", "kind": "preference", "fact": ONE_ALLOWED}]);
        return Some(Reply::tool_call(STRUCTURED, &json!({ "facts": folded })).into());
    }
    if system.contains("You extract facts") {
        let text = request.last_user_text().unwrap_or_default();
        let shown: Vec<i64> =
            text.lines().filter_map(|line| line.strip_prefix("- id ")?.split(':').next()?.parse().ok()).collect();
        let facts = if text.contains(LATER_FEEDBACK) {
            json!([{"subject": "the user", "relation": "prefers", "kind": "preference", "fact": ONE_ALLOWED,
                    "contradicts": shown}])
        } else if text.contains(FEEDBACK) {
            json!([{"subject": "the user", "relation": "prefers", "kind": "preference", "fact": PLAIN}])
        } else {
            json!([])
        };
        return Some(Reply::tool_call(STRUCTURED, &json!({ "facts": facts })).into());
    }
    Some(Reply::text("We launched! Read all about it!").into())
}

/// The system prompt of the run whose instruction was `instruction`.
fn prompt_of_run(fake: &FakeLlm, instruction: &str) -> String {
    let requests = fake.requests();
    let request = requests
        .iter()
        .find(|request| request.last_user_text().is_some_and(|text| text.contains(instruction)))
        .unwrap_or_else(|| panic!("the fake saw no run for {instruction:?}"));
    request.system_text().unwrap_or_default()
}

fn user_facts(url: &str) -> Vec<serde_json::Value> {
    let reply = steward(url, &["memory", "facts", "the user", "--history", "--json"]);
    if !reply.success {
        return Vec::new(); // no entity yet
    }
    reply.json()["facts"].as_array().cloned().unwrap_or_default()
}

fn found_facts(url: &str, as_of: Option<&str>) -> Vec<String> {
    let mut args = vec!["memory", "search", "exclamation marks", "--kind", "fact", "--json"];
    if let Some(at) = as_of {
        args.extend(["--as-of", at]);
    }
    let reply = steward(url, &args).json();
    reply["results"].as_array().unwrap().iter().map(|result| result["text"].as_str().unwrap().to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heavy_feedback_becomes_a_preference_the_next_run_follows_and_a_later_one_supersedes() {
    let fake = FakeLlm::start().await.unwrap();
    fake.set_responder(answer);
    let server = ServerOptions::default()
        .env("ANTHROPIC_API_KEY", KEY)
        .env("ANTHROPIC_BASE_URL", fake.anthropic_base_url())
        .env("STEWARD_MEMORY__EXTRACTION_MODEL", "default")
        .start();
    let url = server.url();

    // The first deliverable: an action worked on by a run.
    steward(url, &["agent", "create", "Writer", "--goal", "Announce the launch"]).ok();
    let created = steward(url, &["action", "create", "Launch post", "--agent", "Writer", "--json"]).json();
    let action = created["id"].to_string();
    steward(url, &["action", "define", &action]).ok();
    steward(url, &["action", "schedule", &action]).ok();
    eventually("the first deliverable is done", || {
        steward(url, &["action", "get", &action, "--json"]).json()["state"] == "completed"
    });
    let first = prompt_of_run(&fake, "Launch post");
    assert!(!first.contains("exclamation"), "nothing remembered yet: {first}");

    // Feedback on it becomes a preference, extracted in the background.
    steward(url, &["action", "refine", &action, FEEDBACK]).ok();
    eventually("the feedback is a preference", || user_facts(url).len() == 1);
    let facts = user_facts(url);
    assert_eq!((facts[0]["kind"].as_str(), facts[0]["fact"].as_str()), (Some("preference"), Some(PLAIN)));

    steward(url, &["run", "Writer", "Write the next launch post", "--wait"]).ok();
    let second = prompt_of_run(&fake, "Write the next launch post");
    assert!(second.contains(PLAIN), "the next run's prompt carries the preference: {second}");

    // A later preference contradicts it: the old one is closed, not deleted.
    let between = SystemClock.now().to_rfc3339();
    steward(url, &["action", "refine", &action, LATER_FEEDBACK]).ok();
    eventually("the later preference is stored", || user_facts(url).len() == 2);
    let facts = user_facts(url);
    assert_eq!(facts[0]["fact"], PLAIN);
    assert!(facts[0]["invalid_at"].is_string() && facts[0]["expired_at"].is_string(), "closed: {facts:?}");
    assert_eq!(facts[0]["invalid_at"], facts[1]["valid_at"], "closed where the new one begins");

    steward(url, &["run", "Writer", "Write the launch headline", "--wait"]).ok();
    let third = prompt_of_run(&fake, "Write the launch headline");
    assert!(third.contains(ONE_ALLOWED) && !third.contains(PLAIN), "superseded: {third}");

    assert_eq!(found_facts(url, None), [ONE_ALLOWED]);
    assert_eq!(found_facts(url, Some(&between)), [PLAIN], "as of before the change: the old preference");
    let shown = steward(url, &["memory", "search", "exclamation marks", "--as-of", &between]);
    assert!(shown.ok().contains("Never use exclamation marks"), "{}", shown.stdout);

    // Consolidation runs on a schedule; fired now, it folds both feedback
    // episodes in one call (the same preference: merged, not repeated), and
    // fired again with nothing new it calls no model.
    let consolidations = || {
        fake.requests()
            .iter()
            .filter(|request| request.system_text().is_some_and(|s| s.contains("You consolidate")))
            .count()
    };
    steward(url, &["schedule", "run-now", "memory consolidation"]).ok();
    let done = |count: usize| {
        let jobs = steward(url, &["job", "list", "--kind", "memory.consolidate", "--state", "completed", "--json"]);
        jobs.json()["jobs"].as_array().map(Vec::len) == Some(count)
    };
    eventually("the consolidation ran", || done(1));
    assert_eq!(consolidations(), 1);
    let facts = user_facts(url);
    assert_eq!(facts.len(), 2, "folded into the standing preference: {facts:?}");
    assert!(facts[1]["episodes"].as_array().unwrap().len() >= 3, "it cites the folded episodes: {facts:?}");
    steward(url, &["schedule", "run-now", "memory consolidation"]).ok();
    eventually("the second consolidation ran", || done(2));
    assert_eq!(consolidations(), 1, "nothing new: no model call");
}
